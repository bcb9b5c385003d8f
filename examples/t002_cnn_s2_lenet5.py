"""Tutorial 002 (DNN and CNN course notes), CNN chapter 二: LeNet-5.

LeNet-5 in nn.Sequential (C1 Conv2d 1-6 5x5 pad 2, Tanh, S2 AvgPool2d 2, C3 Conv2d 6-16 5x5,
Tanh, S4 AvgPool2d 2, C5 Conv2d 16-120 5x5, Tanh, Flatten, F6 Linear 120-84, Tanh, Linear 84-10)
inside a CNN module. The text prints the layer-by-layer shapes for X = torch.rand(1, 1, 28, 28):
Conv2d [1, 6, 28, 28], Tanh, AvgPool2d [1, 6, 14, 14], Conv2d [1, 16, 10, 10], Tanh,
AvgPool2d [1, 16, 5, 5], Conv2d [1, 120, 1, 1], Tanh, Flatten [1, 120], Linear [1, 84], Tanh,
Linear [1, 10] - as the output-size formula OH = (H + 2P - FH) / S + 1 gives.

Adapted: training and testing need MNIST (a later issue) and are left out; the model stays on
the CPU (the text moves it to 'cuda:0'). One step of the text's training loop (CrossEntropyLoss,
SGD lr 0.9) on a random batch of 4 images stands in for it.
"""
import ember as torch
import ember.nn as nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

class CNN(nn.Module):
    def __init__(self):
        super(CNN,self).__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Tanh(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(16, 120, kernel_size=5), nn.Tanh(),
            nn.Flatten(),
            nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, 10)
        )

    def forward(self, x):
        y = self.net(x)
        return y

# 查看网络结构
X = torch.rand(size=(1, 1, 28, 28))
for layer in CNN().net:
    X = layer(X)
    print( layer.__class__.__name__, 'output shape: \t', X.shape )

# 创建子类的实例，并搬到 GPU 上 (adapted: 'cuda:0' -> 'cpu')
model = CNN().to('cpu')
print(model)

# 损失函数的选择
loss_fn = nn.CrossEntropyLoss() # 自带 softmax 激活函数
# 优化算法的选择
learning_rate = 0.9 # 设置学习率
optimizer = torch.optim.SGD(
    model.parameters(),
    lr = learning_rate,
)

# (adapted) one step of the training loop on a random batch in place of MNIST
x, y = torch.rand(4, 1, 28, 28), torch.tensor([3, 1, 4, 1])
Pred = model(x) # 一次前向传播 (小批量)
loss = loss_fn(Pred, y) # 计算损失函数
optimizer.zero_grad() # 清理上一轮滞留的梯度
loss.backward() # 一次反向传播
optimizer.step() # 优化内部参数
print(Pred.shape, f'loss {loss.item():.4f}')
