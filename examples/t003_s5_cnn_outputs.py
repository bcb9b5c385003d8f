"""Tutorial 003 (PKU course slides), "如何输出网络中间层结果?" / "例子7": a CNN returning its intermediate outputs.

The CNN (conv1 1-16 5x5 pad 2, relu, 2x2 max-pool, conv2 16-32 5x5 pad 2, relu, 2x2 max-pool,
flatten, Linear 1568-10) first returns only its output, then [output, x1, x2, x3, x4, x5]. On a
1x1x28x28 input the slides print torch.Size([1, 10]), [1, 16, 28, 28], [1, 16, 14, 14],
[1, 32, 14, 14], [1, 32, 7, 7], [1, 1568].
"""
import ember as torch
import ember.nn as nn
import ember.nn.functional as F

# Fixed seed (not in the text) so that a run is reproducible.
torch.manual_seed(0)

class CNN(nn.Module):
    def __init__(self):
        super(CNN, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=1, out_channels=16, kernel_size=5, stride=1, padding=2)
        self.conv2 = nn.Conv2d(16, 32, 5, 1, 2)
        self.out = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = F.max_pool2d(x, (2,2))
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, (2,2))
        x = x.view(x.size(0), -1)
        output = self.out(x)
        return output

cnn = CNN()
print(cnn)
print(cnn(torch.randn(1,1,28,28)).shape)

# 例子7:输出神经网络的中间结果
class CNN(nn.Module):
    def __init__(self):
        super(CNN, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=1, out_channels=16, kernel_size=5, stride=1, padding=2)
        self.conv2 = nn.Conv2d(16, 32, 5, 1, 2)
        self.out = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x1 = self.conv1(x)
        x1 = F.relu(x1)
        x2 = F.max_pool2d(x1, (2,2))
        x3 = self.conv2(x2)
        x3 = F.relu(x3)
        x4 = F.max_pool2d(x3, (2,2))
        x5 = x4.view(x4.size(0), -1)
        output = self.out(x5)
        return [output, x1, x2, x3, x4, x5]

cnn = CNN()

input = torch.randn(1,1,28,28)
out, xx1, xx2, xx3, xx4, xx5 = cnn(input)
print(out.shape)
print(xx1.shape)
print(xx2.shape)
print(xx3.shape)
print(xx4.shape)
print(xx5.shape)
