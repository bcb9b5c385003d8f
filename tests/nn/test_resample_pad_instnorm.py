"""Padding layers and F.pad modes, PixelShuffle/PixelUnshuffle, InstanceNorm1d/2d/3d, F.interpolate and
Upsample vs torch: outputs and gradients (identical weights, every mode and option, unbatched and empty
batches, float32 and float64), running statistics, reprs, and the errors (type and message)."""
import pathlib
import sys
import warnings

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import (LIB, TOL, F, TF, assert_same_repr, compare_layer, copy_weights, fn_of, nn, nn_of,  # noqa: E402
                        rand, state_signature, tnn, to_lib)
from torch_compare import assert_same_exception, check_grad  # noqa: E402

DTYPES = ["float32", "float64"]


def same_error(fn, exact=True):
    lib_exc, ref_exc = assert_same_exception(lambda: fn(LIB), lambda: fn(torch))
    if exact:
        assert str(lib_exc) == str(ref_exc)


def module_pair(make):
    return make(tnn), make(nn)


# ---------------------------------------------------------------------------------------- padding
PAD_LAYERS = [
    (lambda m: m.ReflectionPad1d(2), (2, 3, 5)), (lambda m: m.ReflectionPad1d((0, 3)), (3, 5)),
    (lambda m: m.ReflectionPad2d(1), (2, 3, 4, 5)), (lambda m: m.ReflectionPad2d((1, 0, 2, 3)), (3, 4, 5)),
    (lambda m: m.ReflectionPad3d(1), (1, 2, 3, 3, 4)),
    (lambda m: m.ReplicationPad1d((2, 1)), (2, 3, 4)), (lambda m: m.ReplicationPad2d(2), (2, 3, 4, 5)),
    (lambda m: m.ReplicationPad2d((3, 0, 1, 4)), (3, 2, 2)), (lambda m: m.ReplicationPad3d((1, 2, 0, 1, 2, 0)),
                                                                  (1, 2, 3, 3, 2)),
    (lambda m: m.ZeroPad1d(2), (2, 3, 4)), (lambda m: m.ZeroPad2d((1, 0, 2, 3)), (2, 3, 4, 5)),
    (lambda m: m.ZeroPad2d(-1), (2, 3, 4, 5)), (lambda m: m.ZeroPad3d(1), (1, 1, 2, 2, 2)),
    (lambda m: m.ConstantPad1d((1, 2), 3.5), (2, 4)), (lambda m: m.ConstantPad2d(2, -1.0), (2, 3, 4, 5)),
    (lambda m: m.ConstantPad3d((1, 0, 0, 1, 1, 1), 0.5), (2, 2, 2, 2)),
    (lambda m: m.CircularPad1d(2), (2, 3, 4)), (lambda m: m.CircularPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
    (lambda m: m.CircularPad3d(1), (1, 2, 2, 3, 3)),
    (lambda m: m.ReflectionPad2d(1), (0, 3, 4, 5)), (lambda m: m.ZeroPad2d(1), (0, 3, 4, 5)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make,shape", PAD_LAYERS, ids=lambda v: v if isinstance(v, tuple) else "")
def test_padding_layers(make, shape, dtype):
    ref, lib = module_pair(make)
    assert_same_repr(lib, ref)
    compare_layer(ref, lib, rand(shape, seed=len(shape), dtype=dtype), rtol=TOL[dtype][0], atol=TOL[dtype][1],
                  name=repr(ref))


@pytest.mark.parametrize("make,shape", [
    (lambda m: m.ReflectionPad2d(4), (2, 3, 4, 5)),       # pad >= size
    (lambda m: m.ReflectionPad1d(5), (2, 3, 5)),
    (lambda m: m.ReflectionPad2d(1), (2, 3)),             # too few dims
    (lambda m: m.ReplicationPad2d(1), (1, 2, 3, 4, 5)),   # too many dims
    (lambda m: m.CircularPad2d(1), (3, 4)),
    (lambda m: m.CircularPad1d(5), (2, 3, 4)),            # wraps more than once
    (lambda m: m.ZeroPad2d(1), (3,)),
])
def test_padding_layer_errors(make, shape):
    same_error(lambda lib: make(nn_of(lib))(to_lib(lib, rand(shape))))


@pytest.mark.parametrize("pad,mode,value", [((1, 1), "foo", None), ((1, 1), "reflect", 2.0),
                                            ((1, 1, 1, 1), "replicate", None), ((1, 2, 3), "reflect", None),
                                            ((1,) * 8, "circular", None)], ids=str)
def test_f_pad_errors(pad, mode, value):
    x = rand((2, 3, 4, 5))
    same_error(lambda lib: fn_of(lib).pad(to_lib(lib, x[0, 0] if pad == (1, 1, 1, 1) else x), pad, mode=mode,
                                          value=value))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_f_pad_modes_with_negative_and_zero_value(mode):
    x = rand((2, 3, 4, 5), seed=2)
    check_grad(lambda lib, t: fn_of(lib).pad(t, (2, -1, -1, 1), mode=mode), [x], [True], *TOL["float32"],
               name=f"pad {mode} negative")
    check_grad(lambda lib, t: fn_of(lib).pad(t, (1, 1), mode=mode, value=0), [x[0]], [True], *TOL["float32"],
               name=f"pad {mode} value=0")


# ---------------------------------------------------------------------------------------- pixel shuffle
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("r,shape", [(2, (2, 8, 3, 4)), (3, (1, 9, 2, 2)), (2, (4, 3, 3)), (2, (2, 3, 4, 2, 2)),
                                     (1, (2, 3, 4, 4))], ids=str)
def test_pixel_shuffle_and_unshuffle(r, shape, dtype):
    x = rand(shape, seed=3, dtype=dtype)
    ref, lib = module_pair(lambda m: m.PixelShuffle(r))
    assert_same_repr(lib, ref)
    compare_layer(ref, lib, x, name=f"PixelShuffle({r})")
    y = TF.pixel_shuffle(torch.from_numpy(x), r).numpy()
    ref, lib = module_pair(lambda m: m.PixelUnshuffle(r))
    assert_same_repr(lib, ref)
    compare_layer(ref, lib, y, name=f"PixelUnshuffle({r})")
    # one is the other's inverse
    back = F.pixel_unshuffle(F.pixel_shuffle(to_lib(LIB, x), r), r)
    np.testing.assert_array_equal(back.numpy(), x)


def test_pixel_shuffle_empty_batch():
    # forward only: torch's own PixelShuffleBackward0 fails on an empty batch (and torch's pixel_unshuffle
    # returns an empty input unchanged, (0, 1, 4, 4) for (0, 4, 2, 2): ember gives the documented shape)
    for fn, r, shape in (("pixel_shuffle", 2, (0, 4, 2, 2)),):
        x = np.zeros(shape, np.float32)
        out = getattr(F, fn)(to_lib(LIB, x), r)
        assert tuple(out.shape) == tuple(getattr(TF, fn)(torch.from_numpy(x), r).shape)


@pytest.mark.parametrize("call", [
    lambda f, lib: f.pixel_shuffle(to_lib(lib, rand((2, 5, 3, 3))), 2),
    lambda f, lib: f.pixel_shuffle(to_lib(lib, rand((5, 3))), 2),
    lambda f, lib: f.pixel_shuffle(to_lib(lib, rand((2, 8, 3, 3))), 0),
    lambda f, lib: f.pixel_unshuffle(to_lib(lib, rand((2, 2, 5, 4))), 2),
    lambda f, lib: f.pixel_unshuffle(to_lib(lib, rand((2, 2, 4, 5))), 2),
    lambda f, lib: f.pixel_unshuffle(to_lib(lib, rand((4, 5))), 2),
    lambda f, lib: f.pixel_unshuffle(to_lib(lib, rand((2, 2, 4, 4))), -1),
])
def test_pixel_shuffle_errors(call):
    same_error(lambda lib: call(fn_of(lib), lib))


# ---------------------------------------------------------------------------------------- instance norm
INSTANCE_CASES = [
    ("InstanceNorm1d", dict(), (3, 4, 6)), ("InstanceNorm1d", dict(affine=True), (2, 4, 5)),
    ("InstanceNorm1d", dict(track_running_stats=True), (3, 4, 6)), ("InstanceNorm1d", dict(affine=True), (4, 7)),
    ("InstanceNorm2d", dict(), (2, 3, 4, 5)), ("InstanceNorm2d", dict(affine=True, eps=1e-3), (2, 3, 4, 5)),
    ("InstanceNorm2d", dict(affine=True, track_running_stats=True, momentum=0.3), (2, 3, 4, 5)),
    ("InstanceNorm2d", dict(track_running_stats=True, momentum=None), (2, 3, 3, 3)),
    ("InstanceNorm2d", dict(affine=True, bias=False), (3, 4, 5)),
    ("InstanceNorm3d", dict(affine=True, track_running_stats=True), (2, 2, 3, 2, 3)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw,shape", INSTANCE_CASES, ids=str)
def test_instance_norm(name, kw, shape, dtype):
    features = shape[1] if len(shape) == {"InstanceNorm1d": 3, "InstanceNorm2d": 4, "InstanceNorm3d": 5}[name] \
        else shape[0]
    ref = getattr(tnn, name)(features, **kw, dtype=getattr(torch, dtype))
    lib = getattr(nn, name)(features, **kw, dtype=getattr(LIB, dtype))
    assert_same_repr(lib, ref)
    assert state_signature(lib) == state_signature(ref)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.rand(p.shape, dtype=p.dtype) + 0.5)
    copy_weights(ref, lib)
    x = rand(shape, seed=4, dtype=dtype) * 3 + 1
    for train in (True, False):
        compare_layer(ref, lib, x, train=train, steps=2, rtol=TOL[dtype][0], atol=TOL[dtype][1], name=name)


def test_instance_norm_empty_batch_and_functional():
    ref, lib = module_pair(lambda m: m.InstanceNorm1d(3, track_running_stats=True))
    compare_layer(ref, lib, np.zeros((0, 3, 4), np.float32), name="InstanceNorm1d empty batch")
    x = rand((2, 3, 5), seed=5)
    w, b = rand((3,), seed=6), rand((3,), seed=7)
    check_grad(lambda lib, t, w, b: fn_of(lib).instance_norm(t, weight=w, bias=b, eps=1e-3), [x, w, b],
               [True, True, True], *TOL["float32"], name="F.instance_norm")


def test_instance_norm_num_features_mismatch_warns_as_torch():
    x = rand((2, 4, 5, 5))
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        nn.InstanceNorm2d(3)(to_lib(LIB, x))
    with warnings.catch_warnings(record=True) as expected:
        warnings.simplefilter("always")
        tnn.InstanceNorm2d(3)(torch.from_numpy(x))
    assert [str(w.message) for w in got] == [str(w.message) for w in expected]


@pytest.mark.parametrize("call", [
    lambda m, lib: m.InstanceNorm1d(3)(to_lib(lib, rand((2, 3, 4, 5)))),
    lambda m, lib: m.InstanceNorm2d(3)(to_lib(lib, rand((3, 4)))),
    lambda m, lib: m.InstanceNorm2d(3, affine=True)(to_lib(lib, rand((2, 4, 5, 5)))),
    lambda m, lib: m.InstanceNorm1d(3)(to_lib(lib, rand((2, 3, 1)))),
])
def test_instance_norm_errors(call):
    same_error(lambda lib: call(nn_of(lib), lib))


# ---------------------------------------------------------------------------------------- interpolate
INTERP_OPTIONS = [dict(scale_factor=2), dict(scale_factor=1.7), dict(scale_factor=0.6), dict(size=7),
                  dict(size=3), dict(scale_factor=2.3, recompute_scale_factor=True), dict(scale_factor=1)]
INTERP_CASES = [(shape, dict(kw, mode=mode, align_corners=ac))
                for shape, modes in [((2, 3, 5), ["nearest", "nearest-exact", "linear", "area"]),
                                     ((1, 2, 4, 5), ["nearest", "nearest-exact", "bilinear", "area"]),
                                     ((1, 1, 3, 4, 2), ["nearest", "nearest-exact", "trilinear"])]
                for mode in modes for kw in INTERP_OPTIONS
                for ac in ([None] if mode in ("nearest", "nearest-exact", "area") else [False, True])]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kw", INTERP_CASES, ids=str)
def test_interpolate(shape, kw, dtype):
    x = rand(shape, seed=8, dtype=dtype)
    tol = TOL[dtype] if dtype == "float64" else (1e-5, 1e-6)
    check_grad(lambda lib, t: fn_of(lib).interpolate(t, **kw), [x], [True], *tol, name=f"interpolate {kw}")


def test_interpolate_per_axis_sizes_and_scales():
    x = rand((2, 2, 4, 6), seed=9)
    for kw in (dict(size=(3, 9), mode="bilinear"), dict(scale_factor=(1.5, 0.5), mode="nearest"),
               dict(size=[8, 5], mode="bilinear", align_corners=True), dict(size=(1, 1), mode="bilinear"),
               dict(size=(1, 7), mode="bilinear", align_corners=True)):
        check_grad(lambda lib, t: fn_of(lib).interpolate(t, **kw), [x], [True], 1e-5, 1e-6, name=str(kw))


def test_interpolate_keeps_inf_in_its_own_rows():
    x = rand((1, 1, 4, 4), seed=10)
    x[0, 0, 0, 0] = np.inf
    for kw in (dict(scale_factor=2, mode="nearest"), dict(scale_factor=2, mode="bilinear")):
        ref = TF.interpolate(torch.from_numpy(x), **kw).numpy()
        out = F.interpolate(to_lib(LIB, x), **kw).numpy()
        np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
        np.testing.assert_allclose(out, ref, rtol=1e-6)


@pytest.mark.parametrize("shape,kw", [
    ((1, 2, 4, 5), dict(size=3, scale_factor=2)), ((1, 2, 4, 5), dict()),
    ((1, 2, 4, 5), dict(scale_factor=2, align_corners=True)),
    ((1, 2, 4, 5), dict(size=(3, 4, 5))), ((1, 2, 4, 5), dict(scale_factor=(2, 2, 2))),
    ((1, 2, 4, 5), dict(size=4, recompute_scale_factor=True)),
    ((1, 2, 4), dict(scale_factor=2, mode="bilinear")), ((1, 2, 4, 5), dict(scale_factor=2, mode="linear")),
    ((1, 2, 4, 5), dict(scale_factor=2, mode="trilinear")), ((2, 4), dict(scale_factor=2)),
    ((1, 2, 4, 5), dict(size=(2.5, 3))), ((1, 2, 4, 5), dict(size=0)), ((1, 2, 4), dict(size=0, mode="linear")),
], ids=str)
def test_interpolate_errors(shape, kw):
    same_error(lambda lib: fn_of(lib).interpolate(to_lib(lib, rand(shape)), **kw), exact=kw != dict(size=(2.5, 3)))


@pytest.mark.parametrize("make,shape", [
    (lambda m: m.Upsample(scale_factor=2), (2, 3, 4, 4)),
    (lambda m: m.Upsample(scale_factor=(2, 1.5), mode="bilinear"), (1, 2, 3, 4)),
    (lambda m: m.Upsample(size=(5, 7), mode="bilinear", align_corners=True), (1, 2, 3, 4)),
    (lambda m: m.Upsample(size=9, mode="linear"), (2, 2, 4)),
    (lambda m: m.Upsample(scale_factor=3, mode="nearest-exact", recompute_scale_factor=True), (1, 1, 2, 3)),
    (lambda m: m.UpsamplingNearest2d(scale_factor=2), (1, 2, 3, 3)),
    (lambda m: m.UpsamplingBilinear2d(size=(4, 6)), (1, 2, 3, 3)),
    (lambda m: m.Upsample(scale_factor=2), (0, 3, 4, 4)),
], ids=lambda v: v if isinstance(v, tuple) else "")
def test_upsample_layers(make, shape):
    ref, lib = module_pair(make)
    assert_same_repr(lib, ref)
    for attr in ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "name"):
        assert getattr(lib, attr) == getattr(ref, attr)
    compare_layer(ref, lib, rand(shape, seed=11), rtol=1e-5, atol=1e-6, name=repr(ref))


def test_upsample_grad_fn_names():
    x = rand((1, 1, 2, 2))
    for mode in ("nearest", "bilinear"):
        t = to_lib(LIB, x, requires_grad=True)
        r = torch.from_numpy(x).requires_grad_()
        assert F.interpolate(t, scale_factor=2, mode=mode).grad_fn.name() == \
            TF.interpolate(r, scale_factor=2, mode=mode).grad_fn.name()
