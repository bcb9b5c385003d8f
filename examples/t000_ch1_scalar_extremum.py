"""Tutorial 000 ("深度学习框架与网络结构设计"), chapter 1: the simplest extremum problem.

Minimise y = (x - 2)**2 / 2 by gradient descent with autograd (eta = 0.4, 15 steps).
The text states that x converges to 2.0 (its last printed value is 1.9984387159347534).
"""
import ember as torch
import numpy as np

# Fixed seed (not in the text) so the starting point, and so every printed value, is reproducible.
np.random.seed(0)

# x是一个张量Tensor, 只有一个元素
x = torch.tensor(np.random.normal(0, 0.01, (1, 1)), dtype=torch.float32)
# 需要计算x的梯度, 以便对x进行优化
x.requires_grad_(requires_grad=True)

# 学习速率
eta = 0.4
for i in range(15):
    print('x=', x.data.item())
    y = (x-2)**2/2
    # 反向计算梯度
    y.backward()
    # 根据梯度, 对x进行优化
    x.data -= eta*x.grad
    # 对x的梯度进行清零, 以便进入下一轮优化
    x.grad.data.zero_()
