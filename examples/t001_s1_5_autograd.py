"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 一.5: automatic differentiation.

5.1 y = 2 * dot(x, x): the text prints tensor(28., grad_fn=<MulBackward0>) and
    x.grad = tensor([ 0.,  4.,  8., 12.]), i.e. x.grad == 4 * x; after zero_() all zeros.
5.2 non-scalar y = x * x, backward through y.sum(): x.grad = tensor([0., 2., 4., 6.]).
5.3 detach: without it x.grad = 3 x**2 = tensor([ 0.,  3., 12., 27.]) (== y only at x = 0);
    with u = y.detach(), z = u * x gives x.grad == u, all True.
5.4 gradient through Python control flow: f is piecewise linear in a, so a.grad == d / a,
    the text prints tensor(True) (a is random; see the note there).
"""
import ember as torch

# ---- 5.1 基本用法 ----
# 设置自动微分
# 方式一:定义时设置
x = torch.arange(4.0, requires_grad=True)
# 方式二:.requeres_grad(True)
# x = torch.arange(4.0)
# x.requires_grad(True)
y = 2 * torch.dot(x, x)
print(y)    # 此时,y 是一个计算图
# 可对 y 求导
y.backward()
print(x.grad)
# Added from the "Dive into Deep Learning" section the notes follow: the gradient is 4x.
print(x.grad == 4 * x)
# 默认梯度会积累,一般需要将梯度清空
x.grad.zero_()
print(x.grad)

# ---- 5.2 非标量的反向传播 ----
# 非标量的反向传播 需要 .sum() 求和
x = torch.arange(4.0, requires_grad=True)
y = x * x
y.sum().backward()
print(x.grad)
x.grad.zero_()

# ---- 5.3 分离计算 ----
# 没有使用分离计算
x = torch.arange(4.0, requires_grad=True)
y = x * x
z = y * x
z.sum().backward()
print(x.grad, x.grad == y)
# 使用分离计算
x = torch.arange(4.0, requires_grad=True)
y = x * x
u = y.detach()
z = u * x
z.sum().backward()
print(x.grad, x.grad == u)

# ---- 5.4 Python 控制流得梯度计算 ----
# f(a) 是关于 a 得分段线性函数
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c

# Fixed seed (not in the text) so that a run is reproducible. With a < 0, f returns 100 * b,
# whose float32 rounding can make the exact comparison below print tensor(False) (about one
# run in twelve without a seed); a.grad still equals d / a to float32 precision.
torch.manual_seed(0)
a = torch.randn(size=(), requires_grad=True)
d = f(a)
d.backward()
print(a.grad == d / a)
