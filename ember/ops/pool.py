"""Pooling: max/avg pooling (1-d and 2-d) and adaptive avg/max pooling, with PyTorch's signatures.

How pooling is computed
-----------------------
A pooling window is KH*KW kernel offsets; for each offset (kh, kw) the input elements it picks for every
output position form one strided slice of the (padded) input. So max and avg pooling are a loop over
the kernel offsets (9 for a 3x3 window) of whole-array NumPy operations on strided slices -- never a
loop over pixels or images. Reducing a 6-d window view (or the (N, C, OH, kh, OW, kw) reshape of the
non-overlapping case) with np.max/np.sum is several times slower (bench/README.md, "Measured design
choices"), because NumPy's reduction inner loop then runs over the tiny kernel axis; the offset loop
runs over the output width instead. That window view is what the `reference` route does: readable,
and the oracle the fast routes are tested against.

Max pooling keeps, per output element, the offset of its argmax in the window (uint8 for windows up to
255 elements): a quarter of a float32 output, stashed for backward and freed once backward has run.
It is updated branch-free: offsets are visited in increasing order, so `idx = max(idx, k * (x_k > m))`
records the first maximum in scan order (PyTorch's tie rule); `np.copyto(..., where=mask)` is much
slower. `x_k > m` is read off the new running max (`max(m, x_k) != m`), so each offset reads its strided
slice once. NaN follows PyTorch (a NaN wins, the last one in scan order): checked once at the end and
redone exactly only when the result holds a NaN. Padding is -inf (the lowest integer for integer tensors)
and the index starts at each window's first real element, so padding is never selected. Many planes with
short output rows (AlexNet's last pool: 256 planes of 5x5) go channels-last, where a slice is a few long
contiguous runs instead of thousands of 5-element rows.
The backward turns each argmax into a flat position in the input (two small cached tables and a gather)
and adds the gradients there with one np.add.at, in PyTorch's order (an assignment when windows cannot
share an element); double backward gathers at the same positions. Both cost the output's size, not
kernel-size passes over the input.

Avg pooling sums the offsets' slices of the zero-padded input, then divides by the window count: a
scalar when every window has the same count, else an (OH, OW) table from PyTorch's rule (clipped to the
padded input for count_include_pad, to the real input otherwise; divisor_override wins).

Adaptive avg pooling is linear and separable: y = A_h @ x @ A_w.T with A's rows holding 1/count over
each window (PyTorch's start = floor(i*In/Out), end = ceil((i+1)*In/Out)), done as two GEMMs whose
transposes only touch the small intermediate. Output (1, 1) is a mean, as in PyTorch. Adaptive max
pooling is separable too: a running max over the window offsets along W, then along H, tracking the
argmax, which gives PyTorch's first-in-row-major-order tie rule.

Each backward is a helper Function whose own backward is again a pooling op, so double backward works.
"""
import numpy as np

from ember.backend import threads as _threads
from ember.backend.memory import padded
from ember.backend.routes import Routes

from ember.autograd.function import Function
from ember.autograd.grad_mode import _GradState
from ember.tensor import Tensor

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d"]


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _cdiv(a, b):
    """C's truncating integer division (PyTorch's checks are written in C++)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _pool_out(size, k, s, p, d, ceil):
    """PyTorch's pooling_output_shape, with its checks, for one dimension."""
    if s == 0:
        raise RuntimeError("stride should not be zero")
    if p < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
    if p > _cdiv((k - 1) * d + 1, 2):
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} "
                           f"and dilation={d}")
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)
    out = num // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pair_arg(v, what, allow_empty=False):
    if v is None:
        return None
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (tuple, list)):
        if allow_empty and len(v) == 0:
            return None
        if len(v) == 1:
            return (int(v[0]),) * 2
        if len(v) != 2:
            raise RuntimeError(what)
        return int(v[0]), int(v[1])
    return (int(v),) * 2


