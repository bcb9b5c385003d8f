"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 一.1: data manipulation.

Tensor creation (arange, numel, shape, reshape, zeros, ones, rand, tensor), elementwise
operators, exp, sum, ==, cat along dim 0 and 1, broadcasting, indexing and slicing (reading
and assigning), in-place operations that save memory, and conversion to NumPy / Python
scalars. The text shows the printed values, e.g. torch.arange(12) ->
tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11]), torch.Size([12]),
x ** y -> tensor([ 1.,  4., 16., 64.]), and tensor([3.5000]) 3.5 3.5 3.
"""
import ember as torch

# ---- 1.1 入门 ----
# 创建行向量
x = torch.arange(12)
print(x)

# 元素的数量
print(x.numel())
# 张量的形状
print(x.shape)
# 更改形状
print(x.reshape(3, 4))

# 全零张量
print(torch.zeros((2, 3, 4)))
# 全一张量
print(torch.ones((2, 3, 4)))
# 随机数张量
print(torch.rand((2, 3, 4)))
# 创建时初始化
print(torch.tensor([[2, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]]))

# ---- 1.2 运算符 ----
x = torch.tensor([1.0, 2, 4, 8])
y = torch.tensor([2, 2, 2, 2])
# 四则运算
print(x + y, x - y, x * y, x / y, x ** y)
# 自然指数
print(torch.exp(x))
# 求和
print(torch.sum(x))
# 逻辑运算
print(x == y)

# 张量连接
X = torch.arange(12, dtype=torch.float32).reshape((3,4))
Y = torch.tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
# 按行 (3, 4) 和 (3, 4) 连接成 (6, 4)
print(torch.cat((X, Y), dim=0))
# 按列 (3, 4) 和 (3, 4) 连接成 (3, 8)
print(torch.cat((X, Y), dim=1))

# ---- 1.3 广播机制 ----
# 简单版
a = torch.arange(3).reshape((3, 1))
b = torch.arange(2).reshape((1, 2))
print(a)
print(b)
print(a + b, '\n')
# 复杂版
# 从尾部维度数起,d最后一个维度为1,c与d倒数第二个维度相等,d倒数第三个维度不存在。故可广播
c = torch.arange(12).reshape((2, 3, 2))
d = torch.arange(3).reshape((3, 1))
print(c)
print(d)
print(c + d)

# ---- 1.4 索引和切片 ----
# 索引和切片,同 numpy
X = torch.arange(12, dtype=torch.float32).reshape((3, 4))
print(X)
# 利用切片取值
print(X[-1])    # 相当于 X[X.shape[0] - 1]
print(X[1: 3])  # 左闭右开 X[a, b] 相当于 [a, b)
# 利用切片赋值
X[1, 2] = 9
print(X)
X[0:2, :] = 12
print(X)

# ---- 1.5 节省内存 ----
# The text lists only the three statements; the id() checks around them (True/False) come
# from the "Dive into Deep Learning" section the notes follow.
before = id(X)
# 浪费内存的写法
X = X + Y
print(id(X) == before)
before = id(X)
# 节省内存的写法
X += Y
print(id(X) == before)
X[:] = X + Y
print(id(X) == before)
print(X)

# ---- 1.6 转换为其它 Python 对象 ----
A = X.numpy()
# ndarray 转 tensor
B = torch.tensor(A)
print(type(A), type(B))
# 使用 .item() 取单个元素为 Python 基本类型元素
a = torch.tensor([3.5])
print(a, a.item(), float(a), int(a))
