"""nn.functional vs torch.nn.functional: forward values and gradients of every argument.

Each case is ``fn(lib, *tensors)`` run with the library under test and with torch on the same
NumPy inputs (``torch_compare.check_grad``): the output and every input's ``.grad`` after
backpropagating the same random upstream gradient must match.
"""
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import LIB, LIB_NAME, F, TF, fn_of, rand, randn, to_lib, to_numpy  # noqa: E402
from torch_compare import assert_same, assert_same_exception, check_grad, run_forward  # noqa: E402

F32 = (1e-5, 1e-6)
CONV_TOL = (2e-4, 2e-5)


# ---------------------------------------------------------------------------------------
# relu, softmax, log_softmax
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu(dtype):
    x = rand((4, 5), seed=1, dtype=dtype)
    check_grad(lambda lib, x: fn_of(lib).relu(x), [x], [True], name="F.relu")


def test_relu_inplace():
    x = rand((4, 5), seed=2)

    def fn(lib, x):
        y = x * 2
        out = fn_of(lib).relu(y, inplace=True)
        assert out is y, "relu(inplace=True) must return its input"
        return out
    check_grad(fn, [x], [True], name="F.relu(inplace=True)")
    check_grad(lambda lib, x: fn_of(lib).relu_(x * 1), [x], [True], name="F.relu_")


def test_relu_at_zero():
    check_grad(lambda lib, x: fn_of(lib).relu(x), [np.array([-1.0, 0.0, 1.0], np.float32)], [True],
               name="F.relu at 0")


SOFTMAX_CASES = [((5,), 0), ((3, 5), 1), ((3, 5), 0), ((3, 5), -1), ((2, 3, 4), 1), ((2, 3, 4), -1),
                 ((2, 3, 4), 0), ((2, 1, 4), 1)]


@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES, ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_dims(name, shape, dim, dtype):
    x = rand(shape, seed=3, dtype=dtype, low=-5, high=5)
    check_grad(lambda lib, x: getattr(fn_of(lib), name)(x, dim), [x], [True], name=f"F.{name}(dim={dim})")


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("values", [[1e4, 0.0, -1e4], [1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1002.0],
                                    [88.0, 89.0, 90.0], [3e38, 0.0, -3e38]], ids=str)
def test_softmax_large_values(name, values):
    x = np.array([values, values[::-1]], np.float32)
    check_grad(lambda lib, x: getattr(fn_of(lib), name)(x, 1), [x], [True], rtol=1e-5, atol=1e-6,
               name=f"F.{name} on {values}")


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_dtype_argument(name):
    x = rand((3, 4), seed=4)

    def fn(lib, x):
        return getattr(fn_of(lib), name)(x, dim=1, dtype=lib.float64)
    check_grad(fn, [x], [True], name=f"F.{name}(dtype=float64)")


