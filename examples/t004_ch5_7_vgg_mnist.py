"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 5.7: VGG-11 trained on MNIST (resized to 32x32).

vgg_block(num_convs, in_channels, out_channels): 3x3 convolutions (padding 1) with ReLU and a
MaxPool2d(2, 2); the VGG module adds five blocks with add_module("vgg_block_1" ...) for
conv_arch ((1, 1, 64), (1, 64, 128), (2, 128, 256), (2, 256, 512), (2, 512, 512)) and the fully
connected part Linear(512, 4096)-4096-10 with Dropout 0.5; CrossEntropyLoss, Adam lr 0.001.

Adapted: the images are resized to 32x32 (transforms.Resize(32) before ToTensor). Five
halvings take 28 -> 14 -> 7 -> 3 -> 1 and the fifth MaxPool2d(2, 2) then gets a 1x1 input, on
which PyTorch raises "Output size is too small": the text's network cannot run on 28x28 images.
32x32 is the size its first Linear (512 = 512 x 1 x 1 inputs) is made for.

Adapted (for every network of this chapter): the data is read from (and downloaded to)
$EMBER_TEST_DATA or ~/.cache/ember/data instead of 'D:/temp/MNIST_data' with download_mnist =
False; the matplotlib import is left out (nothing is plotted). (t004_ch5_7_vgg.py is the same program
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
# (adapted) 图像放大到 32x32: transform=trans (the text: transform=transforms.ToTensor())
trans = transforms.Compose([transforms.Resize(32), transforms.ToTensor()])
mnist_train = torchvision.datasets.MNIST(root=root, train=True, download=download_mnist, transform=trans)
mnist_test = torchvision.datasets.MNIST(root=root, train=False, download=download_mnist, transform=trans)
if limit:  # (not in the text) 只用前 limit 个训练样本
    mnist_train = torch.utils.data.Subset(mnist_train, range(limit))
if test_limit:  # (not in the text) 只用前 test_limit 个测试样本
    mnist_test = torch.utils.data.Subset(mnist_test, range(test_limit))
train_iter = torch.utils.data.DataLoader(mnist_train, batch_size=batch_size, shuffle=True)
test_iter = torch.utils.data.DataLoader(mnist_test, batch_size=batch_size, shuffle=False)

# 定义网络
conv_arch = ((1, 1, 64), (1, 64, 128), (2, 128, 256), (2, 256, 512), (2, 512, 512))
def vgg_block(conv_arch, in_channels, out_channels):
    blk = []
    for i in range(conv_arch):
        if i == 0:
            blk.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
        else:
            blk.append(nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1))
        blk.append(nn.ReLU())
    blk.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*blk)
class VGG(nn.Module):
    def __init__(self, conv_arch):
        super(VGG, self).__init__()
        self.conv = nn.Sequential()
        for i, (num_convs, in_channels, out_channels) in enumerate(conv_arch):
            # 每经过一个vgg_block都会使宽高减半
            self.conv.add_module("vgg_block_" + str(i + 1), vgg_block(num_convs, in_channels, out_channels))

        # 这里全连接层的输出个数比LeNet中的大数倍。使用丢弃层来缓解过拟合
        self.fc = nn.Sequential(
            nn.Linear(256 * 2, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            # 输出层。由于这里使用Fashion-MNIST，所以用类别数为10，而非论文中的1000
            nn.Linear(4096, 10),
        )


    def forward(self, img):
        feature = self.conv(img)
        output = self.fc(feature.view(img.shape[0],-1))
        return output

net = VGG(conv_arch)
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
