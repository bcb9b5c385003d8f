"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), section 3.5: the MNIST image classification data set.

torchvision.datasets.MNIST (train and test) with transforms.ToTensor(): the training set has
60000 images (mnist_train.__len__()), an item is a (1, 28, 28) float32 tensor in [0, 1] and an
int label; mnist_test.data[0] is the raw 28x28 uint8 image and mnist_test.test_labels[0] its
label (the deprecated name of targets). DataLoaders of 256 (training set shuffled) read with
num_workers = 4 worker processes (0 on Windows).

Adapted: the notebook's bare expressions (mnist_train.__len__(), ...) are printed; plt.imshow is
left out (no plot); the loaders are exercised by printing the shapes of their first batches
(the text's timing loop is commented out in it, and stays so). The data is read from (and
downloaded to) $EMBER_TEST_DATA or ~/.cache/ember/data instead of 'D:/temp/MNIST_data' with
download_mnist = False.
Not in the text: EMBER_TUTORIAL_LIMIT / EMBER_TUTORIAL_TEST_LIMIT (the first N training / test
images in the loaders) for the tests; unset, the loaders hold all of MNIST as in the text.
"""
# coding: utf-8
import os
import ember as torch
import ember.vision as torchvision
import ember.vision.transforms as transforms
import time
import sys

# Fixed seed (not in the text) so that a run is reproducible.
torch.manual_seed(0)

# (not in the text) where MNIST is kept, and how much of it the loaders use
root = os.environ.get('EMBER_TEST_DATA', os.path.expanduser('~/.cache/ember/data'))
limit = int(os.environ.get('EMBER_TUTORIAL_LIMIT', 0))
test_limit = int(os.environ.get('EMBER_TUTORIAL_TEST_LIMIT', 0))

# 通过torchvision的`torchvision.datasets`来下载这个数据集。第一次调用时会自动从网上获取数据。
download_mnist = True  # (adapted: False)
mnist_train = torchvision.datasets.MNIST(root=root, train=True, download=download_mnist, transform=transforms.ToTensor())
mnist_test = torchvision.datasets.MNIST(root=root, train=False, download=download_mnist, transform=transforms.ToTensor())

# 样本数量
print(mnist_train.__len__(), len(mnist_test))
# 读取样本
feature, label = mnist_train[0]
print(feature.shape, feature.dtype, feature.min().item(), feature.max().item(), label)
# 读入样本图片data
feature=mnist_test.data[0]
print(feature.shape, feature.dtype)
# 读入样本对应标签
label = mnist_test.test_labels[0]
print(label)
# 显示图片 (adapted: no plot)
# plt.imshow(mnist_test.data[0])

## 读取小批量
if limit:  # (not in the text) 只用前 limit 个训练样本
    mnist_train = torch.utils.data.Subset(mnist_train, range(limit))
if test_limit:  # (not in the text) 只用前 test_limit 个测试样本
    mnist_test = torch.utils.data.Subset(mnist_test, range(test_limit))
batch_size = 256
if sys.platform.startswith('win'):
    num_workers = 0  # 0表示不用额外的进程来加速读取数据
else:
    num_workers = 4
train_iter = torch.utils.data.DataLoader(mnist_train, batch_size=batch_size, shuffle=True, num_workers=num_workers)
test_iter = torch.utils.data.DataLoader(mnist_test, batch_size=batch_size, shuffle=False, num_workers=num_workers)

# (adapted) 第一个小批量
for X, y in train_iter:
    print(X.shape, X.dtype, y.shape, y.dtype)
    break
X, y = next(iter(test_iter))
print(X.shape, y[:10])

# start = time.time()
# for X, y in train_iter:
#     continue
# print('%.2f sec' % (time.time() - start))
