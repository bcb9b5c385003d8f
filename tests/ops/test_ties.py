"""Gradients at ties and on boundaries, against torch (defect 7 of issue 8): maximum/minimum with equal
inputs (torch splits the gradient in half), max/min/amax/amin reductions with tied maxima, and clamp
with values exactly on its bounds (scalar and tensor bounds, min only, max only, both)."""
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import LIB, check_grad, to_lib  # noqa: E402

A = np.array([[1.0, 2.0, 3.0, -1.0], [0.5, 0.5, 2.0, 2.0]])
B = np.array([[1.0, 5.0, 3.0, -2.0], [0.5, 0.0, 2.0, 3.0]])     # ties with A at 5 places
TIES = np.array([[3.0, 1.0, 3.0, 3.0], [2.0, 2.0, -1.0, 0.0], [4.0, 4.0, 4.0, 4.0]])


@pytest.mark.parametrize("op", ["maximum", "minimum"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_elementwise_ties_split_the_gradient(op, dtype):
    check_grad(lambda lib, a, b: getattr(lib, op)(a, b), [A.astype(dtype), B.astype(dtype)], [True, True],
               0, 0, name=f"{op} with ties")


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_elementwise_ties_half_each(op):
    """The rule itself, spelled out: at a tie each input gets half the upstream gradient."""
    a = to_lib(LIB, np.array([2.0, 1.0, 3.0]), requires_grad=True)
    b = to_lib(LIB, np.array([2.0, 0.0, 4.0]), requires_grad=True)
    getattr(LIB, op)(a, b).backward(to_lib(LIB, np.array([1.0, 1.0, 1.0])))
    assert a.grad.numpy()[0] == 0.5 and b.grad.numpy()[0] == 0.5


@pytest.mark.parametrize("call", [
    "max()", "min()", "amax(1)", "amin(1)", "amax((0, 1))", "amin(0)", "max(1).values", "min(1).values",
    "max(0).values", "max(1, keepdim=True).values", "amax(1, keepdim=True)",
])
def test_reductions_with_tied_maxima(call):
    def fn(lib, x):
        return eval("x." + call)
    check_grad(fn, [TIES], [True], 0, 0, name=f"x.{call} with ties")


BOUNDS = [
    dict(min=1.0), dict(max=2.0), dict(min=1.0, max=2.0), dict(min=2.0, max=2.0), dict(min=3.0, max=1.0),
]
X = np.array([0.0, 1.0, 1.5, 2.0, 3.0, 1.0, 2.0])


@pytest.mark.parametrize("kw", BOUNDS, ids=[str(k) for k in BOUNDS])
@pytest.mark.parametrize("method", [False, True], ids=["clamp", "Tensor.clamp"])
def test_clamp_on_scalar_bounds(kw, method):
    def fn(lib, x):
        return x.clamp(**kw) if method else lib.clamp(x, **kw)
    check_grad(fn, [X], [True], 0, 0, name=f"clamp{kw}")


@pytest.mark.parametrize("which", ["min", "max", "both"])
def test_clamp_on_tensor_bounds(which):
    lo = np.array([1.0, 1.0, 1.0, 1.0, 3.0, 1.0, 2.0])
    hi = np.array([2.0, 2.0, 2.0, 2.0, 3.0, 1.0, 2.0])
    if which == "min":
        check_grad(lambda lib, x, a: lib.clamp(x, min=a), [X, lo], [True, True], 0, 0, name="clamp(min=t)")
    elif which == "max":
        check_grad(lambda lib, x, b: lib.clamp(x, max=b), [X, hi], [True, True], 0, 0, name="clamp(max=t)")
    else:
        check_grad(lambda lib, x, a, b: lib.clamp(x, a, b), [X, lo, hi], [True, True, True], 0, 0,
                   name="clamp(t, t)")


def test_clamp_min_max_functions_on_bounds():
    check_grad(lambda lib, x: lib.clamp_min(x, 1.0), [X], [True], 0, 0, name="clamp_min")
    check_grad(lambda lib, x: lib.clamp_max(x, 2.0), [X], [True], 0, 0, name="clamp_max")
