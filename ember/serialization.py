"""ember.save / ember.load in PyTorch's own checkpoint format, without importing torch.

The file format (what ``torch.save`` has written since PyTorch 1.6)
-------------------------------------------------------------------
A zip archive whose entries all live in one folder, ``<archive>/`` (the file's base name without its
extension, or ``archive`` for file objects), every entry stored uncompressed with its data aligned to
64 bytes (a local-header extra field ``FB`` padded with ``Z``), written in this order::

    <archive>/data.pkl                 the pickled object (protocol 2)
    <archive>/.format_version          "1"
    <archive>/.storage_alignment       "64"
    <archive>/byteorder                "little" or "big"
    <archive>/data/0, data/1, ...      the raw bytes of each storage
    <archive>/version                  "3\\n"
    <archive>/.data/serialization_id   40 digits

In ``data.pkl`` a tensor is the call ``torch._utils._rebuild_tensor_v2(storage, storage_offset, size,
stride, requires_grad, OrderedDict())`` and a Parameter is ``torch._utils._rebuild_parameter(tensor,
requires_grad, OrderedDict())``. Each storage is a *persistent id* (pickle's BINPERSID) of the form
``('storage', torch.FloatStorage, key, location, numel)`` whose bytes are the entry ``data/<key>``;
tensors that share memory name the same key, so the bytes are written once.

Saving: how ember names torch's globals without torch
------------------------------------------------------
Pickle writes a callable as a GLOBAL opcode (``c<module>\\n<name>\\n``), and both of CPython's picklers
check that name by importing the module and comparing the object, so a stand-in function merely
*claiming* ``__module__ = 'torch._utils'`` cannot be pickled: that import fails without torch, or finds
the real (different) function with it. ember therefore subclasses the pure-Python pickler
(``pickle._Pickler``, whose per-type ``dispatch`` table is the documented place where it chooses how to
write an object) and adds one entry: a ``_TorchGlobal`` marker, e.g. ``_TorchGlobal('torch._utils',
'_rebuild_tensor_v2')``, is written as exactly that GLOBAL opcode and memoized like any global. Tensors,
Parameters, ``ember.Size``, ``ember.device`` and the dtypes are then mapped onto their torch spelling in
``reducer_override`` / the dispatch table, and storages leave the pickle through ``persistent_id``. The
result is the same opcode stream torch writes, so ``torch.load(f, weights_only=True)`` reads it. The
pickle only holds the object graph; the tensor bytes never pass through it, so the slower pure-Python
pickler costs little.

Loading
-------
``weights_only=True`` (the default, as in PyTorch >= 2.6) runs a restricted unpickler: the pure-Python
``pickle._Unpickler`` with its opcode table cut down to data-building opcodes, a ``find_class`` that
resolves only an allow-list (the rebuild functions, storage types, dtypes, ``torch.Size``,
``torch.device``, ``collections.OrderedDict`` / ``Counter``, and ``set``/``frozenset``/``bytearray``/
``complex``), and REDUCE / NEWOBJ / BUILD / SETITEMS / APPENDS limited to those objects. Any other global
is refused with ``pickle.UnpicklingError`` before anything from the file runs, unless the user allowed it
with ``add_safe_globals`` / ``safe_globals`` (as in PyTorch).

Loading costs what the file is worth: every allow-listed callable checks the types and sizes of its
arguments (``set``, ``Counter``, ``torch.Size``... take containers the pickle built, never a Tensor, which
may be a zero-stride expansion of 2**40 elements over one stored number; ``bytearray(n)`` only for n within
the file's size); rebuilds never copy an expansion without charging every element to a per-file budget
(``_Budget``); tuples built from shared references are weighed and hashing them is paid for; storages must
be records of the archive with exactly the declared size; compressed records (``torch.save`` never
compresses) are refused.

``weights_only=False`` uses the ordinary (C) unpickler, which can import and call anything the file
names: **never use it on files you do not trust**. It still maps torch's rebuild functions to ember's,
so whole objects (ember modules, user classes holding tensors) saved by ``ember.save`` come back.

The pre-1.6 "legacy" format (a chain of pickles followed by raw storages) is read too; the even older
tar format is refused with a clear error.
"""
import codecs
import collections
import contextlib
import contextvars
import errno
import io
import os
import pickle
import re
import struct
import sys
import time
import uuid
import warnings
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from ember.backend import dtypes as _dt
from ember.backend.device import device as _device
from ember.tensor import Tensor, Size, _init_fields

__all__ = ["save", "load", "add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals"]

DEFAULT_PROTOCOL = 2
_STORAGE_ALIGNMENT = 64
_FORMAT_VERSION = b"3\n"  # the "version" record torch writes (its zip-container version)
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL_VERSION = 1001

_UNSAFE_MESSAGE = (
    "Re-running `ember.load` with `weights_only=False` will likely succeed, but it can result in "
    "arbitrary code execution. Do it only if you got the file from a trusted source.")

# ember dtype name -> torch's legacy typed-storage class name (what the persistent ids carry)
_STORAGE_BY_DTYPE = {d.name: d.word + "Storage" for d in _dt.ALL}
_STORAGE_BY_DTYPE["bfloat16"] = "BFloat16Storage"     # its arrays need the optional ml_dtypes package
# storages PyTorch can write but ember has no dtype for (storage class -> torch dtype)
_UNSUPPORTED_STORAGES = {
    "QInt8Storage": "torch.qint8", "QUInt8Storage": "torch.quint8",
    "QInt32Storage": "torch.qint32", "QUInt4x2Storage": "torch.quint4x2", "QUInt2x4Storage": "torch.quint2x4",
}
# torch dtype globals ember understands (torch pickles a dtype as the global torch.<name>)
_DTYPE_GLOBALS = {**{d.name: d for d in _dt.ALL}, **_dt.ALIASES}
_UNSUPPORTED_DTYPE_GLOBALS = frozenset({
    "bfloat16", "complex32", "chalf", "uint16", "uint32",
    "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
    "float4_e2m1fn_x2", "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "bits8", "bits16",
    "bits1x8", "bits2x4", "bits4x2", "int1", "int2", "int3", "int4", "int5", "int6", "int7", "uint1",
    "uint2", "uint3", "uint4", "uint5", "uint6", "uint7",
})
# Python attributes ember keeps on tensors for its own bookkeeping: not part of a tensor's saved state
_TRANSIENT_TENSOR_ATTRS = frozenset({"_retains"})


def _deliberate(exc):
    """Marks an exception raised on purpose while loading, so it is not re-labelled as corruption."""
    exc._ember_passthrough = True
    return exc


def _refusal(what):
    return _deliberate(pickle.UnpicklingError(
        f"Weights only load failed. {what} {_UNSAFE_MESSAGE} ember.load(..., weights_only=True) only "
        "rebuilds tensors, Parameters, dtypes, torch.Size, torch.device and plain containers (dict, "
        "list, tuple, set, collections.OrderedDict) of numbers, strings and bytes, plus what "
        "ember.serialization.add_safe_globals allows."))


# -- what a load may cost -------------------------------------------------------------------------------
class _Budget:
    """Bytes a load may still materialise beyond the file's own: copies made by rebuild functions (a
    dtype conversion, bytearray(n)) are charged here, so loading a file of N bytes costs O(N) memory
    whatever its pickle says (a 1-element storage viewed as 2**40 elements with stride 0 is a view,
    and stays one: anything that would copy it is charged for all its elements)."""

    def __init__(self, name, file_size):
        self.name = name
        self.file_size = file_size
        self.left = 2 * file_size + (1 << 20)

    def charge(self, nbytes, what):
        if nbytes > self.left:
            raise _load_error(f"ember.load refused {what} while loading {self.name}: it would materialise "
                              f"{nbytes} bytes from a file of {self.file_size} bytes (a tensor expanded over a "
                              "small storage, or a size the file cannot back)")
        self.left -= nbytes


_CURRENT_BUDGET = contextvars.ContextVar("_ember_load_budget", default=None)


def _charge(nbytes, what):
    budget = _CURRENT_BUDGET.get()
    if budget is not None:
        budget.charge(nbytes, what)


def _load_error(msg):
    return _deliberate(RuntimeError(msg))


# =====================================================================================================
# Saving
# =====================================================================================================
class _TorchGlobal:
    """A name in torch's namespace (e.g. torch._utils._rebuild_tensor_v2), written as a GLOBAL opcode."""
    __slots__ = ("module", "name")
    _cache = {}

    def __new__(cls, module, name):
        key = (module, name)
        obj = cls._cache.get(key)
        if obj is None:  # one object per name, so the pickle memo writes it once and then refers to it
            obj = object.__new__(cls)
            obj.module, obj.name = module, name
            cls._cache[key] = obj
        return obj

    def __call__(self, *args, **kwargs):  # pickle's save_reduce insists that a reduce function is callable
        raise TypeError(f"{self.module}.{self.name} is a stand-in for a PyTorch global, only used in pickles")

    def __repr__(self):
        return f"<torch global {self.module}.{self.name}>"


