"""Differential-testing helpers: run the same code with ember and with PyTorch, compare.

Everything crosses the library boundary through NumPy: inputs are NumPy arrays made
from a fixed seed and handed to both libraries with ``lib.tensor(array)``; outputs come
back with ``t.detach().numpy()``.  Nothing here knows about ember's internals.

The library under test is chosen by the environment variable ``EMBER_TEST_LIB``:
``ember`` (the default) or ``torch``.  With ``EMBER_TEST_LIB=torch`` the whole suite
compares torch with itself, which checks the tests (tables, domains, tolerances,
expected error messages) independently of ember.

Public helpers:

* ``LIB``, ``LIB_NAME``           -- the library under test
* ``to_lib(lib, array, requires_grad=False)`` / ``to_numpy(tensor)``
* ``assert_same(out, ref, rtol, atol, name)``       -- shape, dtype and values
* ``run_forward(fn, arrays, ...)``                   -- fn(lib, *tensors) in both libraries
* ``check_grad(fn, arrays, ...)``                    -- backward of a random upstream gradient
* ``finite_difference_check(fn, arrays, ...)``       -- the library's own analytic vs numeric
* ``assert_same_exception(fn_lib, fn_torch, contains=...)``
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Callable, Sequence

import numpy as np
import torch

# ---------------------------------------------------------------------------------------
# The library under test
# ---------------------------------------------------------------------------------------

LIB_NAME = os.environ.get("EMBER_TEST_LIB", "ember").strip().lower() or "ember"
if LIB_NAME not in ("ember", "torch"):
    raise RuntimeError(f"EMBER_TEST_LIB must be 'ember' or 'torch', not {LIB_NAME!r}")
LIB = importlib.import_module(LIB_NAME)
REF = torch  # the oracle


# Default tolerances (float32 / float64). An op that needs looser bounds says why in its
# table entry.
DEFAULT_TOL = {
    "float16": (1e-3, 1e-3),
    "bfloat16": (1e-2, 1e-2),
    "float32": (1e-5, 1e-6),
    "float64": (1e-10, 1e-12),
    "complex64": (1e-5, 1e-6),
    "complex128": (1e-10, 1e-12),
}


def is_tensor(obj: Any) -> bool:
    """True for a tensor of either library (duck-typed: anything with shape, dtype, detach)."""
    if isinstance(obj, torch.Tensor):
        return True
    return all(hasattr(obj, a) for a in ("shape", "dtype", "detach")) and not isinstance(obj, np.ndarray)


def to_lib(lib, array, requires_grad: bool = False):
    """A NumPy array (or Python scalar) -> a tensor of ``lib`` with the same dtype."""
    array = np.asarray(array)
    if lib is torch:
        t = torch.from_numpy(array.copy())
        return t.requires_grad_(requires_grad) if requires_grad else t
    if requires_grad:
        return lib.tensor(array, requires_grad=True)
    return lib.tensor(array)


def to_numpy(t) -> np.ndarray:
    """A tensor of either library -> a NumPy array (a copy, detached)."""
    return np.array(t.detach().numpy(), copy=True)


def dtype_name(t) -> str:
    """'torch.float32' for both libraries (ember dtypes print like torch's)."""
    return str(t.dtype)


# ---------------------------------------------------------------------------------------
# Comparing outputs
# ---------------------------------------------------------------------------------------

def _flatten_outputs(out, path="output"):
    """Yield (path, leaf) for nested tuples/lists/namedtuples of tensors and scalars."""
    if isinstance(out, (tuple, list)):
        for i, o in enumerate(out):
            yield from _flatten_outputs(o, f"{path}[{i}]")
    else:
        yield path, out


def _structure(out):
    if isinstance(out, (tuple, list)):
        return ("seq", len(out), tuple(_structure(o) for o in out))
    return "tensor" if is_tensor(out) else type(out).__name__


def worst_element(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float):
    """Index of the element that violates |a - e| <= atol + rtol * |e| the most.

    NaN in exactly one of the two counts as the worst possible mismatch.
    """
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        excess = np.abs(a - e) - (atol + rtol * np.abs(e))
    both_nan = np.isnan(a) & np.isnan(e)
    same_inf = np.isinf(a) & np.isinf(e) & (np.sign(a) == np.sign(e))
    excess = np.where(both_nan | same_inf, -np.inf, excess)
    excess = np.where(np.isnan(excess), np.inf, excess)  # nan vs number, inf vs other
    flat = int(np.argmax(excess))
    return np.unravel_index(flat, a.shape), excess


def compare_arrays(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, what: str):
    """Raise AssertionError naming the worst element unless the arrays match."""
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {actual.shape} (under test) != {expected.shape} (torch)")
    if actual.size == 0:
        return
    if expected.dtype.kind == "c" or actual.dtype.kind == "c":   # complex: real and imaginary parts side by side
        actual, expected = (np.stack([x.real, np.imag(x)], -1) for x in (actual, expected))
        what += " (last index: 0 real, 1 imaginary part)"
    if expected.dtype.kind in "biu" and actual.dtype.kind in "biu":
        bad = actual != expected
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise AssertionError(
                f"{what}: {int(bad.sum())} of {bad.size} elements differ; first at index {idx}: "
                f"{LIB_NAME}={actual[idx]!r} torch={expected[idx]!r}"
            )
        return
    idx, excess = worst_element(actual, expected, rtol, atol)
    if excess[idx] > 0:
        n_bad = int((excess > 0).sum())
        idx = tuple(int(i) for i in idx)
        raise AssertionError(
            f"{what}: {n_bad} of {excess.size} elements differ (rtol={rtol:g}, atol={atol:g}); "
            f"worst at index {idx}: {LIB_NAME}={actual[idx]!r} torch={expected[idx]!r}"
        )


def assert_same(out, ref, rtol: float | None = None, atol: float | None = None,
                name: str = "op", check_dtype: bool = True):
    """Assert that ``out`` (library under test) matches ``ref`` (torch): structure, shape, dtype, values.

    ``out``/``ref`` may be tensors, Python scalars or (named) tuples/lists of them.
    Tolerances default to DEFAULT_TOL for the reference dtype.
    """
    if _structure(out) != _structure(ref):
        raise AssertionError(f"{name}: output structure {_structure(out)} != torch's {_structure(ref)}")
    for (path, o), (_, r) in zip(_flatten_outputs(out), _flatten_outputs(ref)):
        what = f"{name}: {path}"
        if not is_tensor(r):
            if type(o) is not type(r):
                raise AssertionError(f"{what}: type {type(o).__name__} != torch's {type(r).__name__} ({o!r} vs {r!r})")
            if isinstance(r, float):
                compare_arrays(np.asarray(o), np.asarray(r), rtol or 1e-6, atol or 1e-7, what)
            elif o != r:
                raise AssertionError(f"{what}: {o!r} != torch's {r!r}")
            continue
        if tuple(o.shape) != tuple(r.shape):
            raise AssertionError(f"{what}: shape {tuple(o.shape)} != torch's {tuple(r.shape)}")
        if check_dtype and dtype_name(o) != dtype_name(r):
            raise AssertionError(f"{what}: dtype {dtype_name(o)} != torch's {dtype_name(r)}")
        rt, at = DEFAULT_TOL.get(dtype_name(r).replace("torch.", ""), (0.0, 0.0))
        compare_arrays(to_numpy(o), to_numpy(r), rt if rtol is None else rtol,
                       at if atol is None else atol, what)


# ---------------------------------------------------------------------------------------
# Running a function in both libraries
# ---------------------------------------------------------------------------------------

def _make_inputs(lib, arrays: Sequence[np.ndarray], grad_mask: Sequence[bool]):
    return [to_lib(lib, a, requires_grad=g) for a, g in zip(arrays, grad_mask)]


def run_forward(fn: Callable, arrays: Sequence[np.ndarray], rtol=None, atol=None,
                name: str = "op", lib=None):
    """Compute ``fn(lib, *tensors)`` in the library under test and in torch and compare."""
    lib = LIB if lib is None else lib
    ref = fn(REF, *_make_inputs(REF, arrays, [False] * len(arrays)))
    out = fn(lib, *_make_inputs(lib, arrays, [False] * len(arrays)))
    assert_same(out, ref, rtol, atol, name=f"{name} (forward)")
    return out, ref


def _differentiable_outputs(out):
    """The floating-point tensors among the outputs, in order."""
    return [o for _, o in _flatten_outputs(out)
            if is_tensor(o) and dtype_name(o).replace("torch.", "").startswith(("float", "bfloat"))]


def upstream_gradients(ref_out, seed: int = 1234):
    """One random upstream gradient (NumPy) per differentiable torch output."""
    rng = np.random.default_rng(seed)
    grads = []
    for o in _differentiable_outputs(ref_out):
        dt = np.dtype(dtype_name(o).replace("torch.", ""))
        grads.append(rng.uniform(-1.0, 1.0, size=tuple(o.shape)).astype(dt))
    return grads


def _backward(lib, outs, grads):
    """Backpropagate each upstream gradient (all but the last keep the graph)."""
    pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
    for k, (o, g) in enumerate(pairs):
        o.backward(to_lib(lib, g), retain_graph=k < len(pairs) - 1)


def check_grad(fn: Callable, arrays: Sequence[np.ndarray], grad_mask: Sequence[bool],
               rtol=None, atol=None, name: str = "op", seed: int = 1234, lib=None,
               skip_if_torch_fails: bool = False):
    """Backpropagate the same random upstream gradient through ``fn`` in both libraries.

    Every input marked in ``grad_mask`` gets ``requires_grad=True``; afterwards each
    input's ``.grad`` must match torch's (None where torch's is None).
    ``skip_if_torch_fails``: if torch's own backward raises (torch has a few bugs on
    exotic shapes, e.g. clamp with tensor bounds broadcast to an empty shape), there
    is no reference: return False without comparing.  Returns True when compared.
    """
    lib = LIB if lib is None else lib
    ref_in = _make_inputs(REF, arrays, grad_mask)
    out_in = _make_inputs(lib, arrays, grad_mask)
    ref = fn(REF, *ref_in)
    out = fn(lib, *out_in)
    assert_same(out, ref, rtol, atol, name=f"{name} (forward, inputs requiring grad)")

    ref_outs, outs = _differentiable_outputs(ref), _differentiable_outputs(out)
    for k, (o, r) in enumerate(zip(outs, ref_outs)):
        if bool(o.requires_grad) != bool(r.requires_grad):
            raise AssertionError(f"{name}: output {k}.requires_grad={o.requires_grad}, torch: {r.requires_grad}")
    grads = upstream_gradients(ref, seed)
    try:
        _backward(REF, ref_outs, grads)
    except Exception:  # noqa: BLE001
        if skip_if_torch_fails:
            return False
        raise
    _backward(lib, outs, grads)

    for i, (x, rx, g) in enumerate(zip(out_in, ref_in, grad_mask)):
        if not g:
            continue
        what = f"{name}: grad of argument {i}"
        if rx.grad is None or x.grad is None:
            if (rx.grad is None) != (x.grad is None):
                raise AssertionError(f"{what}: {LIB_NAME} .grad is {'None' if x.grad is None else 'set'}, "
                                     f"torch's is {'None' if rx.grad is None else 'set'}")
            continue
        assert_same(x.grad, rx.grad, rtol, atol, name=what)
    return True


# ---------------------------------------------------------------------------------------
# Finite differences (the library against itself)
# ---------------------------------------------------------------------------------------

def finite_difference_check(fn: Callable, arrays: Sequence[np.ndarray], grad_mask: Sequence[bool],
                            eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-6,
                            name: str = "op", seed: int = 4321, lib=None):
    """Compare the library's analytic gradient with central finite differences, in float64.

    With a random upstream gradient g the scalar L(x) = sum(g * fn(x)) is differentiated
    numerically, element by element, for each input in ``grad_mask``.  On a mismatch the
    message names the argument, the element index, and both values.
    """
    lib = LIB if lib is None else lib
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]

    def evaluate(arrs):
        outs = _differentiable_outputs(fn(lib, *_make_inputs(lib, arrs, [False] * len(arrs))))
        return [to_numpy(o).astype(np.float64) for o in outs]

    rng = np.random.default_rng(seed)
    gs = [rng.uniform(-1.0, 1.0, size=b.shape) for b in evaluate(arrays)]

    inputs = _make_inputs(lib, arrays, grad_mask)
    outs = _differentiable_outputs(fn(lib, *inputs))
    _backward(lib, outs, gs)

    for i, (a, need) in enumerate(zip(arrays, grad_mask)):
        if not need:
            continue
        analytic = np.zeros_like(a) if inputs[i].grad is None else to_numpy(inputs[i].grad).astype(np.float64)
        if analytic.shape != a.shape:
            raise AssertionError(f"{name}: grad of argument {i} has shape {analytic.shape}, input has {a.shape}")
        numeric = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus, minus = list(arrays), list(arrays)
            plus[i], minus[i] = a.copy(), a.copy()
            plus[i][idx] += eps
            minus[i][idx] -= eps
            # difference the outputs before weighting: large constant outputs cancel exactly
            numeric[idx] = sum(float(np.sum(g * (p - m))) for g, p, m in
                               zip(gs, evaluate(plus), evaluate(minus))) / (2 * eps)
        if a.size == 0:
            continue
        w, excess = worst_element(analytic, numeric, rtol, atol)
        if excess[w] > 0:
            w = tuple(int(k) for k in w)
            raise AssertionError(
                f"{name}: gradient of argument {i} wrong at index {w}: analytic={analytic[w]!r}, "
                f"finite difference={numeric[w]!r} ({int((excess > 0).sum())} of {a.size} elements "
                f"off, eps={eps:g}, rtol={rtol:g}, atol={atol:g})"
            )


