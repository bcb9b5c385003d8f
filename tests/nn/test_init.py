"""nn.init: in place, no history, shapes kept; the drawn values follow torch's formulas (sample
statistics of 1000x1000 tensors within sampling tolerance); calculate_gain equals torch's; fan
errors; and the layers' default initialisation has torch's distribution.

Random streams differ between the libraries, so random initialisers are compared through their
statistics (each checked against the formula, and the formula checked against torch's sample);
deterministic ones (constant, eye, dirac) are compared value for value.
"""
import math
import pathlib
import sys
import warnings

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import LIB, LIB_NAME, init, nn, tnn, to_lib, to_numpy  # noqa: E402
from torch_compare import assert_same, assert_same_exception  # noqa: E402

tinit = torch.nn.init
BIG = (1000, 1000)


def empty(lib, shape, dtype="float32"):
    return to_lib(lib, np.full(shape, np.nan, dtype=dtype))


def init_of(lib):
    return tinit if lib is torch else init


def both_libs():
    return [(LIB, init), (torch, tinit)] if LIB is not torch else [(torch, tinit)]


def check_stats(values, *, mean, std, low=None, high=None, what="", reach=True):
    """Sample mean and std within ~6 standard errors of the expected ones; bounds respected and (when
    ``reach``: the density at the bounds is not small) approached to within 50/n of the range."""
    v = values.astype(np.float64).ravel()
    n = v.size
    m, s = v.mean(), v.std()
    assert abs(m - mean) <= 6 * std / math.sqrt(n) + 1e-12, f"{what}: mean {m:.6g}, expected {mean:.6g}"
    assert abs(s / std - 1) <= 6 / math.sqrt(2 * n) + 1e-3, f"{what}: std {s:.6g}, expected {std:.6g}"
    if low is not None:
        assert v.min() >= low - 1e-7 * abs(low), f"{what}: min {v.min()} below {low}"
        assert not reach or v.min() <= low + (high - low) * 50 / n, f"{what}: min {v.min()} far above {low}"
    if high is not None:
        assert v.max() <= high + 1e-7 * abs(high), f"{what}: max {v.max()} above {high}"
        assert not reach or v.max() >= high - (high - low) * 50 / n, f"{what}: max {v.max()} far below {high}"


def uniform_std(a, b):
    return (b - a) / math.sqrt(12)


# ---------------------------------------------------------------------------------------
# In place, shape, dtype, no history
# ---------------------------------------------------------------------------------------

INPLACE_CASES = [
    ("uniform_", (4, 5), dict(a=-1.0, b=2.0)),
    ("normal_", (4, 5), dict(mean=1.0, std=2.0)),
    ("trunc_normal_", (4, 5), dict(std=0.5)),
    ("constant_", (4, 5), dict(val=0.3)),
    ("ones_", (4, 5), {}),
    ("zeros_", (4, 5), {}),
    ("eye_", (4, 5), {}),
    ("dirac_", (4, 2, 3, 3), {}),
    ("xavier_uniform_", (4, 5), {}),
    ("xavier_normal_", (4, 5, 2), dict(gain=2.0)),
    ("kaiming_uniform_", (4, 5), dict(a=math.sqrt(5))),
    ("kaiming_normal_", (4, 5, 3, 3), dict(mode="fan_out", nonlinearity="relu")),
    ("orthogonal_", (4, 5), {}),
    ("sparse_", (6, 5), dict(sparsity=0.5)),
]


