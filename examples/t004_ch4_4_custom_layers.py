"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 4.4: custom layers.

CenteredLayer (no parameters) returns x - x.mean(): on [1, 2, 3, 4, 5] it gives
tensor([-2., -1.,  0.,  1.,  2.]); after a Linear(8, 128) its output's mean is ~0. MyDense keeps
four matrices in an nn.ParameterList, MyDictDense three in an nn.ParameterDict (one added with
update) and picks one by key in forward; print(net) lists their parameters (the text, from an
old PyTorch, shows "Parameter containing: [torch.FloatTensor of size 4x4]" for both; PyTorch
2.x prints [torch.float32 of size 4x4] for a ParameterList and still [torch.FloatTensor of size
4x4] for a ParameterDict); net(x, 'linear1' / 'linear2' / 'linear3') on ones(1, 4) gives
1x4, 1x1 and 1x2 results; Sequential(MyDictDense(), MyListDense()) maps ones(1, 4) to 1x1.

Adapted: the text's last example uses MyListDense, which is the MyDense class under the book's
name; it is defined here as a subclass of MyDense, so that it prints under that name. The mean print after the Sequential with CenteredLayer,
which the text describes but whose code is missing, is the book's y.mean().item().
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# ---- 4.4.1 不含模型参数的自定义层 ----
class CenteredLayer(nn.Module):
    def __init__(self, **kwargs):
        super(CenteredLayer, self).__init__(**kwargs)
    def forward(self, x):
        return x - x.mean()

layer = CenteredLayer()
print(layer(torch.tensor([1, 2, 3, 4, 5], dtype=torch.float)))

net = nn.Sequential(nn.Linear(8, 128), CenteredLayer())
y = net(torch.rand(4, 8))
print(abs(y.mean().item()) < 1e-6)

# ---- 4.4.2 含模型参数的自定义层 ----
class MyDense(nn.Module):
    def __init__(self):
        super(MyDense, self).__init__()
        self.params = nn.ParameterList([nn.Parameter(torch.randn(4, 4)) for i in range(3)])
        self.params.append(nn.Parameter(torch.randn(4, 1)))

    def forward(self, x):
        for i in range(len(self.params)):
            x = torch.mm(x, self.params[i])
        return x
net = MyDense()
print(net)

class MyDictDense(nn.Module):
    def __init__(self):
        super(MyDictDense, self).__init__()
        self.params = nn.ParameterDict({
                'linear1': nn.Parameter(torch.randn(4, 4)),
                'linear2': nn.Parameter(torch.randn(4, 1))
        })
        self.params.update({'linear3': nn.Parameter(torch.randn(4, 2))}) # 新增

    def forward(self, x, choice='linear1'):
        return torch.mm(x, self.params[choice])

net = MyDictDense()
print(net)

x = torch.ones(1, 4)
print(net(x, 'linear1'))
print(net(x, 'linear2'))
print(net(x, 'linear3'))

class MyListDense(MyDense):  # (adapted: the book's name for MyDense)
    pass

net = nn.Sequential(
    MyDictDense(),
    MyListDense(),
)
print(net)
print(net(x))
