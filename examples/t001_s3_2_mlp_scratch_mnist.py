"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 三.2: MLP from scratch, trained.

A 784-256-10 perceptron with parameters made with nn.Parameter (randn * 0.01 and zeros), relu as
torch.max(X, zeros_like(X)), softmax on the output; "定义损失函数和优化算法及训练同上一章 softmax
回归": the loop of section 二.4 (cross_entropy, l.sum().backward(), sgd(params, lr, batch_size)),
printing the test accuracy after each epoch. The notes state no accuracy for it.

Adapted: the hyperparameters are those of section 三.3 (batch_size, lr, num_epochs = 256, 0.1, 10);
evaluate_accuracy calls net(X) (net(W, b, X) in 二.4). (t001_s3_2_mlp_scratch.py is the same
model run on one random batch.)
The data is read from (and downloaded to) $EMBER_TEST_DATA or ~/.cache/ember/data instead of
"../data". The dataset class is the variable FashionMNIST, torchvision.datasets.FashionMNIST
unless EMBER_TUTORIAL_DATASET names another class of torchvision.datasets: the tests set it to
MNIST, as Fashion-MNIST cannot be downloaded where they run.
Not in the text: EMBER_TUTORIAL_LIMIT / EMBER_TUTORIAL_TEST_LIMIT (the first N training / test
images) and EMBER_TUTORIAL_EPOCHS for the tests; unset, the program runs in full as in the text.
"""
import os
import ember as torch
import ember.vision as torchvision
from ember import nn
from ember.utils import data
from ember.vision import transforms

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# (not in the text) where the data is kept, which data set, and how much of it the run uses
root = os.environ.get('EMBER_TEST_DATA', os.path.expanduser('~/.cache/ember/data'))
FashionMNIST = getattr(torchvision.datasets, os.environ.get('EMBER_TUTORIAL_DATASET', 'FashionMNIST'))
limit = int(os.environ.get('EMBER_TUTORIAL_LIMIT', 0))
test_limit = int(os.environ.get('EMBER_TUTORIAL_TEST_LIMIT', 0))

# 读取 Fashion-MINST 数据集: 二.4 节的定义
def load_data_fashion_mnist(batch_size, resize=None):
    """下载Fashion-MNIST数据集,然后将其加载到内存中"""
    trans = [transforms.ToTensor()]
    if resize:
        trans.insert(0, transforms.Resize(resize))
    trans = transforms.Compose(trans)
    mnist_train = FashionMNIST(
        root=root, train=True, transform=trans, download=True)
    mnist_test = FashionMNIST(
        root=root, train=False, transform=trans, download=True)
    if limit:  # (not in the text)
        mnist_train = data.Subset(mnist_train, range(limit))
    if test_limit:  # (not in the text)
        mnist_test = data.Subset(mnist_test, range(test_limit))
    return (data.DataLoader(mnist_train, batch_size, shuffle=True),
            data.DataLoader(mnist_test, batch_size, shuffle=False))

# accuracy, Accumulator 和 evaluate_accuracy: 二.4 节的定义
def accuracy(y_hat, y):
    """计算预测正确的数量"""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)        # 得到每一行最大的下标
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())   # 预测正确返回1,否则返回0

class Accumulator:  #@save
    """在n个变量上累加"""
    def __init__(self, n):
        self.data = [0.0] * n
    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]
    def reset(self):
        self.data = [0.0] * len(self.data)
    def __getitem__(self, idx):
        return self.data[idx]

def evaluate_accuracy(net, data_iter):
    """计算在指定数据集上模型的精度"""
    if isinstance(net, torch.nn.Module):
        net.eval()  # 将模型设置为评估模式
    metric = Accumulator(2)  # 正确预测数、预测总数
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())  # (adapted: net(W, b, X) in 二.4)
    return metric[0] / metric[1]

# softmax 和 cross_entropy: 二.4 节的定义
def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)  # 求和后保留被求和的维度
    return X_exp / partition

def cross_entropy(y_hat, y):  # (adapted: the notes write cross_entropy(y, y_hat), see 二.4)
    return -torch.log(y_hat[range(len(y_hat)), y])

# sgd: 二.1 节的定义
def sgd(params, lr, batch_size):
    """小批量梯度下降:param params: 参数:param lr: 学习率"""
    with torch.no_grad():
        # with torch.no_grad(): 以内的空间计算结果得 requires_grad 为 False
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()

batch_size, lr, num_epochs = 256, 0.1, 10  # (adapted: 三.3 节)
num_epochs = int(os.environ.get('EMBER_TUTORIAL_EPOCHS', num_epochs))
train_iter, test_iter = load_data_fashion_mnist(batch_size)

# 初始化模型参数
num_inputs, num_outputs, num_hiddens = 784, 10, 256
W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
params = [W1, b1, W2, b2]

# 定义模型
def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)

def net(X):
    X = X.reshape((-1, num_inputs))
    H = relu(X @ W1 + b1)
    return softmax(H @ W2 + b2)

# 定义损失函数和优化算法及训练同上一章 softmax 回归
loss = cross_entropy
for epoch in range(num_epochs):
    for X, y in train_iter:
        l = loss(net(X), y)  # X和y的小批量损失
        l.sum().backward()
        sgd(params, lr, batch_size)  # 使用参数的梯度更新参数
    with torch.no_grad():
        acc = evaluate_accuracy(net, test_iter)
        print(f'epoch {epoch + 1}, acc {acc:f}')
