"""Tutorial 000 ("深度学习框架与网络结构设计"), chapter 5: AlexNet, the first deep CNN.

AlexNet (5 Conv2d with ReLU and MaxPool2d, then Linear 6400-4096-4096-10 with Dropout 0.5) is
trained with Adam (lr 1e-4) on a single 1x1x224x224 random sample towards the one-hot target
[1, 0, ..., 0]. The text prints err_sum falling from 0.5125 to 0.0186 and y[0] rising to 0.8332:
"err_sum 在逐渐变小, 且 y 值逐渐接近目标值, 符合预期".

Adapted: 10 training steps instead of 50 (see the loop). Dropout makes err_sum fluctuate from
step to step, but by step 10 it is a fraction of its starting value 0.5 and y[0] is near 1.
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible; the numbers still differ
# between libraries, whose random streams differ.
torch.manual_seed(0)

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

class AlexNet(nn.Module):
    def __init__(self):
        super(AlexNet, self).__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 96, 11, 4),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, 1, 2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, 1, 1),
            nn.ReLU(),
            nn.Conv2d(384, 384, 3, 1, 1),
            nn.ReLU(),
            nn.Conv2d(384, 256, 3, 1, 1),
            nn.ReLU(),
            nn.MaxPool2d(3, 2)
        )

        self.fc = nn.Sequential(
            nn.Linear(256*5*5, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 10),
        )

    def forward(self, img):
        feature = self.conv(img)
        output = self.fc(feature.view(img.shape[0], -1))
        return output

net = AlexNet()
lr= 0.0001
optimizer = torch.optim.Adam(net.parameters(), lr=lr)

# 只用一个样本演示训练效果, batch_size=1, channel=1, width=224, height=224
x = torch.randn(1, 1, 224, 224)
y_target = torch.tensor([1,0,0,0,0,0,0,0,0,0], dtype=torch.float32).unsqueeze(
    dim=0)

# Adapted: 10 steps instead of the text's 50 (each step of this 46-million-parameter network
# takes about a second on a CPU; err_sum has fallen well before step 10).
for i in range(10):
    print('-' * 20)
    x = x.to(device)
    y_target = y_target.to(device)
    y = net(x)
    print('y = ',y)
    err_sum = torch.sum((y - y_target) ** 2 / 2)
    print('err_sum = ', err_sum)
    err_sum.backward()
    optimizer.step()
    optimizer.zero_grad()
