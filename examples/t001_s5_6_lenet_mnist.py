"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 五.6: LeNet trained with train_ch6.

LeNet (Conv2d 1-6 5x5 pad 2, Sigmoid, AvgPool2d 2, Conv2d 6-16 5x5, Sigmoid, AvgPool2d 2,
Flatten, Linear 400-120-84-10 with Sigmoid) as nn.Sequential (the layer-by-layer shapes of a
1x1x28x28 input, from the book's section 6.6: Conv2d [1, 6, 28, 28] ... Linear [1, 10]) and as the
LeNet class, which is the net trained. evaluate_accuracy_gpu (Accumulator and accuracy of
section 二.4) and train_ch6 (xavier_uniform_ init through net.apply, 'training on' device,
SGD, CrossEntropyLoss, the test accuracy after each epoch, the state_dict saved to
'lenet_state_dict') with batch_size, lr, num_epochs = 256, 0.9, 10. The notes state no accuracy
for it (the book: test acc 0.78 on Fashion-MNIST after 10 epochs).

Adapted: the device is 'cpu' (the notes pass 'cuda'); the program works inside a temporary
directory, as train_ch6 writes 'lenet_state_dict' to the current one. (t001_s5_6_lenet.py is the
same code run on one random batch.)
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

import contextlib
import tempfile

# 模型定义
net = nn.Sequential(nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
                    nn.AvgPool2d(kernel_size=2, stride=2),
                    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
                    nn.AvgPool2d(kernel_size=2, stride=2),
                    nn.Flatten(),
                    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
                    nn.Linear(120, 84), nn.Sigmoid(),
                    nn.Linear(84, 10))

# 各层的输出形状 (书中 6.6 节)
X = torch.rand(size=(1, 1, 28, 28), dtype=torch.float32)
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__,'output shape: \t',X.shape)

# 或者
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)
        self.sigmoid = nn.Sigmoid()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, X):
        X = self.sigmoid(self.conv1(X))
        X = self.pool(X)
        X = self.sigmoid(self.conv2(X))
        X = self.pool(X)
        X = self.flatten(X)
        X = self.sigmoid(self.fc1(X))
        X = self.sigmoid(self.fc2(X))
        return self.fc3(X)

net = LeNet()
print(net)

# 评估函数将测试集移动到 gpu
def evaluate_accuracy_gpu(net, data_iter, device=None):
    if isinstance(net, torch.nn.Module):
        net.eval()
        if not device:
            device = next(iter(net.parameters())).device    # 未指定设备时,自动寻找设备
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            # 将数据复制到网络所在的设备
            if isinstance(X, list):
                X = [x.to(device) for x in X]
            else:
                X = X.to(device)
            y = y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]

# 训练
def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    """用GPU训练模型(在第六章定义)"""
    # 初始化参数
    def init_weights(m):
        if type(m) == nn.Linear or type(m) == nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)
    net.apply(init_weights)
    print('training on', device)
    net.to(device)
    # 定义损失函数和优化算法
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    # 训练
    for epoch in range(num_epochs):
        net.train()
        for i, (X, y) in enumerate(train_iter):
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
        with torch.no_grad():
            acc = evaluate_accuracy_gpu(net, test_iter)
            print(f'epoch {epoch + 1}, acc {acc:f}')
    # 保存模型
    torch.save(net.state_dict(), 'lenet_state_dict')

batch_size, lr, num_epochs = 256, 0.9, 10
num_epochs = int(os.environ.get('EMBER_TUTORIAL_EPOCHS', num_epochs))  # (not in the text)
train_iter, test_iter = load_data_fashion_mnist(batch_size)
# (adapted) 'cuda' -> 'cpu'; train_ch6 saves 'lenet_state_dict' in the current directory
with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
    train_ch6(net, train_iter, test_iter, num_epochs, lr, 'cpu')
    print(sorted(os.listdir('.')))
