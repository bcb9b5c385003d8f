"""Tutorial 003 (PKU course slides), "小批量随机梯度下降" (W5_Regression_Batch): mini-batch SGD on y = x**2 + noise.

The slide's data: torch.manual_seed(1); x = torch.unsqueeze(torch.linspace(-1, 1, 10000000), dim=1);
y = x.pow(2) + 0.2*torch.rand(x.size()), fitted by the two-layer network (Net: Linear hidden,
sigmoid, Linear predict) with mini-batch gradient steps x <- x - eta * grad f_B(x), the batches
drawn by shuffling the sample indices (np.random.permutation, as in the slides' MNIST code).
The loss on the whole data set falls epoch by epoch towards the noise floor
Var(0.2 u) = 0.04 / 12 ~ 0.0033 (nn.MSELoss averages over the samples).

Adapted: 100,000 samples instead of 10,000,000 (10,000,000 samples take minutes per epoch on a
CPU, and the point - mini-batches of a large data set - is the same), batch 100, SGD lr 0.5,
3 epochs; np.random.seed(0) (not on the slide) makes the shuffles reproducible.
"""
import numpy as np
import ember as torch

torch.manual_seed(1)    # reproducible
np.random.seed(0)

N = 100000              # (adapted: the slide uses 10000000)
x = torch.unsqueeze(torch.linspace(-1, 1, N), dim=1)
y = x.pow(2) + 0.2*torch.rand(x.size())

class Net(torch.nn.Module):
    def __init__(self, n_feature, n_hidden, n_output):
        super(Net, self).__init__()
        self.hidden = torch.nn.Linear(n_feature, n_hidden)    # hidden layer
        self.predict = torch.nn.Linear(n_hidden, n_output)    # output layer

    def forward(self, x):
        x = torch.sigmoid(self.hidden(x))    # activation function for hidden layer
        x = self.predict(x)                  # linear output
        return x

net = Net(n_feature=1, n_hidden=10, n_output=1)
optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
loss_func = torch.nn.MSELoss()

EPOCH = 3
batch_size = 100
data_size = N
with torch.no_grad():
    print(f'epoch 0, loss {loss_func(net(x), y).item():.5f}')
for epoch in range(EPOCH):
    random_indx = np.random.permutation(data_size)
    for batch_i in range(data_size//batch_size):
        indx = random_indx[batch_i*batch_size:(batch_i+1)*batch_size]
        b_x = x[indx,:]
        b_y = y[indx]
        output = net(b_x)
        loss = loss_func(output, b_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        print(f'epoch {epoch + 1}, loss {loss_func(net(x), y).item():.5f}')