# ---------------------------------------------------------------------------------------
# Exceptions
# ---------------------------------------------------------------------------------------

_BUILTIN_ERRORS = (RuntimeError, ValueError, TypeError, IndexError, KeyError,
                   NotImplementedError, ZeroDivisionError, AttributeError)


def _category(exc_type):
    """The most specific builtin exception class ``exc_type`` derives from."""
    for base in exc_type.__mro__:
        if base in _BUILTIN_ERRORS or base is Exception:
            return base
    return Exception


def assert_same_exception(fn_lib: Callable, fn_torch: Callable,
                          contains: Sequence[str | Sequence[str]] = (), name: str = "op"):
    """Both callables must raise, with the same builtin exception type.

    torch's exception may be a subclass (e.g. ``torch.OutOfMemoryError``); what is
    compared is the builtin class each derives from (RuntimeError, ValueError, ...).
    ``contains``: facts the library-under-test's message must contain (case-insensitive);
    an entry that is itself a tuple of strings is satisfied by any one of them.
    Returns (lib exception, torch exception).
    """
    try:
        fn_torch()
    except Exception as e:  # noqa: BLE001 - the oracle may raise anything
        ref_exc = e
    else:
        raise AssertionError(f"{name}: torch did not raise (the test itself is wrong)")
    try:
        result = fn_lib()
    except Exception as e:  # noqa: BLE001
        exc = e
    else:
        raise AssertionError(f"{name}: {LIB_NAME} did not raise; torch raised {type(ref_exc).__name__}: "
                             f"{ref_exc}; {LIB_NAME} returned {result!r}")
    want = _category(type(ref_exc))
    if not isinstance(exc, want):
        raise AssertionError(f"{name}: {LIB_NAME} raised {type(exc).__name__}: {exc}; "
                             f"torch raised {type(ref_exc).__name__}: {ref_exc}")
    message = str(exc).lower()
    for fact in contains:
        options = (fact,) if isinstance(fact, str) else tuple(fact)
        if not any(o.lower() in message for o in options):
            raise AssertionError(f"{name}: {LIB_NAME}'s message {str(exc)!r} does not mention "
                                 f"{' or '.join(map(repr, options))} (torch: {ref_exc})")
    return exc, ref_exc


def same_outcome(fn: Callable, arrays: Sequence[np.ndarray], rtol=None, atol=None, name="op", lib=None):
    """Either both libraries raise the same kind of exception, or both produce the same result."""
    lib = LIB if lib is None else lib
    try:
        ref = fn(REF, *_make_inputs(REF, arrays, [False] * len(arrays)))
    except Exception:  # noqa: BLE001
        assert_same_exception(lambda: fn(lib, *_make_inputs(lib, arrays, [False] * len(arrays))),
                              lambda: fn(REF, *_make_inputs(REF, arrays, [False] * len(arrays))),
                              name=name)
        return None
    out = fn(lib, *_make_inputs(lib, arrays, [False] * len(arrays)))
    assert_same(out, ref, rtol, atol, name=name)
    return out
