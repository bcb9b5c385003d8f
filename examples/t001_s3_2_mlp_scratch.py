"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 三.2: MLP from scratch.

A 784-256-10 perceptron with parameters made with nn.Parameter (whose requires_grad is True),
relu written as torch.max(X, zeros_like(X)), and softmax on the output (softmax from section 二.4
of the notes).

Adapted: training "同上一章 softmax 回归" needs Fashion-MNIST (a later issue); here the model
is run on a random batch of 4 images of 28x28 and one minibatch step of the notes' sgd is taken
with their cross_entropy: the output is 4x10, each row sums to 1, every parameter gets a gradient.
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# 初始化模型参数
num_inputs, num_outputs, num_hiddens = 784, 10, 256
W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
params = [W1, b1, W2, b2]

# softmax, cross_entropy 和 sgd: 二.4 / 二.1 节的定义
def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)  # 求和后保留被求和的维度
    return X_exp / partition

def cross_entropy(y, y_hat):
    return -torch.log(y_hat[range(len(y_hat)), y])

def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()

# 定义模型
def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)

def net(X):
    X = X.reshape((-1, num_inputs))
    H = relu(X @ W1 + b1)
    return softmax(H @ W2 + b2)

print([type(p).__name__ for p in params], [p.requires_grad for p in params])

# 在随机的一批图像上运行 (代替 Fashion-MNIST)
X = torch.rand(4, 1, 28, 28)
y = torch.tensor([0, 3, 7, 9])
y_hat = net(X)
print(y_hat.shape, y_hat.sum(1))
l = cross_entropy(y, y_hat)
l.sum().backward()
print([p.grad.shape for p in params])
sgd(params, 0.1, 4)
print(cross_entropy(y, net(X)).sum() < l.sum())