_G_REBUILD_TENSOR = _TorchGlobal("torch._utils", "_rebuild_tensor_v2")
_G_REBUILD_PARAMETER = _TorchGlobal("torch._utils", "_rebuild_parameter")
_G_REBUILD_PARAMETER_STATE = _TorchGlobal("torch._utils", "_rebuild_parameter_with_state")
_G_REBUILD_FROM_TYPE = _TorchGlobal("torch._tensor", "_rebuild_from_type_v2")
_G_TENSOR = _TorchGlobal("torch", "Tensor")
_G_SIZE = _TorchGlobal("torch", "Size")
_G_DEVICE = _TorchGlobal("torch", "device")


class _StorageRef:
    """One storage being saved: a 1-D contiguous array written as the record data/<key>."""
    __slots__ = ("key", "array", "type_global")

    def __init__(self, key, array):
        self.key = key
        self.array = array
        self.type_global = _TorchGlobal("torch", _STORAGE_BY_DTYPE[_dt.from_numpy_dtype(array.dtype).name])


def _data_ptr(a):
    return a.__array_interface__["data"][0]


class _Pickler(pickle._Pickler):
    """The pure-Python pickler plus torch's spelling of ember's tensor types (see the module docstring)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages = []         # _StorageRef in key order
        self._by_root = {}         # (id(root array), dtype) -> _StorageRef, for tensors sharing memory
        self._keep = []            # arrays whose id() is a key above stay alive while pickling

    # -- writing torch's globals --------------------------------------------------------------------
    def _save_torch_global(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_TorchGlobal] = _save_torch_global

    def _save_dtype(self, obj):  # torch pickles torch.float32 as the global torch.float32
        self.write(pickle.GLOBAL + f"torch\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_dt.dtype] = _save_dtype

    def persistent_id(self, obj):
        if type(obj) is _StorageRef:
            return ("storage", obj.type_global, obj.key, "cpu", int(obj.array.size))
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if type(obj) is Size:
            return (_G_SIZE, (tuple(obj),))
        if type(obj) is _device:
            return (_G_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index))
        return NotImplemented

    # -- tensors ------------------------------------------------------------------------------------
    def _reduce_tensor(self, t):
        from ember.nn.parameter import Parameter
        state = {k: v for k, v in t.__dict__.items() if k not in _TRANSIENT_TENSOR_ATTRS} or None
        if type(t) is Parameter:
            data = Tensor._make(np.asarray(t._data))  # torch reduces a Parameter through its .data
            if state:
                return (_G_REBUILD_PARAMETER_STATE, (data, t._requires_grad, OrderedDict(), state))
            return (_G_REBUILD_PARAMETER, (data, t._requires_grad, OrderedDict()))
        args = self._tensor_args(t)
        if type(t) is Tensor and not state:
            return (_G_REBUILD_TENSOR, args)
        # a tensor carrying Python attributes, or a Tensor subclass: torch's _rebuild_from_type_v2
        cls = _G_TENSOR if type(t) is Tensor else type(t)
        return (_G_REBUILD_FROM_TYPE, (_G_REBUILD_TENSOR, cls, args, state))

    def _tensor_args(self, t):
        arr = np.asarray(t._data)
        ref, offset, stride = self._storage_of(arr)
        return (ref, offset, tuple(int(n) for n in arr.shape), stride, bool(t._requires_grad), OrderedDict())

    def _new_storage(self, array):
        ref = _StorageRef(str(len(self.storages)), array)
        self.storages.append(ref)
        return ref

    def _storage_of(self, arr):
        """(storage, offset, strides) in elements, sharing one storage between views of the same memory.

        A NumPy view's .base chain leads to the array that owns the memory. The outermost contiguous
        array on that chain, read as the view's dtype, is the storage: it is saved once for all the
        tensors that view it (as in torch, a view of a large array saves the whole array), provided
        the view's strides are whole, non-negative element steps inside it. Anything else (negative
        strides, odd byte offsets) is saved as a contiguous copy of the tensor.
        """
        itemsize = arr.itemsize
        shape = arr.shape
        chain, a = [], arr
        while isinstance(a, np.ndarray):
            chain.append(a)
            a = a.base
        for root in reversed(chain) if arr.size else ():
            if not (root.flags.c_contiguous or root.flags.f_contiguous) or root.nbytes % itemsize:
                continue
            delta = _data_ptr(arr) - _data_ptr(root)
            if delta < 0 or delta % itemsize:
                continue
            strides, contiguous, ok = [], 1, True
            for n, st in zip(reversed(shape), reversed(arr.strides)):
                if n == 1 and (st < 0 or st % itemsize):  # never used to step: any valid value will do
                    st = contiguous * itemsize
                ok = ok and st >= 0 and st % itemsize == 0
                strides.append(st // itemsize)
                contiguous *= n
            if not ok:
                break
            strides.reverse()
            offset = delta // itemsize
            last = offset + sum((n - 1) * st for n, st in zip(shape, strides))
            if last >= root.nbytes // itemsize:
                continue
            key = (id(root), arr.dtype.str)
            ref = self._by_root.get(key)
            if ref is None:
                flat = np.ravel(root, order="K").view(np.uint8).view(arr.dtype)
                ref = self._by_root[key] = self._new_storage(flat)
                self._keep.append(root)
            return ref, offset, tuple(strides)
        copy = np.ascontiguousarray(arr).reshape(-1)
        strides, acc = [], 1
        for n in reversed(shape):
            strides.append(acc)
            acc *= n
        return self._new_storage(copy), 0, tuple(reversed(strides))


# -- the zip container ----------------------------------------------------------------------------------
_U32 = 0xFFFFFFFF
_ZIP64_LIMIT = _U32  # sizes/offsets at or past this need zip64 fields (a variable so tests can lower it)


class _ZipWriter:
    """A stored-only zip writer laid out like the one inside PyTorch (miniz): every record's data is
    aligned to 64 bytes, followed by a data descriptor, and a zip64 end record is always written."""

    def __init__(self, out, archive_name):
        self.out = out
        self.prefix = archive_name + "/"
        self.pos = 0
        self.entries = []  # (name bytes, crc, size, header offset, flags)

    def _write(self, b):
        self.out.write(b)
        self.pos += len(b)

    def write_record(self, name, data):
        name_b = (self.prefix + name).encode("utf-8")
        view = memoryview(data).cast("B")
        size = view.nbytes
        crc = zlib.crc32(view) & _U32
        header_at = self.pos
        big_size, big_offset = size >= _ZIP64_LIMIT, header_at >= _ZIP64_LIMIT
        extra = b""
        if big_size or big_offset:  # miniz puts a zip64 field in the local header in these cases
            fields = (struct.pack("<QQ", size, size) if big_size else b"") + (
                struct.pack("<Q", header_at) if big_offset else b"")
            extra = struct.pack("<HH", 1, len(fields)) + fields
        data_at = header_at + 30 + len(name_b) + len(extra) + 4
        pad = -data_at % _STORAGE_ALIGNMENT
        extra += b"FB" + struct.pack("<H", pad) + b"Z" * pad
        flags = 0x0808 if size else 0x0800  # UTF-8 names; a data descriptor follows non-empty data
        self._write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 0, flags, 0, 0, 0, 0, 0, 0, len(name_b), len(extra)))
        self._write(name_b)
        self._write(extra)
        self.out.write(view)
        self.pos += size
        if size:
            if big_size or big_offset:
                self._write(struct.pack("<IIQQ", 0x08074B50, crc, size, size))
            else:
                self._write(struct.pack("<IIII", 0x08074B50, crc, size, size))
        self.entries.append((name_b, crc, size, header_at, flags))

    def finish(self):
        cd_at = self.pos
        for name_b, crc, size, header_at, flags in self.entries:
            big_size, big_offset = size >= _ZIP64_LIMIT, header_at >= _ZIP64_LIMIT
            fields = (struct.pack("<QQ", size, size) if big_size else b"") + (
                struct.pack("<Q", header_at) if big_offset else b"")
            extra = struct.pack("<HH", 1, len(fields)) + fields if fields else b""
            self._write(struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, 0, 45 if fields else 0, flags, 0, 0, 0, crc,
                _U32 if big_size else size, _U32 if big_size else size, len(name_b), len(extra), 0, 0, 0, 0,
                _U32 if big_offset else header_at))
            self._write(name_b)
            self._write(extra)
        cd_size = self.pos - cd_at
        n = len(self.entries)
        eocd64_at = self.pos
        self._write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, n, n, cd_size, cd_at))
        self._write(struct.pack("<IIQI", 0x07064B50, 0, eocd64_at, 1))
        self._write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                                min(cd_size, _U32), _U32 if cd_at >= _ZIP64_LIMIT else cd_at, 0))


def _serialization_id(names, crcs):
    """40 digits, as torch writes: a hash of the record names, then one of their contents' CRCs."""
    h_names = zlib.crc32("\n".join(names).encode("utf-8")) * 0x9E3779B1 + len(names)
    h_crcs = 0
    for c in crcs:
        h_crcs = (h_crcs * 1000003 ^ c) & 0xFFFFFFFFFFFFFFFF
    return f"{h_names % 10**20:020d}{h_crcs % 10**20:020d}".encode("ascii")


