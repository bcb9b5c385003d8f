"""The tutorials' networks (D2L's and the course notes'), as constructors with `num_classes` and `in_channels`.

These are the `ember` command's zoo, not torchvision's models (those are ember.vision.models): where a
tutorial network shares a torchvision name (AlexNet, VGG-11, GoogLeNet, ResNet-18) the zoo calls it
'<name>-d2l'. Each docstring gives the input size the network is designed for. `MODELS` maps the names the
`ember` command uses to (constructor, input size, default training settings).
"""
from collections import OrderedDict

from ember import nn
from ember.nn import functional as F
from ember.ops.shape import cat


def softmax_regression(num_classes=10, in_channels=1, image_size=28):
    """Softmax regression (D2L 3.6): one linear layer on the flattened image. Input 28×28."""
    return nn.Sequential(nn.Flatten(), nn.Linear(in_channels * image_size * image_size, num_classes))


def mlp(num_classes=10, in_channels=1, hidden=256, image_size=28):
    """Multilayer perceptron 784-256-10 with ReLU (D2L 4.3). Input 28×28."""
    return nn.Sequential(nn.Flatten(), nn.Linear(in_channels * image_size * image_size, hidden), nn.ReLU(),
                         nn.Linear(hidden, num_classes))


def dnn(num_classes=10, in_channels=1, image_size=28):
    """The course notes' DNN 784-512-256-128-64-10 with ReLU (tutorial 002). Input 28×28."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(in_channels * image_size * image_size, 512), nn.ReLU(),
        nn.Linear(512, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, num_classes))


def lenet(num_classes=10, in_channels=1):
    """LeNet as in D2L 6.6: sigmoid activations, average pooling. Input 28×28."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, num_classes))


def lenet5(num_classes=10, in_channels=1):
    """LeNet-5 as in the course notes (tutorial 002): tanh, average pooling, C5 as a 5×5 conv. Input 28×28."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), nn.Tanh(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(16, 120, kernel_size=5), nn.Tanh(),
        nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, num_classes))


def lenet_bn(num_classes=10, in_channels=1):
    """LeNet with batch normalisation after each conv and hidden linear layer (D2L 8.5). Input 28×28."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5), nn.BatchNorm2d(6), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.Linear(256, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
        nn.Linear(84, num_classes))


def alexnet(num_classes=10, in_channels=1):
    """AlexNet as in D2L 8.1 (one input channel, 10 classes by default). Input 224×224."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2), nn.Flatten(),
        nn.Linear(6400, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, num_classes))


def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def vgg11(num_classes=10, in_channels=1, ratio=1):
    """VGG-11 as in D2L 8.2; `ratio` divides every channel count (the text trains ratio=4). Input 224×224."""
    conv_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))
    blocks, c_in = [], in_channels
    for num_convs, c_out in conv_arch:
        c_out //= ratio
        blocks.append(vgg_block(num_convs, c_in, c_out))
        c_in = c_out
    hidden = 4096 // ratio
    return nn.Sequential(
        *blocks, nn.Flatten(),
        nn.Linear(c_in * 7 * 7, hidden), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(hidden, num_classes))


def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())


def nin(num_classes=10, in_channels=1):
    """Network in Network as in D2L 8.3. Input 224×224."""
    return nn.Sequential(
        nin_block(in_channels, 96, kernel_size=11, strides=4, padding=0),
        nn.MaxPool2d(3, stride=2),
        nin_block(96, 256, kernel_size=5, strides=1, padding=2),
        nn.MaxPool2d(3, stride=2),
        nin_block(256, 384, kernel_size=3, strides=1, padding=1),
        nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.5),
        nin_block(384, num_classes, kernel_size=3, strides=1, padding=1),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten())


class Inception(nn.Module):
    """Four parallel paths (1×1; 1×1→3×3; 1×1→5×5; 3×3 max-pool→1×1), concatenated on channels."""

    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return cat((p1, p2, p3, p4), dim=1)


def googlenet(num_classes=10, in_channels=1):
    """GoogLeNet as in D2L 8.4. Input 96×96."""
    b1 = nn.Sequential(nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(nn.Conv2d(64, 64, kernel_size=1), nn.ReLU(),
                       nn.Conv2d(64, 192, kernel_size=3, padding=1), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b3 = nn.Sequential(Inception(192, 64, (96, 128), (16, 32), 32),
                       Inception(256, 128, (128, 192), (32, 96), 64),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b4 = nn.Sequential(Inception(480, 192, (96, 208), (16, 48), 64),
                       Inception(512, 160, (112, 224), (24, 64), 64),
                       Inception(512, 128, (128, 256), (24, 64), 64),
                       Inception(512, 112, (144, 288), (32, 64), 64),
                       Inception(528, 256, (160, 320), (32, 128), 128),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b5 = nn.Sequential(Inception(832, 256, (160, 320), (32, 128), 128),
                       Inception(832, 384, (192, 384), (48, 128), 128),
                       nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())
    return nn.Sequential(b1, b2, b3, b4, b5, nn.Linear(1024, num_classes))


class Residual(nn.Module):
    """The residual block of D2L 8.6: two 3×3 convs with batch norm, plus an optional 1×1 shortcut conv."""

    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)


def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    blocks = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blocks.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blocks.append(Residual(num_channels, num_channels))
    return nn.Sequential(*blocks)


def resnet18(num_classes=10, in_channels=1):
    """ResNet-18 as in D2L 8.6. Input 96×96 (works on 224×224 and on 28×28 too)."""
    b1 = nn.Sequential(nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3), nn.BatchNorm2d(64),
                       nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    return nn.Sequential(
        b1,
        resnet_block(64, 64, 2, first_block=True),
        resnet_block(64, 128, 2),
        resnet_block(128, 256, 2),
        resnet_block(256, 512, 2),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, num_classes))


def conv_block(input_channels, num_channels):
    return nn.Sequential(nn.BatchNorm2d(input_channels), nn.ReLU(),
                         nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    """Each conv block's output is concatenated onto its input (D2L 8.7)."""

    def __init__(self, num_convs, input_channels, num_channels):
        super().__init__()
        self.net = nn.Sequential(*[conv_block(num_channels * i + input_channels, num_channels)
                                   for i in range(num_convs)])

    def forward(self, X):
        for blk in self.net:
            X = cat((X, blk(X)), dim=1)
        return X


