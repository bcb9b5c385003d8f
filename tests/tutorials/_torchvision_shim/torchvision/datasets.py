"""torchvision.datasets.MNIST / FashionMNIST for the tests' PyTorch runs (see __init__.py)."""
import warnings

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset


class MNIST(Dataset):
    """torchvision.datasets.MNIST: data (N, 28, 28) uint8, targets (N,) int64, items (PIL image, int)."""

    _ember_class = "MNIST"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        from ember.vision import datasets as ember_datasets
        source = getattr(ember_datasets, self._ember_class)(root, train=train, download=download)
        self.root = source.root
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.data = torch.from_numpy(np.array(source.data.numpy(), dtype=np.uint8))
        self.targets = torch.from_numpy(np.array(source.targets.numpy(), dtype=np.int64))

    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets")
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets")
        return self.targets

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data")
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data")
        return self.data

    def __getitem__(self, index):
        img, target = self.data[index], int(self.targets[index])
        img = Image.fromarray(img.numpy(), mode="L")
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)


class FashionMNIST(MNIST):
    _ember_class = "FashionMNIST"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
