"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 五.6: LeNet.

LeNet (Conv2d 1-6 5x5 pad 2, Sigmoid, AvgPool2d 2, Conv2d 6-16 5x5, Sigmoid, AvgPool2d 2,
Flatten, Linear 400-120-84-10 with Sigmoid), written as nn.Sequential and as a LeNet class, and
train_ch6 (xavier_uniform_ init through net.apply, SGD, CrossEntropyLoss, evaluate_accuracy_gpu
with the Accumulator and accuracy of section 二.4, state_dict saved to 'lenet_state_dict').
The layer-by-layer shapes on a 1x1x28x28 input are the book's (section 6.6):
Conv2d [1, 6, 28, 28], Sigmoid, AvgPool2d [1, 6, 14, 14], Conv2d [1, 16, 10, 10], Sigmoid,
AvgPool2d [1, 16, 5, 5], Flatten [1, 400], Linear [1, 120], Sigmoid, Linear [1, 84], Sigmoid,
Linear [1, 10].

Adapted: the text trains 10 epochs on Fashion-MNIST with batch 256, lr 0.9, on 'cuda'; here
train_ch6 runs unchanged for 1 epoch over one random batch of 4 images (test set: the same batch)
on the CPU, inside a temporary directory (it saves the state_dict to the current directory).
"""
import contextlib
import tempfile
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# 模型定义
net = nn.Sequential(nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
                    nn.AvgPool2d(kernel_size=2, stride=2),
                    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
                    nn.AvgPool2d(kernel_size=2, stride=2),
                    nn.Flatten(),
                    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
                    nn.Linear(120, 84), nn.Sigmoid(),
                    nn.Linear(84, 10))

# 各层的输出形状 (书中 6.6 节)
X = torch.rand(size=(1, 1, 28, 28), dtype=torch.float32)
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__,'output shape: \t',X.shape)

# 或者
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)
        self.sigmoid = nn.Sigmoid()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, X):
        X = self.sigmoid(self.conv1(X))
        X = self.pool(X)
        X = self.sigmoid(self.conv2(X))
        X = self.pool(X)
        X = self.flatten(X)
        X = self.sigmoid(self.fc1(X))
        X = self.sigmoid(self.fc2(X))
        return self.fc3(X)

net = LeNet()
print(net)

# accuracy 和 Accumulator: 二.4 节的定义
def accuracy(y_hat, y):
    """计算预测正确的数量"""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)        # 得到每一行最大的下标
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())   # 预测正确返回1,否则返回0

class Accumulator:  #@save
    """在n个变量上累加"""
    def __init__(self, n):
        self.data = [0.0] * n
    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]
    def reset(self):
        self.data = [0.0] * len(self.data)
    def __getitem__(self, idx):
        return self.data[idx]

def evaluate_accuracy_gpu(net, data_iter, device=None):
    if isinstance(net, torch.nn.Module):
        net.eval()
        if not device:
            device = next(iter(net.parameters())).device    # 未指定设备时,自动寻找设备
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            # 将数据复制到网络所在的设备
            if isinstance(X, list):
                X = [x.to(device) for x in X]
            else:
                X = X.to(device)
            y = y.to(device)
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]

# 训练
def train_ch6(net, train_iter, test_iter, num_epochs, lr, device):
    """用GPU训练模型(在第六章定义)"""
    # 初始化参数
    def init_weights(m):
        if type(m) == nn.Linear or type(m) == nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)
    net.apply(init_weights)
    print('training on', device)
    net.to(device)
    # 定义损失函数和优化算法
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    # 训练
    for epoch in range(num_epochs):
        net.train()
        for i, (X, y) in enumerate(train_iter):
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
        with torch.no_grad():
            acc = evaluate_accuracy_gpu(net, test_iter)
            print(f'epoch {epoch + 1}, acc {acc:f}')
    # 保存模型
    torch.save(net.state_dict(), 'lenet_state_dict')

batch_size, lr, num_epochs = 256, 0.9, 10
# Adapted: one random batch in place of Fashion-MNIST, 1 epoch, on the CPU.
batch = (torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3]))
train_iter, test_iter = [batch], [batch]
num_epochs = 1
with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
    train_ch6(net, train_iter, test_iter, num_epochs, lr, 'cpu')
    state_dict = torch.load('lenet_state_dict')
print(list(state_dict.keys()))
