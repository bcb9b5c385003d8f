"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 六.5: batch normalization.

batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum) normalises with the
minibatch mean and (biased) variance per feature (2-D input) or per channel (4-D input) while
gradients are enabled, updates the moving averages with momentum 0.9, and uses the moving
averages when gradients are disabled (prediction); BatchNorm wraps it with the parameters gamma
(ones) and beta (zeros). The LeNet with BatchNorm after every convolution and hidden linear
layer, written with this BatchNorm and with nn.BatchNorm2d / nn.BatchNorm1d, is the book's
(section 8.5; not in the notes); its layer-by-layer shapes for a 2x1x28x28 input end in
Linear [2, 10].

Adapted: the book trains it on Fashion-MNIST (a later issue); here one step of train_ch6's loop
on a random batch of 4 images.
"""
import ember as torch
from ember import nn
from ember.nn import functional as F

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    # 通过is_grad_enabled来判断当前模式是训练模式还是预测模式
    if not torch.is_grad_enabled():
        # 如果是在预测模式下,直接使用传入的移动平均所得的均值和方差
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            # 使用全连接层的情况,计算特征维上的均值和方差
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            # 使用二维卷积层的情况,计算通道维上(axis=1)的均值和方差。
            # 这里我们需要保持X的形状以便后面可以做广播运算
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        # 训练模式下,用当前的均值和方差做标准化
        X_hat = (X - mean) / torch.sqrt(var + eps)
        # 更新移动平均的均值和方差
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta  # 缩放和移位
    return Y, moving_mean.data, moving_var.data

class BatchNorm(nn.Module):
    # num_features:完全连接层的输出数量或卷积层的输出通道数。
    # num_dims:2表示完全连接层,4表示卷积层
    def __init__(self, num_features, num_dims):
        super().__init__()
        if num_dims == 2:
            shape = (1, num_features)
        else:
            shape = (1, num_features, 1, 1)
        # 参与求梯度和迭代的拉伸和偏移参数,分别初始化成1和0
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        # 非模型参数的变量初始化为0和1
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X):
        # 如果X不在内存上,将moving_mean和moving_var
        # 复制到X所在显存上
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        # 保存更新过的moving_mean和moving_var
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean,
            self.moving_var, eps=1e-5, momentum=0.9)
        return Y

# 训练模式下: 每个通道均值 0, 方差 1; 预测模式下用移动平均
bn = BatchNorm(3, num_dims=4)
X = torch.rand(4, 3, 5, 5) * 10 + 3
Y = bn(X)
print(Y.shape, Y.mean(dim=(0, 2, 3)).abs().max().item() < 1e-5,
      ((Y ** 2).mean(dim=(0, 2, 3)) - 1).abs().max().item() < 1e-3)
print(bn.moving_mean.shape, [name for name, _ in bn.named_parameters()])
with torch.no_grad():
    print(bn(X).shape)

# ---- 使用批量规范化层的 LeNet (书中 8.5 节, 不在笔记里) ----
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5), BatchNorm(6, num_dims=4), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), BatchNorm(16, num_dims=4), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(16*4*4, 120), BatchNorm(120, num_dims=2), nn.Sigmoid(),
    nn.Linear(120, 84), BatchNorm(84, num_dims=2), nn.Sigmoid(),
    nn.Linear(84, 10))

X = torch.rand(size=(2, 1, 28, 28))
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__,'output shape:\t', X.shape)

# 简明实现
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
    nn.Linear(84, 10))
print(net)

lr = 1.0

# ---- 训练: 一步 (adapted) ----
# The notes train with train_ch6 (section 五.6) on Fashion-MNIST, a later issue. Here: one step
# of train_ch6's loop (xavier_uniform_ init, SGD at the book's lr, CrossEntropyLoss) on a random
# batch of 4 images of the same size, which must give a finite loss and a gradient for
# every parameter.
def init_weights(m):
    if type(m) == nn.Linear or type(m) == nn.Conv2d:
        nn.init.xavier_uniform_(m.weight)
net.apply(init_weights)
optimizer = torch.optim.SGD(net.parameters(), lr=lr)
loss = nn.CrossEntropyLoss()
net.train()
X, y = torch.rand(size=(4, 1, 28, 28)), torch.randint(0, 10, (4,))
optimizer.zero_grad()
y_hat = net(X)
l = loss(y_hat, y)
l.backward()
optimizer.step()
print(y_hat.shape, f'loss {l.item():.3f}')
