"""Helpers for the nn differential tests: the same layer in the library under test and in torch.

A torch layer is built first (torch's own initialisation), then its parameters and buffers are
copied into the layer of the library under test through NumPy; both layers run on the same
input, and the output, the input gradient, every parameter gradient and every buffer are
compared.  Everything crosses the boundary as NumPy arrays (``tests/torch_compare.py``).

With ``EMBER_TEST_LIB=torch`` the "library under test" is torch itself, which checks the tests.
"""
from __future__ import annotations

import importlib
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import (LIB, LIB_NAME, REF, assert_same, to_lib,  # noqa: E402,F401
                           to_numpy, upstream_gradients)

nn = importlib.import_module(f"{LIB_NAME}.nn")
F = importlib.import_module(f"{LIB_NAME}.nn.functional")
init = importlib.import_module(f"{LIB_NAME}.nn.init")
tnn = torch.nn
TF = torch.nn.functional

# float32: the two libraries sum in different orders (im2col + GEMM vs oneDNN), so a few ulps of
# the accumulated magnitude; float64 leaves only rounding noise.
TOL = {"float32": (2e-4, 2e-5), "float64": (1e-9, 1e-10)}

LIB_DTYPE = {"float32": LIB.float32, "float64": LIB.float64}
REF_DTYPE = {"float32": torch.float32, "float64": torch.float64}


def fn_of(lib):
    """The functional module of ``lib`` (ember.nn.functional or torch.nn.functional)."""
    return TF if lib is torch else F


def nn_of(lib):
    return tnn if lib is torch else nn


def lib_name_of(lib):
    return "torch" if lib is torch else LIB_NAME


