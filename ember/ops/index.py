"""Indexing: x[key], x[key] = v, gather/scatter, index_select, masked_fill, nonzero."""
import numpy as np

from ember.autograd.function import Function
from ember.backend import dtypes as _dt
from ember.tensor import Tensor
from ember.ops.shape import wrap_dim, _as_view
from ember.ops.elementwise import sum_to, as_operand, cast, where


# -- keys ------------------------------------------------------------------------------------

def _convert_index(k):
    if isinstance(k, Tensor):
        if k.dtype._kind == 2:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return k._data
    if isinstance(k, (list, np.ndarray)):
        arr = np.asarray(k)
        if arr.dtype.kind not in "iub" and arr.size:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return arr.astype(np.int64) if arr.size == 0 and arr.dtype.kind == "f" else arr
    if isinstance(k, slice):
        if k.step is not None and int(k.step) <= 0:
            raise ValueError("step must be greater than zero")
        return slice(_int_or_none(k.start), _int_or_none(k.stop), _int_or_none(k.step))
    if isinstance(k, (bool, np.bool_)):
        return np.array(k)
    return k


def _int_or_none(v):
    return None if v is None else int(v)


def convert_key(key):
    """A PyTorch index as a NumPy index; `basic` says whether the result is a view."""
    parts = key if isinstance(key, tuple) else (key,)
    converted = tuple(_convert_index(k) for k in parts)
    basic = all(isinstance(k, (int, np.integer, slice)) or k is None or k is Ellipsis for k in converted)
    return (converted if isinstance(key, tuple) else converted[0]), basic


def _node_name_for(key, basic):
    if not basic:
        return "IndexBackward0"
    parts = key if isinstance(key, tuple) else (key,)
    if any(isinstance(k, slice) for k in parts) or not parts:
        return "SliceBackward0"
    if any(isinstance(k, (int, np.integer)) for k in parts):
        return "SelectBackward0"
    return "UnsqueezeBackward0" if any(k is None for k in parts) else "AliasBackward0"


def _index_error(e, shape):
    msg = str(e)
    # NumPy says "axis", PyTorch says "dimension"
    msg = msg.replace("axis", "dimension")
    raise IndexError(msg) from None


# -- reading ---------------------------------------------------------------------------------

class Index(Function):
    def forward(self, a, key, basic):
        self.in_shape, self.key, self.basic = a.shape, key, basic
        return a[key]

    def backward(self, grad):
        return IndexGrad.apply(grad, key=self.key, shape=self.in_shape, basic=self.basic)


class IndexGrad(Function):
    """Scatter a gradient back into zeros shaped like the indexed tensor (duplicates add up)."""

    def forward(self, g, key, shape, basic):
        self.key, self.basic = key, basic
        out = np.zeros(shape, g.dtype)
        if basic or _is_mask(key):
            out[key] = g
        else:
            np.add.at(out, key, g)
        return out

    def backward(self, grad):
        return Index.apply(grad, key=self.key, basic=self.basic)


def _is_mask(key):
    return isinstance(key, np.ndarray) and key.dtype == np.bool_


def getitem(t, key):
    k, basic = convert_key(key)
    try:
        out = Index.apply(t, key=k, basic=basic)
    except IndexError as e:
        _index_error(e, t.shape)
    if out.grad_fn is not None:
        out.grad_fn.node_name = _node_name_for(k, basic)
    return _as_view(out, t) if basic else out


# -- writing ---------------------------------------------------------------------------------

class IndexPut(Function):
    def forward(self, a, v, key, accumulate):
        self.key, self.v_shape, self.accumulate = key, np.shape(v), accumulate
        out = a.copy()
        if accumulate:
            np.add.at(out, key, v)
        else:
            out[key] = v
        return out

    def backward(self, grad):
        ga = gv = None
        if self.next[0] is not None:
            ga = grad if self.accumulate else index_put_key(grad, self.key, 0.0)
        if self.next[1] is not None:
            picked = Index.apply(grad, key=self.key, basic=False)
            gv = sum_to(picked, self.v_shape)
        return ga, gv