@pytest.mark.parametrize("name,shape,kw", INPLACE_CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_in_place_no_history(name, shape, kw, dtype):
    for lib, mod in both_libs():
        p = (tnn if lib is torch else nn).Parameter(empty(lib, shape, dtype))
        out = getattr(mod, name)(p, **kw)
        who = "torch" if lib is torch else LIB_NAME
        assert out is p, f"{who}: init.{name} must return its argument"
        assert tuple(p.shape) == shape and str(p.dtype) == f"torch.{dtype}"
        assert p.grad_fn is None and p.requires_grad and p.is_leaf, f"{who}: init.{name} recorded history"
        assert not np.isnan(to_numpy(p)).any(), f"{who}: init.{name} left values unset"
        # a parameter initialised in place can still be trained
        (p * 2).sum().backward()
        assert p.grad is not None


@pytest.mark.parametrize("name,kw", [("uniform_", {}), ("normal_", {}), ("xavier_uniform_", {}),
                                     ("kaiming_normal_", {}), ("trunc_normal_", {}), ("orthogonal_", {})])
def test_generator_reproducible(name, kw):
    vals = []
    for _ in range(2):
        g = LIB.Generator().manual_seed(123)
        t = empty(LIB, (5, 6))
        getattr(init, name)(t, generator=g, **kw)
        vals.append(to_numpy(t))
    np.testing.assert_array_equal(vals[0], vals[1])
    t = empty(LIB, (5, 6))
    getattr(init, name)(t, generator=LIB.Generator().manual_seed(124), **kw)
    assert not np.array_equal(to_numpy(t), vals[0])


def test_manual_seed_reproducible_layer_init():
    LIB.manual_seed(7)
    a = nn.Linear(5, 4)
    LIB.manual_seed(7)
    b = nn.Linear(5, 4)
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(to_numpy(va), to_numpy(vb), err_msg=k)


# ---------------------------------------------------------------------------------------
# Deterministic initialisers: value for value
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,shape,kw", [
    ("constant_", (3, 4), dict(val=-1.5)), ("ones_", (2, 3, 4), {}), ("zeros_", (5,), {}),
    ("eye_", (3, 5), {}), ("eye_", (5, 3), {}),
    ("dirac_", (4, 2, 3), {}), ("dirac_", (4, 6, 3, 3), {}), ("dirac_", (2, 3, 3, 3, 3), {}),
    ("dirac_", (4, 2, 3), dict(groups=2)), ("dirac_", (6, 2, 3, 4), dict(groups=3)),
], ids=str)
def test_deterministic_values(name, shape, kw):
    out = getattr(init, name)(empty(LIB, shape), **kw)
    ref = getattr(tinit, name)(empty(torch, shape), **kw)
    assert_same(out, ref, 0, 0, name=f"init.{name}{kw} on {shape}")


# ---------------------------------------------------------------------------------------
# Random initialisers: the distribution of 10^6 draws
# ---------------------------------------------------------------------------------------

def _fans(shape):
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


RANDOM_CASES = [
    # name, shape, kwargs, expected (mean, std, low, high)
    ("uniform_", BIG, {}, lambda s: (0.5, uniform_std(0, 1), 0.0, 1.0)),
    ("uniform_", BIG, dict(a=-3.0, b=-1.0), lambda s: (-2.0, uniform_std(-3, -1), -3.0, -1.0)),
    ("normal_", BIG, {}, lambda s: (0.0, 1.0, None, None)),
    ("normal_", BIG, dict(mean=2.0, std=0.1), lambda s: (2.0, 0.1, None, None)),
    ("xavier_uniform_", BIG, {},
     lambda s: (0.0, math.sqrt(2 / sum(_fans(s))), -math.sqrt(6 / sum(_fans(s))), math.sqrt(6 / sum(_fans(s))))),
    ("xavier_uniform_", (250, 400, 10), dict(gain=tinit.calculate_gain("relu")),
     lambda s: (0.0, math.sqrt(2) * math.sqrt(2 / sum(_fans(s))), -math.sqrt(2) * math.sqrt(6 / sum(_fans(s))),
                math.sqrt(2) * math.sqrt(6 / sum(_fans(s))))),
    ("xavier_normal_", (500, 2000), dict(gain=0.5), lambda s: (0.0, 0.5 * math.sqrt(2 / 2500), None, None)),
    ("kaiming_uniform_", BIG, {}, lambda s: (0.0, math.sqrt(2 / 1000), -math.sqrt(6 / 1000), math.sqrt(6 / 1000))),
    ("kaiming_uniform_", BIG, dict(a=math.sqrt(5)),
     lambda s: (0.0, 1 / math.sqrt(3 * 1000), -1 / math.sqrt(1000), 1 / math.sqrt(1000))),
    ("kaiming_uniform_", (100, 40, 5, 5), dict(mode="fan_out", nonlinearity="relu"),
     lambda s: (0.0, math.sqrt(2 / 2500), -math.sqrt(6 / 2500), math.sqrt(6 / 2500))),
    ("kaiming_normal_", BIG, {}, lambda s: (0.0, math.sqrt(2 / 1000), None, None)),
    ("kaiming_normal_", (2000, 500), dict(mode="fan_out", nonlinearity="tanh"),
     lambda s: (0.0, (5 / 3) / math.sqrt(2000), None, None)),
    ("kaiming_normal_", (400, 100, 5, 5), dict(a=0.2, nonlinearity="leaky_relu"),
     lambda s: (0.0, math.sqrt(2 / 1.04) / math.sqrt(2500), None, None)),
]


@pytest.mark.parametrize("name,shape,kw,expect", RANDOM_CASES, ids=lambda v: str(v) if not callable(v) else "")
def test_random_distribution(name, shape, kw, expect):
    mean, std, low, high = expect(shape)
    for lib, mod in both_libs():
        lib.manual_seed(0)
        t = getattr(mod, name)(empty(lib, shape), **kw)
        check_stats(to_numpy(t), mean=mean, std=std, low=low, high=high,
                    what=f"{'torch' if lib is torch else LIB_NAME} init.{name}{kw}")


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 2.0, 0.0, 3.0),
                                          (0.0, 1.0, -0.5, 5.0)])
