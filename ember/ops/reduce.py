"""Reductions (sum, mean, var, max, norm, ...), scans (cumsum) and sorting (sort, topk)."""
import builtins
import math

import numpy as np

from ember.autograd.function import Function
from ember.backend import dtypes as _dt
from ember.tensor import Tensor
from ember.ops.shape import wrap_dim, reshape, expand


# -- PyTorch's named tuples: torch.return_types.max(values=..., indices=...) -----------------

class _ReturnType(tuple):
    _fields = ("values", "indices")
    _name = "max"

    def __new__(cls, values, indices):
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return f"torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _return_type(name):
    return type(name, (_ReturnType,), {"_name": name})


_types = {n: _return_type(n) for n in ("max", "min", "sort", "topk", "kthvalue", "median", "mode", "aminmax")}


def _dims(dim, ndim):
    """`dim` as a sorted tuple of axes (None: all axes)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return tuple(range(ndim))
        ds = tuple(sorted(wrap_dim(d, ndim) for d in dim))
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"dim {ds[0]} appears multiple times in the list of dims")
        return ds
    return (wrap_dim(dim, ndim),)


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _expand_back(grad, in_shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced axes."""
    if not keepdim:
        grad = reshape(grad, _kept_shape(in_shape, dims))
    return expand(grad, in_shape)


def _axis(dims, ndim):
    # NumPy reduces a 0-d array only with axis=None
    return None if ndim == 0 else dims


# -- sum and mean ----------------------------------------------------------------------------

