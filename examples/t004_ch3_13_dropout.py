"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 3.13: dropout, concise, on MNIST.

The data as in section 3.7; LinearNet wraps nn.Sequential(Linear 784-256, ReLU, Dropout(0.2),
Linear 256-256, ReLU, Dropout(0.5), Linear 256-10) (print(net) shows it as `twolayernet`);
every parameter from nn.init.normal_(std 0.01); CrossEntropyLoss, SGD lr 0.5, 5 epochs; the loop
of section 3.7 with net.train() before the training batches and net.eval() before testing
("Dropout 在网络训练和测试时采用不同方式").
Each epoch prints 'epoch %d, loss %.4f, train acc %.3f, test acc %.3f' (the loss is the sum of
the minibatch mean losses divided by the number of images, so about 1/256 of the mean loss).
The text shows no output for it.

Adapted: the data is read from (and downloaded to) $EMBER_TEST_DATA or ~/.cache/ember/data
instead of 'D:/temp/MNIST_data' with download_mnist = False; the matplotlib import is left out
(nothing is plotted).
Not in the text: EMBER_TUTORIAL_LIMIT / EMBER_TUTORIAL_TEST_LIMIT (the first N training / test
images) and EMBER_TUTORIAL_EPOCHS let the tests run on part of MNIST; unset, the program runs in
full as in the text.
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

# 定义和初始化模型
num_inputs, num_outputs, num_hiddens1, num_hiddens2 = 784, 10, 256, 256
drop_prob1, drop_prob2 = 0.2, 0.5
class LinearNet(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2):
        super(LinearNet, self).__init__()
        self.twolayernet = nn.Sequential(
            nn.Linear(num_inputs, num_hiddens1),
            nn.ReLU(),
            nn.Dropout(drop_prob1),
            nn.Linear(num_hiddens1, num_hiddens2),
            nn.ReLU(),
            nn.Dropout(drop_prob2),
            nn.Linear(num_hiddens2, 10)
        )
    def forward(self, x):
        y = self.twolayernet(x.view(x.shape[0],-1))

        return y

net = LinearNet(num_inputs, num_outputs, num_hiddens1, num_hiddens2)
print(net)
for params in net.parameters():
    nn.init.normal_(params, mean=0, std=0.01)

# softmax 交叉熵 损失熵
loss = nn.CrossEntropyLoss()

# 优化算法
optimizer = torch.optim.SGD(net.parameters(), lr=0.5)

# 评估
def evaluate_accuracy(data_iter, net):
    acc_sum, n = 0.0, 0

# 训练模型
num_epochs = int(os.environ.get('EMBER_TUTORIAL_EPOCHS', 5))  # (the text: num_epochs = 5)
for epoch in range(num_epochs):
    train_l_sum, train_acc_sum, train_num = 0.0, 0.0, 0
    # change back to train mode
    net.train()
    for x, y in train_iter:
        y_hat = net(x)
        l = loss(y_hat, y).sum()

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
    # change back to test mode
    net.eval()
    with torch.no_grad():
        test_acc_sum, test_num = 0.0, 0
        for x, y in test_iter:
            test_acc_sum += (net(x).argmax(dim=1) == y).float().sum().item()
            test_num += y.shape[0]

    print('epoch %d, loss %.4f, train acc %.3f, test acc %.3f'
          % (epoch + 1, train_l_sum / train_num, train_acc_sum / train_num, test_acc_sum / test_num))
