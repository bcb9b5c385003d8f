"""Convolutions: conv1d, conv2d, conv_transpose1d, conv_transpose2d with PyTorch's signatures.

How a convolution is computed (im2col + GEMM, no Python loop over pixels or images)
-----------------------------------------------------------------------------------
The input is padded once (into scratch memory; no copy without padding) and viewed with `as_strided`
as the im2col column matrix, which is copied into one contiguous array; GEMMs with the weight matrix
(O, C/g*KH*KW) give the output. The copy's innermost axis is the output width, contiguous in the source
for stride 1, so it runs at memory speed. Two layouts:

* channel-major columns (C*KH*KW, N*OH*OW) for a batch of big images (and whenever there are more
  output channels than output pixels): ONE GEMM per pass. The forward result comes out as (O, N, P),
  transposed to NCHW by one copy fused with the bias add; the weight gradient is gout(O, N*P) @ cols.T
  (BLAS reads the transposed operand in place); the column gradient is W.T @ gout(O, N*P). Columns of
  more than _CHUNK_COLS bytes are made a few images at a time (each chunk still one big GEMM), which
  keeps them out of the peak memory (bench/README.md, "Measured design choices", has the figures quoted
  in this module and in pool.py, threads.py and memory.py).
* batch-major columns (N, C*KH*KW, OH*OW) for one image (then it is the same single matrix: AlexNet
  and ResNet at batch 1) and for a batch of small images (LeNet at batch 256): a batched GEMM whose
  result is NCHW directly, no transposes anywhere; the weight gradient is a batched GEMM into
  (N, O, C*KH*KW) summed over N (only when that is no bigger than the columns). Per-image GEMMs that
  small stay below OpenBLAS's threading threshold, so the images are split between ember's threads
  instead (each copying and multiplying its share, in cache-sized chunks).

A 1x1 convolution without padding is a reshape (a view for stride 1) and a GEMM: no im2col copy.

The input gradient is W.T @ gout followed by col2im: one strided add per kernel offset (never a loop
over pixels). In the batch-major layout with stride 1 along W, the output gradient is first widened
to the padded width with zero columns, so each offset's add covers whole padded rows (long contiguous
runs instead of OW-element pieces: a faster col2im on LeNet's and ResNet's layers). The weight gradient needs
the columns again: they are kept from the forward (`stash`, freed as soon as backward has run) when
that costs no more memory than the output, or for few output channels (where rebuilding them is a big
share of the work); otherwise backward rebuilds them (a fraction of the GEMMs' time), which keeps
AlexNet's training memory at torch's. Nothing is kept under no_grad or for a frozen weight; gradients
nobody needs (the input's, for a network's first layer) are not computed.

Big short-lived arrays (padded input, columns, column gradient) live in reused scratch buffers: on
this machine fresh memory costs more in page faults than the copies that fill it (see
ember/backend/memory.py).

Backward passes are helper Functions (input gradient = transposed convolution, weight gradient) whose
own backward are convolutions again, so double backward works.

Which layout and which of the variants above a call uses is one named route (ROUTES below), chosen by
_choose_route from the sizes and the thread count or forced with `force_route(name)`; the `reference` route
is the textbook im2col convolution in a dozen lines, the oracle the others are tested against.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ember.autograd.function import Function, fresh_grad, _mark_fresh
from ember.backend.memory import padded, scratch
from ember.backend.routes import Routes
from ember.backend.threads import get_threads as _threads, matmul, parallel, route_threads
from ember.autograd.grad_mode import _GradState
from ember.tensor import Tensor
from ember.ops import _autocast
from ember.backend import dtypes as _dt

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]




# -- routes ----------------------------------------------------------------------------------
# A convolution is computed by one of these named routes. _choose_route picks one from the sizes and the
# thread count; `force_route(name)` makes every convolution take that route instead (tests run each route
# at 1 and 2 threads against torch). Each route sets the flags that the passes below read:
#   layout   "batch" -- columns (N, C*KH*KW, OH*OW), a batched GEMM per pass, NCHW results directly;
#            "channel" -- columns (C*KH*KW, N*OH*OW), one big GEMM per pass
#   split    the images are split between threads, each copying and multiplying its share (small images)
#   chunked  the batch is processed a few images at a time (channel layout, big columns)
#   one_image  the forward of one big image: each thread copies and multiplies its share of output rows
#   grad_input  "col2im" (a strided add per kernel offset), "wide_rows" (adds whole padded rows, stride 1
#            along W), "banded" (the KW direction folded into a banded weight matrix: one GEMM, KH adds)
ROUTES = {
    "reference":             dict(layout="batch", reference=True),
    "channel":               dict(layout="channel"),
    "channel_chunked":       dict(layout="channel", chunked=True),
    "batch":                 dict(layout="batch"),
    "batch_wide_rows":       dict(layout="batch", grad_input="wide_rows"),
    "batch_split":           dict(layout="batch", split=True),
    "batch_split_wide_rows": dict(layout="batch", split=True, grad_input="wide_rows"),
    "batch_split_banded":    dict(layout="batch", split=True, grad_input="banded"),
    "one_image":             dict(layout="batch", one_image=True),
    "one_image_wide_rows":   dict(layout="batch", one_image=True, grad_input="wide_rows"),
}
_routes = Routes("convolution", ROUTES)
force_route = _routes.force     # tests; a route that cannot compute a geometry raises ValueError


def _route_applies(name, g):
    """Whether route `name` can compute geometry g (the fast routes assume what their names say)."""
    r = ROUTES[name]
    if r.get("one_image") and (g.N != 1 or g.G != 1):
        return False
    if r.get("grad_input") == "wide_rows" and (g.sw != 1 or g.KH == g.KW == 1):
        return False
    if r.get("grad_input") == "banded" and g.G != 1:
        return False
    return True


def _choose_route(g, itemsize):
    """The automatic choice, by sizes and thread count (bench/README.md has the measurements behind it)."""
    P = g.OH * g.OW
    ckk = g.Cg * g.KH * g.KW
    unpadded_1x1 = g.KH == g.KW == 1 and g.sh == g.sw == 1 and not g.padded
    # per-image GEMMs this small run single-threaded inside OpenBLAS (below its threading threshold of
    # 4*65536 multiply-adds): the images are then split between threads instead
    small = g.Og * P * ckk < 4 * 65536
    # batch layout for one image (the same matrix as channel layout), for batches of small images and
    # when the output is bigger than the columns (few input channels: the channel layout's transposing
    # copies of output-sized arrays would cost more than its single GEMM saves); channel layout, one big
    # GEMM per pass, for the other batches. Batch layout only when its (N, Og, Cg*KH*KW) weight-gradient
    # intermediate is no bigger than the columns.
    if not ((g.N == 1 or small or g.Og >= ckk) and g.Og <= P):
        return "channel_chunked" if g.chunks_for(_CHUNK_COLS, itemsize) else "channel"
    wide = g.sw == 1 and not (g.KH == g.KW == 1)
    if g.N == 0:
        return "batch_wide_rows" if wide else "batch"
    if g.N == 1:
        if g.G == 1 and P >= 1024 and route_threads() > 1 and not unpadded_1x1:
            return "one_image_wide_rows" if wide else "one_image"
        return "batch_wide_rows" if wide else "batch"
    if small:
        # the banded input gradient when the band costs at most 3x the multiply-adds of the plain GEMM
        if g.G == 1 and g.Wp <= 3 * g.KW:
            return "batch_split_banded"
        return "batch_split_wide_rows" if wide else "batch_split"
    return "batch_wide_rows" if wide else "batch"


# -- geometry --------------------------------------------------------------------------------

class _Geom:
    """Everything about one convolution's shapes, in 2-d terms (a 1-d convolution has H = KH = 1), and
    the route that computes it."""
    __slots__ = ("N", "C", "H", "W", "O", "G", "Cg", "Og", "KH", "KW", "sh", "sw", "pt", "pb", "pl", "pr",
                 "dh", "dw", "Hp", "Wp", "OH", "OW", "one_d", "x_shape", "w_shape", "y_shape", "route",
                 "batch_major", "split", "chunked", "one_image", "reference", "ext_col2im", "banded")

    def __init__(self, x_shape, w_shape, stride, pads, dilation, groups, one_d, out_hw=None, itemsize=4):
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
        if out_hw is not None:
            # a transposed convolution's output_padding adds input rows that no window needs to reach
            self.OH, self.OW = out_hw
        self.y_shape = (self.N, self.O, self.OW) if one_d else (self.N, self.O, self.OH, self.OW)
        forced = _routes.forced
        if forced is not None and not _route_applies(forced, self):
            raise ValueError(f"convolution route {forced!r} cannot compute input {list(self.x_shape)}, weight "
                             f"{list(self.w_shape)}, stride {stride}, groups {groups}")
        self.set_route(forced or _choose_route(self, itemsize))

    def set_route(self, name):
        r = ROUTES[name]
        self.route = name
        self.batch_major = r["layout"] == "batch"
        self.split = r.get("split", False)
        self.chunked = r.get("chunked", False)
        self.one_image = r.get("one_image", False)
        self.reference = r.get("reference", False)
        self.ext_col2im = r.get("grad_input") == "wide_rows"
        self.banded = r.get("grad_input") == "banded"

    @property
    def padded(self):
        return self.pt or self.pb or self.pl or self.pr

    def sub(self, n):
        """The same convolution on n of the images (for processing a batch in chunks)."""
        c = object.__new__(_Geom)
        for k in self.__slots__:
            setattr(c, k, getattr(self, k))
        c.N = n
        c.x_shape = (n,) + self.x_shape[1:]
        c.y_shape = (n,) + self.y_shape[1:]
        c.chunked = False
        return c

    def chunks_for(self, chunk_bytes, itemsize=4):
        """Image ranges of about chunk_bytes of channel-layout columns each; None: one chunk."""
        if self.N <= 1:
            return None
        per_image = self.C * self.KH * self.KW * self.OH * self.OW * itemsize
        step = max(1, chunk_bytes // max(per_image, 1))
        if step >= self.N:
            return None
        return [(a, min(self.N, a + step)) for a in range(0, self.N, step)]

    def chunks(self, itemsize):
        """Image ranges for the channel_chunked route: its columns are C*KH*KW times the output pixels of
        all images at once (hundreds of MB for MNIST-AlexNet's second layer at batch 256), so the batch is
        cut into chunks of about _CHUNK_COLS bytes of columns -- each chunk still one big GEMM -- which
        keeps them in reused scratch memory and out of the peak memory. None: one chunk. (A forced
        channel_chunked route on a batch whose columns fit one chunk still cuts it in two.)"""
        if not self.chunked or self.N <= 1:
            return None
        return self.chunks_for(_CHUNK_COLS, itemsize) or [(0, self.N // 2), (self.N // 2, self.N)]

    def x4(self, x):
        return x.reshape(self.N, self.C, 1, self.W) if self.one_d else x

    def w4(self, w):
        return w.reshape(self.O, self.Cg, 1, self.KW) if self.one_d else w


# -- the reference route: the textbook im2col convolution, short enough to check by reading ----------

def _reference_columns(x4, g):
    """(N, G, Cg, KH, KW, OH, OW): for every output position, the input pixel under each kernel tap."""
    xp = np.pad(x4, ((0, 0), (0, 0), (g.pt, g.pb), (g.pl, g.pr)))
    cols = np.empty((g.N, g.C, g.KH, g.KW, g.OH, g.OW), x4.dtype)
    for kh in range(g.KH):
        for kw in range(g.KW):
            h0, w0 = kh * g.dh, kw * g.dw
            cols[:, :, kh, kw] = xp[:, :, h0:h0 + g.sh * (g.OH - 1) + 1:g.sh, w0:w0 + g.sw * (g.OW - 1) + 1:g.sw]
    return cols.reshape(g.N, g.G, g.Cg, g.KH, g.KW, g.OH, g.OW)


def _reference_forward(x, w, b, g):
    w5 = g.w4(w).reshape(g.G, g.Og, g.Cg, g.KH, g.KW)
    y = np.einsum("ngcijpq,gocij->ngopq", _reference_columns(g.x4(x), g), w5).reshape(g.N, g.O, g.OH, g.OW)
    if b is not None:
        y = y + b.reshape(g.O, 1, 1)
    return y.astype(x.dtype, copy=False).reshape(g.y_shape)


def _reference_grad_input(gy, w, g):
    """Each column's gradient added back where im2col took it from (col2im)."""
    w5 = g.w4(w).reshape(g.G, g.Og, g.Cg, g.KH, g.KW)
    dcols = np.einsum("ngopq,gocij->ngcijpq", gy.reshape(g.N, g.G, g.Og, g.OH, g.OW), w5)
    dcols = dcols.reshape(g.N, g.C, g.KH, g.KW, g.OH, g.OW)
    gxp = np.zeros((g.N, g.C, g.Hp, g.Wp), gy.dtype)
    for kh in range(g.KH):
        for kw in range(g.KW):
            h0, w0 = kh * g.dh, kw * g.dw
            gxp[:, :, h0:h0 + g.sh * (g.OH - 1) + 1:g.sh, w0:w0 + g.sw * (g.OW - 1) + 1:g.sw] += dcols[:, :, kh, kw]
    return gxp[:, :, g.pt:g.pt + g.H, g.pl:g.pl + g.W].astype(gy.dtype, copy=False).reshape(g.x_shape)


def _reference_grad_weight(x, gy, g):
    gw = np.einsum("ngopq,ngcijpq->gocij", gy.reshape(g.N, g.G, g.Og, g.OH, g.OW), _reference_columns(g.x4(x), g))
    return gw.astype(gy.dtype, copy=False).reshape(g.w_shape)


# -- the fast routes' pieces -----------------------------------------------------------------

def _pad(x, g, value=0):
    """A copy of x (N, C, H, W) with g's padding (scratch memory); x itself when there is none."""
    return padded(x, g.pt, g.pb, g.pl, g.pr, value, "pad") if g.padded else x


def _im2col_plan(x, g, keep=False):
    """The column matrix of x (N, C, H, W) -- (G, Cg*KH*KW, N*P) channel-major or (N, G, Cg*KH*KW, P)
    batch-major -- and fill(lo, hi), which copies images (batch-major) or channels lo:hi into it;
    fill is None when the columns are a view of x (an unpadded 1x1 kernel with stride 1).

    In scratch memory unless `keep` (then a fresh array)."""
    xp = _pad(x, g)
    sN, sC, sH, sW = xp.strides
    kk = g.Cg * g.KH * g.KW
    P = g.OH * g.OW
    if g.batch_major:
        v = as_strided(xp, (g.N, g.C, g.KH, g.KW, g.OH, g.OW),
                       (sN, sC, sH * g.dh, sW * g.dw, sH * g.sh, sW * g.sw), writeable=False)
        shape = (g.N, g.G, kk, P)
    else:
        v = as_strided(xp, (g.C, g.KH, g.KW, g.N, g.OH, g.OW),
                       (sC, sH * g.dh, sW * g.dw, sN, sH * g.sh, sW * g.sw), writeable=False)
        shape = (g.G, kk, g.N * P)
    if g.KH == 1 and g.KW == 1 and g.sh == 1 and g.sw == 1 and xp is x:
        return v.reshape(shape), None     # a view of x when the layout allows, else a copy
    cols = np.empty(v.shape, v.dtype) if keep else scratch.get("cols", v.shape, v.dtype)

    def fill(lo, hi):
        np.copyto(cols[lo:hi], v[lo:hi])

    def fill_channels(lo, hi):                  # batch-major, split by channel (for a batch of one)
        np.copyto(cols[:, lo:hi], v[:, lo:hi])

    def fill_rows(lo, hi):                      # batch-major, split by output row
        np.copyto(cols[..., lo:hi, :], v[..., lo:hi, :])
    fill.channels, fill.rows = fill_channels, fill_rows
    return cols.reshape(shape), fill


def _im2col(x, g, keep=False):
    cols, fill = _im2col_plan(x, g, keep)
    if fill is not None:
        parallel(fill, cols.shape[0] if g.batch_major else g.C, cols.nbytes)
    return cols


def _col2im_plan(dcols, g, dtype):
    """The adjoint of _im2col, in two steps: (gxp, add) where add(lo, hi) sums the column gradient of
    images (batch-major) or channels (channel-major) lo:hi into the zeroed padded array gxp; then
    _col2im_finish(gxp, g) gives the (N, C, H, W) gradient.

    One strided add per kernel offset. In the channel-major layout the sum is formed channel-major
    too, (C, N, Hp, Wp), so that every add reads and writes in the same order; one transposing copy
    gives NCHW at the end (N > 1 only)."""
    N, C, KH, KW, OH, OW = g.N, g.C, g.KH, g.KW, g.OH, g.OW
    if g.batch_major:
        d6 = dcols.reshape(N, C, KH, KW, OH, OW)
        gxp = np.zeros((N, C, g.Hp, g.Wp), dtype)
    else:
        d6 = dcols.reshape(C, KH, KW, N, OH, OW)
        if N > 1:   # transposed into a fresh array at the end
            gxp = scratch.get("gxp", (C, N, g.Hp, g.Wp), dtype)
            gxp[...] = 0
        else:
            gxp = np.zeros((C, N, g.Hp, g.Wp), dtype)

    def add(lo, hi):
        for kh in range(KH):
            h0 = kh * g.dh
            hs = slice(h0, h0 + g.sh * (OH - 1) + 1, g.sh)
            for kw in range(KW):
                w0 = kw * g.dw
                ws = slice(w0, w0 + g.sw * (OW - 1) + 1, g.sw)
                target = gxp[lo:hi, :, hs, ws]
                target += d6[lo:hi, :, kh, kw] if g.batch_major else d6[lo:hi, kh, kw]
    return gxp, add


def _col2im_finish(gxp, g):
    gx = gxp[:, :, g.pt:g.pt + g.H, g.pl:g.pl + g.W] if g.padded else gxp
    if not g.batch_major:
        gx = gx.transpose(1, 0, 2, 3)
        if g.N > 1:
            gx = np.ascontiguousarray(gx)
    return gx


def _col2im(dcols, g, dtype):
    """The adjoint of _im2col: sum the column gradient back into an (N, C, H, W) array."""
    N, C = g.N, g.C
    if g.KH == 1 and g.KW == 1 and not g.padded and g.sh == 1 and g.sw == 1:
        if g.batch_major:
            return dcols.reshape(N, C, g.H, g.W)
        if N == 1:
            return dcols.reshape(1, C, g.H, g.W)
        return np.ascontiguousarray(dcols.reshape(C, N, g.H, g.W).transpose(1, 0, 2, 3))
    gxp, add = _col2im_plan(dcols, g, dtype)
    parallel(add, gxp.shape[0], dcols.nbytes)
    return _col2im_finish(gxp, g)


def _grad_input_ext(gy, wm, g):
    """Input gradient for stride 1 along W, batch-major, adding whole padded rows.

    The output gradient is widened to the padded width Wp with zero columns, so that for each kernel
    offset the column gradient W.T @ gy_ext lines up with a run of OH rows of Wp elements in the flat
    padded input (contiguous for stride 1 along H): long contiguous adds instead of OW-element pieces.
    The extra columns are exact zeros, so what they add (into the next row's start) is nothing."""
    N, C, KH, KW, OH, OW, Hp, Wp = g.N, g.C, g.KH, g.KW, g.OH, g.OW, g.Hp, g.Wp
    gye = scratch.get("gye", (N, g.O, OH, Wp), gy.dtype)
    gy4 = gy.reshape(N, g.O, OH, OW)
    dcols = scratch.get("dcols", (N, g.G, g.Cg * KH * KW, OH * Wp), gy.dtype)
    d = dcols.reshape(N, C, KH, KW, OH, Wp)
    gye3 = gye.reshape(N, g.G, g.Og, OH * Wp)
    wt = wm.transpose(0, 2, 1)
    plane = Hp * Wp
    # each channel's plane gets (KW-1)*dw spare elements at its end: the last row's run spills there
    # (zeros only), never into the next plane, so threads working on different images or channels
    # never touch the same memory
    cs = plane + (KW - 1) * g.dw
    flat = np.zeros((N, C, cs), gy.dtype)
    it = flat.itemsize

    def widen(lo, hi):
        gye[lo:hi, :, :, OW:] = 0
        gye[lo:hi, :, :, :OW] = gy4[lo:hi]

    targets = [(as_strided(flat[:, :, kh * g.dh * Wp + kw * g.dw:], (N, C, OH, Wp),
                           (C * cs * it, cs * it, g.sh * Wp * it, it)), d[:, :, kh, kw])
               for kh in range(KH) for kw in range(KW)]

    def add(lo, hi):                      # images lo:hi
        for target, src in targets:
            t = target[lo:hi]
            t += src[lo:hi]

    def add_channels(lo, hi):
        for target, src in targets:
            t = target[:, lo:hi]
            t += src[:, lo:hi]

    if N == 1 and g.G == 1 and route_threads() > 1:
        # one image: each thread multiplies out the column-gradient rows of its share of the channels
        # and adds them back at once, while they are still in its cache (one hand-off, not two)
        widen(0, 1)
        kk = KH * KW

        def channels(lo, hi):
            np.matmul(wt[0, lo * kk:hi * kk], gye3[0, 0], out=dcols[0, 0, lo * kk:hi * kk])
            add_channels(lo, hi)
        parallel(channels, C)
    else:
        def work(lo, hi):
            matmul(wt, gye3[lo:hi], out=dcols[lo:hi])
            if g.split:
                add(lo, hi)
        _batched(g, work, widen, dcols.nbytes)
        if not g.split:
            if N >= _threads():
                parallel(add, N, dcols.nbytes)
            else:
                parallel(add_channels, C, dcols.nbytes)
    gxp = flat[:, :, :plane].reshape(N, C, Hp, Wp)
    return gxp[:, :, g.pt:g.pt + g.H, g.pl:g.pl + g.W] if g.padded else gxp


def _band_index(g):
    """Where each (kw, ow) pair of a banded matrix sits: input column w = ow*sw + kw*dw and output column ow."""
    ow = np.arange(g.OW)
    kw = np.arange(g.KW)
    w_idx = (kw[:, None] * g.dw + ow[None, :] * g.sw).ravel()
    return w_idx, np.tile(ow, g.KW)


def _band(w, g):
    """The weight as a banded (KH*C*Wp, O*OW) matrix T with T[(kh, c, w), (o, ow)] = W[o, c, kh, kw] where
    w = ow*sw + kw*dw: a whole output row (all channels, all columns) is one image row-band times T."""
    T = np.zeros((g.KH, g.C, g.Wp, g.O, g.OW), w.dtype)
    w_idx, ow_idx = _band_index(g)
    w4 = g.w4(w)
    T[:, :, w_idx, :, ow_idx] = np.broadcast_to(w4.transpose(3, 2, 1, 0)[:, None],
                                                 (g.KW, g.OW, g.KH, g.C, g.O)).reshape(-1, g.KH, g.C, g.O)
    return T.reshape(g.KH * g.C * g.Wp, g.O * g.OW)


def _grad_input_banded(gy, w, g):
    """Input gradient of a batch of small images (LeNet's second layer) with one big GEMM and KH adds.

    The column gradient W.T @ gy of the im2col route costs KH*KW strided adds to fold back (25 for a 5x5
    kernel), each over the whole batch, and its per-image GEMMs are tiny. Here the KW direction is folded
    into the weight instead: gy's rows (N*OH, O*OW) times the banded weight's transpose give, per output
    row, the gradient of the KH input rows it came from, (N*OH, KH*C*Wp); adding those back takes one
    strided add per kernel row. The band holds zeros, so the GEMM does Wp/KW times the useful work
    (2.8x for LeNet), but as one well-shaped GEMM that is still the faster route."""
    N, C, KH, OH, OW, Wp = g.N, g.C, g.KH, g.OH, g.OW, g.Wp
    gy4 = gy.reshape(N, g.O, OH, OW)
    rows = np.empty((N, OH, g.O, OW), gy.dtype)
    drows = np.empty((N, OH, KH, C, Wp), gy.dtype)
    band_t = _band(w, g).T
    gxp = np.zeros((N, C, g.Hp, Wp), gy.dtype)
    sN, sC, sH, sW = gxp.strides

    def images(lo, hi):               # each thread: its images' rows, their GEMM, their adds (in its cache)
        np.copyto(rows[lo:hi], gy4[lo:hi].transpose(0, 2, 1, 3))
        np.matmul(rows[lo:hi].reshape(-1, g.O * OW), band_t, out=drows[lo:hi].reshape(-1, KH * C * Wp))
        for kh in range(KH):
            target = as_strided(gxp[lo:hi, :, kh * g.dh:], (hi - lo, OH, C, Wp), (sN, sH * g.sh, sC, sW))
            target += drows[lo:hi, :, kh]
    parallel(images, N, drows.nbytes)
    return gxp[:, :, g.pt:g.pt + g.H, g.pl:g.pl + g.W] if g.padded else gxp


def _gout_cm(gy, g):
    """The output gradient as (G, Og, N*P): free for N == 1, one transposing copy otherwise."""
    P = g.OH * g.OW
    gy = gy.reshape(g.N, g.O, P)
    if g.N == 1:
        return gy.reshape(g.G, g.Og, P)
    out = scratch.get("gcm", (g.O, g.N, P), gy.dtype)
    np.copyto(out, gy.transpose(1, 0, 2))
    return out.reshape(g.G, g.Og, g.N * P)


# -- the ops ---------------------------------------------------------------------------------

_CHUNK_BYTES = 2 << 20
_CHUNK_COLS = 16 << 20
_KEEP_COLS_BYTES = 16 << 20


def _batched(g, work, fill, nbytes):
    """Run fill(lo, hi) then work(lo, hi) over the images.

    When the per-image GEMMs are small (g.split) the images are split between threads. On one thread
    the images go in chunks of about 2 MB of columns, so that what fill or a GEMM writes is still in
    cache when the next step reads it; on several threads chunking costs more than it saves (the many
    small NumPy calls contend for the GIL).
    Otherwise the copies run on threads and one batched GEMM is left to BLAS's threads."""
    if g.split:
        step = max(1, _CHUNK_BYTES * g.N // max(nbytes, 1)) if _threads() == 1 else max(g.N, 1)

        def both(lo, hi):
            for a in range(lo, hi, step):
                b = min(hi, a + step)
                if fill is not None:
                    fill(a, b)
                work(a, b)
        parallel(both, g.N, nbytes)
    else:
        if fill is not None:
            if g.N >= _threads() or not hasattr(fill, "channels"):
                parallel(fill, g.N, nbytes)
            else:
                parallel(fill.channels, g.C, nbytes)
        work(0, g.N)


def _forward_one_image(x4, wm, b, g, keep):
    """Forward of one big image (ResNet's and AlexNet's layers at batch 1) with each thread copying the
    im2col columns of its share of the output rows and multiplying them out while they are in its cache:
    one hand-off to the pool instead of two (copy, then GEMM), and no columns crossing between cores.
    None when the columns would be a view of x anyway (unpadded 1x1)."""
    cols, fill = _im2col_plan(x4, g, keep)
    if fill is None:
        return None
    P = g.OH * g.OW
    cols2 = cols.reshape(-1, P)
    y = np.empty((g.O, P), x4.dtype)
    bb = b.reshape(g.O, 1) if b is not None else None

    def rows(lo, hi):                      # output rows lo:hi
        fill.rows(lo, hi)
        part = y[:, lo * g.OW:hi * g.OW]
        np.matmul(wm, cols2[:, lo * g.OW:hi * g.OW], out=part)
        if bb is not None:
            part += bb
    parallel(rows, g.OH)
    return y.reshape(g.y_shape), cols


def _forward(x, w, b, g, cols=None, keep=False):
    """Forward of the convolution on arrays; returns (y, cols)."""
    if g.reference:
        return _reference_forward(x, w, b, g), None
    x4, w4 = g.x4(x), g.w4(w)
    wm = w4.reshape(g.G, g.Og, g.Cg * g.KH * g.KW)
    P = g.OH * g.OW
    if g.one_image and cols is None:
        fused = _forward_one_image(x4, wm[0], b, g, keep)
        if fused is not None:
            return fused
    if g.batch_major:
        fill = None
        if cols is None:
            cols, fill = _im2col_plan(x4, g, keep)
        y = np.empty((g.N, g.G, g.Og, P), x.dtype)   # NCHW
        bb = b.reshape(g.G, g.Og, 1) if b is not None else None

        def work(lo, hi):
            matmul(wm, cols[lo:hi], out=y[lo:hi])
            if bb is not None:
                y[lo:hi] += bb
        _batched(g, work, fill, cols.nbytes)
        return y.reshape(g.y_shape), cols
    chunks = None if (cols is not None or keep) else g.chunks(x.dtype.itemsize)
    if chunks is not None:
        y = np.empty((g.N, g.O, P), x.dtype)
        for a, b_ in chunks:
            gs = g.sub(b_ - a)
            ym = matmul(wm, _im2col(x4[a:b_], gs),
                           out=scratch.get("ym", (g.G, g.Og, gs.N * P), x.dtype)).reshape(g.O, gs.N, P)
            if b is not None:
                np.add(ym.transpose(1, 0, 2), b.reshape(g.O, 1), out=y[a:b_])
            else:
                np.copyto(y[a:b_], ym.transpose(1, 0, 2))
        return y.reshape(g.y_shape), None
    if cols is None:
        cols = _im2col(x4, g, keep)
    if g.N == 1:
        ym = matmul(wm, cols) if g.G > 1 else matmul(wm[0], cols[0])   # (O, P) is the result
    else:
        ym = matmul(wm, cols, out=scratch.get("ym", (g.G, g.Og, g.N * P), cols.dtype))
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
    if g.reference:
        return _reference_grad_input(gy, w, g)
    chunks = g.chunks(gy.dtype.itemsize)
    if chunks is not None:
        gx = np.empty((g.N, g.C, g.H, g.W), gy.dtype)
        gy4 = gy.reshape(g.N, g.O, g.OH * g.OW)
        for a, b_ in chunks:
            gx[a:b_] = _grad_input(gy4[a:b_], w, g.sub(b_ - a)).reshape(b_ - a, g.C, g.H, g.W)
        return gx.reshape(g.x_shape)
    if g.banded:
        return _grad_input_banded(gy, w, g).reshape(g.x_shape)
    w4 = g.w4(w)
    wm = w4.reshape(g.G, g.Og, g.Cg * g.KH * g.KW)
    if g.ext_col2im:
        return _grad_input_ext(gy, wm, g).reshape(g.x_shape)
    ckk = g.Cg * g.KH * g.KW
    # an unpadded 1x1 convolution with stride 1 returns the column gradient itself: fresh memory then
    direct = g.KH == 1 and g.KW == 1 and not g.padded and g.sh == 1 and g.sw == 1
    if g.batch_major:
        gy3 = gy.reshape(g.N, g.G, g.Og, g.OH * g.OW)
        shape = (g.N, g.G, ckk, g.OH * g.OW)
        if direct:
            return matmul(wm.transpose(0, 2, 1), gy3).reshape(g.x_shape)
        dcols = scratch.get("dcols", shape, gy.dtype)
        gxp, add = _col2im_plan(dcols, g, gy.dtype)
        wt = wm.transpose(0, 2, 1)

        def work(lo, hi):
            matmul(wt, gy3[lo:hi], out=dcols[lo:hi])
            if g.split:
                add(lo, hi)
        _batched(g, work, None, dcols.nbytes)
        if not g.split:
            parallel(add, g.N, dcols.nbytes)
        return _col2im_finish(gxp, g).reshape(g.x_shape)
    else:
        if gcm is None:
            gcm = _gout_cm(gy, g)
        shape = (g.G, ckk, gcm.shape[2])
        dcols = matmul(wm.transpose(0, 2, 1), gcm, out=None if direct else scratch.get("dcols", shape, gy.dtype))
    gx = _col2im(dcols, g, gy.dtype)
    return gx.reshape(g.x_shape)


def _grad_weight(x, gy, g, cols=None, gcm=None):
    if g.reference:
        return _reference_grad_weight(x, gy, g)
    if g.batch_major:
        fill = None
        if cols is None:
            cols, fill = _im2col_plan(g.x4(x), g)
        gy4 = gy.reshape(g.N, g.G, g.Og, g.OH * g.OW)
        gwn = scratch.get("gwn", (g.N, g.G, g.Og, cols.shape[2]), gy.dtype)
        ct = cols.transpose(0, 1, 3, 2)

        def work(lo, hi):
            matmul(gy4[lo:hi], ct[lo:hi], out=gwn[lo:hi])
        _batched(g, work, fill, cols.nbytes)
        return gwn.sum(axis=0).reshape(g.w_shape)                      # (G, Og, CKK)
    chunks = None if cols is not None else g.chunks(gy.dtype.itemsize)
    if chunks is not None:
        x4 = g.x4(x)
        gy3 = gy.reshape(g.N, g.O, g.OH * g.OW)
        gw = None
        for a, b_ in chunks:
            part = _grad_weight(x4[a:b_], gy3[a:b_], g.sub(b_ - a))
            gw = part if gw is None else np.add(gw, part, out=gw)
        return gw
    if cols is None:
        cols = _im2col(g.x4(x), g)
    if gcm is None:
        gcm = _gout_cm(gy, g)
    if g.G > 1:
        gw = matmul(gcm, cols.transpose(0, 2, 1))
    else:
        gw = matmul(gcm[0], cols[0].T)
    return gw.reshape(g.w_shape)


class Convolution(Function):
    save = (0, 1)
    stash = ("cols",)

    def forward(self, x, w, b, geom, keep_cols=False):
        self.geom = geom
        y, cols = _forward(x, w, b, geom, keep=keep_cols)
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
        if need_x and need_w and not g.batch_major and g.N > 1 and g.chunks(grad._data.dtype.itemsize) is None:
            gcm = _gout_cm(grad._data, g)   # shared by both GEMMs
        gx = gw = gb = None
        if need_x:
            gx = _ConvGradInput.apply(grad, w, geom=g, gcm=gcm)
        if need_w:
            gw = _ConvGradWeight.apply(x, grad, geom=g, cols=self.__dict__.get("cols"), gcm=gcm)
            if not _GradState.enabled:
                _mark_fresh(gw)    # _grad_weight's array is its own: the weight's .grad may take it
        if len(nx) > 2 and nx[2] is not None:
            if _GradState.enabled:      # create_graph: a recorded sum, so it can be differentiated again
                gb = grad.sum((0, 2) if g.one_d else (0, 2, 3))
            else:
                gb = fresh_grad(_bias_grad(grad._data, g))
        return gx, gw, gb


_ONES = {}


def _bias_grad(gy, g):
    """The bias gradient, gy summed over images and pixels: images added first (contiguous rows), then
    each channel's pixels as a matrix-vector product with ones (faster than NumPy's sum over short rows)."""
    P = g.OH * g.OW
    gy3 = gy.reshape(g.N, g.O, P)
    rows = gy3[0] if g.N == 1 else np.add.reduce(gy3, axis=0)
    ones = _ONES.get((P, gy.dtype))
    if ones is None:
        ones = _ONES[(P, gy.dtype)] = np.ones(P, gy.dtype)
    return rows @ ones


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


@_autocast.lower_precision
def _convnd(input, weight, bias, stride, padding, dilation, groups, nd, name):
    """conv1d/conv2d: check the arguments as PyTorch does (in its order, with its messages), describe the
    convolution (_Geom, which picks the route), and apply it."""
    _check_input(input, weight, nd, name)
    if input.ndim == nd + 1:
        from ember.ops.shape import unsqueeze, squeeze
        out = _convnd(unsqueeze(input, 0), weight, bias, stride, padding, dilation, groups, nd, name)
        return squeeze(out, 0)
    strides, dilations, lo, hi = _resolve_params(input, weight, stride, padding, dilation, nd)
    _check_sizes(input, weight, bias, strides, dilations, lo, hi, groups)
    _check_dtypes(input, weight, bias)
    if input.dtype is _dt.bfloat16:
        # NumPy has no bfloat16 GEMM: convolve in float32 and round the result once (PyTorch accumulates
        # bfloat16 convolutions in float32 too); the casts carry the gradients back in bfloat16
        f32 = [None if t is None else t.float() for t in (input, weight, bias)]
        return _convnd.__wrapped__(*f32, stride, padding, dilation, groups, nd, name).bfloat16()
    if nd == 1:
        geom = _Geom(input.shape, weight.shape, (1, strides[0]), (0, 0, lo[0], hi[0]), (1, dilations[0]), groups,
                     True, itemsize=input.itemsize)
    else:
        geom = _Geom(input.shape, weight.shape, strides, (lo[0], hi[0], lo[1], hi[1]), dilations, groups, False,
                     itemsize=input.itemsize)
    keep = _GradState.enabled and weight._requires_grad and _keep_columns(geom, input.itemsize)
    return Convolution.apply(input, weight, bias, geom=geom, keep_cols=keep)


def _check_input(input, weight, nd, name):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - expected input and weight "
                        f"to be Tensors, got ({type(input).__name__}, {type(weight).__name__})")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input "
                           f"of size: {_fmt(input.shape)}")