class Sum(Function):
    def forward(self, a, dims, keepdim, dtype):
        self.in_shape, self.dims, self.keepdim = a.shape, dims, keepdim
        if (0 in dims and 1 < len(dims) < a.ndim and a.dtype.kind == "f" and dtype is None
                and a.flags.c_contiguous and a.shape[0] > 1):
            # summing over the batch and other axes (a conv bias gradient: (0, 2, 3)): adding whole images
            # first, as contiguous rows, beats NumPy's loop over all the summed axes at once (bench/README.md)
            rest = tuple(d - 1 for d in dims if d)
            r = np.sum(np.add.reduce(a, axis=0), axis=rest)
            return r.reshape([1 if i in dims else n for i, n in enumerate(a.shape)]) if keepdim else r
        return np.sum(a, axis=_axis(dims, a.ndim), keepdims=keepdim, dtype=dtype)

    def backward(self, grad):
        return _expand_back(grad, self.in_shape, self.dims, self.keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    if axis is not None:
        dim = axis
    nd = input._data.ndim
    dims = _dims(dim, nd)
    if dtype is not None:
        out_np = _dt.to_dtype(dtype).np
    elif input.dtype._kind < 2:
        out_np = np.int64  # integer and bool sums are int64, as in PyTorch
    else:
        out_np = None
    out = Sum.apply(input, dims=dims, keepdim=keepdim, dtype=out_np)
    if out.grad_fn is not None:
        out.grad_fn.node_name = "SumBackward0" if dim is None else "SumBackward1"
    return out


class Mean(Function):
    def forward(self, a, dims, keepdim):
        self.in_shape, self.dims, self.keepdim = a.shape, dims, keepdim
        self.count = int(np.prod([a.shape[d] for d in dims])) if a.ndim else 1
        return np.mean(a, axis=_axis(dims, a.ndim), keepdims=keepdim)

    def backward(self, grad):
        return _expand_back(grad / self.count if self.count else grad, self.in_shape, self.dims, self.keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    if axis is not None:
        dim = axis
    if dtype is not None:
        from ember.ops.elementwise import cast
        input = cast(input, dtype)
    if input.dtype._kind < 2:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {_type_word(input.dtype)}")
    dims = _dims(dim, input._data.ndim)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = Mean.apply(input, dims=dims, keepdim=keepdim)
    if out.grad_fn is not None and dim is not None:
        out.grad_fn.node_name = "MeanBackward1"
    return out


_type_word = _dt.type_word


def nansum(input, dim=None, keepdim=False):
    from ember.ops.elementwise import where, isnan
    return sum(where(isnan(input), 0.0, input), dim, keepdim)


# -- variance and standard deviation ---------------------------------------------------------

def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


class Var(Function):
    save = (0,)

    def forward(self, a, dims, correction, keepdim):
        self.dims, self.correction, self.keepdim = dims, correction, keepdim
        self.count = int(np.prod([a.shape[d] for d in dims])) if a.ndim else 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.var(a, axis=_axis(dims, a.ndim), ddof=correction, keepdims=keepdim)

    def backward(self, grad):
        (a,) = self.saved_tensors
        centered = a - mean(a, self.dims, keepdim=True)
        scale = 2.0 / builtins.max(self.count - self.correction, 0) if self.count > self.correction else math.inf
        return _expand_back(grad, a.shape, self.dims, self.keepdim) * centered * scale


class Std(Function):
    save = (0,)
    save_output = True

    def forward(self, a, dims, correction, keepdim):
        self.dims, self.correction, self.keepdim = dims, correction, keepdim
        self.count = int(np.prod([a.shape[d] for d in dims])) if a.ndim else 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.std(a, axis=_axis(dims, a.ndim), ddof=correction, keepdims=keepdim)

    def backward(self, grad):
        (a,) = self.saved_tensors
        out = self.output
        centered = a - mean(a, self.dims, keepdim=True)
        denom = builtins.max(self.count - self.correction, 0)
        g = _expand_back(grad / out, a.shape, self.dims, self.keepdim)
        return g * centered / denom if denom else g * centered * math.inf


def _var_args(dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # var(x, False): the legacy `unbiased` in first place
        dim, unbiased = None, dim
    return dim, _correction(unbiased, correction), keepdim


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    dim, c, keepdim = _var_args(axis if axis is not None else dim, unbiased, keepdim, correction)
    _require_float(input, "var")
    return Var.apply(input, dims=_dims(dim, input._data.ndim), correction=c, keepdim=keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    dim, c, keepdim = _var_args(axis if axis is not None else dim, unbiased, keepdim, correction)
    _require_float(input, "std")
    return Std.apply(input, dims=_dims(dim, input._data.ndim), correction=c, keepdim=keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def _require_float(t, name):
    if t.dtype._kind < 2:
        raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {_type_word(t.dtype)}")


# -- product ---------------------------------------------------------------------------------

class Prod(Function):
    save = (0,)
    save_output = True

    def forward(self, a, dims, keepdim, dtype):
        self.dims, self.keepdim = dims, keepdim
        return np.prod(a, axis=_axis(dims, a.ndim), keepdims=keepdim, dtype=dtype)

    def backward(self, grad):
        (a,) = self.saved_tensors
        x = a._data
        if x.dtype.kind == "c":
            from ember.ops.elementwise import _no_complex_gradient
            _no_complex_gradient("prod")
        if (x != 0).all():
            out = _expand_back(self.output, a.shape, self.dims, self.keepdim)
            return _expand_back(grad, a.shape, self.dims, self.keepdim) * out / a
        # with zeros: the product of all the other elements, computed directly
        others = np.empty_like(x)
        axes = self.dims if x.ndim else ()
        moved = np.moveaxis(x, axes, range(-len(axes), 0)) if axes else x[None]
        flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,)) if axes else moved
        left = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :-1]], -1), -1)
        right = np.flip(np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), np.flip(flat, -1)[..., :-1]], -1),
                                   -1), -1)
        excl = (left * right).reshape(moved.shape)
        others = np.moveaxis(excl, range(-len(axes), 0), axes) if axes else excl[0]
        return _expand_back(grad, a.shape, self.dims, self.keepdim) * Tensor._make(others)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    out_np = _dt.to_dtype(dtype).np if dtype is not None else (np.int64 if input.dtype._kind < 2 else None)
    dims = _dims(dim, input._data.ndim)
    out = Prod.apply(input, dims=dims, keepdim=keepdim, dtype=out_np)
    if out.grad_fn is not None and dim is not None:
        out.grad_fn.node_name = "ProdBackward1"
    return out


