"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 5.8: NiN for MNIST.

nin_block: a convolution and two 1x1 convolutions, each followed by ReLU; the MIN module chains
four NiN blocks (5x5, 5x5, 3x3; the last with 10 output channels) with MaxPool2d(3, stride 2)
and Dropout(0.5), then AvgPool2d(4), and flattens to (batch, 10); CrossEntropyLoss, Adam lr 0.001.

Adapted (besides the data, see below): the random images are 40x40, not MNIST's 28x28. On 28x28
the three max-pools leave 2x2 maps and the final AvgPool2d(4) makes PyTorch raise "Output size
is too small": the text's network cannot run on MNIST images. It needs at least 39x39 (4x4 maps
before AvgPool2d(4)); 40x40 gives 4x4 -> 1x1.

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
import time

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

use_gpu = torch.cuda.is_available()
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

# 获取和读取数据
# (adapted) MNIST is a later issue: one random batch of 4 1x40x40 images with labels 0-3 stands in
# for the text's DataLoaders over torchvision.datasets.MNIST (train_iter and test_iter alike).
download_mnist = False
batch_size = 256
images, labels = torch.rand(4, 1, 40, 40), torch.arange(4)
train_iter = [(images, labels)]
test_iter = [(images, labels)]

# 定义网络
def nin_block(in_channels, out_channels, kernel_size, stride, padding):
    blk = nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1),
        nn.ReLU()
    )
    return blk

class MIN(nn.Module):
    def __init__(self):
        super(MIN, self).__init__()
        self.conv = nn.Sequential(
            nin_block(1, 96, kernel_size=5, stride=1, padding=2),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nin_block(96, 256, kernel_size=5, stride=1, padding=2),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nin_block(256, 384, kernel_size=3, stride=1, padding=1),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Dropout(0.5),
            # 标签类别数是10
            nin_block(384, 10, kernel_size=3, stride=1, padding=1),
            nn.AvgPool2d(4)
        )

    def forward(self, img):
        output = self.conv(img)
        output = output.view(output.size()[0], -1)
        return output

net = MIN()
net = net.to(device)
print("training on ", device)
print(net)

# 代价函数
loss = torch.nn.CrossEntropyLoss()
loss.to(device)

# 优化方法
lr = 0.001
optimizer = torch.optim.Adam(net.parameters(), lr=lr)

# 训练模型
num_epochs = 1  # (adapted: 10 epochs of MNIST in the text)
for epoch in range(num_epochs):
    train_l_sum, train_acc_sum, train_num = 0.0, 0.0, 0
    start = time.time()
    # change back to train mode
    net.train()
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
        # change back to test mode
        net.eval()
        test_acc_sum, test_num = 0.0, 0
        for x, y in test_iter:
            x = x.to(device)
            y = y.to(device)
            y_hat = net(x)
            test_acc_sum += (y_hat.argmax(dim=1) == y).float().sum().item()
            test_num += y.shape[0]

    print('epoch %d, loss %.4f, train acc %.3f, test acc %.3f, time %.1f sec'
          % (epoch + 1, train_l_sum / train_num, train_acc_sum / train_num, test_acc_sum / test_num, time.time() - start))
