"""Image transforms on PIL images, as torchvision.transforms._functional_pil does them (with Pillow itself)."""
import numbers

import numpy as np

from ember.vision._pil import is_pil_image, require_pil


def _check(img):
    if not is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def get_dimensions(img):
    _check(img)
    channels = len(img.getbands())
    width, height = img.size
    return [channels, height, width]


def get_image_size(img):
    _check(img)
    return list(img.size)


def get_image_num_channels(img):
    _check(img)
    return len(img.getbands())


def hflip(img):
    _check(img)
    return img.transpose(require_pil().Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    _check(img)
    return img.transpose(require_pil().Transpose.FLIP_TOP_BOTTOM)


def crop(img, top, left, height, width):
    _check(img)
    return img.crop((left, top, left + width, top + height))


def _parse_fill(fill, img, name="fillcolor"):
    num_channels = get_image_num_channels(img)
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and num_channels > 1:
        fill = tuple([fill] * num_channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * num_channels
        elif len(fill) != num_channels:
            raise ValueError("The number of elements in 'fill' does not match the number of channels of the image "
                             f"({len(fill)} != {num_channels})")
        fill = tuple(fill)
    if img.mode != "F":
        if isinstance(fill, (list, tuple)):
            fill = tuple(int(x) for x in fill)
        else:
            fill = int(fill)
    return {name: fill}


def pad(img, padding, fill=0, padding_mode="constant"):
    _check(img)
    require_pil()
    from PIL import ImageOps
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, list):
        padding = tuple(padding)
    if isinstance(padding, tuple) and len(padding) not in [1, 2, 4]:
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if isinstance(padding, tuple) and len(padding) == 1:
        padding = padding[0]
    if padding_mode not in ["constant", "edge", "reflect", "symmetric"]:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")

    if padding_mode == "constant":
        opts = _parse_fill(fill, img, name="fill")
        if img.mode == "P":
            palette = img.getpalette()
            image = ImageOps.expand(img, border=padding, **opts)
            image.putpalette(palette)
            return image
        return ImageOps.expand(img, border=padding, **opts)

    if isinstance(padding, int):
        pad_left = pad_right = pad_top = pad_bottom = padding
    elif len(padding) == 2:
        pad_left = pad_right = padding[0]
        pad_top = pad_bottom = padding[1]
    else:
        pad_left, pad_top, pad_right, pad_bottom = padding
    p = [pad_left, pad_top, pad_right, pad_bottom]
    cropping = -np.minimum(p, 0)
    if cropping.any():
        crop_left, crop_top, crop_right, crop_bottom = (int(c) for c in cropping)
        img = img.crop((crop_left, crop_top, img.width - crop_right, img.height - crop_bottom))
    pad_left, pad_top, pad_right, pad_bottom = (int(v) for v in np.maximum(p, 0))

    if img.mode == "P":
        palette = img.getpalette()
        arr = np.asarray(img)
        arr = np.pad(arr, ((pad_top, pad_bottom), (pad_left, pad_right)), mode=padding_mode)
        out = _fromarray(arr, "P")
        out.putpalette(palette)
        return out
    mode = img.mode
    arr = np.asarray(img)
    if arr.ndim == 3:
        arr = np.pad(arr, ((pad_top, pad_bottom), (pad_left, pad_right), (0, 0)), padding_mode)
    else:
        arr = np.pad(arr, ((pad_top, pad_bottom), (pad_left, pad_right)), padding_mode)
    return _fromarray(arr, mode)


_UINT8_MODES = {"L", "P", "RGB", "RGBA", "CMYK", "RGBX", "YCbCr", "HSV", "LA", "LAB"}


def _fromarray(arr, mode):
    """A PIL image of `mode` from an (H, W) or (H, W, C) array, not relying on fromarray's mode argument."""
    Image = require_pil()
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if mode in _UINT8_MODES and arr.dtype == np.uint8:
        return Image.frombytes(mode, (w, h), arr.tobytes())
    if mode == "F" and arr.dtype == np.float32:
        return Image.frombytes("F", (w, h), arr.tobytes(), "raw", "F;32NF")
    if mode == "I" and arr.dtype == np.int32:
        return Image.frombytes("I", (w, h), arr.tobytes(), "raw", "I;32NS")
    if mode in ("I;16", "I;16B") and arr.dtype.itemsize == 2 and arr.dtype.kind in "iu":
        raw = arr.astype("<u2" if mode == "I;16" else ">u2").tobytes()
        return Image.frombytes(mode, (w, h), raw)
    out = Image.fromarray(arr)
    if mode is not None and out.mode != mode:
        out = out.convert(mode)
    return out


def resize(img, size, interpolation):
    _check(img)
    if not (isinstance(size, (list, tuple)) and len(size) == 2):
        raise TypeError(f"Got inappropriate size arg: {size}")
    return img.resize(tuple(int(s) for s in size[::-1]), interpolation)


def rotate(img, angle, interpolation=0, expand=False, center=None, fill=None):
    _check(img)
    opts = _parse_fill(fill, img)
    return img.rotate(angle, interpolation, expand, center, **opts)


def affine(img, matrix, interpolation=0, fill=None):
    _check(img)
    Image = require_pil()
    output_size = img.size
    opts = _parse_fill(fill, img)
    return img.transform(output_size, Image.Transform.AFFINE, matrix, interpolation, **opts)


def to_grayscale(img, num_output_channels):
    _check(img)
    if num_output_channels == 1:
        return img.convert("L")
    if num_output_channels == 3:
        arr = np.array(img.convert("L"), dtype=np.uint8)
        return _fromarray(np.dstack([arr, arr, arr]), "RGB")
    raise ValueError("num_output_channels should be either 1 or 3")


def adjust_brightness(img, brightness_factor):
    _check(img)
    from PIL import ImageEnhance
    return ImageEnhance.Brightness(img).enhance(brightness_factor)


def adjust_contrast(img, contrast_factor):
    _check(img)
    from PIL import ImageEnhance
    return ImageEnhance.Contrast(img).enhance(contrast_factor)


def adjust_saturation(img, saturation_factor):
    _check(img)
    from PIL import ImageEnhance
    return ImageEnhance.Color(img).enhance(saturation_factor)


def adjust_hue(img, hue_factor):
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _check(img)
    Image = require_pil()
    input_mode = img.mode
    if input_mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    # uint8 addition wraps around, which is the rotation of the hue circle
    np_h += np.array(np.int32(hue_factor * 255)).astype(np.uint8)
    h = Image.fromarray(np_h, "L")
    return Image.merge("HSV", (h, s, v)).convert(input_mode)
