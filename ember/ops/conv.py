"""Convolutions: conv1d, conv2d (and conv_transpose1d/2d) with PyTorch's signatures.

How a convolution is computed
-----------------------------
The input is padded once (a zero-bordered copy; no copy when there is no padding) and viewed through
`as_strided` as the column matrix of im2col, then copied into one contiguous matrix; a single GEMM with
the weight matrix (O, C/g*KH*KW) gives the output. Two layouts of the columns are used:

* "channel-major" (C*KH*KW, N*OH*OW): one GEMM for the whole batch, in every pass. The forward result
  comes out as (O, N, OH*OW) and needs one transposing copy into NCHW when N > 1 (fused with the bias
  add); the weight gradient is gout(O, N*P) @ cols.T, a single GEMM with a transposed operand (BLAS reads
  it in place); the column gradient is W.T @ gout(O, N*P).
* "batch-major" (N, C*KH*KW, OH*OW): a batched matmul over the images. No transposes at all, and for
  small weight matrices with large images (LeNet at batch 256) the per-image GEMMs stay in cache, which
  measured ~2x faster than the one thin GEMM. The weight gradient is then a batched GEMM into
  (N, O, C*KH*KW) summed over N, so this layout is only used when that intermediate is small.

Copying the strided view keeps the innermost axis the output width, which is contiguous in the source
for stride 1, so the copy runs at memory speed. A 1x1 convolution without padding is a reshape (a view
for stride 1) and a GEMM: no im2col copy.

The input gradient is W.T @ gout followed by col2im: a loop over the KH*KW kernel offsets, each adding
one strided slice (never a loop over pixels or images). The weight gradient needs the columns again:
they are kept from the forward (`stash`, freed as soon as backward has run) only when that is cheap in
memory (at most twice the output's size) or when recomputing them would be a large share of the work
(few output channels); otherwise backward rebuilds them, which costs a fraction of the GEMMs. Nothing is
kept when no gradient will be asked for (no_grad, or a weight that does not require grad).

Backward passes are helper Functions (input gradient = transposed convolution, weight gradient) whose
own backward are convolutions again, so double backward works.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ember.autograd.function import Function
from ember.autograd.grad_mode import _GradState
from ember.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


# -- geometry --------------------------------------------------------------------------------

class _Geom:
    """Everything about one convolution's shapes, in 2-d terms (a 1-d convolution has H = KH = 1)."""
    __slots__ = ("N", "C", "H", "W", "O", "G", "Cg", "Og", "KH", "KW", "sh", "sw", "pt", "pb", "pl", "pr",
                 "dh", "dw", "Hp", "Wp", "OH", "OW", "one_d", "batch_major", "x_shape", "w_shape", "y_shape")

    def __init__(self, x_shape, w_shape, stride, pads, dilation, groups, one_d):
        self.one_d = one_d
        self.x_shape, self.w_shape = tuple(x_shape), tuple(w_shape)
        if one_d:
            x_shape = (x_shape[0], x_shape[1], 1, x_shape[2])
            w_shape = (w_shape[0], w_shape[1], 1, w_shape[2])
        self.N, self.C, self.H, self.W = x_shape
        self.O, self.Cg, self.KH, self.KW = w_shape
        self.G = groups
        self.Og = self.O // groups
        self.sh, self.sw = stride
        self.pt, self.pb, self.pl, self.pr = pads
        self.dh, self.dw = dilation
        self.Hp = self.H + self.pt + self.pb
        self.Wp = self.W + self.pl + self.pr
        self.OH = (self.Hp - self.dh * (self.KH - 1) - 1) // self.sh + 1
        self.OW = (self.Wp - self.dw * (self.KW - 1) - 1) // self.sw + 1
        P = self.OH * self.OW
        ckk = self.Cg * self.KH * self.KW
        # batch-major when the per-image GEMMs are worth it and the (N, O, CKK) weight-gradient
        # intermediate is no bigger than the columns themselves
        self.batch_major = self.N > 1 and P >= 256 and self.Og * ckk <= 64 * 1024 and self.O <= P
        self.y_shape = (self.N, self.O, self.OW) if one_d else (self.N, self.O, self.OH, self.OW)

    @property
    def padded(self):
        return self.pt or self.pb or self.pl or self.pr

    def x4(self, x):
        return x.reshape(self.N, self.C, 1, self.W) if self.one_d else x

    def w4(self, w):
        return w.reshape(self.O, self.Cg, 1, self.KW) if self.one_d else w


