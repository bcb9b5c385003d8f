"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 三.4.2: dropout.

dropout_layer(X, p) keeps each element with probability 1 - p and divides the kept ones by
1 - p (torch.rand(X.shape) > dropout): on X = arange(16).reshape(2, 8) the text prints X
unchanged for p = 0, about half the elements zeroed and the rest doubled for p = 0.5, and all
zeros for p = 1. The scratch Net applies it after each hidden layer only while training; the
concise version uses nn.Dropout layers and net.apply(init_weights).

Adapted: the models' training needs Fashion-MNIST (a later issue); here each model is run on a
random batch of 2 images of 28x28 in training mode (dropout on) and evaluation mode (off).
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:
        return torch.zeros_like(X)
    if dropout == 0:
        return X
    mask = torch.rand(X.shape) > dropout
    return mask.float() * X / (1 - dropout)

X= torch.arange(16, dtype = torch.float32).reshape((2, 8))
print(X)
print(dropout_layer(X, 0.))
print(dropout_layer(X, 0.5))
print(dropout_layer(X, 1.))

# softmax: 二.4 节的定义
def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)  # 求和后保留被求和的维度
    return X_exp / partition

num_inputs, num_outputs, num_hiddens1, num_hiddens2 = 784, 10, 256, 256
dropout1, dropout2 = 0.2, 0.5

class Net(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2,
                 is_training = True):
        super(Net, self).__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        # 只有在训练模型时才使用dropout
        if self.training == True:
            # 在第一个全连接层之后添加一个dropout层
            H1 = dropout_layer(H1, dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:
            # 在第二个全连接层之后添加一个dropout层
            H2 = dropout_layer(H2, dropout2)
        out = self.lin3(H2)
        return softmax(out)

net = Net(num_inputs, num_outputs, num_hiddens1, num_hiddens2)

# 在随机输入上运行: 训练模式 (dropout) 与评估模式
X = torch.rand(2, 1, 28, 28)
print(net.training, net(X).shape)
net.eval()
print(net.training, torch.equal(net(X), net(X)))

# 简洁实现
net = nn.Sequential(nn.Flatten(),
                    nn.Linear(784, 256),
                    nn.ReLU(),
                    # 在第一个全连接层之后添加一个dropout层
                    nn.Dropout(dropout1),
                    nn.Linear(256, 256),
                    nn.ReLU(),
                    # 在第二个全连接层之后添加一个dropout层
                    nn.Dropout(dropout2),
                    nn.Linear(256, 10))

def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)

net.apply(init_weights);
print(net)

H = torch.ones(4, 1000)
print(net[3].training, net[3](H).unique())  # 被丢弃的为 0, 其余除以 1 - 0.2
net.eval()
print(net[3].training, torch.equal(net[3](H), H), torch.equal(net(X), net(X)))