@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_implicit_dim(name, shape):
    """dim=None picks dim 0 for 0-, 1- and 3-d inputs and 1 otherwise, with torch's deprecation warning."""
    import warnings
    x = rand(shape, seed=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(F, name)(to_lib(LIB, x))
    with warnings.catch_warnings(record=True) as ref_caught:
        warnings.simplefilter("always")
        ref = getattr(TF, name)(torch.from_numpy(x))
    assert_same(out, ref, *F32, name=f"F.{name} without dim")
    assert [str(w.message) for w in caught] == [str(w.message) for w in ref_caught]
    assert [w.filename for w in caught] == [w.filename for w in ref_caught] == [__file__]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_no_numpy_warnings_on_extreme_values(name):
    """torch is silent on +-3e38; NumPy overflow warnings must not leak out of the library either."""
    import warnings
    x = np.array([[3e38, 0.0, -3e38]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(F, name)(to_lib(LIB, x), 1)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_bad_dim_raises(name):
    x = rand((3, 4))
    assert_same_exception(lambda: getattr(F, name)(to_lib(LIB, x), 2),
                          lambda: getattr(TF, name)(torch.from_numpy(x), 2),
                          contains=["Dimension out of range"], name=f"F.{name}(dim=2) of a 2-d tensor")


# ---------------------------------------------------------------------------------------
# linear, conv, pooling
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("xshape,wshape,bias", [((4, 3), (5, 3), True), ((4, 3), (5, 3), False),
                                                ((3,), (5, 3), True), ((2, 4, 3), (5, 3), True),
                                                ((2, 3), (1, 3), True)], ids=str)
def test_linear(xshape, wshape, bias):
    arrays = [rand(xshape, seed=5), rand(wshape, seed=6)] + ([rand(wshape[:1], seed=7)] if bias else [])

    def fn(lib, x, w, b=None):
        return fn_of(lib).linear(x, w, b)
    check_grad(fn, arrays, [True] * len(arrays), rtol=F32[0], atol=F32[1], name="F.linear")


def test_linear_shape_mismatch_raises():
    x, w = rand((4, 3)), rand((5, 2))
    assert_same_exception(lambda: F.linear(to_lib(LIB, x), to_lib(LIB, w)),
                          lambda: TF.linear(torch.from_numpy(x), torch.from_numpy(w)),
                          contains=["cannot be multiplied", "4x3", "2x5"], name="F.linear mismatch")


CONV2D_F = [
    dict(xs=(2, 3, 7, 8), ws=(4, 3, 3, 3), kw={}),
    dict(xs=(2, 3, 7, 8), ws=(4, 3, 3, 3), kw=dict(stride=2, padding=1)),
    dict(xs=(2, 3, 7, 8), ws=(4, 3, 3, 2), kw=dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    dict(xs=(2, 4, 6, 6), ws=(6, 2, 3, 3), kw=dict(groups=2)),
    dict(xs=(2, 4, 6, 6), ws=(4, 1, 3, 3), kw=dict(groups=4, padding=1)),
    dict(xs=(1, 3, 6, 7), ws=(2, 3, 3, 3), kw=dict(padding="same")),
    dict(xs=(1, 3, 6, 7), ws=(2, 3, 2, 4), kw=dict(padding="same", dilation=2)),
    dict(xs=(1, 3, 6, 7), ws=(2, 3, 3, 3), kw=dict(padding="valid")),
    dict(xs=(3, 6, 7), ws=(2, 3, 3, 3), kw=dict(padding=1)),  # unbatched
]


@pytest.mark.parametrize("case", CONV2D_F, ids=lambda c: f"{c['xs']}-{c['ws']}-{c['kw']}")
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(case, bias):
    arrays = [rand(case["xs"], seed=8), rand(case["ws"], seed=9)] + ([rand(case["ws"][:1], seed=10)] if bias else [])

    def fn(lib, x, w, b=None):
        return fn_of(lib).conv2d(x, w, b, **case["kw"])
    check_grad(fn, arrays, [True] * len(arrays), rtol=CONV_TOL[0], atol=CONV_TOL[1], name=f"F.conv2d {case['kw']}")


def test_conv2d_float64():
    arrays = [rand((2, 4, 6, 5), seed=11, dtype="float64"), rand((6, 2, 3, 2), seed=12, dtype="float64"),
              rand((6,), seed=13, dtype="float64")]
    check_grad(lambda lib, x, w, b: fn_of(lib).conv2d(x, w, b, stride=(1, 2), padding=1, groups=2), arrays,
               [True] * 3, rtol=1e-9, atol=1e-10, name="F.conv2d float64")


@pytest.mark.parametrize("xs,ws,kw", [((2, 3, 9), (4, 3, 3), {}), ((2, 4, 9), (2, 2, 3), dict(groups=2, stride=2)),
                                      ((1, 3, 9), (2, 3, 4), dict(padding="same", dilation=2))], ids=str)
def test_conv1d(xs, ws, kw):
    arrays = [rand(xs, seed=14), rand(ws, seed=15), rand(ws[:1], seed=16)]
    check_grad(lambda lib, x, w, b: fn_of(lib).conv1d(x, w, b, **kw), arrays, [True] * 3, rtol=CONV_TOL[0],
               atol=CONV_TOL[1], name=f"F.conv1d {kw}")


@pytest.mark.parametrize("xs,ws,kw,contains", [
    ((2, 3, 7, 8), (4, 2, 3, 3), {}, ["expected input", "to have 2 channels, but got 3 channels"]),
    ((2, 4, 7, 8), (4, 2, 3, 3), dict(groups=3), ["groups"]),
    ((1, 3, 2, 2), (4, 3, 3, 3), {}, ["Kernel size can't be greater than actual input size"]),
    ((1, 3, 5, 5), (4, 3, 3, 3), dict(padding="same", stride=2), ["padding='same' is not supported for strided"]),
], ids=str)
def test_conv2d_errors(xs, ws, kw, contains):
    x, w = rand(xs), rand(ws)
    assert_same_exception(lambda: F.conv2d(to_lib(LIB, x), to_lib(LIB, w), **kw),
                          lambda: TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), **kw),
                          contains=contains, name=f"F.conv2d {xs} {ws} {kw}")


@pytest.mark.parametrize("kw,shape", [
    (dict(kernel_size=2), (2, 3, 8, 8)),
    (dict(kernel_size=3, stride=2, padding=1), (2, 3, 7, 9)),
    (dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1)), (1, 2, 7, 8)),
    (dict(kernel_size=3, stride=2, ceil_mode=True), (1, 2, 8, 8)),
    (dict(kernel_size=2), (3, 6, 6)),
], ids=str)
def test_max_pool2d(kw, shape):
    check_grad(lambda lib, x: fn_of(lib).max_pool2d(x, **kw), [rand(shape, seed=17)], [True], name=f"F.max_pool2d {kw}")


