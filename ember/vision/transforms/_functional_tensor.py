"""Image transforms on ember tensors of shape (..., C, H, W) or (H, W), computed with NumPy.

Follows torchvision.transforms._functional_tensor: resampling matches torch.nn.functional.interpolate
(align_corners=False, with PIL-style antialiasing) and rotations/affines match affine_grid + grid_sample.
Flips, crops and normalize use ember ops (so they keep autograd); the resampling ops do not track gradients.
"""
import numpy as np

from ember.autograd.grad_mode import is_grad_enabled

from ember.creation import as_tensor, from_numpy
from ember.tensor import Tensor


def _assert_image_tensor(img):
    if not isinstance(img, Tensor) or img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def get_dimensions(img):
    _assert_image_tensor(img)
    channels = 1 if img.ndim == 2 else img.shape[-3]
    height, width = img.shape[-2:]
    return [channels, height, width]


def get_image_size(img):
    _assert_image_tensor(img)
    return [img.shape[-1], img.shape[-2]]


def get_image_num_channels(img):
    _assert_image_tensor(img)
    if img.ndim == 2:
        return 1
    return img.shape[-3]


def _array(img):
    return img._data


def _wrap(arr):
    return from_numpy(np.ascontiguousarray(arr))


def hflip(img):
    _assert_image_tensor(img)
    return img.flip(-1)


def vflip(img):
    _assert_image_tensor(img)
    return img.flip(-2)


def crop(img, top, left, height, width):
    _assert_image_tensor(img)
    _, h, w = get_dimensions(img)
    right = left + width
    bottom = top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        padding_ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                        max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
        return pad(img[..., max(top, 0):bottom, max(left, 0):right], padding_ltrb, fill=0)
    return img[..., top:bottom, left:right]


def _parse_pad_padding(padding):
    """[left, right, top, bottom] from an int or a 1-, 2- or 4-element sequence."""
    if isinstance(padding, int):
        pad_left = pad_right = pad_top = pad_bottom = padding
    elif len(padding) == 1:
        pad_left = pad_right = pad_top = pad_bottom = padding[0]
    elif len(padding) == 2:
        pad_left = pad_right = padding[0]
        pad_top = pad_bottom = padding[1]
    else:
        pad_left, pad_top, pad_right, pad_bottom = padding
    return [pad_left, pad_right, pad_top, pad_bottom]