# -- max / min -------------------------------------------------------------------------------

class AmaxAmin(Function):
    """Reduction to the extreme value; ties share the gradient evenly, as in PyTorch."""
    save = (0,)
    save_output = True

    def forward(self, a, dims, keepdim, largest):
        self.dims, self.keepdim = dims, keepdim
        fn = np.max if largest else np.min
        return fn(a, axis=_axis(dims, a.ndim), keepdims=keepdim)

    def backward(self, grad):
        (a,) = self.saved_tensors
        out = _expand_back(self.output, a.shape, self.dims, self.keepdim)
        mask = a == out
        count = sum(mask, self.dims, keepdim=True)
        g = _expand_back(grad, a.shape, self.dims, self.keepdim)
        return g * mask / count


class MaxMinDim(Function):
    """max(x, dim) / min(x, dim): the gradient goes to the position the index names."""

    def forward(self, a, dim, keepdim, largest):
        self.in_shape, self.dim, self.keepdim = a.shape, dim, keepdim
        if a.shape[dim] == 0:
            raise IndexError(f"{'max' if largest else 'min'}(): Expected reduction dim {dim} to have non-zero "
                             f"size.")
        idx = (np.argmax if largest else np.argmin)(a, axis=dim)
        # argmax ignores NaN ordering; PyTorch propagates NaN: pick the first NaN where there is one
        if a.dtype.kind == "f":
            nan = np.isnan(a)
            if nan.any():
                has = nan.any(axis=dim)
                idx = np.where(has, np.argmax(nan, axis=dim), idx)
        idx_k = np.expand_dims(idx, dim)
        self.index = idx_k
        vals = np.take_along_axis(a, idx_k, axis=dim)
        return vals if keepdim else np.squeeze(vals, dim)

    def backward(self, grad):
        from ember.ops.index import scatter_into_zeros
        g = grad if self.keepdim else grad.unsqueeze(self.dim)
        return scatter_into_zeros(g, self.dim, self.index, self.in_shape)


def _max_min(input, dim, keepdim, other, largest, out=None):
    name = "max" if largest else "min"
    if isinstance(dim, Tensor) and other is None:
        dim, other = None, dim
    if other is not None:
        from ember.ops.elementwise import maximum, minimum
        return (maximum if largest else minimum)(input, other)
    if input._data.dtype.kind == "c":    # complex numbers have no order
        if dim is None:
            raise NotImplementedError(f'"{name}_all" not implemented for \'{input.dtype.word}\'')
        raise RuntimeError(f"{name}(): does not support complex input")
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               f"Specify the reduction dim with the 'dim' argument.")
        out_t = AmaxAmin.apply(input, dims=_dims(None, input._data.ndim), keepdim=False, largest=largest)
        if out_t.grad_fn is not None:
            out_t.grad_fn.node_name = "MaxBackward1" if largest else "MinBackward1"
        return out_t
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    if nd == 0:
        return _types[name](input.clone(), Tensor._make(np.array(0, dtype=np.int64)))
    values = MaxMinDim.apply(input, dim=d, keepdim=keepdim, largest=largest)
    if values.grad_fn is not None:
        values.grad_fn.node_name = "MaxBackward0" if largest else "MinBackward0"
    indices = values.grad_fn.index if values.grad_fn is not None else None
    if indices is None:
        indices = _arg_index(input._data, d, largest)
        indices = indices if keepdim else np.squeeze(indices, d)
    else:
        indices = indices if keepdim else np.squeeze(indices, d)
    return _types[name](values, Tensor._make(indices.astype(np.int64)))


