"""Small tensor-level math of torch's namespace: cross, trace, dist, meshgrid."""
import warnings

import numpy as np

from ember.autograd.function import Function
from ember.tensor import Tensor


class Cross(Function):
    save = (0, 1)

    @classmethod
    def _node_name(cls):
        return "LinalgCrossBackward0"

    def forward(self, a, b, dim):
        self.dim = dim
        return np.cross(a, b, axisa=dim, axisb=dim, axisc=dim)

    def backward(self, grad):
        from ember.ops.elementwise import sum_to
        a, b = self.saved_tensors
        # d(a x b) = da x b + a x db;  <g, da x b> = <b x g, da>,  <g, a x db> = <g x a, db>
        ga = sum_to(cross_dim(b.expand_as(grad) if b.shape != grad.shape else b, grad, self.dim), a.shape) \
            if self.next[0] is not None else None
        gb = sum_to(cross_dim(grad, a.expand_as(grad) if a.shape != grad.shape else a, self.dim), b.shape) \
            if self.next[1] is not None else None
        return ga, gb


def cross_dim(a, b, dim):
    return Cross.apply(a, b, dim=dim)


def cross(input, other, dim=None):
    """torch.cross; dim=None picks the first dimension of size 3 (deprecated in PyTorch, with its warning)."""
    from ember.ops.elementwise import _operands
    from ember.ops.shape import wrap_dim
    a, b = _operands(input, other)
    if a.ndim != b.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions.")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a.shape} and "
                           f"{b.shape}") from None
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", stacklevel=2)
        dims = [i for i, s in enumerate(shape) if s == 3]
        if not dims:
            raise RuntimeError(f"no dimension of size 3 in input")
        dim = dims[0]
    d = wrap_dim(dim, len(shape))
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {a.shape[d]} and "
                           f"{b.shape[d]}")
    if a.shape != shape:
        a = a.expand(*shape)
    if b.shape != shape:
        b = b.expand(*shape)
    return Cross.apply(a, b, dim=d)


def trace(input):
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    out = input.diagonal().sum()
    if out.grad_fn is not None:
        out.grad_fn.node_name = "TraceBackward0"
    return out


def dist(input, other, p=2):
    from ember.ops.reduce import norm
    return norm(input - other, p)


_warned_meshgrid = False


def meshgrid(*tensors, indexing=None):
    """Coordinate grids: with indexing='ij' output k varies along dimension k; 'xy' swaps the first two
    dimensions (Cartesian). The outputs are expanded views of the inputs (differentiable)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    global _warned_meshgrid
    if indexing is None and not _warned_meshgrid:
        _warned_meshgrid = True     # once per process, as PyTorch's TORCH_WARN_ONCE
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                      "argument.", stacklevel=2)
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to have the same dtype.")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t.shape[0] for t in flat)
    grids = []
    for i, t in enumerate(flat):
        view = [1] * len(flat)
        view[i] = shape[i]
        grids.append(t.reshape(view).expand(*shape))
    if swap:   # back in the caller's order; the grids keep the (len(y), len(x), ...) shape
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
