"""ember.vision.datasets: torchvision.datasets' MNIST family, read from the standard IDX files."""
from ember.vision.datasets.vision import VisionDataset, StandardTransform  # noqa: F401
from ember.vision.datasets.mnist import MNIST, FashionMNIST, KMNIST  # noqa: F401
from ember.vision.datasets.idx import IDXFormatError, read_idx, write_idx  # noqa: F401
from ember.vision.datasets.utils import IntegrityError  # noqa: F401

__all__ = ["VisionDataset", "StandardTransform", "MNIST", "FashionMNIST", "KMNIST", "IDXFormatError",
           "IntegrityError", "read_idx", "write_idx"]
