"""The strict IDX reader and writer (ember.vision.datasets.idx)."""
import gzip
import os

import numpy as np
import pytest

from ember.vision.datasets.idx import (IDXFormatError, check_idx_file, idx_bytes, parse_idx, read_idx,
                                       read_image_file, read_label_file, write_idx)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def test_header_layout_by_hand():
    a = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8)
    data = idx_bytes(a)
    assert data[:4] == bytes([0, 0, 0x08, 2])
    assert data[4:8] == (2).to_bytes(4, "big") and data[8:12] == (3).to_bytes(4, "big")
    assert data[12:] == bytes([1, 2, 3, 4, 5, 6])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_round_trip_raw_and_gzip(tmp_path, dtype, gz):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    path = str(tmp_path / ("f-idx3" + (".gz" if gz else "")))
    write_idx(path, a)
    with open(path, "rb") as f:
        assert (f.read(2) == b"\x1f\x8b") == gz
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype).newbyteorder("=") and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    assert b.flags.writeable
    if not gz:
        assert check_idx_file(path) == (3, 4, 5)


def test_big_endian_values(tmp_path):
    data = bytes([0, 0, 0x0C, 1]) + (2).to_bytes(4, "big") + (1).to_bytes(4, "big", signed=True) \
        + (-2).to_bytes(4, "big", signed=True)
    np.testing.assert_array_equal(read_idx(_write(tmp_path / "x", data)), [1, -2])


def test_mnist_image_and_label_readers(tmp_path):
    imgs = np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(2, 28, 28)
    write_idx(tmp_path / "i", imgs)
    write_idx(tmp_path / "l.gz", np.array([3, 7], np.uint8))
    np.testing.assert_array_equal(read_image_file(str(tmp_path / "i")), imgs)
    lab = read_label_file(str(tmp_path / "l.gz"))
    assert lab.dtype == np.int64 and lab.tolist() == [3, 7]
    with pytest.raises(IDXFormatError, match="dimensions"):
        read_image_file(str(tmp_path / "l.gz"))  # labels are 1-dim, images must be 3-dim
    write_idx(tmp_path / "f", np.zeros((1, 2, 2), np.float32))
    with pytest.raises(IDXFormatError, match="float32"):
        read_image_file(str(tmp_path / "f"))


GOOD = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))


@pytest.mark.parametrize("data, message", [
    (b"\x00\x00", "too short"),
    (b"\x08\x03" + GOOD[2:], "magic number"),
    (b"\x00\x01" + GOOD[2:], "magic number"),
    (GOOD[:2] + b"\x07" + GOOD[3:], "type code 0x07"),
    (GOOD[:3] + b"\x00" + GOOD[4:], "0 dimensions"),
    (GOOD[:3] + b"\x09", "header truncated"),
    (GOOD[:-1], "truncated"),
    (GOOD + b"\x00", "unexpected bytes"),
    (GOOD[:4] + (1000).to_bytes(4, "big") + GOOD[8:], "truncated"),
])
@pytest.mark.parametrize("gz", [False, True])
def test_corrupt_files_raise(tmp_path, data, message, gz):
    path = tmp_path / ("bad" + (".gz" if gz else ""))
    _write(path, gzip.compress(data) if gz else data)
    with pytest.raises(IDXFormatError, match=message) as info:
        read_idx(str(path))
    assert str(path) in str(info.value)
    if not gz:
        with pytest.raises(IDXFormatError):
            check_idx_file(str(path))


def test_parse_idx_accepts_bytes_and_names_no_source():
    a = parse_idx(bytearray(GOOD))
    assert a.shape == (2, 3, 4) and a[1, 2, 3] == 23


def test_corrupt_gzip_raises(tmp_path):
    data = gzip.compress(GOOD)
    path = _write(tmp_path / "x.gz", data[:-6])  # cut the CRC/length trailer
    with pytest.raises(IDXFormatError, match="gzip"):
        read_idx(path)
    path = _write(tmp_path / "y.gz", b"not gzip at all")
    with pytest.raises(IDXFormatError, match="gzip"):
        read_idx(path)


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    """A failure while writing leaves neither the target nor a temporary file behind."""
    from ember.vision.datasets.utils import atomic_write
    target = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_write(str(target)) as f:
            f.write(b"half")
            raise RuntimeError("crash mid-write")
    assert os.listdir(tmp_path) == []
    write_idx(target, np.zeros(3, np.uint8))
    assert os.listdir(tmp_path) == ["out"]


def test_idx_bytes_rejects_unsupported_dtype():
    with pytest.raises(TypeError):
        idx_bytes(np.zeros(3, np.int64))
