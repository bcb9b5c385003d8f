"""torchvision.utils' image helpers: make_grid (a batch of images tiled into one) and save_image."""
import math

import numpy as np

from ember.creation import from_numpy
from ember.tensor import Tensor
from ember.vision._pil import require_pil

__all__ = ["make_grid", "save_image"]


def _as_batch(tensor):
    """list of (C, H, W) / (H, W) / (C, H, W) / (B, C, H, W) -> a float or integer (B, 3|C, H, W) ndarray."""
    if not isinstance(tensor, Tensor):
        if isinstance(tensor, list):
            for t in tensor:
                if not isinstance(t, Tensor):
                    raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
            arr = np.stack([np.asarray(t.detach()._data) for t in tensor], axis=0)
        else:
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    else:
        arr = np.asarray(tensor.detach()._data)
    if arr.ndim == 2:  # a single image H x W
        arr = arr[None]
    if arr.ndim == 3:  # a single image C x H x W: gray becomes RGB
        if arr.shape[0] == 1:
            arr = np.concatenate((arr, arr, arr), 0)
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[1] == 1:  # a batch of gray images becomes RGB
        arr = np.concatenate((arr, arr, arr), 1)
    if arr.ndim != 4:
        raise ValueError(f"make_grid expects 2, 3 or 4 dimensional images, got a tensor of shape {arr.shape}")
    return arr


def _normalize(arr, value_range, scale_each):
    arr = arr.copy()
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")

    def norm_range(a):
        low, high = value_range if value_range is not None else (float(a.min()), float(a.max()))
        np.clip(a, low, high, out=a)
        a -= low
        a /= max(high - low, 1e-5)

    if scale_each:
        for a in arr:
            norm_range(a)
    else:
        norm_range(arr)
    return arr


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile a batch of images (B, C, H, W) into one (3|C, rows*(H+padding)+padding, ...) image, `nrow` per row."""
    arr = _as_batch(tensor)
    if normalize is True:
        arr = _normalize(arr.astype(np.result_type(arr.dtype, np.float32)) if arr.dtype.kind != "f" else arr,
                         value_range, scale_each)
    if arr.shape[0] == 1:
        return from_numpy(np.ascontiguousarray(arr[0]))
    nmaps = arr.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(arr.shape[2] + padding), int(arr.shape[3] + padding)
    grid = np.full((arr.shape[1], height * ymaps + padding, width * xmaps + padding), pad_value, dtype=arr.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = arr[k]
    return from_numpy(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """make_grid(tensor, **kwargs) saved through Pillow; float values in [0, 1] map to 0..255 (rounded)."""
    Image = require_pil()
    grid = np.asarray(make_grid(tensor, **kwargs)._data)
    ndarr = np.clip(grid * 255 + 0.5, 0, 255).transpose(1, 2, 0).astype(np.uint8)
    im = Image.fromarray(ndarr)
    im.save(fp, format=format)
