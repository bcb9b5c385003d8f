"""Tutorial 000 ("深度学习框架与网络结构设计"), chapter 6: ResNet.

A ResNet-18 style network (7x7 Conv2d + BatchNorm2d + MaxPool2d, four resnet_block stages of
two Residual blocks each with BatchNorm2d and 1x1 shortcut convolutions, global average pooling
with F.avg_pool2d, a Linear 512-10 head), assembled with add_module, is trained with Adam
(lr 1e-3) on a single 1x1x224x224 random sample towards the one-hot target [1, 0, ..., 0] for
5 steps. The text prints err_sum falling from 1.6263 (first step) to 0.2222 (last step) and
y[0] moving from 0.1225 towards 1 (1.2204 at the last step).
"""
import ember as torch
from ember import nn
import ember.nn.functional as F

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

def resnet_block(in_channels, out_channels, num_residuals, first_block=False):
    if first_block:
        assert in_channels == out_channels
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(in_channels, out_channels, use_1x1conv=True,
                                stride=2))
        else:
            blk.append(Residual(out_channels, out_channels))
    return nn.Sequential(*blk)

class GlobalAvgPool2d(nn.Module):
    def __init__(self):
        super(GlobalAvgPool2d, self).__init__()
    def forward(self, x):
        return F.avg_pool2d(x, kernel_size=x.size()[2:])

class FlattenLayer(torch.nn.Module):
    def __init__(self):
        super(FlattenLayer, self).__init__()
    def forward(self, x):
        return x.view(x.shape[0], -1)

class Residual(nn.Module):
    def __init__(self, in_channels, out_channels, use_1x1conv=False, stride=1):
        super(Residual, self).__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3,
                                padding=1, stride=stride)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3,
                                padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(in_channels, out_channels, kernel_size=1,
                                    stride=stride)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        return F.relu(Y + X)

net = nn.Sequential(
    nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
    nn.BatchNorm2d(64),
    nn.ReLU(),
    nn.MaxPool2d(kernel_size=3, stride=2, padding=1))

net.add_module("resnet_block1", resnet_block(64, 64, 2, first_block=True))
net.add_module("resnet_block2", resnet_block(64, 128, 2))
net.add_module("resnet_block3", resnet_block(128, 256, 2))
net.add_module("resnet_block4", resnet_block(256, 512, 2))

net.add_module("global_avg_pool", GlobalAvgPool2d())
net.add_module("fc", nn.Sequential(FlattenLayer(), nn.Linear(512, 10)))

lr = 0.001
optimizer = torch.optim.Adam(net.parameters(), lr=lr)

# 样本, batch_size=1, channel=1, width=224, height=224
x = torch.randn(1, 1, 224, 224)
y_target = torch.tensor([1,0,0,0,0,0,0,0,0,0], dtype=torch.float32).unsqueeze(
    dim=0)

for i in range(5):
    print('-' * 20)
    x = x.to(device)
    y_target = y_target.to(device)
    y = net(x)
    print('y = ',y)
    err_sum = torch.sum((y - y_target) ** 2 / 2)
    print('err_sum = ', err_sum)
    err_sum.backward()
    optimizer.step()
    optimizer.zero_grad()