def transition_block(input_channels, num_channels):
    return nn.Sequential(nn.BatchNorm2d(input_channels), nn.ReLU(),
                         nn.Conv2d(input_channels, num_channels, kernel_size=1),
                         nn.AvgPool2d(kernel_size=2, stride=2))


def densenet(num_classes=10, in_channels=1, growth_rate=32, num_convs_in_dense_blocks=(4, 4, 4, 4)):
    """DenseNet as in D2L 8.7. Input 96×96."""
    b1 = nn.Sequential(nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3), nn.BatchNorm2d(64),
                       nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    num_channels = 64
    blks = []
    for i, num_convs in enumerate(num_convs_in_dense_blocks):
        blks.append(DenseBlock(num_convs, num_channels, growth_rate))
        num_channels += num_convs * growth_rate
        if i != len(num_convs_in_dense_blocks) - 1:
            blks.append(transition_block(num_channels, num_channels // 2))
            num_channels //= 2
    return nn.Sequential(b1, *blks, nn.BatchNorm2d(num_channels), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)),
                         nn.Flatten(), nn.Linear(num_channels, num_classes))


def mnist_cnn(num_classes=10, in_channels=1):
    """A small CNN for MNIST's best accuracy on a CPU: three convs with BatchNorm, dropout. Input 28×28."""
    # the 5x5 first conv works on the full 28x28 image; the two 3x3 convs after the first pool carry
    # most of the computation at 12x12 and 10x10, where it is cheap (see README: the best MNIST model)
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, kernel_size=5, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.MaxPool2d(2),                                                                  # 24 -> 12
        nn.Conv2d(32, 64, kernel_size=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),      # 12 -> 10
        nn.Conv2d(64, 64, kernel_size=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),      # 10 -> 8
        nn.MaxPool2d(2),                                                                  # 8 -> 4
        nn.Flatten(),
        nn.Linear(64 * 4 * 4, 128, bias=False), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.4),
        nn.Linear(128, num_classes))


class ModelSpec:
    """How the `ember` command builds and trains a model by default (the tutorials' settings where they
    train it; otherwise settings that reach good accuracy on MNIST quickly on a CPU)."""

    def __init__(self, build, input_size, epochs, batch_size, lr, optimizer="sgd", momentum=0.0,
                 weight_decay=0.0, init=None, schedule="none", augment="none", label_smoothing=0.0,
                 description=""):
        self.build = build
        self.input_size = input_size      # (H, W) the images are resized to
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.init = init                  # 'xavier' re-initialises Linear/Conv2d weights as D2L does
        self.schedule = schedule          # 'cosine' anneals the learning rate to zero over the epochs,
        #                                   'onecycle' warms it up then anneals it, batch by batch
        self.augment = augment            # 'shift' (2-pixel shifts) or 'affine' (rotation, scale, shift)
        self.label_smoothing = label_smoothing
        self.description = description or (build.__doc__ or "").strip().split("\n")[0]


MODELS = OrderedDict([
    ("softmax", ModelSpec(softmax_regression, (28, 28), 10, 256, 0.1)),
    ("mlp", ModelSpec(mlp, (28, 28), 10, 256, 0.1)),
    ("dnn", ModelSpec(dnn, (28, 28), 10, 64, 0.01, momentum=0.5)),
    ("lenet", ModelSpec(lenet, (28, 28), 12, 128, 0.003, optimizer="adam", init="xavier", schedule="cosine")),
    ("lenet5", ModelSpec(lenet5, (28, 28), 10, 128, 0.003, optimizer="adam", schedule="cosine")),
    ("lenet-bn", ModelSpec(lenet_bn, (28, 28), 10, 256, 1.0)),
    ("alexnet-d2l", ModelSpec(alexnet, (224, 224), 10, 128, 0.01)),
    ("vgg11-d2l", ModelSpec(lambda num_classes=10, in_channels=1: vgg11(num_classes, in_channels, ratio=4),
                        (224, 224), 10, 128, 0.05, description="VGG-11 with channels / 4 (D2L 8.2). Input 224×224.")),
    ("nin", ModelSpec(nin, (224, 224), 10, 128, 0.1)),
    ("googlenet-d2l", ModelSpec(googlenet, (96, 96), 10, 128, 0.1)),
    ("resnet18-d2l", ModelSpec(resnet18, (96, 96), 10, 256, 0.05)),
    ("densenet", ModelSpec(densenet, (96, 96), 10, 256, 0.1)),
    ("mnist-cnn", ModelSpec(mnist_cnn, (28, 28), 8, 128, 0.1, momentum=0.9, weight_decay=5e-4, schedule="onecycle",
                            augment="affine", label_smoothing=0.1)),
])


# zoo names before torchvision's architectures took these names in ember.vision.models (old checkpoints)
RENAMED = {"alexnet": "alexnet-d2l", "vgg11": "vgg11-d2l", "googlenet": "googlenet-d2l", "resnet18": "resnet18-d2l"}


def get_model(name, num_classes=10, in_channels=1):
    try:
        spec = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model '{name}'; choose one of: {', '.join(MODELS)}") from None
    return spec.build(num_classes=num_classes, in_channels=in_channels)
