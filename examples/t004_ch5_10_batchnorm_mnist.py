"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 5.10: batch normalization, LeNet with BatchNorm trained on MNIST.

From scratch: batch_norm(is_training, X, gamma, beta, moving_mean, moving_var, eps, momentum)
normalises with the minibatch mean and biased variance (per feature for 2-D input, per channel
for 4-D input, the 4-D mean taken as three chained means) and updates the moving averages while
training, and uses the moving averages otherwise; the BatchNorm module (num_features, num_dims)
holds gamma (ones), beta (zeros), moving_mean and moving_var (zeros) and follows self.training.
Then LeNet with nn.BatchNorm2d after each convolution and nn.BatchNorm1d after each hidden Linear,
CrossEntropyLoss, Adam lr 0.01, net.train() per batch and net.eval() for testing.

The scratch part is exercised (not in the text): on a random 4x3x5x5 batch in training mode
each channel comes out with mean 0 and variance 1, the moving averages move to 0.1 x the batch
statistics, and after .eval() the layer uses them.

Adapted (for every network of this chapter): the data is read from (and downloaded to)
$EMBER_TEST_DATA or ~/.cache/ember/data instead of 'D:/temp/MNIST_data' with download_mnist =
False; the matplotlib import is left out (nothing is plotted). (t004_ch5_10_batchnorm.py is the same program
run on one random batch.)
Not in the text: EMBER_TUTORIAL_LIMIT / EMBER_TUTORIAL_TEST_LIMIT (the first N training / test
images) and EMBER_TUTORIAL_EPOCHS let the tests run a few batches; unset, the program trains 10
epochs on all of MNIST as in the text.
"""
# coding: utf-8
import os
import ember as torch
import ember.nn as nn
import ember.vision as torchvision
import ember.vision.transforms as transforms
import numpy as np
import sys

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# (not in the text) where MNIST is kept, and how much of it the run uses
root = os.environ.get('EMBER_TEST_DATA', os.path.expanduser('~/.cache/ember/data'))
limit = int(os.environ.get('EMBER_TUTORIAL_LIMIT', 0))
test_limit = int(os.environ.get('EMBER_TUTORIAL_TEST_LIMIT', 0))

use_gpu = torch.cuda.is_available()
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

# 获取和读取数据
download_mnist = True  # (adapted: False)
batch_size = 256
mnist_train = torchvision.datasets.MNIST(root=root, train=True, download=download_mnist, transform=transforms.ToTensor())
mnist_test = torchvision.datasets.MNIST(root=root, train=False, download=download_mnist, transform=transforms.ToTensor())
if limit:  # (not in the text) 只用前 limit 个训练样本
    mnist_train = torch.utils.data.Subset(mnist_train, range(limit))
if test_limit:  # (not in the text) 只用前 test_limit 个测试样本
    mnist_test = torch.utils.data.Subset(mnist_test, range(test_limit))
train_iter = torch.utils.data.DataLoader(mnist_train, batch_size=batch_size, shuffle=True)
test_iter = torch.utils.data.DataLoader(mnist_test, batch_size=batch_size, shuffle=False)

def batch_norm(is_training, X, gamma, beta, moving_mean, moving_var, eps, momentum):
    # 判断当前模式是训练模式还是预测模式
    if not is_training:
        # 如果是在预测模式下，直接使用传入的移动平均所得的均值和方差
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            # 使用全连接层的情况，计算特征维上的均值和方差
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            # 使用二维卷积层的情况，计算通道维上（axis=1）的均值和方差。这里我们需要保持
            # X的形状以便后面可以做广播运算
            mean = X.mean(dim=0, keepdim=True).mean(dim=2, keepdim=True).mean(dim=3, keepdim=True)
            var = ((X - mean) ** 2).mean(dim=0, keepdim=True).mean(dim=2, keepdim=True).mean(dim=3, keepdim=True)
        # 训练模式下用当前的均值和方差做标准化
        X_hat = (X - mean) / torch.sqrt(var + eps)
        # 更新移动平均的均值和方差
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta  # 拉伸和偏移
    return Y, moving_mean, moving_var

class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super(BatchNorm, self).__init__()
        if num_dims == 2:
            shape = (1, num_features)
        else:
            shape = (1, num_features, 1, 1)
        # 参与求梯度和迭代的拉伸和偏移参数，分别初始化成0和1
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        # 不参与求梯度和迭代的变量，全在内存上初始化成0
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.zeros(shape)

    def forward(self, X):
        # 如果X不在内存上，将moving_mean和moving_var复制到X所在显存上
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        # 保存更新过的moving_mean和moving_var, Module实例的traning属性默认为true, 调用.eval()后设成false
        Y, self.moving_mean, self.moving_var = batch_norm(self.training,
            X, self.gamma, self.beta, self.moving_mean,
            self.moving_var, eps=1e-5, momentum=0.9)
        return Y

# (not in the text) the scratch layer on a random batch
bn = BatchNorm(3, num_dims=4)
X = torch.rand(4, 3, 5, 5) * 10 + 3
Y = bn(X)
print(Y.shape, Y.mean(dim=(0, 2, 3)).abs().max().item() < 1e-5,
      ((Y ** 2).mean(dim=(0, 2, 3)) - 1).abs().max().item() < 1e-3)
print(torch.allclose(bn.moving_mean.flatten(), 0.1 * X.mean(dim=(0, 2, 3)), rtol=1e-5))
bn.eval()
print(bn.training, bn(X).shape)

# 定义网络
class LeNet(nn.Module):
    def __init__(self):
        super(LeNet, self).__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 6, 5),
            nn.BatchNorm2d(6),
            nn.Sigmoid(),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5),
            nn.BatchNorm2d(16),
            nn.Sigmoid(),
            nn.MaxPool2d(2, 2)
        )
        self.fc = nn.Sequential(
            nn.Linear(16*4*4, 120),
            nn.BatchNorm1d(120),
            nn.Sigmoid(),
            nn.Linear(120, 84),
            nn.BatchNorm1d(84),
            nn.Sigmoid(),
            nn.Linear(84,10),
        )
    def forward(self, img):
        feature = self.conv(img)
        output = self.fc(feature.view(img.shape[0],-1))
        return output

net = LeNet()
net = net.to(device)
print("training on ", device)
print(net)

# 代价函数
loss = torch.nn.CrossEntropyLoss()
loss.to(device)

# 优化方法
lr = 0.01
optimizer = torch.optim.Adam(net.parameters(), lr=lr)

# 训练模型
num_epochs = int(os.environ.get('EMBER_TUTORIAL_EPOCHS', 10))  # (the text: num_epochs = 10)
for epoch in range(num_epochs):
    train_l_sum, train_acc_sum, train_num = 0.0, 0.0, 0
    for x, y in train_iter:
        net.train()
        x = x.to(device)
        y = y.to(device)
        y_hat = net(x)
        l = loss(y_hat, y)

        # 梯度清零
        if optimizer is not None:
            optimizer.zero_grad()

        # 反向传播
        l.backward()
        optimizer.step()

        # 训练集计算准确度
        train_l_sum += l.item()
        train_acc_sum += (y_hat.argmax(dim=1) == y).sum().item()
        train_num += y.shape[0]

    # 测试集
    with torch.no_grad():
        net.eval()
        test_acc_sum, test_num = 0.0, 0
        for x, y in test_iter:
            x = x.to(device)
            y = y.to(device)
            y_hat = net(x)
            test_acc_sum += (y_hat.argmax(dim=1) == y).float().sum().item()
            test_num += y.shape[0]

    print('epoch %d, loss %.4f, train acc %.3f, test acc %.3f'
          % (epoch + 1, train_l_sum / train_num, train_acc_sum / train_num, test_acc_sum / test_num))
