"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 4.1: model construction.

An MLP subclassing nn.Module (hidden Linear 784-256, act ReLU, output Linear 256-10): print(net)
shows the three layers and net(X) on a random 2x784 X is a 2x10 tensor. nn.ModuleList supports
append and indexing (print(net[-1]) shows Linear(in_features=256, out_features=10, bias=True)),
nn.ModuleDict item assignment and attribute access; neither defines forward, so calling them
raises NotImplementedError. (The text shows ModuleDict's keys sorted - act, linear, output -
as PyTorch did before 1.x; today's PyTorch keeps insertion order: linear, act, output.)
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

class MLP(nn.Module):
    # 声明带有模型参数的层，这里声明了两个全连接层
    def __init__(self, **kwargs):
        # 调用MLP父类Module的构造函数来进行必要的初始化。这样在构造实例时还可以指定其他函数
        # 参数，如“模型参数的访问、初始化和共享”一节将介绍的模型参数params
        super(MLP, self).__init__(**kwargs)
        self.hidden = nn.Linear(784, 256) # 隐藏层
        self.act = nn.ReLU()
        self.output = nn.Linear(256, 10)  # 输出层


    # 定义模型的前向计算，即如何根据输入x计算返回所需要的模型输出
    def forward(self, x):
        a = self.act(self.hidden(x))
        return self.output(a)

X = torch.rand(2, 784)
net = MLP()
print(net)
print(net(X))

# ModuleList
net = nn.ModuleList([nn.Linear(784, 256), nn.ReLU()])
net.append(nn.Linear(256, 10)) # # 类似List的append操作
print(net[-1])  # 类似List的索引访问
print(net)
# net(torch.zeros(1, 784)) # 会报NotImplementedError
try:
    net(torch.zeros(1, 784))
except NotImplementedError:
    print('NotImplementedError')

# ModuleDict
net = nn.ModuleDict({
    'linear': nn.Linear(784, 256),
    'act': nn.ReLU(),
})
net['output'] = nn.Linear(256, 10) # 添加
print(net['linear']) # 访问
print(net.output)
print(net)
# net(torch.zeros(1, 784)) # 会报NotImplementedError
try:
    net(torch.zeros(1, 784))
except NotImplementedError:
    print('NotImplementedError')
