"""torchvision.io.image through Pillow: images are uint8 tensors laid out (C, H, W).

torchvision decodes with libpng/libjpeg; Pillow wraps the same libraries, so PNG pixels are identical and
JPEG pixels agree up to the decoder's rounding (both use libjpeg's default integer IDCT).
"""
import io as _bytes_io
import os
from enum import Enum

import numpy as np

from ember.backend import dtypes as _dt
from ember.creation import from_numpy
from ember.tensor import Tensor
from ember.vision._pil import require_pil

__all__ = ["ImageReadMode", "decode_image", "decode_jpeg", "decode_png", "encode_jpeg", "encode_png", "read_file",
           "read_image", "write_file", "write_jpeg", "write_png"]


class ImageReadMode(Enum):
    """How decode_image converts the decoded image: keep its channels, or convert to gray / RGB (± alpha)."""
    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


# Pillow mode for each conversion, and the mode an "unchanged" image is brought to (what libpng/libjpeg give)
_PIL_MODE = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
             ImageReadMode.RGB_ALPHA: "RGBA"}
_UNCHANGED = {"1": "L", "L": "L", "LA": "LA", "RGB": "RGB", "RGBA": "RGBA", "CMYK": "RGB", "YCbCr": "RGB",
              "I;16": "I;16", "I": "I"}


def _mode(mode):
    if isinstance(mode, str):
        try:
            return ImageReadMode[mode.upper()]
        except KeyError:
            raise ValueError(f"Unknown image mode {mode!r}: expected one of "
                             f"{', '.join(m.name for m in ImageReadMode)}") from None
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"mode should be an ImageReadMode or a str, got {type(mode).__name__}")
    return mode


def read_file(path):
    """The file's bytes as a 1-D uint8 tensor."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise RuntimeError(f"[Errno 2] No such file or directory: '{path}'")
    with open(path, "rb") as f:
        data = np.frombuffer(f.read(), dtype=np.uint8).copy()
    return from_numpy(data)


def write_file(filename, data):
    """Write a 1-D uint8 tensor's bytes to `filename`."""
    _check_bytes_tensor(data, "data")
    with open(os.fspath(filename), "wb") as f:
        f.write(np.asarray(data._data).tobytes())


def _check_bytes_tensor(data, what):
    if not isinstance(data, Tensor):
        raise TypeError(f"Expected a torch.Tensor for {what}, got {type(data).__name__}")
    if data.dtype != _dt.uint8:
        raise RuntimeError(f"Expected a torch.uint8 tensor for {what}, got {data.dtype}")
    if data.ndim != 1:
        raise RuntimeError(f"Expected a one dimensional tensor for {what}, got {data.ndim} dims")


def _open(data, source, formats=None):
    Image = require_pil()
    try:
        img = Image.open(_bytes_io.BytesIO(np.asarray(data._data).tobytes()), formats=formats)
        img.load()
    except Exception as e:  # Pillow raises UnidentifiedImageError, OSError, SyntaxError... for bad bytes
        what = "/".join(f.lower() for f in formats) if formats else "image"
        raise RuntimeError(f"{source}: not a readable {what} file (corrupt or unsupported: {e})") from None
    return img


def _to_tensor(img, mode, apply_exif_orientation):
    if apply_exif_orientation:
        from PIL import ImageOps
        img = ImageOps.exif_transpose(img)
    if mode is ImageReadMode.UNCHANGED:
        if img.mode == "P":
            target = "RGBA" if "transparency" in img.info else "RGB"
        elif img.mode == "PA":
            target = "RGBA"
        else:
            target = _UNCHANGED.get(img.mode, "RGB")
    else:
        target = _PIL_MODE[mode]
    if img.mode != target:
        img = img.convert(target)
    arr = np.asarray(img)
    if arr.dtype == np.uint16 or img.mode in ("I;16", "I"):  # 16-bit PNGs: ember has no uint16
        arr = arr.astype(np.int32)
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode a PNG/JPEG/GIF/WebP/BMP/TIFF (bytes in a 1-D uint8 tensor, or a path) to a (C, H, W) uint8 tensor."""
    mode = _mode(mode)
    source = "image data"
    if not isinstance(input, Tensor):
        source = os.fspath(input)
        input = read_file(input)
    _check_bytes_tensor(input, "input")
    return _to_tensor(_open(input, source), mode, apply_exif_orientation)


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Read an image file into a (C, H, W) uint8 tensor; a corrupt file raises RuntimeError naming it."""
    mode = _mode(mode)
    data = read_file(path)
    return _to_tensor(_open(data, os.fspath(path)), mode, apply_exif_orientation)


def decode_png(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    _check_bytes_tensor(input, "input")
    return _to_tensor(_open(input, "image data", formats=["PNG"]), _mode(mode), apply_exif_orientation)


def decode_jpeg(input, mode=ImageReadMode.UNCHANGED, device="cpu", apply_exif_orientation=False):
    _check_bytes_tensor(input, "input")
    return _to_tensor(_open(input, "image data", formats=["JPEG"]), _mode(mode), apply_exif_orientation)


def _pil_from_chw(input, allowed_channels, what):
    Image = require_pil()
    if not isinstance(input, Tensor):
        raise TypeError(f"Expected a torch.Tensor for input, got {type(input).__name__}")
    if input.dtype != _dt.uint8:
        raise RuntimeError(f"Input tensor dtype should be uint8, got {input.dtype}")
    if input.ndim != 3:
        raise RuntimeError(f"Input data should be a 3-dimensional tensor, got {input.ndim} dims")
    channels = input.shape[0]
    if channels not in allowed_channels:
        raise RuntimeError(f"The number of channels should be {' or '.join(map(str, allowed_channels))}, "
                           f"got: {channels} (input of shape {tuple(input.shape)}, {what})")
    arr = np.ascontiguousarray(np.asarray(input.detach()._data).transpose(1, 2, 0))
    return Image.fromarray(arr[:, :, 0] if channels == 1 else arr, {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[channels])


def encode_png(input, compression_level=6):
    """A (C, H, W) uint8 tensor (C = 1, 2, 3 or 4) encoded as PNG bytes in a 1-D uint8 tensor."""
    if not isinstance(compression_level, int) or not 0 <= compression_level <= 9:
        raise RuntimeError(f"Compression level should be between 0 and 9, got {compression_level}")
    img = _pil_from_chw(input, (1, 2, 3, 4), "PNG")
    buf = _bytes_io.BytesIO()
    img.save(buf, format="PNG", compress_level=compression_level)
    return from_numpy(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def write_png(input, filename, compression_level=6):
    """Write a (C, H, W) uint8 tensor to `filename` as PNG."""
    write_file(filename, encode_png(input, compression_level))


def encode_jpeg(input, quality=75):
    """A (C, H, W) uint8 tensor (C = 1 or 3) encoded as JPEG bytes in a 1-D uint8 tensor."""
    if isinstance(input, (list, tuple)):
        return [encode_jpeg(i, quality) for i in input]
    if not 1 <= quality <= 100:
        raise ValueError(f"Image quality should be a positive number between 1 and 100, got {quality}")
    img = _pil_from_chw(input, (1, 3), "JPEG")
    buf = _bytes_io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return from_numpy(np.frombuffer(buf.getvalue(), dtype=np.uint8).copy())


def write_jpeg(input, filename, quality=75):
    """Write a (C, H, W) uint8 tensor to `filename` as JPEG."""
    write_file(filename, encode_jpeg(input, quality))
