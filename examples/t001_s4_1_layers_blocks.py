"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 四.1: layers and blocks.

MySequential stores its blocks in self._modules (keys '0', '1', ...) and runs them in order;
it computes the same as nn.Sequential with the same layers. "块中可以编写任意的计算,包括 Python
代码": the book's FixedHiddenMLP (a constant random weight, a while loop on the norm) and NestMLP
(blocks nested in blocks) show it; they are not in the notes and are restored here from the
book's section (5.1) to exercise that sentence. Outputs are printed as shapes (random weights).
"""
import ember as torch
from ember import nn
from ember.nn import functional as F

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

class MySequential(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self._modules[str(idx)] = module

    def forward(self, X):
        for block in self._modules.values():
            X = block(X)
        return X

X = torch.rand(2, 20)
net = MySequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))
print(net)
print(net(X).shape)
print(list(net._modules.keys()), [name for name, _ in net.named_parameters()])
# 与 nn.Sequential 用同样的层计算相同
print(torch.equal(net(X), nn.Sequential(*net._modules.values())(X)))

# ---- 书中 5.1 节 (不在笔记里): 块中的 Python 代码 ----
class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        # 不计算梯度的随机权重参数。因此其在训练期间保持不变
        self.rand_weight = torch.rand((20, 20), requires_grad=False)
        self.linear = nn.Linear(20, 20)

    def forward(self, X):
        X = self.linear(X)
        # 使用创建的常量参数以及relu和mm函数
        X = F.relu(torch.mm(X, self.rand_weight) + 1)
        # 复用全连接层。这相当于两个全连接层共享参数
        X = self.linear(X)
        # 控制流
        while X.abs().sum() > 1:
            X /= 2
        return X.sum()

net = FixedHiddenMLP()
out = net(X)
print(out.shape, out.abs().item() <= 1, [name for name, _ in net.named_parameters()])

class NestMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(),
                                 nn.Linear(64, 32), nn.ReLU())
        self.linear = nn.Linear(32, 16)

    def forward(self, X):
        return self.linear(self.net(X))

chimera = nn.Sequential(NestMLP(), nn.Linear(16, 20), FixedHiddenMLP())
print(chimera)
print(chimera(X).shape)
