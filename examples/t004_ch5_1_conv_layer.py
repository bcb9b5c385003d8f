"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 5.1: the 2-D convolution layer learns a kernel.

corr2d (cross-correlation) on X = [[0, 1, 2], [3, 4, 5], [6, 7, 8]] with K = [[0, 1], [2, 3]] gives
19, 25, 37, 43 (the text's worked example). Conv2D holds a random weight and bias (nn.Parameter)
and computes corr2d(x, weight) + bias. From the edge-detection data (X: 6x8 ones with columns 2-5
zero, Y = corr2d(X, [[1, -1]])) a Conv2D(kernel_size=(1, 2)) learns the kernel by 20 steps of
gradient descent (lr 0.01) on the squared error: the text prints Step 5, loss 1.844 / Step 10,
loss 0.206 / Step 15, loss 0.023 / Step 20, loss 0.003 and weight ~ [[0.9948, -1.0092]],
bias ~ [0.0080] ("学到的卷积核的权重参数与我们之前定义的核数组K较接近，而偏置参数接近0").

Adapted: the notes omit the code of sections 5.1.1 and 5.1.3 (corr2d, the worked example and the
edge-detection X, K, Y) that this program needs; it is restored from the book.
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# ---- 5.1.1 二维互相关运算 (书中代码) ----
def corr2d(X, K):  # 本函数已保存在d2lzh_pytorch包中方便以后使用
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
    return Y

X = torch.tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
K = torch.tensor([[0, 1], [2, 3]])
print(corr2d(X, K))

# ---- 5.1.2 二维卷积层 ----
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super(Conv2D, self).__init__()
        self.weight = nn.Parameter(torch.randn(kernel_size))
        self.bias = nn.Parameter(torch.randn(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias

# ---- 5.1.3 图像中物体边缘检测 (书中代码) ----
X = torch.ones(6, 8)
X[:, 2:6] = 0
K = torch.tensor([[1, -1]])
Y = corr2d(X, K)
print(Y)

# ---- 5.1.4 通过数据学习核数组 ----
# 构造一个核数组形状是(1, 2)的二维卷积层
conv2d = Conv2D(kernel_size=(1, 2))

step = 20
lr = 0.01
for i in range(step):
    Y_hat = conv2d(X)
    l = ((Y_hat - Y) ** 2).sum()
    l.backward()

    # 梯度下降
    conv2d.weight.data -= lr * conv2d.weight.grad
    conv2d.bias.data -= lr * conv2d.bias.grad

    # 梯度清0
    conv2d.weight.grad.fill_(0)
    conv2d.bias.grad.fill_(0)
    if (i + 1) % 5 == 0:
        print('Step %d, loss %.3f' % (i + 1, l.item()))

print("weight: ", conv2d.weight.data)
print("bias: ", conv2d.bias.data)
