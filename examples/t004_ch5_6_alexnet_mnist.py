"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 5.6: AlexNet adapted to MNIST, trained on it.

AlexNet with its layers adjusted for 28x28 images (Conv2d 1-96 3x3, MaxPool2d 2/2, Conv2d 96-256
5x5 pad 2, MaxPool2d 3/2, three Conv2d 3x3 pad 1, MaxPool2d 3/2 -> 256x2x2; fc Linear
1024-4096-4096-10 with Dropout 0.5), CrossEntropyLoss, Adam lr 0.001; net.train() / net.eval()
around training and testing, and the epoch time is printed.

Adapted (for every network of this chapter): the data is read from (and downloaded to)
$EMBER_TEST_DATA or ~/.cache/ember/data instead of 'D:/temp/MNIST_data' with download_mnist =
False; the matplotlib import is left out (nothing is plotted). (t004_ch5_6_alexnet.py is the same program
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
device = torch.device('cpu')
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

# 定义网络
class AlexNet(nn.Module):
    def __init__(self):
        super(AlexNet, self).__init__()
        self.conv = nn.Sequential(
            # 由于MNIST为28x28， 而最初AlexNet的输入图片是227x227的。所以网络层数和参数需要调节
            # AlexCONV1(3,96, k=11,s=4,p=0)
            nn.Conv2d(1, 96, 3, 1),  # in_channels, out_channels, kernel_size, stride, padding
            nn.ReLU(),
            nn.MaxPool2d(2, 2),  # kernel_size, stride

            # AlexCONV2(96, 256,k=5,s=1,p=2)
            nn.Conv2d(96, 256, 5, 1, 2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),

            # AlexCONV3(256,384,k=3,s=1,p=1)
            nn.Conv2d(256, 384, 3, 1, 1),
            nn.ReLU(),

            # AlexCONV4(384, 384, k=3,s=1,p=1)
            nn.Conv2d(384, 384, 3, 1, 1),
            nn.ReLU(),

            # AlexCONV5(384, 256, k=3, s=1,p=1)
            nn.Conv2d(384, 256, 3, 1, 1),
            nn.ReLU(),
            nn.MaxPool2d(3, 2)
        )
        # 这里全连接层的输出个数比LeNet中的大数倍。使用丢弃层来缓解过拟合
        self.fc = nn.Sequential(
            nn.Linear(256 * 2 * 2, 4096),
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

net = AlexNet()
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
