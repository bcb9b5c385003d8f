"""torchvision.transforms' ToTensor, Normalize, Compose, Resize for the tests' PyTorch runs.

Written on PIL / NumPy / torch as torchvision does it (see __init__.py).
"""
import numbers

import numpy as np
import torch
from PIL import Image


class Compose:
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return self.__class__.__name__ + "(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class ToTensor:
    """PIL image (H, W[, C]) uint8 -> float32 tensor (C, H, W) in [0, 1]."""

    def __call__(self, pic):
        if isinstance(pic, np.ndarray):
            arr = pic if pic.ndim == 3 else pic[:, :, None]
        else:
            arr = np.array(pic, copy=True)
            if arr.ndim == 2:
                arr = arr[:, :, None]
        img = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
        if img.dtype == torch.uint8:
            return img.to(torch.float32).div(255)
        return img

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(tensor - mean) / std per channel; mean and std are numbers or sequences."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        mean = torch.as_tensor(self.mean, dtype=tensor.dtype)
        std = torch.as_tensor(self.std, dtype=tensor.dtype)
        if mean.ndim == 1:
            mean = mean.view(-1, 1, 1)
        if std.ndim == 1:
            std = std.view(-1, 1, 1)
        if not self.inplace:
            tensor = tensor.clone()
        return tensor.sub_(mean).div_(std)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Resize:
    """Resize a PIL image: an int size sets the smaller edge (aspect ratio kept), (h, w) sets both."""

    def __init__(self, size, interpolation=Image.BILINEAR, max_size=None, antialias=True):
        self.size, self.interpolation, self.max_size, self.antialias = size, interpolation, max_size, antialias

    def __call__(self, img):
        w, h = img.size
        if isinstance(self.size, numbers.Number) or len(self.size) == 1:
            size = self.size if isinstance(self.size, numbers.Number) else self.size[0]
            short, long = (w, h) if w <= h else (h, w)
            new_short, new_long = size, int(size * long / short)
            new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
        else:
            new_h, new_w = self.size
        if (new_w, new_h) == (w, h):
            return img
        return img.resize((new_w, new_h), self.interpolation)

    def __repr__(self):
        return f"Resize(size={self.size}, interpolation=bilinear, max_size={self.max_size}, antialias={self.antialias})"
