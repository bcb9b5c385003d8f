"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 三.4.2: dropout from scratch, trained.

dropout_layer(X, dropout) keeps an element when torch.rand(X.shape) > dropout and scales it by
1 / (1 - dropout); on X = arange(16).reshape(2, 8) it returns X for dropout 0, zeros for 1, and
for 0.5 about half of the elements doubled, the rest 0 (the notes' example: [[0, 2, 4, 0, 0, 0, 12,
14], [0, 0, 0, 0, 0, 26, 28, 30]]). Net (784-256-256-10 with ReLU, dropout 0.2 after the first
hidden layer and 0.5 after the second while self.training, softmax on the output) is trained
"同上": cross_entropy of section 二.4 on its probabilities, printing the test accuracy after each
epoch. The notes state no accuracy for it.

Adapted: the notes show no training code for dropout; here the book's (num_epochs, lr,
batch_size = 10, 0.5, 256, torch.optim.SGD, net.train() before each epoch as in the book's
train_epoch_ch3, evaluate_accuracy calling net(X)) with the notes' cross_entropy, as Net returns
probabilities. The dropout_layer printouts run first, so the mask differs between libraries.
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

def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = torch.rand(X.shape) > dropout
    return mask.float() * X / (1 - dropout)

X= torch.arange(16, dtype = torch.float32).reshape((2, 8))
print(X)
print(dropout_layer(X, 0.))
print(dropout_layer(X, 0.5))
print(dropout_layer(X, 1.))

num_inputs, num_outputs, num_hiddens1, num_hiddens2 = 784, 10, 256, 256
dropout1, dropout2 = 0.2, 0.5

class Net(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2,
                 is_training = True):
        super(Net, self).__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        # 只有在训练模型时才使用dropout
        if self.training == True:
            # 在第一个全连接层之后添加一个dropout层
            H1 = dropout_layer(H1, dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:
            # 在第二个全连接层之后添加一个dropout层
            H2 = dropout_layer(H2, dropout2)
        out = self.lin3(H2)
        return softmax(out)

net = Net(num_inputs, num_outputs, num_hiddens1, num_hiddens2)
print(net)

# (adapted) 训练: 书中的超参数
num_epochs, lr, batch_size = 10, 0.5, 256
num_epochs = int(os.environ.get('EMBER_TUTORIAL_EPOCHS', num_epochs))  # (not in the text)
loss = cross_entropy
train_iter, test_iter = load_data_fashion_mnist(batch_size)
trainer = torch.optim.SGD(net.parameters(), lr=lr)
for epoch in range(num_epochs):
    net.train()  # (adapted: as the book's train_epoch_ch3)
    for X, y in train_iter:
        l = loss(net(X), y)  # X和y的小批量损失
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
    with torch.no_grad():
        acc = evaluate_accuracy(net, test_iter)
        print(f'epoch {epoch + 1}, acc {acc:f}')
