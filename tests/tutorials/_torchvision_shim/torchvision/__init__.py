"""A stand-in for torchvision, for the tutorial tests' PyTorch runs only (torchvision is not installed).

The MNIST tutorials use `torchvision.datasets.MNIST` / `FashionMNIST` and `torchvision.transforms`
(ToTensor, Normalize, Compose, Resize). This package provides just those, with torchvision's
behaviour, so that a tutorial program's text can run unchanged under real PyTorch:

  datasets    the IDX files are read (and downloaded, with the MNIST fallback) by ember.vision's
              dataset classes; their arrays are handed to PyTorch through NumPy, and items are
              PIL images of mode 'L' as in torchvision.
  transforms  written here on PIL / NumPy / torch directly (not through ember), so that the
              reference run does not depend on the ember code under test.

tests/tutorials/test_tutorial_mnist.py puts the parent folder on sys.path only while a program
runs under PyTorch.
"""
from torchvision import datasets, transforms  # noqa: F401

__version__ = "0.0+ember-test-shim"
