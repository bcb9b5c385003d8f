"""Moving a batch from a worker process to the main process as raw NumPy buffers.

A worker's batch is a nest of containers holding tensors. ``pack`` swaps every tensor (and every plain numeric
ndarray) in the nest of lists, tuples, dicts and namedtuples for a small placeholder and gathers their arrays.
When the arrays add up to at least ``SHM_MIN_BYTES``, the worker writes them, 64-byte aligned, into one fresh
file under /dev/shm (tmpfs: memory, no disk); the message then carries only the file name and the
(dtype, shape, offset) of each array. The main process maps the file, unlinks it at once, and views the arrays
in place, so a batch crosses with a single copy (the worker's write) and the mapping is freed when the last
array viewing it is. Smaller batches, or a machine without a writable /dev/shm, carry the arrays inline
(pickled as plain ndarrays). Either way what crosses is NumPy data, never a pickled Tensor with autograd
fields; anything the walk does not understand is pickled as is.

File names start with a per-iterator prefix, so whatever a dead or terminated worker left behind is removed
by ``remove_leftovers(prefix)`` when the iterator shuts down.
"""
import glob
import mmap
import os

import numpy as np

from ember.tensor import Tensor

SHM_DIR = "/dev/shm"
SHM_MIN_BYTES = 64 * 1024  # below this, pickling through the pipe costs less than creating a file
_ALIGN = 64
_NUMERIC_KINDS = frozenset("biuf")


def shm_available():
    return os.path.isdir(SHM_DIR) and os.access(SHM_DIR, os.W_OK | os.X_OK)


def shm_prefix(token):
    """The path prefix for one iterator's files (the worker appends its id and a counter)."""
    return os.path.join(SHM_DIR, f"ember-dataloader-{os.getpid()}-{token}")


class _ArrayRef:
    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i


class _TensorRef:
    __slots__ = ("i", "requires_grad")

    def __init__(self, i, requires_grad):
        self.i = i
        self.requires_grad = requires_grad


class Packed:
    """A batch whose arrays travel separately: inline (``arrays``) or in a /dev/shm file (``shm``)."""
    __slots__ = ("tree", "arrays", "shm")

    def __init__(self, tree, arrays, shm):
        self.tree = tree
        self.arrays = arrays  # list of ndarray, or None when they are in shm
        self.shm = shm  # (path, size, [(dtype str, shape, offset)]) or None

    def discard(self):
        """Drops a message that will never be unpacked (shutdown, or it could not be sent)."""
        if self.shm is not None:
            _unlink(self.shm[0])
            self.shm = None


def _strip(obj, arrays):
    t = type(obj)
    if t is Tensor:
        arrays.append(obj._data)
        return _TensorRef(len(arrays) - 1, obj._requires_grad)
    if t is np.ndarray and obj.dtype.kind in _NUMERIC_KINDS:
        arrays.append(obj)
        return _ArrayRef(len(arrays) - 1)
    if t is list:
        return [_strip(x, arrays) for x in obj]
    if t is tuple:
        return tuple(_strip(x, arrays) for x in obj)
    if t is dict:
        return {k: _strip(v, arrays) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(t, "_fields"):  # namedtuple
        return t(*(_strip(x, arrays) for x in obj))
    return obj


def _fill(obj, arrays):
    t = type(obj)
    if t is _TensorRef:
        out = Tensor._make(arrays[obj.i])
        out._requires_grad = obj.requires_grad
        return out
    if t is _ArrayRef:
        return arrays[obj.i]
    if t is list:
        return [_fill(x, arrays) for x in obj]
    if t is tuple:
        return tuple(_fill(x, arrays) for x in obj)
    if t is dict:
        return {k: _fill(v, arrays) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(t, "_fields"):
        return t(*(_fill(x, arrays) for x in obj))
    return obj


class ShmWriter:
    """Worker side: writes a batch's arrays into a new file named ``<prefix>-w<id>-<n>``."""

    def __init__(self, prefix, worker_id):
        self.prefix = None if prefix is None else f"{prefix}-w{worker_id}"
        self.count = 0

    def write(self, arrays):
        """Returns the shm spec, or None when the arrays should travel inline."""
        if self.prefix is None:
            return None
        metas, offset = [], 0
        for a in arrays:
            offset = -(-offset // _ALIGN) * _ALIGN
            metas.append((a.dtype.str, a.shape, offset))
            offset += a.nbytes
        size = offset
        if size < SHM_MIN_BYTES:
            return None
        path = f"{self.prefix}-{self.count}"
        self.count += 1
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError:
            self.prefix = None  # /dev/shm unusable here: send everything inline from now on
            return None
        try:
            for a, (_, _, off) in zip(arrays, metas):
                if a.nbytes:
                    _pwrite_all(fd, np.ascontiguousarray(a).reshape(-1).view(np.uint8), off)
            if os.fstat(fd).st_size != size:
                os.ftruncate(fd, size)
        except OSError:  # e.g. ENOSPC: /dev/shm is full; this batch goes inline
            os.close(fd)
            _unlink(path)
            return None
        os.close(fd)
        return (path, size, metas)


def _pwrite_all(fd, buf, offset):
    view = memoryview(buf)
    while len(view):
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def pack(batch, writer):
    """Worker side: the message for one batch (a Packed), with the arrays in shm when worthwhile."""
    arrays = []
    tree = _strip(batch, arrays)
    if not arrays:
        return Packed(tree, [], None)
    spec = writer.write(arrays)
    if spec is None:
        return Packed(tree, arrays, None)
    return Packed(tree, None, spec)


def unpack(packed):
    """Main side: the batch back, with tensors viewing the shared mapping (the file is unlinked here)."""
    if packed.shm is None:
        return _fill(packed.tree, packed.arrays)
    path, size, metas = packed.shm
    packed.shm = None
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        raise RuntimeError(f"DataLoader: the shared-memory file {path} of a batch has disappeared") from None
    try:
        mm = mmap.mmap(fd, size)
    finally:
        os.close(fd)
        _unlink(path)
    arrays = []
    for dtype, shape, offset in metas:
        dt = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        if count == 0:
            arrays.append(np.empty(shape, dt))
        else:
            arrays.append(np.frombuffer(mm, dtype=dt, count=count, offset=offset).reshape(shape))
    return _fill(packed.tree, arrays)


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def remove_leftovers(prefix):
    """Deletes the files of an iterator's batches that were never received (after its workers stopped)."""
    if prefix is None:
        return
    for path in glob.glob(glob.escape(prefix) + "-w*"):
        _unlink(path)
