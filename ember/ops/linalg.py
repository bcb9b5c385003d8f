"""Matrix products: one MatMul op covers mm, mv, dot, bmm and batched/broadcast matmul."""
import numpy as np

from ember.backend.threads import matmul as _threaded_matmul

from ember.autograd.function import Function, fresh_grad
from ember.autograd.grad_mode import _GradState
from ember.tensor import Tensor
from ember.ops.elementwise import sum_to, _operands, as_operand, _wrap
from ember.ops import _autocast


def gemm(a, b, out=None):
    """A matrix product in the operands' dtype. bfloat16 (ml_dtypes, NumPy kind 'V') is multiplied in
    float32 by BLAS and rounded once, as PyTorch accumulates it."""
    if a.dtype.kind == "V":
        return _threaded_matmul(a.astype(np.float32), b.astype(np.float32)).astype(a.dtype)
    return _threaded_matmul(a, b, out=out)


_NAMES = {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 1): "DotBackward0", (3, 3): "BmmBackward0"}


class MatMul(Function):
    save = (0, 1)

    def forward(self, a, b):
        self.node_name = _NAMES.get((a.ndim, b.ndim), "UnsafeViewBackward0")
        return gemm(a, b)

    def backward(self, grad):
        a, b = self.saved_tensors
        if grad._data.dtype.kind == "c":   # complex: the products' gradients take the conjugate operands
            from ember.ops.complex import conj
            a, b = conj(a), conj(b)
        elif (not _GradState.enabled and a._data.ndim == 2 and b._data.ndim == 2
              and grad._data.dtype == a._data.dtype):
            return self._backward_matrices(grad._data, a._data, b._data)
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if self.next[0] is not None else None,
                    grad * a if self.next[1] is not None else None)
        # treat vectors as matrices (row for the left operand, column for the right), as matmul does
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = g.unsqueeze(-2)
        if b.ndim == 1:
            g = g.unsqueeze(-1)
        ga = gb = None
        if self.next[0] is not None:
            ga = sum_to(matmul(g, b2.mT), a2.shape)
            ga = ga.reshape(a.shape) if a.ndim == 1 else ga
        if self.next[1] is not None:
            gb = sum_to(matmul(a2.mT, g), b2.shape)
            gb = gb.reshape(b.shape) if b.ndim == 1 else gb
        return ga, gb

    def _backward_matrices(self, g, a, b):
        """mm's gradients straight on the arrays (nothing to record): one GEMM per input that needs one, not a
        recorded transpose and matmul each. The results are fresh arrays a parameter may keep as .grad."""
        ga = fresh_grad(gemm(g, b.T)) if self.next[0] is not None else None
        gb = fresh_grad(gemm(a.T, g)) if self.next[1] is not None else None
        return ga, gb


def _dtype_word(d):
    return d.c_name


def _check_same_dtype(a, b, what="m1 and m2"):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected {what} to have the same dtype, but got: {_dtype_word(a.dtype)} != "
                           f"{_dtype_word(b.dtype)}")


def _dims_str(shape):
    return "x".join(str(s) for s in shape)


