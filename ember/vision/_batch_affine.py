"""Random affine transforms of a whole batch of images at once, in NumPy (the `ember train` augmentation).

Per-image PIL transforms in DataLoader workers would compete with training for the CPU cores; here one
batch N×C×H×W is warped in a few array operations: each image gets its own rotation, scale and shift,
drawn from a seeded generator, and is resampled bilinearly (as torchvision's RandomAffine with
InterpolationMode.BILINEAR). Pixels that come from outside the image take `fill` (MNIST's background).

Conventions (torchvision's): a positive angle turns the image counter-clockwise as displayed (rows go
down), the rotation and scaling are about the image centre ((W-1)/2, (H-1)/2), and a shift (dx, dy) moves
the content dx pixels right and dy pixels down.
"""
import numpy as np


def affine_batch(images, angles, scales, shifts, fill=0.0):
    """Warp each image of `images` (float array N×C×H×W) by its own angle (degrees), scale and (dx, dy)
    shift; returns a new float32 array of the same shape."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"affine_batch: expected images of shape N×C×H×W, got {images.shape}")
    n, c, h, w = images.shape
    angles = np.broadcast_to(np.asarray(angles, dtype=np.float64), (n,))
    scales = np.broadcast_to(np.asarray(scales, dtype=np.float64), (n,))
    shifts = np.broadcast_to(np.asarray(shifts, dtype=np.float64), (n, 2))
    if np.any(scales <= 0):
        raise ValueError(f"affine_batch: scales must be positive, got {scales.min()}")
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    # each output pixel reads the input where the inverse transform sends it
    theta = np.deg2rad(angles)[:, None, None]
    cos, sin, s = np.cos(theta), np.sin(theta), scales[:, None, None]
    u = np.arange(w, dtype=np.float64)[None, None, :] - cx - shifts[:, 0, None, None]
    v = np.arange(h, dtype=np.float64)[None, :, None] - cy - shifts[:, 1, None, None]
    src_x = (cos * u - sin * v) / s + cx
    src_y = (sin * u + cos * v) / s + cy
    return _bilinear(images, src_x, src_y, fill)


def _bilinear(images, src_x, src_y, fill):
    """Sample images (N×C×H×W) at (src_x, src_y) (each N×H×W) bilinearly; outside reads `fill`."""
    n, c, h, w = images.shape
    x0 = np.floor(src_x).astype(np.int64)
    y0 = np.floor(src_y).astype(np.int64)
    fx = (src_x - x0).astype(np.float32)
    fy = (src_y - y0).astype(np.float32)
    # work on (image - fill) so that a neighbour outside the image simply contributes nothing
    flat = (images - np.float32(fill)).reshape(n, c, h * w)
    out = np.zeros((n, c, h, w), np.float32)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            xi, yi = x0 + dx, y0 + dy
            inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            weight = np.where(inside, wx * wy, np.float32(0))
            index = (np.clip(yi, 0, h - 1) * w + np.clip(xi, 0, w - 1)).reshape(n, 1, h * w)
            picked = np.take_along_axis(flat, np.broadcast_to(index, (n, c, h * w)), axis=2)
            out += picked.reshape(n, c, h, w) * weight[:, None]
    out += np.float32(fill)
    return out


def random_affine_batch(images, rng, degrees=10.0, translate=2.0, scale=(0.9, 1.1), fill=0.0):
    """`affine_batch` with parameters drawn per image from `rng` (a numpy Generator): an angle uniform in
    ±degrees, a shift uniform in ±translate pixels on each axis, a scale uniform in `scale`."""
    n = images.shape[0]
    angles = rng.uniform(-degrees, degrees, n)
    shifts = rng.uniform(-translate, translate, (n, 2))
    scales = rng.uniform(scale[0], scale[1], n)
    return affine_batch(images, angles, scales, shifts, fill)
