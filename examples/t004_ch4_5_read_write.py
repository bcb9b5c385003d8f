"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 4.5: reading and writing tensors and models.

torch.save / torch.load of a tensor (tensor([1., 1., 1.])), a list
([tensor([1., 1., 1.]), tensor([0., 0., 0., 0.])]) and a dict
({'x': tensor([1., 1., 1.]), 'y': tensor([0., 0., 0., 0.])}); an MLP's state_dict (an OrderedDict
of hidden.weight, hidden.bias, output.weight, output.bias) and an SGD optimizer's state_dict
(lr 0.001, momentum 0.9, an empty state, the params as indices in today's PyTorch); then the two
ways of saving a model: the state_dict (recommended; loaded into a new MLP) and the whole model
(torch.save(model, PATH) / torch.load(PATH)); both give the same outputs as the original.

Adapted: the files go to a temporary directory (the text uses the current directory); the text's
generic snippets (model, PATH, TheModelClass) are run with the MLP above; torch.load of a whole
module needs weights_only=False (PyTorch >= 2.6, and ember).
"""
import os
import tempfile
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

tmp = tempfile.TemporaryDirectory()  # (adapted: the text uses the current directory)
os_path = lambda name: os.path.join(tmp.name, name)

# ---- 4.5.1 读写Tensor ----
x = torch.ones(3)
torch.save(x, os_path('x.pt'))

x2 = torch.load(os_path('x.pt'))
print(x2)

y = torch.zeros(4)
torch.save([x, y], os_path('xy.pt'))
xy_list = torch.load(os_path('xy.pt'))
print(xy_list)

torch.save({'x': x, 'y': y}, os_path('xy_dict.pt'))
xy = torch.load(os_path('xy_dict.pt'))
print(xy)

# ---- 4.5.2 读写模型 ----
class MLP(nn.Module):
    def __init__(self):
        super(MLP, self).__init__()
        self.hidden = nn.Linear(3, 2)
        self.act = nn.ReLU()
        self.output = nn.Linear(2, 1)

    def forward(self, x):
        a = self.act(self.hidden(x))
        return self.output(a)

net = MLP()
print(net.state_dict())

optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
print(optimizer.state_dict())

X = torch.randn(2, 3)
Y = net(X)
model, PATH = net, os_path('net.pt')

# 1. 保存和加载state_dict(推荐方式)
torch.save(model.state_dict(), PATH) # 推荐的文件后缀名是pt或pth
model = MLP()
model.load_state_dict(torch.load(PATH))
print(model(X) == Y)

# 2. 保存和加载整个模型
model = net
torch.save(model, PATH)
# (adapted: weights_only=False, which PyTorch >= 2.6 and ember need to load a whole module)
model = torch.load(PATH, weights_only=False)
print(model(X) == Y, model is not net, type(model).__name__)

tmp.cleanup()
