"""Tutorial 002 (DNN and CNN course notes), CNN chapter 二: LeNet-5 on MNIST.

The data as in the DNN chapter (ToTensor, Normalize(0.1307, 0.3081), datasets.MNIST) in
DataLoader batches of 256; LeNet-5 in nn.Sequential inside a CNN module (C1 Conv2d 1-6 5x5 pad 2,
Tanh, S2 AvgPool2d 2, C3 Conv2d 6-16 5x5, Tanh, S4 AvgPool2d 2, C5 Conv2d 16-120 5x5, Tanh,
Flatten, F6 Linear 120-84, Tanh, Linear 84-10). The text prints the layer-by-layer shapes for
X = torch.rand(1, 1, 28, 28) (Out [6]): Conv2d [1, 6, 28, 28], Tanh, AvgPool2d [1, 6, 14, 14],
Conv2d [1, 16, 10, 10], Tanh, AvgPool2d [1, 16, 5, 5], Conv2d [1, 120, 1, 1], Tanh,
Flatten [1, 120], Linear [1, 84], Tanh, Linear [1, 10]. Training: CrossEntropyLoss, SGD lr 0.9,
5 epochs; the test loop as in the DNN chapter. The text's outcome: 测试集精准度: 97.93999481201172 %.

Adapted: the data and model stay on the CPU (the text moves them to 'cuda:0'); the data is read
from (and downloaded to) $EMBER_TEST_DATA or ~/.cache/ember/data instead of
'D:/Jupyter/dataset/mnist/'; the loss curve is not plotted (no matplotlib): the number of
minibatches and the first and last losses are printed instead. (t002_cnn_s2_lenet5.py is the
same network run on one random batch.)
Not in the text: EMBER_TUTORIAL_LIMIT / EMBER_TUTORIAL_TEST_LIMIT (the first N training / test
images) and EMBER_TUTORIAL_EPOCHS let the tests run the program on part of MNIST; unset, it runs
in full as in the text.
"""
import os
import ember as torch
import ember.nn as nn
from ember.utils.data import DataLoader
from ember.vision import transforms
from ember.vision import datasets

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# (not in the text) where MNIST is kept, and how much of it the run uses
root = os.environ.get('EMBER_TEST_DATA', os.path.expanduser('~/.cache/ember/data'))
limit = int(os.environ.get('EMBER_TUTORIAL_LIMIT', 0))
test_limit = int(os.environ.get('EMBER_TUTORIAL_TEST_LIMIT', 0))

# ---- 2.2 制作数据集 ----
# 数据集转换参数
transform = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize(0.1307, 0.3081)
])

# 下载训练集与测试集
train_Data = datasets.MNIST(
    root = root, # 下载路径 (adapted: 'D:/Jupyter/dataset/mnist/')
    train = True, # 是 train 集
    download = True, # 如果该路径没有该数据集，就下载
    transform = transform # 数据集转换参数
)
test_Data = datasets.MNIST(
    root = root, # 下载路径 (adapted: 'D:/Jupyter/dataset/mnist/')
    train = False, # 是 test 集
    download = True, # 如果该路径没有该数据集，就下载
    transform = transform # 数据集转换参数
)
if limit: # (not in the text) 只用前 limit 个训练样本
    train_Data = torch.utils.data.Subset(train_Data, range(limit))
if test_limit: # (not in the text) 只用前 test_limit 个测试样本
    test_Data = torch.utils.data.Subset(test_Data, range(test_limit))

# 批次加载器
train_loader = DataLoader(train_Data, shuffle=True, batch_size=256)
test_loader = DataLoader(test_Data, shuffle=False, batch_size=256)

# ---- 2.3 搭建神经网络 ----
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

# ---- 2.4 训练网络 ----
# 损失函数的选择
loss_fn = nn.CrossEntropyLoss() # 自带 softmax 激活函数

# 优化算法的选择
learning_rate = 0.9 # 设置学习率
optimizer = torch.optim.SGD(
    model.parameters(),
    lr = learning_rate,
)

# 训练网络
epochs = int(os.environ.get('EMBER_TUTORIAL_EPOCHS', 5)) # (the text: epochs = 5)
losses = [] # 记录损失函数变化的列表

for epoch in range(epochs):
    for (x, y) in train_loader: # 获取小批次的 x 与 y
        x, y = x.to('cpu'), y.to('cpu') # (adapted: 'cuda:0' -> 'cpu')
        Pred = model(x) # 一次前向传播 (小批量)
        loss = loss_fn(Pred, y) # 计算损失函数
        losses.append(loss.item()) # 记录损失函数的变化
        optimizer.zero_grad() # 清理上一轮滞留的梯度
        loss.backward() # 一次反向传播
        optimizer.step() # 优化内部参数

# (adapted) 代替损失函数的曲线图
print(f'{len(losses)} 个小批次, 第一个损失 {losses[0]:.4f}, 最后一个损失 {losses[-1]:.4f}')

# ---- 2.5 测试网络 ----
correct = 0
total = 0

with torch.no_grad():          # 该局部关闭梯度计算功能
    for (x, y) in test_loader:  # 获取小批次的 x 与 y
        x, y = x.to('cpu'), y.to('cpu') # (adapted: 'cuda:0' -> 'cpu')
        Pred = model(x)        # 一次前向传播 (小批量)
        _, predicted = torch.max(Pred.data, dim=1)
        correct += torch.sum( (predicted == y) )
        total += y.size(0)

print(f'测试集精准度: {100*correct/total} %')
