"""Proof that the suite can fail: plant deliberate bugs and watch the helpers catch them.

With ember under test the bugs are monkeypatched into ember's op classes
(``ember.ops.elementwise.Mul`` and ``ember.ops.reduce.Sum``): a backward returning twice
the right gradient, and a forward that is slightly off.  With ``EMBER_TEST_LIB=torch``
the same bugs live in a stand-in library whose ``mul``/``sum`` are torch autograd
Functions with the same mistakes.  Either way the gradient comparison, the finite
difference check (for the wrong backwards) and the forward comparison (for the wrong
forward) must raise AssertionError, with messages that name the op, the argument and
the offending element.
"""

import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import (LIB, LIB_NAME, assert_same, assert_same_exception, check_grad,  # noqa: E402
                           finite_difference_check, run_forward)

RNG = np.random.default_rng(7)
X = RNG.uniform(-2, 2, (3, 4)).astype(np.float32)
Y = RNG.uniform(-2, 2, (3, 4)).astype(np.float32)


def mul(lib, x, y):
    return lib.mul(x, y)


def total(lib, x):
    return lib.sum(x)


# ---------------------------------------------------------------------------------------
# Planting the bugs
# ---------------------------------------------------------------------------------------

class _TorchWithBugs:
    """torch, except for the ops in ``overrides``."""

    def __init__(self, **overrides):
        self._overrides = overrides

    def __getattr__(self, name):
        return self._overrides.get(name) or getattr(torch, name)


class _MulDoubleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return 2 * g * b, 2 * g * a


class _SumDoubleGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return x.sum()

    @staticmethod
    def backward(ctx, g):
        return (2 * g).expand(ctx.shape)


class _MulOffForward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b * 1.001

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a


def _doubled_backward(original):
    def backward(self, grad):
        grads = original(self, grad)
        if isinstance(grads, (tuple, list)):
            return type(grads)(None if g is None else g * 2 for g in grads)
        return grads * 2
    return backward


def _off_forward(original):
    def forward(self, *arrays, **params):
        return original(self, *arrays, **params) * np.asarray(1.001, dtype=np.asarray(arrays[0]).dtype)
    return forward


@pytest.fixture
def lib_with_bug(request, monkeypatch):
    bug = request.param
    if LIB_NAME == "torch":
        return _TorchWithBugs(**{
            "mul_backward": {"mul": _MulDoubleGrad.apply},
            "sum_backward": {"sum": _SumDoubleGrad.apply},
            "mul_forward": {"mul": _MulOffForward.apply},
        }[bug])
    import ember.ops.elementwise as elementwise
    import ember.ops.reduce as reduce
    cls, method, wrap = {
        "mul_backward": (elementwise.Mul, "backward", _doubled_backward),
        "sum_backward": (reduce.Sum, "backward", _doubled_backward),
        "mul_forward": (elementwise.Mul, "forward", _off_forward),
    }[bug]
    monkeypatch.setattr(cls, method, wrap(getattr(cls, method)))
    return LIB


# ---------------------------------------------------------------------------------------
# The bugs are caught
# ---------------------------------------------------------------------------------------

def test_the_unbroken_library_passes():
    check_grad(mul, [X, Y], [True, True], name="mul")
    check_grad(total, [X], [True], name="sum")
    finite_difference_check(mul, [X, Y], [True, True], name="mul")
    finite_difference_check(total, [X], [True], name="sum")


@pytest.mark.parametrize("lib_with_bug", ["mul_backward"], indirect=True)
def test_wrong_mul_backward_is_caught(lib_with_bug):
    with pytest.raises(AssertionError, match=r"mul: grad of argument 0.*worst at index \("):
        check_grad(mul, [X, Y], [True, True], name="mul", lib=lib_with_bug)
    with pytest.raises(AssertionError, match=r"mul: gradient of argument 0 wrong at index \("):
        finite_difference_check(mul, [X, Y], [True, True], name="mul", lib=lib_with_bug)
    with pytest.raises(AssertionError, match=r"gradient of argument 1"):  # the other argument too
        finite_difference_check(mul, [X, Y], [False, True], name="mul", lib=lib_with_bug)


@pytest.mark.parametrize("lib_with_bug", ["sum_backward"], indirect=True)
def test_wrong_sum_backward_is_caught(lib_with_bug):
    with pytest.raises(AssertionError, match=r"sum: grad of argument 0"):
        check_grad(total, [X], [True], name="sum", lib=lib_with_bug)
    with pytest.raises(AssertionError, match=r"sum: gradient of argument 0 wrong"):
        finite_difference_check(total, [X], [True], name="sum", lib=lib_with_bug)


@pytest.mark.parametrize("lib_with_bug", ["mul_forward"], indirect=True)
def test_wrong_mul_forward_is_caught(lib_with_bug):
    # (Finite differences need not notice: ember's backward is built from its own forward
    # ops, so a wrong Mul.forward skews the analytic gradient just as much.)
    with pytest.raises(AssertionError, match=r"mul \(forward\).*worst at index"):
        run_forward(mul, [X, Y], name="mul", lib=lib_with_bug)
    with pytest.raises(AssertionError, match=r"mul \(forward, inputs requiring grad\).*worst at index"):
        check_grad(mul, [X, Y], [True, True], name="mul", lib=lib_with_bug)


# ---------------------------------------------------------------------------------------
# The comparison helpers themselves (torch against doctored torch results)
# ---------------------------------------------------------------------------------------

def test_assert_same_names_the_worst_element():
    ref = torch.zeros(2, 3)
    out = ref.clone()
    out[0, 1] = 1e-3
    out[1, 2] = 5e-3
    with pytest.raises(AssertionError, match=r"op: output: 2 of 6 elements differ.*worst at index \(1, 2\).*=.*0\.005"):
        assert_same(out, ref, name="op")


def test_assert_same_checks_shape_dtype_and_nan():
    ref = torch.tensor([1.0, float("nan")])
    assert_same(ref.clone(), ref)  # nan == nan
    with pytest.raises(AssertionError, match="shape"):
        assert_same(torch.zeros(2, 1), torch.zeros(2))
    with pytest.raises(AssertionError, match="dtype torch.float64 != torch's torch.float32"):
        assert_same(torch.zeros(2, dtype=torch.float64), torch.zeros(2))
    with pytest.raises(AssertionError, match="worst at index"):
        assert_same(torch.tensor([1.0, 2.0]), ref)
    with pytest.raises(AssertionError, match="structure"):
        assert_same((torch.zeros(2),), (torch.zeros(2), torch.zeros(2)))
    with pytest.raises(AssertionError, match="differ; first at index"):
        assert_same(torch.tensor([1, 2]), torch.tensor([1, 3]))


def test_assert_same_exception():
    def raises(exc):
        def f():
            raise exc("size 3 vs 4")
        return f
    assert_same_exception(raises(RuntimeError), raises(RuntimeError), contains=["3", ("4", "four")])
    with pytest.raises(AssertionError, match="did not raise"):
        assert_same_exception(lambda: None, raises(RuntimeError))
    with pytest.raises(AssertionError, match="raised ValueError"):
        assert_same_exception(raises(ValueError), raises(IndexError))
    with pytest.raises(AssertionError, match="does not mention"):
        assert_same_exception(raises(RuntimeError), raises(RuntimeError), contains=["7"])
    # torch's own subclasses count as their builtin base
    assert_same_exception(raises(RuntimeError), raises(torch.OutOfMemoryError))
