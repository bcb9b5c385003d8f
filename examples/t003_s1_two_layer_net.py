"""Tutorial 003 (PKU course slides), homework "PyTorch搭建两层全连接网络": a two-layer network on y = x**2 + noise.

Data as on the slide: torch.manual_seed(1); x = 100 points in [-1, 1] (unsqueezed to 100x1);
y = x**2 + 0.2 * torch.rand(x.size()). The network of the homework's formulas:
h = X W1 + b1, h_sigmoid = sigmoid(h), Y_pred = h_sigmoid W2 + b2, f = ||Y - Y_pred||_F**2,
with 10 hidden units. Homework part 2 asks for the derivatives of f with respect to W1, b1, W2,
b2; written out (grads_by_hand) they are
    dY = 2 (Y_pred - Y),   dW2 = h_sigmoid^T dY,   db2 = sum_rows(dY),
    dH = (dY W2^T) * h_sigmoid * (1 - h_sigmoid),   dW1 = X^T dH,   db1 = sum_rows(dH),
and equal autograd's. Gradient descent with them (lr 0.002, 2000 steps) fits the parabola:
f falls from its starting value (hundreds) towards the noise floor: the best fit is x**2 + 0.1,
which leaves f = 100 * Var(0.2 u) = 100 * 0.04 / 12 ~ 0.33.

Adapted: the slide gives only the data, the formulas and the task ("补全两层全连接代码"); the
training loop here is written from them.
"""
import ember as torch

torch.manual_seed(1)    # reproducible

x = torch.unsqueeze(torch.linspace(-1, 1, 100), dim=1)
y = x.pow(2) + 0.2*torch.rand(x.size())

n_feature, n_hidden, n_output = 1, 10, 1
W1 = torch.randn(n_feature, n_hidden, requires_grad=True)
b1 = torch.zeros(n_hidden, requires_grad=True)
W2 = torch.randn(n_hidden, n_output, requires_grad=True)
b2 = torch.zeros(n_output, requires_grad=True)
params = [W1, b1, W2, b2]

def forward(X, W1, b1, W2, b2):
    h = X @ W1 + b1
    h_sigmoid = torch.sigmoid(h)
    Y_pred = h_sigmoid @ W2 + b2
    return h_sigmoid, Y_pred

def loss_fn(Y, Y_pred):
    return ((Y - Y_pred) ** 2).sum()    # ||Y - Y_pred||_F^2

def grads_by_hand(X, Y, W1, b1, W2, b2):
    """df/dW1, df/db1, df/dW2, df/db2 written out (homework part 2)."""
    with torch.no_grad():
        h_sigmoid, Y_pred = forward(X, W1, b1, W2, b2)
        dY = 2 * (Y_pred - Y)
        dW2 = h_sigmoid.t() @ dY
        db2 = dY.sum(0)
        dH = (dY @ W2.t()) * h_sigmoid * (1 - h_sigmoid)
        dW1 = X.t() @ dH
        db1 = dH.sum(0)
    return dW1, db1, dW2, db2

# 手写的导数与 autograd 的比较
_, y_pred = forward(x, *params)
f = loss_fn(y, y_pred)
f.backward()
for name, p, g in zip(['W1', 'b1', 'W2', 'b2'], params, grads_by_hand(x, y, *params)):
    print(name, tuple(g.shape), torch.allclose(p.grad, g, rtol=1e-4, atol=1e-5))

# 用手写的导数做梯度下降
lr = 0.002
for step in range(2000):
    grads = grads_by_hand(x, y, *params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p -= lr * g
    if step % 500 == 0 or step == 1999:
        with torch.no_grad():
            print(f'step {step}, f {loss_fn(y, forward(x, *params)[1]).item():.4f}')