class _Operand:
    """What PyTorch's matmul looks at to choose its route: shape, strides (in elements), requires_grad."""
    __slots__ = ("shape", "strides", "requires_grad")

    def __init__(self, shape, strides, requires_grad):
        self.shape, self.strides, self.requires_grad = tuple(shape), tuple(strides), requires_grad

    @classmethod
    def of(cls, t):
        return cls(t.shape, [st // t._data.itemsize for st in t._data.strides], t.requires_grad)

    @property
    def ndim(self):
        return len(self.shape)

    def mT(self):
        return _Operand(self.shape[:-2] + self.shape[-2:][::-1], self.strides[:-2] + self.strides[-2:][::-1],
                        self.requires_grad)


def _should_fold(a, b, has_out):
    """PyTorch's choice between folding the larger operand into a matrix (one mm / mv) and a batched
    product (bmm): its error message names the shapes of the route it took, so ember follows it."""
    a_larger = a.ndim >= b.ndim
    t1 = a if a_larger else b.mT()
    if not (t1.ndim >= 3 and (b.ndim if a_larger else a.ndim) <= 2):
        return False
    if (b.requires_grad if a_larger else a.requires_grad) and not has_out:
        return True
    if a.ndim == 2:
        return False
    if 0 in t1.shape:
        return True
    return all(t1.strides[i] == t1.strides[i + 1] * t1.shape[i + 1] for i in range(t1.ndim - 2))


def _check_matmul_shapes(input, other, has_out):
    """Raise PyTorch's message for operands matmul cannot multiply, naming the shapes PyTorch names:
    the vectors / matrices the user gave, the folded matrix of a fold, or the batches of a bmm."""
    a, b = _Operand.of(input), _Operand.of(other)
    if a.ndim == 3 and b.ndim == 3:  # a (1, n, m) operand that requires grad is multiplied as a matrix
        if b.shape[0] == 1 and a.shape[0] != 1 and b.requires_grad:
            b = _Operand(b.shape[1:], b.strides[1:], True)
        elif a.shape[0] == 1 and b.shape[0] != 1 and a.requires_grad:
            a = _Operand(a.shape[1:], a.strides[1:], True)
    sa, sb = a.shape, b.shape
    if a.ndim == 1 and b.ndim == 1:
        if sa[0] != sb[0]:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the "
                               f"same number of elements, but got {sa[0]} and {sb[0]} elements respectively")
        return
    if a.ndim <= 2 and b.ndim <= 2:
        mat1 = sa if a.ndim == 2 else (1,) + sa
        if b.ndim == 1:
            if mat1[1] != sb[0]:
                raise RuntimeError(f"size mismatch, got input ({mat1[0]}), mat ({_dims_str(mat1)}), vec ({sb[0]})")
        elif mat1[1] != sb[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_dims_str(mat1)} and {_dims_str(sb)})")
        return
    if _should_fold(a, b, has_out):
        if a.ndim >= b.ndim:
            t1, t2 = sa, sb
        else:
            t1, t2 = b.mT().shape, (sa[::-1] if a.ndim == 2 else sa)
        folded = (int(np.prod(t1[:-1])), t1[-1])
        if len(t2) == 1 and folded[1] != t2[0]:
            raise RuntimeError(f"size mismatch, got input ({folded[0]}), mat ({_dims_str(folded)}), vec ({t2[0]})")
        if len(t2) == 2 and folded[1] != t2[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_dims_str(folded)} and {_dims_str(t2)})")
        return
    # bmm route: batch dimensions broadcast first (PyTorch's infer_size, checked from the last one)
    batch_a, batch_b = sa[:-2], sb[:-2] if b.ndim > 1 else ()
    n = max(len(batch_a), len(batch_b))
    pa, pb = (1,) * (n - len(batch_a)) + batch_a, (1,) * (n - len(batch_b)) + batch_b
    for i in reversed(range(n)):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                               f"non-singleton dimension {i}")
    batch = int(np.prod([y if x == 1 else x for x, y in zip(pa, pb)]))
    k1 = sa[-1]
    rows2 = sb[-2] if b.ndim > 1 else sb[0]
    if k1 != rows2:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {k1}] but "
                           f"got: [{batch}, {rows2}].")


@_autocast.lower_precision
def matmul(input, other, *, out=None):
    a, b = as_operand(input), as_operand(other)
    ad, bd = a._data, b._data      # the checks on the arrays: this runs for every product of a training step
    if ad.ndim == 0 or bd.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {ad.ndim}D and "
                           f"{bd.ndim}D")
    if ad.dtype != bd.dtype:
        _check_same_dtype(a, b)
    ka = ad.shape[-1]
    kb = bd.shape[-2] if bd.ndim > 1 else bd.shape[0]
    if ka != kb or (ad.ndim > 2 and bd.ndim > 2):
        _check_matmul_shapes(a, b, has_out=out is not None)
    result = MatMul.apply(a, b)
    if out is not None:
        from ember.ops.elementwise import _out
        return _out(result, out)
    return result


def mm(input, mat2, *, out=None):
    if input.ndim != 2:
        raise RuntimeError(f"self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_dims_str(input.shape)} and "
                           f"{_dims_str(mat2.shape)})")
    return matmul(input, mat2, out=out)


