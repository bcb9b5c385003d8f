"""torchvision's CIFAR10 / CIFAR100, read from the official "python version" archives.

Layout (as torchvision): root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta} and
root/cifar-100-python/{train, test, meta}, extracted from root/cifar-10-python.tar.gz /
root/cifar-100-python.tar.gz. Every file is checked against the MD5 torchvision lists.

The batches are Python pickles. Unpickling can run arbitrary code, so ember reads them with a restricted
unpickler that resolves only what these files contain - NumPy's array reconstruction (ndarray, dtype,
_reconstruct) - and refuses any other global with pickle.UnpicklingError naming the file. Archives are
extracted member by member, only regular files under the expected folder (no links, no absolute or '..' paths).

download=True fetches the archive (short timeout, MD5-checked); otherwise a missing archive gives a message
saying where to put it. An archive already in root is extracted without download=True.
"""
import os
import pickle
import shutil
import tarfile

import numpy as np

from ember.vision._pil import require_pil
from ember.vision.datasets.utils import (IntegrityError, MirrorUnreachable, atomic_write, check_integrity,
                                         download_url)
from ember.vision.datasets.vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100"]

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("_codecs", "encode"),  # how Python 3 writes bytes at protocol 2 (re-pickled batches); it only encodes a str
}


class _ArrayUnpickler(pickle.Unpickler):
    def __init__(self, f, path):
        super().__init__(f, encoding="latin1")
        self._path = path

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{self._path}: refusing to load global '{module}.{name}' (a CIFAR batch "
                                     f"holds only dicts, lists, strings and NumPy arrays)")


def _load_batch(path):
    with open(path, "rb") as f:
        try:
            entry = _ArrayUnpickler(f, path).load()
        except pickle.UnpicklingError:
            raise
        except Exception as e:  # truncated or garbled file
            raise IntegrityError(f"corrupt CIFAR file {path}: {type(e).__name__}: {e}") from None
    if not isinstance(entry, dict):
        raise IntegrityError(f"corrupt CIFAR file {path}: expected a dict, got {type(entry).__name__}")
    return entry


class CIFAR10(VisionDataset):
    """CIFAR-10: 60000 32x32 colour images in 10 classes (50000 train, 10000 test). Items are (PIL image, int)."""

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    #: seconds before a download attempt gives up (the mirror is often unreachable from offline machines)
    download_timeout = 10.0

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        elif not self._check_integrity() and os.path.isfile(self._archive_path()):
            self._extract()
        if not self._check_integrity():
            raise RuntimeError(self._not_found_message())
        self.data = []
        self.targets = []
        for file_name, _ in self.train_list if self.train else self.test_list:
            path = os.path.join(self.root, self.base_folder, file_name)
            entry = _load_batch(path)
            try:
                self.data.append(entry["data"])
                self.targets.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
            except KeyError as e:
                raise IntegrityError(f"corrupt CIFAR file {path}: no {e} entry") from None
        self.data = np.vstack(self.data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))  # to (N, H, W, C)
        self._load_meta()

    def _archive_path(self):
        return os.path.join(self.root, self.filename)

    def _not_found_message(self):
        folder = os.path.join(self.root, self.base_folder)
        return (f"Dataset not found or corrupted. You can use download=True to download it, or download "
                f"{self.url} yourself and put it at {self._archive_path()} (it is checked against MD5 "
                f"{self.tgz_md5} and extracted into {folder})")

    def _load_meta(self):
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        if not check_integrity(path, self.meta["md5"]):
            raise RuntimeError(f"Dataset metadata file not found or corrupted. You can use download=True to "
                               f"download it ({path})")
        self.classes = _load_batch(path)[self.meta["key"]]
        self.class_to_idx = {_class: i for i, _class in enumerate(self.classes)}

    def __getitem__(self, index):
        """(image, target): a 32x32 RGB PIL image (after transform) and the int class index."""
        Image = require_pil()
        img, target = self.data[index], self.targets[index]
        img = Image.fromarray(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def _check_integrity(self):
        for filename, md5 in self.train_list + self.test_list + [[self.meta["filename"], self.meta["md5"]]]:
            if not check_integrity(os.path.join(self.root, self.base_folder, filename), md5):
                return False
        return True

    def download(self):
        if self._check_integrity():
            return
        archive = self._archive_path()
        if not check_integrity(archive, self.tgz_md5):
            try:
                download_url(self.url, archive, md5=self.tgz_md5, timeout=self.download_timeout)
            except (MirrorUnreachable, IntegrityError, OSError) as e:
                raise RuntimeError(f"Error downloading {self.url}: {e}\n{self._not_found_message()}") from None
        self._extract()

    def _extract(self):
        """Unpack the verified archive's regular files under base_folder into root, via a temporary folder."""
        archive = self._archive_path()
        if not check_integrity(archive, self.tgz_md5):
            raise IntegrityError(f"{archive} does not match the MD5 of {self.filename} ({self.tgz_md5}): the file "
                                 f"is corrupt or not the official archive; delete it and download it again")
        final = os.path.join(self.root, self.base_folder)
        staging = final + ".part"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    parts = member.name.split("/")
                    if not member.isfile() or len(parts) != 2 or parts[0] != self.base_folder or parts[1] in ("", ".",
                                                                                                              ".."):
                        continue
                    src = tar.extractfile(member)
                    with src, atomic_write(os.path.join(staging, parts[1])) as dst:
                        shutil.copyfileobj(src, dst)
        except (tarfile.TarError, EOFError, OSError) as e:
            shutil.rmtree(staging, ignore_errors=True)
            raise IntegrityError(f"corrupt archive {archive}: {e}") from None
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)

    def extra_repr(self):
        split = "Train" if self.train is True else "Test"
        return f"Split: {split}"


class CIFAR100(CIFAR10):
    """CIFAR-100: like CIFAR-10 with 100 classes ("fine" labels)."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
