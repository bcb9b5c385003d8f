"""ember.vision.datasets: torchvision.datasets' MNIST family (IDX files), CIFAR-10/100, ImageFolder, FakeData."""
from ember.vision.datasets.vision import VisionDataset, StandardTransform  # noqa: F401
from ember.vision.datasets.mnist import MNIST, FashionMNIST, KMNIST  # noqa: F401
from ember.vision.datasets.idx import IDXFormatError, read_idx, write_idx  # noqa: F401
from ember.vision.datasets.utils import IntegrityError  # noqa: F401
from ember.vision.datasets.folder import DatasetFolder, ImageFolder  # noqa: F401
from ember.vision.datasets.cifar import CIFAR10, CIFAR100  # noqa: F401
from ember.vision.datasets.fakedata import FakeData  # noqa: F401

__all__ = ["VisionDataset", "StandardTransform", "MNIST", "FashionMNIST", "KMNIST", "IDXFormatError",
           "IntegrityError", "read_idx", "write_idx", "DatasetFolder", "ImageFolder", "CIFAR10", "CIFAR100", "FakeData"]
