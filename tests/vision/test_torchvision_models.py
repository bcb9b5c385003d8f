"""ember.vision.models against torchvision (not installable here): each architecture is rebuilt below with plain
torch.nn from torchvision's source (same module names), and ember's must match it in state_dict keys and shapes,
parameter counts (torchvision's documented figures) and outputs for identical weights. Weights enums load
torchvision's checkpoint file names from a temporary $TORCH_HOME/hub/checkpoints."""
import os
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

import ember
from ember.vision import models

# ------------------------------------------------------------------ torch twins (torchvision's layouts)


class TBasic(nn.Module):
    expansion = 1

    def __init__(self, cin, c, stride, down):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.downsample = down

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TBottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, c, stride, down, groups=1, base_width=64):
        super().__init__()
        width = int(c * (base_width / 64.0)) * groups
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, c * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = down

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, groups=1, width_per_group=64):
        super().__init__()
        wide = {} if block is TBasic else dict(groups=groups, base_width=width_per_group)
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, (c, n) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or cin != c * block.expansion:
                down = nn.Sequential(nn.Conv2d(cin, c * block.expansion, 1, stride, bias=False),
                                     nn.BatchNorm2d(c * block.expansion))
            blocks = [block(cin, c, stride, down, **wide)]
            cin = c * block.expansion
            blocks += [block(cin, c, 1, None, **wide) for _ in range(1, n)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


VGG_CFGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def t_vgg_features(cfg, bn):
    layers, cin = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1)] + ([nn.BatchNorm2d(v)] if bn else []) + [nn.ReLU(True)]
            cin = v
    return nn.Sequential(*layers)


class TVGG(nn.Module):
    def __init__(self, cfg, bn, num_classes=1000):
        super().__init__()
        self.features = t_vgg_features(cfg, bn)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(4096, 4096),
                                        nn.ReLU(True), nn.Dropout(0.5), nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TFire(nn.Module):
    def __init__(self, cin, s, e1, e3):
        super().__init__()
        self.squeeze, self.squeeze_activation = nn.Conv2d(cin, s, 1), nn.ReLU(True)
        self.expand1x1, self.expand1x1_activation = nn.Conv2d(s, e1, 1), nn.ReLU(True)
        self.expand3x3, self.expand3x3_activation = nn.Conv2d(s, e3, 3, padding=1), nn.ReLU(True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


class TSqueeze(nn.Module):
    def __init__(self, version, num_classes=1000):
        super().__init__()
        pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, 7, 2), nn.ReLU(True), pool(), TFire(96, 16, 64, 64), TFire(128, 16, 64, 64),
                TFire(128, 32, 128, 128), pool(), TFire(256, 32, 128, 128), TFire(256, 48, 192, 192),
                TFire(384, 48, 192, 192), TFire(384, 64, 256, 256), pool(), TFire(512, 64, 256, 256))
        else:
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, 3, 2), nn.ReLU(True), pool(), TFire(64, 16, 64, 64), TFire(128, 16, 64, 64),
                pool(), TFire(128, 32, 128, 128), TFire(256, 32, 128, 128), pool(), TFire(256, 48, 192, 192),
                TFire(384, 48, 192, 192), TFire(384, 64, 256, 256), TFire(512, 64, 256, 256))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(512, num_classes, 1), nn.ReLU(True),
                                        nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class TDenseLayer(nn.Module):
    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1, self.relu1 = nn.BatchNorm2d(cin), nn.ReLU(True)
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2, self.relu2 = nn.BatchNorm2d(bn_size * growth), nn.ReLU(True)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, feats):
        x = self.conv1(self.relu1(self.norm1(torch.cat(feats, 1))))
        return self.conv2(self.relu2(self.norm2(x)))


class TDenseBlock(nn.ModuleDict):
    def __init__(self, n, cin, growth):
        super().__init__()
        for i in range(n):
            self.add_module(f"denselayer{i + 1}", TDenseLayer(cin + i * growth, growth, 4))

    def forward(self, x):
        feats = [x]
        for layer in self.values():
            feats.append(layer(feats))
        return torch.cat(feats, 1)


