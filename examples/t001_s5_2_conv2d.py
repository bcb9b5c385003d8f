"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 五.2: image convolution.

conv2d(X, K) (the cross-correlation written with two loops) and a Conv2D layer with a random
kernel nn.Parameter(torch.rand(kernel_size)) and a zero bias, on X = arange(16).reshape(4, 4):
the output is 3x3 (the text prints its values for its random kernel). Edge detection: X is
4x8 with ones in columns 2-5, K = [[1, -1]]; conv2d(X, K) is -1 where X steps 0 -> 1 and 1
where it steps 1 -> 0, as the text prints: every row [0, -1, 0, 0, 0, 1, 0].

The book's next step (not in the notes, restored from the book's section 6.2.4) learns K back
from X and Y = conv2d(X, K) with nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False), 10 steps of
gradient descent (lr 3e-2) on the squared error: the loss falls and the kernel approaches
[[1, -1]].
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# 卷积操作定义
def conv2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i+h, j:j+w] * K).sum()
    return Y

# 卷积层定义
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.kernel = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return conv2d(X, self.kernel) + self.bias

X = torch.arange(16).reshape(4, 4)
conv2dLayer = Conv2D(kernel_size=(2, 2))
print(X)
print(conv2dLayer.kernel)
print(conv2dLayer(X))

# 边缘检测
X = torch.zeros((4, 8))
X[:, 2:6] = 1
K = torch.tensor([[1, -1]])
print(X, '\n', K)
print(conv2d(X, K))

# ---- 书中 6.2.4 节 (不在笔记里): 学习卷积核 ----
Y = conv2d(X, K)
# 构造一个二维卷积层,它具有1个输出通道和形状为(1,2)的卷积核
conv2d_layer = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)

# 这个二维卷积层使用四维输入和输出格式(批量大小、通道、高度、宽度),
# 其中批量大小和通道数都为1
X = X.reshape((1, 1, 4, 8))
Y = Y.reshape((1, 1, 4, 7))
lr = 3e-2  # 学习率

for i in range(10):
    Y_hat = conv2d_layer(X)
    l = (Y_hat - Y) ** 2
    conv2d_layer.zero_grad()
    l.sum().backward()
    # 迭代卷积核
    conv2d_layer.weight.data[:] -= lr * conv2d_layer.weight.grad
    if (i + 1) % 2 == 0:
        print(f'epoch {i+1}, loss {l.sum():.3f}')

print(conv2d_layer.weight.data.reshape((1, 2)))