def _pad(x, g, value=0):
    """A copy of x (N, C, H, W) with g's padding; x itself when there is none."""
    if not g.padded:
        return x
    N, C, H, W = x.shape
    xp = np.empty((N, C, g.Hp, g.Wp), x.dtype)
    t, l = g.pt, g.pl
    xp[:, :, :t] = value
    xp[:, :, t + H:] = value
    xp[:, :, t:t + H, :l] = value
    xp[:, :, t:t + H, l + W:] = value
    xp[:, :, t:t + H, l:l + W] = x
    return xp


def _im2col(x, g):
    """The column matrix of x (N, C, H, W): (G, Cg*KH*KW, N*P) channel-major or (N, G, Cg*KH*KW, P)."""
    xp = _pad(x, g)
    sN, sC, sH, sW = xp.strides
    kk = g.Cg * g.KH * g.KW
    P = g.OH * g.OW
    if g.batch_major:
        v = as_strided(xp, (g.N, g.C, g.KH, g.KW, g.OH, g.OW),
                       (sN, sC, sH * g.dh, sW * g.dw, sH * g.sh, sW * g.sw), writeable=False)
        return v.reshape(g.N, g.G, kk, P)
    v = as_strided(xp, (g.C, g.KH, g.KW, g.N, g.OH, g.OW),
                   (sC, sH * g.dh, sW * g.dw, sN, sH * g.sh, sW * g.sw), writeable=False)
    return v.reshape(g.G, kk, g.N * P)


def _col2im(dcols, g, dtype):
    """The adjoint of _im2col: sum the column gradient back into an (N, C, H, W) array."""
    N, C, KH, KW, OH, OW = g.N, g.C, g.KH, g.KW, g.OH, g.OW
    if KH == 1 and KW == 1 and not g.padded and g.sh == 1 and g.sw == 1:
        if g.batch_major:
            return dcols.reshape(N, C, g.H, g.W)
        return np.ascontiguousarray(dcols.reshape(C, N, g.H, g.W).transpose(1, 0, 2, 3))
    if g.batch_major:
        d6 = dcols.reshape(N, C, KH, KW, OH, OW)
    else:
        d6 = dcols.reshape(C, KH, KW, N, OH, OW)
    # zeros only where no window reaches; the first offset is assigned when the windows tile the input
    gxp = np.zeros((N, C, g.Hp, g.Wp), dtype)
    for kh in range(KH):
        h0 = kh * g.dh
        hs = slice(h0, h0 + g.sh * (OH - 1) + 1, g.sh)
        for kw in range(KW):
            w0 = kw * g.dw
            ws = slice(w0, w0 + g.sw * (OW - 1) + 1, g.sw)
            src = d6[:, :, kh, kw] if g.batch_major else d6[:, kh, kw].transpose(1, 0, 2, 3)
            target = gxp[:, :, hs, ws]
            target += src
    if g.padded:
        return gxp[:, :, g.pt:g.pt + g.H, g.pl:g.pl + g.W]
    return gxp


def _gout_cm(gy, g):
    """The output gradient as (G, Og, N*P): free for N == 1, one transposing copy otherwise."""
    P = g.OH * g.OW
    gy = gy.reshape(g.N, g.O, P)
    if g.N == 1:
        return gy.reshape(g.G, g.Og, P)
    return np.ascontiguousarray(gy.transpose(1, 0, 2)).reshape(g.G, g.Og, g.N * P)


# -- the ops ---------------------------------------------------------------------------------

def _forward(x, w, b, g, cols=None):
    """Forward of the convolution on arrays; returns (y, cols)."""
    x4, w4 = g.x4(x), g.w4(w)
    if cols is None:
        cols = _im2col(x4, g)
    wm = w4.reshape(g.G, g.Og, g.Cg * g.KH * g.KW)
    P = g.OH * g.OW
    if g.batch_major:
        y = np.matmul(wm, cols)                       # (N, G, Og, P): NCHW already
        if b is not None:
            y += b.reshape(g.G, g.Og, 1)
        return y.reshape(g.y_shape), cols
    ym = np.matmul(wm, cols) if g.G > 1 else np.matmul(wm[0], cols[0])   # (O, N*P)
    if g.N == 1:
        y = ym.reshape(g.y_shape)
        if b is not None:
            y += b.reshape(g.O, 1) if g.one_d else b.reshape(g.O, 1, 1)
        return y, cols
    y = np.empty((g.N, g.O, P), ym.dtype)
    src = ym.reshape(g.O, g.N, P).transpose(1, 0, 2)
    if b is not None:
        np.add(src, b.reshape(g.O, 1), out=y)        # the transposing copy and the bias in one pass
    else:
        np.copyto(y, src)
    return y.reshape(g.y_shape), cols


