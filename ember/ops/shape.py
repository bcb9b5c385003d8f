"""Shape ops: views (reshape, permute, expand, ...) and joins/splits (cat, stack, split, ...).

Views share storage and the version counter with their base, so an in-place change through a
view is seen by autograd's saved-tensor checks.
"""
import builtins

import numpy as np

from ember.autograd.function import Function
from ember.tensor import Tensor


def wrap_dim(dim, ndim):
    """A possibly negative dim as an index, with PyTorch's IndexError when out of range."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _sizes(shape):
    """x.reshape(2, 3) and x.reshape((2, 3)) mean the same."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _as_view(out, base):
    if np.may_share_memory(out._data, base._data):
        out._version = base._version
        out._base = base._base if base._base is not None else base
    return out


# -- views -----------------------------------------------------------------------------------

def _infer_shape(shape, numel):
    shape = list(shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if unknown:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{_fmt(shape)}' is invalid for input of size {numel}")
        shape[unknown[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{_fmt(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


class View(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        return a.reshape(shape)

    def backward(self, grad):
        return reshape(grad, self.in_shape)


class UnsafeView(View):
    """reshape that had to copy (PyTorch's name for it)."""


def reshape(input, *shape):
    shape = _infer_shape(_sizes(shape), input._data.size)
    if shape == input._data.shape:
        return _as_view(View.apply(input, shape=shape), input)
    out = View.apply(input, shape=shape)
    if not np.may_share_memory(out._data, input._data):
        if out.grad_fn is not None:
            out.grad_fn.__class__ = UnsafeView
        return out
    return _as_view(out, input)


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        from ember.ops.elementwise import cast
        return cast(input, shape[0])  # view(dtype)
    shape = _infer_shape(_sizes(shape), input._data.size)
    probe = input._data.view()
    try:
        probe.shape = shape  # assigning .shape refuses to copy: exactly view()'s contract
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    return _as_view(View.apply(input, shape=shape), input)


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, 1)
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input._data.shape
    mid = 1
    for d in shp[s:e + 1]:
        mid *= d
    return reshape(input, shp[:s] + (mid,) + shp[e + 1:])


def unflatten(input, dim, sizes):
    d = wrap_dim(dim, input._data.ndim)
    shp = input._data.shape
    sizes = _infer_shape(tuple(sizes), shp[d])
    return reshape(input, shp[:d] + sizes + shp[d + 1:])


class Permute(Function):
    def forward(self, a, dims):
        self.dims = dims
        return a.transpose(dims)

    def backward(self, grad):
        return permute(grad, tuple(np.argsort(self.dims)))


def permute(input, *dims):
    dims = _sizes(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
                           f"len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _as_view(Permute.apply(input, dims=dims), input)


class Transpose(Function):
    def forward(self, a, d0, d1):
        self.d = (d0, d1)
        return np.swapaxes(a, d0, d1)

    def backward(self, grad):
        return transpose(grad, *self.d)


def transpose(input, dim0, dim1):
    nd = input._data.ndim
    d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    return _as_view(Transpose.apply(input, d0=d0, d1=d1), input)


swapaxes = swapdims = transpose


class T(Function):
    def forward(self, a):
        return a.T

    def backward(self, grad):
        return t(grad)


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return _as_view(T.apply(input), input)


def adjoint(input):
    return transpose(input, -2, -1)


def movedim(input, source, destination):
    nd = input._data.ndim
    src = [wrap_dim(s, nd) for s in ((source,) if isinstance(source, int) else source)]
    dst = [wrap_dim(d, nd) for d in ((destination,) if isinstance(destination, int) else destination)]
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


class Expand(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        return np.broadcast_to(a, shape)

    def backward(self, grad):
        from ember.ops.elementwise import sum_to
        return sum_to(grad, self.in_shape)


def expand(input, *sizes):
    sizes = _sizes(sizes)
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shp)}}}, size=[{', '.join(map(str, sizes))}]): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
                           f"dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   f"non-existing dimension {i}")
            target.append(s)
            continue
        cur = shp[i - lead]
        if s == -1:
            target.append(cur)
        elif cur == 1 or cur == s:
            target.append(s)
        else:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: [{', '.join(map(str, sizes))}].  "
                               f"Tensor sizes: [{', '.join(map(str, shp))}]")
    return _as_view(Expand.apply(input, shape=tuple(target)), input)


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, size):
    return expand(input, size)


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*[t.shape for t in tensors])
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    from ember.tensor import Size
    return Size(np.broadcast_shapes(*shapes))