def test_trunc_normal_distribution(mean, std, a, b):
    from math import erf, exp, pi, sqrt
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = lambda x: exp(-x * x / 2) / sqrt(2 * pi)  # noqa: E731
    cdf = lambda x: (1 + erf(x / sqrt(2))) / 2      # noqa: E731
    z = cdf(beta) - cdf(alpha)
    tmean = mean + (phi(alpha) - phi(beta)) / z * std
    tvar = std ** 2 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / z - ((phi(alpha) - phi(beta)) / z) ** 2)
    for lib, mod in both_libs():
        lib.manual_seed(1)
        t = mod.trunc_normal_(empty(lib, BIG), mean=mean, std=std, a=a, b=b)
        check_stats(to_numpy(t), mean=tmean, std=math.sqrt(tvar), low=a, high=b, reach=False,
                    what=f"{'torch' if lib is torch else LIB_NAME} trunc_normal_({mean}, {std}, {a}, {b})")


@pytest.mark.parametrize("shape,gain", [((300, 300), 1.0), ((200, 500), 2.0), ((500, 200), 1.0),
                                        ((20, 4, 5, 5), 0.5)], ids=str)
def test_orthogonal(shape, gain):
    t = init.orthogonal_(empty(LIB, shape, "float64"), gain=gain)
    w = to_numpy(t).reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(rows, cols)), atol=1e-10)
    # uniformly distributed (Haar): no preferred sign on the diagonal of Q after sign correction
    assert abs(np.mean(np.sign(w))) < 0.1


@pytest.mark.parametrize("sparsity", [0.1, 0.5, 0.9])
def test_sparse(sparsity):
    rows, cols, std = 1000, 300, 0.05
    for lib, mod in both_libs():
        lib.manual_seed(2)
        w = to_numpy(mod.sparse_(empty(lib, (rows, cols)), sparsity, std=std))
        zeros_per_col = (w == 0).sum(axis=0)
        assert (zeros_per_col == math.ceil(sparsity * rows)).all(), \
            f"{'torch' if lib is torch else LIB_NAME}: zeros per column {np.unique(zeros_per_col)}"
        nz = w[w != 0]
        check_stats(nz, mean=0.0, std=std, what=f"sparse_({sparsity}) non-zeros")


# ---------------------------------------------------------------------------------------
# calculate_gain and fan errors
# ---------------------------------------------------------------------------------------

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.parametrize("nl", NONLINEARITIES)
def test_calculate_gain(nl):
    got, ref = init.calculate_gain(nl), tinit.calculate_gain(nl)
    assert got == ref and type(got) is type(ref), f"calculate_gain({nl!r}) = {got!r}, torch: {ref!r}"


@pytest.mark.parametrize("param", [0.0, 0.2, 1, 3.5, None])
def test_calculate_gain_leaky_relu_param(param):
    got, ref = init.calculate_gain("leaky_relu", param), tinit.calculate_gain("leaky_relu", param)
    assert got == ref, f"calculate_gain('leaky_relu', {param}) = {got!r}, torch: {ref!r}"


@pytest.mark.parametrize("args,contains", [(("gelu",), ["Unsupported nonlinearity gelu"]),
                                           (("leaky_relu", True), ["negative_slope True not a valid number"]),
                                           (("leaky_relu", "a"), ["negative_slope a not a valid number"])], ids=str)
def test_calculate_gain_errors(args, contains):
    assert_same_exception(lambda: init.calculate_gain(*args), lambda: tinit.calculate_gain(*args), contains=contains,
                          name=f"calculate_gain{args}")


@pytest.mark.parametrize("name,shape,kw,contains", [
    ("xavier_uniform_", (5,), {}, ["Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"]),
    ("xavier_normal_", (), {}, ["Fan in and fan out can not be computed"]),
    ("kaiming_uniform_", (7,), {}, ["Fan in and fan out can not be computed"]),
    ("kaiming_normal_", (7,), {}, ["Fan in and fan out can not be computed"]),
    ("kaiming_uniform_", (3, 4), dict(mode="fan_avg"), ["Mode fan_avg not supported", "fan_in", "fan_out"]),
    ("kaiming_normal_", (3, 4), dict(nonlinearity="swish"), ["Unsupported nonlinearity swish"]),
    ("eye_", (2, 2, 2), {}, ["Only tensors with 2 dimensions are supported"]),
    ("dirac_", (2, 2), {}, ["Only tensors with 3, 4, or 5 dimensions are supported"]),
    ("dirac_", (5, 2, 3), dict(groups=2), ["dim 0 must be divisible by groups"]),
    ("orthogonal_", (3,), {}, ["Only tensors with 2 or more dimensions are supported"]),
    ("sparse_", (2, 2, 2), dict(sparsity=0.1), ["Only tensors with 2 dimensions are supported"]),
], ids=str)
def test_init_errors(name, shape, kw, contains):
    assert_same_exception(lambda: getattr(init, name)(empty(LIB, shape), **kw),
                          lambda: getattr(tinit, name)(empty(torch, shape), **kw), contains=contains,
                          name=f"init.{name} on {shape}")


