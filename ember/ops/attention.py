"""Attention: softmax(q k^T * scale + bias) v as one op, forward and backward side by side.

Two routes compute the same thing:

* "fused" (the default): `Attention` runs the three steps on arrays -- two batched GEMMs and a softmax
  done in place -- and keeps the attention weights for backward, which is again GEMMs on arrays.
  `PackedSelfAttention` is the same op for self-attention, where q, k and v are three slices of one
  in-projection: it reads its heads straight out of the packed (..., 3E) projection and writes their
  gradients back into one packed array (no split, no scatter into zeros), and hands its output back in
  token layout (..., E), ready for the out-projection.
* "reference": `attention_reference`, the same formula composed of recorded ops (matmul, softmax,
  where); tests force it to check the fused route against it. Its backward twin, `reference_backward`,
  is what both ops run under `create_graph=True`, so attention has higher-order gradients.

Rows whose every key is masked out (bias -inf everywhere) get zero weights and a zero output, as
PyTorch's scaled_dot_product_attention gives (plain softmax gives NaN there, and so do
MultiheadAttention's returned weights, which are computed with softmax -- see nn.functional).
"""
import numpy as np

from ember.autograd.function import Function
from ember.autograd.grad_mode import _GradState
from ember.backend.threads import matmul as gemm
from ember.tensor import Tensor

ROUTES = ("fused", "reference")


# -- the arrays ----------------------------------------------------------------------------------

def _swap(a):
    return a.swapaxes(-1, -2)


def _sum_to(a, shape):
    """Sum a broadcast gradient back to `shape` (leading dimensions and dimensions of size 1)."""
    if a.shape == tuple(shape):
        return a
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1)
    return a.sum(axis=axes, keepdims=True).reshape(shape)


def _softmax_rows_(s):
    """Softmax over the last axis, in place; rows that are -inf everywhere become zeros."""
    if s.shape[-1] == 0:
        return s
    top = s.max(axis=-1, keepdims=True)
    dead = top == -np.inf
    any_dead = dead.any()
    if any_dead:
        top[dead] = 0
    np.subtract(s, top, out=s)
    np.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    if any_dead:
        total[dead] = 1
    np.divide(s, total, out=s)
    return s


def attention_forward(q, k, v, bias, scale, keep):
    """(output, weights): the weights are softmax(q k^T * scale + bias), before dropout."""
    scores = gemm(q, _swap(k))
    scores *= scores.dtype.type(scale)
    if bias is not None:
        if np.broadcast_shapes(scores.shape, bias.shape) == scores.shape:
            scores += bias
        else:
            scores = scores + bias
    weights = _softmax_rows_(scores)
    out = gemm(weights if keep is None else weights * keep, v)
    return out, weights


def attention_backward(g, q, k, v, weights, keep, scale, bias_shape, need):
    """Gradients (dq, dk, dv, dbias) from the output gradient g; `need` says which are wanted."""
    dq = dk = dv = dbias = None
    dropped = weights if keep is None else weights * keep
    if need[2]:
        dv = _sum_to(gemm(_swap(dropped), g), v.shape)
    if not (need[0] or need[1] or need[3]):
        return dq, dk, dv, dbias
    dw = gemm(g, _swap(v))
    if keep is not None:
        dw *= keep
    # softmax backward: ds = w * (dw - sum(dw * w))
    row = np.einsum("...ij,...ij->...i", dw, weights)[..., None] if dw.shape == weights.shape else \
        (dw * weights).sum(-1, keepdims=True)
    dw -= row
    dw *= weights
    if need[3]:
        dbias = _sum_to(dw, bias_shape).copy()   # dw is scaled in place next
    dw *= dw.dtype.type(scale)
    if need[0]:
        dq = _sum_to(gemm(dw, k), q.shape)
    if need[1]:
        dk = _sum_to(gemm(_swap(dw), q), k.shape)
    return dq, dk, dv, dbias


def _wrap(a, dtype):
    return None if a is None else Tensor._make(a.astype(dtype, copy=False))


# -- the reference route ----------------------------------------------------------------------------