def _arg_index(a, dim, largest):
    idx = (np.argmax if largest else np.argmin)(a, axis=dim)
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        if nan.any():
            idx = np.where(nan.any(axis=dim), np.argmax(nan, axis=dim), idx)
    return np.expand_dims(idx, dim)


def max(input, dim=None, keepdim=False, *, other=None, out=None):
    return _max_min(input, dim, keepdim, other, True)


def min(input, dim=None, keepdim=False, *, other=None, out=None):
    return _max_min(input, dim, keepdim, other, False)


def amax(input, dim=(), keepdim=False):
    return AmaxAmin.apply(input, dims=_dims(dim, input._data.ndim), keepdim=keepdim, largest=True)


def amin(input, dim=(), keepdim=False):
    return AmaxAmin.apply(input, dims=_dims(dim, input._data.ndim), keepdim=keepdim, largest=False)


def aminmax(input, *, dim=None, keepdim=False):
    return _types["aminmax"](amin(input, () if dim is None else dim, keepdim),
                             amax(input, () if dim is None else dim, keepdim))


def argmax(input, dim=None, keepdim=False):
    return _argext(input, dim, keepdim, True)


def argmin(input, dim=None, keepdim=False):
    return _argext(input, dim, keepdim, False)


def _argext(input, dim, keepdim, largest):
    a = input._data
    if a.dtype.kind == "c":
        raise RuntimeError(f"{'argmax' if largest else 'argmin'}(): does not support complex input")
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{'argmax' if largest else 'argmin'}(): Expected reduction dim to be specified for "
                             f"input.numel() == 0.")
        flat = a.reshape(-1)
        i = _arg_index(flat, 0, largest)[0]
        out = np.array(i, dtype=np.int64)
        return Tensor._make(out.reshape((1,) * a.ndim) if keepdim else out)
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return Tensor._make(np.array(0, dtype=np.int64))
    if a.shape[d] == 0:
        raise IndexError(f"{'argmax' if largest else 'argmin'}(): Expected reduction dim {d} to have non-zero size.")
    idx = _arg_index(a, d, largest)
    return Tensor._make((idx if keepdim else np.squeeze(idx, d)).astype(np.int64))


def all(input, dim=None, keepdim=False):
    return Tensor._make(np.all(input._data, axis=_axis(_dims(dim, input._data.ndim), input._data.ndim)
                               if dim is not None else None, keepdims=keepdim))


def any(input, dim=None, keepdim=False):
    return Tensor._make(np.any(input._data, axis=_axis(_dims(dim, input._data.ndim), input._data.ndim)
                               if dim is not None else None, keepdims=keepdim))


def count_nonzero(input, dim=None):
    return Tensor._make(np.asarray(np.count_nonzero(input._data, axis=dim), dtype=np.int64))


# -- norms and log-sum-exp -------------------------------------------------------------------

