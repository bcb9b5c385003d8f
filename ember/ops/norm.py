"""Normalisation and dropout: batch_norm, layer_norm, dropout, dropout2d.

batch_norm and layer_norm are fused: forward keeps the normalised input, and backward applies the
closed-form gradient on arrays (so these two have first derivatives only, like PyTorch's
once_differentiable functions).
"""
import numpy as np

from ember.autograd.function import Function
from ember.autograd.grad_mode import _GradState
from ember.tensor import Tensor
from ember import random as _random


def once_differentiable(backward):
    """For backward formulas computed on arrays: refuse to be differentiated again."""
    def wrapper(self, grad):
        if _GradState.enabled:
            raise RuntimeError(f"{self.name()} is not differentiable twice in ember (create_graph=True through it)")
        return backward(self, grad)
    wrapper.__name__ = backward.__name__
    return wrapper


class BatchNorm(Function):
    """Batch normalisation on arrays. Forward and backward make the same NumPy calls, in the same order,
    as the textbook expressions (noted beside each), with the big temporaries written into buffers
    this op owns: results are bitwise those of the expressions, with fewer passes and allocations."""
    stash = ("xhat",)

    @classmethod
    def _node_name(cls):
        return "NativeBatchNormBackward0"

    def forward(self, x, weight, bias, mean, invstd, centered=None):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        # xhat = (x - mean) * invstd; `centered` (training) is x - mean already, made for the variance
        xhat = np.subtract(x, mean.reshape(shape)) if centered is None else centered
        np.multiply(xhat, invstd.reshape(shape), out=xhat)
        self.xhat, self.invstd, self.weight, self.shape = xhat, invstd, weight, shape
        self.axes = (0,) + tuple(range(2, x.ndim))
        if weight is None and bias is None:
            return xhat
        if weight is None:
            return xhat + bias.reshape(shape)
        out = np.multiply(xhat, weight.reshape(shape))               # xhat * weight (+ bias)
        if bias is not None:
            if bias.dtype == out.dtype:
                np.add(out, bias.reshape(shape), out=out)
            else:
                out = out + bias.reshape(shape)
        return out

    @once_differentiable
    def backward(self, grad):
        g = grad._data
        xhat, axes, shape = self.xhat, self.axes, self.shape
        same = g.dtype == xhat.dtype
        gb = g.sum(axis=axes) if self.next[2] is not None else None
        g_xhat = None
        if self.next[1] is not None or (self.next[0] is not None and self.training):
            g_xhat = g * xhat                                          # a buffer this pass owns
        gw = g_xhat.sum(axis=axes) if self.next[1] is not None else None
        gx = None
        if self.next[0] is not None:
            scale = self.invstd if self.weight is None else self.invstd * self.weight
            if self.training:
                count = g.size // g.shape[1]
                sum_g = gb if gb is not None else g.sum(axis=axes)
                sum_gx = gw if gw is not None else g_xhat.sum(axis=axes)
                a, b, s = (sum_g / count).reshape(shape), (sum_gx / count).reshape(shape), scale.reshape(shape)
                if same:
                    # (g - a - xhat * b) * s
                    gx = np.subtract(g, a)
                    t = np.multiply(xhat, b, out=g_xhat)
                    np.subtract(gx, t, out=gx)
                    np.multiply(gx, s, out=gx, casting="unsafe")
                else:
                    gx = (g - a - xhat * b) * s
            else:
                gx = g * scale.reshape(shape)
        return tuple(None if a is None else Tensor._make(a.astype(g.dtype, copy=False)) for a in (gx, gw, gb))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    x = input._data
    if x.ndim < 2:
        raise ValueError(f"expected 2D or more input (got {x.ndim}D input)")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    axes = (0,) + tuple(range(2, x.ndim))
    centered = None
    if training:
        count = x.size // c if c else 0
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        mean = x.mean(axis=axes)
        # x.var(axis=axes), computed as NumPy computes it (sum of squared deviations from the same mean, over
        # the count), keeping the deviations: BatchNorm's forward needs x - mean too
        centered = np.subtract(x, mean.reshape((1, -1) + (1,) * (x.ndim - 2)))
        squares = np.multiply(centered, centered)
        var = np.add.reduce(squares, axis=axes) / count
        del squares
        if running_mean is not None:
            # running statistics use the unbiased variance, as PyTorch does
            m = momentum
            running_mean._data *= 1 - m
            running_mean._data += m * mean
            running_var._data *= 1 - m
            running_var._data += m * var * (count / (count - 1))
            running_mean._version[0] += 1
            running_var._version[0] += 1
    else:
        mean, var = running_mean._data, running_var._data
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    out = BatchNorm.apply(input, weight, bias, mean=mean.astype(x.dtype, copy=False), invstd=invstd,
                          centered=centered)
    if out.grad_fn is not None:
        out.grad_fn.training = training
    return out