def mv(input, vec, *, out=None):
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {vec.ndim}")
    return matmul(input, vec, out=out)


def dot(input, other, *, out=None):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    _check_same_dtype(input, other, "both vectors")
    return matmul(input, other, out=out)


def vdot(input, other, *, out=None):
    """dot with the first vector conjugated (the same as dot for real vectors)."""
    from ember.ops.complex import conj
    return dot(conj(input), other, out=out)


def inner(input, other, *, out=None):
    """Sum over the last dims: shape input.shape[:-1] + other.shape[:-1]; a number scales."""
    a, b = _operands(input, other)
    if a.ndim == 0 or b.ndim == 0:
        r = a * b
    elif a.ndim == 1 and b.ndim == 1:
        r = dot(a, b)
    else:
        if a.shape[-1] != b.shape[-1]:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                               f"{list(a.shape)} and {list(b.shape)}")
        k = a.shape[-1]
        r = matmul(a.reshape(-1, k), b.reshape(-1, k).t()).reshape(tuple(a.shape[:-1]) + tuple(b.shape[:-1]))
    if out is not None:
        from ember.ops.elementwise import _out
        return _out(r, out)
    return r


def bmm(input, mat2, *, out=None):
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{input.shape[0]}, "
                           f"{input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    return matmul(input, mat2, out=out)


def outer(input, vec2):
    a, b = _operands(input, vec2)
    return a.reshape(-1, 1) * b


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    return prod + (input if beta == 1 else input * beta)


class Einsum(Function):
    """np.einsum forward; the gradient of each operand is again an einsum (of the upstream gradient
    and the other operands), so higher-order gradients come for free."""
    node_name = "EinsumBackward0"

    def forward(self, *arrays, specs, out_spec):
        self.specs, self.out_spec = specs, out_spec
        self.shapes = [a.shape for a in arrays]
        return np.einsum(",".join(specs) + "->" + out_spec, *arrays)

    def backward(self, grad):
        operands = self.saved_tensors
        grads = []
        for i, spec in enumerate(self.specs):
            if self.next[i] is None:
                grads.append(None)
                continue
            others = [(s, t) for j, (s, t) in enumerate(zip(self.specs, operands)) if j != i]
            seen = set(self.out_spec).union(*[set(s) for s, _ in others])
            kept = "".join(c for c in spec if c in seen)  # letters summed in this operand alone broadcast back
            tensors = [t for _, t in others]
            if grad._data.dtype.kind == "c":   # complex: the other operands enter conjugated
                from ember.ops.complex import conj
                tensors = [conj(t) for t in tensors]
            g = einsum(",".join([self.out_spec] + [s for s, _ in others]) + "->" + kept, grad, *tensors)
            if kept != spec:
                shape = self.shapes[i]
                g = g.reshape(tuple(shape[k] if c in seen else 1 for k, c in enumerate(spec))).expand(shape)
            grads.append(g)
        return tuple(grads)


_EINSUM_ARITY = {}


def _einsum_node(n):
    """Einsum with its n operands saved for backward (`save` is fixed per class)."""
    cls = _EINSUM_ARITY.get(n)
    if cls is None:
        cls = _EINSUM_ARITY[n] = type(f"Einsum{n}", (Einsum,), {"save": tuple(range(n)), "__module__": __name__})
    return cls


def _einsum_specs(equation, operands):
    """Explicit subscripts per operand and for the output, with '...' spelled out as letters."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    specs = lhs.split(",")
    if len(specs) != len(operands):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(specs) else
                           f"einsum(): fewer operands were provided than specified in the equation")
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq]
    n_ell = max([t.ndim - (len(s) - 3) for s, t in zip(specs, operands) if "..." in s] or [0])
    ell = "".join(free[:n_ell])
    specs = [s.replace("...", ell[n_ell - (t.ndim - (len(s) - 3)):]) if "..." in s else s
             for s, t in zip(specs, operands)]
    if not arrow:
        letters = "".join(specs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return specs, out


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (batch1 @ batch2), input broadcast to the product's shape."""
    prod = bmm(batch1, batch2)
    try:
        np.broadcast_to(np.empty(input.shape, np.bool_), prod.shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({prod.shape[0]}) must match the existing size "
                           f"({input.shape[0]}) at non-singleton dimension 0.  Target sizes: {list(prod.shape)}.  "
                           f"Tensor sizes: {list(input.shape)}") from None
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:   # input is ignored (its NaNs too), but still gets a (zero) gradient, as in PyTorch
        from ember.ops.elementwise import where
        result = where(Tensor._make(np.zeros((), np.bool_)), input, prod)
    else:
        result = prod + (input if beta == 1 else input * beta)
    if result.grad_fn is not None:
        result.grad_fn.node_name = "BaddbmmBackward0"
    if out is not None:
        from ember.ops.elementwise import _out
        return _out(result, out)
    return result


