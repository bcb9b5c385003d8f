"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 六.3: NiN.

nin_block: a convolution followed by two 1x1 convolutions, each with ReLU; the network chains
four blocks (the last with 10 output channels) with MaxPool2d(3, stride=2) and Dropout(0.5),
then AdaptiveAvgPool2d((1, 1)) and Flatten. The layer-by-layer shapes for a 1x1x224x224 input
are the book's (section 7.3): Sequential [1, 96, 54, 54], MaxPool2d [1, 96, 26, 26], Sequential
[1, 256, 26, 26], MaxPool2d [1, 256, 12, 12], Sequential [1, 384, 12, 12], MaxPool2d
[1, 384, 5, 5], Dropout, Sequential [1, 10, 5, 5], AdaptiveAvgPool2d [1, 10, 1, 1], Flatten
[1, 10].
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# NiN 块
def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())

# NiN 网络
net = nn.Sequential(
    nin_block(1, 96, kernel_size=11, strides=4, padding=0),
    nn.MaxPool2d(3, stride=2),
    nin_block(96, 256, kernel_size=5, strides=1, padding=2),
    nn.MaxPool2d(3, stride=2),
    nin_block(256, 384, kernel_size=3, strides=1, padding=1),
    nn.MaxPool2d(3, stride=2),
    nn.Dropout(0.5),
    # 标签类别数是10
    nin_block(384, 10, kernel_size=3, strides=1, padding=1),
    nn.AdaptiveAvgPool2d((1, 1)),
    # 将四维的输出转成二维的输出,其形状为(批量大小,10)
    nn.Flatten())

# 各层的输出形状 (书中 7.3 节)
X = torch.rand(size=(1, 1, 224, 224))
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__,'output shape:\t', X.shape)

lr = 0.1

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