def _as_tensor(bias):
    return bias if bias is None or isinstance(bias, Tensor) else Tensor._make(bias)


def reference_weights(q, k, bias, scale):
    """softmax(q k^T * scale + bias) from recorded ops; rows masked everywhere give zeros."""
    from ember.ops.linalg import matmul
    from ember.ops.activation import softmax
    from ember.ops.elementwise import where
    scores = matmul(q, k.transpose(-2, -1)) * scale
    if bias is not None:
        scores = scores + _as_tensor(bias)
    dead = (scores._data == -np.inf).all(axis=-1, keepdims=True)
    if dead.any():  # softmax of a zero row, then zeroed: no NaN, in values or in gradients
        dead = Tensor._make(dead)
        return where(dead, 0.0, softmax(where(dead, 0.0, scores), -1))
    return softmax(scores, -1)


def attention_reference(q, k, v, bias=None, scale=1.0, keep=None):
    """The same op composed of recorded ops (Tensors in, Tensor out)."""
    from ember.ops.linalg import matmul
    weights = reference_weights(q, k, bias, scale)
    if keep is not None:
        weights = weights * Tensor._make(keep)
    return matmul(weights, v)


def reference_backward(g, q, k, v, bias, scale, keep, need):
    """attention_backward written with recorded ops on the saved inputs: under create_graph=True the
    gradients it returns are themselves differentiable (the weights are recomputed from q and k)."""
    from ember.ops.linalg import matmul
    from ember.ops.elementwise import sum_to
    weights = reference_weights(q, k, bias, scale)
    keep = None if keep is None else Tensor._make(keep)
    dq = dk = dv = dbias = None
    if need[2]:
        dropped = weights if keep is None else weights * keep
        dv = sum_to(matmul(dropped.transpose(-2, -1), g), v.shape)
    dw = matmul(g, v.transpose(-2, -1))
    if keep is not None:
        dw = dw * keep
    ds = weights * (dw - (dw * weights).sum(-1, keepdim=True))
    if need[3]:
        dbias = sum_to(ds, bias.shape)
    ds = ds * scale
    if need[0]:
        dq = sum_to(matmul(ds, k), q.shape)
    if need[1]:
        dk = sum_to(matmul(ds.transpose(-2, -1), q), k.shape)
    return dq, dk, dv, dbias


# -- the ops ---------------------------------------------------------------------------------------

class Attention(Function):
    """q (..., L, D), k (..., S, D), v (..., S, Dv), bias broadcastable to (..., L, S) -> (..., L, Dv)."""
    save = (0, 1, 2)
    stash = ("weights", "keep", "bias_input")

    def forward(self, q, k, v, bias, scale, keep, node_name):
        self.scale, self.keep, self.node_name = scale, keep, node_name
        self.bias_input = bias
        self.bias_shape = None if bias is None else bias.shape
        out, self.weights = attention_forward(q, k, v, bias, scale, keep)
        return out

    def backward(self, grad):
        q, k, v = self.saved_tensors
        need = [n is not None for n in self.next] + [False] * (4 - len(self.next))
        if _GradState.enabled:
            return reference_backward(grad, q, k, v, self.bias_input, self.scale, self.keep, need)
        grads = attention_backward(grad._data, q._data, k._data, v._data, self.weights, self.keep, self.scale,
                                   self.bias_shape, need)
        return tuple(_wrap(g, q._data.dtype) for g in grads)


def attention(q, k, v, bias=None, scale=1.0, keep=None, route="fused"):
    """The attention op on Tensors; `bias` is a Tensor (its gradient is computed) or an array or None."""
    if route == "reference":
        return attention_reference(q, k, v, bias, scale, keep)
    if route != "fused":
        raise ValueError(f"unknown attention route {route!r}; expected one of {ROUTES}")
    grad_bias = isinstance(bias, Tensor) and bias.requires_grad
    node = "UnsafeViewBackward0" if grad_bias or keep is not None else \
        "ScaledDotProductFlashAttentionForCpuBackward0"
    return Attention.apply(q, k, v, bias, scale=scale, keep=keep, node_name=node)


