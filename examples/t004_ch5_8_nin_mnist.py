"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 5.8: NiN trained on MNIST (resized to 40x40).

nin_block: a convolution and two 1x1 convolutions, each followed by ReLU; the MIN module chains
four NiN blocks (5x5, 5x5, 3x3; the last with 10 output channels) with MaxPool2d(3, stride 2)
and Dropout(0.5), then AvgPool2d(4), and flattens to (batch, 10); CrossEntropyLoss, Adam lr 0.001.

Adapted: the images are resized to 40x40 (transforms.Resize(40) before ToTensor). On 28x28
the three max-pools leave 2x2 maps and the final AvgPool2d(4) makes PyTorch raise "Output size
is too small": the text's network cannot run on MNIST images. It needs at least 39x39 (4x4 maps
before AvgPool2d(4)); 40x40 gives 4x4 -> 1x1.

Adapted (for every network of this chapter): the data is read from (and downloaded to)
$EMBER_TEST_DATA or ~/.cache/ember/data instead of 'D:/temp/MNIST_data' with download_mnist =
False; the matplotlib import is left out (nothing is plotted). (t004_ch5_8_nin.py is the same program
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
import time

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
# (adapted) 图像放大到 40x40: transform=trans (the text: transform=transforms.ToTensor())
trans = transforms.Compose([transforms.Resize(40), transforms.ToTensor()])
mnist_train = torchvision.datasets.MNIST(root=root, train=True, download=download_mnist, transform=trans)
mnist_test = torchvision.datasets.MNIST(root=root, train=False, download=download_mnist, transform=trans)
if limit:  # (not in the text) 只用前 limit 个训练样本
    mnist_train = torch.utils.data.Subset(mnist_train, range(limit))
if test_limit:  # (not in the text) 只用前 test_limit 个测试样本
    mnist_test = torch.utils.data.Subset(mnist_test, range(test_limit))
train_iter = torch.utils.data.DataLoader(mnist_train, batch_size=batch_size, shuffle=True)
test_iter = torch.utils.data.DataLoader(mnist_test, batch_size=batch_size, shuffle=False)

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
num_epochs = int(os.environ.get('EMBER_TUTORIAL_EPOCHS', 10))  # (the text: num_epochs = 10)
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