def _write_archive(out, archive_name, pickled, storages, byteorder_record=True):
    zw = _ZipWriter(out, archive_name)
    zw.write_record("data.pkl", pickled)
    zw.write_record(".format_version", b"1")
    zw.write_record(".storage_alignment", str(_STORAGE_ALIGNMENT).encode("ascii"))
    if byteorder_record:
        zw.write_record("byteorder", sys.byteorder.encode("ascii"))
    for ref in storages:
        zw.write_record(f"data/{ref.key}", ref.array.view(np.uint8))
    zw.write_record("version", _FORMAT_VERSION)
    zw.write_record(".data/serialization_id",
                    _serialization_id([e[0].decode() for e in zw.entries], [e[1] for e in zw.entries]))
    zw.finish()


def _archive_name(path):
    base = os.path.basename(os.fsdecode(path))
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return stem or "archive"


def save(obj, f, pickle_module=None, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save an object to a file in PyTorch's checkpoint format (``torch.load`` reads it).

    Args:
        obj: what to save: tensors, Parameters, containers of them (state dicts, optimizer state
            dicts), or any picklable object (whole modules; those need ``weights_only=False`` to load).
        f: a path (str / os.PathLike) or a writable binary file object. A path is written atomically:
            to a temporary file ``.NAME.<pid>.<hex>.tmp`` in the same directory, flushed and fsynced,
            then renamed over ``f``; on any error the temporary file is removed and an existing file at
            ``f`` is left untouched. A process killed mid-write leaves its temporary behind: the next
            save to the same path removes such leftovers (only files of this naming whose process is no
            longer running; files of the older ``.NAME.<hex>.tmp`` naming once unchanged for 10 minutes).
        pickle_protocol: pickle protocol for ``data.pkl`` (default 2, as PyTorch; ``torch.load`` with
            ``weights_only=True`` only reads protocol-2 opcodes).
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError("ember.save only supports the standard pickle module")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save writes only the zip format torch.save has used since PyTorch 1.6")
    if not isinstance(pickle_protocol, int) or not 2 <= pickle_protocol <= pickle.HIGHEST_PROTOCOL:
        raise ValueError(f"pickle_protocol must be between 2 and {pickle.HIGHEST_PROTOCOL}, got {pickle_protocol!r}")

    # Pickle first: an unpicklable object fails here, before any file is touched.
    buf = io.BytesIO()
    pickler = _Pickler(buf, pickle_protocol)
    pickler.dump(obj)
    pickled = buf.getvalue()
    storages = pickler.storages
    del pickler

    if isinstance(f, (str, bytes, os.PathLike)):
        _save_to_path(os.fsdecode(f), pickled, storages, not _disable_byteorder_record)
    else:
        if not hasattr(f, "write"):
            raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'write' "
                                 f"attribute, got {type(f).__name__}")
        _write_archive(f, "archive", pickled, storages, not _disable_byteorder_record)
        if hasattr(f, "flush"):
            f.flush()


def _save_to_path(path, pickled, storages, byteorder_record):
    with _atomic_output(path) as out:
        _write_archive(out, _archive_name(path), pickled, storages, byteorder_record)


# -- writing a file atomically, and cleaning up after writers that were killed ---------------------------
# A temporary is named ".<destination>.<pid>.<12 hex>.tmp" beside its destination: the pid says whether
# its writer still runs. Files of ember before this naming (".<destination>.<12 hex>.tmp") carry no pid
# and are removed once they have not changed for _STALE_UNNAMED_AGE seconds (a live writer keeps writing).
_STALE_UNNAMED_AGE = 600.0


def _temporary_pattern(base):
    return re.compile(r"\." + re.escape(base) + r"\.(?:(\d+)\.)?[0-9a-f]{12}\.tmp\Z")


def _pid_alive(pid):
    if pid == os.getpid():
        return True  # maybe another thread of this process, writing now
    if os.name == "nt":
        return True  # no cheap check there: leave the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: the process exists, owned by someone else
        return True
    return True


def _remove_stale_temporaries(target):
    """Remove the temporaries of `target` that killed writers left behind (ember's own naming only, and
    never one whose writer is alive). Returns the paths removed."""
    directory = os.path.dirname(os.path.abspath(target))
    pattern = _temporary_pattern(os.path.basename(target))
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    now = time.time()
    for entry in names:
        m = pattern.match(entry)
        if m is None:
            continue
        full = os.path.join(directory, entry)
        try:
            if m.group(1) is not None:
                if _pid_alive(int(m.group(1))):
                    continue
            elif now - os.lstat(full).st_mtime < _STALE_UNNAMED_AGE:
                continue
            os.unlink(full)
            removed.append(full)
        except OSError:  # gone already (another process cleaned it), or not ours to remove
            continue
    return removed


@contextlib.contextmanager
def _atomic_output(path):
    """A binary file that replaces `path` only once it is complete: written to a temporary file in the
    same directory, flushed and fsynced, then renamed over `path` (through a symlink, keeping an existing
    file's permissions). On any error the temporary is removed and `path` is untouched. Temporaries that
    killed writers left beside `path` are removed first."""
    path = os.fsdecode(path)
    target = os.path.realpath(path) if os.path.islink(path) else path  # write through a symlink
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    try:
        mode = os.stat(target).st_mode & 0o7777  # keep an existing checkpoint's permissions
    except OSError:
        mode = None
    _remove_stale_temporaries(target)
    base = os.path.basename(target)
    while True:
        tmp = os.path.join(directory, f".{base}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")
        try:  # O_EXCL: never clobber another file; 0o666 lets the umask decide, as open() would
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (best effort)
        try:
            dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(dfd)
        except OSError:
            pass
        finally:
            os.close(dfd)


# =====================================================================================================
# Loading: what torch's globals become in ember
# =====================================================================================================
class _StorageType:
    """Stands for torch.FloatStorage & co. while unpickling: only its dtype matters."""
    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"torch.{self.name}"


class _LoadedStorage:
    """A storage read from a checkpoint: its raw bytes, and the same bytes as an array of `dtype`."""
    __slots__ = ("raw", "dtype", "location", "array", "__weakref__")

    def __init__(self, raw, dtype, location="cpu", array=None):
        self.raw, self.dtype, self.location = raw, dtype, location
        self.array = raw.view(dtype.np) if array is None else array

    def cpu(self):
        return self

    def size(self):
        return self.raw.size // self.dtype.itemsize

    __len__ = size

    def nbytes(self):
        return self.raw.size

    def __repr__(self):
        return f"<ember storage of {self.size()} {self.dtype} elements (saved on {self.location})>"


def _check_int(x, what, minimum=0):
    if type(x) is bool or not isinstance(x, (int, np.integer)) or x < minimum:
        raise _load_error(f"invalid {what} in checkpoint: {x!r}")
    return int(x)


def _tensor_on(storage, storage_offset, size, stride, dtype=None):
    if not isinstance(storage, _LoadedStorage):
        raise _load_error(f"expected a storage to rebuild a tensor from, got {type(storage).__name__}")
    dtype = storage.dtype if dtype is None else dtype
    if not isinstance(size, (tuple, list)) or not isinstance(stride, (tuple, list)) or len(size) != len(stride):
        raise _load_error(f"invalid tensor geometry in checkpoint: size {size!r}, stride {stride!r}")
    offset = _check_int(storage_offset, "storage offset")
    size = tuple(_check_int(n, "size") for n in size)
    stride = tuple(_check_int(s, "stride") for s in stride)
    if dtype is storage.dtype:
        data = storage.array
    elif storage.raw.size % dtype.itemsize:
        raise _load_error(f"a storage of {storage.raw.size} bytes cannot hold {dtype} elements")
    else:
        data = storage.raw.view(dtype.np)
    if 0 in size:
        return Tensor._make(np.zeros(size, dtype.np))
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= data.size:
        raise _load_error(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset} "
                          f"and itemsize {dtype.itemsize} are out of bounds for a storage of {data.size} elements")
    isz = dtype.itemsize
    arr = np.ndarray(size, dtype.np, buffer=data, offset=offset * isz, strides=tuple(s * isz for s in stride))
    return Tensor._make(arr)