class TDenseNet(nn.Module):
    def __init__(self, num_classes=1000, growth=32, blocks=(6, 12, 24, 16)):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, 64, 7, 2, 3, bias=False)), ("norm0", nn.BatchNorm2d(64)),
            ("relu0", nn.ReLU(True)), ("pool0", nn.MaxPool2d(3, 2, 1))]))
        c = 64
        for i, n in enumerate(blocks):
            self.features.add_module(f"denseblock{i + 1}", TDenseBlock(n, c, growth))
            c += n * growth
            if i != len(blocks) - 1:
                self.features.add_module(f"transition{i + 1}", nn.Sequential(OrderedDict([
                    ("norm", nn.BatchNorm2d(c)), ("relu", nn.ReLU(True)), ("conv", nn.Conv2d(c, c // 2, 1, bias=False)),
                    ("pool", nn.AvgPool2d(2, 2))])))
                c //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(c))
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        out = torch.relu(self.features(x))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(out, (1, 1)), 1))


def _cbr(cin, cout, k=3, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(True))


class TInvRes(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hid = cin * t
        self.use_res = stride == 1 and cin == cout
        layers = ([_cbr(cin, hid, 1)] if t != 1 else []) + [_cbr(hid, hid, 3, stride, hid),
                                                             nn.Conv2d(hid, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class TMobileNetV2(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        feats, cin = [_cbr(3, 32, stride=2)], 32
        for t, c, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
                           [6, 160, 3, 2], [6, 320, 1, 1]]:
            for i in range(n):
                feats.append(TInvRes(cin, c, s if i == 0 else 1, t))
                cin = c
        feats.append(_cbr(cin, 1280, 1))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1)), 1))


