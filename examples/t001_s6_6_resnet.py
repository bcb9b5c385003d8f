"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 六.6: ResNet.

Residual: two 3x3 convolutions with BatchNorm2d, an optional 1x1 convolution on the shortcut,
Y += X, relu. The book's checks (section 8.6; not in the notes): Residual(3, 3) keeps a
4x3x6x6 input's shape, Residual(3, 6, use_1x1conv=True, strides=2) gives [4, 6, 3, 3]. Its
resnet_block and ResNet-18 (b1: 7x7 conv, BatchNorm2d, ReLU, max-pool; b2-b5: resnet blocks;
AdaptiveAvgPool2d, Flatten, Linear 512-10), also restored from the book, give the block-by-block
shapes for a 1x1x224x224 input: [1, 64, 56, 56], [1, 64, 56, 56], [1, 128, 28, 28],
[1, 256, 14, 14], [1, 512, 7, 7], AdaptiveAvgPool2d [1, 512, 1, 1], Flatten [1, 512],
Linear [1, 10].
"""
import ember as torch
from ember import nn
from ember.nn import functional as F

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

class Residual(nn.Module):  #@save
    def __init__(self, input_channels, num_channels,
                 use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels,
                               kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels,
                               kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels,
                                   kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)

# ---- 书中 8.6 节 (不在笔记里) ----
blk = Residual(3,3)
X = torch.rand(4, 3, 6, 6)
Y = blk(X)
print(Y.shape)

blk = Residual(3,6, use_1x1conv=True, strides=2)
print(blk(X).shape)

b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
                   nn.BatchNorm2d(64), nn.ReLU(),
                   nn.MaxPool2d(kernel_size=3, stride=2, padding=1))

def resnet_block(input_channels, num_channels, num_residuals,
                 first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels,
                                use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk

b2 = nn.Sequential(*resnet_block(64, 64, 2, first_block=True))
b3 = nn.Sequential(*resnet_block(64, 128, 2))
b4 = nn.Sequential(*resnet_block(128, 256, 2))
b5 = nn.Sequential(*resnet_block(256, 512, 2))

net = nn.Sequential(b1, b2, b3, b4, b5,
                    nn.AdaptiveAvgPool2d((1,1)),
                    nn.Flatten(), nn.Linear(512, 10))

X = torch.rand(size=(1, 1, 224, 224))
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__,'output shape:\t', X.shape)

lr = 0.05

# ---- 训练: 一步 (adapted) ----
# The notes train with train_ch6 (section 五.6) on Fashion-MNIST, a later issue. Here: one step
# of train_ch6's loop (xavier_uniform_ init, SGD at the book's lr, CrossEntropyLoss) on a random
# batch of 2 images of 96x96 (the size the book trains on), which must give a finite loss and
# a gradient for every parameter.
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