def _resolve_params(input, weight, stride, padding, dilation, nd):
    """(strides, dilations, padding before, padding after), one per spatial dimension; padding='same'
    puts the odd element after, as PyTorch does."""
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
    if not isinstance(padding, str):
        return strides, dilations, pads, pads
    if padding == "valid":
        return strides, dilations, (0,) * nd, (0,) * nd
    total = [d * (k - 1) for d, k in zip(dilations, weight.shape[2:])]
    return strides, dilations, tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)


def _check_sizes(input, weight, bias, strides, dilations, lo, hi, groups):
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
    eff = [d * (k - 1) + 1 for d, k in zip(dilations, weight.shape[2:])]
    if any(e > p for e, p in zip(eff, padded)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel "
                           f"size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input "
                           f"size")


def _check_dtypes(input, weight, bias):
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"Input type ({_type_name(input)}) and weight type ({_type_name(weight)}) should be the "
                           f"same or input should be a MKLDNN tensor and weight is a dense tensor")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({_c_type(input)}) and bias type ({_c_type(bias)}) should be the same")


def _keep_columns(geom, itemsize):
    """Whether the forward keeps its columns for the weight gradient (else backward rebuilds them): when
    they cost no more memory than the output, or, for few output channels (where rebuilding them is a
    large share of the work: LeNet), when they stay within a few times the input and output, or when they
    are small anyway (ResNet at batch 1, whose rebuild costs a third of the GEMM)."""
    g = geom
    P = g.OH * g.OW
    cols_size = g.N * P * g.C * g.KH * g.KW
    io_size = g.N * (g.C * g.H * g.W + g.O * P)
    return (cols_size <= g.N * g.O * P or (g.O <= 32 and cols_size <= 8 * io_size)
            or cols_size * itemsize <= _KEEP_COLS_BYTES)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over an (N, C, H, W) or (C, H, W) input, as torch.nn.functional.conv2d."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over an (N, C, L) or (C, L) input, as torch.nn.functional.conv1d."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


