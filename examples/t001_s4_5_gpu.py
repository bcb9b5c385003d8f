"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 四.5: GPU.

torch.cuda.is_available() / device_count(), a tensor's .device, try_gpu(i) (cuda:i if it
exists, else cpu) and moving a net with net.to(device=try_gpu()). The text ran on a machine with
one GPU (True, 1, cuda:0); on a CPU-only machine the same code prints False, 0 and cpu
everywhere, and everything runs on the CPU. try_all_gpus is the book's companion helper (not in
the notes; restored from the book's section 6.7): on a CPU-only machine it returns [cpu].

Adapted: `Z = X.cuda(1)` needs a second GPU (on a CPU-only build PyTorch raises); it runs only
when two GPUs exist.
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# GPU 使用情况
print(torch.cuda.is_available())
print(torch.cuda.device_count())

# 指定张量的环境
x = torch.tensor([1, 2, 3])
print(x.device)

def try_gpu(i=0):
    if i < torch.cuda.device_count():
        return torch.device(f'cuda:{i}')
    return torch.device('cpu')

def try_all_gpus():  # 书中的辅助函数 (不在笔记里)
    devices = [torch.device(f'cuda:{i}')
               for i in range(torch.cuda.device_count())]
    return devices if devices else [torch.device('cpu')]

print(try_gpu(), try_gpu(10), try_all_gpus())

X = torch.ones(2, 3, device=try_gpu())
print(X.device)

# 复制张量到不同设备
X = torch.ones(2, 3, device=try_gpu())
Y = torch.rand(2, 3, device=try_gpu(1))
if torch.cuda.device_count() >= 2:  # (adapted: X.cuda(1) needs a second GPU)
    Z = X.cuda(1)  # 之后才能将 Y 和 Z 做运算
print(Y.device)

# 神经网络与 GPU
net = nn.Sequential(nn.Linear(3, 1))
net = net.to(device=try_gpu())
print(net(X))
print(net[0].weight.device)