def _set_requires_grad(t, requires_grad):
    if type(requires_grad) is not bool:
        raise _load_error(f"invalid requires_grad in checkpoint: {requires_grad!r}")
    if requires_grad:
        t.requires_grad = True
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _tensor_on(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    # backward_hooks: always an empty OrderedDict since PyTorch stopped saving hooks
    t = _with_metadata(_tensor_on(storage, storage_offset, size, stride), metadata)
    return _set_requires_grad(t, requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                       metadata=None):
    if not isinstance(dtype, _dt.dtype):
        raise _load_error(f"invalid dtype in checkpoint: {dtype!r}")
    t = _with_metadata(_tensor_on(storage, storage_offset, size, stride, dtype), metadata)
    return _set_requires_grad(t, requires_grad)


def _with_metadata(t, metadata):
    """PyTorch saves a lazily conjugated (x.conj()) or negated (x.conj().imag) view as its storage plus a
    'conj' / 'neg' bit; ember has no such bits, so it applies them (the tensor then owns its values)."""
    if not metadata:
        return t
    if not isinstance(metadata, dict):
        raise _load_error(f"invalid tensor metadata in checkpoint: {metadata!r}")
    if metadata.get("conj") is True:
        t._data = np.conj(t._data)
    if metadata.get("neg") is True:
        t._data = np.negative(t._data)
    return t


def _set_state(obj, state, trusted):
    """Python attributes saved with a tensor (torch's _set_obj_state). From an untrusted file they go
    straight into the instance __dict__ (no setters run), and names the class defines are skipped."""
    if state is None:
        return obj
    slots = None
    if isinstance(state, tuple):
        if len(state) != 2:
            raise _load_error(f"invalid serialized state: {state!r}")
        state, slots = state
    for part in (state, slots):
        if not part:
            continue
        if not isinstance(part, dict):
            raise _load_error(f"invalid serialized state: {part!r}")
        for k, v in part.items():
            if trusted:
                setattr(obj, k, v)
            elif type(k) is not str or hasattr(type(obj), k) or part is slots:
                warnings.warn(f"ember.load: not restoring the saved tensor attribute {k!r} (weights_only=True)")
            else:
                obj.__dict__[k] = v
    return obj


def _make_parameter(data, requires_grad):
    from ember.nn.parameter import Parameter
    if not isinstance(data, Tensor):
        raise _load_error(f"expected a tensor to rebuild a Parameter from, got {type(data).__name__}")
    if type(requires_grad) is not bool:
        raise _load_error(f"invalid requires_grad in checkpoint: {requires_grad!r}")
    return Parameter(data, requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    return _make_parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_state(_make_parameter(data, requires_grad), state, trusted=False)


def _as_type(t, new_type):
    if type(t) is new_type:
        return t
    if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
        raise _load_error(f"cannot rebuild a tensor as {new_type!r}")
    out = Tensor.__new__(new_type)
    _init_fields(out, t._data)
    out._requires_grad = t._requires_grad
    return out


def _rebuild_from_type_v2(func, new_type, args, state):
    if func not in _REBUILD_FUNCTIONS or not isinstance(args, tuple):
        raise _load_error(f"unexpected tensor rebuild function in checkpoint: {func!r}")
    return _set_state(_as_type(func(*args), new_type), state, trusted=False)


def _rebuild_from_type_v2_trusted(func, new_type, args, state):
    ret = _as_type(func(*args), new_type)
    if getattr(type(ret), "__setstate__", None) is not None and state is not None:
        ret.__setstate__(state)
        return ret
    return _set_state(ret, state, trusted=True)


def _rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    if not isinstance(data, Tensor) or not isinstance(dtype, _dt.dtype):
        raise _load_error("invalid device tensor in checkpoint")
    a = np.asarray(data._data)
    if a.dtype != dtype.np:  # a conversion copies every element, also those of a zero-stride expansion
        _charge(a.size * dtype.itemsize, f"converting a tensor of shape {list(a.shape)} to {dtype}")
    return _set_requires_grad(Tensor._make(a.astype(dtype.np, copy=False)), requires_grad)


def _rebuild_device_tensor_from_numpy(data, dtype, device, requires_grad):
    if not isinstance(data, np.ndarray) or not isinstance(dtype, _dt.dtype):
        raise _load_error("invalid device tensor in checkpoint")
    _charge(data.size * dtype.itemsize, f"copying an array of shape {list(data.shape)}")
    return _set_requires_grad(Tensor._make(np.array(data, dtype=dtype.np)), requires_grad)


def _unsupported_rebuild(what):
    def rebuild(*args, **kwargs):
        raise _load_error(f"ember.load: this checkpoint holds {what}, which ember does not support")
    rebuild.__qualname__ = rebuild.__name__ = "unsupported_rebuild"
    return rebuild


def _make_device(type_, index=None):
    try:
        return _device(type_, index)
    except (RuntimeError, ValueError, TypeError):
        return str(type_) if index is None else f"{type_}:{index}"


def _bytes_from_latin1(s, encoding=None):
    """_codecs.encode as pickle protocol 2 uses it for bytes: encode(str, 'latin1')."""
    enc = str(encoding or "latin1").replace("-", "").replace("_", "").lower()
    if type(s) is not str or enc not in ("latin1", "iso88591"):
        raise _refusal(f"Unsupported call _codecs.encode({type(s).__name__}, {encoding!r}).")
    return codecs.encode(s, "latin1")


def _safe_bytearray(*args):
    return bytearray(*args)


# Containers the pickle itself builds: their size is bounded by the file's. A Tensor is not one of them
# (iterating a zero-stride expansion could mean 2**40 steps), nor is any other object with __iter__.
_FILE_CONTAINERS = (list, tuple, dict, OrderedDict, collections.Counter, set, frozenset, str, bytes, bytearray)


def _arg_types(args):
    return ", ".join(type(a).__name__ for a in args)


def _check_iterable_call(what, args):
    if len(args) > 1 or (args and type(args[0]) not in _FILE_CONTAINERS):
        raise _refusal(f"Unsupported call {what}({_arg_types(args)}): {what} only takes a container built by "
                       "the pickle itself.")


def _check_ordered_dict_call(what, args):
    _check_iterable_call(what, args)
    if args and type(args[0]) in (list, tuple) and not all(
            type(p) in (tuple, list) and len(p) == 2 for p in args[0]):
        raise _refusal(f"Unsupported call {what}({_arg_types(args)}): its items must be (key, value) pairs.")


def _check_size_call(what, args):
    if len(args) > 1 or (args and (type(args[0]) not in (tuple, list) or not all(
            type(n) is int for n in args[0]))):
        raise _refusal(f"Unsupported call {what}({_arg_types(args)}): torch.Size takes a tuple of ints.")


def _check_complex_call(what, args):
    if len(args) > 2 or not all(type(a) in (int, float, bool) for a in args) and not (
            len(args) == 1 and type(args[0]) is str):
        raise _refusal(f"Unsupported call complex({_arg_types(args)}): complex takes numbers.")


def _check_bytearray_call(what, args):
    if not args:
        return
    first = args[0]
    if type(first) is int and len(args) == 1:
        if first < 0:
            raise _refusal(f"Unsupported call bytearray({first}): negative size.")
        budget = _CURRENT_BUDGET.get()
        if budget is None or first > budget.file_size:
            raise _refusal(f"Unsupported call bytearray({first}): larger than the file holding it.")
        _charge(first, f"bytearray({first})")
        return
    if type(first) in (bytes, bytearray) and len(args) == 1:
        return
    if type(first) is str and 2 <= len(args) <= 3 and all(type(a) is str for a in args[1:]):
        return
    if type(first) in (list, tuple) and len(args) == 1 and all(type(n) is int for n in first):
        return
    raise _refusal(f"Unsupported call bytearray({_arg_types(args)}): bytearray takes bytes, a str and its "
                   "encoding, a list of ints, or a size within the file's.")


# allow-listed callable (or class built by NEWOBJ) -> (its name in messages, the check of its arguments)
_ARGUMENT_CHECKS = {
    set: ("set", _check_iterable_call),
    frozenset: ("frozenset", _check_iterable_call),
    collections.Counter: ("collections.Counter", _check_iterable_call),
    OrderedDict: ("collections.OrderedDict", _check_ordered_dict_call),
    Size: ("torch.Size", _check_size_call),
    complex: ("complex", _check_complex_call),
    _safe_bytearray: ("bytearray", _check_bytearray_call),
}


def _check_call(func, args, kwargs=None):
    """Every allow-listed callable checks the types and sizes of its arguments before it runs."""
    entry = _ARGUMENT_CHECKS.get(func)
    if entry is not None:
        if kwargs:
            raise _refusal(f"Unsupported call {entry[0]} with keyword arguments.")
        entry[1](entry[0], args)


def _dtype_by_name(name):
    try:
        return _dt._BY_NAME[name]
    except (KeyError, TypeError):
        raise _load_error(f"invalid ember dtype name in checkpoint: {name!r}") from None


_REBUILD_FUNCTIONS = {_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3}


def _storage_global(module, name):
    """torch.FloatStorage & co. (torch.cuda.* in files from GPUs: everything loads on the CPU)."""
    if not name.endswith("Storage") or module not in ("torch", "torch.cuda", "torch.storage"):
        return None
    if name == "UntypedStorage":
        return _StorageType(name, _dt.uint8)
    if name in _UNSUPPORTED_STORAGES:
        return _StorageType(name, None)
    for dname, sname in _STORAGE_BY_DTYPE.items():
        if sname == name:
            return _StorageType(name, _dt._BY_NAME[dname])
    return None


def _safe_global(module, name):
    """The allow-list: what a name in the checkpoint resolves to, or None if it is not allowed."""
    full = f"{module}.{name}"
    hit = _SAFE_GLOBALS.get(full)
    if hit is not None:
        return hit
    st = _storage_global(module, name)
    if st is not None:
        return st
    if module == "torch":
        if name in _DTYPE_GLOBALS:
            return _DTYPE_GLOBALS[name]
        if name in _UNSUPPORTED_DTYPE_GLOBALS:
            raise _load_error(f"ember.load: the checkpoint uses dtype torch.{name}, which ember does not support "
                              "(ember has float16/32/64, complex64/128, int8/16/32/64, uint8 and bool)")
    return None


def _build_safe_globals():
    from ember.nn.parameter import Parameter
    return {
        "collections.OrderedDict": OrderedDict,
        "collections.Counter": collections.Counter,
        "builtins.set": set,
        "builtins.frozenset": frozenset,
        "builtins.bytearray": _safe_bytearray,
        "builtins.complex": complex,
        "_codecs.encode": _bytes_from_latin1,
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch._utils._rebuild_device_tensor_from_cpu_tensor": _rebuild_device_tensor_from_cpu_tensor,
        "torch._utils._rebuild_device_tensor_from_numpy": _rebuild_device_tensor_from_numpy,
        "torch._utils._rebuild_qtensor": _unsupported_rebuild("quantized tensors"),
        "torch._utils._rebuild_sparse_tensor": _unsupported_rebuild("sparse tensors"),
        "torch._utils._rebuild_nested_tensor": _unsupported_rebuild("nested tensors"),
        "torch._utils._rebuild_wrapper_subclass": _unsupported_rebuild("tensor subclasses (wrapper subclasses)"),
        "torch._utils._rebuild_meta_tensor_no_storage": _unsupported_rebuild("meta tensors (no data)"),
        "torch.Size": Size,
        "torch.device": _make_device,
        "torch.Tensor": Tensor,
        "torch.nn.parameter.Parameter": Parameter,
        # ember's own names, in pickles ember wrote before it spoke torch's format
        "ember.tensor.Size": Size,
        "ember.Size": Size,
        "ember.backend.dtypes._dtype_by_name": _dtype_by_name,
    }


_SAFE_GLOBALS = {}
_SAFE_CALLABLE_IDS = set()


def _ensure_tables():
    if not _SAFE_GLOBALS:
        from ember.nn.parameter import Parameter
        table = _build_safe_globals()
        _SAFE_CALLABLE_IDS.update(id(v) for v in table.values() if v is not Tensor and v is not Parameter)
        _SAFE_GLOBALS.update(table)


# -- globals the user allows (torch.serialization.add_safe_globals & co.) --------------------------------
_marked_safe_globals_set = set()


def add_safe_globals(safe_globals):
    """Marks the given globals as safe for ``weights_only`` load: functions in this list can be called,
    classes instantiated and their state set while unpickling. An entry is the object itself (found in
    the file as ``obj.__module__ + "." + obj.__qualname__``) or a tuple ``(obj, "full.path.in.file")``.
    Only add what you trust: it is called with arguments chosen by the file."""
    global _marked_safe_globals_set
    _marked_safe_globals_set = _marked_safe_globals_set.union(set(safe_globals))


def get_safe_globals():
    """The list of user-added globals that are safe for ``weights_only`` load."""
    return list(_marked_safe_globals_set)


def clear_safe_globals():
    """Clears the list of globals that are safe for ``weights_only`` load."""
    global _marked_safe_globals_set
    _marked_safe_globals_set = set()


class safe_globals:
    """Context manager that adds certain globals as safe for ``weights_only`` load, and removes them
    again on exit::

        with ember.serialization.safe_globals([MyClass]):
            ember.load(f, weights_only=True)
    """

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, type, value, tb):
        global _marked_safe_globals_set
        _marked_safe_globals_set = _marked_safe_globals_set - set(self.safe_globals)


def _user_allowed_globals():
    rc = {}
    for f in _marked_safe_globals_set:
        if isinstance(f, tuple):
            if len(f) != 2:
                raise _deliberate(ValueError(f"Expected tuple of length 2 (global, str of callable full path), "
                                             f"but got tuple of length: {len(f)}"))
            if type(f[1]) is not str:
                raise _deliberate(TypeError(f"Expected second item in tuple to be str of callable full path, "
                                            f"but got: {type(f[1])}"))
            f, name = f
            rc[name] = f
        else:
            rc[f"{f.__module__}.{f.__qualname__}"] = f
    return rc


# -- reading storages -----------------------------------------------------------------------------------
class _Context:
    """What both unpicklers share: the file name (for messages), where storages come from, map_location."""

    def __init__(self, name, map_location, read_storage, swap_bytes):
        self.name = name
        self.map_location = map_location
        self.read_storage = read_storage  # key, nbytes -> 1-D uint8 array
        self.swap_bytes = swap_bytes
        self.storages = {}
        self._typed_views = {}

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise _load_error(f"unexpected persistent id in checkpoint {self.name}: {pid!r}")
        kind = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
        if kind != "storage" or len(pid) != 5:
            raise _load_error(f"unexpected persistent id in checkpoint {self.name}: {pid!r}")
        _, stype, key, location, numel = pid
        if isinstance(location, bytes):
            location = location.decode("ascii")
        return self.storage(stype, key, location, numel)

    def storage(self, stype, key, location, numel):
        if not isinstance(stype, _StorageType):
            raise _load_error(f"unexpected storage type in checkpoint {self.name}: {stype!r}")
        if stype.dtype is None:
            raise _load_error(
                f"ember.load: {self.name} holds a tensor of dtype {_UNSUPPORTED_STORAGES[stype.name]} "
                f"(torch.{stype.name}), which ember does not support; ember has float16/32/64, complex64/128, "
                "int8/16/32/64, uint8 and bool. Convert it in PyTorch first (e.g. t.float()).")
        if not isinstance(key, str):
            raise _load_error(f"invalid storage key in checkpoint {self.name}: {key!r}")
        if not isinstance(location, str):
            raise _load_error(f"invalid storage location in checkpoint {self.name}: {location!r} (storage {key!r}; "
                              "a location is a device name such as 'cpu')")
        numel = _check_int(numel, "storage size")
        nbytes = numel * stype.dtype.itemsize
        raw = self.storages.get(key)
        if raw is None:
            raw = self.read_storage(key, nbytes)
            if self.swap_bytes and stype.dtype.itemsize > 1:
                raw.view(stype.dtype.np).byteswap(inplace=True)
            self.storages[key] = raw
        elif raw.size < nbytes:
            raise _load_error(f"storage {key} of {self.name} is smaller than a tensor saved on it")
        return self._restore(_LoadedStorage(raw, stype.dtype, location, self._typed(key, raw, stype.dtype)),
                             location)

    def _typed(self, key, raw, dtype):
        """One typed array per storage and dtype, so every tensor loaded on a storage views the same
        array, and saving them again shares one storage as well."""
        typed = self._typed_views.get((key, dtype.name))
        if typed is None:
            if raw.size % dtype.itemsize:
                raise _load_error(f"storage {key} of {self.name} ({raw.size} bytes) cannot hold {dtype} elements")
            typed = self._typed_views[(key, dtype.name)] = raw.view(dtype.np)
        return typed

    def _restore(self, storage, location):
        """map_location: ember only has the CPU, so every location (e.g. 'cuda:0') loads there; a
        callable map_location is still called, as torch does, and may return the storage it is given."""
        ml = self.map_location
        if callable(ml) and not isinstance(ml, type):
            try:
                result = ml(storage, location)
            except Exception as e:  # the caller's own function failed: not the file's fault
                raise _deliberate(e)
            if isinstance(result, _LoadedStorage):
                return result
        return storage


# -- the restricted unpickler ---------------------------------------------------------------------------
class _OpcodeTable(dict):
    def __missing__(self, key):
        raise pickle.UnpicklingError(f"Unsupported operand {key} (opcode {bytes([key])!r}) in checkpoint")


def _remap_py2(module, name):
    import _compat_pickle
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class _SafeUnpickler(pickle._Unpickler):
    """Only builds data: see the module docstring. Every global goes through find_class's allow-list."""

    def __init__(self, file, ctx, encoding="utf-8"):
        super().__init__(file, encoding=encoding)
        self._ctx = ctx
        _ensure_tables()
        self._user = _user_allowed_globals()
        self._user_ids = {id(v) for v in self._user.values()}
        # Hashing a tuple visits every element of every nested tuple, and pickle's memo lets 30 bytes
        # nest a tuple in itself 40 times over (2**40 visits). So each tuple's expanded size is known
        # when it is built, and hashing it (as a dict key, a set element) is paid from a budget.
        self._heavy_tuples = {}  # id -> (tuple, expanded size), for tuples that hold tuples
        budget = _CURRENT_BUDGET.get()
        self._hash_left = (1 << 22) + 16 * (budget.file_size if budget is not None else 0)

    def find_class(self, module, name):
        module, name = _remap_py2(module, name)
        obj = _safe_global(module, name)
        if obj is None:
            full = f"{module}.{name}"
            if full in self._user:
                return self._user[full]
            shown = full[len("builtins."):] if full.startswith("builtins.") else full
            raise _refusal(f"Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use "
                           f"`ember.serialization.add_safe_globals([{shown}])` or the "
                           f"`ember.serialization.safe_globals([{shown}])` context manager to allowlist this "
                           "global if you trust this class/function.")
        return obj

    def persistent_load(self, pid):
        return self._ctx.persistent_load(pid)

    @staticmethod
    def _allowed(obj):
        # the allow-listed callables, minus the tensor classes (calling torch.Tensor(n, m) allocates)
        return id(obj) in _SAFE_CALLABLE_IDS

    # REDUCE: only the allow-listed callables
    def load_reduce(self):
        stack = self.stack
        args = stack.pop()
        func = stack[-1]
        if type(args) is not tuple:
            raise pickle.UnpicklingError("REDUCE arguments must be a tuple")
        if self._allowed(func):
            _check_call(func, args)
            self._pay_for_call(func, args)
        elif id(func) not in self._user_ids:
            raise _refusal(f"Trying to call reduce for unrecognized function {func!r}.")
        stack[-1] = func(*args)

    # NEWOBJ / NEWOBJ_EX: plain containers and Size; a Parameter is built through its constructor
    def _new(self, cls, args, kwargs):
        from ember.nn.parameter import Parameter
        if type(args) is not tuple or type(kwargs) is not dict:
            raise pickle.UnpicklingError("NEWOBJ arguments must be a tuple")
        if cls is Parameter and not kwargs:
            return _make_parameter(*args)
        if cls in (OrderedDict, collections.Counter, set, frozenset, Size, complex):
            _check_call(cls, args, kwargs)
            return cls.__new__(cls, *args, **kwargs)
        if id(cls) in self._user_ids:
            return cls.__new__(cls, *args, **kwargs)
        raise _refusal(f"Can only create new objects of allow-listed container classes, but got {cls!r}.")

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._new(cls, args, {}))

    def load_newobj_ex(self):
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._new(cls, args, kwargs))

    # BUILD: attributes of an OrderedDict (a state_dict's _metadata), nothing else
    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if id(type(inst)) in self._user_ids and type(inst) not in (OrderedDict, collections.Counter):
            return self._build_user_object(inst, state)
        if type(inst) not in (OrderedDict, collections.Counter):
            raise _refusal(f"Can only build OrderedDict objects from a checkpoint, but got {type(inst)!r}.")
        if isinstance(state, tuple) and len(state) == 2 and state[1] is None:
            state = state[0]
        if state is None:
            return
        if type(state) is not dict or not all(type(k) is str for k in state):
            raise pickle.UnpicklingError(f"invalid state for {type(inst).__name__} in checkpoint")
        inst.__dict__.update(state)

    @staticmethod
    def _build_user_object(inst, state):
        """BUILD of a class the user allowed with add_safe_globals: as pickle (and torch) do it."""
        if getattr(inst, "__setstate__", None) is not None:
            inst.__setstate__(state)
            return
        slotstate = None
        if isinstance(state, tuple) and len(state) == 2:
            state, slotstate = state
        if state:
            inst.__dict__.update(state)
        if slotstate:
            for k, v in slotstate.items():
                setattr(inst, k, v)

    def load_append(self):
        value = self.stack.pop()
        if type(self.stack[-1]) is not list:
            raise pickle.UnpicklingError(f"Can only append to lists, but got {type(self.stack[-1])}")
        self.stack[-1].append(value)

    def load_appends(self):
        items = self.pop_mark()
        if type(self.stack[-1]) is not list:
            raise pickle.UnpicklingError(f"Can only extend lists, but got {type(self.stack[-1])}")
        self.stack[-1].extend(items)

    def _mapping_target(self):
        target = self.stack[-1]
        if type(target) not in (dict, OrderedDict, collections.Counter):
            raise pickle.UnpicklingError(f"Can only set items of dicts, but got {type(target)}")
        return target

    # -- the cost of hashing ------------------------------------------------------------------------
    def _size_of(self, x):
        if type(x) is not tuple:
            return 1
        entry = self._heavy_tuples.get(id(x))
        return entry[1] if entry is not None and entry[0] is x else len(x) + 1

    def _weigh_new_tuple(self):
        t = self.stack[-1]
        size = 1 + sum(self._size_of(x) for x in t)
        if size > len(t) + 1:
            if size > self._hash_left:
                raise _refusal(f"A tuple built from shared references to other tuples expands to {size} "
                               "elements, more than a file of this size can describe.")
            self._heavy_tuples[id(t)] = (t, size)

    def _pay_hashing(self, keys):
        cost = sum(self._size_of(k) for k in keys)
        if cost > self._hash_left:
            raise _refusal(f"Hashing the keys of this checkpoint's dicts and sets would visit more than "
                           f"{self._hash_left + cost} elements (tuples nested through shared references).")
        self._hash_left -= cost

    def load_tuple(self):
        pickle._Unpickler.load_tuple(self)
        self._weigh_new_tuple()

    def load_tuple1(self):
        pickle._Unpickler.load_tuple1(self)
        self._weigh_new_tuple()

    def load_tuple2(self):
        pickle._Unpickler.load_tuple2(self)
        self._weigh_new_tuple()

    def load_tuple3(self):
        pickle._Unpickler.load_tuple3(self)
        self._weigh_new_tuple()

    def load_dict(self):
        items = self.pop_mark()
        self._pay_hashing(items[0::2])
        self.append({items[i]: items[i + 1] for i in range(0, len(items), 2)})

    def load_frozenset(self):
        items = self.pop_mark()
        self._pay_hashing(items)
        self.append(frozenset(items))

    def _pay_for_call(self, func, args):
        """set/frozenset/Counter/OrderedDict hash what they are given (checked to be containers)."""
        if func in (set, frozenset, collections.Counter, OrderedDict) and args:
            arg = args[0]
            if func is OrderedDict and type(arg) in (list, tuple):
                self._pay_hashing([pair[0] for pair in arg])
            elif type(arg) not in (str, bytes, bytearray):
                self._pay_hashing(list(arg))

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._pay_hashing((key,))
        self._mapping_target()[key] = value

    def load_setitems(self):
        items = self.pop_mark()
        target = self._mapping_target()
        self._pay_hashing(items[0::2])
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def load_additems(self):
        items = self.pop_mark()
        if type(self.stack[-1]) is not set:
            raise pickle.UnpicklingError(f"Can only add items to sets, but got {type(self.stack[-1])}")
        self._pay_hashing(items)
        self.stack[-1].update(items)

    def load_bytearray8(self):  # the stock handler allocates the announced length before reading
        n, = struct.unpack("<Q", self.read(8))
        data = self.read(n)
        if len(data) != n:
            raise pickle.UnpicklingError("pickle data was truncated")
        self.append(bytearray(data))

    def _refuse_opcode(self):
        raise _refusal("Unsupported pickle opcode (INST/OBJ/EXT/out-of-band buffer) in checkpoint.")

    dispatch = _OpcodeTable()