def _grad_input(gy, w, g, gcm=None):
    w4 = g.w4(w)
    wm = w4.reshape(g.G, g.Og, g.Cg * g.KH * g.KW)
    if g.batch_major:
        gy3 = gy.reshape(g.N, g.G, g.Og, g.OH * g.OW)
        dcols = np.matmul(wm.transpose(0, 2, 1), gy3)        # (N, G, CKK, P)
    else:
        if gcm is None:
            gcm = _gout_cm(gy, g)
        if g.G > 1:
            dcols = np.matmul(wm.transpose(0, 2, 1), gcm)    # (G, CKK, N*P)
        else:
            dcols = np.matmul(wm[0].T, gcm[0])
    gx = _col2im(dcols, g, gy.dtype)
    return gx.reshape(g.x_shape)


def _grad_weight(x, gy, g, cols=None, gcm=None):
    if cols is None:
        cols = _im2col(g.x4(x), g)
    if g.batch_major:
        gy4 = gy.reshape(g.N, g.G, g.Og, g.OH * g.OW)
        gw = np.matmul(gy4, cols.transpose(0, 1, 3, 2)).sum(axis=0)   # (G, Og, CKK)
    else:
        if gcm is None:
            gcm = _gout_cm(gy, g)
        if g.G > 1:
            gw = np.matmul(gcm, cols.transpose(0, 2, 1))
        else:
            gw = np.matmul(gcm[0], cols[0].T)
    return gw.reshape(g.w_shape)


class Convolution(Function):
    save = (0, 1)
    stash = ("cols",)

    def forward(self, x, w, b, geom, keep_cols=False):
        self.geom = geom
        y, cols = _forward(x, w, b, geom)
        if keep_cols:
            self.cols = cols
        return y

    def backward(self, grad):
        x, w = self.saved_tensors
        g = self.geom
        nx = self.next
        need_x = nx[0] is not None
        need_w = nx[1] is not None
        gcm = None
        if need_x and need_w and not g.batch_major and g.N > 1:
            gcm = _gout_cm(grad._data, g)   # shared by both GEMMs
        gx = gw = gb = None
        if need_x:
            gx = _ConvGradInput.apply(grad, w, geom=g, gcm=gcm)
        if need_w:
            gw = _ConvGradWeight.apply(x, grad, geom=g, cols=self.__dict__.get("cols"), gcm=gcm)
        if len(nx) > 2 and nx[2] is not None:
            gb = grad.sum((0, 2) if g.one_d else (0, 2, 3))
        return gx, gw, gb


class _ConvGradInput(Function):
    """The input gradient of a convolution (a transposed convolution of gy with w)."""
    save = (0, 1)

    def forward(self, gy, w, geom, gcm=None):
        self.geom = geom
        return _grad_input(gy, w, geom, gcm)

    @classmethod
    def _node_name(cls):
        return "ConvolutionBackwardBackward0"

    def backward(self, hh):
        gy, w = self.saved_tensors
        g = self.geom
        a = b = None
        if self.next[0] is not None:
            a = Convolution.apply(hh, w, None, geom=g)
        if self.next[1] is not None:
            b = _ConvGradWeight.apply(hh, gy, geom=g)
        return a, b


class _ConvGradWeight(Function):
    """The weight gradient of a convolution."""
    save = (0, 1)

    def forward(self, x, gy, geom, cols=None, gcm=None):
        self.geom = geom
        return _grad_weight(x, gy, geom, cols, gcm)

    @classmethod
    def _node_name(cls):
        return "ConvolutionBackwardBackward0"

    def backward(self, hw):
        x, gy = self.saved_tensors
        g = self.geom
        a = b = None
        if self.next[0] is not None:
            a = _ConvGradInput.apply(gy, hw, geom=g)
        if self.next[1] is not None:
            b = Convolution.apply(x, hw, None, geom=g)
        return a, b


