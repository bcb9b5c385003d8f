"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 六.2: VGG-11.

vgg_block(num_convs, in_channels, out_channels) stacks 3x3 convolutions (padding 1) with ReLU and
ends with MaxPool2d(2, 2); vgg(conv_arch) chains five blocks with conv_arch
((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)) and the fully connected part
Linear(512*7*7, 4096)-4096-10 with Dropout 0.5. The layer-by-layer shapes for a 1x1x224x224
input are the book's (section 7.2): Sequential [1, 64, 112, 112], [1, 128, 56, 56],
[1, 256, 28, 28], [1, 512, 14, 14], [1, 512, 7, 7], Flatten [1, 25088], Linear [1, 4096], ...,
Linear [1, 10].
As the book does, the training step uses the narrower network vgg(small_conv_arch) with a
quarter of the channels (VGG-11 itself costs about 7.6 GFLOPs per 224x224 image).
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# 卷积和池化层组成的块
def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels,
                                kernel_size=3, padding=1))
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2,stride=2))
    return nn.Sequential(*layers)

# 每一块的 卷积层数/输出通道数
conv_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))

# 构建 VGG 网络
def vgg(conv_arch):
    conv_blks = []
    in_channels = 1
    # 卷积层部分
    for (num_convs, out_channels) in conv_arch:
        conv_blks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels

    return nn.Sequential(
        *conv_blks, nn.Flatten(),
        # 全连接层部分
        nn.Linear(out_channels * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 10))

net = vgg(conv_arch)

# 各层的输出形状 (书中 7.2 节)
X = torch.randn(size=(1, 1, 224, 224))
for blk in net:
    X = blk(X)
    print(blk.__class__.__name__,'output shape:\t',X.shape)

# 书中 7.2 节: VGG-11 比 AlexNet 计算量更大, 训练时用一个通道数较少的网络
ratio = 4
small_conv_arch = [(pair[0], pair[1] // ratio) for pair in conv_arch]
net = vgg(small_conv_arch)

lr = 0.05

# ---- 训练: 一步 (adapted) ----
# The notes train with train_ch6 (section 五.6) on Fashion-MNIST, a later issue. Here: one step
# of train_ch6's loop (xavier_uniform_ init, SGD at the book's lr, CrossEntropyLoss) on a random
# batch of 1 image of the same size, which must give a finite loss and a gradient for
# every parameter.
def init_weights(m):
    if type(m) == nn.Linear or type(m) == nn.Conv2d:
        nn.init.xavier_uniform_(m.weight)
net.apply(init_weights)
optimizer = torch.optim.SGD(net.parameters(), lr=lr)
loss = nn.CrossEntropyLoss()
net.train()
X, y = torch.rand(size=(1, 1, 224, 224)), torch.randint(0, 10, (1,))
optimizer.zero_grad()
y_hat = net(X)
l = loss(y_hat, y)
l.backward()
optimizer.step()
print(y_hat.shape, f'loss {l.item():.3f}')
