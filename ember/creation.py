"""Creating tensors: from data, filled, ranges, and random samples."""
import math

import numpy as np

from ember.backend import dtypes as _dt
from ember.backend.device import as_device
from ember.tensor import Tensor
from ember import random as _random


def _finish(data, requires_grad=False, device=None):
    if device is not None:
        as_device(device)
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad = True  # the setter refuses integer dtypes, as PyTorch does
    return t


def shape_arg(size):
    """zeros(2, 3), zeros((2, 3)), zeros([2, 3]) and zeros(torch.Size([2, 3])) all mean shape (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    shape = tuple(int(s) for s in size)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    return shape


def _size(args, size):
    """Shapes come positionally (zeros(2, 3)) or by keyword (zeros(size=(2, 3)))."""
    if size is None:
        return args
    if args:
        raise TypeError("size given both positionally and as a keyword")
    return (size,)


def _inferred_dtype(data):
    """The dtype PyTorch infers for Python data: any float → default float, else int64, else bool."""
    if isinstance(data, bool):
        return _dt.bool_
    if isinstance(data, int):
        return _dt.int64
    if isinstance(data, complex):
        return _dt.get_default_complex_dtype()
    return _dt.get_default_dtype()


def to_array(data, dtype=None):
    """A fresh backend array holding `data` (nested lists, scalars, arrays, tensors)."""
    np_dtype = None if dtype is None else _dt.to_dtype(dtype).np
    if isinstance(data, Tensor):
        return np.array(data._data, dtype=np_dtype, copy=True)
    if isinstance(data, np.ndarray):
        _dt.from_numpy_dtype(data.dtype)  # refuse dtypes ember has no tensor type for
        return np.array(data, dtype=np_dtype, copy=True)
    if isinstance(data, np.generic):  # before the Python types: np.float64 subclasses float
        return np.array(data, dtype=np_dtype)
    if isinstance(data, (bool, int, float, complex)):
        return np.array(data, dtype=np_dtype or _inferred_dtype(data).np)
    if isinstance(data, (list, tuple)):
        try:
            arr = np.array(data, dtype=np_dtype)
        except ValueError as e:
            raise ValueError(f"expected sequence of equal-length lists to build a tensor: {e}") from None
        if arr.dtype == object:
            raise TypeError("tensor(): could not convert the data to a tensor (mixed or non-numeric elements)")
        if np_dtype is None:
            if arr.dtype.kind == "f" and arr.dtype != np.float32 and _holds_python_floats(data):
                arr = arr.astype(_dt.get_default_dtype().np)
            elif arr.dtype.kind == "c" and _holds_python_floats(data):   # Python complex numbers
                arr = arr.astype(_dt.get_default_complex_dtype().np)
            elif arr.dtype.kind in "iu" and arr.dtype != np.int64 and not _holds_arrays(data):
                arr = arr.astype(np.int64)
            elif arr.size == 0 and arr.dtype == np.float64:
                arr = arr.astype(_dt.get_default_dtype().np)
        return arr
    if hasattr(data, "__array__"):
        return to_array(np.asarray(data), dtype)
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _first_leaf(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _holds_python_floats(data):
    leaf = _first_leaf(data)
    return not isinstance(leaf, (np.ndarray, np.generic, Tensor)) or (
        isinstance(leaf, Tensor) and leaf.dtype is _dt.get_default_dtype())


def _holds_arrays(data):
    return isinstance(_first_leaf(data), (np.ndarray, np.generic, Tensor))


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    return _finish(to_array(data, dtype), requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """Shares memory with a NumPy array or tensor when no conversion is needed."""
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is _dt.to_dtype(dtype) else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dt.to_dtype(dtype).np == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray):
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dt.from_numpy_dtype(ndarray.dtype)
    return Tensor._make(ndarray)


def _dtype_or_default(dtype):
    return (_dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)).np


def zeros(*args, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _finish(np.zeros(shape_arg(_size(args, size)), _dtype_or_default(dtype)), requires_grad, device)


def ones(*args, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _finish(np.ones(shape_arg(_size(args, size)), _dtype_or_default(dtype)), requires_grad, device)


def empty(*args, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None, memory_format=None):
    return _finish(np.empty(shape_arg(_size(args, size)), _dtype_or_default(dtype)), requires_grad, device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    d = _dt.to_dtype(dtype) if dtype is not None else _inferred_dtype(fill_value)
    return _finish(np.full(shape_arg((size,)), fill_value, d.np), requires_grad, device)


def _like(input, dtype):
    return input.dtype.np if dtype is None else _dt.to_dtype(dtype).np


def zeros_like(input, dtype=None, device=None, requires_grad=False, memory_format=None, layout=None):
    return _finish(np.zeros(input.shape, _like(input, dtype)), requires_grad, device)


def ones_like(input, dtype=None, device=None, requires_grad=False, memory_format=None, layout=None):
    return _finish(np.ones(input.shape, _like(input, dtype)), requires_grad, device)


def empty_like(input, dtype=None, device=None, requires_grad=False, memory_format=None, layout=None):
    return _finish(np.empty(input.shape, _like(input, dtype)), requires_grad, device)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False, memory_format=None, layout=None):
    return _finish(np.full(input.shape, fill_value, _like(input, dtype)), requires_grad, device)


def _scalar(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    start, end, step = _scalar(start), _scalar(end), _scalar(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        d = _dt.get_default_dtype() if is_float else _dt.int64
    else:
        d = _dt.to_dtype(dtype)
    if d.is_complex:
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{d.word}'")
    n = math.ceil((end - start) / step)
    if d.is_floating_point:
        # computed in double and rounded once, as PyTorch does, so 0.1-steps land where torch's do
        data = (start + np.arange(n, dtype=np.float64) * step).astype(d.np)
    else:
        data = (start + np.arange(n, dtype=np.int64) * step).astype(d.np)
    return _finish(data, requires_grad, device)


def range_(start=0, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Deprecated torch.range: like arange but includes `end`."""
    if end is None:
        start, end = 0, start
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    n = int(math.floor((end - start) / step)) + 1
    return _finish((start + np.arange(n, dtype=np.float64) * step).astype(d.np), requires_grad, device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    start, end = _scalar(start), _scalar(end)
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if steps == 1:
        data = np.array([start], dtype=np.float64)
    else:
        # PyTorch fills the first half from `start` and the second half back from `end`
        step = (end - start) / max(steps - 1, 1)
        i = np.arange(steps, dtype=np.float64)
        half = steps // 2
        data = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
    if d._kind < 2:   # integers truncate; floating and complex dtypes keep the fractions
        data = np.trunc(data)
    return _finish(data.astype(d.np), requires_grad, device)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    lin = linspace(start, end, steps, dtype=_dt.float64)
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    return _finish((base ** lin._data).astype(d.np), requires_grad, device)


def eye(n, m=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    return _finish(np.eye(n, n if m is None else m, dtype=_dtype_or_default(dtype)), requires_grad, device)


# -- random ------------------------------------------------------------------------------

def rand(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    data = _random.uniform_array(shape_arg(_size(args, size)), 0.0, 1.0, _dtype_or_default(dtype), generator)
    return _finish(data, requires_grad, device)


def randn(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    data = _random.normal_array(shape_arg(_size(args, size)), 0.0, 1.0, _dtype_or_default(dtype), generator)
    return _finish(data, requires_grad, device)


def rand_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _finish(_random.uniform_array(input.shape, 0.0, 1.0, _like(input, dtype)), requires_grad, device)


def randn_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _finish(_random.normal_array(input.shape, 0.0, 1.0, _like(input, dtype)), requires_grad, device)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.int64
    data = _random.default_generator_or(generator).integers(low, high, shape_arg((size,)))
    return _finish(data.astype(d.np), requires_grad, device)


def randint_like(input, low=0, high=None, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):
    d = _dt.to_dtype(dtype) if dtype is not None else _dt.int64
    return _finish(_random.default_generator_or(generator).permutation(n).astype(d.np), requires_grad, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False,
           out=None):
    """normal(mean, std, size) with scalar parameters, or elementwise with tensor mean and/or std."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        np_dtype = (mean if isinstance(mean, Tensor) else std).dtype.np
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        data = _random.normal_array(shape, 0.0, 1.0, np_dtype, generator) * s + m
        return _finish(data.astype(np_dtype, copy=False), requires_grad, device)
    if size is None:
        raise TypeError("normal() missing required argument 'size' when mean and std are numbers")
    data = _random.normal_array(shape_arg((size,)), mean, std, _dtype_or_default(dtype), generator)
    return _finish(data, requires_grad, device)


def bernoulli(input, p=None, generator=None):
    prob = input._data if p is None else p
    u = _random.uniform_array(input.shape, 0.0, 1.0, np.float64, generator)
    return Tensor._make((u < prob).astype(input.dtype.np))


def multinomial(input, num_samples, replacement=False, generator=None):
    """Draws category indices from each row of (unnormalised) probabilities."""
    g = _random.default_generator_or(generator)
    probs = np.atleast_2d(input._data.astype(np.float64))
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = []
    for row in probs:
        total = row.sum()
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement and num_samples > np.count_nonzero(row):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        rows.append(g.choice(row.size, size=num_samples, replace=replacement, p=row / total))
    out = np.array(rows, dtype=np.int64)
    return Tensor._make(out if input.ndim == 2 else out[0])