_STOCK_OPCODES = (
    "PROTO FRAME STOP MARK POP POP_MARK DUP NONE NEWTRUE NEWFALSE INT BININT BININT1 BININT2 LONG LONG1 LONG4 "
    "FLOAT BINFLOAT STRING BINSTRING SHORT_BINSTRING BINBYTES SHORT_BINBYTES BINBYTES8 UNICODE "
    "BINUNICODE SHORT_BINUNICODE BINUNICODE8 EMPTY_TUPLE EMPTY_LIST LIST EMPTY_DICT "
    "EMPTY_SET GET BINGET LONG_BINGET PUT BINPUT LONG_BINPUT MEMOIZE PERSID BINPERSID GLOBAL "
    "STACK_GLOBAL").split()
for _op in _STOCK_OPCODES:
    _code = getattr(pickle, _op)[0]
    _SafeUnpickler.dispatch[_code] = pickle._Unpickler.dispatch[_code]
for _op, _fn in (("REDUCE", _SafeUnpickler.load_reduce), ("NEWOBJ", _SafeUnpickler.load_newobj),
                 ("NEWOBJ_EX", _SafeUnpickler.load_newobj_ex), ("BUILD", _SafeUnpickler.load_build),
                 ("APPEND", _SafeUnpickler.load_append), ("APPENDS", _SafeUnpickler.load_appends),
                 ("SETITEM", _SafeUnpickler.load_setitem), ("SETITEMS", _SafeUnpickler.load_setitems),
                 ("ADDITEMS", _SafeUnpickler.load_additems), ("BYTEARRAY8", _SafeUnpickler.load_bytearray8),
                 ("TUPLE", _SafeUnpickler.load_tuple), ("TUPLE1", _SafeUnpickler.load_tuple1),
                 ("TUPLE2", _SafeUnpickler.load_tuple2), ("TUPLE3", _SafeUnpickler.load_tuple3),
                 ("DICT", _SafeUnpickler.load_dict), ("FROZENSET", _SafeUnpickler.load_frozenset)):
    _SafeUnpickler.dispatch[getattr(pickle, _op)[0]] = _fn
