"""Tutorial 003 (PKU course slides), "模型保存" (W5/W6_Save_Model): saving the whole net vs only its parameters.

A Net (hidden: Linear(1, 10), predict: Linear(10, 1)) is trained on y = x**2 + noise, then
1. torch.save(net, 'net_all.pkl') saves the entire net; net2 = torch.load('net_all.pkl');
2. torch.save(net.state_dict(), 'net_params.pkl') saves only the parameters; net3 is a new
   Net(n_feature=1, n_hidden=10, n_output=1) that load_state_dict(torch.load('net_params.pkl')).
print(net2) and print(net3) both show
Net(
  (hidden): Linear(in_features=1, out_features=10, bias=True)
  (predict): Linear(in_features=10, out_features=1, bias=True)
)
and both predict exactly what net predicts (the slides plot the three fits; here they are
compared).

Adapted: the training (the slides' Save_Model notebook: 100 SGD steps, lr 0.5, MSELoss) is
written from the course's regression example; the files go to a temporary directory; the plots
are left out (no matplotlib); torch.load of a whole module needs weights_only=False
(PyTorch >= 2.6, and ember).
"""
import os
import tempfile
import ember as torch

torch.manual_seed(1)    # reproducible

x = torch.unsqueeze(torch.linspace(-1, 1, 100), dim=1)
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

# save net
net = Net(n_feature=1, n_hidden=10, n_output=1)
optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
loss_func = torch.nn.MSELoss()
for t in range(100):
    prediction = net(x)
    loss = loss_func(prediction, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f'loss {loss.item():.4f}')

tmp = tempfile.TemporaryDirectory()    # (adapted: the slides write to the working directory)
net_all, net_params = os.path.join(tmp.name, 'net_all.pkl'), os.path.join(tmp.name, 'net_params.pkl')

torch.save(net, net_all)    # save entire net
torch.save(net.state_dict(), net_params)    # save only the parameters

# restore entire net
# (adapted: weights_only=False, which PyTorch >= 2.6 and ember need to load a whole module)
net2 = torch.load(net_all, weights_only=False)
prediction2 = net2(x)
print(net2)

# restore only the net parameters
net3 = Net(n_feature=1, n_hidden=10, n_output=1)    # define the network
# copy net's parameters into net3
net3.load_state_dict(torch.load(net_params))
prediction3 = net3(x)
print(net3)

prediction = net(x)
print(torch.equal(prediction, prediction2), torch.equal(prediction, prediction3))
print(type(net2).__name__, net2 is not net, list(net3.state_dict().keys()))
tmp.cleanup()