class TAlexNet(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(True), nn.MaxPool2d(3, 2), nn.Conv2d(64, 192, 5, padding=2),
            nn.ReLU(True), nn.MaxPool2d(3, 2), nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(True), nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(True),
            nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(9216, 4096), nn.ReLU(True), nn.Dropout(0.5),
                                        nn.Linear(4096, 4096), nn.ReLU(True), nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


TWINS = {
    "resnet18": lambda **k: TResNet(TBasic, [2, 2, 2, 2], **k),
    "resnet34": lambda **k: TResNet(TBasic, [3, 4, 6, 3], **k),
    "resnet50": lambda **k: TResNet(TBottleneck, [3, 4, 6, 3], **k),
    "resnet101": lambda **k: TResNet(TBottleneck, [3, 4, 23, 3], **k),
    "resnet152": lambda **k: TResNet(TBottleneck, [3, 8, 36, 3], **k),
    "resnext50_32x4d": lambda **k: TResNet(TBottleneck, [3, 4, 6, 3], groups=32, width_per_group=4, **k),
    "resnext101_32x8d": lambda **k: TResNet(TBottleneck, [3, 4, 23, 3], groups=32, width_per_group=8, **k),
    "resnext101_64x4d": lambda **k: TResNet(TBottleneck, [3, 4, 23, 3], groups=64, width_per_group=4, **k),
    "wide_resnet50_2": lambda **k: TResNet(TBottleneck, [3, 4, 6, 3], width_per_group=128, **k),
    "wide_resnet101_2": lambda **k: TResNet(TBottleneck, [3, 4, 23, 3], width_per_group=128, **k),
    **{name: (lambda cfg: lambda **k: TVGG(cfg, False, **k))(cfg) for name, cfg in VGG_CFGS.items()},
    **{name + "_bn": (lambda cfg: lambda **k: TVGG(cfg, True, **k))(cfg) for name, cfg in VGG_CFGS.items()},
    "squeezenet1_0": lambda **k: TSqueeze("1_0", **k),
    "squeezenet1_1": lambda **k: TSqueeze("1_1", **k),
    "densenet121": lambda **k: TDenseNet(**k),
    "mobilenet_v2": lambda **k: TMobileNetV2(**k),
    "alexnet": lambda **k: TAlexNet(**k),
}

# torchvision's documented parameter counts (the "num_params" of each weights' metadata)
PARAMS = {"resnet18": 11689512, "resnet34": 21797672, "resnet50": 25557032, "resnet101": 44549160,
          "vgg11": 132863336, "vgg11_bn": 132868840, "vgg13": 133047848, "vgg13_bn": 133053736,
          "vgg16": 138357544, "vgg16_bn": 138365992, "vgg19": 143667240, "vgg19_bn": 143678248,
          "densenet121": 7978856, "squeezenet1_0": 1248424, "squeezenet1_1": 1235496, "mobilenet_v2": 3504872,
          "alexnet": 61100840}
VGGS = [n for n in PARAMS if n.startswith("vgg")]
# the deeper/wider ResNets: checked through their torch twins (on the meta device: no memory, no init) and the
# arguments ember's builders pass to the ResNet class verified above
BIG_RESNETS = {"resnet152": (60192808, [3, 8, 36, 3], {}),
               "resnext101_32x8d": (88791336, [3, 4, 23, 3], dict(groups=32, width_per_group=8)),
               "resnext101_64x4d": (83455272, [3, 4, 23, 3], dict(groups=64, width_per_group=4)),
               "wide_resnet50_2": (68883240, [3, 4, 6, 3], dict(width_per_group=128)),
               "wide_resnet101_2": (126886696, [3, 4, 23, 3], dict(width_per_group=128))}
PARAMS["resnext50_32x4d"] = 25028904


def _shapes(sd):
    return [(k, tuple(v.shape)) for k, v in sd.items()]


@pytest.mark.parametrize("name", [n for n in PARAMS if n not in VGGS])
def test_keys_shapes_and_parameter_count_match_torchvision(name):
    e = getattr(models, name)()
    t = TWINS[name]()
    assert _shapes(e.state_dict()) == _shapes(t.state_dict())
    assert sum(p.numel() for p in e.parameters()) == PARAMS[name]
    weights = models.get_model_weights(name).DEFAULT
    assert weights.meta["num_params"] == PARAMS[name] and len(weights.meta["categories"]) == 1000


def test_vgg_keys_shapes_and_parameter_counts():
    # the classifier (25088x4096 + 4096x4096 + 4096x1000) is the same in all eight: build it once per family
    for name in VGGS:
        e_feats = models.vgg.make_layers(models.vgg.cfgs[{"11": "A", "13": "B", "16": "D", "19": "E"}[name[3:5]]],
                                         batch_norm=name.endswith("_bn"))
        with torch.device("meta"):  # shapes only: no 138M-parameter allocation
            t = TWINS[name]()
        want = _shapes(t.state_dict())
        got = [("features." + k, tuple(v.shape)) for k, v in e_feats.state_dict().items()]
        assert got == [kv for kv in want if kv[0].startswith("features.")]
        n_classifier = sum(p.numel() for n, p in t.named_parameters() if n.startswith("classifier"))
        assert sum(p.numel() for p in e_feats.parameters()) + n_classifier == PARAMS[name], name
        del t
    # the whole model's keys (classifier included) are checked by the strict load in the outputs test


def _copy(t, e):
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})


def _randomise_bn(t, seed=0):
    g = torch.Generator().manual_seed(seed)
    for m in t.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


@pytest.mark.parametrize("name,size", [("resnet18", 64), ("resnet50", 64), ("resnext50_32x4d", 32),
                                       ("densenet121", 64),
                                       ("squeezenet1_0", 48), ("squeezenet1_1", 48), ("mobilenet_v2", 64),
                                       ("alexnet", 80)])
def test_outputs_match_torch_with_the_same_weights(name, size):
    torch.manual_seed(0)
    t = TWINS[name](num_classes=10).eval()
    _randomise_bn(t)
    e = getattr(models, name)(num_classes=10).eval()
    _copy(t, e)
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    with torch.no_grad():
        want = t(torch.from_numpy(x)).numpy()
    got = e(ember.tensor(x)).detach().numpy()
    assert got.shape == want.shape == (2, 10)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * max(1.0, float(np.abs(want).max())))