def test_max_pool2d_return_indices():
    x = rand((2, 3, 6, 5), seed=18)
    check_grad(lambda lib, x: fn_of(lib).max_pool2d(x, 2, stride=2, padding=1, return_indices=True), [x], [True],
               name="F.max_pool2d(return_indices=True)")


def test_max_pool2d_padding_too_large_raises():
    x = rand((1, 1, 5, 5))
    assert_same_exception(lambda: F.max_pool2d(to_lib(LIB, x), 2, padding=2),
                          lambda: TF.max_pool2d(torch.from_numpy(x), 2, padding=2),
                          contains=["pad should be at most half of effective kernel size"],
                          name="F.max_pool2d padding > kernel/2")


@pytest.mark.parametrize("kw,shape", [
    (dict(kernel_size=2), (2, 3, 8, 8)),
    (dict(kernel_size=3, stride=2, padding=1), (2, 3, 7, 9)),
    (dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), (2, 3, 7, 9)),
    (dict(kernel_size=3, stride=2, ceil_mode=True), (1, 2, 8, 8)),
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (1, 2, 6, 6)),
    (dict(kernel_size=(2, 3), divisor_override=4), (1, 2, 6, 6)),
    (dict(kernel_size=2), (3, 6, 6)),
], ids=str)
def test_avg_pool2d(kw, shape):
    check_grad(lambda lib, x: fn_of(lib).avg_pool2d(x, **kw), [rand(shape, seed=19)], [True],
               name=f"F.avg_pool2d {kw}")


@pytest.mark.parametrize("out,shape", [((1, 1), (2, 3, 7, 5)), (1, (2, 3, 7, 5)), ((3, 2), (2, 3, 7, 5)),
                                       ((4, 3), (1, 2, 9, 10)), ((5, 6), (1, 2, 3, 4)), ((None, 2), (1, 2, 4, 6)),
                                       (3, (2, 5, 7))], ids=str)
def test_adaptive_avg_pool2d(out, shape):
    check_grad(lambda lib, x: fn_of(lib).adaptive_avg_pool2d(x, out), [rand(shape, seed=20)], [True],
               name=f"F.adaptive_avg_pool2d {out}")


# ---------------------------------------------------------------------------------------
# dropout, batch_norm, layer_norm
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_dropout_not_training_is_identity(p):
    x = rand((3, 4), seed=21)
    check_grad(lambda lib, x: fn_of(lib).dropout(x * 1, p, training=False), [x], [True],
               name=f"F.dropout(p={p}, training=False)")
    xt = to_lib(LIB, x)
    assert F.dropout(xt, p, training=False) is xt, "torch returns the input itself when not training"


def test_dropout_p0_training_identity():
    check_grad(lambda lib, x: fn_of(lib).dropout(x, 0.0, training=True), [rand((3, 4))], [True],
               name="F.dropout(p=0, training=True)")


def test_dropout_default_is_training():
    """F.dropout's training defaults to True (unlike the module's eval())."""
    LIB.manual_seed(0)
    y = to_numpy(F.dropout(to_lib(LIB, np.ones((100, 100), np.float32))))
    assert 0.4 < (y == 0).mean() < 0.6 and set(np.unique(y)) <= {0.0, 2.0}


