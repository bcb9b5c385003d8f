"""ember.vision.transforms: torchvision.transforms for PIL images and ember tensors."""
from ember.vision.transforms import functional  # noqa: F401
from ember.vision.transforms.transforms import *  # noqa: F401,F403
from ember.vision.transforms.transforms import __all__ as _all
from ember.vision.transforms.functional import InterpolationMode  # noqa: F401

__all__ = list(_all) + ["functional"]