# -- argument checking -----------------------------------------------------------------------

def _as_list(v, nd):
    """An int or a sequence, as PyTorch's argument parser hands it on: a list (an int repeated nd times)."""
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (tuple, list)):
        return [int(e) for e in v]
    return [int(v)] * nd


def _expand(lst, n, name):
    """PyTorch's expand_param_if_needed: one value serves every dimension; otherwise one per dimension."""
    if len(lst) == 1:
        return tuple(lst) * n
    if len(lst) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                           f"convolution dimensions, but got {name}=[{', '.join(map(str, lst))}]")
    return tuple(lst)


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _type_name(t):
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
             "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
             "bool": "BoolTensor"}
    return "torch." + names[t.dtype.name]


def _c_type(t):
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}[t.dtype.name]


def _convnd(input, weight, bias, stride, padding, dilation, groups, nd, name):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - expected input and weight "
                        f"to be Tensors, got ({type(input).__name__}, {type(weight).__name__})")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input "
                           f"of size: {_fmt(input.shape)}")
    if input.ndim == nd + 1:
        from ember.ops.shape import unsqueeze, squeeze
        out = _convnd(unsqueeze(input, 0), weight, bias, stride, padding, dilation, groups, nd, name)
        return squeeze(out, 0)

    wn = weight.ndim - 2
    if wn < 1:
        raise RuntimeError(f"weight should have at least three dimensions")
    strides = _expand(_as_list(stride, nd), wn, "stride")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pads = _expand(_as_list(padding, nd), wn, "padding")
    dilations = _expand(_as_list(dilation, nd), wn, "dilation")
    if weight.ndim != nd + 2:
        # PyTorch reports the mismatch through the stride's length first
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional weight "
                           f"{_fmt(weight.shape)}, but got {input.ndim}-dimensional input of size "
                           f"{_fmt(input.shape)} instead")
    if isinstance(padding, str) and padding == "same" and any(s != 1 for s in strides):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    ks = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * nd
        else:
            total = [d * (k - 1) for d, k in zip(dilations, ks)]
            lo = tuple(t // 2 for t in total)
            hi = tuple(t - t // 2 for t in total)
    else:
        lo = hi = pads
    if any(p < 0 for p in lo):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in strides):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilations):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if weight.shape[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {_fmt(weight.shape)} instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{_fmt(weight.shape)}] instead")
    if input.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_fmt(weight.shape)}, expected input"
                           f"{_fmt(input.shape)} to have {weight.shape[1] * groups} channels, but got "
                           f"{input.shape[1]} channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"Given weight of size {_fmt(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{weight.shape[0]} elements, but got bias of size {_fmt(bias.shape)} instead")
    padded = [s + a + b for s, a, b in zip(input.shape[2:], lo, hi)]
    eff = [d * (k - 1) + 1 for d, k in zip(dilations, ks)]
    if any(e > p for e, p in zip(eff, padded)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
                           f"size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input "
                           f"size")
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"Input type ({_type_name(input)}) and weight type ({_type_name(weight)}) should be the "
                           f"same or input should be a MKLDNN tensor and weight is a dense tensor")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({_c_type(input)}) and bias type ({_c_type(bias)}) should be the same")

    if nd == 1:
        geom = _Geom(input.shape, weight.shape, (1, strides[0]), (0, 0, lo[0], hi[0]), (1, dilations[0]), groups,
                     True)
    else:
        geom = _Geom(input.shape, weight.shape, strides, (lo[0], hi[0], lo[1], hi[1]), dilations, groups, False)
    keep = False
    if _GradState.enabled and weight._requires_grad:
        # keep the columns when they are cheap next to the output, or when rebuilding them would be a
        # large share of the backward work (few output channels)
        P = geom.OH * geom.OW
        cols_size = geom.N * P * geom.C * geom.KH * geom.KW
        keep = cols_size <= 2 * geom.N * geom.O * P or geom.O <= 32
    return Convolution.apply(input, weight, bias, geom=geom, keep_cols=keep)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over an (N, C, H, W) or (C, H, W) input, as torch.nn.functional.conv2d."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over an (N, C, L) or (C, L) input, as torch.nn.functional.conv1d."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")