def test_dropout_invalid_p_raises():
    x = rand((2, 2))
    assert_same_exception(lambda: F.dropout(to_lib(LIB, x), 1.5), lambda: TF.dropout(torch.from_numpy(x), 1.5),
                          contains=["dropout probability has to be between 0 and 1"], name="F.dropout(p=1.5)")


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 3, 3)], ids=str)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training(shape, affine):
    """Batch statistics, running-stat update (unbiased variance) and gradients of input, weight, bias."""
    x = randn(shape, seed=22, scale=2.0, shift=1.0)
    rm, rv = rand((4,), seed=23), rand((4,), seed=24, low=0.5, high=2.0)
    w, b = rand((4,), seed=25), rand((4,), seed=26)
    stats = {}

    def fn(lib, x, *wb):
        mean, var = to_lib(lib, rm), to_lib(lib, rv)
        out = fn_of(lib).batch_norm(x, mean, var, *wb, training=True, momentum=0.2, eps=1e-3)
        stats["torch" if lib is torch else LIB_NAME] = (mean, var)
        return out
    arrays = [x, w, b] if affine else [x]
    check_grad(fn, arrays, [True] * len(arrays), rtol=2e-4, atol=2e-5, name=f"F.batch_norm training {shape}")
    if LIB_NAME != "torch":
        for a, r, what in zip(stats[LIB_NAME], stats["torch"], ("running_mean", "running_var")):
            assert_same(a, r, 1e-5, 1e-6, name=f"F.batch_norm {what} after update")


@pytest.mark.parametrize("shape", [(6, 4), (2, 4, 3, 3)], ids=str)
def test_batch_norm_eval(shape):
    arrays = [randn(shape, seed=27), rand((4,), seed=28), rand((4,), seed=29, low=0.5, high=2.0),
              rand((4,), seed=30), rand((4,), seed=31)]

    def fn(lib, x, rm, rv, w, b):
        return fn_of(lib).batch_norm(x, rm, rv, w, b, training=False, eps=1e-5)
    check_grad(fn, arrays, [True, False, False, True, True], rtol=1e-5, atol=1e-6, name="F.batch_norm eval")


def test_batch_norm_training_without_running_stats():
    arrays = [randn((5, 3, 4), seed=32)]
    check_grad(lambda lib, x: fn_of(lib).batch_norm(x, None, None, training=True), arrays, [True], rtol=2e-4,
               atol=2e-5, name="F.batch_norm(None, None, training=True)")


