"""torchvision's VGG networks (Simonyan & Zisserman 2014), with and without batch normalisation: module names,
state_dict keys and initialisation as torchvision's."""
from ember import nn
from ember.ops.shape import flatten
from ember.vision.models._api import (WeightsEnum, Weights, _builder, _classification, _imagenet_meta,
                                      _load_weights, _ovewrite_named_param)

__all__ = ["VGG", "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights", "VGG16_Weights",
           "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn",
           "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]


class VGG(nn.Module):
    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(flatten(x, 1))


def make_layers(cfg, batch_norm=False):
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            if batch_norm:
                layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            else:
                layers += [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def _vgg(cfg, batch_norm, weights, progress, **kwargs):
    if weights is not None:
        kwargs["init_weights"] = False
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)
    if weights is not None:
        _load_weights(model, weights, progress)
    return model


def _weights(file, num_params):
    return Weights(url=f"https://download.pytorch.org/models/{file}", transforms=_classification(crop_size=224),
                   meta=_imagenet_meta(num_params, recipe="https://github.com/pytorch/vision/tree/main/references/"
                                                          "classification#alexnet-and-vgg"))


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg11-8a719046.pth", 132863336)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg11_bn-6002323d.pth", 132868840)
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg13-19584684.pth", 133047848)
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg13_bn-abd245e5.pth", 133053736)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg16-397923af.pth", 138357544)
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg16_bn-6c64b313.pth", 138365992)
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg19-dcbb9e9d.pth", 143667240)
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _weights("vgg19_bn-c79401a0.pth", 143678248)
    DEFAULT = IMAGENET1K_V1


@_builder(VGG11_Weights)
def vgg11(*, weights=None, progress=True, **kwargs):
    """VGG-11 (configuration "A") from "Very Deep Convolutional Networks for Large-Scale Image Recognition"."""
    return _vgg("A", False, VGG11_Weights.verify(weights), progress, **kwargs)


@_builder(VGG11_BN_Weights)
def vgg11_bn(*, weights=None, progress=True, **kwargs):
    """VGG-11 with batch normalisation."""
    return _vgg("A", True, VGG11_BN_Weights.verify(weights), progress, **kwargs)


@_builder(VGG13_Weights)
def vgg13(*, weights=None, progress=True, **kwargs):
    """VGG-13 (configuration "B")."""
    return _vgg("B", False, VGG13_Weights.verify(weights), progress, **kwargs)


@_builder(VGG13_BN_Weights)
def vgg13_bn(*, weights=None, progress=True, **kwargs):
    """VGG-13 with batch normalisation."""
    return _vgg("B", True, VGG13_BN_Weights.verify(weights), progress, **kwargs)


@_builder(VGG16_Weights)
def vgg16(*, weights=None, progress=True, **kwargs):
    """VGG-16 (configuration "D")."""
    return _vgg("D", False, VGG16_Weights.verify(weights), progress, **kwargs)


@_builder(VGG16_BN_Weights)
def vgg16_bn(*, weights=None, progress=True, **kwargs):
    """VGG-16 with batch normalisation."""
    return _vgg("D", True, VGG16_BN_Weights.verify(weights), progress, **kwargs)


@_builder(VGG19_Weights)
def vgg19(*, weights=None, progress=True, **kwargs):
    """VGG-19 (configuration "E")."""
    return _vgg("E", False, VGG19_Weights.verify(weights), progress, **kwargs)


@_builder(VGG19_BN_Weights)
def vgg19_bn(*, weights=None, progress=True, **kwargs):
    """VGG-19 with batch normalisation."""
    return _vgg("E", True, VGG19_BN_Weights.verify(weights), progress, **kwargs)