def pad(img, padding, fill=0, padding_mode="constant"):
    _assert_image_tensor(img)
    if fill is None:
        fill = 0
    if not isinstance(padding, (int, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if not isinstance(fill, (int, float)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, tuple):
        padding = list(padding)
    if isinstance(padding, list) and len(padding) not in [1, 2, 4]:
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, right, top, bottom = (int(p) for p in _parse_pad_padding(padding))
    a = _array(img)
    h, w = a.shape[-2:]
    # negative padding crops
    a = a[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    widths = [(0, 0)] * (a.ndim - 2) + [(max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))]
    if padding_mode == "constant":
        out = np.pad(a, widths, mode="constant", constant_values=np.array(fill).astype(a.dtype))
    else:
        if padding_mode == "reflect" and (max(top, bottom) >= a.shape[-2] or max(left, right) >= a.shape[-1]):
            raise RuntimeError("Padding size should be less than the corresponding input dimension, but got: "
                               f"padding ({left}, {right}, {top}, {bottom}) at dimension of input {tuple(a.shape)}")
        out = np.pad(a, widths, mode=padding_mode)
    return _wrap(out)


# -- resampling -------------------------------------------------------------------------------------------

def _aa_filter(mode):
    if mode == "bilinear":
        def f(x):
            x = np.abs(x)
            return np.where(x < 1.0, 1.0 - x, 0.0)
        return f, 2
    a = -0.5  # PIL's (and torch's antialiased) bicubic

    def f(x):
        x = np.abs(x)
        return np.where(x < 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0,
                        np.where(x < 2.0, (((x - 5.0) * x + 8.0) * x - 4.0) * a, 0.0))
    return f, 4


def _cubic_coefficients(t, a=-0.75):
    def c1(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [c2(t + 1.0), c1(t), c1(1.0 - t), c2(2.0 - t)]


def _resize_matrix(in_size, out_size, mode, antialias):
    """The (out_size, in_size) matrix of one axis of torch.nn.functional.interpolate (align_corners=False)."""
    m = np.zeros((out_size, in_size), dtype=np.float64)
    rows = np.arange(out_size)
    if mode in ("nearest", "nearest-exact"):
        if in_size == out_size:
            idx = rows
        else:
            scale = np.float32(in_size) / np.float32(out_size)
            pos = rows.astype(np.float32)
            if mode == "nearest-exact":
                pos = pos + np.float32(0.5)
            idx = np.minimum(np.floor(pos * scale).astype(np.int64), in_size - 1)
        m[rows, idx] = 1.0
        return m
    scale = in_size / out_size
    if antialias:
        filt, interp_size = _aa_filter(mode)
        support = interp_size * 0.5 * scale if scale >= 1.0 else interp_size * 0.5
        invscale = 1.0 / scale if scale >= 1.0 else 1.0
        for i in range(out_size):
            center = scale * (i + 0.5)
            xmin = max(int(center - support + 0.5), 0)
            xmax = min(int(center + support + 0.5), in_size)
            j = np.arange(xmin, xmax)
            w = filt((j - center + 0.5) * invscale)
            total = w.sum()
            if total != 0.0:
                w = w / total
            m[i, xmin:xmax] = w
        return m
    src = scale * (rows + 0.5) - 0.5
    if mode == "bilinear":
        src = np.maximum(src, 0.0)
        i0 = np.floor(src).astype(np.int64)
        i0 = np.minimum(i0, in_size - 1)
        i1 = np.minimum(i0 + 1, in_size - 1)
        lam1 = np.clip(src - i0, 0.0, 1.0)
        np.add.at(m, (rows, i0), 1.0 - lam1)
        np.add.at(m, (rows, i1), lam1)
        return m
    if mode == "bicubic":
        i0 = np.floor(src).astype(np.int64)
        t = src - i0
        for k, coef in enumerate(_cubic_coefficients(t)):
            np.add.at(m, (rows, np.clip(i0 - 1 + k, 0, in_size - 1)), coef)
        return m
    raise ValueError(f"Resize on tensors supports nearest, nearest-exact, bilinear and bicubic, not {mode!r}")


def resize(img, size, interpolation="bilinear", antialias=True):
    """Resize to size [h, w] like torchvision's tensor resize (float math, rounding back for integer dtypes)."""
    _assert_image_tensor(img)
    if isinstance(size, tuple):
        size = list(size)
    if antialias is None:
        antialias = False
    if antialias and interpolation not in ["bilinear", "bicubic"]:
        antialias = False
    a = _array(img)
    in_h, in_w = a.shape[-2:]
    out_h, out_w = int(size[0]), int(size[1])
    out_dtype = a.dtype
    work = a if a.dtype in (np.float32, np.float64) else a.astype(np.float32)
    mh = _resize_matrix(in_h, out_h, interpolation, antialias).astype(work.dtype)
    mw = _resize_matrix(in_w, out_w, interpolation, antialias).astype(work.dtype)
    out = np.matmul(np.matmul(mh, work), mw.T)
    if interpolation == "bicubic" and out_dtype == np.uint8:
        out = np.clip(out, 0, 255)
    if out_dtype != work.dtype:
        if np.issubdtype(out_dtype, np.integer):
            out = np.round(out)
        out = out.astype(out_dtype)
    return _wrap(out)


# -- affine warps -----------------------------------------------------------------------------------------

def _compute_affine_output_size(matrix, w, h):
    pts = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                    [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.array(matrix, dtype=np.float32).reshape(2, 3)
    new_pts = pts @ theta.T
    min_vals = new_pts.min(axis=0) + np.array((w * 0.5, h * 0.5), dtype=np.float32)
    max_vals = new_pts.max(axis=0) + np.array((w * 0.5, h * 0.5), dtype=np.float32)
    tol = 1e-4
    cmax = np.ceil(np.trunc(max_vals / tol) * tol)
    cmin = np.floor(np.trunc(min_vals / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def _affine_grid(theta, w, h, ow, oh, dtype):
    """Source coordinates (x, y) in pixels for each output pixel, as torchvision's _gen_affine_grid +
    grid_sample(align_corners=False) compute them."""
    d = 0.5
    xs = np.linspace(-ow * 0.5 + d, ow * 0.5 + d - 1, num=ow, dtype=dtype)[None, :]
    ys = np.linspace(-oh * 0.5 + d, oh * 0.5 + d - 1, num=oh, dtype=dtype)[:, None]
    theta = np.asarray(theta, dtype=dtype).reshape(2, 3)
    r = theta.T / np.array([0.5 * w, 0.5 * h], dtype=dtype)
    # [x, y, 1] @ r term by term in torch's order (a BLAS matmul may round differently at half-way pixels)
    gx = xs * r[0, 0] + ys * r[1, 0] + r[2, 0]
    gy = xs * r[0, 1] + ys * r[1, 1] + r[2, 1]
    grid = np.stack(np.broadcast_arrays(gx, gy), axis=-1)
    # grid_sample's unnormalization with align_corners=False
    ix = ((grid[..., 0] + 1) * w - 1) / 2
    iy = ((grid[..., 1] + 1) * h - 1) / 2
    return ix, iy


def _grid_sample(a, ix, iy, mode):
    """Sample a (N, C, H, W) float array at pixel coordinates (zeros outside), like grid_sample."""
    n, c, h, w = a.shape
    oh, ow = ix.shape
    if mode == "nearest":
        xn = np.rint(ix).astype(np.int64)
        yn = np.rint(iy).astype(np.int64)
        valid = (xn >= 0) & (xn < w) & (yn >= 0) & (yn < h)
        out = np.zeros((n, c, oh, ow), dtype=a.dtype)
        out[..., valid] = a[..., yn[valid], xn[valid]]
        return out
    if mode != "bilinear":
        raise ValueError(f"interpolation {mode!r} is not supported on tensors; use nearest or bilinear")
    x0 = np.floor(ix).astype(np.int64)
    y0 = np.floor(iy).astype(np.int64)
    x1, y1 = x0 + 1, y0 + 1
    wx1 = (ix - x0).astype(a.dtype)
    wy1 = (iy - y0).astype(a.dtype)
    wx0, wy0 = 1 - wx1, 1 - wy1
    out = np.zeros((n, c, oh, ow), dtype=a.dtype)
    for yy, wy in ((y0, wy0), (y1, wy1)):
        for xx, wx in ((x0, wx0), (x1, wx1)):
            valid = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
            vals = np.zeros((n, c, oh, ow), dtype=a.dtype)
            vals[..., valid] = a[..., yy[valid], xx[valid]]
            out += vals * (wy * wx)
    return out


def _apply_affine(img, matrix, interpolation, fill, ow=None, oh=None):
    a = _array(img)
    lead = a.shape[:-3] if a.ndim >= 3 else ()
    squeeze2d = a.ndim == 2
    h, w = a.shape[-2:]
    ow = w if ow is None else ow
    oh = h if oh is None else oh
    out_dtype = a.dtype
    work_dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.float32
    x = a.reshape((-1,) + a.shape[-3:]) if not squeeze2d else a[None, None]
    x = x.astype(work_dtype, copy=False)
    ix, iy = _affine_grid(matrix, w, h, ow, oh, work_dtype)
    if fill is not None:
        x = np.concatenate([x, np.ones_like(x[:, :1])], axis=1)
    out = _grid_sample(x, ix, iy, interpolation)
    if fill is not None:
        mask = out[:, -1:]
        out = out[:, :-1]
        fill_list = list(fill) if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_img = np.broadcast_to(np.array(fill_list, dtype=work_dtype).reshape(1, -1, 1, 1), out.shape)
        mask = np.broadcast_to(mask, out.shape)
        if interpolation == "nearest":
            out = np.where(mask < 0.5, fill_img, out)
        else:
            out = out * mask + (1.0 - mask) * fill_img
    if out_dtype != work_dtype:
        if np.issubdtype(out_dtype, np.integer):
            out = np.round(out)
        out = out.astype(out_dtype)
    out = out[0, 0] if squeeze2d else out.reshape(lead + out.shape[1:])
    return _wrap(out)


def rotate(img, matrix, interpolation="nearest", expand=False, fill=None):
    _assert_image_tensor(img)
    w, h = img.shape[-1], img.shape[-2]
    ow, oh = _compute_affine_output_size(matrix, w, h) if expand else (w, h)
    return _apply_affine(img, matrix, interpolation, fill, ow, oh)


def affine(img, matrix, interpolation="nearest", fill=None):
    _assert_image_tensor(img)
    return _apply_affine(img, matrix, interpolation, fill)


# -- colour and values ------------------------------------------------------------------------------------

def normalize(tensor, mean, std, inplace=False):
    _assert_image_tensor(tensor)
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tensor.size()}")
    if not (tensor.requires_grad and is_grad_enabled()):
        # the data-pipeline case (once per image): the same float arithmetic straight on the array
        a = tensor._data if inplace else tensor._data.copy()
        m = np.asarray(mean, dtype=a.dtype)
        s = np.asarray(std, dtype=a.dtype)
        if (s == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by "
                             f"zero.")
        if m.ndim == 1:
            m = m.reshape(-1, 1, 1)
        if s.ndim == 1:
            s = s.reshape(-1, 1, 1)
        a -= m
        a /= s
        if inplace:
            tensor._version[0] += 1
            return tensor
        return from_numpy(a)
    if not inplace:
        tensor = tensor.clone()
    dtype = tensor.dtype
    mean = as_tensor(mean, dtype=dtype)
    std = as_tensor(std, dtype=dtype)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to division by zero.")
    if mean.ndim == 1:
        mean = mean.view(-1, 1, 1)
    if std.ndim == 1:
        std = std.view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def rgb_to_grayscale(img, num_output_channels=1):
    _assert_image_tensor(img)
    if img.ndim < 3 or img.shape[-3] not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found "
                        f"{1 if img.ndim < 3 else img.shape[-3]}")
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    a = _array(img)
    if a.shape[-3] == 3:
        work = a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float32)
        r, g, b = work[..., 0, :, :], work[..., 1, :, :], work[..., 2, :, :]
        l_img = (0.2989 * r + 0.587 * g + 0.114 * b).astype(work.dtype)
        if not np.issubdtype(a.dtype, np.floating):
            l_img = l_img.astype(a.dtype)  # truncates, as torch's .to(uint8) does
        l_img = l_img[..., None, :, :]
    else:
        l_img = a.copy()
    if num_output_channels == 3:
        l_img = np.broadcast_to(l_img, l_img.shape[:-3] + (3,) + l_img.shape[-2:])
    return _wrap(l_img)


def convert_image_dtype(image, dtype):
    """Convert a tensor image to dtype, rescaling values (floats live in [0, 1], integers in their range)."""
    from ember.backend import dtypes as _dt
    target = _dt.to_dtype(dtype)
    a = _array(image)
    tnp = np.dtype(target.np)
    if a.dtype == tnp:
        return image
    if np.issubdtype(a.dtype, np.floating):
        if np.issubdtype(tnp, np.floating):
            return _wrap(a.astype(tnp))
        if (a.dtype == np.float32 and tnp in (np.int32, np.int64)) or (a.dtype == np.float64 and tnp == np.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {target} cannot be performed safely.")
        eps = 1e-3
        max_val = float(np.iinfo(tnp).max)
        return _wrap((a * (max_val + 1.0 - eps)).astype(tnp))
    if np.issubdtype(tnp, np.floating):
        return _wrap(a.astype(tnp) / np.array(np.iinfo(a.dtype).max, dtype=tnp))
    input_max = int(np.iinfo(a.dtype).max)
    output_max = int(np.iinfo(tnp).max)
    if input_max > output_max:
        factor = (input_max + 1) // (output_max + 1)
        return _wrap((a // factor).astype(tnp))
    factor = (output_max + 1) // (input_max + 1)
    return _wrap(a.astype(tnp) * factor)


# -- colour adjustments, blur, erasing (torchvision's formulas, in float32 like torch) ----------------------

def _assert_channels(img, permitted):
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {c}")


def _max_value(np_dtype):
    return 1.0 if np.issubdtype(np_dtype, np.floating) else float(np.iinfo(np_dtype).max)


def _float(a):
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float32)


def _blend(a, b, ratio):
    """ratio * a + (1 - ratio) * b, clamped to the dtype's range and cast back (truncating) to a's dtype."""
    ratio = float(ratio)
    af, bf = _float(a), _float(b)
    out = af * af.dtype.type(ratio) + bf * af.dtype.type(1.0 - ratio)
    return np.clip(out, 0, _max_value(a.dtype)).astype(a.dtype)


def _gray(a):
    r, g, b = (_float(a)[..., i, :, :] for i in range(3))
    gray = (0.2989 * r + 0.587 * g + 0.114 * b).astype(_float(a).dtype)
    return gray.astype(a.dtype)[..., None, :, :]


def adjust_brightness(img, brightness_factor):
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    a = _array(img)
    return _wrap(_blend(a, np.zeros_like(a), brightness_factor))


def adjust_contrast(img, contrast_factor):
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [3, 1])
    a = _array(img)
    gray = _gray(a) if get_dimensions(img)[0] == 3 else a
    mean = _float(gray).mean(axis=(-3, -2, -1), keepdims=True, dtype=np.float64).astype(_float(a).dtype)
    return _wrap(_blend(a, mean, contrast_factor))


def adjust_saturation(img, saturation_factor):
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:  # as PIL: a gray image has no saturation to change
        return img
    a = _array(img)
    return _wrap(_blend(a, _gray(a), saturation_factor))


def _rgb2hsv(a):
    r, g, b = a[..., 0, :, :], a[..., 1, :, :], a[..., 2, :, :]
    maxc, minc = a.max(axis=-3), a.min(axis=-3)
    eqc = maxc == minc
    cr = maxc - minc
    ones = np.ones_like(maxc)
    s = cr / np.where(eqc, ones, maxc)
    cr_divisor = np.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = np.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0).astype(a.dtype)
    return h, s, maxc


def _hsv2rgb(h, s, v):
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    # the sector i picks (r, g, b) among (v, q, p, t): one row per sector
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros(h.shape[:-2] + (3,) + h.shape[-2:], dtype=h.dtype)
    for sector, rgb in enumerate(table):
        mask = i == sector
        for c in range(3):
            out[..., c, :, :] = np.where(mask, rgb[c], out[..., c, :, :])
    return out


def adjust_hue(img, hue_factor):
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if not isinstance(img, Tensor):
        raise TypeError("Input img should be Tensor image")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    from ember.backend import dtypes as _dt
    orig_dtype = img.dtype
    a = _array(convert_image_dtype(img, _dt.float32))
    h, s, v = _rgb2hsv(a)
    h = np.mod(h + np.float32(hue_factor), np.float32(1.0))
    return convert_image_dtype(_wrap(_hsv2rgb(h, s, v)), orig_dtype)


def _gaussian_kernel1d(kernel_size, sigma, np_dtype):
    half = (kernel_size - 1) * 0.5
    x = np.linspace(-half, half, kernel_size).astype(np_dtype)
    pdf = np.exp(np_dtype(-0.5) * (x / np_dtype(sigma)) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img, kernel_size, sigma):
    """Separable Gaussian blur with reflect padding; kernel_size and sigma are (x, y) pairs."""
    _assert_image_tensor(img)
    a = _array(img)
    dtype = a.dtype if np.issubdtype(a.dtype, np.floating) else np.dtype(np.float32)
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0], dtype.type)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1], dtype.type)
    px, py = kernel_size[0] // 2, kernel_size[1] // 2
    h, w = a.shape[-2:]
    if px >= w or py >= h:
        raise ValueError(f"Padding size should be less than the corresponding input dimension, but got: padding "
                         f"({px}, {px}) at dimension 3 and ({py}, {py}) at dimension 2 of input {tuple(a.shape)}")
    pad = [(0, 0)] * (a.ndim - 2) + [(py, py), (px, px)]
    x = np.pad(a.astype(dtype), pad, mode="reflect")
    # the 2-D kernel is the outer product ky ⊗ kx: one pass along each axis gives the same sums
    rows = sum(ky[k] * x[..., k:k + h, :] for k in range(len(ky)))
    out = sum(kx[k] * rows[..., :, k:k + w] for k in range(len(kx))).astype(dtype)
    if not np.issubdtype(a.dtype, np.floating):
        out = np.round(out)
    return _wrap(out.astype(a.dtype))


def erase(img, i, j, h, w, v, inplace=False):
    _assert_image_tensor(img)
    if not inplace:
        img = img.clone()
    value = v._data if isinstance(v, Tensor) else np.asarray(v)
    img._data[..., i:i + h, j:j + w] = value
    return img


__all__ = ["get_dimensions", "get_image_size", "get_image_num_channels", "hflip", "vflip", "crop", "pad",
           "resize", "rotate", "affine", "normalize", "rgb_to_grayscale", "convert_image_dtype",
           "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "gaussian_blur", "erase"]
