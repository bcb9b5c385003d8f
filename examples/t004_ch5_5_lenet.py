"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 5.5: LeNet on MNIST.

LeNet (conv: Conv2d 1-6 5x5, Sigmoid, MaxPool2d 2, Conv2d 6-16 5x5, Sigmoid, MaxPool2d 2; fc:
Linear 256-120, Sigmoid, Linear 120-84, Linear 84-10), CrossEntropyLoss, Adam lr 0.01; the
epoch line reports loss, train accuracy and test accuracy. On a 28x28 image the conv part gives
16x4x4 = 256 features.

Adapted (for every network of this chapter): the text trains 10 epochs on MNIST (torchvision),
a later issue; here its training loop runs unchanged for 1 epoch over one random batch (train
and test set alike), so the printed loss and accuracies are those of random data, and the
torchvision / matplotlib imports are left out. The test checks the printed structure, the
shapes, a finite loss and a gradient for every parameter.
"""
# coding: utf-8
import ember as torch
import ember.nn as nn
import numpy as np
import sys

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

use_gpu = torch.cuda.is_available()
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

# 获取和读取数据
# (adapted) MNIST is a later issue: one random batch of 4 1x28x28 images with labels 0-3 stands in
# for the text's DataLoaders over torchvision.datasets.MNIST (train_iter and test_iter alike).
download_mnist = False
batch_size = 256
images, labels = torch.rand(4, 1, 28, 28), torch.arange(4)
train_iter = [(images, labels)]
test_iter = [(images, labels)]

# 定义网络
class LeNet(nn.Module):
    def __init__(self):
        super(LeNet, self).__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 6, 5),
            nn.Sigmoid(),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5),
            nn.Sigmoid(),
            nn.MaxPool2d(2, 2)
        )
        self.fc = nn.Sequential(
            nn.Linear(16*4*4, 120),
            nn.Sigmoid(),
            nn.Linear(120, 84),
            nn.Linear(84,10)
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
num_epochs = 1  # (adapted: 10 epochs of MNIST in the text)
for epoch in range(num_epochs):
    train_l_sum, train_acc_sum, train_num = 0.0, 0.0, 0
    for x, y in train_iter:
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
        test_acc_sum, test_num = 0.0, 0
        for x, y in test_iter:
            x = x.to(device)
            y = y.to(device)
            y_hat = net(x)
            test_acc_sum += (y_hat.argmax(dim=1) == y).float().sum().item()
            test_num += y.shape[0]

    print('epoch %d, loss %.4f, train acc %.3f, test acc %.3f'
          % (epoch + 1, train_l_sum / train_num, train_acc_sum / train_num, test_acc_sum / test_num))
