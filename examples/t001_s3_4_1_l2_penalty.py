"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 三.4.1: L2 penalty (weight decay).

The notes give l2_penalty(w) = sum(w**2) / 2 added to the loss ("从零实现") and, for the concise
version, SGD with parameter groups where only net[0].weight has 'weight_decay': wd. They run
these on the book's high-dimensional linear regression, restored here from the book's section
(4.5): y = 0.05 + sum_i 0.01 x_i + noise with 200 inputs, only 20 training samples (so the model
overfits) and 100 test samples, batch 5, lr 0.003, 100 epochs, trained with lambd / wd = 0 and 3.
The outcome the book states: without the penalty the training loss falls to ~0 while the test
loss stays high (overfitting) and ||w|| is large; with lambd = 3 the test loss is far lower and
||w|| much smaller. Data, minibatches and the scratch model reuse the notes' section 二.1
(synthetic_data, data_iter, linear_reg, squared_loss, sgd).
"""
import random
import ember as torch
from ember import nn

# Fixed seeds (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)
random.seed(0)

# ---- 二.1 节的函数 ----
def synthetic_data(w, b, num_examples):  #@save
    """生成y=Xw+b+噪声"""
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))

def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))     # 样本下标
    random.shuffle(indices)                 # 打乱顺序
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]

def linear_reg(w, b, X):
    return torch.matmul(X, w) + b

def squared_loss(y_hat, y):
    return (y - y_hat.reshape(y.shape)) ** 2 / 2

def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()

# ---- 高维线性回归 (书中 4.5 节的数据) ----
n_train, n_test, num_inputs, batch_size = 20, 100, 200, 5
true_w, true_b = torch.ones((num_inputs, 1)) * 0.01, 0.05
train_data = synthetic_data(true_w, true_b, n_train)
test_data = synthetic_data(true_w, true_b, n_test)

def evaluate_loss(net, data, loss):
    """整个数据集上的平均损失"""
    with torch.no_grad():
        X, y = data
        return float(loss(net(X), y).mean())

# ---- 从零实现 ----
def init_params():
    w = torch.normal(0, 1, size=(num_inputs, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return [w, b]

def l2_penalty(w):
    return torch.sum(w.pow(2)) / 2

def train(lambd):
    w, b = init_params()
    net, loss = lambda X: linear_reg(w, b, X), squared_loss
    num_epochs, lr = 100, 0.003
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, *train_data):
            # 增加了L2范数惩罚项,
            # 广播机制使l2_penalty(w)成为一个长度为batch_size的向量
            l = loss(net(X), y) + lambd * l2_penalty(w)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
        if (epoch + 1) % 20 == 0:
            print(f'epoch {epoch + 1}, train loss {evaluate_loss(net, train_data, loss):f}, '
                  f'test loss {evaluate_loss(net, test_data, loss):f}')
    print('w的L2范数是:', torch.norm(w).item())

train(lambd=0)
train(lambd=3)

# ---- 简洁实现 ----
def train_concise(wd):
    net = nn.Sequential(nn.Linear(num_inputs, 1))
    for param in net.parameters():
        param.data.normal_()
    loss = nn.MSELoss(reduction='none')
    num_epochs, lr = 100, 0.003
    # 偏置参数没有衰减
    trainer = torch.optim.SGD([{"params":net[0].weight,'weight_decay': wd},{"params":net[0].bias}], lr=lr)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, *train_data):
            trainer.zero_grad()
            l = loss(net(X), y)
            l.mean().backward()
            trainer.step()
        if (epoch + 1) % 20 == 0:
            print(f'epoch {epoch + 1}, train loss {evaluate_loss(net, train_data, loss):f}, '
                  f'test loss {evaluate_loss(net, test_data, loss):f}')
    print('w的L2范数:', net[0].weight.norm().item())

train_concise(0)
train_concise(3)
