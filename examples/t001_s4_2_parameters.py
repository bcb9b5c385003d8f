"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 四.2: parameter management.

2.1 access: net[2].weight / .bias print as "Parameter containing: tensor(..., requires_grad=True)",
.data without it, state_dict() an OrderedDict of weight and bias; named_parameters gives
[('weight', torch.Size([8, 4])), ('bias', torch.Size([8]))] for net[0] and '0.weight' ... '2.bias'
for the whole net. Nested blocks: rgnet = Sequential(block2(), Linear(4, 1)) prints as nested
Sequentials with keys 'block 0' ... 'block 3', and rgnet[0][1][0] has weight [8, 4], bias [8].
2.2 custom init with net.apply: uniform(-10, 10) then zero where |w| < 5 (values random).
2.3 shared layer: net[2] and net[4] are one object, so after net[2].weight.data[0, 0] = 100 the
rows still compare equal (tensor([True, ...]) twice).
2.4 lazy init: nn.LazyLinear(256), nn.LazyLinear(10) on X of shape (5, 20) -> torch.Size([5, 10]).
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# ---- 2.1 参数访问 ----
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
# 参数访问
print(net[2].weight)
print(net[2].bias)
# 只访问参数的值,即 requires_grad = False
print(net[2].bias.data)
# 访问包含所有参数的字典
print(net[2].state_dict())

print([(name, param.shape) for name, param in net[0].named_parameters()])
print([(name, param.shape) for name, param in net.named_parameters()])
print([param.shape for param in net.parameters()])

# 嵌套块
def block1():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
                         nn.Linear(8, 4), nn.ReLU())

def block2():
    net = nn.Sequential()
    for i in range(4):
        # 在这里嵌套
        net.add_module(f'block {i}', block1())
    return net

rgnet = nn.Sequential(block2(), nn.Linear(4, 1))
print(rgnet)
print([(name, param.shape) for name, param in rgnet[0][1][0].named_parameters()])

# ---- 2.2 参数初始化 ----
# 初始化
def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.uniform_(m.weight, -10, 10)
        m.weight.data *= m.weight.data.abs() >= 5

net.apply(init_weights)
print(net[0].weight[:2])

# ---- 2.3 参数共享 ----
# 我们需要给共享层一个名称,以便可以引用它的参数
shared = nn.Linear(8, 8)
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
                    shared, nn.ReLU(),
                    shared, nn.ReLU(),
                    nn.Linear(8, 1))
# 检查参数是否相同
print(net[2].weight.data[0] == net[4].weight.data[0])
net[2].weight.data[0, 0] = 100
# 确保它们实际上是同一个对象,而不只是有相同的值
print(net[2].weight.data[0] == net[4].weight.data[0])

# ---- 2.4 延后初始化 ----
net = nn.Sequential(nn.LazyLinear(256),
                    nn.ReLU(),
                    nn.LazyLinear(10)
)
X = torch.rand((5, 20))
print(net(X).shape)
print(net)
