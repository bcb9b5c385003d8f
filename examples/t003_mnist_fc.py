"""Tutorial 003 (PKU course slides), W6_MNIST_FC: a fully connected MNIST classifier, batched by hand.

torchvision.datasets.MNIST with transforms.ToTensor(); the slides take the whole training set as
one tensor, torch.unsqueeze(train_data.train_data, dim=1).type(torch.FloatTensor)/255. (the
deprecated train_data / train_labels attributes), and train FC (Linear 784-256, relu,
Linear 256-10) with Adam (LR = 0.001) and CrossEntropyLoss for EPOCH = 1 on the first
data_size = 20000 images, in batches of 50 taken from np.random.permutation(data_size).

Adapted: the slides (a picture of two code columns) stop after the training loop and print
nothing; here the loss of the last batch is printed and, after training, the test set is
classified the way the course's notebooks do it (test_data.test_data / test_labels, torch.max(.., 1)[1],
NumPy comparison) and the test accuracy printed. The slides' typos are fixed (`___init___`,
`Ir=LR`, `loss func`, `b y`, `batch size`). The data is read from (and downloaded to)
$EMBER_TEST_DATA or ~/.cache/ember/data instead of './mnist/'.
Not in the text: np.random.seed(1), so that both libraries see the same batches;
EMBER_TUTORIAL_LIMIT (data_size), EMBER_TUTORIAL_TEST_LIMIT (the first N test images) and
EMBER_TUTORIAL_EPOCHS (EPOCH) for the tests; unset, the program runs as in the text.
"""
import os
import ember as torch
import ember.nn as nn
import ember.utils.data as Data
import ember.vision as torchvision
import ember.nn.functional as F
import numpy as np

torch.manual_seed(1)
np.random.seed(1)  # (not in the text)

# (not in the text) where MNIST is kept, and how much of it the run uses
root = os.environ.get('EMBER_TEST_DATA', os.path.expanduser('~/.cache/ember/data'))
limit = int(os.environ.get('EMBER_TUTORIAL_LIMIT', 0))
test_limit = int(os.environ.get('EMBER_TUTORIAL_TEST_LIMIT', 0))

EPOCH = int(os.environ.get('EMBER_TUTORIAL_EPOCHS', 1))  # (the text: EPOCH = 1)
LR = 0.001
DOWNLOAD_MNIST = True

train_data = torchvision.datasets.MNIST(
    root=root,  # (adapted: './mnist/')
    train=True,
    transform=torchvision.transforms.ToTensor(),
    download=DOWNLOAD_MNIST,
)
test_data = torchvision.datasets.MNIST(root=root, train=False)

train_x = torch.unsqueeze(train_data.train_data, dim=1).type(torch.FloatTensor)/255.
train_y = train_data.train_labels
print(train_x.shape, train_x.dtype, train_y.shape, train_y.dtype)

class FC(nn.Module):
    def __init__(self):
        super(FC, self).__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        output = x
        return output

fc = FC()
optimizer = torch.optim.Adam(fc.parameters(), lr=LR)
loss_func = nn.CrossEntropyLoss()
data_size = limit or 20000  # (the text: data_size = 20000)
batch_size = 50

for epoch in range(EPOCH):
    random_indx = np.random.permutation(data_size)
    for batch_i in range(data_size//batch_size):
        indx = random_indx[batch_i*batch_size:(batch_i+1)*batch_size]
        b_x = train_x[indx,:]
        b_y = train_y[indx]
        output = fc(b_x)
        loss = loss_func(output, b_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print('Epoch: ', epoch, '| train loss: %.4f' % loss.data.numpy())  # (adapted)

# (adapted) 测试: not in the slides
test_x = torch.unsqueeze(test_data.test_data, dim=1).type(torch.FloatTensor)/255.
test_y = test_data.test_labels
if test_limit:
    test_x, test_y = test_x[:test_limit], test_y[:test_limit]
test_output = fc(test_x)
pred_y = torch.max(test_output, 1)[1].data.numpy()
accuracy = float((pred_y == test_y.data.numpy()).astype(int).sum()) / float(test_y.size(0))
print('test accuracy: %.4f' % accuracy)