# -- transposed convolution ------------------------------------------------------------------

class ConvTranspose(Function):
    """A transposed convolution is the input gradient of the convolution it transposes (same geometry,
    with the roles of input and output swapped), so it reuses that code; its backward is a convolution."""
    save = (0, 1)

    def forward(self, x, w, b, geom):
        self.geom = geom
        y = _grad_input(x, w, geom)
        if b is not None:
            y = y + (b.reshape(-1, 1) if geom.one_d else b.reshape(-1, 1, 1))
        return y

    @classmethod
    def _node_name(cls):
        return "ConvolutionBackward0"

    def backward(self, hh):
        x, w = self.saved_tensors
        g = self.geom
        nx = self.next
        gx = gw = gb = None
        if nx[0] is not None:
            gx = Convolution.apply(hh, w, None, geom=g)
        if nx[1] is not None:
            gw = _ConvGradWeight.apply(hh, x, geom=g)
        if len(nx) > 2 and nx[2] is not None:
            gb = hh.sum((0, 2) if g.one_d else (0, 2, 3))
        return gx, gw, gb


@_autocast.lower_precision
def _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, name):
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input "
                           f"of size: {_fmt(input.shape)}")
    if input.ndim == nd + 1:
        from ember.ops.shape import unsqueeze, squeeze
        out = _conv_transposend(unsqueeze(input, 0), weight, bias, stride, padding, output_padding, groups,
                                dilation, nd, name)
        return squeeze(out, 0)
    if weight.ndim != nd + 2:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional weight "
                           f"{_fmt(weight.shape)}, but got {input.ndim}-dimensional input of size "
                           f"{_fmt(input.shape)} instead")
    s = _expand(_as_list(stride, nd), nd, "stride")
    p = _expand(_as_list(padding, nd), nd, "padding")
    op = _expand(_as_list(output_padding, nd), nd, "output_padding")
    d = _expand(_as_list(dilation, nd), nd, "dilation")
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    if any(v < 0 for v in op):
        raise RuntimeError("negative output_padding is not supported")
    if any(v <= 0 for v in s):
        raise RuntimeError("non-positive stride is not supported")
    if any(v <= 0 for v in d):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(o >= st and o >= dl for o, st, dl in zip(op, s, d)):
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got output_padding"
                           f"_height: {op[0]} output_padding_width: {op[-1]} stride_height: {s[0]} stride_width: "
                           f"{s[-1]} dilation_height: {d[0]} dilation_width: {d[-1]}")
    if weight.shape[0] != input.shape[1]:
        raise RuntimeError(f"Given transposed=1, weight of size {_fmt(weight.shape)}, expected input"
                           f"{_fmt(input.shape)} to have {weight.shape[0]} channels, but got {input.shape[1]} "
                           f"channels instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{_fmt(weight.shape)}] instead")
    out_ch = weight.shape[1] * groups
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_ch):
        raise RuntimeError(f"Given transposed=1, weight of size {_fmt(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_ch} elements, but got bias of size {_fmt(bias.shape)} instead")
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"Input type ({_type_name(input)}) and weight type ({_type_name(weight)}) should be the "
                           f"same or input should be a MKLDNN tensor and weight is a dense tensor")
    sizes = [(i - 1) * st - 2 * pp + dl * (k - 1) + o + 1
             for i, st, pp, dl, k, o in zip(input.shape[2:], s, p, d, weight.shape[2:], op)]
    if any(v <= 0 for v in sizes):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, input.shape[2:]))}). Calculated "
                           f"output size per channel: ({' x '.join(map(str, sizes))}). Output size is too small")
    # the convolution this one transposes: input of the output's shape, output of the input's shape
    x_shape = (input.shape[0], out_ch) + tuple(sizes)
    if nd == 1:
        geom = _Geom(x_shape, weight.shape, (1, s[0]), (0, 0, p[0], p[0]), (1, d[0]), groups, True,
                     out_hw=(1, input.shape[2]), itemsize=input.itemsize)
    else:
        geom = _Geom(x_shape, weight.shape, s, (p[0], p[0], p[1], p[1]), d, groups, False,
                     out_hw=tuple(input.shape[2:]), itemsize=input.itemsize)
    return ConvTranspose.apply(input, weight, bias, geom=geom)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution, as torch.nn.functional.conv_transpose2d."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                             "conv_transpose2d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution, as torch.nn.functional.conv_transpose1d."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                             "conv_transpose1d")
