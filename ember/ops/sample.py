"""Resampling: F.interpolate (nearest, nearest-exact, linear, bilinear, trilinear, area) and pixel shuffle.

Interpolation is separable: along each spatial axis an output element reads one input element (nearest)
or two with weights (linear), so an N-d resize is N one-axis resizes.  Forward gathers the input rows
(an inf stays in its own rows); backward multiplies the gradient by each axis's (out x in)
interpolation matrix transposed.  The source indices follow PyTorch's kernels: the scale is
1/scale_factor when a scale factor was given (and not recomputed), else in/out, computed in float32 for
nearest and in the input's dtype for linear, so that rounding picks the same rows as PyTorch's."""
import math

import numpy as np

from ember.autograd.function import Function
from ember.tensor import Tensor
from ember.ops.norm import once_differentiable


def _nearest_indices(in_size, out_size, scale, exact):
    """upsample_nearest's source index of each output element (nearest-exact: of its centre)."""
    dst = np.arange(out_size)
    if not exact and out_size == in_size:
        return dst
    if not exact and out_size == 2 * in_size:
        return dst >> 1
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(in_size) / np.float32(out_size)
    pos = (dst.astype(np.float32) + np.float32(0.5)) * s if exact else dst.astype(np.float32) * s
    return np.minimum(np.floor(pos).astype(np.int64), in_size - 1)


def _linear_indices(in_size, out_size, scale, align_corners, dtype):
    """upsample_linear's two source indices and weights of each output element."""
    t = np.dtype(dtype).type
    if align_corners:
        s = t(in_size - 1) / t(out_size - 1) if out_size > 1 else t(0)
        src = s * np.arange(out_size).astype(dtype)
    else:
        s = t(1.0 / scale) if scale is not None and scale > 0 else t(in_size) / t(out_size)
        src = s * (np.arange(out_size).astype(dtype) + t(0.5)) - t(0.5)
        src = np.maximum(src, t(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = i0 + (i0 < in_size - 1)
    w1 = np.clip(src - i0.astype(dtype), t(0), t(1)).astype(dtype)
    w0 = (t(1) - w1).astype(dtype)
    return i0, i1, w0, w1


class Resample(Function):
    """One-axis-at-a-time interpolation; `plans` holds, per spatial axis, (indices, weights) pairs."""

    def forward(self, x, plans, node_name):
        self.node_name = node_name
        self.in_shape = x.shape
        self.plans = plans
        out = x
        for axis, terms in plans:
            if terms is None:
                continue
            acc = None
            for idx, w in terms:
                part = np.take(out, idx, axis=axis)
                if w is not None:
                    part = part * _along(w, axis, out.ndim)
                acc = part if acc is None else acc + part
            out = acc
        return np.ascontiguousarray(out)

    @once_differentiable
    def backward(self, grad):
        grad = grad._data
        shape = list(grad.shape)
        for axis, terms in reversed(self.plans):
            if terms is None:
                continue
            in_size = self.in_shape[axis]
            out_size = shape[axis]
            # the (out x in) interpolation matrix of this axis
            m = np.zeros((out_size, in_size), grad.dtype)
            rows = np.arange(out_size)
            for idx, w in terms:
                np.add.at(m, (rows, idx), 1 if w is None else w)
            grad = np.moveaxis(np.tensordot(grad, m, axes=([axis], [0])), -1, axis)
            shape[axis] = in_size
        return Tensor._make(np.ascontiguousarray(grad))


def _along(w, axis, ndim):
    shape = [1] * ndim
    shape[axis] = w.shape[0]
    return w.reshape(shape)


_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")
_MODE_DIMS = {"linear": 3, "bilinear": 4, "trilinear": 5}


def _output_size(input, size, scale_factor, mode, recompute_scale_factor):
    """(output sizes, scale factors the kernel uses or None), as F.interpolate derives them."""
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(input.shape[2:])} and output size of {size}. "
                                 f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 f"(o1, o2, ...,oK) format.")
            if not all(isinstance(s, (int, np.integer)) for s in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, "
                                f"int], but got size with types {[type(s) for s in size]}")
            output_size = [int(s) for s in size]
        else:
            output_size = [int(size)] * dim
        scales = None
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(input.shape[2:])} and scale_factor of "
                                 f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                                 f"format and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        output_size = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [math.floor(input.shape[i + 2] * scales[i]) for i in range(dim)]
        scales = None
    if output_size is None:
        output_size = [math.floor(input.shape[i + 2] * scales[i]) for i in range(dim)]
    return output_size, scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """F.interpolate: resize the spatial dimensions (all but the first two) of input."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                             "bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    output_size, scales = _output_size(input, size, scale_factor, mode, recompute_scale_factor)
    if antialias:
        raise NotImplementedError("ember's interpolate has no anti-aliasing (antialias=True)")
    ndim = input.dim()
    if ndim not in (3, 4, 5) or mode not in ("nearest", "nearest-exact", "area", "linear", "bilinear", "trilinear"):
        if mode in _MODE_DIMS and ndim in (3, 4, 5):
            pass
        elif mode == "bicubic" and ndim == 4:
            raise NotImplementedError("ember's interpolate does not implement mode='bicubic'")
        else:
            raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {ndim}D) for the "
                                      f"modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                                      f"nearest-exact (got {mode})")
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != ndim:
        raise NotImplementedError(f"Got {ndim}D input, but {mode} mode needs {_MODE_DIMS[mode]}D input")
    if mode == "area":
        from ember.ops import pool
        if ndim == 3:
            return pool.adaptive_avg_pool1d(input, output_size)
        if ndim == 4:
            return pool.adaptive_avg_pool2d(input, output_size)
        raise NotImplementedError("ember's interpolate does not implement mode='area' for 5D input")
    if any(s <= 0 for s in output_size) or any(s <= 0 for s in input.shape[2:]):
        names = ("D", "H", "W")[3 - len(output_size):]
        sizes_in = ", ".join(f"{n}: {v}" for n, v in zip(names, input.shape[2:]))
        sizes_out = ", ".join(f"{n}: {v}" for n, v in zip(names, output_size))
        joint = " and" if len(output_size) == 1 else ""    # PyTorch's 1-d message has an "and"
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({sizes_in}){joint} "
                           f"output ({sizes_out})")
    plans = []
    dtype = input._data.dtype
    for k, out_size in enumerate(output_size):
        axis = k + 2
        in_size = input.shape[axis]
        scale = None if scales is None else scales[k]
        if mode in ("nearest", "nearest-exact"):
            idx = _nearest_indices(in_size, out_size, scale, mode == "nearest-exact")
            terms = None if out_size == in_size and mode == "nearest" else [(idx, None)]
        else:
            i0, i1, w0, w1 = _linear_indices(in_size, out_size, scale, align_corners, dtype)
            terms = [(i0, w0), (i1, w1)]
        plans.append((axis, terms))
    kind = {"nearest": "UpsampleNearest", "nearest-exact": "_UpsampleNearestExact", "linear": "UpsampleLinear",
            "bilinear": "UpsampleBilinear", "trilinear": "UpsampleTrilinear"}[mode]
    return Resample.apply(input, plans=tuple(plans), node_name=f"{kind}{ndim - 2}DBackward0")


# -- pixel shuffle: a reshape, a permutation and a reshape (views and one copy, differentiable) ------
def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    r = upscale_factor
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    r = downscale_factor
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)={h}"
                           f" is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)={w}"
                           f" is not divisible by {r}")
    n = len(lead)
    x = input.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(tuple(lead) + (c * r * r, h // r, w // r))
