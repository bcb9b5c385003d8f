"""The model zoo against PyTorch: the same source built with torch must give the same architecture.

ember/vision/models/_tutorials.py (the `ember` command's zoo) is executed a second time with its `ember` imports pointed at torch,
so each network is compared with its exact PyTorch twin: state_dict keys and shapes, parameter
counts, output shapes, and outputs for identical weights.
"""
import pathlib
import sys
import types

import numpy as np
import pytest
import torch

import ember
from ember.vision.models import _tutorials as models

SOURCE = pathlib.Path(models.__file__).read_text()


def _torch_twin():
    src = SOURCE.replace("from ember import nn", "from torch import nn")
    src = src.replace("from ember.nn import functional as F", "from torch.nn import functional as F")
    src = src.replace("from ember.ops.shape import cat", "from torch import cat")
    assert "ember" not in src.split('"""', 2)[2].split("class ModelSpec")[0], "unmapped ember import"
    mod = types.ModuleType("torch_models")
    exec(compile(src, "torch_models", "exec"), mod.__dict__)
    return mod


TWIN = _torch_twin()
SIZES = {name: spec.input_size for name, spec in models.MODELS.items()}
BUILDERS = ["softmax_regression", "mlp", "dnn", "lenet", "lenet5", "lenet_bn", "alexnet", "nin", "googlenet",
            "resnet18", "densenet", "mnist_cnn"]
INPUT = {"alexnet": 224, "nin": 224, "googlenet": 96, "resnet18": 96, "densenet": 96}


@pytest.mark.parametrize("name", BUILDERS)
def test_state_dict_and_parameter_count_match_torch(name):
    e = getattr(models, name)(num_classes=7, in_channels=3)
    t = getattr(TWIN, name)(num_classes=7, in_channels=3)
    es, ts = e.state_dict(), t.state_dict()
    assert list(es) == list(ts)
    assert [tuple(v.shape) for v in es.values()] == [tuple(v.shape) for v in ts.values()]
    assert sum(p.numel() for p in e.parameters()) == sum(p.numel() for p in t.parameters())
    assert repr(e) == repr(t)


@pytest.mark.parametrize("name", BUILDERS)
def test_outputs_match_torch_with_the_same_weights(name):
    size = INPUT.get(name, 28)
    e = getattr(models, name)()
    t = getattr(TWIN, name)()
    t.eval()
    e.eval()
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 1, size, size)).astype(np.float32)
    with torch.no_grad():
        want = t(torch.from_numpy(x)).numpy()
    got = e(ember.tensor(x)).detach().numpy()
    assert got.shape == want.shape == (2, 10)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


def test_vgg11_ratio_and_registry():
    e, t = models.vgg11(ratio=4), TWIN.vgg11(ratio=4)
    assert repr(e) == repr(t)
    assert set(models.MODELS) >= {"softmax", "mlp", "dnn", "lenet", "lenet5", "lenet-bn", "alexnet-d2l", "vgg11-d2l",
                                  "nin", "googlenet-d2l", "resnet18-d2l", "densenet"}
    with pytest.raises(ValueError, match="unknown model 'nope'.*lenet"):
        models.get_model("nope")


def test_summary_table(capsys):
    info = ember.summary(models.lenet(), (1, 28, 28))
    out = capsys.readouterr().out
    assert "Conv2d-1" in out and "[-1, 6, 28, 28]" in out and "Total params: 61,706" in out
    assert info["total_params"] == 61706
    assert info["rows"][-1][1] == "[-1, 10]"