class Squeeze(Function):
    def forward(self, a, dims):
        self.in_shape = a.shape
        return a.reshape(tuple(s for i, s in enumerate(a.shape) if i not in dims))

    def backward(self, grad):
        return reshape(grad, self.in_shape)


def squeeze(input, dim=None):
    shp = input._data.shape
    nd = len(shp)
    if dim is None:
        dims = tuple(i for i, s in enumerate(shp) if s == 1)
        out = Squeeze.apply(input, dims=dims)
        name = "SqueezeBackward0"
    else:
        dlist = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(i for i in (wrap_dim(d, nd) for d in dlist) if nd and shp[i] == 1)
        out = Squeeze.apply(input, dims=dims)
        name = "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"
    if out.grad_fn is not None:
        out.grad_fn.node_name = name
    return _as_view(out, input)


class Unsqueeze(Function):
    def forward(self, a, dim):
        self.dim = dim
        return np.expand_dims(a, dim)

    def backward(self, grad):
        return squeeze(grad, self.dim)


def unsqueeze(input, dim):
    d = wrap_dim(dim, input._data.ndim + 1)
    return _as_view(Unsqueeze.apply(input, dim=d), input)


class Repeat(Function):
    def forward(self, a, reps):
        self.in_shape = a.shape
        self.reps = reps
        return np.tile(a, reps)

    def backward(self, grad):
        # fold each repeated axis into (rep, size) and sum over the reps
        lead = len(self.reps) - len(self.in_shape)
        shape = (1,) * lead + tuple(self.in_shape)
        split = []
        for r, s in zip(self.reps, shape):
            split += [r, s]
        g = reshape(grad, tuple(split))
        g = g.sum(dim=tuple(range(0, len(split), 2)))
        return reshape(g, self.in_shape)


def repeat(input, *sizes):
    reps = _sizes(sizes)
    if len(reps) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    return Repeat.apply(input, reps=reps)


def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats, dim=None):
    if dim is None:
        input, dim = flatten(input), 0
    d = wrap_dim(dim, input._data.ndim)
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    from ember.ops.index import index_select
    idx = np.repeat(np.arange(input._data.shape[d]), reps)
    return index_select(input, d, Tensor._make(idx.astype(np.int64)))


class Flip(Function):
    def forward(self, a, dims):
        self.dims = dims
        return np.flip(a, dims).copy()

    def backward(self, grad):
        return flip(grad, self.dims)


def flip(input, *dims):
    dims = _sizes(dims)
    return Flip.apply(input, dims=tuple(wrap_dim(d, input._data.ndim) for d in dims))


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


def roll(input, shifts, dims=None):
    if dims is None:
        return reshape(roll(flatten(input), shifts, 0), input.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    from ember.ops.index import index_select
    out = input
    for s, d in zip(shifts, dims):
        n = input._data.shape[d]
        idx = (np.arange(n) - s) % n
        out = index_select(out, d, Tensor._make(idx.astype(np.int64)))
    return out


# -- joining and splitting -------------------------------------------------------------------

class Cat(Function):
    def forward(self, *arrays, dim):
        self.dim = dim
        self.sizes = [a.shape[dim] for a in arrays]
        return np.concatenate(arrays, axis=dim)

    def backward(self, grad):
        out, start = [], 0
        for n in self.sizes:
            out.append(narrow(grad, self.dim, start, n))
            start += n
        return tuple(out)


def cat(tensors, dim=0, *, out=None, axis=None):
    if axis is not None:
        dim = axis
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    from ember.backend.dtypes import result_type
    from ember.ops.elementwise import cast
    # PyTorch skips legacy empty 1-d tensors (shape [0]) when joining
    kept = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    rt = result_type(*[_Dimmed(t) for t in kept])
    kept = [cast(t, rt) for t in kept]
    ref = kept[0]
    nd = ref._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, nd)
    for i, t in enumerate(kept):
        if t._data.ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {t._data.ndim}")
        for k in range(nd):
            if k != d and t._data.shape[k] != ref._data.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref._data.shape[k]} but got size {t._data.shape[k]} for tensor number {i} "
                                   f"in the list.")
    result = Cat.apply(*kept, dim=d)
    if out is not None:
        from ember.ops.elementwise import _out
        return _out(result, out)
    return result