def test_training_mode_forward_and_backward_match_torch():
    torch.manual_seed(0)
    t = TWINS["resnet18"](num_classes=4).train()
    e = models.resnet18(num_classes=4).train()
    _copy(t, e)
    x = np.random.default_rng(1).standard_normal((3, 3, 32, 32)).astype(np.float32)
    tx = torch.from_numpy(x)
    t(tx).square().sum().backward()
    ex = ember.tensor(x)
    e(ex).square().sum().backward()
    want = t.conv1.weight.grad.numpy()  # float32 sums through 18 layers of batch statistics: compare to the scale
    np.testing.assert_allclose(e.conv1.weight.grad.numpy(), want, rtol=0, atol=2e-3 * np.abs(want).max())
    np.testing.assert_allclose(e.bn1.running_mean.numpy(), t.bn1.running_mean.numpy(), rtol=1e-4, atol=1e-6)


def test_default_initialisation_is_torchvisions():
    ember.manual_seed(0)
    r = models.resnet18()
    w = r.layer1[0].conv1.weight.detach().numpy()
    # kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / (64 * 3 * 3))
    assert abs(w.std() - np.sqrt(2 / 576)) < 0.05 * np.sqrt(2 / 576) and abs(w.mean()) < 1e-3
    assert (r.bn1.weight.detach().numpy() == 1).all() and (r.bn1.bias.detach().numpy() == 0).all()
    fc_bound = 1 / np.sqrt(512)  # fc keeps Linear's default init in torchvision
    assert np.abs(r.fc.weight.detach().numpy()).max() <= fc_bound
    m = models.mobilenet_v2()
    assert abs(m.classifier[1].weight.detach().numpy().std() - 0.01) < 1e-3 and (m.classifier[1].bias.detach().numpy() == 0).all()
    s = models.squeezenet1_1()
    assert abs(s.classifier[1].weight.detach().numpy().std() - 0.01) < 2e-3
    z = models.resnet18(zero_init_residual=True)
    assert (z.layer1[0].bn2.weight.detach().numpy() == 0).all()


def test_reprs_match_torch_twins():
    for name in ("resnet18", "squeezenet1_1"):
        e, t = getattr(models, name)(), TWINS[name]()
        # the twins' class names differ: compare the leaf-module lines
        leaf = lambda s: [ln.strip() for ln in s.splitlines() if ":" in ln and "(" in ln.split(":", 1)[1]  # noqa
                          and not ln.strip().endswith("(")]
        assert leaf(repr(e)) == leaf(repr(t)), name
    assert repr(models.resnet18().layer1[0]).startswith("BasicBlock(")
    assert repr(models.mobilenet_v2().features[0]).startswith("Conv2dNormActivation(")


# ------------------------------------------------------------------ weights enums and the hub cache


def test_weights_enums_registry_and_names():
    assert models.ResNet18_Weights.DEFAULT is models.ResNet18_Weights.IMAGENET1K_V1
    assert models.ResNet50_Weights.DEFAULT is models.ResNet50_Weights.IMAGENET1K_V2
    assert repr(models.ResNet50_Weights.DEFAULT) == "ResNet50_Weights.IMAGENET1K_V2"
    assert [w.url.rsplit("/", 1)[1] for w in models.ResNet50_Weights] == ["resnet50-0676ba61.pth",
                                                                          "resnet50-11ad3fa6.pth"]
    files = {n: models.get_model_weights(n).IMAGENET1K_V1.url.rsplit("/", 1)[1] for n in PARAMS}
    assert files["resnet18"] == "resnet18-f37072fd.pth" and files["vgg16"] == "vgg16-397923af.pth"
    assert files["densenet121"] == "densenet121-a639ec97.pth" and files["mobilenet_v2"] == "mobilenet_v2-b0353104.pth"
    assert files["squeezenet1_1"] == "squeezenet1_1-b8a52dc0.pth" and files["alexnet"] == "alexnet-owt-7be5be79.pth"
    assert models.get_weight("ResNet18_Weights.IMAGENET1K_V1") is models.ResNet18_Weights.IMAGENET1K_V1
    assert models.ResNet18_Weights.verify("DEFAULT") is models.ResNet18_Weights.IMAGENET1K_V1
    assert models.ResNet18_Weights.verify("ResNet18_Weights.IMAGENET1K_V1") is models.ResNet18_Weights.IMAGENET1K_V1
    assert models.list_models(include="resnet*") == ["resnet101", "resnet152", "resnet18", "resnet34", "resnet50"]
    assert "vgg16_bn" in models.list_models(exclude="resnet*") and "resnet18" not in models.list_models(exclude="res*")
    assert isinstance(models.get_model("squeezenet1_1", num_classes=3), models.SqueezeNet)
    cats = models.ResNet18_Weights.DEFAULT.meta["categories"]
    assert (cats[0], cats[207], cats[281], cats[999]) == ("tench", "golden retriever", "tabby", "toilet tissue")
    with pytest.raises(ValueError, match="Unknown model nope"):
        models.get_model("nope")
    assert models.get_model_weights(models.densenet121) is models.DenseNet121_Weights
    with pytest.raises(ValueError, match="The WeightsEnum class for the specific method couldn't be retrieved"):
        models.get_model_weights(len)
    with pytest.raises(ValueError, match="Invalid weight name provided: 'ResNet18_Weights'."):
        models.get_weight("ResNet18_Weights")
    with pytest.raises(TypeError, match="expected ResNet18_Weights but received ResNet34_Weights"):
        models.resnet18(weights=models.ResNet34_Weights.DEFAULT)
    with pytest.raises(KeyError):
        models.resnet18(weights="IMAGENET1K_V9")
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 10 instead."):
        models.resnet18(weights="DEFAULT", num_classes=10)


