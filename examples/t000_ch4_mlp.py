"""Tutorial 000 ("深度学习框架与网络结构设计"), chapter 4: multilayer perceptron.

Part 1 defines a 2-3-1 network by hand (relu written as torch.max(input=x, other=0), weights
from np.random.normal(0, 0.01)) and trains it on one sample x = [2.1, 3.2] -> 0.7 by 50 steps of
manual gradient descent (eta = 0.01); the text prints sum_err falling from 0.2450 (first step)
to 0.0915 (last step): "可以看到输出误差变小了".
Part 2 builds a 2-3-4-1 network with nn.Sequential, initialises every parameter with
nn.init.normal_(mean=0, std=0.01) and trains it on the same sample with optim.SGD (lr 0.5) for
5 steps; the text prints y going from 0.0003 to 0.6563 (target 0.7) and l from 0.2448 to 0.0010.
"""
import ember as torch
import numpy as np

# Fixed seeds (not in the text) so that a run is reproducible: part 1's weights come from
# np.random, so its printed values are the same in every library; part 2's come from the
# library's own random stream, which differs between libraries.
np.random.seed(0)
torch.manual_seed(0)

# ---- part 1: the network by hand ----

def relu(x):
    return torch.max(input=x, other=torch.tensor(0.0))

def net(x, w1, b1, w2, b2):
    o = relu(torch.matmul(x, w1) + b1)
    return torch.matmul(o, w2) + b2

# 每层神经元数量
n_inputs, n_hidden, n_outputs = 2, 3, 1

# 各层之间的连接权重和偏差
w1 = torch.tensor(np.random.normal(0, 0.01, (n_inputs, n_hidden)), dtype=
                    torch.float)

# 隐层共享一个偏差
b1 = torch.zeros(1, dtype=torch.float)
w2 = torch.tensor(np.random.normal(0, 0.01, (n_hidden, n_outputs)), dtype=
                    torch.float)

# 输出层偏差设定可以由n_outputs数量决定, 有必要的也可以设定为共享1个
b2 = torch.zeros(n_outputs, dtype=torch.float)

params = [w1, b1, w2, b2]
for param in params:
    param.requires_grad_(requires_grad=True)

# 样本
x = torch.tensor([2.1, 3.2], dtype=torch.float32).unsqueeze(dim=0)
y_target = torch.tensor([0.7], dtype=torch.float32).unsqueeze(dim=0)

# 学习速率
eta = 0.01

# 训练
for i in range(50):
    print('-'*20)
    print('w1 =', w1)
    print('b1 =', b1)
    y = net(x, w1, b1, w2, b2)
    sum_err = torch.sum((y-y_target)**2/2)
    print('sum_err = ', sum_err)
    sum_err.backward()
    for param in params:
        param.data -= eta*param.grad.data
        param.grad.zero_()

# ---- part 2: the network with nn.Sequential and optim.SGD ----
from ember import nn

# 每层的神经元数量
n_inputs, n_hidden_1, n_hidden_2, n_outputs = 2, 3, 4, 1
# 定义网络结构：层属性和激活函数都有
net = nn.Sequential(
    nn.Linear(n_inputs, n_hidden_1),
    nn.ReLU(),
    nn.Linear(n_hidden_1, n_hidden_2),
    nn.ReLU(),
    nn.Linear(n_hidden_2, n_outputs),
)
# 初始化参数
for params in net.parameters():
    torch.nn.init.normal_(params, mean=0, std=0.01)
# 优化器
optimizer = torch.optim.SGD(net.parameters(), lr=0.5)

# 样本
x = torch.tensor([2.1, 3.2], dtype=torch.float32).unsqueeze(dim=0)
y_target = torch.tensor([0.7], dtype=torch.float32).unsqueeze(dim=0)

# 训练
for i in range(5):
    print('-' * 20)
    y = net(x)
    print('y = ', y)
    l = (y - y_target) ** 2 / 2
    l.backward()
    print('l = ', l)
    optimizer.step()
    optimizer.zero_grad()
