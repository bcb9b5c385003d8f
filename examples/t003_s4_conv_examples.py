"""Tutorial 003 (PKU course slides), "例子1-6": PyTorch convolution layers (nn.Conv2d).

A 28x28 input through nn.Conv2d(in_channels, 5, kernel_size=3, ...): the slides print
1 (padding 1, stride 1): output [1, 5, 28, 28], 2 parameters weight [5, 1, 3, 3] and bias [5];
2 (padding 0): [1, 5, 26, 26]; 3 (stride 2): [1, 5, 14, 14]; 4 (bias=False): [1, 5, 14, 14]
and 1 parameter (weight only); 5 (3 input channels): [1, 5, 28, 28], weight [5, 3, 3, 3];
6 (batch 10): [10, 5, 28, 28].

Adapted: the slides' extraction wrote `output conv1` for output_conv1 in some examples.
"""
import ember as torch

# Fixed seed (not in the text) so that a run is reproducible.
torch.manual_seed(0)

# Convolution Example 1:
import ember.nn as nn
input = torch.randn(1,1,28,28) # (BatchSize, NumChannels, Height, Width)
conv1 = nn.Conv2d(in_channels=1, out_channels=5, kernel_size=3, padding=1, stride=1, bias=True)
output_conv1 = conv1(input)
print("Size of Input is", input.shape)
print("Size of Conv1 Output is",output_conv1.shape)
params = list(conv1.parameters())
print("The Number of Conv1 is %d " % len(params))
for name, parameters in conv1.named_parameters():
    print(name, ':', parameters.size())

# Convolution Example 2(padding=0):
import ember.nn as nn
input = torch.randn(1,1,28,28) # (BatchSize, NumChannels, Height, Width)
conv1 = nn.Conv2d(in_channels=1, out_channels=5, kernel_size=3, padding=0, stride=1, bias=True)
output_conv1 = conv1(input)
print("Size of Input is", input.shape)
print("Size of Conv1 Output is",output_conv1.shape)
params = list(conv1.parameters())
print("The Number of Conv1 is %d " % len(params))
for name, parameters in conv1.named_parameters():
    print(name, ':', parameters.size())

# Convolution Example 3(stride=2):
import ember.nn as nn
input = torch.randn(1,1,28,28) # (BatchSize, NumChannels, Height, Width)
conv1 = nn.Conv2d(in_channels=1, out_channels=5, kernel_size=3, padding=1, stride=2, bias=True)
output_conv1 = conv1(input)
print("Size of Input is", input.shape)
print("Size of Conv1 Output is",output_conv1.shape)
params = list(conv1.parameters())
print("The Number of Conv1 is %d " % len(params))
for name, parameters in conv1.named_parameters():
    print(name, ':', parameters.size())

# Convolution Example 4(bias=False):
input = torch.randn(1,1,28,28) # (BatchSize, NumChannels, Height, Width)
conv1 = nn.Conv2d(in_channels=1, out_channels=5, kernel_size=3, padding=1, stride=2, bias=False)
output_conv1 = conv1(input)
print("Size of Input is", input.shape)
print("Size of Conv1 Output is",output_conv1.shape)
params = list(conv1.parameters())
print("The Number of Conv1 is %d " % len(params))
for name, parameters in conv1.named_parameters():
    print(name, ':', parameters.size())

# Convolution Example 5(in_channels=3):
input = torch.randn(1,3,28,28) # (BatchSize, NumChannels, Height, Width)
conv1 = nn.Conv2d(in_channels=3, out_channels=5, kernel_size=3, padding=1, stride=1, bias=True)
output_conv1 = conv1(input)
print("Size of Input is", input.shape)
print("Size of Conv1 Output is",output_conv1.shape)
params = list(conv1.parameters())
print("The Number of Conv1 is %d " % len(params))
for name, parameters in conv1.named_parameters():
    print(name, ':', parameters.size())

# Convolution Example 6(BatchSize=10):
input = torch.randn(10,1,28,28) # (BatchSize, NumChannels, Height, Width)
conv1 = nn.Conv2d(in_channels=1, out_channels=5, kernel_size=3, padding=1, stride=1, bias=True)
output_conv1 = conv1(input)
print("Size of Input is", input.shape)
print("Size of Conv1 Output is",output_conv1.shape)
params = list(conv1.parameters())
print("The Number of Conv1 is %d " % len(params))
for name, parameters in conv1.named_parameters():
    print(name, ':', parameters.size())
