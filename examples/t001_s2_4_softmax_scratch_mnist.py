"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 二.4: softmax regression from scratch.

load_data_fashion_mnist(batch_size, resize=None) (ToTensor, optionally Resize first;
datasets.FashionMNIST train and test in data.DataLoader, the training set shuffled); with
batch_size = 18 and resize=64 the first batch is torch.Size([18, 1, 64, 64]) and
torch.Size([18]). The model: W ~ N(0, 0.01) of 784x10 and b = 0 (requires_grad), softmax by
exp / sum, net(W, b, X) = softmax(X.reshape(-1, 784) @ W + b); cross_entropy picks
-log y_hat[range(n), y]; accuracy (argmax, compare), Accumulator and evaluate_accuracy count
the correct predictions; the training loop (lr 0.01, 3 epochs) sums the minibatch loss, calls
backward and the sgd of section 二.1 (param -= lr * grad / batch_size under no_grad), and prints
the test accuracy after each epoch. The text's outcome (Fashion-MNIST): epoch 1, acc 0.801700;
epoch 2, acc 0.818800; epoch 3, acc 0.822200.

Adapted: `resize=64a` (a typo) is resize=64; the training loop needs 28x28 images
(X.reshape((-1, 784))), so the loaders are made again without resize for it. The notes define
cross_entropy(y, y_hat) but call it as loss(net(W, b, X), y): the parameters are named
(y_hat, y) here, as in the book. The loop's print says 'loss {acc:f}' while the output shown is
'acc': it prints 'acc'. The live matplotlib plot of the second loop is left out. The data is
read from (and downloaded to) $EMBER_TEST_DATA or ~/.cache/ember/data instead of "../data".
The dataset class is the variable FashionMNIST, torchvision.datasets.FashionMNIST unless
EMBER_TUTORIAL_DATASET names another class of torchvision.datasets: the tests set it to MNIST,
as Fashion-MNIST cannot be downloaded where they run.
Not in the text: EMBER_TUTORIAL_LIMIT / EMBER_TUTORIAL_TEST_LIMIT (the first N training / test
images) and EMBER_TUTORIAL_EPOCHS for the tests; unset, the program runs in full as in the text.
"""
import os
import ember as torch
import ember.vision as torchvision
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

# 读取 Fashion-MINST 数据集
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

batch_size = 18
train_iter, test_iter = load_data_fashion_mnist(batch_size, resize=64)
for X, y in train_iter:
    print(X.shape)
    print(y.shape)
    break

# (adapted) 训练用 28x28 的图像
train_iter, test_iter = load_data_fashion_mnist(batch_size)

# 初始化模型参数
num_inputs = 28 * 28
num_outputs = 10
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)

# 定义模型
def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)  # 求和后保留被求和的维度
    return X_exp / partition

def net(W, b, X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

# 定义损失函数
def cross_entropy(y_hat, y):  # (adapted: the notes write cross_entropy(y, y_hat))
    return -torch.log(y_hat[range(len(y_hat)), y])

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
            metric.add(accuracy(net(W, b, X), y), y.numel())
    return metric[0] / metric[1]

# 定义优化算法: 二.1 节的 sgd
def sgd(params, lr, batch_size):
    """小批量梯度下降:param params: 参数:param lr: 学习率"""
    with torch.no_grad():
        # with torch.no_grad(): 以内的空间计算结果得 requires_grad 为 False
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()

# 训练
lr = 0.01
num_epochs = int(os.environ.get('EMBER_TUTORIAL_EPOCHS', 3))  # (the text: num_epochs = 3)
loss = cross_entropy
for epoch in range(num_epochs):
    for X, y in train_iter:
        l = loss(net(W, b, X), y)  # X和y的小批量损失
        l.sum().backward()
        sgd([W, b], lr, batch_size)  # 使用参数的梯度更新参数
    with torch.no_grad():
        acc = evaluate_accuracy(net, test_iter)
        print(f'epoch {epoch + 1}, acc {acc:f}')