def index_put_key(t, key, value, accumulate=False):
    """Out-of-place `t[key] = value` on a NumPy key, differentiable in both t and value."""
    v = cast(as_operand(value), t.dtype) if isinstance(value, Tensor) else value
    try:
        return IndexPut.apply(t, v, key=key, accumulate=accumulate)
    except ValueError:
        _setitem_shape_error(t, key, v)


def _setitem_shape_error(t, key, v):
    target = np.empty(t.shape, dtype=np.bool_)[key].shape
    raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(getattr(v, '_data', v)))} cannot "
                       f"be broadcast to indexing result of shape {list(target)}") from None


def setitem(t, key, value):
    k, _basic = convert_key(key)
    if isinstance(value, (list, tuple)):
        from ember.creation import tensor
        value = tensor(value)
    if isinstance(value, Tensor) and not (value._requires_grad and _grad_on()) and not (t._requires_grad and
                                                                                      _grad_on()):
        value = value._data
    if not isinstance(value, Tensor) and not (t._requires_grad and _grad_on()):
        # the plain case: write straight into the storage
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and t.dtype._kind < 2:
            pass  # PyTorch truncates floats written into integer tensors; NumPy's cast does the same
        try:
            t._data[k] = value
        except IndexError as e:
            _index_error(e, t.shape)
        except ValueError:
            if not t._data.flags.writeable:
                raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to "
                                   "a single memory location. Please clone() the tensor before performing the "
                                   "operation.") from None
            _setitem_shape_error(t, k, value)
        t._version[0] += 1
        return
    t._inplace(lambda base, v: index_put_key(base, k, v), value if isinstance(value, Tensor) else
               Tensor._make(np.asarray(value, dtype=t.dtype.np)))


def _grad_on():
    from ember.autograd.grad_mode import _GradState
    return _GradState.enabled


def index_put(input, indices, values, accumulate=False):
    key = tuple(_convert_index(i) for i in indices)
    return index_put_key(input, key, values, accumulate)


def index_put_(input, indices, values, accumulate=False):
    key = tuple(_convert_index(i) for i in indices)
    return input._inplace(lambda base, v: index_put_key(base, key, v, accumulate), as_operand(values))


# -- gather / scatter ------------------------------------------------------------------------

