"""Tutorial 000 ("深度学习框架与网络结构设计"), chapter 2: extremum of a function of a vector.

Minimise y = x0**2 + x1**2 + 4*x0 + 5*x1 + 3 for x = [[x0, x1]], writing x0**2 + x1**2 as
torch.mm(x, x.t()). The text states that the minimum is at [x0, x1] = [-2, -2.5]
(the last printed lines are x= tensor([[-2.0000, -2.5000]], requires_grad=True)).
"""
import ember as torch
import numpy as np

# Fixed seed (not in the text) so the starting point, and so every printed value, is reproducible.
np.random.seed(0)

x = torch.tensor(np.random.normal(0, 0.01, (1, 2)), dtype=torch.float32)
x.requires_grad_(requires_grad=True)

eta = 0.4
for i in range(10):
    print('x=', x)
    y = torch.mm(x, x.t())+4*x[0,0]+5*x[0,1]+3
    y.backward()
    x.data -= eta*x.grad
    x.grad.data.zero_()
