"""relu, sigmoid and tanh against torch: forward edge values, the fused backward nodes
(threshold_backward, sigmoid_backward, tanh_backward) and their own backward (double backward).

The fused backwards compute in one buffer with NumPy's in-place ufuncs, and relu's forward runs
against a stack of cached zero rows (with a tail) for big inputs: sizes below, at and above that
row, 0-d and non-contiguous inputs go through every path; big ones are split between two threads.
"""
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import LIB, assert_same, to_lib, to_numpy  # noqa: E402

OPS = ("relu", "sigmoid", "tanh")
# the last: big enough for ember to split the work between threads (in 64K-element blocks, with a tail)
SHAPES = [(), (7,), (3, 5), (1 << 14,), (2, 1 << 14), (3, 5001, 7), (5, 70001)]
SPECIAL = [-0.0, 0.0, np.nan, -np.nan, np.inf, -np.inf, 1e-30, -1e-30, 50.0, -50.0]


@pytest.fixture(autouse=True)
def two_threads():
    saved = LIB.get_num_threads()
    LIB.set_num_threads(2)
    yield
    LIB.set_num_threads(saved)


def _input(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    if x.size >= len(SPECIAL):
        # the edge values scattered across the array: every chunk of relu's zero-row loop sees some
        copies = min(4, x.size // len(SPECIAL))
        pos = rng.choice(x.size, len(SPECIAL) * copies, replace=False)
        x.flat[pos] = np.array(SPECIAL * copies, dtype)
    elif x.ndim:
        x.flat[:] = np.array(SPECIAL[:x.size], dtype)
    return x


def _fn(lib, name):
    return getattr(lib, name)


def _same_bits(actual, expected, what, ignore_nan_sign=True):
    """Exact equality, the sign of zero included (NaN's sign too unless ignore_nan_sign)."""
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.dtype == e.dtype and a.shape == e.shape, (what, a.dtype, e.dtype, a.shape, e.shape)
    assert np.array_equal(a, e, equal_nan=True), f"{what}: values differ"
    keep = ~np.isnan(e) if ignore_nan_sign else np.ones(e.shape, bool)
    assert np.array_equal(np.signbit(a)[keep], np.signbit(e)[keep]), f"{what}: signs differ"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_relu_exact(shape, dtype):
    """relu keeps NaN (with its sign) and -0.0 as torch does; its backward selects grad exactly:
    grad where the output is > 0 or NaN, +0 elsewhere, even for an inf or negative grad."""
    x = _input(shape, dtype, 1)
    g = _input(shape, dtype, 2)                 # infs and NaNs in the upstream gradient too
    outs = []
    for lib in (LIB, torch):
        xt = to_lib(lib, x, True)
        y = lib.relu(xt)
        y.backward(to_lib(lib, g))
        outs.append((y.detach(), xt.grad))
    _same_bits(outs[0][0], outs[1][0], f"relu {shape} forward", ignore_nan_sign=False)
    _same_bits(outs[0][1], outs[1][1], f"relu {shape} backward", ignore_nan_sign=False)


def test_relu_non_contiguous_and_int():
    x = _input((64, 600), np.float32, 3)
    for sl in (lambda t: t.t(), lambda t: t[:, ::3]):
        _same_bits(LIB.relu(sl(to_lib(LIB, x))), torch.relu(sl(torch.tensor(x))), "relu non-contiguous",
                   ignore_nan_sign=False)
    xi = np.arange(-40000, 40000, 3, dtype=np.int64)
    assert np.array_equal(to_numpy(LIB.relu(to_lib(LIB, xi))), torch.relu(torch.tensor(xi)).numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_sigmoid_tanh_backward(name, shape, dtype):
    x = _input(shape, dtype, 4)
    g = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    outs = []
    for lib in (LIB, torch):
        xt = to_lib(lib, x, True)
        y = _fn(lib, name)(xt)
        y.backward(to_lib(lib, g))
        outs.append((y.detach(), xt.grad))
    tol = (1e-6, 1e-7) if dtype == np.float32 else (1e-14, 1e-15)
    assert_same(outs[0][0], outs[1][0], *tol, name=f"{name} {shape} forward")
    # the same formula in the same order as torch's kernels, on outputs that may differ by an ulp: 1 - out^2
    # and 1 - out turn that into an absolute error of ~|grad| ulp
    tol = (1e-6, 1e-6) if dtype == np.float32 else (1e-14, 1e-14)
    assert_same(outs[0][1], outs[1][1], *tol, name=f"{name} {shape} backward")


@pytest.mark.parametrize("shape", [(), (5,), (3, 7000)])
@pytest.mark.parametrize("name", OPS)
def test_double_backward(name, shape):
    """create_graph=True: the gradient is a node of its own (torch's names), and differentiating through it
    reaches both the upstream gradient and the input."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape) * 2
    gy = np.cos(np.arange(x.size)).reshape(shape)
    res = []
    for lib in (LIB, torch):
        xt, gt = to_lib(lib, x, True), to_lib(lib, gy, True)
        y = _fn(lib, name)(xt)
        (gx,) = lib.autograd.grad(y, xt, gt, create_graph=True)
        names = (gx.grad_fn.name(), [n.name() if n is not None else None for n, _ in gx.grad_fn.next_functions])
        (gx * gx.sin()).sum().backward()
        res.append((names, gx.detach(), xt.grad, gt.grad))
    assert res[0][0] == res[1][0]
    for k, what in ((1, "gradient"), (2, "x.grad"), (3, "gy.grad")):
        assert_same(res[0][k], res[1][k], 1e-12, 1e-14, name=f"{name} {shape} double backward: {what}")


@pytest.mark.parametrize("name", OPS)
def test_gradient_of_gradient_is_a_tensor(name):
    """d(sum of relu's gradient)/dx is zeros in torch, not None (threshold_backward's derivative in its
    output is zeros_like); sigmoid and tanh have a real one. Third order works too."""
    x = np.array([-1.5, -0.0, 0.0, 0.5, 2.0])
    res = []
    for lib in (LIB, torch):
        xt = to_lib(lib, x, True)
        (g1,) = lib.autograd.grad(_fn(lib, name)(xt).sum(), xt, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), xt, create_graph=True)
        g3 = lib.autograd.grad(g2.sum(), xt, allow_unused=True)[0]
        res.append((g1.detach(), g2.detach(), g3))
    for k in range(3):
        assert (res[0][k] is None) == (res[1][k] is None), (name, k)
        if res[1][k] is not None:
            assert_same(res[0][k], res[1][k], 1e-12, 1e-14, name=f"{name} order {k + 1}")


def test_no_graph_without_create_graph():
    """Plain backward records nothing: the fused node's result has no history."""
    x = to_lib(LIB, np.linspace(-2, 2, 9), True)
    for name in OPS:
        y = _fn(LIB, name)(x)
        (g,) = LIB.autograd.grad(y, x, to_lib(LIB, np.ones(9)))
        assert g.grad_fn is None and not g.requires_grad


def test_inplace_relu_backward():
    x = np.linspace(-2, 2, 9)
    res = []
    for lib in (LIB, torch):
        xt = to_lib(lib, x, True)
        h = xt * 2
        h.relu_()
        (h * h).sum().backward()
        res.append(xt.grad)
    assert_same(res[0], res[1], 0, 0, name="relu_ backward")