class Norm(Function):
    save = (0,)
    save_output = True

    @classmethod
    def _node_name(cls):
        return "LinalgVectorNormBackward0"

    def forward(self, a, p, dims, keepdim):
        self.p, self.dims, self.keepdim = p, dims, keepdim
        ax = _axis(dims, a.ndim)
        x = np.abs(a)
        if p == 2:
            return np.sqrt(np.sum(x * x, axis=ax, keepdims=keepdim))
        if p == 1:
            return np.sum(x, axis=ax, keepdims=keepdim)
        if p == math.inf:
            return np.max(x, axis=ax, keepdims=keepdim)
        if p == -math.inf:
            return np.min(x, axis=ax, keepdims=keepdim)
        if p == 0:
            return np.sum(x != 0, axis=ax, keepdims=keepdim).astype(a.dtype)
        return np.power(np.sum(np.power(x, p), axis=ax, keepdims=keepdim), 1.0 / p).astype(a.dtype, copy=False)

    def backward(self, grad):
        from ember.ops.elementwise import where, sign, abs as abs_
        (a,) = self.saved_tensors
        p = self.p
        out = _expand_back(self.output, a.shape, self.dims, self.keepdim)
        g = _expand_back(grad, a.shape, self.dims, self.keepdim)
        if p == 2:
            return where(out == 0, 0.0, g * a / out)
        if p == 1:
            return g * sign(a)
        if p == 0:
            return g * 0
        if p in (math.inf, -math.inf):
            mask = abs_(a) == out
            return g * sign(a) * mask / sum(mask, self.dims, keepdim=True)
        return where(out == 0, 0.0, g * sign(a) * abs_(a) ** (p - 1) / out ** (p - 1))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, out=None):
    if dtype is not None:
        from ember.ops.elementwise import cast
        input = cast(input, dtype)
    if input.dtype._kind < 2:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_type_word(input.dtype)}")
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("the nuclear norm is not implemented in ember")
    if isinstance(dim, int):
        dim = (dim,)
    return Norm.apply(input, p=float(p), dims=_dims(dim, input._data.ndim), keepdim=keepdim)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    return norm(x, ord, dim, keepdim, dtype)


class LogSumExp(Function):
    save = (0,)
    save_output = True

    def forward(self, a, dims, keepdim):
        self.dims, self.keepdim = dims, keepdim
        ax = _axis(dims, a.ndim)
        m = np.max(a, axis=ax, keepdims=True) if a.size else np.zeros((1,) * a.ndim, a.dtype)
        m = np.where(np.isfinite(m), m, 0)  # all -inf rows stay -inf instead of nan
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(a - m), axis=ax, keepdims=True)) + m
        return out if keepdim else out.reshape([s for i, s in enumerate(out.shape) if i not in dims])

    def backward(self, grad):
        from ember.ops.elementwise import exp
        (a,) = self.saved_tensors
        out = _expand_back(self.output, a.shape, self.dims, self.keepdim)
        return _expand_back(grad, a.shape, self.dims, self.keepdim) * exp(a - out)


def logsumexp(input, dim, keepdim=False):
    if input.dtype._kind < 2:
        from ember.ops.elementwise import cast
        input = cast(input, _dt.get_default_dtype())
    return LogSumExp.apply(input, dims=_dims(dim, input._data.ndim), keepdim=keepdim)


# -- scans -----------------------------------------------------------------------------------

class Cumsum(Function):
    def forward(self, a, dim, dtype):
        self.dim = dim
        return np.cumsum(a, axis=dim, dtype=dtype) if a.ndim else a.astype(dtype or a.dtype, copy=True)

    def backward(self, grad):
        from ember.ops.shape import flip
        if grad.ndim == 0:
            return grad
        return flip(cumsum(flip(grad, self.dim), self.dim), self.dim)


def cumsum(input, dim, *, dtype=None):
    d = wrap_dim(dim, input._data.ndim)
    out_np = _dt.to_dtype(dtype).np if dtype is not None else (np.int64 if input.dtype._kind < 2 else None)
    return Cumsum.apply(input, dim=d, dtype=out_np)


class Cumprod(Function):
    save = (0,)
    save_output = True

    def forward(self, a, dim):
        self.dim = dim
        return np.cumprod(a, axis=dim) if a.ndim else a.copy()

    def backward(self, grad):
        from ember.ops.shape import flip
        (a,) = self.saved_tensors
        out = self.output
        if grad.ndim == 0:
            return grad
        if a._data.dtype.kind == "c":
            from ember.ops.elementwise import _no_complex_gradient
            _no_complex_gradient("cumprod")
        d = self.dim
        if (a._data == 0).any():
            return Tensor._make(_cumprod_grad_with_zeros(a._data, grad._data, d))
        # sum over later positions of grad * out, divided by a (exact while no input is zero)
        return flip(cumsum(flip(grad * out, d), d), d) / a