class LayerNorm(Function):
    stash = ("xhat",)

    @classmethod
    def _node_name(cls):
        return "NativeLayerNormBackward0"

    def forward(self, x, weight, bias, n_axes, eps):
        axes = tuple(range(x.ndim - n_axes, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = (x - mean) * invstd
        self.xhat, self.invstd, self.weight, self.axes = xhat, invstd, weight, axes
        out = xhat if weight is None else xhat * weight
        return out if bias is None else out + bias

    @once_differentiable
    def backward(self, grad):
        g = grad._data
        xhat, axes = self.xhat, self.axes
        lead = tuple(range(g.ndim - len(axes)))
        gw = (g * xhat).sum(axis=lead) if self.next[1] is not None else None
        gb = g.sum(axis=lead) if self.next[2] is not None else None
        gx = None
        if self.next[0] is not None:
            gxhat = g if self.weight is None else g * self.weight
            n = int(np.prod([g.shape[a] for a in axes]))
            gx = (gxhat - gxhat.mean(axis=axes, keepdims=True)
                  - xhat * (gxhat * xhat).sum(axis=axes, keepdims=True) / n) * self.invstd
        return tuple(None if a is None else Tensor._make(a.astype(g.dtype, copy=False)) for a in (gx, gw, gb))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    n = len(normalized_shape)
    if tuple(input.shape[input.ndim - n:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{input.shape}")
    return LayerNorm.apply(input, weight, bias, n_axes=n, eps=eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {input.shape} and num_groups={num_groups}")
    x = input.reshape(n, num_groups, -1)
    x = layer_norm(x, x.shape[-1:], eps=eps).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        x = x * weight.reshape(shape)
    if bias is not None:
        x = x + bias.reshape(shape)
    return x


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape, p, dtype):
    """Scaled keep-mask: 1/(1-p) where kept, 0 where dropped (float32 draws, no float64 temporaries)."""
    if p == 1.0:
        return np.zeros(shape, dtype)
    keep = _random.uniform_array(shape, 0.0, 1.0, np.float32) >= np.float32(p)
    return keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))


def dropout(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    if not training or p == 0.0:
        return input
    mask = Tensor._make(_keep_mask(input.shape, p, input._data.dtype))
    if inplace:
        return input.mul_(mask)
    return input * mask


def _feature_dropout(input, p, training, inplace, batched_ndim):
    _check_p(p)
    if not training or p == 0.0:
        return input
    shape = input.shape
    if input.ndim == batched_ndim:
        mask_shape = tuple(shape[:2]) + (1,) * (input.ndim - 2)
    else:  # unbatched: channels first
        mask_shape = (shape[0],) + (1,) * (input.ndim - 1)
    mask = Tensor._make(_keep_mask(mask_shape, p, input._data.dtype))
    if inplace:
        return input.mul_(mask)
    return input * mask


def dropout1d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    if input.ndim == 3:
        import warnings
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", stacklevel=2)
        return _feature_dropout(input, p, training, inplace, 3)
    return _feature_dropout(input, p, training, inplace, 4)


def dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 5)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return dropout(input, p, training, inplace)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """F.instance_norm: each (sample, channel) normalised over its own spatial elements.

    As PyTorch computes it: a batch norm of the input seen as one sample with N*C channels, the
    per-channel affine parameters and running statistics repeated N times; the running statistics
    then take the mean of their N updated copies."""
    if use_input_stats:
        spatial = 1
        for s in input.shape[2:]:
            spatial *= s
        if spatial == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    n, c = input.shape[0], input.shape[1]
    if n * c == 0:
        # nothing to normalise; PyTorch's running statistics become the mean of zero copies
        for stat in (running_mean, running_var):
            if stat is not None and n == 0:
                stat._data[...] = np.nan
                stat._version[0] += 1
        return input * 1
    reshaped = input.reshape((1, n * c) + tuple(input.shape[2:]))
    copies = [None if t is None else t.repeat(n) for t in (running_mean, running_var)]
    w, b = (None if t is None else t.repeat(n) for t in (weight, bias))
    out = batch_norm(reshaped, copies[0], copies[1], w, b, use_input_stats, momentum, eps)
    for stat, copy in zip((running_mean, running_var), copies):
        if stat is not None:
            stat._data[...] = copy._data.reshape(n, c).mean(axis=0)
            stat._version[0] += 1
    return out.reshape(input.shape)