for _op in ("INST", "OBJ", "EXT1", "EXT2", "EXT4", "NEXT_BUFFER", "READONLY_BUFFER"):
    _SafeUnpickler.dispatch[getattr(pickle, _op)[0]] = _SafeUnpickler._refuse_opcode
del _op, _code, _fn


# -- the unrestricted unpickler (weights_only=False) ----------------------------------------------------
def _trusted_global(module, name):
    _ensure_tables()
    if f"{module}.{name}" == "torch._tensor._rebuild_from_type_v2":
        return _rebuild_from_type_v2_trusted
    obj = _safe_global(module, name)
    if obj is not None:
        if obj is _safe_bytearray:
            return bytearray
        if obj is _bytes_from_latin1:
            return codecs.encode
        return obj
    if module == "torch" or module.startswith("torch."):
        # best effort: PyTorch's class or function of the same path in ember (torch.nn.modules.linear.Linear
        # -> ember.nn.modules.linear.Linear, else ember.nn.Linear)
        import importlib
        rest = module[len("torch"):]
        candidates = ["ember" + rest]
        if rest.startswith(".nn.modules"):
            candidates.append("ember.nn")
        if rest.startswith(".optim"):
            candidates.append("ember.optim")
        for cand in candidates:
            try:
                mod = importlib.import_module(cand)
                return getattr(mod, name)
            except (ImportError, AttributeError):
                continue
        raise _load_error(f"ember.load: the checkpoint needs the PyTorch object {module}.{name}, which ember "
                          "has no counterpart for")
    return None