@pytest.mark.parametrize("shape,ns,affine", [((3, 5), (5,), True), ((2, 3, 4), (3, 4), True),
                                             ((2, 3, 4), (4,), False), ((4,), (4,), True)], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_norm(shape, ns, affine, dtype):
    arrays = [randn(shape, seed=33, dtype=dtype, scale=2.0, shift=1.0)]
    if affine:
        arrays += [rand(ns, seed=34, dtype=dtype), rand(ns, seed=35, dtype=dtype)]
    tol = (2e-4, 2e-5) if dtype == "float32" else (1e-9, 1e-10)
    check_grad(lambda lib, x, *wb: fn_of(lib).layer_norm(x, ns, *wb, eps=1e-4), arrays, [True] * len(arrays),
               rtol=tol[0], atol=tol[1], name=f"F.layer_norm {shape} {ns}")


def test_layer_norm_weight_only():
    arrays = [randn((3, 4), seed=36), rand((4,), seed=37)]
    check_grad(lambda lib, x, w: fn_of(lib).layer_norm(x, (4,), w), arrays, [True, True], rtol=2e-4, atol=2e-5,
               name="F.layer_norm(weight only)")


def test_layer_norm_shape_mismatch_raises():
    x = rand((3, 4))
    assert_same_exception(lambda: F.layer_norm(to_lib(LIB, x), (3,)),
                          lambda: TF.layer_norm(torch.from_numpy(x), (3,)),
                          contains=["normalized_shape=[3]", "expected input with shape [*, 3]"],
                          name="F.layer_norm shape mismatch")


# ---------------------------------------------------------------------------------------
# pad
# ---------------------------------------------------------------------------------------

PAD_CASES = [
    ("constant", (2, 3, 4), (1, 2), {}),
    ("constant", (2, 3, 4), (1, 2, 0, 1), dict(value=-3.5)),
    ("constant", (2, 3, 4, 5), (1, 1, 2, 2, 1, 0), {}),
    ("constant", (2, 3, 4), (-1, 2), {}),           # negative: crops
    ("constant", (2, 3, 6), (-2, -1, 1, -1), {}),
    ("constant", (2, 3, 4), (0, 0), {}),
    ("reflect", (2, 3, 5), (2, 1), {}),
    ("reflect", (1, 2, 4, 5), (1, 2, 3, 0), {}),
    ("reflect", (2, 4, 5), (2, 1, 1, 2), {}),         # 3-d input, 2-d padding (unbatched)
    ("replicate", (2, 3, 5), (2, 3), {}),
    ("replicate", (1, 2, 4, 5), (3, 0, 1, 4), {}),
    ("circular", (1, 2, 4, 5), (1, 2, 2, 1), {}),
    ("reflect", (2, 3, 5), (-1, 2), {}),             # negative reflect padding
    ("replicate", (1, 2, 4, 5), (-1, 2, 1, -2), {}),  # negative replicate padding
]


@pytest.mark.parametrize("mode,shape,pad,kw", PAD_CASES, ids=str)
def test_pad(mode, shape, pad, kw):
    def fn(lib, x):
        return fn_of(lib).pad(x, pad, mode=mode, **kw)
    check_grad(fn, [rand(shape, seed=38)], [True], name=f"F.pad {mode} {pad}")


def test_pad_integer_tensor():
    x = np.arange(12, dtype=np.int64).reshape(3, 4)
    run_forward(lambda lib, x: fn_of(lib).pad(x, (1, 1), value=7), [x], name="F.pad int64")


@pytest.mark.parametrize("mode,shape,pad,contains", [
    ("reflect", (1, 2, 3), (3, 0), ["Padding size should be less than the corresponding input dimension"]),
    ("constant", (2, 3), (1, 2, 3), ["Padding length must be divisible by 2"]),
    ("constant", (2, 3), (1, 1, 1, 1, 1, 1), ["Padding length should be less than or equal to two times"]),
], ids=str)
def test_pad_errors(mode, shape, pad, contains):
    x = rand(shape)
    assert_same_exception(lambda: F.pad(to_lib(LIB, x), pad, mode=mode),
                          lambda: TF.pad(torch.from_numpy(x), pad, mode=mode), contains=contains,
                          name=f"F.pad {mode} {pad} on {shape}")


# ---------------------------------------------------------------------------------------
# one_hot, embedding
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("idx,n", [([0, 2, 1, 2], -1), ([0, 2, 1, 2], 5), ([[1, 0], [3, 3]], -1), (2, 4),
                                   ([], 3)], ids=str)
def test_one_hot(idx, n):
    x = np.array(idx, np.int64)
    run_forward(lambda lib, x: fn_of(lib).one_hot(x, n), [x], name=f"F.one_hot(num_classes={n})")


@pytest.mark.parametrize("idx,n,contains", [([0, 5], 3, ["Class values must be smaller than num_classes"]),
                                            ([0, -1], -1, ["Class values must be non-negative"]),
                                            ([0.0, 1.0], -1, ["one_hot is only applicable to index tensor"])],
                         ids=str)
def test_one_hot_errors(idx, n, contains):
    x = np.array(idx)
    if x.dtype.kind == "i":
        x = x.astype(np.int64)
    else:
        x = x.astype(np.float32)
    assert_same_exception(lambda: F.one_hot(to_lib(LIB, x), n), lambda: TF.one_hot(torch.from_numpy(x), n),
                          contains=contains, name=f"F.one_hot({idx}, {n})")


@pytest.mark.parametrize("idx,padding_idx", [([[0, 2, 4], [4, 3, 4]], None), ([[0, 2, 4], [4, 3, 4]], 4),
                                             ([1, 1, 1], 1), (3, None)], ids=str)
def test_embedding(idx, padding_idx):
    arrays = [np.array(idx, np.int64), rand((5, 3), seed=39)]
    check_grad(lambda lib, i, w: fn_of(lib).embedding(i, w, padding_idx=padding_idx), arrays, [False, True],
               name=f"F.embedding padding_idx={padding_idx}")


def test_embedding_int32_indices():
    arrays = [np.array([0, 3, 3], np.int32), rand((5, 3), seed=40)]
    check_grad(lambda lib, i, w: fn_of(lib).embedding(i, w), arrays, [False, True], name="F.embedding int32")