def einsum(equation, *operands):
    """torch.einsum: the Einstein summation of `equation` over the operands, with gradients."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    specs, out = _einsum_specs(equation, operands)
    for s, t in zip(specs, operands):
        if len(set(s)) != len(s) and t.requires_grad:
            raise NotImplementedError(f"ember's einsum has no gradient for a repeated subscript in one operand "
                                      f"('{s}', a diagonal or trace); use diagonal/sum instead")
        if len(s) != t.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) does not match the "
                               f"number of dimensions ({t.ndim}) for operand {specs.index(s)}")
    return _einsum_node(len(operands)).apply(*operands, specs=tuple(specs), out_spec=out)


class Linear(Function):
    """y = x W^T + b as one op: one GEMM forward, two GEMMs (and a column sum) backward."""
    save = (0, 1)

    @classmethod
    def _node_name(cls):
        return "AddmmBackward0"

    def forward(self, x, w, b):
        self.has_bias = b is not None
        if x.dtype.kind == "V":
            # bfloat16: product and bias added in float32, rounded once, as PyTorch's addmm does
            out = _threaded_matmul(x.astype(np.float32), w.T.astype(np.float32))
            if b is not None:
                out += b.astype(np.float32)
            return out.astype(x.dtype)
        out = gemm(x, w.T)
        if b is not None:
            out += b
        return out

    def backward(self, grad):
        x, w = self.saved_tensors
        complex_grad = grad._data.dtype.kind == "c"
        if complex_grad:   # complex: the products' gradients take the conjugate operands
            from ember.ops.complex import conj
            x, w = conj(x), conj(w)
        elif not _GradState.enabled and grad._data.dtype == w._data.dtype:
            return self._backward_arrays(grad._data, x._data, w._data)
        # create_graph: the gradients are built from recorded ops, so they can be differentiated again
        gx = gw = gb = None
        if self.next[0] is not None:
            gx = matmul(grad, w)
        if self.next[1] is not None:
            g2 = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = matmul(g2.t(), x2)
        if self.has_bias and self.next[2] is not None:
            gb = grad.sum(tuple(range(grad.ndim - 1))) if grad.ndim > 1 else grad
        return gx, gw, gb

    def _backward_arrays(self, g, x, w):
        """The same gradients straight on the arrays (nothing to record): three GEMM/reduce calls, not
        three recorded ops. The weight and bias gradients are fresh arrays a parameter may keep as .grad."""
        nxt = self.next
        gx = gw = gb = None
        if nxt[0] is not None:
            gx = _wrap(gemm(g, w))
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        if nxt[1] is not None:
            gw = fresh_grad(gemm(g2.T, x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x))
        if self.has_bias and nxt[2] is not None:
            gb = fresh_grad(np.add.reduce(g2, 0) if g2.dtype.kind != "V" else   # the bias gradient: a column sum
                            np.add.reduce(g2, 0, dtype=np.float32).astype(g2.dtype))  # (bfloat16: in float32)
        return gx, gw, gb


@_autocast.lower_precision
def linear(input, weight, bias=None):
    xd, wd = input._data, weight._data      # the checks on the arrays: this runs once per layer per step
    if not wd.ndim or xd.shape[-1] != wd.shape[-1]:
        lead = input.shape[:-1].numel() if input.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({lead}x{input.shape[-1]} and "
                           f"{'x'.join(map(str, reversed(weight.shape)))})")
    if xd.dtype != wd.dtype:
        _check_same_dtype(input, weight)
    return Linear.apply(input, weight, bias)