class _FullUnpickler(pickle.Unpickler):
    def __init__(self, file, ctx, encoding="utf-8"):
        super().__init__(file, encoding=encoding)
        self._ctx = ctx

    def find_class(self, module, name):
        obj = _trusted_global(*_remap_py2(module, name))
        if obj is not None:
            return obj
        return super().find_class(module, name)

    def persistent_load(self, pid):
        return self._ctx.persistent_load(pid)


# -- reading the containers -----------------------------------------------------------------------------
def _describe(f):
    if isinstance(f, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else f"<{type(f).__name__} object>"


@contextlib.contextmanager
def _container_errors(name, what):
    """Any failure while reading the zip container itself means a damaged file: say so, naming it."""
    try:
        yield
    except Exception as e:
        if getattr(e, "_ember_passthrough", False) or isinstance(e, MemoryError):
            raise
        # an OSError from seeking to an offset the file cannot have (zip64 records of 2**62) is damage;
        # other OSErrors (EIO, EACCES, ...) are the disk's and stay as they are
        if isinstance(e, OSError) and e.errno not in (errno.EINVAL, errno.EOVERFLOW, errno.EFBIG):
            raise
        raise _load_error(f"PytorchStreamReader failed {what} (while loading {name}: the file is truncated or "
                          f"corrupted; {type(e).__name__}: {e})") from e


def _zip_storage_reader(zf, prefix, name, mm):
    def read(key, nbytes):
        with _container_errors(name, f"reading storage data/{key}"):
            return _read_storage(key, nbytes)

    def _read_storage(key, nbytes):
        entry = f"{prefix}data/{key}"
        try:
            info = zf.getinfo(entry)
        except KeyError:
            raise _load_error(f"PytorchStreamReader failed locating file {entry}: file not found "
                              f"(checkpoint {name} is incomplete or corrupted)") from None
        if info.file_size != nbytes:
            raise _load_error(f"storage {entry} of {name} holds {info.file_size} bytes, but the checkpoint "
                              f"describes {nbytes}: the file is corrupted")
        if mm is not None and info.compress_type == zipfile.ZIP_STORED:
            header = bytes(mm[info.header_offset:info.header_offset + 30])
            if len(header) != 30 or header[:4] != b"PK\x03\x04":
                raise _load_error(f"bad zip local header for {entry} in {name}")
            n_name, n_extra = struct.unpack("<HH", header[26:30])
            start = info.header_offset + 30 + n_name + n_extra
            if start + nbytes > mm.size:
                raise _load_error(f"storage {entry} runs past the end of {name}: the file is truncated")
            return mm[start:start + nbytes]
        out = np.empty(nbytes, np.uint8)
        with zf.open(info) as src:
            got = src.readinto(memoryview(out)) if nbytes else 0
            if got != nbytes or src.read(1):  # reading to the end also makes zipfile check the CRC
                raise _load_error(f"storage {entry} of {name} is truncated")
        return out
    return read


def _load_zip(fobj, name, map_location, weights_only, mmap_path, encoding):
    start = fobj.tell()
    file_size = fobj.seek(0, io.SEEK_END)
    fobj.seek(start)
    with _container_errors(name, "reading zip archive: failed finding central directory"):
        zf = zipfile.ZipFile(fobj)
    with zf:
        with _container_errors(name, "reading zip archive"):
            pickled, byteorder, prefix = _read_zip_records(zf, name, file_size)
        mm = None
        if mmap_path is not None:
            mm = np.memmap(mmap_path, dtype=np.uint8, mode="c")
        ctx = _Context(name, map_location, _zip_storage_reader(zf, prefix, name, mm), byteorder != sys.byteorder)
        cls = _SafeUnpickler if weights_only else _FullUnpickler
        return cls(io.BytesIO(pickled), ctx, encoding=encoding).load()


def _read_zip_records(zf, name, file_size):
    """data.pkl, the byte order and the folder name of a torch.save archive."""
    for info in zf.infolist():  # sizes come from the file: never believe one larger than the file
        if info.compress_type != zipfile.ZIP_STORED:
            method = {zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}.get(
                info.compress_type, f"method {info.compress_type}")
            raise _load_error(f"{name}: entry {info.filename} is compressed ({method}); torch.save never "
                              "compresses checkpoint entries, and ember refuses compressed ones (a small file could "
                              "inflate to gigabytes in memory)")
        if info.header_offset + info.compress_size > file_size:
            raise _load_error(f"PytorchStreamReader failed reading file {info.filename}: the record runs past "
                              f"the end of {name} (the file is truncated or corrupted)")
    names = zf.namelist()
    if not names or "/" not in names[0]:
        raise _load_error(f"{name} is a zip archive but not a PyTorch checkpoint (its first entry is not "
                          "in a folder)")
    prefix = names[0].split("/", 1)[0] + "/"
    if prefix + "data.pkl" not in names:
        hint = (" It looks like a TorchScript archive (torch.jit.save), which ember cannot load."
                if prefix + "constants.pkl" in names else "")
        raise _load_error(f"{name} is a zip archive without {prefix}data.pkl, not a torch.save checkpoint.{hint}")
    byteorder = sys.byteorder
    if prefix + "byteorder" in names:
        byteorder = zf.read(prefix + "byteorder").decode("ascii", "replace")
        if byteorder not in ("little", "big"):
            raise _load_error(f"Unknown endianness type: {byteorder} (in {name})")
    return zf.read(prefix + "data.pkl"), byteorder, prefix


def _load_legacy(fobj, name, map_location, weights_only, encoding):
    """The format torch.save wrote before PyTorch 1.6 (still written with
    _use_new_zipfile_serialization=False): magic number, protocol version and system info pickles, the
    object pickle, the list of storage keys, then each storage as an 8-byte element count and its bytes."""
    fobj = io.BytesIO(fobj.read())  # the pickles' lengths are checked against what is really there
    end = len(fobj.getbuffer())

    def plain(what):  # these pickles hold only numbers, strings and dicts
        try:
            return _SafeUnpickler(fobj, _Context(name, None, None, False), encoding=encoding).load()
        except pickle.UnpicklingError as e:
            if getattr(e, "_ember_passthrough", False):  # a refused global: name it, not just "bad header"
                raise _deliberate(pickle.UnpicklingError(f"{e} (in the {what} pickle of legacy checkpoint "
                                                         f"{name})")) from e
            raise _load_error(f"{name} is not a valid checkpoint (bad {what}); the file is truncated or "
                              f"corrupted") from e
        except Exception as e:
            raise _load_error(f"{name} is not a valid checkpoint (bad {what}); the file is truncated or "
                              f"corrupted") from e

    if plain("magic number") != _LEGACY_MAGIC:
        raise _load_error(f"Invalid magic number; corrupt file? ({name})")
    version = plain("protocol version")
    if version != _LEGACY_PROTOCOL_VERSION:
        raise _load_error(f"Invalid protocol version: {version!r} ({name})")
    sys_info = plain("system info")
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    swap = little != (sys.byteorder == "little")

    roots = {}  # storage key -> (uint8 array to fill once the pickle is read, its dtype)
    declared = [0]  # bytes of all storages the pickle declared: together they must fit in the file

    def read_storage(key, nbytes):
        declared[0] += nbytes
        if declared[0] > end - fobj.tell():
            raise _load_error(f"{name} is truncated: its storages (at least {declared[0]} bytes) are larger than "
                              f"the rest of the file")
        return np.empty(nbytes, np.uint8)

    ctx = _Context(name, map_location, read_storage, False)

    def persistent_load(pid):
        if isinstance(pid, tuple) and len(pid) == 6 and pid[0] in ("storage", b"storage"):
            _, stype, key, location, numel, view = pid
            if isinstance(location, bytes):
                location = location.decode("ascii")
            storage = ctx.storage(stype, key, location, numel)
            roots.setdefault(key, (ctx.storages[key], stype.dtype))
            if view is not None:
                if not isinstance(view, tuple) or len(view) != 3:
                    raise _load_error(f"invalid storage view in {name}: {view!r}")
                isz = stype.dtype.itemsize
                v_offset, v_size = _check_int(view[1], "view offset"), _check_int(view[2], "view size")
                storage = _LoadedStorage(storage.raw[v_offset * isz:(v_offset + v_size) * isz], stype.dtype,
                                         location)
            return storage
        if isinstance(pid, tuple) and len(pid) == 4 and pid[0] in ("module", b"module") and not weights_only:
            return pid[1]  # a module class saved with its source; ember does not compare sources
        if weights_only:
            raise _refusal(f"Unexpected persistent id in legacy checkpoint: {pid!r}.")
        raise _load_error(f"unexpected persistent id in legacy checkpoint {name}: {pid!r}")

    ctx.persistent_load = persistent_load
    cls = _SafeUnpickler if weights_only else _FullUnpickler
    result = cls(fobj, ctx, encoding=encoding).load()
    keys = plain("storage list")
    if not isinstance(keys, list):
        raise _load_error(f"{name} is corrupted (bad storage list)")
    if not all(isinstance(k, str) for k in keys) or set(keys) != set(roots):
        raise _load_error(f"{name} is corrupted: its storage list does not match the saved object")
    for key in keys:
        raw, dtype = roots[key]
        head = fobj.read(8)
        if len(head) != 8:
            raise _load_error(f"{name} is truncated (storage {key} is missing)")
        numel = struct.unpack("<q" if little else ">q", head)[0]
        if numel * dtype.itemsize != raw.size:
            raise _load_error(f"{name} is corrupted: storage {key} has {numel} elements, the pickle says "
                              f"{raw.size // dtype.itemsize}")
        if raw.size and fobj.readinto(memoryview(raw)) != raw.size:
            raise _load_error(f"{name} is truncated (storage {key} is cut short)")
        if swap and dtype.itemsize > 1:
            raw.view(dtype.np).byteswap(inplace=True)
    return result


def verify_checksums(f):
    """Check the CRC-32 of every entry of a zip checkpoint (an ember extra; torch has no counterpart).

    ``ember.load(f)`` checks them as it reads; ``ember.load(f, mmap=True)`` cannot (it does not read
    the storages), so call this first for files that may be damaged. Reads the file once, in chunks.

    Raises:
        RuntimeError: naming the first entry whose bytes do not match its checksum, or saying the file
            is not a zip checkpoint / is truncated.
    """
    name = _describe(f)
    with contextlib.ExitStack() as stack:
        fobj = stack.enter_context(open(os.fsdecode(f), "rb")) if isinstance(f, (str, bytes, os.PathLike)) else f
        file_size = fobj.seek(0, io.SEEK_END)
        fobj.seek(0)
        with _container_errors(name, "reading zip archive: failed finding central directory"):
            zf = stack.enter_context(zipfile.ZipFile(fobj))
        with _container_errors(name, "reading zip archive"):
            _read_zip_records(zf, name, file_size)
        for info in zf.infolist():
            try:
                with zf.open(info) as src:
                    while src.read(1 << 20):
                        pass
            except zipfile.BadZipFile as e:
                raise _load_error(f"checksum mismatch in {name}: entry {info.filename} is corrupted ({e})") from None
            except (EOFError, OSError, ValueError) as e:
                raise _load_error(f"{name} is truncated or corrupted: entry {info.filename} cannot be read "
                                  f"({type(e).__name__}: {e})") from None


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Load an object saved with ``torch.save`` or ``ember.save`` (torch is not needed).

    Args:
        f: a path (str / os.PathLike) or a readable binary file object (a stream that cannot seek is
            read into memory first).
        map_location: accepted for compatibility ('cpu', a device, a dict, or a callable called as
            ``map_location(storage, location)``); ember only has the CPU, so every tensor - including
            ones saved from 'cuda:0' - loads onto the CPU.
        weights_only: True (the default) only rebuilds tensors, Parameters and plain containers and
            refuses any other global with ``pickle.UnpicklingError``. False unpickles anything,
            importing and calling what the file names: **it can run arbitrary code; use it only for
            files you trust** (it is how whole saved modules and custom classes load). PyTorch classes
            in such files are looked up in ember under the same path (torch.nn.modules.linear.Linear
            -> ember.nn.modules.linear.Linear), best effort.
        mmap: map the file's storages into memory (copy-on-write) instead of reading them; needs a path.
            The storages are then not read at load time, so their CRC-32 checksums are **not checked**
            (as in PyTorch): flipped bytes in tensor data load silently. Call
            ``ember.serialization.verify_checksums(path)`` first (it streams the file, in constant
            memory) when the file may be damaged.
    Raises:
        RuntimeError: the file is truncated, corrupted, not a checkpoint, or holds a dtype ember lacks.
        pickle.UnpicklingError: weights_only=True and the file names a global outside the allow-list.
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError("ember.load only supports the standard pickle module")
    encoding = pickle_load_args.pop("encoding", "utf-8")
    if pickle_load_args:
        raise TypeError(f"ember.load got unexpected keyword arguments {sorted(pickle_load_args)}")
    if weights_only is None:
        weights_only = True
    is_path = isinstance(f, (str, bytes, os.PathLike))
    if mmap and not is_path:
        raise ValueError("f must be a file path in order to use the mmap argument")
    name = _describe(f)
    if is_path:
        fobj = open(os.fsdecode(f), "rb")
    else:
        if not hasattr(f, "read"):
            raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a 'read' attribute, "
                                 f"got {type(f).__name__}")
        seekable = getattr(f, "seekable", None)
        fobj = f if seekable is not None and seekable() else io.BytesIO(f.read())  # e.g. a pipe or a socket
    try:
        start = fobj.tell()
        size = fobj.seek(0, io.SEEK_END) - start
        fobj.seek(start)
        token = _CURRENT_BUDGET.set(_Budget(name, size))
        try:
            return _load_file(fobj, name, map_location, bool(weights_only),
                              os.fsdecode(f) if (mmap and is_path) else None, encoding)
        finally:
            _CURRENT_BUDGET.reset(token)
    finally:
        if is_path:
            fobj.close()