def rand(shape, seed=0, dtype="float32", low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


def randn(shape, seed=0, dtype="float32", scale=1.0, shift=0.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale + shift).astype(dtype)


# ---------------------------------------------------------------------------------------
# Copying weights through NumPy
# ---------------------------------------------------------------------------------------

def copy_weights(ref_layer, lib_layer):
    """Every parameter and buffer of the torch layer -> the same-named one of the other layer.

    Parameters go through ``param.data = lib.tensor(numpy)``, buffers likewise; the name sets
    must agree (a missing or extra name is itself a divergence).
    """
    lib_params = dict(lib_layer.named_parameters())
    ref_params = dict(ref_layer.named_parameters())
    assert list(lib_params) == list(ref_params), \
        f"parameter names {list(lib_params)} != torch's {list(ref_params)}"
    for name, p in ref_params.items():
        lib_params[name].data = to_lib(LIB, to_numpy(p))
    lib_bufs = dict(lib_layer.named_buffers())
    ref_bufs = dict(ref_layer.named_buffers())
    assert list(lib_bufs) == list(ref_bufs), f"buffer names {list(lib_bufs)} != torch's {list(ref_bufs)}"
    for name, b in ref_bufs.items():
        lib_bufs[name].data = to_lib(LIB, to_numpy(b))
    return lib_layer


def numpy_state_dict(module):
    """state_dict -> {key: NumPy array}."""
    return {k: to_numpy(v) for k, v in module.state_dict().items()}


def state_dict_to(lib, arrays):
    """{key: NumPy array} -> {key: tensor of lib}."""
    return {k: to_lib(lib, v) for k, v in arrays.items()}


def state_signature(module):
    """[(key, shape, dtype)] of a module's state_dict, in order."""
    return [(k, tuple(v.shape), str(v.dtype)) for k, v in module.state_dict().items()]


# ---------------------------------------------------------------------------------------
# Running a layer in both libraries
# ---------------------------------------------------------------------------------------

def _backward(out, grads, lib):
    outs = out if isinstance(out, (tuple, list)) else [out]
    outs = [o for o in outs if o.dtype.is_floating_point and o.requires_grad]
    for k, (o, g) in enumerate(zip(outs, grads)):
        o.backward(to_lib(lib, g), retain_graph=k < len(outs) - 1)


def compare_layer(ref_layer, lib_layer, x, *, train=True, rtol=None, atol=None, name="layer", seed=0,
                  input_grad=None, steps=1, check_buffers=True, zero_grad=True):
    """Run both layers on ``x`` (NumPy) ``steps`` times, comparing after each step.

    Output, input gradient (when ``x`` is floating), every parameter gradient (by name, None-ness
    included) and, when ``check_buffers``, every buffer (running stats, num_batches_tracked).
    Returns (lib output, torch output) of the last step.
    """
    ref_layer.train(train)
    lib_layer.train(train)
    if input_grad is None:
        input_grad = np.asarray(x).dtype.kind == "f"
    out = ref = None
    for step in range(steps):
        what = f"{name} [{'train' if train else 'eval'}, step {step}]"
        if zero_grad:
            ref_layer.zero_grad()
            lib_layer.zero_grad()
        xr = to_lib(REF, x, requires_grad=input_grad)
        xl = to_lib(LIB, x, requires_grad=input_grad)
        ref = ref_layer(xr)
        out = lib_layer(xl)
        assert_same(out, ref, rtol, atol, name=f"{what} output")
        grads = upstream_gradients(ref, seed + step)
        has_graph = any(o.requires_grad for o in (ref if isinstance(ref, (tuple, list)) else [ref]))
        if has_graph:
            _backward(ref, grads, REF)
            _backward(out, grads, LIB)
        if input_grad:
            if (xl.grad is None) != (xr.grad is None):
                raise AssertionError(f"{what}: input .grad is {xl.grad is None and 'None' or 'set'}, torch's is "
                                     f"{xr.grad is None and 'None' or 'set'}")
            if xr.grad is not None:
                assert_same(xl.grad, xr.grad, rtol, atol, name=f"{what} input grad")
        compare_param_grads(ref_layer, lib_layer, rtol, atol, what)
        if check_buffers:
            compare_buffers(ref_layer, lib_layer, rtol, atol, what)
    return out, ref


def compare_param_grads(ref_layer, lib_layer, rtol, atol, what):
    lib_params = dict(lib_layer.named_parameters())
    for pname, rp in ref_layer.named_parameters():
        lp = lib_params[pname]
        if (lp.grad is None) != (rp.grad is None):
            raise AssertionError(f"{what}: {pname}.grad is {'None' if lp.grad is None else 'set'}, torch's is "
                                 f"{'None' if rp.grad is None else 'set'}")
        if rp.grad is not None:
            assert_same(lp.grad, rp.grad, rtol, atol, name=f"{what} grad of {pname}")


def compare_params(ref_layer, lib_layer, rtol, atol, what):
    lib_params = dict(lib_layer.named_parameters())
    for pname, rp in ref_layer.named_parameters():
        assert_same(lib_params[pname], rp, rtol, atol, name=f"{what} parameter {pname}")


def compare_buffers(ref_layer, lib_layer, rtol, atol, what):
    lib_bufs = dict(lib_layer.named_buffers())
    ref_bufs = dict(ref_layer.named_buffers())
    assert list(lib_bufs) == list(ref_bufs), f"{what}: buffers {list(lib_bufs)} != torch's {list(ref_bufs)}"
    for bname, rb in ref_bufs.items():
        assert_same(lib_bufs[bname], rb, rtol, atol, name=f"{what} buffer {bname}")


def make_pair(cls_name, *args, dtype="float32", copy=True, **kwargs):
    """(torch layer, lib layer) of the same class and options, the lib layer holding torch's weights."""
    ref_layer = getattr(tnn, cls_name)(*args, **kwargs)
    lib_layer = getattr(nn, cls_name)(*args, **kwargs)
    if dtype != "float32":
        ref_layer.to(REF_DTYPE[dtype])
        lib_layer.to(LIB_DTYPE[dtype])
    if copy:
        copy_weights(ref_layer, lib_layer)
    return ref_layer, lib_layer


def assert_same_repr(lib_obj, ref_obj, what=""):
    a, b = repr(lib_obj), repr(ref_obj)
    if a != b:
        raise AssertionError(f"repr{' of ' + what if what else ''} differs:\n{LIB_NAME}:\n{a}\ntorch:\n{b}")