class PackedSelfAttention(Function):
    """Self-attention read from the packed in-projection.

    qkv: (L, N, 3E) when seq-first or (N, L, 3E) when batch-first, the q, k and v of each token side by
    side; bias broadcastable to (N, H, L, L). Output: (L, N, E) or (N, L, E), the heads' outputs side by
    side, ready for the out-projection."""
    save = (0,)
    stash = ("weights", "keep", "bias_input")

    @classmethod
    def _node_name(cls):
        return "ViewBackward0"

    def forward(self, qkv, bias, heads, batch_first, scale, keep):
        self.heads, self.batch_first, self.scale, self.keep = heads, batch_first, scale, keep
        self.bias_input = bias
        self.bias_shape = None if bias is None else bias.shape
        q, k, v = self._split(qkv)
        out, self.weights = attention_forward(q, k, v, bias, scale, keep)
        return self._merge(out)

    def _split(self, qkv):
        """Views (N, H, L, D) of q, k and v inside the packed projection."""
        e3 = qkv.shape[-1]
        d = e3 // (3 * self.heads)
        five = qkv.reshape(qkv.shape[:2] + (3, self.heads, d))
        # (N, L, 3, H, D) -> (3, N, H, L, D); seq-first (L, N, 3, H, D) -> (3, N, H, L, D)
        parts = five.transpose(2, 0, 3, 1, 4) if self.batch_first else five.transpose(2, 1, 3, 0, 4)
        return parts[0], parts[1], parts[2]

    def _merge(self, out):
        """(N, H, L, D) -> token layout (N, L, H*D) or (L, N, H*D), contiguous."""
        n, h, l, d = out.shape
        tokens = out.transpose(0, 2, 1, 3) if self.batch_first else out.transpose(2, 0, 1, 3)
        return np.ascontiguousarray(tokens).reshape(tokens.shape[:2] + (h * d,))

    def _unmerge(self, g):
        """Token-layout gradient -> (N, H, L, D) view."""
        a, b, e = g.shape
        four = g.reshape(a, b, self.heads, e // self.heads)
        return four.transpose(0, 2, 1, 3) if self.batch_first else four.transpose(1, 2, 0, 3)

    def _backward_recorded(self, grad, qkv, need_bias):
        """The backward from recorded ops (create_graph=True): split, reference_backward, pack."""
        from ember.ops.shape import stack
        a, b, e3 = qkv.shape
        order = (2, 0, 3, 1, 4) if self.batch_first else (2, 1, 3, 0, 4)
        parts = qkv.reshape(a, b, 3, self.heads, e3 // (3 * self.heads)).permute(*order)
        g = grad.reshape(a, b, self.heads, e3 // (3 * self.heads))
        g = g.permute(0, 2, 1, 3) if self.batch_first else g.permute(1, 2, 0, 3)
        dq, dk, dv, dbias = reference_backward(g, parts[0], parts[1], parts[2], self.bias_input, self.scale,
                                               self.keep, (True, True, True, need_bias))
        inverse = tuple(int(i) for i in np.argsort(order))
        return stack([dq, dk, dv]).permute(*inverse).reshape(a, b, e3), dbias

    def backward(self, grad):
        (qkv,) = self.saved_tensors
        need_bias = len(self.next) > 1 and self.next[1] is not None
        if _GradState.enabled:
            return self._backward_recorded(grad, qkv, need_bias)
        q, k, v = self._split(qkv._data)
        dq, dk, dv, dbias = attention_backward(self._unmerge(grad._data), q, k, v, self.weights, self.keep,
                                               self.scale, self.bias_shape, (True, True, True, need_bias))
        packed = np.empty(qkv.shape, qkv._data.dtype)
        pq, pk, pv = self._split(packed)
        pq[...] = dq
        pk[...] = dk
        pv[...] = dv
        return Tensor._make(packed), _wrap(dbias, packed.dtype)


def packed_self_attention(qkv, heads, batch_first, bias=None, scale=1.0, keep=None):
    return PackedSelfAttention.apply(qkv, bias, heads=heads, batch_first=batch_first, scale=scale, keep=keep)
