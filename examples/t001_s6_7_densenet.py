"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 六.7: DenseNet.

conv_block (BatchNorm2d, ReLU, 3x3 conv), DenseBlock (each block's output concatenated to its
input on the channel dimension) and transition_block (BatchNorm2d, ReLU, 1x1 conv, AvgPool2d 2).
The text: a dense block with input channels 3 and two convolution blocks of 10 output channels
has 3 + 2 * 10 = 23 output channels. The book's checks (section 8.7; not in the notes):
DenseBlock(2, 3, 10) on a 4x3x8x8 input gives [4, 23, 8, 8]; transition_block(23, 10) halves it
to [4, 10, 4, 4]. The book's DenseNet built from them (b1, four dense blocks of 4 convolutions
with growth rate 32 and transition blocks halving the channels, BatchNorm2d, ReLU,
AdaptiveAvgPool2d, Flatten, Linear 248-10), also restored from the book, gives for a 1x1x96x96
input: [1, 64, 24, 24], then [1, 192, 24, 24], [1, 96, 12, 12], [1, 224, 12, 12],
[1, 112, 6, 6], [1, 240, 6, 6], [1, 120, 3, 3], [1, 248, 3, 3], ..., Linear [1, 10].
"""
import ember as torch
from ember import nn
from ember.nn import functional as F

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

def conv_block(input_channels, num_channels):
    return nn.Sequential(
        nn.BatchNorm2d(input_channels), nn.ReLU(),
        nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1))

class DenseBlock(nn.Module):
    def __init__(self, num_convs, input_channels, num_channels):
        super(DenseBlock, self).__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(
                num_channels * i + input_channels, num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            # 连接通道维度上每个块的输入和输出
            X = torch.cat((X, Y), dim=1)
        return X

def transition_block(input_channels, num_channels):
    return nn.Sequential(
        nn.BatchNorm2d(input_channels), nn.ReLU(),
        nn.Conv2d(input_channels, num_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2))

# ---- 书中 8.7 节 (不在笔记里) ----
blk = DenseBlock(2, 3, 10)
X = torch.randn(4, 3, 8, 8)
Y = blk(X)
print(Y.shape)

blk = transition_block(23, 10)
print(blk(Y).shape)

b1 = nn.Sequential(
    nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
    nn.BatchNorm2d(64), nn.ReLU(),
    nn.MaxPool2d(kernel_size=3, stride=2, padding=1))

# num_channels为当前的通道数
num_channels, growth_rate = 64, 32
num_convs_in_dense_blocks = [4, 4, 4, 4]
blks = []
for i, num_convs in enumerate(num_convs_in_dense_blocks):
    blks.append(DenseBlock(num_convs, num_channels, growth_rate))
    # 上一个稠密块的输出通道数
    num_channels += num_convs * growth_rate
    # 在稠密块之间添加一个转换层,使通道数量减半
    if i != len(num_convs_in_dense_blocks) - 1:
        blks.append(transition_block(num_channels, num_channels // 2))
        num_channels = num_channels // 2

net = nn.Sequential(
    b1, *blks,
    nn.BatchNorm2d(num_channels), nn.ReLU(),
    nn.AdaptiveAvgPool2d((1, 1)),
    nn.Flatten(),
    nn.Linear(num_channels, 10))

X = torch.rand(size=(1, 1, 96, 96))
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__,'output shape:\t', X.shape)

lr = 0.1

# ---- 训练: 一步 (adapted) ----
# The notes train with train_ch6 (section 五.6) on Fashion-MNIST, a later issue. Here: one step
# of train_ch6's loop (xavier_uniform_ init, SGD at the book's lr, CrossEntropyLoss) on a random
# batch of 2 images of the same size, which must give a finite loss and a gradient for
# every parameter.
def init_weights(m):
    if type(m) == nn.Linear or type(m) == nn.Conv2d:
        nn.init.xavier_uniform_(m.weight)
net.apply(init_weights)
optimizer = torch.optim.SGD(net.parameters(), lr=lr)
loss = nn.CrossEntropyLoss()
net.train()
X, y = torch.rand(size=(2, 1, 96, 96)), torch.randint(0, 10, (2,))
optimizer.zero_grad()
y_hat = net(X)
l = loss(y_hat, y)
l.backward()
optimizer.step()
print(y_hat.shape, f'loss {l.item():.3f}')
