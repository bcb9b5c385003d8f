"""ImageFolder/DatasetFolder, CIFAR10/100 and FakeData on folders and archives the tests build themselves
(torchvision's layouts, file names and MD5 lists; the MD5s are swapped for those of the small test files)."""
import hashlib
import io
import os
import pickle
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

import ember
from ember.vision import datasets, transforms
from ember.vision.datasets import CIFAR10, CIFAR100, DatasetFolder, FakeData, ImageFolder
from ember.vision.datasets import folder as folder_mod


# ------------------------------------------------------------------ folders

def _tree(root):
    rng = np.random.default_rng(0)
    files = {"cat": ["b.png", "a.jpg", "sub/c.PNG", "notes.txt"], "dog": ["z.bmp"], "empty": []}
    for cls, names in files.items():
        (root / cls).mkdir(parents=True)
        for name in names:
            path = root / cls / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if name.endswith(".txt"):
                path.write_text("not an image")
            else:
                Image.fromarray(rng.integers(0, 256, (4, 6, 3), dtype=np.uint8)).save(path)
    (root / "README").write_text("a file at the top is not a class")
    return root


def test_image_folder_layout_and_items(tmp_path):
    root = _tree(tmp_path / "data")
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty. Supported extensions are: "
                                                ".jpg, .jpeg, .png"):
        ImageFolder(str(root))
    ds = ImageFolder(str(root), allow_empty=True, transform=transforms.ToTensor())
    assert ds.classes == ["cat", "dog", "empty"] and ds.class_to_idx == {"cat": 0, "dog": 1, "empty": 2}
    rel = [(os.path.relpath(p, root), t) for p, t in ds.samples]
    assert rel == [("cat/a.jpg", 0), ("cat/b.png", 0), ("cat/sub/c.PNG", 0), ("dog/z.bmp", 1)]
    assert ds.targets == [0, 0, 0, 1] and ds.imgs is ds.samples and len(ds) == 4
    x, y = ds[1]
    np.testing.assert_allclose(x.numpy(), np.asarray(Image.open(root / "cat" / "b.png")).transpose(2, 0, 1) / 255,
                               atol=1e-6)
    assert y == 0
    assert "Dataset ImageFolder\n    Number of datapoints: 4\n    Root location: " in repr(ds)
    assert "ToTensor()" in repr(ds)


def test_dataset_folder_loader_extensions_and_is_valid_file(tmp_path):
    root = _tree(tmp_path / "data")
    ds = DatasetFolder(str(root), loader=lambda p: open(p).read(), extensions=".txt", allow_empty=True)
    assert [os.path.basename(p) for p, _ in ds.samples] == ["notes.txt"] and ds[0] == ("not an image", 0)
    assert ds.extensions == ".txt"
    ds = ImageFolder(str(root), is_valid_file=lambda p: p.endswith(".bmp"), allow_empty=True,
                     target_transform=lambda t: t * 10)
    assert [t for _, t in ds.samples] == [1] and ds[0][1] == 10 and ds[0][0].mode == "RGB"
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        DatasetFolder(str(root), loader=print)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        DatasetFolder(str(root), loader=print, extensions=".png", is_valid_file=bool)
    assert folder_mod.find_classes(str(root)) == (["cat", "dog", "empty"], {"cat": 0, "dog": 1, "empty": 2})
    only_dog = folder_mod.make_dataset(str(root), {"dog": 0}, extensions=("bmp",))
    assert [os.path.basename(p) for p, _ in only_dog] == ["z.bmp"]
    with pytest.raises(ValueError, match="The class_to_idx parameter cannot be None."):
        DatasetFolder.make_dataset(str(root), None, extensions=".png")
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in"):
        ImageFolder(str(root / "dog"))
    assert folder_mod.has_file_allowed_extension("X.JPEG", (".jpeg",)) and folder_mod.is_image_file("a.webp")

    class Flat(DatasetFolder):  # find_classes can be overridden, as in torchvision
        def find_classes(self, directory):
            return ["dog"], {"dog": 7}

    assert Flat(str(root), loader=str, extensions=".bmp").targets == [7]


