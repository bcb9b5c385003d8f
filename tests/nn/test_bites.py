"""Proof that the nn comparisons can fail: plant bugs in nn ops and watch the helpers catch them.

With ember under test the bugs are monkeypatched into ember's op classes
(``ember.ops.norm.BatchNorm.backward``, ``ember.ops.loss.CrossEntropyIndices.backward``) and into
the BatchNorm module's call of ``F.batch_norm`` (running statistics).  With
``EMBER_TEST_LIB=torch`` the same bugs live in stand-ins built from torch: a BatchNorm2d subclass
whose input or weight passes through an autograd Function that scales its gradient, or whose
momentum is off; and a cross_entropy whose input gradient is scaled.  Each comparison must pass
without the bug (the control) and raise AssertionError naming the wrong quantity with it.
"""
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import LIB, LIB_NAME, compare_layer, copy_weights, nn, randn, tnn  # noqa: E402
from torch_compare import check_grad  # noqa: E402

X = randn((4, 3, 2, 2), seed=1, scale=2.0, shift=0.5)


class _ScaleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return g * 1.01


class _TorchBuggyBN(tnn.BatchNorm2d):
    """torch's BatchNorm2d with one planted bug."""

    def __init__(self, n, bug):
        super().__init__(n)
        self.bug = bug

    def forward(self, x):
        w = self.weight
        momentum = self.momentum
        if self.bug == "input grad":
            x = _ScaleGrad.apply(x)
        elif self.bug == "weight grad":
            w = _ScaleGrad.apply(w)
        elif self.bug == "running stats":
            momentum = momentum * 1.5
        if self.training:
            self.num_batches_tracked.add_(1)
        return torch.nn.functional.batch_norm(x, self.running_mean, self.running_var, w, self.bias, self.training,
                                              momentum, self.eps)


def _plant_ember_bn(monkeypatch, bug):
    import ember.ops.norm as norm
    import ember.nn.modules.batchnorm as bn_module
    if bug in ("input grad", "weight grad"):
        original = norm.BatchNorm.backward
        idx = 0 if bug == "input grad" else 1

        def wrong_backward(self, grad):
            grads = original(self, grad)
            return tuple(g * 1.01 if (k == idx and g is not None) else g for k, g in enumerate(grads))
        monkeypatch.setattr(norm.BatchNorm, "backward", wrong_backward)
    else:
        original = bn_module.F.batch_norm

        def wrong_batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
                             momentum=0.1, eps=1e-5):
            return original(input, running_mean, running_var, weight, bias, training, momentum * 1.5, eps)

        class _F:
            def __getattr__(self, name):
                return wrong_batch_norm if name == "batch_norm" else getattr(original_module, name)
        original_module = bn_module.F
        monkeypatch.setattr(bn_module, "F", _F())


def _buggy_pair(monkeypatch, bug):
    ref = tnn.BatchNorm2d(3)
    if LIB_NAME == "torch":
        lib = _TorchBuggyBN(3, bug)
    else:
        _plant_ember_bn(monkeypatch, bug)
        lib = nn.BatchNorm2d(3)
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.uniform_(-0.5, 0.5)
    copy_weights(ref, lib)
    return ref, lib


@pytest.mark.parametrize("bug,message", [("input grad", "input grad"), ("weight grad", "grad of weight"),
                                         ("running stats", "buffer running_mean")])
def test_batchnorm_bug_is_caught(monkeypatch, bug, message):
    # control: the unpatched layer agrees
    ref, lib = tnn.BatchNorm2d(3), nn.BatchNorm2d(3)
    copy_weights(ref, lib)
    compare_layer(ref, lib, X, train=True, rtol=2e-4, atol=2e-5, steps=2, name="BatchNorm2d (control)")

    ref, lib = _buggy_pair(monkeypatch, bug)
    with pytest.raises(AssertionError) as info:
        compare_layer(ref, lib, X, train=True, rtol=2e-4, atol=2e-5, steps=2, name="BatchNorm2d with a bug")
    assert message in str(info.value), f"the failure does not name the {bug}: {info.value}"
    assert "BatchNorm2d with a bug" in str(info.value)


class _TorchWithBuggyCE:
    """torch, except that nn.functional.cross_entropy scales its input gradient (for EMBER_TEST_LIB=torch)."""

    class nn:
        class functional:
            @staticmethod
            def cross_entropy(x, t, **kw):
                return torch.nn.functional.cross_entropy(_ScaleGrad.apply(x), t, **kw)

    def __getattr__(self, name):
        return getattr(torch, name)


def _ce(lib, x, t):
    f = torch.nn.functional if lib is torch else lib.nn.functional
    return f.cross_entropy(x, t, reduction="sum")


def test_cross_entropy_backward_bug_is_caught(monkeypatch):
    x = randn((5, 4), seed=2)
    t = np.array([0, 3, 1, 1, 2], np.int64)
    check_grad(_ce, [x, t], [True, False], name="cross_entropy (control)")
    if LIB_NAME == "torch":
        lib = _TorchWithBuggyCE()
    else:
        import ember.ops.loss as loss
        original = loss.CrossEntropyIndices.backward

        def wrong_backward(self, grad):
            gx, gt = original(self, grad)
            return gx * 1.01, gt
        monkeypatch.setattr(loss.CrossEntropyIndices, "backward", wrong_backward)
        lib = LIB
    with pytest.raises(AssertionError) as info:
        check_grad(_ce, [x, t], [True, False], name="cross_entropy with a bug", lib=lib)
    assert "grad of argument 0" in str(info.value) and "cross_entropy with a bug" in str(info.value)