def test_missing_checkpoint_fails_at_once_saying_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
    msg = str(info.value)
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in msg
    assert os.path.join(str(tmp_path), "hub", "checkpoints", "resnet18-f37072fd.pth") in msg


def _torch_home(tmp_path, monkeypatch, name, t):
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(t.state_dict(), folder / name)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))


@pytest.mark.parametrize("name,file", [("resnet18", "resnet18-f37072fd.pth"),
                                       ("squeezenet1_1", "squeezenet1_1-b8a52dc0.pth")])
def test_checkpoint_in_the_hub_cache_loads_and_gives_torchs_outputs(tmp_path, monkeypatch, name, file):
    torch.manual_seed(0)
    t = TWINS[name]().eval()
    _randomise_bn(t)
    _torch_home(tmp_path, monkeypatch, file, t)
    e = getattr(models, name)(weights="DEFAULT").eval()
    x = np.random.default_rng(2).standard_normal((1, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        want = t(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(), want, rtol=1e-3, atol=1e-4)


def test_pretrained_true_is_the_legacy_v1_with_torchvisions_warnings(tmp_path, monkeypatch):
    t = TWINS["mobilenet_v2"]().eval()
    _torch_home(tmp_path, monkeypatch, "mobilenet_v2-b0353104.pth", t)  # V1, not the V2 default
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        e = models.mobilenet_v2(pretrained=True)
    msgs = [str(w.message) for w in caught]
    assert "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, please use " \
           "'weights' instead." in msgs
    assert any("equivalent to passing `weights=MobileNet_V2_Weights.IMAGENET1K_V1`. You can also use "
               "`weights=MobileNet_V2_Weights.DEFAULT`" in m for m in msgs)
    np.testing.assert_array_equal(e.features[0][0].weight.detach().numpy(), t.features[0][0].weight.detach().numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert models.resnet18(pretrained=False).fc.out_features == 1000


def test_densenet_checkpoint_with_torchvisions_old_keys_loads(tmp_path, monkeypatch):
    torch.manual_seed(0)
    t = TWINS["densenet121"]().eval()
    _randomise_bn(t)
    # torchvision's file (2017) predates the ban on '.' in module names: 'denselayer1.norm1.weight' is stored as
    # 'denselayer1.norm.1.weight'; and BatchNorm's num_batches_tracked, and the state_dict's version metadata
    old = OrderedDict()
    for k, v in t.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        for part in ("norm1", "norm2", "conv1", "conv2"):
            k = k.replace(f".{part}.", f".{part[:-1]}.{part[-1]}.") if "denselayer" in k else k
        old[k] = v
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save(old, folder / "densenet121-a639ec97.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    e = models.densenet121(weights=models.DenseNet121_Weights.IMAGENET1K_V1).eval()
    x = np.random.default_rng(3).standard_normal((1, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        want = t(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(), want, rtol=1e-3, atol=1e-4)


def test_weights_transforms_preset():
    from PIL import Image
    pre = models.ResNet18_Weights.DEFAULT.transforms()
    assert repr(pre) == ("ImageClassification(\n    crop_size=[224]\n    resize_size=[256]\n"
                         "    mean=[0.485, 0.456, 0.406]\n    std=[0.229, 0.224, 0.225]\n"
                         "    interpolation=InterpolationMode.BILINEAR\n)")
    arr = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    img = Image.fromarray(arr)
    out = pre(img)
    assert tuple(out.shape) == (3, 224, 224)
    # PIL reference: resize shorter side to 256 (bilinear), centre crop 224, scale and normalise
    ref = np.asarray(img.resize((341, 256), Image.BILINEAR), dtype=np.float32)
    top, left = int(round((256 - 224) / 2)), int(round((341 - 224) / 2))  # torchvision rounds half to even
    ref = ref[top:top + 224, left:left + 224].transpose(2, 0, 1) / 255
    ref = (ref - np.array([0.485, 0.456, 0.406])[:, None, None]) / np.array([0.229, 0.224, 0.225])[:, None, None]
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-4)


def test_batchnorm_state_dict_without_version_metadata_loads_as_torch():
    # a hand-built dict (no _metadata) without num_batches_tracked is an old-style checkpoint to torch
    sd = OrderedDict((k, v) for k, v in nn.BatchNorm2d(3).state_dict().items() if "num_batches" not in k)
    assert str(nn.BatchNorm2d(3).load_state_dict(sd)) == "<All keys matched successfully>"
    esd = OrderedDict((k, ember.tensor(v.numpy())) for k, v in sd.items())
    assert str(ember.nn.BatchNorm2d(3).load_state_dict(esd)) == "<All keys matched successfully>"


@pytest.mark.parametrize("name", list(BIG_RESNETS))
def test_deeper_and_wider_resnets(name, monkeypatch):
    count, layers, extra = BIG_RESNETS[name]
    with torch.device("meta"):
        t = TWINS[name]()
    assert sum(p.numel() for p in t.parameters()) == count == models.get_model_weights(name).DEFAULT.meta["num_params"]
    seen = {}
    monkeypatch.setattr(models.resnet, "_resnet", lambda block, layers, weights, progress, **kw: seen.update(
        block=block, layers=layers, kw=kw))
    getattr(models, name)(num_classes=3)
    assert seen == {"block": models.resnet.Bottleneck, "layers": layers, "kw": dict(num_classes=3, **extra)}
    if extra.get("groups"):
        with pytest.raises(ValueError, match="The parameter 'groups' expected value"):
            getattr(models.resnet, name).__wrapped__(groups=1)


def test_vgg_forward_matches_torch_without_a_second_copy_of_the_classifier():
    # VGG's classifier alone holds 120M parameters: rather than a torch twin of the whole net (and the copies a
    # weight transfer makes), compare the features with a torch twin and the classifier with NumPy on ember's
    # own weights
    torch.manual_seed(0)
    e = models.vgg11_bn(num_classes=10).eval()
    with torch.device("meta"):
        t_full = TWINS["vgg11_bn"](num_classes=10)
    assert _shapes(e.state_dict()) == _shapes(t_full.state_dict())
    del t_full
    t = t_vgg_features(VGG_CFGS["vgg11"], True).eval()
    _randomise_bn(t)
    e.features.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        feats = torch.nn.functional.adaptive_avg_pool2d(t(torch.from_numpy(x)), (7, 7)).flatten(1).numpy()
    w = [e.classifier[i].weight.detach().numpy() for i in (0, 3, 6)]
    b = [e.classifier[i].bias.detach().numpy() for i in (0, 3, 6)]
    h = np.maximum(feats @ w[0].T + b[0], 0)
    h = np.maximum(h @ w[1].T + b[1], 0)
    want = h @ w[2].T + b[2]
    got = e(ember.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)
