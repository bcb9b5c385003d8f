"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 三.3: concise MLP.

nn.Sequential(Flatten, Linear(784, 256), ReLU, Linear(256, 10)) with weights initialised by
nn.init.normal_(std=0.01) through net.apply, nn.CrossEntropyLoss(reduction='none') and SGD
(lr 0.1); print(net) shows the layers.

Adapted: the text trains 10 epochs on Fashion-MNIST (a later issue); here its training loop
runs one epoch over a single random batch of 8 images of 28x28 with random labels, and the
epoch line prints the loss (per-sample losses averaged) before and after the step in place of
evaluate_accuracy on the test set.
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

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
loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=lr)

# 一批随机数据代替 Fashion-MNIST
X_rand, y_rand = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
train_iter = [(X_rand, y_rand)]
num_epochs = 1
for epoch in range(num_epochs):
    with torch.no_grad():
        before = loss(net(X_rand), y_rand).mean()
    for X, y in train_iter:
        l = loss(net(X), y)  # X和y的小批量损失
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
    with torch.no_grad():
        after = loss(net(X_rand), y_rand).mean()
        print(f'epoch {epoch + 1}, loss {before:f} -> {after:f}')
print(l.shape)
