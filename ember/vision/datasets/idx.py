"""The IDX file format of MNIST and its relatives (LeCun's "SN3 PascalVincent" format), read strictly.

Layout: a 4-byte magic number (0x00 0x00 <type code> <number of dims>), then one big-endian uint32 per
dimension, then the values, big-endian, row-major; nothing after them. A file named *.gz is gzip-compressed.
"""
import gzip
import io
import os
import zlib

import numpy as np

from ember.vision.datasets.utils import atomic_write

# type code -> big-endian NumPy dtype
IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {dt.newbyteorder("=").str[1:]: code for code, dt in IDX_TYPES.items()}  # 'u1' -> 0x08 ...

_MAX_DIMS = 16


class IDXFormatError(ValueError):
    """A file is not a well-formed IDX file (bad magic number, type code, dimensions or size)."""


def _where(source):
    return f" in {source}" if source else ""


def parse_idx_header(head, source=None):
    """(dtype, shape, header_length) from the first bytes of an IDX file; raises IDXFormatError."""
    if len(head) < 4:
        raise IDXFormatError(f"IDX file too short for its magic number ({len(head)} bytes){_where(source)}")
    if head[0] != 0 or head[1] != 0:
        raise IDXFormatError(f"bad IDX magic number 0x{int.from_bytes(head[:4], 'big'):08x}{_where(source)}: "
                             f"the first two bytes must be zero")
    code, ndim = head[2], head[3]
    if code not in IDX_TYPES:
        raise IDXFormatError(f"unknown IDX type code 0x{code:02x}{_where(source)} (known: "
                             + ", ".join(f"0x{c:02x}" for c in IDX_TYPES) + ")")
    if not 1 <= ndim <= _MAX_DIMS:
        raise IDXFormatError(f"IDX file declares {ndim} dimensions{_where(source)}; expected 1 to {_MAX_DIMS}")
    hlen = 4 + 4 * ndim
    if len(head) < hlen:
        raise IDXFormatError(f"IDX header truncated{_where(source)}: {ndim} dimensions need {hlen} header bytes, "
                             f"the file has {len(head)}")
    shape = tuple(int.from_bytes(head[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return IDX_TYPES[code], shape, hlen


def _payload_size(dtype, shape):
    n = 1
    for d in shape:
        n *= d
    return n * dtype.itemsize


def _check_expectations(dtype, shape, source, expected_dtype, expected_ndim):
    if expected_dtype is not None and dtype.newbyteorder("=") != np.dtype(expected_dtype).newbyteorder("="):
        raise IDXFormatError(f"IDX file holds {dtype.newbyteorder('=').name}{_where(source)}; "
                             f"expected {np.dtype(expected_dtype).name}")
    if expected_ndim is not None and len(shape) != expected_ndim:
        raise IDXFormatError(f"IDX file has {len(shape)} dimensions {shape}{_where(source)}; "
                             f"expected {expected_ndim}")


def parse_idx(data, source=None, expected_dtype=None, expected_ndim=None):
    """Parse a whole IDX file's bytes into a native-endian, writable NumPy array."""
    dtype, shape, hlen = parse_idx_header(bytes(data[:4 + 4 * _MAX_DIMS]), source)
    _check_expectations(dtype, shape, source, expected_dtype, expected_ndim)
    want = _payload_size(dtype, shape)
    have = len(data) - hlen
    if have < want:
        raise IDXFormatError(f"IDX file truncated{_where(source)}: shape {shape} of {dtype.name} needs "
                             f"{want} data bytes, found {have}")
    if have > want:
        raise IDXFormatError(f"IDX file has {have - want} unexpected bytes after its data{_where(source)} "
                             f"(shape {shape} of {dtype.name} needs {want})")
    arr = np.frombuffer(data, dtype=dtype, count=want // dtype.itemsize, offset=hlen).reshape(shape)
    native = dtype.newbyteorder("=")
    if dtype.itemsize == 1:
        arr = arr.view(native)
        return arr if arr.flags.writeable else arr.copy()
    return arr.astype(native)


def read_idx_bytes(path):
    """The decompressed bytes of an IDX file (gzip when the name ends in .gz), as a writable bytearray."""
    path = os.fspath(path)
    if path.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as f:
                return bytearray(f.read())
        except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
            raise IDXFormatError(f"corrupt gzip file {path}: {e}") from e
    size = os.path.getsize(path)
    buf = bytearray(size)
    with open(path, "rb") as f:
        n = f.readinto(buf)
    if n != size:
        raise IDXFormatError(f"could not read all of {path} ({n} of {size} bytes)")
    return buf


def read_idx(path, expected_dtype=None, expected_ndim=None):
    """Read an IDX file (raw, or gzip when the name ends in .gz) into a NumPy array, strictly."""
    return parse_idx(read_idx_bytes(path), os.fspath(path), expected_dtype, expected_ndim)


def check_idx_file(path, expected_dtype=None, expected_ndim=None):
    """Cheap validity check of an uncompressed IDX file: its header, and that its size matches it exactly.

    Returns the shape; raises IDXFormatError (or OSError when it cannot be read).
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(4 + 4 * _MAX_DIMS)
    dtype, shape, hlen = parse_idx_header(head, path)
    _check_expectations(dtype, shape, path, expected_dtype, expected_ndim)
    want = hlen + _payload_size(dtype, shape)
    have = os.path.getsize(path)
    if have != want:
        raise IDXFormatError(f"IDX file {path} is {have} bytes; its header (shape {shape} of {dtype.name}) "
                             f"says {want}")
    return shape


def idx_bytes(array):
    """The IDX encoding of a NumPy array (uint8, int8, int16, int32, float32 or float64)."""
    array = np.asarray(array)
    key = array.dtype.newbyteorder("=").str[1:]
    if key not in _CODE_OF:
        raise TypeError(f"IDX cannot store dtype {array.dtype}")
    if not 1 <= array.ndim <= _MAX_DIMS:
        raise ValueError(f"IDX stores 1 to {_MAX_DIMS} dimensions, got {array.ndim}")
    code = _CODE_OF[key]
    out = io.BytesIO()
    out.write(bytes([0, 0, code, array.ndim]))
    for d in array.shape:
        out.write(int(d).to_bytes(4, "big"))
    out.write(np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes())
    return out.getvalue()


def write_idx(path, array, compress=None):
    """Write an array as an IDX file atomically (gzip when compress is True, or by default for *.gz names)."""
    path = os.fspath(path)
    data = idx_bytes(array)
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        data = gzip.compress(data, mtime=0)
    with atomic_write(path) as f:
        f.write(data)
    return path


def read_image_file(path):
    """MNIST images: a 3-dim uint8 IDX file -> uint8 array (N, H, W)."""
    return read_idx(path, expected_dtype=np.uint8, expected_ndim=3)


def read_label_file(path):
    """MNIST labels: a 1-dim uint8 IDX file -> int64 array (N,)."""
    return read_idx(path, expected_dtype=np.uint8, expected_ndim=1).astype(np.int64)
