"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 四.3: custom layers.

MeanLayer (no parameters) returns X - X.mean(axis=1): on a random 1x5 X the text prints outputs
summing to 0 (tensor([[-0.3805, 0.4409, -0.0032, -0.1429, 0.0857]]) for its X).
The book's CenteredLayer (X - X.mean(), used inside nn.Sequential) and MyLinear (a layer with its
own nn.Parameter weight and bias, relu(X @ W + b)) are not in the notes; they are restored here
from the book's section (5.4) because they are the standard custom-layer examples.
"""
import ember as torch
from ember import nn
import ember.nn.functional as F

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# 自定义层
class MeanLayer(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        return X - X.mean(axis=1)

X = torch.rand((1, 5))
print(X)
layer = MeanLayer()
print(layer(X))
print(abs(layer(X).sum().item()) < 1e-6)

# ---- 书中 5.4 节 (不在笔记里) ----
class CenteredLayer(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        return X - X.mean()

layer = CenteredLayer()
print(layer(torch.FloatTensor([1, 2, 3, 4, 5])))
net = nn.Sequential(nn.Linear(8, 128), CenteredLayer())
Y = net(torch.rand(4, 8))
print(abs(Y.mean().item()) < 1e-6)

class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units,))

    def forward(self, X):
        linear = torch.matmul(X, self.weight.data) + self.bias.data
        return F.relu(linear)

linear = MyLinear(5, 3)
print(linear.weight.shape, [name for name, _ in linear.named_parameters()])
print(linear(torch.rand(2, 5)).shape)
net = nn.Sequential(MyLinear(64, 8), MyLinear(8, 1))
print(net(torch.rand(2, 64)).shape)
print(net)
