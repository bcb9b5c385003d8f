"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 三.3: MLP, concise, trained.

net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)) with
nn.init.normal_(std=0.01) weights; batch_size, lr, num_epochs = 256, 0.1, 10;
nn.CrossEntropyLoss(reduction='none'), torch.optim.SGD, the loop of section 二.5, printing the
test accuracy after each epoch. The notes state no accuracy for it.

Adapted: the loaders are made with this batch_size (the notes reuse train_iter); evaluate_accuracy
calls net(X). (t001_s3_3_mlp_concise.py is the same model run on one random batch.)
The data is read from (and downloaded to) $EMBER_TEST_DATA or ~/.cache/ember/data instead of
"../data". The dataset class is the variable FashionMNIST, torchvision.datasets.FashionMNIST
unless EMBER_TUTORIAL_DATASET names another class of torchvision.datasets: the tests set it to
MNIST, as Fashion-MNIST cannot be downloaded where they run.
Not in the text: EMBER_TUTORIAL_LIMIT / EMBER_TUTORIAL_TEST_LIMIT (the first N training / test
images) and EMBER_TUTORIAL_EPOCHS for the tests; unset, the program runs in full as in the text.
"""
import os
import ember as torch
import ember.vision as torchvision
from ember import nn
from ember.utils import data
from ember.vision import transforms

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

# (not in the text) where the data is kept, which data set, and how much of it the run uses
root = os.environ.get('EMBER_TEST_DATA', os.path.expanduser('~/.cache/ember/data'))
FashionMNIST = getattr(torchvision.datasets, os.environ.get('EMBER_TUTORIAL_DATASET', 'FashionMNIST'))
limit = int(os.environ.get('EMBER_TUTORIAL_LIMIT', 0))
test_limit = int(os.environ.get('EMBER_TUTORIAL_TEST_LIMIT', 0))

# 读取 Fashion-MINST 数据集: 二.4 节的定义
def load_data_fashion_mnist(batch_size, resize=None):
    """下载Fashion-MNIST数据集,然后将其加载到内存中"""
    trans = [transforms.ToTensor()]
    if resize:
        trans.insert(0, transforms.Resize(resize))
    trans = transforms.Compose(trans)
    mnist_train = FashionMNIST(
        root=root, train=True, transform=trans, download=True)
    mnist_test = FashionMNIST(
        root=root, train=False, transform=trans, download=True)
    if limit:  # (not in the text)
        mnist_train = data.Subset(mnist_train, range(limit))
    if test_limit:  # (not in the text)
        mnist_test = data.Subset(mnist_test, range(test_limit))
    return (data.DataLoader(mnist_train, batch_size, shuffle=True),
            data.DataLoader(mnist_test, batch_size, shuffle=False))

# accuracy, Accumulator 和 evaluate_accuracy: 二.4 节的定义
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

def evaluate_accuracy(net, data_iter):
    """计算在指定数据集上模型的精度"""
    if isinstance(net, torch.nn.Module):
        net.eval()  # 将模型设置为评估模式
    metric = Accumulator(2)  # 正确预测数、预测总数
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())  # (adapted: net(W, b, X) in 二.4)
    return metric[0] / metric[1]

# 定义模型,初始化模型参数
net = nn.Sequential(nn.Flatten(),
                    nn.Linear(784, 256),
                    nn.ReLU(),
                    nn.Linear(256, 10))

def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)

net.apply(init_weights)
print(net)
# 定义损失函数
batch_size, lr, num_epochs = 256, 0.1, 10
num_epochs = int(os.environ.get('EMBER_TUTORIAL_EPOCHS', num_epochs))  # (not in the text)
train_iter, test_iter = load_data_fashion_mnist(batch_size)  # (adapted)
loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=lr)
for epoch in range(num_epochs):
    for X, y in train_iter:
        l = loss(net(X), y)  # X和y的小批量损失
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
    with torch.no_grad():
        acc = evaluate_accuracy(net, test_iter)
        print(f'epoch {epoch + 1}, acc {acc:f}')
