"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 四.4: saving and loading.

A tensor (torch.arange(4)), a dict of tensors and an MLP's state_dict are saved with torch.save
and read back with torch.load; the text prints tensor([0, 1, 2, 3]) tensor([0, 1, 2, 3]), the
dict twice, and for the clone that loaded the state_dict net(X) == clone(X) is all True.

Adapted: the files are written in a temporary directory (the text writes them to the current
directory).
"""
import os
import tempfile
import ember as torch
from ember import nn
import ember.nn.functional as F

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# Adapted: the files go to a temporary directory (the text writes to the current directory).
tmp = tempfile.TemporaryDirectory()

def path(name):
    return os.path.join(tmp.name, name)

# 保存/读取张量
x = torch.arange(4)
torch.save(x, path('x-file'))
y = torch.load(path('x-file'))
print(x, y)

# 保存/读取字典
mydict = {'x': x, 'y': y}
torch.save(mydict, path('mydict'))
mydict2 = torch.load(path('mydict'))
print(mydict, mydict2)

# 保存/读取模型参数
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(20, 256)
        self.output = nn.Linear(256, 10)

    def forward(self, x):
        return self.output(F.relu(self.hidden(x)))

net = MLP()
torch.save(net.state_dict(), path('mlp_state_dict'))
clone = MLP()
clone.load_state_dict(torch.load(path('mlp_state_dict')))
X = torch.rand((1, 20))
print(net(X) == clone(X))
print(clone)

tmp.cleanup()
