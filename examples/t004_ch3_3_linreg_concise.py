"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 3.3: concise linear regression.

1000 samples of y = 2 x1 - 3.4 x2 + 4.2 + noise (np.random.normal), read in shuffled minibatches
of 10 with Data.TensorDataset and Data.DataLoader; the model is a LinearNet module (print(net)
shows LinearNet((linear): Linear(in_features=2, out_features=1, bias=True))) and then
nn.Sequential built three ways (positional, add_module, OrderedDict); init.normal_(std 0.01)
for the weight and constant_ 0 for the bias; nn.MSELoss and optim.SGD(lr=0.03) (print(optimizer)
shows its settings); 3 epochs. The book this follows prints a loss falling to ~1e-4 and the
learned weight and bias close to [2, -3.4] and 4.2.
Changing the learning rate through optimizer.param_groups, which the notes describe in words, is
added from the book (section 3.3.6): param_group['lr'] *= 0.1.
"""
# coding: utf-8
import ember as torch
import numpy as np
import random
import ember.utils.data as Data
import ember.nn as nn
import ember.optim as optim

# Fixed seeds (not in the text): the data (np.random) are then the same in every library; the
# initial weights and the shuffles come from the library's own random stream.
np.random.seed(0)
torch.manual_seed(0)

# 生成数据集
num_inputs = 2
num_examples = 1000
true_w = [2, -3.4]
true_b = 4.2
features = torch.tensor(np.random.normal(0, 1, (num_examples, num_inputs)), dtype=torch.float)
labels = true_w[0] * features[:, 0] + true_w[1] * features[:, 1] + true_b
labels += torch.tensor(np.random.normal(0, 0.01, size=labels.size()), dtype=torch.float)


# ## 读取数据
batch_size = 10
# 将训练数据的特征和标签组合
dataset = Data.TensorDataset(features, labels)
# 随机读取小批量
data_iter = Data.DataLoader(dataset, batch_size, shuffle=True)

# for X, y in data_iter:
#     print(X, y)
#     break

# ## 定义模型
class LinearNet(nn.Module):
    def __init__(self, n_feature):
        super(LinearNet, self).__init__()
        self.linear = nn.Linear(n_feature, 1)

    # forward 定义前向传播
    def forward(self, x):
        y = self.linear(x)
        return y


net = LinearNet(num_inputs)
print(net)  # 使用print可以打印出网络的结构


# 写法一
net = nn.Sequential(
    nn.Linear(num_inputs, 1)
    # 此处还可以传入其他层
    )

# 写法二
net = nn.Sequential()
net.add_module('linear', nn.Linear(num_inputs, 1))
# net.add_module ......

# 写法三
from collections import OrderedDict
net = nn.Sequential(OrderedDict([
          ('linear', nn.Linear(num_inputs, 1))
          # ......
        ]))

print(net)
print(net[0])

# 通过`net.parameters()`来查看模型所有的可学习参数，此函数将返回一个生成器。
for param in net.parameters():
    print(param)

# 初始化模型参数
nn.init.normal_(net[0].weight, mean=0, std=0.01)
nn.init.constant_(net[0].bias, val=0)  # 也可以直接修改bias的data: net[0].bias.data.fill_(0)

# ##  定义损失函数
loss = nn.MSELoss()

# 定义优化算法
optimizer = optim.SGD(net.parameters(), lr=0.03)
print(optimizer)

# 调整学习率 (书中 3.3.6 节; 笔记只用文字描述)
for param_group in optimizer.param_groups:
    param_group['lr'] *= 0.1 # 学习率为之前的0.1倍
print(optimizer.param_groups[0]['lr'])
for param_group in optimizer.param_groups:
    param_group['lr'] = 0.03 # 恢复原来的学习率

# 训练模型
num_epochs = 3
for epoch in range(1, num_epochs + 1):
    for X, y in data_iter:
        output = net(X)
        l = loss(output, y.view(-1, 1))
        optimizer.zero_grad() # 梯度清零，等价于net.zero_grad()
        l.backward()
        optimizer.step()
    print('epoch %d, loss: %f' % (epoch, l.item()))
dense = net[0]
print(true_w, dense.weight)
print(true_b, dense.bias)