concat = concatenate = cat


class _Dimmed:
    """Lets result_type see every joined tensor as a dimensioned one."""
    __slots__ = ("dtype", "ndim")

    def __init__(self, t):
        self.dtype, self.ndim = t.dtype, 1


def stack(tensors, dim=0, *, out=None):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shp = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shp)} at entry 0 and "
                               f"{list(t.shape)} at entry {i}")
    d = wrap_dim(dim, len(shp) + 1)
    result = cat([unsqueeze(t, d) for t in tensors], d)
    if result.grad_fn is not None:
        result.grad_fn.node_name = "StackBackward0"
    if out is not None:
        from ember.ops.elementwise import _out
        return _out(result, out)
    return result


def hstack(tensors):
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t.reshape(1, -1) if t.ndim == 1 else t for t in tensors], 0)


def dstack(tensors):
    return cat([t.reshape(1, -1, 1) if t.ndim == 1 else (t.unsqueeze(-1) if t.ndim == 2 else t)
                for t in tensors], 2)


def column_stack(tensors):
    return cat([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors], 1)


class Narrow(Function):
    def forward(self, a, dim, start, length):
        self.in_shape, self.dim, self.start = a.shape, dim, start
        idx = [slice(None)] * a.ndim
        idx[dim] = slice(start, start + length)
        return a[tuple(idx)]

    def backward(self, grad):
        pad = [(0, 0)] * len(self.in_shape)
        pad[self.dim] = (self.start, self.in_shape[self.dim] - self.start - grad.shape[self.dim])
        return PadZeros.apply(grad, pad=tuple(pad))

    @classmethod
    def _node_name(cls):
        return "SliceBackward0"


class PadZeros(Function):
    """Embed a gradient slice into zeros of the input's shape (the backward of narrow/split)."""

    def forward(self, g, pad):
        self.pad = pad
        return np.pad(g, pad)

    def backward(self, grad):
        idx = tuple(slice(lo, grad.shape[i] - hi) for i, (lo, hi) in enumerate(self.pad))
        return grad[idx]


def narrow(input, dim, start, length):
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    size = input._data.shape[d]
    start = int(start)
    if start < 0:
        start += size
    if start < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _as_view(Narrow.apply(input, dim=d, start=start, length=int(length)), input)