def test_kaiming_zero_element_warns():
    for lib, mod in both_libs():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mod.kaiming_uniform_(empty(lib, (0, 3)))
        assert [str(w.message) for w in caught] == ["Initializing zero-element tensors is a no-op"]


# ---------------------------------------------------------------------------------------
# Default initialisation of the layers
# ---------------------------------------------------------------------------------------

def _lib_and_torch(ctor):
    LIB.manual_seed(3)
    torch.manual_seed(3)
    return ctor(nn), ctor(tnn)


def _check_param(lib_p, ref_p, *, mean, std, low=None, high=None, what):
    assert tuple(lib_p.shape) == tuple(ref_p.shape) and str(lib_p.dtype) == str(ref_p.dtype)
    check_stats(to_numpy(ref_p), mean=mean, std=std, low=low, high=high, what=f"torch {what}")
    check_stats(to_numpy(lib_p), mean=mean, std=std, low=low, high=high, what=f"{LIB_NAME} {what}")


def test_linear_default_init():
    lib, ref = _lib_and_torch(lambda m: m.Linear(1000, 1000))
    b = 1 / math.sqrt(1000)
    _check_param(lib.weight, ref.weight, mean=0, std=b / math.sqrt(3), low=-b, high=b, what="Linear.weight")
    lib, ref = _lib_and_torch(lambda m: m.Linear(100, 20000))
    b = 1 / math.sqrt(100)
    _check_param(lib.bias, ref.bias, mean=0, std=b / math.sqrt(3), low=-b, high=b, what="Linear.bias")


@pytest.mark.parametrize("cin,cout,k,groups", [(64, 64, 5, 1), (64, 128, 3, 4)])
def test_conv2d_default_init(cin, cout, k, groups):
    lib, ref = _lib_and_torch(lambda m: m.Conv2d(cin, cout, k, groups=groups))
    fan_in = cin // groups * k * k
    b = 1 / math.sqrt(fan_in)
    _check_param(lib.weight, ref.weight, mean=0, std=b / math.sqrt(3), low=-b, high=b, what="Conv2d.weight")
    lib, ref = _lib_and_torch(lambda m: m.Conv2d(2, 20000, 2))
    b = 1 / math.sqrt(8)
    _check_param(lib.bias, ref.bias, mean=0, std=b / math.sqrt(3), low=-b, high=b, what="Conv2d.bias")


def test_conv1d_default_init():
    lib, ref = _lib_and_torch(lambda m: m.Conv1d(50, 400, 5))
    b = 1 / math.sqrt(250)
    _check_param(lib.weight, ref.weight, mean=0, std=b / math.sqrt(3), low=-b, high=b, what="Conv1d.weight")


def test_embedding_default_init():
    lib, ref = _lib_and_torch(lambda m: m.Embedding(1000, 1000))
    _check_param(lib.weight, ref.weight, mean=0, std=1, what="Embedding.weight")


@pytest.mark.parametrize("ctor", [lambda m: m.BatchNorm1d(7), lambda m: m.BatchNorm2d(7), lambda m: m.LayerNorm(7),
                                  lambda m: m.LayerNorm((2, 3)), lambda m: m.GroupNorm(7, 7)],
                         ids=["BatchNorm1d", "BatchNorm2d", "LayerNorm", "LayerNorm2", "GroupNorm"])
def test_norm_default_init(ctor):
    """Normalisation layers start as the identity: weight 1, bias 0, running_mean 0, running_var 1."""
    lib, ref = _lib_and_torch(ctor)
    for (k, v), (rk, rv) in zip(lib.state_dict().items(), ref.state_dict().items()):
        assert k == rk
        assert_same(v, rv, 0, 0, name=f"{type(ref).__name__}.{k}")


def test_reset_parameters_redraws():
    LIB.manual_seed(4)
    lin = nn.Linear(30, 30)
    before = to_numpy(lin.weight)
    p = lin.weight
    lin.reset_parameters()
    assert lin.weight is p
    assert not np.array_equal(before, to_numpy(lin.weight))
    assert np.abs(to_numpy(lin.weight)).max() <= 1 / math.sqrt(30)
