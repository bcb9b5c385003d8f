"""ember.testing: torch.testing's assert_close (and make_tensor), with PyTorch's tolerances and messages.

assert_close(actual, expected) compares tensors (and NumPy arrays), Python numbers, and sequences or
mappings of them, element by element: |actual - expected| <= atol + rtol * |expected|, with default
tolerances chosen by dtype (float32: rtol 1.3e-6, atol 1e-5; float64: 1e-7, 1e-7; integers and bool:
exact). A mismatch raises AssertionError with PyTorch's report (how many elements, the greatest absolute
and relative differences and where).
"""
import collections.abc
import math

import numpy as np

__all__ = ["assert_close", "make_tensor"]

# dtype name -> (rtol, atol), as torch.testing's defaults
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


class _Mismatch(Exception):
    def __init__(self, message, exc_type=AssertionError):
        super().__init__(message)
        self.exc_type = exc_type


def _tolerances(*dtype_names):
    pairs = [_TOLERANCES.get(n, (0.0, 0.0)) for n in dtype_names]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _is_tensor(x):
    from ember.tensor import Tensor
    return isinstance(x, Tensor)


def _fmt(x):
    """Numbers as PyTorch's report prints them (Python's str of the value)."""
    if isinstance(x, (bool, np.bool_)):
        return str(int(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return str(float(x))


def _compare_scalars(actual, expected, rtol, atol, equal_nan, check_dtype):
    if check_dtype and type(actual) is not type(expected) and not (
            isinstance(actual, (int, float)) and isinstance(expected, (int, float))):
        pass
    both_int = all(isinstance(v, (int, np.integer, bool, np.bool_)) for v in (actual, expected))
    if rtol is None:
        rtol, atol = (0.0, 0.0) if both_int else (1e-7, 1e-7)
    number = complex if isinstance(actual, complex) or isinstance(expected, complex) else float
    a, e = number(actual), number(expected)
    if both_int:
        ok = int(actual) == int(expected)
    elif a != a or e != e:   # NaN (in either part of a complex number)
        ok = equal_nan and a != a and e != e
    else:
        ok = a == e or abs(a - e) <= atol + rtol * abs(e)
    if ok:
        return
    close = "equal" if rtol == 0 and atol == 0 else "close"
    diff = abs(int(actual) - int(expected)) if both_int else abs(a - e)
    rel = diff / abs(e) if e != 0 else (math.inf if diff else math.nan)
    tail = "" if close == "equal" else f" (up to {atol} allowed)"
    rtail = "" if close == "equal" else f" (up to {rtol} allowed)"
    raise _Mismatch(f"Scalars are not {close}!\n\nExpected {expected!r} but got {actual!r}.\n"
                    f"Absolute difference: {_fmt(diff)}{tail}\nRelative difference: {_fmt(rel)}{rtail}")


def _as_array(x):
    return np.asarray(x._data if _is_tensor(x) else x)


def _dtype_name(x):
    return x.dtype.name if _is_tensor(x) else np.asarray(x).dtype.name


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_dtype):
    if tuple(actual.shape) != tuple(expected.shape):
        raise _Mismatch(f"The values for attribute 'shape' do not match: {_shape_repr(actual)} != "
                        f"{_shape_repr(expected)}.")
    if check_dtype and _dtype_name(actual) != _dtype_name(expected):
        raise _Mismatch(f"The values for attribute 'dtype' do not match: {_dtype_repr(actual)} != "
                        f"{_dtype_repr(expected)}.")
    if rtol is None:
        rtol, atol = _tolerances(_dtype_name(actual), _dtype_name(expected))
    a, e = _as_array(actual), _as_array(expected)
    if a.ndim == 0 and _is_tensor(actual):
        return _compare_scalars(a.item(), e.item(), rtol, atol, equal_nan, False)
    common = np.result_type(a, e)
    if common.kind == "b":
        a, e, common = a.astype(np.int64), e.astype(np.int64), np.dtype(np.int64)
    a, e = a.astype(common, copy=False), e.astype(common, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        if common.kind in "fc":
            close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan) | (a == e)
        else:
            close = np.abs(a.astype(np.float64) - e) <= atol + rtol * np.abs(e.astype(np.float64))
    if close.all():
        return
    total, bad = close.size, int((~close).sum())
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if common.kind in "fc":
            diff = np.abs(a - e)
            if equal_nan:
                diff = np.where(np.isnan(a) & np.isnan(e), 0, diff)
            rel = diff / np.abs(e)
        else:
            diff = np.abs(a.astype(np.int64) - e.astype(np.int64))
            rel = diff / np.abs(e).astype(np.float64)
    i_abs, i_rel = _worst(diff), _worst(rel)
    word = "equal" if rtol == 0 and atol == 0 else "close"
    tail = "" if word == "equal" else f" (up to {atol} allowed)"
    rtail = "" if word == "equal" else f" (up to {rtol} allowed)"
    raise _Mismatch(f"Tensor-likes are not {word}!\n\nMismatched elements: {bad} / {total} ({bad / total * 100:.1f}%)\n"
                    f"Greatest absolute difference: {_fmt(diff[i_abs])} at index {i_abs}{tail}\n"
                    f"Greatest relative difference: {_fmt(rel[i_rel])} at index {i_rel}{rtail}")


def _worst(values):
    """Index of the largest value (the first NaN, if any: NaN wins as in torch.max)."""
    flat = values.reshape(-1)
    nans = np.flatnonzero(np.isnan(flat)) if flat.dtype.kind == "f" else ()
    k = int(nans[0]) if len(nans) else int(np.argmax(flat))
    return tuple(int(i) for i in np.unravel_index(k, values.shape))


def _shape_repr(x):
    return f"torch.Size({list(x.shape)})"


def _dtype_repr(x):
    return f"torch.{_dtype_name(x)}"


def _compare(actual, expected, rtol, atol, equal_nan, check_dtype, path):
    tensor_like = (_is_tensor(actual) or isinstance(actual, np.ndarray),
                   _is_tensor(expected) or isinstance(expected, np.ndarray))
    if any(tensor_like):
        if not all(tensor_like) or _is_tensor(actual) != _is_tensor(expected):
            raise _Mismatch(f"No comparison pair was able to handle inputs of type {type(actual)} and "
                            f"{type(expected)}.", TypeError)
        return _compare_tensors(actual, expected, rtol, atol, equal_nan, check_dtype), path
    numbers = (int, float, bool, np.number, np.bool_)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        if check_dtype and type(actual) is not type(expected) and not (
                {type(actual), type(expected)} <= {int, float}):
            pass
        if check_dtype and isinstance(actual, bool) != isinstance(expected, bool):
            raise _Mismatch(f"The values for attribute 'type' do not match: {type(actual)} != {type(expected)}.")
        return _compare_scalars(actual, expected, rtol, atol, equal_nan, check_dtype)
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        if set(actual) != set(expected):
            missing = sorted(set(expected) - set(actual), key=repr)
            extra = sorted(set(actual) - set(expected), key=repr)
            raise _Mismatch(f"The keys of the mappings do not match:\nMissing keys in the actual mapping: {missing}\n"
                            f"Additional keys in the actual mapping: {extra}")
        for key in expected:
            _compare_item(actual[key], expected[key], rtol, atol, equal_nan, check_dtype, path + [key])
        return
    sequences = (list, tuple)
    if isinstance(actual, sequences) and isinstance(expected, sequences):
        if len(actual) != len(expected):
            raise _Mismatch(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (x, y) in enumerate(zip(actual, expected)):
            _compare_item(x, y, rtol, atol, equal_nan, check_dtype, path + [i])
        return
    if actual is None and expected is None:
        return
    raise _Mismatch(f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.",
                    TypeError)


def _compare_item(actual, expected, rtol, atol, equal_nan, check_dtype, path):
    try:
        _compare(actual, expected, rtol, atol, equal_nan, check_dtype, path)
    except _Mismatch as m:
        if getattr(m, "located", False) or m.exc_type is not AssertionError:
            raise
        where = "".join(f"[{k!r}]" for k in path)
        located = _Mismatch(f"{m}\n\nThe failure occurred for item {where}", m.exc_type)
        located.located = True
        raise located from None


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless actual and expected are close (see the module docstring)."""
    __tracebackhide__ = True
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    try:
        _compare(actual, expected, rtol, atol, equal_nan, check_dtype, [])
    except _Mismatch as m:
        if m.exc_type is not AssertionError:
            raise m.exc_type(str(m)) from None
        text = str(m)
        if msg is not None:
            text = msg(text) if callable(msg) else msg
        raise AssertionError(text) from None


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of random values in [low, high) (floating: [-9, 9) by default; integers: [-9, 10))."""
    import ember
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    rng = np.random.default_rng()
    if dtype is ember.bool:
        data = rng.integers(0, 2, shape).astype(np.bool_)
    elif dtype.is_floating_point:
        lo = -9.0 if low is None else low
        hi = 9.0 if high is None else high
        data = rng.uniform(lo, hi, shape).astype(dtype.np)
    else:
        info = np.iinfo(dtype.np)
        lo = max(-9 if low is None else int(low), info.min)
        hi = min(10 if high is None else int(high), info.max)
        data = rng.integers(lo, hi, shape).astype(dtype.np)
    if exclude_zero:
        data[data == 0] = 1 if not dtype.is_floating_point else np.finfo(dtype.np).tiny
    t = ember.tensor(data)
    return t.requires_grad_(True) if requires_grad else t