def _load_file(fobj, name, map_location, weights_only, mmap_path, encoding):
    try:
        start = fobj.tell()
        head = fobj.read(512)
        fobj.seek(start)
        if not head:
            raise _load_error(f"{name} is empty: not a checkpoint (Ran out of input)")
        if head[:4] == b"PK\x03\x04":
            return _load_zip(fobj, name, map_location, weights_only, mmap_path, encoding)
        if head[:4] == b"\x80\x02\x8a\x0a":
            if mmap_path is not None:
                raise _load_error(f"mmap can only be used with files saved with the zip format of torch.save "
                                  f"(PyTorch >= 1.6); {name} uses the legacy format")
            return _load_legacy(fobj, name, map_location, weights_only, encoding)
        if len(head) >= 262 and head[257:262] == b"ustar":
            raise _load_error(f"{name} is in PyTorch's pre-0.4 tar checkpoint format, which ember cannot read; "
                              "re-save it with a recent PyTorch")
        raise _load_error(f"{name} is not a PyTorch or ember checkpoint: it is neither a zip archive nor a legacy "
                          "torch.save file (it may be corrupted or truncated)")
    except Exception as e:
        if getattr(e, "_ember_passthrough", False) or isinstance(e, (OSError, MemoryError)):
            raise
        if not weights_only and not isinstance(e, (pickle.UnpicklingError, EOFError, ValueError, OverflowError,
                                                   struct.error, NotImplementedError)):
            raise  # with weights_only=False, what the pickled objects' own code raises stays as it is
        raise RuntimeError(f"ember.load failed reading {name}: the file is truncated or corrupted "
                           f"({type(e).__name__}: {e})") from e