def _along(index, dim):
    """Full NumPy index tuple addressing `index`'s entries along `dim` (other dims by position)."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _check_index(index, name):
    if index.dtype is not _dt.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")


class Gather(Function):
    def forward(self, a, index, dim):
        self.in_shape, self.index, self.dim = a.shape, index, dim
        return a[_along(index, dim)]

    def backward(self, grad):
        return ScatterAddZeros.apply(grad, index=self.index, dim=self.dim, shape=self.in_shape)


class ScatterAddZeros(Function):
    """zeros(shape).scatter_add_(dim, index, src): the backward of gather."""

    @classmethod
    def _node_name(cls):
        return "ScatterAddBackward0"

    def forward(self, src, index, dim, shape):
        self.index, self.dim = index, dim
        out = np.zeros(shape, src.dtype)
        np.add.at(out, _along(index, dim), src)
        return out

    def backward(self, grad):
        return Gather.apply(grad, index=self.index, dim=self.dim)


def scatter_into_zeros(g, dim, index_array, shape):
    return ScatterAddZeros.apply(g, index=index_array, dim=dim, shape=shape)


def gather(input, dim, index, *, sparse_grad=False, out=None):
    _check_index(index, "gather")
    d = wrap_dim(dim, input._data.ndim)
    idx = index._data
    if idx.ndim != input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for i, (si, sa) in enumerate(zip(idx.shape, input._data.shape)):
        if i != d and si > sa:
            raise RuntimeError(f"Size does not match at dimension {i} expected index {list(idx.shape)} to be smaller "
                               f"than self {list(input.shape)} apart from dimension {d}")
    if idx.size and (idx.max() >= input._data.shape[d] or idx.min() < -input._data.shape[d]):
        raise RuntimeError(f"index {idx.max()} is out of bounds for dimension {d} with size {input._data.shape[d]}")
    return Gather.apply(input, index=idx, dim=d)


class Scatter(Function):
    def forward(self, a, src, index, dim, reduce):
        self.index, self.dim, self.reduce = index, dim, reduce
        self.src_shape = np.shape(src)
        out = a.copy()
        where_ = _along(index, dim)
        if isinstance(src, np.ndarray):
            src = src[tuple(slice(0, s) for s in index.shape)]
        if reduce is None:
            out[where_] = src
        elif reduce in ("add", "sum"):
            np.add.at(out, where_, src)
        elif reduce in ("multiply", "prod"):
            np.multiply.at(out, where_, src)
        else:
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
        return out

    def backward(self, grad):
        ga = gs = None
        if self.next[0] is not None:
            if self.reduce is None:
                mask = np.ones(grad.shape, dtype=bool)
                mask[_along(self.index, self.dim)] = False
                ga = grad * Tensor._make(mask)
            else:
                ga = grad
        if self.next[1] is not None:
            picked = Gather.apply(grad, index=self.index, dim=self.dim)
            if picked.shape != self.src_shape:
                from ember.ops.shape import PadZeros
                pad = tuple((0, s - p) for s, p in zip(self.src_shape, picked.shape))
                picked = PadZeros.apply(picked, pad=pad)
            gs = picked
        return ga, gs


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    _check_index(index, "scatter")
    d = wrap_dim(dim, input._data.ndim)
    if src is None:
        src = value
    if isinstance(src, Tensor):
        src = cast(src, input.dtype)
    return Scatter.apply(input, src, index=index._data, dim=d, reduce=reduce)


def scatter_(input, dim, index, src=None, *, value=None, reduce=None):
    """x.scatter_(...): when autograd has nothing to record, the values go straight into x's storage
    (the generic in-place route scatters into a copy of x and writes the copy back); else that route."""
    data = input._data
    if reduce is not None or not data.flags.writeable or _records(input, src):
        return input._inplace(scatter, dim, index, src, value=value, reduce=reduce)
    _check_index(index, "scatter")
    d = wrap_dim(dim, data.ndim)
    if src is None:
        src = value
    idx = index._data
    if isinstance(src, Tensor):
        src = src._data[tuple(slice(0, s) for s in idx.shape)]
    data[_along(idx, d)] = src
    input._version[0] += 1
    return input


def _records(input, src):
    """Whether autograd records an in-place op on input with src."""
    from ember.autograd.grad_mode import _GradState
    return _GradState.enabled and (input._requires_grad or isinstance(src, Tensor) and src._requires_grad)


def scatter_add(input, dim, index, src):
    return scatter(input, dim, index, src, reduce="add")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce not in ("sum", "prod"):
        raise NotImplementedError(f"scatter_reduce with reduce='{reduce}' is not implemented in ember")
    if not include_self:
        # the written positions start from the reduction's identity, so input's values there drop out
        input = scatter(input, dim, index, value=0.0 if reduce == "sum" else 1.0)
    return scatter(input, dim, index, src, reduce=reduce)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    return gather(input, dim, indices.expand(*[s if i == wrap_dim(dim, input.ndim) else input.shape[i]
                                              for i, s in enumerate(indices.shape)]))


class IndexSelect(Function):
    def forward(self, a, index, dim):
        self.in_shape, self.index, self.dim = a.shape, index, dim
        return np.take(a, index, axis=dim)

    def backward(self, grad):
        return IndexAddZeros.apply(grad, index=self.index, dim=self.dim, shape=self.in_shape)


class IndexAddZeros(Function):
    @classmethod
    def _node_name(cls):
        return "IndexAddBackward0"

    def forward(self, g, index, dim, shape):
        self.index, self.dim = index, dim
        out = np.zeros(shape, g.dtype)
        np.add.at(np.moveaxis(out, dim, 0), index, np.moveaxis(g, dim, 0))
        return out

    def backward(self, grad):
        return IndexSelect.apply(grad, index=self.index, dim=self.dim)


def index_select(input, dim, index, *, out=None):
    if index.dtype._kind != 1:
        raise IndexError("index_select(): Expected dtype int32/int64 for index")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = wrap_dim(dim, input._data.ndim)
    idx = index._data.reshape(-1)
    size = input._data.shape[d] if input._data.ndim else 1
    if idx.size and (idx.max() >= size or idx.min() < -size):
        raise IndexError(f"index out of range in self")
    if input._data.ndim == 0:
        return input.clone()
    return IndexSelect.apply(input, index=idx, dim=d)


def index_add(input, dim, index, source, *, alpha=1):
    d = wrap_dim(dim, input._data.ndim)
    added = IndexAddZeros.apply(source * alpha if alpha != 1 else source, index=index._data, dim=d,
                                shape=input.shape)
    return input + added


def index_fill(input, dim, index, value):
    d = wrap_dim(dim, input._data.ndim)
    mask = np.zeros(input.shape, dtype=bool)
    np.moveaxis(mask, d, 0)[index._data] = True
    return where(Tensor._make(mask), value, input)


def masked_fill(input, mask, value):
    if not isinstance(mask, Tensor) or mask.dtype is not _dt.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        value = cast(value, input.dtype)
    elif input.dtype._kind < 2 and isinstance(value, float):
        value = int(value)
    try:
        np.broadcast_shapes(mask.shape, input.shape)
    except ValueError:
        from ember.ops.elementwise import raise_broadcast_error
        raise_broadcast_error(input.shape, mask.shape)
    out = where(mask, value, input)
    if out.shape != input.shape:
        raise RuntimeError(f"masked_fill: mask of shape {list(mask.shape)} does not broadcast to input of shape "
                           f"{list(input.shape)}")
    if out.dtype is not input.dtype:
        out = cast(out, input.dtype)
    if out.grad_fn is not None:
        out.grad_fn.node_name = "MaskedFillBackward0"
    return out


def masked_select(input, mask):
    shape = np.broadcast_shapes(input.shape, mask.shape)
    from ember.ops.shape import expand
    return getitem(expand(input, shape), expand(mask, shape))


def masked_scatter(input, mask, source):
    from ember.ops.shape import expand
    shape = np.broadcast_shapes(input.shape, mask.shape)
    out = expand(input, shape).clone()
    mask = expand(mask, shape)
    n = int(mask._data.sum())
    out[mask] = source.reshape(-1)[:n]
    return out


def nonzero(input, *, as_tuple=False):
    idx = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in idx)
    return Tensor._make(np.stack(idx, axis=1).astype(np.int64) if idx else np.zeros((0, 0), np.int64))


def argwhere(input):
    return nonzero(input)


def take(input, index):
    return getitem(input.reshape(-1), index)


def _gather_diagonal(input, offset, dim1, dim2):
    from ember.ops.shape import movedim
    nd = input.ndim
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    moved = movedim(input, (d1, d2), (-2, -1))
    rows, cols = moved.shape[-2], moved.shape[-1]
    if offset >= 0:
        n = max(min(rows, cols - offset), 0)
        r, c = np.arange(n), np.arange(n) + offset
    else:
        n = max(min(rows + offset, cols), 0)
        r, c = np.arange(n) - offset, np.arange(n)
    return getitem(moved, (Ellipsis, Tensor._make(r), Tensor._make(c)))


def one_hot(tensor, num_classes=-1):
    if tensor.dtype is not _dt.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    idx = tensor._data
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise RuntimeError("Class values must be smaller than num_classes." if idx.size and idx.max() >= num_classes
                           else "Class values must be non-negative.")
    return Tensor._make((idx[..., None] == np.arange(num_classes)).astype(np.int64))


class Embedding(Function):
    """Rows of a weight table; the gradient adds up per row and skips padding_idx."""

    def forward(self, weight, index, padding_idx, scale_grad_by_freq=False):
        if index.size and (index.min() < 0 or index.max() >= weight.shape[0]):
            raise IndexError("index out of range in self")
        self.index, self.padding_idx, self.rows = index, padding_idx, weight.shape[0]
        self.scale_grad_by_freq = scale_grad_by_freq
        return weight[index]

    def backward(self, grad):
        g = grad._data.reshape(-1, grad.shape[-1])
        idx = self.index.reshape(-1)
        out = np.zeros((self.rows, g.shape[1]), g.dtype)
        if self.scale_grad_by_freq:
            counts = np.bincount(idx, minlength=self.rows)
            g = g / counts[idx][:, None].astype(g.dtype)
        np.add.at(out, idx, g)
        if self.padding_idx is not None:
            out[self.padding_idx] = 0
        return Tensor._make(out)