def split(tensor, split_size_or_sections, dim=0):
    d = wrap_dim(dim, tensor._data.ndim)
    size = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
        sections = [builtins.min(step, size - i) for i in range(0, size, step)] if size else [0]
    else:
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sections}")
    out, start = [], 0
    for n in sections:
        piece = narrow(tensor, d, start, n)
        if piece.grad_fn is not None:
            piece.grad_fn.node_name = "SplitBackward0" if isinstance(split_size_or_sections, int) \
                else "SplitWithSizesBackward0"
        out.append(piece)
        start += n
    return tuple(out)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    size = input._data.shape[wrap_dim(dim, input._data.ndim)]
    step = -(-size // chunks) if size else 1
    return split(input, step, dim)


def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        sizes = [size // n + (1 if i < size % n else 0) for i in range(n)]
    else:
        bounds = [0] + [builtins.min(int(i), size) for i in indices_or_sections] + [size]
        sizes = [builtins.max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
    return split(input, sizes, d)


def select(input, dim, index):
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {d}")
    index = index % size
    out = squeeze(narrow(input, d, index, 1), d)
    if out.grad_fn is not None:
        out.grad_fn.node_name = "SelectBackward0"
    return out


def unbind(input, dim=0):
    d = wrap_dim(dim, input._data.ndim)
    return tuple(select(input, d, i) for i in range(input._data.shape[d]))


def diagonal(input, offset=0, dim1=0, dim2=1):
    from ember.ops.index import _gather_diagonal
    return _gather_diagonal(input, offset, dim1, dim2)


def diag(input, diagonal=0):
    if input.ndim == 1:
        n = input.shape[0] + builtins.abs(diagonal)
        idx = np.arange(input.shape[0])
        rows, cols = (idx, idx + diagonal) if diagonal >= 0 else (idx - diagonal, idx)
        from ember.creation import zeros
        from ember.ops.index import index_put
        return index_put(zeros(n, n, dtype=input.dtype), (Tensor._make(rows), Tensor._make(cols)), input)
    return diagonal_fn(input, diagonal)


diagonal_fn = diagonal


def tril(input, diagonal=0):
    mask = np.tril(np.ones(input.shape[-2:], dtype=bool), diagonal)
    from ember.ops.elementwise import where
    return where(Tensor._make(mask), input, 0)


def triu(input, diagonal=0):
    mask = np.triu(np.ones(input.shape[-2:], dtype=bool), diagonal)
    from ember.ops.elementwise import where
    return where(Tensor._make(mask), input, 0)


def atleast_1d(input):
    return reshape(input, 1) if input.ndim == 0 else input


def atleast_2d(input):
    return reshape(input, 1, -1) if input.ndim <= 1 else input


class ConstantPad(Function):
    def forward(self, a, pad, value):
        self.pad = pad
        return np.pad(a, pad, constant_values=value)

    def backward(self, grad):
        idx = tuple(slice(lo, grad.shape[i] - hi) for i, (lo, hi) in enumerate(self.pad))
        return grad[idx]


def pad(input, pad, mode="constant", value=None):
    """F.pad: `pad` lists (left, right) amounts from the last dimension backwards; negative crops."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    n = len(pad) // 2
    if n > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.ndim}")
    if mode != "constant":
        _check_nonconstant_pad(input, pad, mode, value)
    widths = [(0, 0)] * input.ndim
    for i in range(n):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        # negative padding crops: crop first, then pad what is left
        crop = tuple(slice(-lo if lo < 0 else 0, s + hi if hi < 0 else s) for (lo, hi), s in zip(widths, input.shape))
        input = input[crop]
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if mode == "constant":
        return ConstantPad.apply(input, pad=tuple(widths), value=0 if value is None else value)
    from ember.ops.index import getitem
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    # pad the index grid, then gather: differentiable through indexing
    out = input
    for d, (lo, hi) in enumerate(widths):
        if lo or hi:
            idx = np.pad(np.arange(out.shape[d]), (lo, hi), mode=np_mode)
            key = (slice(None),) * d + (Tensor._make(idx),)
            out = getitem(out, key)
    return out


_PAD_COMBINATIONS = ("Supported combinations for non-constant padding:\n"
                     "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                     "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                     "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _check_nonconstant_pad(input, pad, mode, value):
    """PyTorch's checks for reflect/replicate/circular padding, in its order: the last dimension first."""
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    n = len(pad) // 2
    if not (1 <= n <= 3 and input.ndim in (n + 1, n + 2)):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
                                  + _PAD_COMBINATIONS)
    for i in range(n):
        d = input.ndim - 1 - i
        lo, hi, size = int(pad[2 * i]), int(pad[2 * i + 1]), input.shape[d]
        if mode == "reflect" and not (lo < size and hi < size):
            # PyTorch numbers the pads of dimension -1, -2, -3 as its kernels' arguments #4, #6, #8
            raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({lo}, {hi}) at dimension {d} of input "
                               f"{list(input.shape)}")
        if mode == "circular" and not (lo <= size and hi <= size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