def test_corrupt_image_error_names_the_file(tmp_path):
    root = tmp_path / "d"
    (root / "a").mkdir(parents=True)
    (root / "a" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(root / "a" / "trunc.jpg")
    data = (root / "a" / "trunc.jpg").read_bytes()
    (root / "a" / "trunc.jpg").write_bytes(data[:len(data) // 2])
    ds = ImageFolder(str(root))
    with pytest.raises(OSError, match="bad.png"):
        ds[0]
    with pytest.raises(OSError, match="trunc.jpg"):
        ds[1]


# ------------------------------------------------------------------ CIFAR

def _batch(n, seed, fine=False):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, n).tolist()
    entry = {"batch_label": "testing batch", "data": data, "filenames": [f"img{i}.png" for i in range(n)]}
    entry["fine_labels" if fine else "labels"] = labels
    if fine:
        entry["coarse_labels"] = [0] * n
    return pickle.dumps(entry, protocol=2), data, labels


def _archive(root, base, members):
    path = root / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(f"{base}/{name}" if not name.startswith("/") else name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def _md5(b):
    return hashlib.md5(b).hexdigest()


@pytest.fixture
def cifar10_small(tmp_path, monkeypatch):
    """A CIFAR-10-shaped archive (two train batches, one test batch, meta) with the class MD5s patched."""
    b1, d1, l1 = _batch(3, 1)
    b2, d2, l2 = _batch(2, 2)
    bt, dt, lt = _batch(4, 3)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    meta = pickle.dumps({"num_cases_per_batch": 10000, "label_names": names, "num_vis": 3072}, protocol=2)
    # as in the real archive, the members live under cifar-10-batches-py/
    archive = _archive(tmp_path, "cifar-10-batches-py", {"data_batch_1": b1, "data_batch_2": b2, "test_batch": bt,
                                                         "batches.meta": meta, "readme.html": b"<html/>"})
    os.replace(archive, tmp_path / "cifar-10-python.tar.gz")
    monkeypatch.setattr(CIFAR10, "train_list", [["data_batch_1", _md5(b1)], ["data_batch_2", _md5(b2)]])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", _md5(bt)]])
    monkeypatch.setattr(CIFAR10, "meta", {"filename": "batches.meta", "key": "label_names", "md5": _md5(meta)})
    monkeypatch.setattr(CIFAR10, "tgz_md5", _md5((tmp_path / "cifar-10-python.tar.gz").read_bytes()))
    return tmp_path, np.vstack([d1, d2]), l1 + l2, dt, lt, names


def test_cifar10_reads_the_python_batches(cifar10_small):
    root, train_data, train_labels, test_data, test_labels, names = cifar10_small
    ds = CIFAR10(str(root), train=True)  # the archive is in root: extracted without download=True
    assert (root / "cifar-10-batches-py" / "data_batch_1").is_file()
    assert (root / "cifar-10-batches-py" / "readme.html").read_bytes() == b"<html/>"
    assert len(ds) == 5 and ds.targets == train_labels and ds.classes == names and ds.class_to_idx["cat"] == 3
    assert ds.data.shape == (5, 32, 32, 3) and ds.data.dtype == np.uint8
    img, y = ds[4]
    assert img.mode == "RGB" and img.size == (32, 32) and y == train_labels[4]
    # the python batches store each image as 1024 red, then 1024 green, then 1024 blue bytes, row-major
    np.testing.assert_array_equal(np.asarray(img), train_data[4].reshape(3, 32, 32).transpose(1, 2, 0))
    test = CIFAR10(str(root), train=False, transform=transforms.ToTensor())
    assert len(test) == 4 and test.targets == test_labels and tuple(test[0][0].shape) == (3, 32, 32)
    assert repr(test).startswith("Dataset CIFAR10\n    Number of datapoints: 4\n    Root location: ")
    assert "    Split: Test\n" in repr(test)


def test_cifar100_fine_labels(tmp_path, monkeypatch):
    btr, dtr, ltr = _batch(3, 4, fine=True)
    bte, _, _ = _batch(2, 5, fine=True)
    meta = pickle.dumps({"fine_label_names": [f"c{i}" for i in range(100)], "coarse_label_names": ["x"]}, protocol=2)
    archive = _archive(tmp_path, "cifar-100-python", {"train": btr, "test": bte, "meta": meta})
    monkeypatch.setattr(CIFAR100, "train_list", [["train", _md5(btr)]])
    monkeypatch.setattr(CIFAR100, "test_list", [["test", _md5(bte)]])
    monkeypatch.setattr(CIFAR100, "meta", {"filename": "meta", "key": "fine_label_names", "md5": _md5(meta)})
    monkeypatch.setattr(CIFAR100, "tgz_md5", _md5(archive.read_bytes()))
    ds = CIFAR100(str(tmp_path))
    assert ds.targets == ltr and len(ds.classes) == 100 and ds.data.shape == (3, 32, 32, 3)


def test_cifar_official_names_and_md5s():
    assert CIFAR10.filename == "cifar-10-python.tar.gz" and CIFAR10.tgz_md5 == "c58f30108f718f92721af3b95e74349a"
    assert CIFAR10.base_folder == "cifar-10-batches-py" and CIFAR10.train_list[0] == [
        "data_batch_1", "c99cafc152244af753f735de768cd75f"]
    assert CIFAR100.base_folder == "cifar-100-python" and CIFAR100.test_list == [
        ["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]


def test_cifar_missing_archive_says_where_to_put_it(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError) as info:
        CIFAR10(str(tmp_path))
    msg = str(info.value)
    assert "download=True" in msg and CIFAR10.url in msg
    assert os.path.join(str(tmp_path), "cifar-10-python.tar.gz") in msg
    # download=True against an unreachable mirror fails fast with the same advice, leaving nothing behind
    monkeypatch.setattr(CIFAR10, "url", "http://127.0.0.1:9/cifar-10-python.tar.gz")
    monkeypatch.setattr(CIFAR10, "download_timeout", 2.0)
    with pytest.raises(RuntimeError, match="(?s)Error downloading http://127.0.0.1:9/.*put it at"):
        CIFAR10(str(tmp_path), download=True)
    assert os.listdir(tmp_path) == []


def test_cifar_download_from_a_mirror(cifar10_small, tmp_path_factory, monkeypatch):
    root = cifar10_small[0]
    served = tmp_path_factory.mktemp("mirror")
    os.replace(root / "cifar-10-python.tar.gz", served / "cifar-10-python.tar.gz")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(CIFAR10, "url", f"http://127.0.0.1:{server.server_address[1]}/cifar-10-python.tar.gz")
        ds = CIFAR10(str(root), download=True)
    finally:
        server.shutdown()
        server.server_close()
    assert len(ds) == 5 and (root / "cifar-10-python.tar.gz").is_file()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_cifar_corrupt_archive_and_batches(cifar10_small, monkeypatch):
    root = cifar10_small[0]
    archive = root / "cifar-10-python.tar.gz"
    good = archive.read_bytes()
    archive.write_bytes(good[:100])
    with pytest.raises(RuntimeError, match="cifar-10-python.tar.gz does not match the MD5"):
        CIFAR10(str(root))
    archive.write_bytes(good)
    CIFAR10(str(root))
    batch = root / "cifar-10-batches-py" / "data_batch_2"
    batch.write_bytes(batch.read_bytes()[:-10])  # the MD5 no longer matches: re-extracted from the archive
    assert len(CIFAR10(str(root))) == 5


def test_restricted_unpickler_refuses_other_globals(cifar10_small, monkeypatch):
    root = cifar10_small[0]
    CIFAR10(str(root))

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    payload = pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": [0], "x": Evil()}, protocol=2)
    (root / "cifar-10-batches-py" / "data_batch_1").write_bytes(payload)
    monkeypatch.setattr(CIFAR10, "train_list", [["data_batch_1", _md5(payload)], CIFAR10.train_list[1]])
    with pytest.raises(pickle.UnpicklingError, match=r"data_batch_1: refusing to load global '(posix|os)\.system'"):
        CIFAR10(str(root))


# ------------------------------------------------------------------ FakeData

def test_fakedata_is_deterministic_and_leaves_the_global_stream_alone():
    ds = FakeData(size=3, image_size=(3, 8, 6), num_classes=4, transform=transforms.ToTensor())
    ember.manual_seed(123)
    before = ember.rand(2)
    ember.manual_seed(123)
    x0, y0 = ds[0]
    after = ember.rand(2)
    np.testing.assert_array_equal(before.numpy(), after.numpy())
    x0b, y0b = ds[0]
    np.testing.assert_array_equal(x0.numpy(), x0b.numpy())
    assert tuple(x0.shape) == (3, 8, 6) and isinstance(y0, int) and 0 <= y0 < 4 and y0 == y0b
    assert not np.array_equal(ds[1][0].numpy(), x0.numpy())
    shifted = FakeData(size=3, image_size=(3, 8, 6), num_classes=4, transform=transforms.ToTensor(), random_offset=1)
    np.testing.assert_array_equal(shifted[0][0].numpy(), ds[1][0].numpy())
    assert len(ds) == 3 and FakeData()[0][0].size == (224, 224)
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[3]
    assert datasets.FakeData is FakeData


def test_cifar_extraction_ignores_links_and_paths_outside_the_folder(tmp_path, monkeypatch):
    b1, _, _ = _batch(1, 7)
    meta = pickle.dumps({"label_names": ["a"]}, protocol=2)
    path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in {"cifar-10-batches-py/data_batch_1": b1, "cifar-10-batches-py/test_batch": b1,
                              "cifar-10-batches-py/batches.meta": meta, "../escaped": b"x", "/abs": b"x",
                              "cifar-10-batches-py/../../up": b"x"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        link = tarfile.TarInfo("cifar-10-batches-py/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    monkeypatch.setattr(CIFAR10, "train_list", [["data_batch_1", _md5(b1)]])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", _md5(b1)]])
    monkeypatch.setattr(CIFAR10, "meta", {"filename": "batches.meta", "key": "label_names", "md5": _md5(meta)})
    monkeypatch.setattr(CIFAR10, "tgz_md5", _md5(path.read_bytes()))
    root = tmp_path / "root"
    root.mkdir()
    os.replace(path, root / "cifar-10-python.tar.gz")
    assert len(CIFAR10(str(root))) == 1
    assert sorted(os.listdir(root / "cifar-10-batches-py")) == ["batches.meta", "data_batch_1", "test_batch"]
    assert sorted(os.listdir(tmp_path)) == ["root"] and sorted(os.listdir(root)) == ["cifar-10-batches-py",
                                                                                     "cifar-10-python.tar.gz"]