def _cumprod_grad_with_zeros(a, g, dim):
    """d/da_i of sum_j g_j * prod_{k<=j} a_k, without dividing by a_i: for each i, the running product
    with a_i replaced by 1. O(n^2) along dim; taken only when an input is zero."""
    a, g = np.moveaxis(a, dim, -1), np.moveaxis(g, dim, -1)
    out = np.empty_like(a)
    for i in range(a.shape[-1]):
        b = a.copy()
        b[..., i] = 1
        out[..., i] = (np.cumprod(b, axis=-1)[..., i:] * g[..., i:]).sum(-1)
    return np.moveaxis(out, -1, dim)


def cumprod(input, dim, *, dtype=None):
    if dtype is not None:
        from ember.ops.elementwise import cast
        input = cast(input, dtype)
    return Cumprod.apply(input, dim=wrap_dim(dim, input._data.ndim))


# -- sorting ---------------------------------------------------------------------------------

def sort(input, dim=-1, descending=False, stable=False):
    from ember.ops.index import gather
    d = wrap_dim(dim, input._data.ndim)
    a = input._data
    if a.ndim == 0:
        return _types["sort"](input.clone(), Tensor._make(np.array(0, dtype=np.int64)))
    idx = np.argsort(-a if descending and a.dtype.kind != "b" else a, axis=d, kind="stable")
    if descending and a.dtype.kind == "b":
        idx = np.flip(np.argsort(a, axis=d, kind="stable"), d)
    indices = Tensor._make(idx.astype(np.int64))
    return _types["sort"](gather(input, d, indices), indices)


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    from ember.ops.index import gather
    d = wrap_dim(dim, input._data.ndim)
    a = input._data
    if k > (a.shape[d] if a.ndim else 1):
        raise RuntimeError("selected index k out of range")
    idx = np.argsort(-a if largest else a, axis=d, kind="stable")
    idx = np.take(idx, np.arange(k), axis=d)
    indices = Tensor._make(idx.astype(np.int64))
    return _types["topk"](gather(input, d, indices), indices)


def median(input, dim=None, keepdim=False):
    if dim is None:
        flat = input.reshape(-1)
        s = sort(flat).values
        return s[(flat.shape[0] - 1) // 2]
    d = wrap_dim(dim, input._data.ndim)
    s = sort(input, d)
    k = (input.shape[d] - 1) // 2
    from ember.ops.shape import narrow
    values = narrow(s.values, d, k, 1)
    indices = narrow(s.indices, d, k, 1)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return _types["median"](values, indices)


def kthvalue(input, k, dim=-1, keepdim=False):
    d = wrap_dim(dim, input._data.ndim)
    s = sort(input, d)
    from ember.ops.shape import narrow
    values, indices = narrow(s.values, d, k - 1, 1), narrow(s.indices, d, k - 1, 1)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return _types["kthvalue"](values, indices)


def _numpy_aliases(fn):
    """PyTorch also accepts NumPy's spellings: axis= for dim= and keepdims= for keepdim=."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "axis" in kwargs and "axis" not in fn.__code__.co_varnames:
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:
            kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)
    return wrapper


for _name in ("sum mean nansum var std var_mean std_mean prod max min amax amin argmax argmin all any norm "
              "logsumexp median count_nonzero cumsum cumprod").split():
    globals()[_name] = _numpy_aliases(globals()[_name])
del _name


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), optionally with each element's index into them and their counts."""
    a = input._data
    if dim is None:
        values, inverse, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inverse = inverse.reshape(a.shape)
    else:
        values, inverse, counts = np.unique(a, axis=wrap_dim(dim, a.ndim), return_inverse=True, return_counts=True)
        inverse = inverse.reshape(-1)
    out = [Tensor._make(values)]
    if return_inverse:
        out.append(Tensor._make(inverse.astype(np.int64)))
    if return_counts:
        out.append(Tensor._make(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)
