"""Convolution and pooling against torch: forward, every gradient, errors, node names.

Inputs and weights cross to both libraries through NumPy (tests/torch_compare.py).

Tolerances. float32 results are sums of products computed in a different order than torch's
(oneDNN blocks the reduction differently from OpenBLAS, and ember's im2col GEMM sums a whole
C*KH*KW column at once), so they agree to float32 rounding of a sum, not bit for bit. The rounding
error of an n-term sum of O(1) products grows like sqrt(n) * eps * |partial sums| ~ n * eps in the
worst case; we use rtol=1e-4 and atol=2e-6 * n, where n is the longest reduction involved (C/g*KH*KW
for the output and the input gradient, N*OH*OW for the weight and bias gradients), which covers that
with margin at the sizes drawn here. float64 checks use 1e-10. Pooling is exact except for the avg
pools' sums (same order as torch: 1e-6) and adaptive avg pooling, which multiplies by 1/count per
axis instead of dividing the sum by the count (a few ulps: 1e-6).
"""
import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import (LIB, LIB_NAME, assert_same, assert_same_exception, check_grad,  # noqa: E402
                           finite_difference_check, to_lib, to_numpy)

if LIB_NAME == "ember":
    from ember.ops import conv as C_MOD, pool as P_MOD  # noqa: E402
    FN = {name: getattr(C_MOD, name) for name in ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d")}
    FN.update({name: getattr(P_MOD, name) for name in P_MOD.__all__})
else:  # EMBER_TEST_LIB=torch: the suite checks itself against torch
    import torch.nn.functional as _TF
    FN = {name: getattr(_TF, name) for name in (
        "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
        "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d")}

import torch.nn.functional as TF  # noqa: E402


def fn_of(lib, name):
    return getattr(TF, name) if lib is torch else FN[name]


pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def rand(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def conv_tol(cg_kk, n_px, dtype=np.float32):
    if dtype == np.float64:
        return 1e-10, 1e-10
    return 1e-4, 2e-6 * max(cg_kk, n_px, 1)


# -- convolution: drawn configurations ----------------------------------------------------------

@st.composite
def conv2d_configs(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cg = draw(st.integers(1, 3))
    og = draw(st.integers(1, 3))
    depthwise = draw(st.booleans()) and groups > 1
    if depthwise:
        cg = 1
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.sampled_from([1, 1, 2])), draw(st.sampled_from([1, 1, 2]))
    pad_kind = draw(st.sampled_from(["int", "tuple", "same", "valid"]))
    if pad_kind == "same":
        sh = sw = 1
        stride = draw(st.sampled_from([1, (1, 1)]))
    else:
        sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        stride = sh if sh == sw and draw(st.booleans()) else (sh, sw)
    if pad_kind == "int":
        p = draw(st.integers(0, 2))
        padding, (ph, pw) = p, (p, p)
    elif pad_kind == "tuple":
        ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        padding = (ph, pw)
    else:
        padding, ph, pw = pad_kind, 0, 0
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    H = max(1, eh - 2 * ph) + draw(st.integers(0, 6))
    W = max(1, ew - 2 * pw) + draw(st.integers(0, 6))
    if pad_kind == "same":
        H, W = max(H, 1), max(W, 1)
    N = draw(st.sampled_from([0, 1, 1, 2, 3, None])) if draw(st.integers(0, 9)) == 0 else draw(st.integers(1, 3))
    bias = draw(st.booleans())
    dilation = dh if dh == dw and draw(st.booleans()) else (dh, dw)
    return dict(N=N, C=cg * groups, O=og * groups, groups=groups, k=(kh, kw), stride=stride, padding=padding,
                dilation=dilation, H=H, W=W, bias=bias)


def _conv_arrays(cfg, seed, dtype=np.float32, one_d=False):
    rng = np.random.default_rng(seed)
    spatial = (cfg["W"],) if one_d else (cfg["H"], cfg["W"])
    xshape = ((cfg["N"],) if cfg["N"] is not None else ()) + (cfg["C"],) + spatial
    kern = (cfg["k"][1],) if one_d else cfg["k"]
    arrays = [rand(rng, xshape, dtype), rand(rng, (cfg["O"], cfg["C"] // cfg["groups"]) + kern, dtype)]
    if cfg["bias"]:
        arrays.append(rand(rng, (cfg["O"],), dtype))
    return arrays


def _conv_fn(cfg, name="conv2d"):
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=cfg["groups"])

    def fn(lib, x, w, b=None):
        return fn_of(lib, name)(x, w, b, **kw)
    return fn


def _conv_tol(cfg, one_d=False):
    kk = cfg["k"][1] if one_d else cfg["k"][0] * cfg["k"][1]
    n_px = (cfg["N"] or 1) * (cfg["H"] if not one_d else 1) * cfg["W"]
    return conv_tol(cfg["C"] // cfg["groups"] * kk, n_px)


@SETTINGS
@given(cfg=conv2d_configs(), seed=st.integers(0, 2**31))
def test_conv2d_drawn(cfg, seed):
    arrays = _conv_arrays(cfg, seed)
    rtol, atol = _conv_tol(cfg)
    check_grad(_conv_fn(cfg), arrays, [True] * len(arrays), rtol, atol, name=f"conv2d {cfg}")


@st.composite
def conv1d_configs(draw):
    cfg = draw(conv2d_configs())
    # the 1-d case: only the W axis
    k = cfg["k"][1]
    st_ = cfg["stride"] if isinstance(cfg["stride"], int) else cfg["stride"][1]
    dil = cfg["dilation"] if isinstance(cfg["dilation"], int) else cfg["dilation"][1]
    pad = cfg["padding"]
    if isinstance(pad, tuple):
        pad = pad[1]
    p = pad if isinstance(pad, int) else 0
    W = max(cfg["W"], dil * (k - 1) + 1 - 2 * p)
    cfg.update(k=(1, k), stride=st_, dilation=dil, padding=pad, W=W, H=1)
    return cfg


@SETTINGS
@given(cfg=conv1d_configs(), seed=st.integers(0, 2**31))
def test_conv1d_drawn(cfg, seed):
    arrays = _conv_arrays(cfg, seed, one_d=True)
    rtol, atol = _conv_tol(cfg, one_d=True)
    check_grad(_conv_fn(cfg, "conv1d"), arrays, [True] * len(arrays), rtol, atol, name=f"conv1d {cfg}")


# -- convolution: the internal paths, by explicit shapes ---------------------------------------
# (N == 1: one GEMM, channel-major columns; N > 1 with large images: batch-major columns; 1x1
#  without padding: no im2col; groups in each; LeNet-like sizes where the columns are kept)

CONV_CASES = [
    # N, C, H, W, O, k, stride, padding, dilation, groups          path taken (see ember/ops/conv.py)
    (1, 3, 20, 18, 8, 3, 1, 1, 1, 1),            # one image: batch-major, row-wise col2im, columns kept
    (1, 16, 20, 20, 64, 3, 1, 1, 1, 1),          # ... columns rebuilt in backward
    (1, 6, 17, 15, 8, (3, 2), (2, 1), (1, 0), (1, 2), 2),
    (1, 1, 40, 40, 12, 7, 2, 3, 1, 1),           # a ResNet-like first layer: stride 2, strided col2im
    (1, 32, 40, 40, 32, 3, 1, 1, 1, 1),          # copies and adds split between threads by channel
    (4, 3, 20, 20, 6, 5, 1, 2, 1, 1),            # a batch of small images: split by image, not kept
    (3, 4, 24, 22, 8, 3, 1, 1, 1, 2),
    (5, 6, 14, 14, 16, 5, 1, 0, 1, 1),           # LeNet's second layer, small batch
    (48, 6, 14, 14, 16, 5, 1, 0, 1, 1),          # ... big enough to be split between threads
    (3, 4, 24, 22, 8, 3, (2, 1), 1, 1, 2),       # row-wise col2im with a vertical stride
    (2, 4, 12, 12, 4, 3, 1, 2, (2, 3), 1),       # row-wise col2im with dilation
    (2, 3, 17, 19, 5, 3, 3, 0, 2, 1),            # strided col2im
    (2, 4, 30, 30, 4, 3, 2, 1, 1, 4),            # depthwise
    (4, 2, 30, 30, 32, 3, 1, 1, 1, 1),           # few input channels: batch-major, one batched GEMM
    (12, 2, 30, 30, 32, 3, 1, 1, 1, 1),          # ... with copies and adds on threads
    (3, 4, 24, 22, 64, 3, 1, 1, 1, 1),           # a batch of big images: channel-major, one GEMM
    (6, 16, 20, 20, 32, 3, 1, 1, 1, 1),          # ... with copies and adds on threads
    (8, 64, 8, 8, 128, 3, 1, 1, 1, 1),           # ... more channels than pixels, columns rebuilt
    (2, 4, 5, 5, 32, 3, 1, 1, 1, 1),
    (3, 6, 4, 4, 24, 3, 2, 1, 1, 3),
    (1, 8, 9, 9, 16, 1, 1, 0, 1, 1),             # 1x1: a view and a GEMM
    (3, 8, 9, 9, 16, 1, 2, 0, 1, 2),             # 1x1 strided
    (2, 8, 20, 20, 16, 1, 1, 0, 1, 1),
    (2, 2, 10, 10, 4, 2, 1, "same", 1, 1),       # even kernel: asymmetric 'same' padding
    (2, 2, 10, 10, 4, (4, 3), 1, "same", (2, 1), 2),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "-".join(map(str, c)))
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_paths(case, bias):
    N, C, H, W, O, k, s, p, d, g = case
    kh, kw = (k, k) if isinstance(k, int) else k
    rng = np.random.default_rng(hash(case) % 2**32)
    arrays = [rand(rng, (N, C, H, W)), rand(rng, (O, C // g, kh, kw))] + ([rand(rng, (O,))] if bias else [])

    def fn(lib, x, w, b=None):
        return fn_of(lib, "conv2d")(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    rtol, atol = conv_tol(C // g * kh * kw, N * H * W)
    check_grad(fn, arrays, [True] * len(arrays), rtol, atol, name=f"conv2d {case}")
    # only some inputs needing a gradient (the first layer of a network: not the data)
    check_grad(fn, arrays, [False] + [True] * (len(arrays) - 1), rtol, atol, name=f"conv2d {case} no x grad")
    check_grad(fn, arrays, [True] + [False] * (len(arrays) - 1), rtol, atol, name=f"conv2d {case} x grad only")


@pytest.mark.skipif(LIB_NAME != "ember", reason="ember's internals")
@pytest.mark.parametrize("case", [c for c in CONV_CASES if c[0] > 1], ids=lambda c: "-".join(map(str, c)))
def test_conv2d_chunked(case, monkeypatch):
    """Channel-major batches go through the columns a few images at a time; force tiny chunks."""
    monkeypatch.setattr(C_MOD, "_CHUNK_COLS", 3000)
    N, C, H, W, O, k, s, p, d, g = case
    kh, kw = (k, k) if isinstance(k, int) else k
    rng = np.random.default_rng(13)
    arrays = [rand(rng, (N, C, H, W)), rand(rng, (O, C // g, kh, kw)), rand(rng, (O,))]

    def fn(lib, x, w, b):
        return fn_of(lib, "conv2d")(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    rtol, atol = conv_tol(C // g * kh * kw, N * H * W)
    check_grad(fn, arrays, [True] * 3, rtol, atol, name=f"conv2d chunked {case}")
    check_grad(fn, arrays, [False, True, True], rtol, atol, name=f"conv2d chunked {case}")
    x, w, b = rand(rng, (5, 3, 9)), rand(rng, (8, 3, 3)), rand(rng, (8,))
    check_grad(lambda lib, x, w, b: fn_of(lib, "conv1d")(x, w, b, padding=1), [x, w, b], [True] * 3, 1e-4, 1e-4,
               name="conv1d chunked")


def test_conv2d_no_grad_and_eval():
    rng = np.random.default_rng(0)
    x, w, b = rand(rng, (3, 4, 12, 12)), rand(rng, (5, 4, 3, 3)), rand(rng, (5,))
    for lib in (LIB, torch):
        with lib.no_grad():
            y = fn_of(lib, "conv2d")(to_lib(lib, x), to_lib(lib, w, True), to_lib(lib, b), padding=1)
        assert not y.requires_grad and y.grad_fn is None
    out = fn_of(LIB, "conv2d")(to_lib(LIB, x), to_lib(LIB, w), to_lib(LIB, b), padding=1)
    ref = TF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=1)
    assert_same(out, ref, 1e-4, 1e-4, name="conv2d no grad")


def test_conv2d_lenet_batch():
    """LeNet's layers at a real batch size: the batch-major path with columns kept for backward."""
    rng = np.random.default_rng(1)
    x = rand(rng, (64, 1, 28, 28))
    w1, b1 = rand(rng, (6, 1, 5, 5)), rand(rng, (6,))
    w2, b2 = rand(rng, (16, 6, 5, 5)) * np.float32(0.2), rand(rng, (16,))

    def fn(lib, x, w1, b1, w2, b2):
        conv, pool = fn_of(lib, "conv2d"), fn_of(lib, "avg_pool2d")
        h = pool(conv(x, w1, b1, padding=2).sigmoid(), 2)
        return pool(conv(h, w2, b2).sigmoid(), 2)
    check_grad(fn, [x, w1, b1, w2, b2], [False, True, True, True, True], 1e-4, 5e-4, name="lenet convs")


def test_conv2d_float64_and_int():
    rng = np.random.default_rng(2)
    x, w, b = rand(rng, (2, 4, 9, 8), np.float64), rand(rng, (6, 2, 3, 3), np.float64), rand(rng, (6,), np.float64)

    def fn(lib, x, w, b):
        return fn_of(lib, "conv2d")(x, w, b, stride=(2, 1), padding=1, groups=2)
    check_grad(fn, [x, w, b], [True] * 3, 1e-10, 1e-10, name="conv2d float64")
    xi = rng.integers(-5, 5, (2, 3, 6, 6))
    wi = rng.integers(-3, 3, (4, 3, 3, 3))
    out = fn_of(LIB, "conv2d")(to_lib(LIB, xi), to_lib(LIB, wi), padding=1)
    ref = TF.conv2d(torch.tensor(xi), torch.tensor(wi), padding=1)
    assert_same(out, ref, 0, 0, name="conv2d int64")


def test_conv_unbatched_and_empty():
    rng = np.random.default_rng(3)
    for name, xs, ws in (("conv2d", (3, 7, 6), (4, 3, 3, 2)), ("conv1d", (3, 9), (4, 3, 3))):
        x, w, b = rand(rng, xs), rand(rng, ws), rand(rng, (4,))

        def fn(lib, x, w, b, name=name):
            return fn_of(lib, name)(x, w, b, padding=1)
        check_grad(fn, [x, w, b], [True] * 3, 1e-4, 1e-4, name=f"{name} unbatched")
    x, w, b = rand(rng, (0, 3, 7, 7)), rand(rng, (4, 3, 3, 3)), rand(rng, (4,))
    check_grad(lambda lib, x, w, b: fn_of(lib, "conv2d")(x, w, b), [x, w, b], [True] * 3, 1e-5, 1e-6,
               name="conv2d empty batch")


@pytest.mark.parametrize("name,xs,ws,kw", [
    ("conv2d", (2, 2, 5, 5), (3, 2, 3, 3), dict(padding=1)),
    ("conv2d", (1, 4, 6, 5), (4, 2, 2, 3), dict(stride=(2, 1), dilation=(1, 2), groups=2)),
    ("conv2d", (2, 2, 5, 4), (2, 2, 2, 2), dict(padding="same")),
    ("conv1d", (2, 3, 7), (2, 3, 3), dict(stride=2, padding=1, dilation=2)),
])
def test_conv_finite_differences(name, xs, ws, kw):
    rng = np.random.default_rng(4)
    arrays = [rand(rng, xs, np.float64), rand(rng, ws, np.float64), rand(rng, (ws[0],), np.float64)]
    finite_difference_check(lambda lib, x, w, b: fn_of(lib, name)(x, w, b, **kw), arrays, [True] * 3,
                            name=f"{name} {kw}")


def test_conv_double_backward():
    rng = np.random.default_rng(5)
    arrays = [rand(rng, (2, 4, 7, 6), np.float64), rand(rng, (6, 2, 3, 2), np.float64), rand(rng, (6,), np.float64)]
    results = []
    for lib in (LIB, torch):
        x, w, b = [to_lib(lib, a, True) for a in arrays]
        y = fn_of(lib, "conv2d")(x, w, b, stride=(1, 2), padding=1, groups=2)
        gy = to_lib(lib, np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))
        gx, gw = lib.autograd.grad(y, (x, w), gy, create_graph=True)
        ((gx * gx).sum() + (gw ** 3).sum()).backward()
        results.append([to_numpy(t.grad) for t in (x, w)] + [to_numpy(gx), to_numpy(gw)])
    for a, r in zip(*results):
        np.testing.assert_allclose(a, r, rtol=1e-9, atol=1e-9)


# -- transposed convolution -------------------------------------------------------------------

CONVT_CASES = [
    # N, Cin, H, W, Cout, k, stride, padding, output_padding, groups, dilation
    (2, 4, 5, 5, 6, 3, 2, 1, 1, 2, 1),
    (1, 3, 4, 6, 2, (2, 3), (1, 2), (0, 1), (0, 1), 1, (2, 1)),
    (3, 2, 7, 7, 4, 3, 1, 0, 0, 1, 1),
    (5, 6, 4, 4, 3, 3, 2, 1, 0, 3, 2),
    (4, 8, 6, 6, 8, 4, 2, 1, 0, 1, 1),          # a DCGAN-style upsampling layer
    (2, 3, 5, 4, 2, 2, 1, 0, 1, 1, 2),          # output_padding < dilation with stride 1
]


@pytest.mark.parametrize("case", CONVT_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv_transpose2d(case):
    N, Ci, H, W, Co, k, s, p, op, g, d = case
    kh, kw = (k, k) if isinstance(k, int) else k
    rng = np.random.default_rng(11)
    arrays = [rand(rng, (N, Ci, H, W)), rand(rng, (Ci, Co // g, kh, kw)), rand(rng, (Co,))]

    def fn(lib, x, w, b):
        return fn_of(lib, "conv_transpose2d")(x, w, b, stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    check_grad(fn, arrays, [True] * 3, *conv_tol(Ci // g * kh * kw, N * H * W * 4), name=f"conv_transpose2d {case}")


def test_conv_transpose_1d_unbatched_fd():
    rng = np.random.default_rng(12)
    arrays = [rand(rng, (2, 3, 9)), rand(rng, (3, 2, 3))]
    fn = lambda lib, x, w: fn_of(lib, "conv_transpose1d")(x, w, stride=2, padding=1, output_padding=1)  # noqa: E731
    check_grad(fn, arrays, [True, True], 1e-4, 1e-4, name="conv_transpose1d")
    check_grad(lambda lib, x, w: fn_of(lib, "conv_transpose2d")(x, w, stride=2), [rand(rng, (3, 4, 5)),
               rand(rng, (3, 2, 2, 2))], [True, True], 1e-4, 1e-4, name="conv_transpose2d unbatched")
    a64 = [rand(rng, (1, 2, 3, 4), np.float64), rand(rng, (2, 2, 3, 2), np.float64), rand(rng, (2,), np.float64)]
    finite_difference_check(lambda lib, x, w, b: fn_of(lib, "conv_transpose2d")(x, w, b, stride=(2, 1), padding=1,
                                                                                 output_padding=(1, 0)),
                            a64, [True] * 3, name="conv_transpose2d")
    x, w = rand(rng, (1, 3, 5, 5)), rand(rng, (4, 2, 3, 3))

    def call(lib):
        return lambda: fn_of(lib, "conv_transpose2d")(to_lib(lib, x), to_lib(lib, w))
    assert_same_exception(call(LIB), call(torch), contains=["Given transposed=1, weight of size [4, 2, 3, 3]",
                                                            "4 channels", "3 channels"])


# -- convolution: errors -----------------------------------------------------------------------

CONV_ERRORS = [
    ("conv2d", (256, 3, 28, 28), (6, 1, 5, 5), {}, ["Given groups=1", "[6, 1, 5, 5]", "[256, 3, 28, 28]",
                                                    "1 channels", "3 channels"]),
    ("conv2d", (2, 4, 8, 8), (6, 1, 3, 3), dict(groups=2), ["Given groups=2", "2 channels", "4 channels"]),
    ("conv2d", (2, 4, 8, 8), (5, 2, 3, 3), dict(groups=2), ["divisible by 2", "[5, 2, 3, 3]"]),
    ("conv2d", (1, 1, 2, 2), (1, 1, 5, 5), {}, ["Calculated padded input size per channel: (2 x 2)",
                                               "Kernel size: (5 x 5)", "can't be greater than actual input"]),
    ("conv2d", (1, 1, 6, 6), (1, 1, 3, 3), dict(dilation=3), ["(6 x 6)", "(7 x 7)"]),
    ("conv2d", (1, 1, 0, 8), (2, 1, 3, 3), {}, ["(0 x 8)"]),
    ("conv1d", (4, 3, 2), (6, 3, 5), {}, ["Calculated padded input size per channel: (2)", "Kernel size: (5)"]),
    ("conv2d", (3, 28), (6, 3, 5, 5), {}, ["Expected 3D (unbatched) or 4D (batched) input to conv2d", "[3, 28]"]),
    ("conv2d", (1, 1, 3, 28, 28), (6, 3, 5, 5), {}, ["[1, 1, 3, 28, 28]"]),
    ("conv1d", (4, 3, 28, 2), (6, 3, 5), {}, ["Expected 2D (unbatched) or 3D (batched) input to conv1d"]),
    ("conv2d", (3, 28, 28), (6, 1, 5, 5), {}, ["[1, 3, 28, 28]", "1 channels", "3 channels"]),
    ("conv1d", (4, 3, 28), (6, 1, 5), {}, ["[4, 3, 28]", "1 channels"]),
    ("conv2d", (1, 3, 28, 28), (6, 3, 5, 5), dict(padding="same", stride=2),
     ["padding='same' is not supported for strided convolutions"]),
    ("conv2d", (1, 3, 28, 28), (6, 3, 5, 5), dict(padding="foo"), ["Invalid padding string: 'foo'"]),
    ("conv2d", (1, 3, 28, 28), (6, 3, 5, 5), dict(padding=-1), ["negative padding is not supported"]),
    ("conv2d", (1, 3, 28, 28), (6, 3, 5, 5), dict(stride=0), ["non-positive stride is not supported"]),
    ("conv2d", (1, 3, 28, 28), (6, 3, 5, 5), dict(dilation=0), ["non-positive dilation is not supported"]),
    ("conv2d", (1, 3, 28, 28), (6, 3, 5, 5), dict(groups=0), ["non-positive groups is not supported"]),
    ("conv2d", (1, 3, 28, 28), (6, 3, 5, 5), dict(stride=(1, 1, 1)), ["list of 2 values", "stride=[1, 1, 1]"]),
    ("conv2d", (1, 3, 28, 28), (6, 3, 5, 5), dict(padding=(1, 1, 1)), ["padding=[1, 1, 1]"]),
    ("conv2d", (1, 1, 8, 8), (0, 1, 3, 3), {}, ["expected weight to be at least 1 at dimension 0"]),
    ("conv1d", (1, 1, 8), (1, 1, 3, 3), {}, ["Expected 4-dimensional input for 4-dimensional weight"]),
    ("conv2d", (1, 1, 8, 8), (1, 1, 3), {}, ["list of 1 values"]),
]


@pytest.mark.parametrize("name,xs,ws,kw,facts", CONV_ERRORS, ids=lambda v: str(v)[:40])
def test_conv_errors(name, xs, ws, kw, facts):
    rng = np.random.default_rng(6)
    x, w = rand(rng, xs), rand(rng, ws)

    def call(lib):
        return lambda: fn_of(lib, name)(to_lib(lib, x), to_lib(lib, w), **kw)
    assert_same_exception(call(LIB), call(torch), contains=facts, name=f"{name} {xs} {ws} {kw}")


def test_conv_bias_and_dtype_errors():
    rng = np.random.default_rng(7)
    x, w = rand(rng, (1, 3, 8, 8)), rand(rng, (6, 3, 5, 5))
    for bias, facts in ((rand(rng, (5,)), ["expected bias to be 1-dimensional with 6 elements", "[5]"]),
                        (rand(rng, (6,), np.float64), ["bias type"])):
        def call(lib, bias=bias):
            return lambda: fn_of(lib, "conv2d")(to_lib(lib, x), to_lib(lib, w), to_lib(lib, bias))
        assert_same_exception(call(LIB), call(torch), contains=facts, name="conv2d bias")

    def call(lib):
        return lambda: fn_of(lib, "conv2d")(to_lib(lib, x), to_lib(lib, w.astype(np.float64)))
    assert_same_exception(call(LIB), call(torch), contains=["Input type (torch.FloatTensor) and weight type "
                                                            "(torch.DoubleTensor) should be the same"])


# -- pooling: drawn configurations -------------------------------------------------------------

@st.composite
def pool2d_configs(draw, with_dilation=True):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kernel = kh if kh == kw and draw(st.booleans()) else (kh, kw)
    stride = draw(st.one_of(st.none(), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    padding = ph if ph == pw and draw(st.booleans()) else (ph, pw)
    dil = draw(st.sampled_from([1, 1, 2, (1, 2)])) if with_dilation else 1
    ceil_mode = draw(st.booleans())
    H, W = draw(st.integers(1, 11)), draw(st.integers(1, 11))
    N = draw(st.sampled_from([None, 1, 2, 3]))
    C = draw(st.integers(1, 3))
    return dict(shape=((N,) if N else ()) + (C, H, W), kernel=kernel, stride=stride, padding=padding,
                dilation=dil, ceil_mode=ceil_mode)


def _pool_input(cfg, seed, ties=False, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rand(rng, cfg["shape"], dtype)
    if ties:
        x = np.round(x)  # many equal values: the gradient must go to the first maximum, as in torch
    return x


def _outcome(fn, arrays, name, rtol, atol):
    """Both raise the same kind of error, or agree on values and the gradient."""
    try:
        fn(torch, *[torch.tensor(a) for a in arrays])
    except Exception:  # noqa: BLE001
        assert_same_exception(lambda: fn(LIB, *[to_lib(LIB, a) for a in arrays]),
                              lambda: fn(torch, *[torch.tensor(a) for a in arrays]), name=name)
        return
    # torch's own backward refuses some empty outputs (adaptive pools to size 0): nothing to compare then
    check_grad(fn, arrays, [True] * len(arrays), rtol, atol, name=name, skip_if_torch_fails=True)


@SETTINGS
@given(cfg=pool2d_configs(), seed=st.integers(0, 2**31), ties=st.booleans(), ri=st.booleans())
def test_max_pool2d_drawn(cfg, seed, ties, ri):
    x = _pool_input(cfg, seed, ties)

    def fn(lib, x):
        return fn_of(lib, "max_pool2d")(x, cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"],
                                        cfg["ceil_mode"], ri)
    _outcome(fn, [x], f"max_pool2d {cfg} ties={ties}", 1e-6, 1e-6)


@SETTINGS
@given(cfg=pool2d_configs(with_dilation=False), seed=st.integers(0, 2**31), cip=st.booleans(),
       div=st.sampled_from([None, None, 1, 3, -2]))
def test_avg_pool2d_drawn(cfg, seed, cip, div):
    x = _pool_input(cfg, seed)

    def fn(lib, x):
        return fn_of(lib, "avg_pool2d")(x, cfg["kernel"], cfg["stride"], cfg["padding"], cfg["ceil_mode"], cip, div)
    _outcome(fn, [x], f"avg_pool2d {cfg} count_include_pad={cip} divisor_override={div}", 1e-6, 1e-6)


@SETTINGS
@given(k=st.integers(1, 4), s=st.one_of(st.none(), st.integers(1, 3)), p=st.integers(0, 2), d=st.integers(1, 2),
       ceil=st.booleans(), L=st.integers(1, 12), batched=st.booleans(), seed=st.integers(0, 2**31),
       ri=st.booleans(), cip=st.booleans())
def test_pool1d_drawn(k, s, p, d, ceil, L, batched, seed, ri, cip):
    rng = np.random.default_rng(seed)
    x = rand(rng, ((2,) if batched else ()) + (3, L))
    _outcome(lambda lib, x: fn_of(lib, "max_pool1d")(x, k, s, p, d, ceil, ri), [x],
             f"max_pool1d k={k} s={s} p={p} d={d} ceil={ceil} L={L}", 1e-6, 1e-6)
    _outcome(lambda lib, x: fn_of(lib, "avg_pool1d")(x, k, s, p, ceil, cip), [x],
             f"avg_pool1d k={k} s={s} p={p} ceil={ceil} cip={cip} L={L}", 1e-6, 1e-6)


@SETTINGS
@given(shape=st.tuples(st.sampled_from([None, 1, 2]), st.integers(1, 3), st.integers(1, 10), st.integers(1, 10)),
       oh=st.one_of(st.none(), st.integers(0, 12)), ow=st.one_of(st.none(), st.integers(0, 12)),
       as_int=st.booleans(), seed=st.integers(0, 2**31), ties=st.booleans(), ri=st.booleans())
def test_adaptive_pool2d_drawn(shape, oh, ow, as_int, seed, ties, ri):
    shape = tuple(s for s in shape if s is not None)
    rng = np.random.default_rng(seed)
    x = rand(rng, shape)
    if ties:
        x = np.round(x)
    out = (oh if oh is not None else 3) if as_int else (oh, ow)
    _outcome(lambda lib, x: fn_of(lib, "adaptive_avg_pool2d")(x, out), [x],
             f"adaptive_avg_pool2d {shape} -> {out}", 1e-6, 1e-6)
    _outcome(lambda lib, x: fn_of(lib, "adaptive_max_pool2d")(x, out, ri), [x],
             f"adaptive_max_pool2d {shape} -> {out}", 1e-6, 1e-6)


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-6), (np.float64, 1e-13), (np.float16, 1e-3)])
@pytest.mark.parametrize("view", ["contiguous", "transposed", "batch 0"])
def test_global_avg_pool(dtype, tol, view):
    """adaptive_avg_pool2d to 1x1 (ResNet's head): row sums as a GEMV for float32/64, a reduction otherwise."""
    rng = np.random.default_rng(13)
    x = rand(rng, (0, 64, 7, 5) if view == "batch 0" else (3, 64, 7, 5), dtype)
    if x.size:
        x[0, :2, 0, 0] = [np.inf, np.nan]

    def fn(lib, x):
        return fn_of(lib, "adaptive_avg_pool2d")(x.transpose(-1, -2) if view == "transposed" else x, 1)
    check_grad(fn, [x], [True], tol, tol, name=f"global avg pool {dtype.__name__} {view}")


@pytest.mark.parametrize("L,o", [(10, 3), (7, 7), (5, 8), (9, 1), (12, 4)])
def test_adaptive_pool1d(L, o):
    rng = np.random.default_rng(L * 31 + o)
    x = rand(rng, (2, 3, L))
    check_grad(lambda lib, x: fn_of(lib, "adaptive_avg_pool1d")(x, o), [x], [True], 1e-6, 1e-6,
               name=f"adaptive_avg_pool1d {L}->{o}")
    check_grad(lambda lib, x: fn_of(lib, "adaptive_max_pool1d")(x, o, True), [x], [True], 1e-6, 1e-6,
               name=f"adaptive_max_pool1d {L}->{o}")


# -- pooling: the real layers, special values, finite differences -------------------------------

@pytest.mark.parametrize("shape,args", [
    ((1, 96, 54, 54), dict(kernel_size=3, stride=2)),                 # AlexNet
    ((1, 64, 112, 112), dict(kernel_size=3, stride=2, padding=1)),    # ResNet
    ((16, 6, 28, 28), dict(kernel_size=2)),                           # non-overlapping, tiling
    ((2, 5, 13, 11), dict(kernel_size=3, stride=3, padding=1, ceil_mode=True)),
])
def test_pool_layers(shape, args):
    rng = np.random.default_rng(8)
    x = rand(rng, shape)
    check_grad(lambda lib, x: fn_of(lib, "max_pool2d")(x, return_indices=True, **args), [x], [True], 1e-6, 1e-6,
               name=f"max_pool2d {shape} {args}")
    check_grad(lambda lib, x: fn_of(lib, "avg_pool2d")(x, **args), [x], [True], 1e-6, 1e-6,
               name=f"avg_pool2d {shape} {args}")


def test_max_pool_special_values():
    x = np.array([[[[np.nan, 1.0, 2.0, np.nan],
                    [0.0, -np.inf, 5.0, 5.0],
                    [-np.inf, -np.inf, 3.0, np.inf],
                    [-np.inf, -np.inf, np.inf, 1.0]]]], dtype=np.float32)
    for args in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=2, stride=1)):
        check_grad(lambda lib, x: fn_of(lib, "max_pool2d")(x, return_indices=True, **args), [x], [True], 1e-6, 1e-6,
                   name=f"max_pool2d nan/inf {args}")
    xi = np.arange(-20, 16).reshape(1, 1, 6, 6) % 7
    for name, args in (("max_pool2d", dict(kernel_size=3, stride=2, padding=1)), ("avg_pool2d", dict(kernel_size=2))):
        out = fn_of(LIB, name)(to_lib(LIB, xi), **args)
        assert_same(out, getattr(TF, name)(torch.tensor(xi), **args), 0, 0, name=f"{name} int64")


# -- max pooling with many planes: the channels-last path (short output rows), special values ---------

@SETTINGS
@given(cfg=pool2d_configs(), seed=st.integers(0, 2**31), ties=st.booleans(), ri=st.booleans(),
       special=st.booleans())
def test_max_pool2d_many_planes_drawn(cfg, seed, ties, ri, special):
    """N*C >= 32 planes of up to 11x11: small outputs go channels-last; NaN, -inf and ties as torch."""
    shape = cfg["shape"][:-3] + (cfg["shape"][-3] * 32,) + cfg["shape"][-2:]
    x = _pool_input(dict(cfg, shape=shape), seed, ties)
    if special:
        rng = np.random.default_rng(seed + 1)
        x[rng.random(x.shape) < 0.05] = np.nan
        x[rng.random(x.shape) < 0.05] = -1e30   # not -inf: torch's own backward misindexes all -inf windows

    def fn(lib, x):
        return fn_of(lib, "max_pool2d")(x, cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"],
                                        cfg["ceil_mode"], ri)
    try:
        outs = fn(torch, torch.tensor(x))
        if torch.isneginf(outs[0] if ri else outs).any():
            return   # windows of padding only: see test_max_pool_padding_only_windows
    except RuntimeError:
        pass     # both must raise: _outcome checks
    _outcome(fn, [x], f"max_pool2d {cfg} planes={shape[-3]} ties={ties} special={special}", 1e-6, 1e-6)


@pytest.mark.parametrize("shape,args", [
    ((1, 256, 12, 12), (3, 2)),                       # AlexNet's last pool: channels-last
    ((4, 16, 9, 9), (3, 2, 1, 1, True)),
    ((2, 64, 7, 7), (3, 1, 1)),
    ((1, 40, 12, 12), ((3, 2), 2, (1, 0), (2, 1))),
])
def test_max_pool_many_planes_double_backward(shape, args):
    rng = np.random.default_rng(11)
    xa = rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64) / 7   # distinct: a smooth max
    results = []
    for lib in (LIB, torch):
        x = to_lib(lib, xa, True)
        y = fn_of(lib, "max_pool2d")(x, *args)
        gy = to_lib(lib, np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), True)
        (gx,) = lib.autograd.grad(y, x, gy, create_graph=True)
        (gx * gx.sin()).sum().backward()
        results.append((to_numpy(gx.detach()), to_numpy(gy.grad)))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("planes", [2, 40])
def test_max_pool_padding_only_windows(planes):
    """With dilation a window can cover padding only (a 1-wide input here): its output is -inf, as in
    torch, and its gradient goes nowhere (torch's index for it is arbitrary -- its backward then writes
    wherever that points, out of bounds included -- so there is nothing to compare but the values)."""
    x = np.random.default_rng(12).standard_normal((2, planes, 5, 1))
    args = ((1, 2), (3, 3), (0, 1), (1, 2), True)
    y = fn_of(LIB, "max_pool2d")(to_lib(LIB, x), *args)
    assert_same(y, TF.max_pool2d(torch.tensor(x), *args), 0, 0, name="max_pool2d padding-only windows")
    xt = to_lib(LIB, x, True)
    y = fn_of(LIB, "max_pool2d")(xt, *args)
    gy = to_lib(LIB, np.ones(tuple(y.shape)), True)
    (gx,) = LIB.autograd.grad(y, xt, gy, create_graph=True)
    assert not to_numpy(gx.detach()).any()
    (gx * 3).sum().backward()                     # double backward reads the (padding) argmax back
    assert not to_numpy(gy.grad).any()


@pytest.mark.parametrize("name,call", [
    ("max_pool2d", lambda f, x: f(x, 3, 2, 1, 2, True)),
    ("avg_pool2d", lambda f, x: f(x, 3, 2, 1, True, False)),
    ("avg_pool2d", lambda f, x: f(x, 2, 1, 1, False, True, 3)),
    ("adaptive_avg_pool2d", lambda f, x: f(x, (3, 4))),
    ("adaptive_max_pool2d", lambda f, x: f(x, (4, 3))),
])
def test_pool_finite_differences(name, call):
    rng = np.random.default_rng(9)
    x = rng.permutation(70).reshape(1, 2, 5, 7).astype(np.float64) / 7  # distinct values: max is smooth
    finite_difference_check(lambda lib, x: call(fn_of(lib, name), x), [x], [True], name=name)


@pytest.mark.parametrize("name,call", [
    ("max_pool2d", lambda f, x: f(x, 3, 2, 1)),
    ("avg_pool2d", lambda f, x: f(x, 3, 2, 1, True, False)),
    ("adaptive_avg_pool2d", lambda f, x: f(x, (3, 4))),
    ("adaptive_max_pool2d", lambda f, x: f(x, (4, 3))),
])
def test_pool_double_backward(name, call):
    rng = np.random.default_rng(10)
    xa = rng.permutation(70).reshape(1, 2, 5, 7).astype(np.float64) / 7
    results = []
    for lib in (LIB, torch):
        x = to_lib(lib, xa, True)
        y = call(fn_of(lib, name), x)
        gy = to_lib(lib, np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), True)
        (gx,) = lib.autograd.grad(y, x, gy, create_graph=True)
        assert gx.grad_fn.name() == name.replace("max_pool2d", "MaxPool2DWithIndices").replace(
            "avg_pool2d", "AvgPool2D").replace("adaptive_AvgPool2D", "AdaptiveAvgPool2D").replace(
            "adaptive_MaxPool2DWithIndices", "AdaptiveMaxPool2D") + "BackwardBackward0"
        (gx * gx.sin()).sum().backward()
        results.append(to_numpy(gy.grad))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-12)


# -- pooling: errors ---------------------------------------------------------------------------

POOL_ERRORS = [
    ("max_pool2d", (1, 3, 8, 8), lambda f, x: f(x, 2, padding=2), ["pad should be at most half of effective kernel "
                                                                   "size", "pad=2", "kernel_size=2"]),
    ("avg_pool2d", (1, 3, 8, 8), lambda f, x: f(x, 2, padding=2), ["pad should be at most half"]),
    ("max_pool2d", (1, 3, 8, 8), lambda f, x: f(x, 3, 1, 2, 2), ["pad should be smaller than or equal to half"]),
    ("max_pool2d", (8, 8), lambda f, x: f(x, 2), ["3D or 4D"]),
    ("max_pool2d", (1, 1, 1, 8, 8), lambda f, x: f(x, 2), ["3D or 4D"]),
    ("avg_pool2d", (8, 8), lambda f, x: f(x, 2), ["Dimension out of range"]),
    ("avg_pool2d", (1, 1, 1, 8, 8), lambda f, x: f(x, 2), ["[1, 1, 1, 8, 8]"]),
    ("max_pool2d", (1, 1, 2, 2), lambda f, x: f(x, 3), ["Given input size: (1x2x2)", "Calculated output size: "
                                                        "(1x0x0)", "Output size is too small"]),
    ("avg_pool2d", (1, 1, 2, 2), lambda f, x: f(x, 3), ["Output size is too small"]),
    ("max_pool2d", (1, 0, 8, 8), lambda f, x: f(x, 2), ["[1, 0, 8, 8]"]),
    ("max_pool2d", (1, 1, 8, 8), lambda f, x: f(x, 2, stride=0), ["stride should not be zero"]),
    ("max_pool2d", (1, 1, 8, 8), lambda f, x: f(x, 2, dilation=0), ["dilation should be greater than zero"]),
    ("max_pool2d", (1, 1, 8, 8), lambda f, x: f(x, 0, stride=1), ["kernel size should be greater than zero"]),
    ("max_pool2d", (1, 1, 8, 8), lambda f, x: f(x, (2, 2, 2)), ["kernel_size must either be a single int, or a "
                                                                "tuple of two ints"]),
    ("avg_pool2d", (1, 1, 8, 8), lambda f, x: f(x, 2, (2, 2, 2)), ["stride must either be omitted"]),
    ("avg_pool2d", (1, 1, 8, 8), lambda f, x: f(x, 2, divisor_override=0), ["divisor must be not zero"]),
    ("max_pool2d", (1, 1, 8, 8), lambda f, x: f(x, 2, padding=-1), ["pad must be non-negative"]),
    ("max_pool1d", (1, 1, 2), lambda f, x: f(x, 3), ["max_pool1d() Invalid computed output size: 0"]),
    ("max_pool1d", (1, 1, 2, 4), lambda f, x: f(x, 3), ["max_pool1d", "[1, 1, 2, 4]"]),
    ("max_pool1d", (1, 2, 8), lambda f, x: f(x, 2, padding=2), ["padding should be at most half of kernel size"]),
    ("max_pool1d", (1, 2, 8), lambda f, x: f(x, 0), ["kernel_size must be greater than zero"]),
    ("max_pool1d", (1, 2, 8), lambda f, x: f(x, (2, 2)), ["size 1 but got size 2"]),
    ("avg_pool1d", (1, 1, 2, 4), lambda f, x: f(x, 3), ["Expected 2 to 3 dimensions", "avg_pool1d"]),
    ("avg_pool1d", (1, 1, 8), lambda f, x: f(x, 2, padding=2), ["pad should be at most half"]),
    ("avg_pool1d", (1, 2, 8), lambda f, x: f(x, 9), ["Calculated output size: (2x1x0)"]),
    ("adaptive_avg_pool2d", (2, 8), lambda f, x: f(x, 2), ["Expected 3D or 4D tensor", "[2, 8]"]),
    ("adaptive_avg_pool2d", (1, 2, 8, 8), lambda f, x: f(x, (-1, 2)), ["greater than or equal to 0"]),
    ("adaptive_avg_pool2d", (1, 2, 0, 8), lambda f, x: f(x, (2, 2)), ["non-zero size for non-batch dimensions",
                                                                     "dimension 2 being empty"]),
    ("adaptive_avg_pool2d", (1, 2, 8, 8), lambda f, x: f(x, (2, 2, 2)), ["output_size must be 2"]),
    ("adaptive_max_pool2d", (2, 8), lambda f, x: f(x, 2), ["Expected 3D or 4D tensor", "[2, 8]"]),
    ("adaptive_max_pool2d", (1, 2, 0, 4), lambda f, x: f(x, (1, 2)), ["dimension 2 being empty"]),
    ("adaptive_avg_pool1d", (8,), lambda f, x: f(x, 2), ["Expected 2 to 3 dimensions"]),
    ("adaptive_avg_pool1d", (1, 2, 8), lambda f, x: f(x, (2, 2)), ["should contain one int"]),
    ("adaptive_max_pool1d", (8,), lambda f, x: f(x, 2), ["Expected 2 to 3 dimensions"]),
]


@pytest.mark.parametrize("name,shape,call,facts", POOL_ERRORS, ids=lambda v: str(v)[:30])
def test_pool_errors(name, shape, call, facts):
    x = np.ones(shape, np.float32)
    assert_same_exception(lambda: call(fn_of(LIB, name), to_lib(LIB, x)),
                          lambda: call(getattr(TF, name), torch.tensor(x)), contains=facts, name=f"{name} {shape}")


def test_adaptive_avg_int_error():
    x = np.ones((1, 1, 8, 8), np.int64)
    assert_same_exception(lambda: fn_of(LIB, "adaptive_avg_pool2d")(to_lib(LIB, x), 2),
                          lambda: TF.adaptive_avg_pool2d(torch.tensor(x), 2),
                          contains=['"adaptive_avg_pool2d" not implemented for \'Long\''])


# -- node names --------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda F, x: F["conv2d"](x, x.new_ones((2, 1, 3, 3))),
    lambda F, x: F["conv2d"](x[0], x.new_ones((2, 1, 3, 3))),
    lambda F, x: F["conv1d"](x[0], x.new_ones((2, 8, 3))),
    lambda F, x: F["conv1d"](x[0, 0], x.new_ones((2, 8, 3))),
    lambda F, x: F["max_pool2d"](x, 2),
    lambda F, x: F["max_pool2d"](x, 2, return_indices=True)[0],
    lambda F, x: F["max_pool1d"](x[0], 2),
    lambda F, x: F["avg_pool2d"](x, 2),
    lambda F, x: F["avg_pool1d"](x[0], 2),
    lambda F, x: F["adaptive_avg_pool2d"](x, 3),
    lambda F, x: F["adaptive_avg_pool2d"](x, 1),
    lambda F, x: F["adaptive_avg_pool2d"](x, (None, 1)),
    lambda F, x: F["adaptive_max_pool2d"](x, 3),
    lambda F, x: F["adaptive_avg_pool1d"](x[0], 3),
    lambda F, x: F["adaptive_max_pool1d"](x[0], 3),
])
def test_node_names(call):
    names = []
    for lib in (LIB, torch):
        x = to_lib(lib, np.ones((1, 1, 8, 8), np.float32), True)
        funcs = {n: fn_of(lib, n) for n in FN}
        y = call(funcs, x * 1)
        names.append((y.grad_fn.name(), [n.name() if n is not None else None
                                         for n, _ in y.grad_fn.next_functions][:1]))
    assert names[0] == names[1]


@pytest.mark.parametrize("shape,k,s", [((256, 6, 28, 28), 2, 2), ((96, 7, 27, 29), 2, 2), ((64, 16, 30, 30), 3, 3),
                                       ((64, 16, 30, 30), 3, 2)])
def test_avg_pool_big_batches_split_between_threads(shape, k, s):
    """Batches of a megabyte or more are pooled image-range by image-range on two threads (and, when the
    windows tile the input, scattered back by one broadcast division): same values as torch."""
    saved = LIB.get_num_threads()
    LIB.set_num_threads(2)
    try:
        rng = np.random.default_rng(5)
        x = rng.standard_normal(shape).astype(np.float32)
        a = to_lib(LIB, x, requires_grad=True)
        b = torch.tensor(x, requires_grad=True)
        ya = LIB.nn.functional.avg_pool2d(a, k, s)
        yb = torch.nn.functional.avg_pool2d(b, k, s)
        np.testing.assert_allclose(to_numpy(ya), yb.detach().numpy(), rtol=1e-6, atol=1e-6)
        g = rng.standard_normal(tuple(yb.shape)).astype(np.float32)
        ya.backward(to_lib(LIB, g))
        yb.backward(torch.tensor(g))
        np.testing.assert_allclose(to_numpy(a.grad), b.grad.numpy(), rtol=1e-6, atol=1e-6)
    finally:
        LIB.set_num_threads(saved)


@pytest.mark.parametrize("x_shape,w_shape,stride,padding,dilation", [
    ((1, 8, 40, 40), (16, 8, 3, 3), 1, 1, 1),      # ResNet-like: the fused forward and the fused input gradient
    ((1, 3, 70, 66), (8, 3, 5, 5), 2, 2, 1),       # strided
    ((1, 4, 50, 45), (6, 4, 3, 3), 1, 2, 2),       # dilated
    ((1, 5, 36, 36), (7, 5, 1, 1), 1, 0, 1),       # 1x1 unpadded: columns are a view, no fused path
])
def test_conv_one_big_image_on_two_threads(x_shape, w_shape, stride, padding, dilation):
    """At batch 1 each thread builds the columns of its output rows and multiplies them out, and the input
    gradient is made channel block by channel block: the same values as torch."""
    saved = LIB.get_num_threads()
    LIB.set_num_threads(2)
    try:
        rng = np.random.default_rng(7)
        x = rng.standard_normal(x_shape).astype(np.float32)
        w = rng.standard_normal(w_shape).astype(np.float32)
        bias = rng.standard_normal(w_shape[0]).astype(np.float32)
        xa, wa, ba = (to_lib(LIB, v, requires_grad=True) for v in (x, w, bias))
        xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, w, bias))
        ya = LIB.nn.functional.conv2d(xa, wa, ba, stride, padding, dilation)
        yt = TF.conv2d(xt, wt, bt, stride, padding, dilation)
        np.testing.assert_allclose(to_numpy(ya), yt.detach().numpy(), rtol=1e-4, atol=1e-4)
        g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
        ya.backward(to_lib(LIB, g))
        yt.backward(torch.tensor(g))
        for a, t in ((xa, xt), (wa, wt), (ba, bt)):
            np.testing.assert_allclose(to_numpy(a.grad), t.grad.numpy(), rtol=1e-4, atol=1e-3)
    finally:
        LIB.set_num_threads(saved)
