"""Tutorial 001 (notes on "Dive into Deep Learning", PyTorch edition), section 五.3: padding and stride.

comp_conv2d reshapes an 8x8 X to (1, 1, 8, 8), applies the layer and drops the first two
dimensions of the result. The text prints torch.Size([8, 8]) (3x3 kernel, padding 1),
torch.Size([3, 3]) (3x3 kernel, stride 2) and torch.Size([2, 2]) (kernel (3, 5), padding (0, 1),
stride (3, 4)), following H_out = (H_in + 2P - K) / S + 1 (floored).
"""
import ember as torch
from ember import nn

# Fixed seed (not in the text) so that a run is reproducible.
torch.manual_seed(0)

def comp_conv2d(conv2d, X):
    # 这里的(1,1)表示批量大小和通道数都是1
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    # 省略前两个维度:批量大小和通道
    return Y.reshape(Y.shape[2:])

# 填充
conv2d = nn.Conv2d(1, 1, kernel_size=3, padding=1)
X = torch.rand(size=(8, 8))
print(comp_conv2d(conv2d, X).shape)
# 步幅
conv2d = nn.Conv2d(1, 1, kernel_size=3, stride=2)
X = torch.rand(size=(8, 8))
print(comp_conv2d(conv2d, X).shape)

# 复杂示例
conv2d = nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))
# X.shape = (8, 8)
# 正常经过 conv2d 输出的 shape 为 (6, 4)
# 由于 padding 是 (0, 1) 那么输入的 shape 变为 (8, 10)
# 那么 stride 为 1 时输出 (6, 6)
# stride 为 (3, 4) 时,输出为 (2, 2)
print(comp_conv2d(conv2d, X).shape)
