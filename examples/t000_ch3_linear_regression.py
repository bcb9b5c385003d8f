"""Tutorial 000 ("深度学习框架与网络结构设计"), chapter 3: linear regression on three samples.

Part 1 generates the targets y = w x + b with w = [3.1, 4.2], b = 0.5
(the text prints y_target =  tensor([[13.5700, 38.7000, 70.5100]])).
Part 2 fits w and b to them by 30000 steps of gradient descent with manual updates
(w.data -= eta*w.grad). The text states that w and b end close to the generating values
(its last iteration prints w = [[3.2567, 4.0443]], b = [0.6755], sum_err = 9.4248e-05).
"""
import ember as torch

# ---- part 1: generate the sample data ----
w = torch.tensor([3.1, 4.2], dtype=torch.float32).unsqueeze(dim=0)
b = torch.tensor([0.5], dtype=torch.float32)
x = torch.tensor([[1.1, 4.6, 8.9], [2.3, 5.7, 10.1]], dtype=torch.float32)
y_target = torch.mm(w, x)+b
print('y_target = ', y_target)

# ---- part 2: fit w and b to the samples ----
x = torch.tensor([[1.1, 4.6, 8.9], [2.3, 5.7, 10.1]], dtype=torch.float32)
y_target = torch.tensor([13.5700, 38.7000, 70.5100], dtype=torch.float32)

w = torch.tensor([0.001, 0.003], dtype=torch.float32).unsqueeze(dim=0)
w.requires_grad_(requires_grad=True)
b = torch.tensor([0.005], dtype=torch.float32)
b.requires_grad_(requires_grad=True)

eta = 0.0001
for i in range(30000):
    # Adapted: the text prints these 7 lines on every one of the 30000 iterations (210,000
    # lines); its shown output is the first three iterations, "...", and the last one, so
    # only those are printed here. The computation is unchanged.
    show = i < 3 or i == 29999
    if i == 3:
        print('...')
    if show:
        print('-'*20)
        print('w =', w)
        print('b =', b)
    y = torch.mm(w, x) + b
    if show:
        print('y =', y)
    loss = (y - y_target) ** 2 / 2
    if show:
        print('loss = ', loss)
    sum_err = torch.sum(loss)
    if show:
        print('sum_err = ', sum_err)
    sum_err.backward()
    if show:
        print('w.grad=', w.grad)
    w.data -= eta*w.grad
    b.data -= eta*b.grad
    w.grad.data.zero_()
    b.grad.data.zero_()