class _PoolGeom:
    """A pooling window's geometry on an (N, C, H, W) view of the input."""

    def __init__(self, shape, k, s, p, d, ceil):
        self.in_shape = tuple(shape)
        if len(shape) == 3:
            shape = (1,) + tuple(shape)
        self.N, self.C, self.H, self.W = shape
        (self.kh, self.kw), (self.sh, self.sw), (self.ph, self.pw), (self.dh, self.dw) = k, s, p, d
        self.OH = _pool_out(self.H, self.kh, self.sh, self.ph, self.dh, ceil)
        self.OW = _pool_out(self.W, self.kw, self.sw, self.pw, self.dw, ceil)
        self.route = "rows"         # set by max_pool2d / avg_pool2d (_route)

    def finish(self):
        """Derived sizes, once the checks have passed."""
        OH, OW = max(self.OH, 0), max(self.OW, 0)
        # bottom/right padding: whatever the last window needs (ceil_mode may ask for more than ph)
        self.pb = max(0, (OH - 1) * self.sh + (self.kh - 1) * self.dh + 1 - self.H - self.ph) if OH else 0
        self.pr = max(0, (OW - 1) * self.sw + (self.kw - 1) * self.dw + 1 - self.W - self.pw) if OW else 0
        self.Hp = self.H + self.ph + self.pb
        self.Wp = self.W + self.pw + self.pr
        self.padded = bool(self.ph or self.pw or self.pb or self.pr)
        self.overlap = self.sh < (self.kh - 1) * self.dh + 1 or self.sw < (self.kw - 1) * self.dw + 1
        # windows tile the padded input exactly: every element is in exactly one window
        self.tiles = (not self.overlap and self.dh == 1 and self.dw == 1 and self.sh == self.kh and
                      self.sw == self.kw and OH * self.sh == self.Hp and OW * self.sw == self.Wp)
        self.out_shape = self.in_shape[:-2] + (OH, OW)
        return self

    def x4(self, a):
        return a.reshape(self.N, self.C, self.H, self.W)

    def offsets(self):
        """(k, row slice, column slice) of every kernel offset, in PyTorch's scan order."""
        hspan, wspan = self.sh * (self.OH - 1) + 1, self.sw * (self.OW - 1) + 1
        k = 0
        for i in range(self.kh):
            h0 = i * self.dh
            hs = slice(h0, h0 + hspan, self.sh)
            for j in range(self.kw):
                w0 = j * self.dw
                yield k, hs, slice(w0, w0 + wspan, self.sw)
                k += 1

    def pad(self, x4, value):
        if not self.padded:
            return x4
        # reused memory: it never outlives the call
        return padded(x4, self.ph, self.pb, self.pw, self.pr, value, "pool_pad")

    def crop(self, xp):
        if not self.padded:
            return xp
        return xp[:, :, self.ph:self.ph + self.H, self.pw:self.pw + self.W]

    def scatter(self, parts, dtype, assign_ok=True):
        """sum over offsets k of parts(k) (an output-shaped array) placed at offset k's slice; the input's shape."""
        if self.tiles and assign_ok:
            gxp = np.empty((self.N, self.C, self.Hp, self.Wp), dtype)
        else:
            gxp = np.zeros((self.N, self.C, self.Hp, self.Wp), dtype)
        assign = not self.overlap and assign_ok
        for k, hs, ws in self.offsets():
            target = gxp[:, :, hs, ws]
            if assign:
                parts(k, target)
            else:
                target += parts(k, None)
        return self.crop(gxp).reshape(self.in_shape)


def _lowest(dtype):
    if dtype.kind == "f" or dtype.name == "bfloat16":
        return -np.inf
    if dtype.kind == "b":
        return False
    return np.iinfo(dtype).min


