"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 三.1.2: activation functions.

relu, sigmoid and tanh on x = torch.arange(-5., 5., 0.1, requires_grad=True), each followed by
y.sum().backward() so that x.grad holds the derivative: relu'(x) = 1 for x > 0 and 0 for x <= 0,
sigmoid'(x) = y (1 - y), tanh'(x) = 1 - y**2 (the text's formulas).

Adapted: the text plots x against y and x.grad (d2l's plot); here the values at every 10th
point (x = -5, -4, ..., 4) are printed instead (no matplotlib).
"""
import ember as torch

def plot(X, Y, xlabel=None, ylabel=None, figsize=None, legend=None):
    """Stand-in for d2l.plot: prints the curves at every 10th point instead of drawing them."""
    print(ylabel)
    for name, y in zip(legend, Y):
        print(' ', name, y[::10])

# 常用激活函数
x = torch.arange(-5., 5., 0.1, requires_grad=True)
# relu
y = torch.relu(x)
y.sum().backward()
x_np = x.detach().numpy()
plot([x_np, x_np], [y.detach().numpy(), x.grad.numpy()],xlabel='x', ylabel='relu(x)',figsize=(12, 12), legend=['relu(x)', "relu'(x)"])

# sigmoid
y = torch.sigmoid(x)
x.grad.zero_()
y.sum().backward()
plot([x_np, x_np], [y.detach().numpy(), x.grad.numpy()],xlabel='x', ylabel='sigmoid(x)',figsize=(12, 12), legend=['sigmoid(x)', "sigmoid'(x)"])

# tanh
y = torch.tanh(x)
x.grad.zero_()
y.sum().backward()
plot([x_np, x_np], [y.detach().numpy(), x.grad.numpy()],xlabel='x', ylabel='tanh(x)',figsize=(12, 12), legend=['tanh(x)', "tanh'(x)"])
