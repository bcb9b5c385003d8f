"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 三.5: Xavier initialisation.

init_weights initialises every nn.Linear weight with nn.init.xavier_uniform_, i.e. uniformly in
[-sqrt(6 / (n_in + n_out)), sqrt(6 / (n_in + n_out))], and sets the biases to 0 with
nn.init.constant_.

Adapted: the text gives only init_weights; here it is applied (net.apply) to the concise MLP of
section 三.3 and the bound, the largest |weight| and the biases are printed per layer.
"""
import math
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.xavier_uniform_(m.weight)  # 均匀分布的 Xavier 初始化
        # nn.init.xavier_normal_(m.weight)  # 正态分布的 Xavier 初始化
        if m.bias is not None:
            nn.init.constant_(m.bias, 0)  # 偏置项初始化为 0

net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
net.apply(init_weights)
for m in net:
    if type(m) == nn.Linear:
        bound = math.sqrt(6 / (m.in_features + m.out_features))
        print(m, round(bound, 4), m.weight.abs().max().item() <= bound,
              round(m.weight.abs().max().item() / bound, 1), m.bias.abs().sum().item())