def _first_valid(n_out, s, p, d, k):
    """Per output position, the first kernel offset that lands on the real input (not the left padding)."""
    o = np.arange(n_out)
    first = -((o * s - p) // d)          # ceil((p - o*s) / d)
    return np.clip(first, 0, k - 1)


# -- routes ----------------------------------------------------------------------------------
# Max and avg pooling are computed by one of these named routes; _choose_route picks one by sizes and thread
# count, `force_route(name)` makes every max/avg pool take that route instead (tests run each at 1 and 2
# threads against torch).
ROUTES = {
    "reference": "the textbook version: every window gathered, reduced along its last axis; backward adds "
                 "each window's gradient back offset by offset",
    "rows": "a loop over kernel offsets of whole-array operations on strided slices of the NCHW input",
    "channels_last": "max pooling in (H, W, N*C) layout: each slice is a few long runs instead of many "
                     "short rows (many planes with short output rows: AlexNet's last pool)",
    "images": "avg pooling with the images split between threads; when the windows tile the input, "
              "backward widens each output row to whole input rows (float, no padding)",
}
_routes = Routes("pooling", ROUTES)
force_route = _routes.force     # tests; a route that does not apply (_route_applies) raises ValueError


def _route_applies(name, op, g, dtype):
    if name == "channels_last":
        return op == "max"
    if name == "images":
        return op == "avg" and dtype.kind == "f" and not g.padded
    return True


def _choose_route(op, g, dtype):
    """The automatic choice (bench/README.md has the measurements behind the thresholds)."""
    if op == "max":
        NC = g.N * g.C
        kk = g.kh * g.kw
        # short output rows: a slice is N*C*OH rows of only OW elements and NumPy's per-row overhead
        # dominates; channels-last pays when the kk slice passes save more rows than the transposes (input
        # in, output and index out) cost, and while the input is cache-sized
        if (g.OW <= 8 and NC >= 32 and 6 * kk > g.sh * g.Wp + 2 * g.OW and NC * g.Hp * g.Wp <= 1 << 17):
            return "channels_last"
        return "rows"
    # avg: split by image when the batch is worth it (at least a megabyte)
    if (dtype.kind == "f" and not g.padded and g.N > 1 and g.N * g.C * g.H * g.W * dtype.itemsize >= (1 << 20)
            and _threads.route_threads() > 1):
        return "images"
    return "rows"


def _route(op, g, dtype):
    forced = _routes.forced
    if forced is None:
        return _choose_route(op, g, dtype)
    if not _route_applies(forced, op, g, dtype):
        raise ValueError(f"pooling route {forced!r} does not apply to {op} pooling of a {dtype} input "
                         f"{list(g.in_shape)} (padding {g.ph}, {g.pw})")
    return forced


# -- the reference route: short enough to check by reading --------------------------------------

def _reference_windows(x4, g, fill):
    """(N, C, OH, OW, kh*kw): the elements of every window, padding = fill."""
    xp = np.pad(x4, ((0, 0), (0, 0), (g.ph, g.pb), (g.pw, g.pr)), constant_values=fill)
    return np.stack([xp[:, :, hs, ws] for _, hs, ws in g.offsets()], axis=-1)


def _reference_max(x, g):
    """Values and kernel offset of each window's maximum (the first in scan order; a NaN wins)."""
    win = _reference_windows(g.x4(x), g, _lowest(x.dtype))
    nan = np.isnan(win) if x.dtype.kind == "f" else np.zeros(win.shape, bool)
    idx = np.where(nan.any(-1), win.shape[-1] - 1 - np.argmax(nan[..., ::-1], -1), np.argmax(win, -1))
    out = np.take_along_axis(win, idx[..., None], -1)[..., 0]
    return out.reshape(g.out_shape), idx.astype(np.uint8 if win.shape[-1] <= 256 else np.int32)


def _reference_scatter(g, dtype, part):
    """Sum over kernel offsets k of part(k) (output-shaped) added at the input elements offset k picked."""
    gxp = np.zeros((g.N, g.C, g.Hp, g.Wp), dtype)
    for k, hs, ws in g.offsets():
        gxp[:, :, hs, ws] += part(k)
    return gxp[:, :, g.ph:g.ph + g.H, g.pw:g.pw + g.W].reshape(g.in_shape)


def _reference_avg(x, g, div):
    total = _reference_windows(g.x4(x), g, 0).sum(-1, dtype=x.dtype if x.dtype.kind == "f" else np.int64)
    return _divide(total, div, x.dtype).reshape(g.out_shape)


# -- max pooling -----------------------------------------------------------------------------

_pos_tables = {}   # geometry -> max pooling's index tables; small, reused by every call


def _max_pool_forward(x, g, need_idx=True):
    if g.route == "reference":
        out, idx = _reference_max(x, g)
        return out, idx if need_idx else None
    low = _lowest(x.dtype)
    xp = g.pad(g.x4(x), low)
    kk = g.kh * g.kw
    idt = np.uint8 if kk <= 256 else np.int32
    NC = g.N * g.C
    last = g.route == "channels_last"
    if last:
        # (Hp, Wp, N*C): each offset's slice is OH*OW contiguous runs of N*C
        src = np.ascontiguousarray(xp.reshape(NC, g.Hp * g.Wp).T).reshape(g.Hp, g.Wp, NC)
        oshape = (g.OH, g.OW, NC)
    else:
        src = xp.reshape(NC, g.Hp, g.Wp)
        oshape = (NC, g.OH, g.OW)
    offs = list(g.offsets())
    rest = offs[1:]
    _, hs, ws = offs[0]
    cur = src[hs, ws].copy() if last else src[:, hs, ws].copy()   # padding is -inf: any real element beats it
    idx = None
    if not need_idx:
        for k, hs, ws in rest:
            np.maximum(cur, src[hs, ws] if last else src[:, hs, ws], out=cur)
    else:
        idx = np.empty(oshape, idt)
        idx[...] = _first_valid_table(g, idt, last)
        if rest:
            # the only strided pass per offset is the maximum itself; `new != cur` is `x_k > cur` without
            # reading the slice twice, and the rest are cheap contiguous passes
            new = np.empty_like(cur)
            m = np.empty(oshape, np.bool_)
            mk = m.view(np.uint8) if idt is np.uint8 else m     # uint8 * uint8: no casting loop
            tmp = np.empty(oshape, idt)
            for k, hs, ws in rest:
                np.maximum(cur, src[hs, ws] if last else src[:, hs, ws], out=new)
                np.not_equal(new, cur, out=m)
                np.multiply(mk, idt(k), out=tmp)
                np.maximum(idx, tmp, out=idx)
                cur, new = new, cur
            if x.dtype.kind == "f" and cur.size and np.isnan(np.maximum.reduce(cur, axis=None)):
                # PyTorch: a NaN always takes over (val > max || isnan(val)), and a number after it does
                # not (NaN != NaN would say it did); redo exactly, rarely needed
                _, hs, ws = offs[0]
                cur = src[hs, ws].copy() if last else src[:, hs, ws].copy()
                idx[...] = _first_valid_table(g, idt, last)
                for k, hs, ws in rest:
                    sl = src[hs, ws] if last else src[:, hs, ws]
                    m = (sl > cur) | np.isnan(sl)
                    idx[m] = k
                    np.copyto(cur, sl, where=m)
    if last:
        cur = np.ascontiguousarray(cur.reshape(g.OH * g.OW, NC).T)
        if idx is not None:
            idx = np.ascontiguousarray(idx.reshape(g.OH * g.OW, NC).T)
    return cur.reshape(g.out_shape), None if idx is None else idx.reshape(g.N, g.C, g.OH, g.OW)


def _first_valid_table(g, idt, last):
    """Each window's first kernel offset on the real input, where its argmax starts: (OH, OW), or
    (OH, OW, 1) for the channels-last layout."""
    if not g.padded:
        return 0
    key = ("first", g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.OH, g.OW, idt)
    t = _pos_tables.get(key)
    if t is None:
        t = (_first_valid(g.OH, g.sh, g.ph, g.dh, g.kh)[:, None] * g.kw +
             _first_valid(g.OW, g.sw, g.pw, g.dw, g.kw)[None, :]).astype(idt)
        if len(_pos_tables) > 64:
            _pos_tables.clear()
        _pos_tables[key] = t
    return t[:, :, None] if last else t


def _flat_indices(idx, g):
    """Kernel-offset argmax -> PyTorch's indices into each flattened (H*W) input plane (int64)."""
    kh, kw = np.divmod(idx.astype(np.int64), g.kw)
    h = (np.arange(g.OH) * g.sh - g.ph)[:, None] + kh * g.dh
    w = (np.arange(g.OW) * g.sw - g.pw)[None, :] + kw * g.dw
    return (h * g.W + w).reshape(g.out_shape)


def _pos_table(g):
    """(per-offset shift, per-window start, hollow) for flat argmax positions in the input's planes.

    The argmax is never padding, so positions go straight into the unpadded input -- unless dilation
    lets a window hold padding only (`hollow`): its (padding) argmax must then land in padding, and
    positions are in the padded planes. For small outputs `start` holds every plane's windows,
    (N*C, OH, OW), so a call adds one table instead of two."""
    NC = g.N * g.C
    full = NC * g.OH * g.OW <= 1 << 13
    key = (NC if full else 0, g.H, g.W, g.OH, g.OW, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw)
    t = _pos_tables.get(key)
    if t is None:
        rows, cols = np.arange(g.OH) * g.sh - g.ph, np.arange(g.OW) * g.sw - g.pw   # window corners
        r0 = rows + _first_valid(g.OH, g.sh, g.ph, g.dh, g.kh) * g.dh
        c0 = cols + _first_valid(g.OW, g.sw, g.pw, g.dw, g.kw) * g.dw
        hollow = bool(((r0 < 0) | (r0 >= g.H)).any() or ((c0 < 0) | (c0 >= g.W)).any())
        H, W = (g.Hp, g.Wp) if hollow else (g.H, g.W)
        if hollow:
            rows, cols = rows + g.ph, cols + g.pw
        kh, kw = np.divmod(np.arange(g.kh * g.kw, dtype=np.intp), g.kw)
        start = (rows[:, None] * W + cols).astype(np.intp)
        if full:
            start = start + np.arange(0, NC * H * W, H * W, dtype=np.intp).reshape(NC, 1, 1)
        if len(_pos_tables) > 64:
            _pos_tables.clear()
        t = _pos_tables[key] = kh * (g.dh * W) + kw * g.dw, start, hollow
    return t


def _max_positions(idx, g):
    """Each window's argmax as a flat position in the input (in the padded input when hollow)."""
    shift, start, hollow = _pos_table(g)
    pos = shift.take(idx.reshape(-1, g.OH, g.OW))
    pos += start
    if start.ndim == 2 and g.N * g.C > 1:
        n = (g.Hp * g.Wp) if hollow else (g.H * g.W)
        pos += np.arange(0, g.N * g.C * n, n, dtype=np.intp).reshape(-1, 1, 1)
    return pos.reshape(-1), hollow


def _max_scatter(grad, idx, g):
    """Each output's gradient added at its window's argmax: one add.at (one assignment when windows cannot
    share an element), in output order like PyTorch's loop."""
    if g.route == "reference":
        gd = grad.reshape(g.N, g.C, g.OH, g.OW)
        return _reference_scatter(g, grad.dtype, lambda k: np.where(idx == k, gd, 0))
    pos, hollow = _max_positions(idx, g)
    gx = np.zeros(g.N * g.C * ((g.Hp * g.Wp) if hollow else (g.H * g.W)), grad.dtype)
    if g.overlap:
        np.add.at(gx, pos, grad.reshape(-1))
    else:
        gx[pos] = grad.reshape(-1)
    if hollow:
        return g.crop(gx.reshape(g.N, g.C, g.Hp, g.Wp)).reshape(g.in_shape)
    return gx.reshape(g.in_shape)


def _max_gather(x, idx, g):
    """The forward's selection applied to another input-shaped array: x at each window's argmax."""
    pos, hollow = _max_positions(idx, g)
    if hollow:
        x = g.pad(g.x4(x), 0)
    return x.reshape(-1).take(pos).reshape(g.out_shape)


class MaxPool2DWithIndices(Function):
    """Records max pooling in the graph; the caller computes it (_max_pool_forward), since it also needs
    the indices."""
    stash = ("idx",)

    def forward(self, x, geom, pooled):
        self.geom = geom
        out, self.idx = pooled
        return out

    def backward(self, grad):
        return _MaxPoolScatter.apply(grad, geom=self.geom, idx=self.idx)


class _MaxPoolScatter(Function):
    def forward(self, gy, geom, idx):
        self.geom, self.idx = geom, idx
        return _max_scatter(gy, idx, geom)

    @classmethod
    def _node_name(cls):
        return "MaxPool2DWithIndicesBackwardBackward0"

    def backward(self, hh):
        return _MaxPoolGather.apply(hh, geom=self.geom, idx=self.idx)


class _MaxPoolGather(Function):
    def forward(self, x, geom, idx):
        self.geom, self.idx = geom, idx
        return _max_gather(x, idx, geom)

    @classmethod
    def _node_name(cls):
        return "MaxPool2DWithIndicesBackward0"

    def backward(self, hg):
        return _MaxPoolScatter.apply(hg, geom=self.geom, idx=self.idx)


def _check_pool_input(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _shape_check(input, g):
    """PyTorch's pool2d_shape_check."""
    if g.kh <= 0 or g.kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {g.kh} kW: {g.kw}")
    if g.sh <= 0 or g.sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {g.sh} dW: {g.sw}")
    if g.dh <= 0 or g.dw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {g.dh} dilationW: {g.dw}")
    shp = tuple(input.shape)
    if not ((len(shp) == 3 and all(shp)) or (len(shp) == 4 and all(shp[1:]))):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but "
                           f"got:{_fmt(shp)}")
    if g.kw // 2 < g.pw or g.kh // 2 < g.ph:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got padW = {g.pw}, "
                           f"padH = {g.ph}, kW = {g.kw}, kH = {g.kh}")
    if g.OH < 1 or g.OW < 1:
        raise RuntimeError(f"Given input size: ({g.C}x{g.H}x{g.W}). Calculated output size: ({g.C}x{g.OH}x{g.OW}). "
                           f"Output size is too small")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over an (N, C, H, W) or (C, H, W) input, as torch.nn.functional.max_pool2d."""
    _check_pool_input(input, "max_pool2d")
    k = _pair_arg(kernel_size, "max_pool2d: kernel_size must either be a single int, or a tuple of two ints")
    s = _pair_arg(stride, "max_pool2d: stride must either be omitted, a single int, or a tuple of two ints",
                  allow_empty=True) or k
    p = _pair_arg(padding, "max_pool2d: padding must either be a single int, or a tuple of two ints")
    d = _pair_arg(dilation, "max_pool2d: dilation must be either a single int, or a tuple of two ints")
    if input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    g = _PoolGeom(input.shape, k, s, p, d, ceil_mode)
    _shape_check(input, g)
    g.finish()
    g.route = _route("max", g, input._data.dtype)
    need_idx = return_indices or (_GradState.enabled and input._requires_grad)
    pooled = _max_pool_forward(input._data, g, need_idx)
    out = MaxPool2DWithIndices.apply(input, geom=g, pooled=pooled)
    if return_indices:
        return out, Tensor._make(_flat_indices(pooled[1], g))
    return out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over an (N, C, L) or (C, L) input, as torch.nn.functional.max_pool1d."""
    _check_pool_input(input, "max_pool1d")
    shp = tuple(input.shape)
    if not ((len(shp) == 2 and all(shp)) or (len(shp) == 3 and all(shp[1:]))):
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                           f"input, but got:{_fmt(shp)}")

    def one(v, what, allow_empty=False):
        if isinstance(v, (tuple, list)):
            if allow_empty and len(v) == 0:
                return None
            if len(v) != 1:
                raise RuntimeError(f"max_pool1d() {what} must be an int, list of ints or tuple of ints of size 1 but "
                                   f"got size {len(v)}")
            return int(v[0])
        return None if v is None else int(v)

    k = one(kernel_size, "kernel_size")
    s = one(stride, "stride", allow_empty=True)
    p = one(padding, "padding")
    d = one(dilation, "dilation")
    if s is None:
        s = k
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and "
                           f"kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    ow = _pool_out(shp[-1], k, s, p, d, ceil_mode)
    if ow <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {ow}")
    from ember.ops.shape import unsqueeze, squeeze
    res = max_pool2d(unsqueeze(input, -2), (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    if return_indices:
        return squeeze(res[0], -2), squeeze(res[1], -2)
    return squeeze(res, -2)


# -- avg pooling -----------------------------------------------------------------------------

def _avg_divisor(g, count_include_pad, divisor_override):
    """A scalar, or an (OH, OW) table of window counts by PyTorch's rule."""
    if divisor_override is not None:
        return divisor_override

    def counts(n_out, s, p, k, size):
        start = np.arange(n_out) * s - p
        end = np.minimum(start + k, size + p)
        pool = end - start
        valid = np.minimum(end, size) - np.maximum(start, 0)
        return pool if count_include_pad else valid

    ch = counts(g.OH, g.sh, g.ph, g.kh, g.H)
    cw = counts(g.OW, g.sw, g.pw, g.kw, g.W)
    if (ch == ch[0]).all() and (cw == cw[0]).all():
        return int(ch[0] * cw[0])
    return ch[:, None] * cw[None, :]


def _divide(acc, div, dtype):
    if dtype.kind == "f":
        if isinstance(div, np.ndarray):
            acc /= div.astype(dtype)
        else:
            acc /= dtype.type(div)
        return acc
    q = np.abs(acc) // np.abs(div)                 # C++ integer division truncates towards zero
    return (q * (np.sign(acc) * np.sign(div))).astype(dtype)


def _avg_pool_forward(x, g, div):
    if g.route == "reference":
        return _reference_avg(x, g, div)
    x4 = g.x4(x)
    if g.route == "images":
        out = np.empty((g.N, g.C, g.OH, g.OW), x.dtype)
        offsets = list(g.offsets())

        def images(lo, hi):
            o = out[lo:hi]
            for k, hs, ws in offsets:
                if k == 0:
                    np.copyto(o, x4[lo:hi, :, hs, ws])
                else:
                    np.add(o, x4[lo:hi, :, hs, ws], out=o)
            _divide(o, div, x.dtype)
        _threads.parallel(images, g.N)
        return out.reshape(g.out_shape)
    xp = g.pad(x4, 0)
    acc_dt = x.dtype if x.dtype.kind == "f" else np.int64
    acc = None
    for k, hs, ws in g.offsets():
        sl = xp[:, :, hs, ws]
        if acc is None:
            acc = sl.astype(acc_dt, copy=True)
        else:
            np.add(acc, sl, out=acc, casting="unsafe")
    return _divide(acc, div, x.dtype).reshape(g.out_shape)


def _avg_scatter(grad, g, div):
    gd = grad.reshape(g.N, g.C, g.OH, g.OW)
    if g.route == "reference":
        share = gd / (div.astype(grad.dtype) if isinstance(div, np.ndarray) else grad.dtype.type(div)) \
            if grad.dtype.kind == "f" else _divide(gd.astype(np.int64), div, grad.dtype)
        return _reference_scatter(g, grad.dtype, lambda k: share)
    if g.tiles and g.route == "images" and not isinstance(div, np.ndarray):
        # windows tile the input: every input element gets its window's gradient / div. Each output row is
        # widened to a whole input row (np.repeat), then copied to the kh input rows it covers: long
        # contiguous copies (writing through a (.., OW, kw) view instead runs kw-element pieces: slower)
        gx = np.empty((g.N, g.C, g.H, g.W), grad.dtype)
        gx5 = gx.reshape(g.N, g.C, g.OH, g.kh, g.W)
        d = grad.dtype.type(div)

        def images(lo, hi):
            rows = np.repeat(gd[lo:hi] / d, g.kw, axis=-1)
            np.copyto(gx5[lo:hi], rows[:, :, :, None, :])
        _threads.parallel(images, g.N)
        return gx.reshape(g.in_shape)
    if grad.dtype.kind == "f":
        gd = gd / (div.astype(grad.dtype) if isinstance(div, np.ndarray) else grad.dtype.type(div))
    else:
        gd = _divide(gd.astype(np.int64), div, grad.dtype)

    def part(k, out):
        if out is not None:
            np.copyto(out, gd)
            return None
        return gd

    return g.scatter(part, grad.dtype)


class AvgPool2D(Function):
    def forward(self, x, geom, div):
        self.geom, self.div = geom, div
        return _avg_pool_forward(x, geom, div)

    def backward(self, grad):
        return _AvgPoolScatter.apply(grad, geom=self.geom, div=self.div)


class _AvgPoolScatter(Function):
    def forward(self, gy, geom, div):
        self.geom, self.div = geom, div
        return _avg_scatter(gy, geom, div)

    @classmethod
    def _node_name(cls):
        return "AvgPool2DBackwardBackward0"

    def backward(self, hh):
        return AvgPool2D.apply(hh, geom=self.geom, div=self.div)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over an (N, C, H, W) or (C, H, W) input, as torch.nn.functional.avg_pool2d."""
    _check_pool_input(input, "avg_pool2d")
    k = _pair_arg(kernel_size, "avg_pool2d: kernel_size must either be a single int, or a tuple of two ints")
    s = _pair_arg(stride, "avg_pool2d: stride must either be omitted, a single int, or a tuple of two ints",
                  allow_empty=True) or k
    p = _pair_arg(padding, "avg_pool2d: padding must either be a single int, or a tuple of two ints")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    nd = input.ndim
    if nd < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(nd, 1)}, {max(nd, 1) - 1}], "
                         f"but got -3)")
    g = _PoolGeom(input.shape if nd in (3, 4) else input.shape[-4:], k, s, p, (1, 1), ceil_mode)
    _shape_check(input, g)
    g.finish()
    div = _avg_divisor(g, count_include_pad, divisor_override)
    g.route = _route("avg", g, input._data.dtype)
    return AvgPool2D.apply(input, geom=g, div=div)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over an (N, C, L) or (C, L) input, as torch.nn.functional.avg_pool1d."""
    _check_pool_input(input, "avg_pool1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 "
                           f"'self' (while checking arguments for avg_pool1d)")

    def one(v, name):
        if isinstance(v, (tuple, list)):
            if len(v) != 1:
                raise RuntimeError(f"avg_pool1d() argument '{name}' should contain one int (got {len(v)})")
            return int(v[0])
        return int(v)

    k = one(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else one(stride, "stride")
    p = one(padding, "padding")
    from ember.ops.shape import unsqueeze, squeeze
    return squeeze(avg_pool2d(unsqueeze(input, -2), (1, k), (1, s), (0, p), ceil_mode, count_include_pad), -2)


# -- adaptive pooling ------------------------------------------------------------------------

def _windows(n_in, n_out):
    """PyTorch's adaptive windows: start = floor(i*In/Out), end = ceil((i+1)*In/Out)."""
    i = np.arange(n_out)
    start = (i * n_in) // n_out
    end = -((-(i + 1) * n_in) // n_out)
    return start, end


def _avg_matrix(n_in, n_out, dtype):
    """(Out, In): row i averages window i."""
    start, end = _windows(n_in, n_out)
    j = np.arange(n_in)
    inside = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _sep_apply(x3, Mh, Mw):
    """Mh @ x @ Mw.T for every (H, W) plane of x3 (B, H, W) -> (B, OH, OW), transposing only small arrays."""
    B, H, W = x3.shape
    OH, OW = Mh.shape[0], Mw.shape[0]
    t = np.matmul(x3.reshape(B * H, W), Mw.T).reshape(B, H, OW)          # along W: one GEMM
    t = np.ascontiguousarray(t.transpose(0, 2, 1)).reshape(B * OW, H)
    u = np.matmul(t, Mh.T).reshape(B, OW, OH)                             # along H: one GEMM
    return np.ascontiguousarray(u.transpose(0, 2, 1))


def _sep_apply_t(g3, Mh, Mw):
    """The adjoint: Mh.T @ g @ Mw for every plane of g3 (B, OH, OW) -> (B, H, W); H first, so the big result
    comes straight out of the last GEMM."""
    B, OH, OW = g3.shape
    H, W = Mh.shape[1], Mw.shape[1]
    t = np.ascontiguousarray(g3.transpose(0, 2, 1)).reshape(B * OW, OH)
    t = np.matmul(t, Mh).reshape(B, OW, H)                                # along H
    t = np.ascontiguousarray(t.transpose(0, 2, 1)).reshape(B * H, OW)
    return np.matmul(t, Mw).reshape(B, H, W)                              # along W


class AdaptiveAvgPool2D(Function):
    def forward(self, x, out_hw):
        H, W = x.shape[-2:]
        self.in_shape = x.shape
        self.mats = _avg_matrix(H, out_hw[0], x.dtype), _avg_matrix(W, out_hw[1], x.dtype)
        B = int(np.prod(x.shape[:-2]))
        y = _sep_apply(x.reshape(B, H, W), *self.mats)
        return y.reshape(x.shape[:-2] + tuple(out_hw))

    def backward(self, grad):
        return _AdaptiveAvgScatter.apply(grad, in_shape=self.in_shape, mats=self.mats)


class _AdaptiveAvgScatter(Function):
    def forward(self, gy, in_shape, mats):
        self.in_shape, self.mats = in_shape, mats
        B = int(np.prod(in_shape[:-2]))
        return _sep_apply_t(gy.reshape((B,) + gy.shape[-2:]), *mats).reshape(in_shape)

    @classmethod
    def _node_name(cls):
        return "AdaptiveAvgPool2DBackwardBackward0"

    def backward(self, hh):
        return AdaptiveAvgPool2D.apply(hh, out_hw=tuple(m.shape[0] for m in self.mats))


def _list_with_default(out_size, defaults):
    if isinstance(out_size, (int, np.integer)):
        return out_size
    if len(out_size) >= len(defaults):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    defaults = defaults[-len(out_size):]
    return [d if v is None else v for v, d in zip(out_size, defaults)]


def _out_pair(output_size, input, name):
    size = _list_with_default(output_size, tuple(input.shape))
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    size = [int(v) for v in size]
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        if name == "adaptive_max_pool2d":
            raise RuntimeError("adaptive_max_pool2d(): internal error: output_size.size() must be 2")
        raise RuntimeError(f"{name}: output_size must be 2")
    return size[0], size[1]


def adaptive_avg_pool2d(input, output_size):
    """Adaptive 2-D average pooling, as torch.nn.functional.adaptive_avg_pool2d (None keeps that size)."""
    _check_pool_input(input, "adaptive_avg_pool2d")
    oh, ow = _out_pair(output_size, input, "adaptive_avg_pool2d")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {_fmt(input.shape)}")
    if oh < 0 or ow < 0:
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but "
                           f"received {{{oh}, {ow}}}")
    for i in (input.ndim - 2, input.ndim - 1):
        if input.shape[i] == 0:
            raise RuntimeError(f"adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {_fmt(input.shape)} with dimension {i} being empty")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"adaptive_avg_pool2d\" not implemented for '{_word(input.dtype)}'")
    if oh == 1 and ow == 1:
        return _GlobalAvg.apply(input)                 # PyTorch computes a mean here (MeanBackward1)
    return AdaptiveAvgPool2D.apply(input, out_hw=(oh, ow))


_ones_cache = {}


def _ones(n, dtype):
    v = _ones_cache.get((n, dtype))
    if v is None:
        if len(_ones_cache) > 16:
            _ones_cache.clear()
        v = _ones_cache[(n, dtype)] = np.ones(n, dtype)
    return v


class _GlobalAvg(Function):
    """Mean over H and W, keeping them as size 1 (ResNet's head): a sum over each contiguous row."""

    @classmethod
    def _node_name(cls):
        return "MeanBackward1"

    def forward(self, x):
        self.in_shape = x.shape
        hw = x.shape[-2] * x.shape[-1]
        x2 = x.reshape(-1, hw)
        if x.dtype.char in "fd":
            # row sums as one GEMV with a ones vector: NumPy's add.reduce pays a fixed cost per short row
            s = np.matmul(x2, _ones(hw, x.dtype))
        else:
            s = np.add.reduce(x2, axis=1)
        return np.divide(s, x.dtype.type(hw), out=s).reshape(x.shape[:-2] + (1, 1))

    def backward(self, grad):
        return (grad / (self.in_shape[-2] * self.in_shape[-1])).expand(self.in_shape)


def _word(d):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
            "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}[d.name]


def _one_size(output_size, name):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 1:
            raise RuntimeError(f"{name}() argument 'output_size' should contain one int (got {len(output_size)})")
        return output_size[0]
    return output_size


def adaptive_avg_pool1d(input, output_size):
    """Adaptive 1-D average pooling, as torch.nn.functional.adaptive_avg_pool1d."""
    _check_pool_input(input, "adaptive_avg_pool1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 "
                           f"'self' (while checking arguments for adaptive_avg_pool1d)")
    o = _one_size(output_size, "adaptive_avg_pool1d")
    from ember.ops.shape import unsqueeze, squeeze
    return squeeze(adaptive_avg_pool2d(unsqueeze(input, -2), (1, o)), -2)


def _adaptive_max_forward(x, oh, ow):
    """Separable running max with argmax; returns (values, flat int64 indices into each H*W plane)."""
    H, W = x.shape[-2:]
    B = int(np.prod(x.shape[:-2]))
    x3 = x.reshape(B, H, W)
    low = _lowest(x.dtype)

    def along_last(a, n_in, n_out):
        # running max over each window of a's last axis; returns values and the argmax positions
        start, end = _windows(n_in, n_out)
        kmax = int((end - start).max()) if n_out else 0
        cur = np.full(a.shape[:-1] + (n_out,), low, a.dtype)
        arg = np.broadcast_to(start, cur.shape).copy()
        for j in range(kmax):
            pos = np.minimum(start + j, end - 1)
            sl = a[..., pos]
            m = sl > cur
            if a.dtype.kind == "f":
                m |= np.isnan(sl)
            cur = np.where(m, sl, cur)
            arg = np.where(m, pos, arg)
        return cur, arg

    vw, aw = along_last(x3, W, ow)                                  # (B, H, OW)
    vh, ah = along_last(np.ascontiguousarray(vw.transpose(0, 2, 1)), H, oh)   # (B, OW, OH)
    rows = ah.transpose(0, 2, 1)                                    # (B, OH, OW) argmax row
    cols = np.take_along_axis(aw, rows, axis=1)                     # the column of that row's max
    idx = rows.astype(np.int64) * W + cols
    return np.ascontiguousarray(vh.transpose(0, 2, 1)).reshape(x.shape[:-2] + (oh, ow)), \
        idx.reshape(x.shape[:-2] + (oh, ow))


def _index_scatter(gy, idx, in_shape):
    H, W = in_shape[-2:]
    B = int(np.prod(in_shape[:-2]))
    out = np.zeros((B, H * W), gy.dtype)
    if gy.size:
        rows = np.arange(B)[:, None]
        np.add.at(out, (rows, idx.reshape(B, -1)), gy.reshape(B, -1))
    return out.reshape(in_shape)


def _index_gather(x, idx):
    B = int(np.prod(x.shape[:-2]))
    flat = x.reshape(B, -1)
    return np.take_along_axis(flat, idx.reshape(B, -1), axis=1).reshape(idx.shape)


class AdaptiveMaxPool2D(Function):
    """Records adaptive max pooling in the graph; the caller computes it (_adaptive_max_forward), since it
    also needs the indices."""
    stash = ("idx",)

    def forward(self, x, pooled):
        self.in_shape = x.shape
        out, self.idx = pooled
        return out

    def backward(self, grad):
        return _IndexScatter.apply(grad, idx=self.idx, in_shape=self.in_shape)


class _IndexScatter(Function):
    def forward(self, gy, idx, in_shape):
        self.idx = idx
        return _index_scatter(gy, idx, in_shape)

    @classmethod
    def _node_name(cls):
        return "AdaptiveMaxPool2DBackwardBackward0"

    def backward(self, hh):
        return _IndexGather.apply(hh, idx=self.idx)


class _IndexGather(Function):
    def forward(self, x, idx):
        self.idx, self.in_shape = idx, x.shape
        return _index_gather(x, idx)

    @classmethod
    def _node_name(cls):
        return "AdaptiveMaxPool2DBackward0"

    def backward(self, hg):
        return _IndexScatter.apply(hg, idx=self.idx, in_shape=self.in_shape)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Adaptive 2-D max pooling, as torch.nn.functional.adaptive_max_pool2d."""
    _check_pool_input(input, "adaptive_max_pool2d")
    oh, ow = _out_pair(output_size, input, "adaptive_max_pool2d")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {_fmt(input.shape)}")
    if oh < 0 or ow < 0:
        neg = oh if oh < 0 else ow
        raise RuntimeError(f"Trying to create tensor with negative dimension {neg}: "
                           f"{_fmt(tuple(input.shape[:-2]) + (oh, ow))}")
    for i in range(1, input.ndim):
        if input.shape[i] == 0:
            raise RuntimeError(f"adaptive_max_pool2d(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {_fmt(input.shape)} with dimension {i} being empty")
    pooled = _adaptive_max_forward(input._data, oh, ow)
    out = AdaptiveMaxPool2D.apply(input, pooled=pooled)
    if return_indices:
        return out, Tensor._make(pooled[1])
    return out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Adaptive 1-D max pooling, as torch.nn.functional.adaptive_max_pool1d."""
    _check_pool_input(input, "adaptive_max_pool1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 "
                           f"'self' (while checking arguments for adaptive_max_pool1d)")
    o = _one_size(output_size, "adaptive_max_pool1d")
    from ember.ops.shape import unsqueeze, squeeze
    res = adaptive_max_pool2d(unsqueeze(input, -2), (1, o), return_indices)
    if return_indices:
        return squeeze(res[0], -2), squeeze(res[1], -2)
    return squeeze(res, -2)
