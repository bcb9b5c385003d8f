"""Hostile and damaged checkpoints cost what the file is worth (issue 12).

Every file here is written byte by byte (pickle opcodes and zip records spelled out; the test never
unpickles anything itself) and loaded by `ember.load` in a child process whose address space is
limited to what it had after `import ember` plus 64 MiB (resource.setrlimit RLIMIT_AS). The load must
end within 1 s of CPU time in an UnpicklingError or RuntimeError whose message names what was refused,
and nothing from the file may run.
"""
import json
import os
import pickle
import struct
import subprocess
import sys
import zlib

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses RLIMIT_AS and /proc")

EXTRA_MEMORY = 64 << 20
CPU_LIMIT_S = 1.0

# -- pickle opcodes, protocol 2 ---------------------------------------------------------------------------
PROTO = b"\x80\x02"
MARK, TUPLE, EMPTY_TUPLE, TUPLE1, REDUCE, NEWOBJ, STOP = b"(", b"t", b")", b"\x85", b"R", b"\x81", b"."
BINPERSID, NEWFALSE, EMPTY_DICT, SETITEM = b"Q", b"\x89", b"}", b"s"


def glob(module, name):
    return b"c" + f"{module}\n{name}\n".encode()


def uni(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def integer(n):
    if 0 <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def int_tuple(ns):
    return MARK + b"".join(integer(n) for n in ns) + TUPLE


def storage(key="0", numel=1, location=None, stype="FloatStorage"):
    loc = uni("cpu") if location is None else location
    return MARK + uni("storage") + glob("torch", stype) + uni(key) + loc + integer(numel) + TUPLE + BINPERSID


def ordered_dict():
    return glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE


def tensor(size, stride, **storage_kw):
    """torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())"""
    return (glob("torch._utils", "_rebuild_tensor_v2") + MARK + storage(**storage_kw) + integer(0)
            + int_tuple(size) + int_tuple(stride) + NEWFALSE + ordered_dict() + TUPLE + REDUCE)


def call(module, name, *args):
    return glob(module, name) + MARK + b"".join(args) + TUPLE + REDUCE


def expanded():  # 2**40 float32 elements over one stored number: a few hundred bytes of file
    return tensor((2**40,), (0,))


# -- zip containers written by hand --------------------------------------------------------------------------
def zip_archive(entries, compress=(), cd_offset=None):
    """A zip of (name, bytes) records; names in `compress` are deflated (as torch.save never does)."""
    out, central = bytearray(), bytearray()
    for name, data in entries:
        name_b = f"archive/{name}".encode()
        crc = zlib.crc32(data)
        method, stored = (8, _deflate(data)) if name in compress else (0, data)
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(stored), len(data),
                           len(name_b), 0) + name_b + stored
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(stored),
                               len(data), len(name_b), 0, 0, 0, 0, 0, offset) + name_b
    cd_at = len(out)
    out += central
    n = len(entries)
    if cd_offset is not None:  # a zip64 end record claiming the central directory is at cd_offset
        eocd64_at = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
        out += struct.pack("<IIQI", 0x07064B50, 0, eocd64_at, 1)
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(central), cd_at, 0)
    return bytes(out)


def _deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def checkpoint(data_pkl, storages=(("0", b"\0\0\0\0"),), **kw):
    entries = [("data.pkl", data_pkl), ("byteorder", b"little")]
    entries += [(f"data/{k}", v) for k, v in storages]
    entries.append(("version", b"3\n"))
    return zip_archive(entries, **kw)


def inflating_checkpoint(inflated_mb):
    """data.pkl stored deflated: ~1 KB per MB of zeros, written in chunks (no big buffer in the test)."""
    comp, crc, chunk = zlib.compressobj(9, zlib.DEFLATED, -15), 0, bytes(1 << 20)
    body = bytearray()
    for _ in range(inflated_mb):
        body += comp.compress(chunk)
        crc = zlib.crc32(chunk, crc)
    body += comp.flush()
    size = inflated_mb << 20
    name_b = b"archive/data.pkl"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), size, len(name_b), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(body), size,
                          len(name_b), 0, 0, 0, 0, 0, 0) + name_b
    out = local + name_b + bytes(body)
    return out + central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(out), 0)


def legacy(obj_pkl, header_pkl=None, keys_pkl=None, storages=b""):
    """PyTorch's pre-1.6 format: magic, protocol version, system info, object, storage keys, storages."""
    magic = PROTO + integer(0x1950A86A20F9469CFC6C) + STOP
    version = PROTO + integer(1001) + STOP
    sys_info = header_pkl or (PROTO + EMPTY_DICT + uni("little_endian") + b"\x88" + SETITEM + STOP)
    keys = keys_pkl or (PROTO + b"]" + STOP)
    return magic + version + sys_info + obj_pkl + keys + storages


def legacy_storage(key, numel):
    """(storage, type, key, location, numel, view) as the legacy format's persistent id has it."""
    return (MARK + uni("storage") + glob("torch", "FloatStorage") + uni(key) + uni("cpu") + integer(numel)
            + b"N" + TUPLE + BINPERSID)


def _many_legacy_storages(n, numel):
    body = b"]" + MARK + b"".join(legacy_storage(str(i), numel) for i in range(n)) + b"e"
    return legacy(PROTO + body + STOP)


def tuple_dag(depth):
    """t0 = (); t(k+1) = (tk, tk) through pickle's memo: 20 bytes a level, 2**depth elements expanded
    (hashing it visits them all). Leaves t(depth) on the stack."""
    body = EMPTY_TUPLE + b"q\x00" + b"0"
    for k in range(depth):
        body += b"h" + bytes([k]) + b"h" + bytes([k]) + b"\x86" + b"q" + bytes([k + 1]) + b"0"
    return body + b"h" + bytes([depth])


def dag_keys(depth, times):
    """A dict whose keys are the same moderately nested tuple `times` times (each insertion hashes it)."""
    return EMPTY_DICT + tuple_dag(depth) + integer(0) + SETITEM + b"".join(
        b"h" + bytes([depth]) + integer(i) + SETITEM for i in range(times))


# -- the cases: name -> (file bytes, exception type, words the message must contain) ------------------------
def _cases():
    P = PROTO
    return {
        "set(expanded tensor)": (checkpoint(P + call("builtins", "set", expanded()) + STOP),
                                 "UnpicklingError", ["set(Tensor)"]),
        "frozenset(expanded tensor)": (checkpoint(P + call("builtins", "frozenset", expanded()) + STOP),
                                       "UnpicklingError", ["frozenset(Tensor)"]),
        "Counter(expanded tensor)": (checkpoint(P + call("collections", "Counter", expanded()) + STOP),
                                     "UnpicklingError", ["collections.Counter(Tensor)"]),
        "OrderedDict(expanded tensor)": (checkpoint(P + call("collections", "OrderedDict", expanded()) + STOP),
                                         "UnpicklingError", ["collections.OrderedDict(Tensor)"]),
        "OrderedDict([expanded tensor])": (
            checkpoint(P + glob("collections", "OrderedDict") + MARK + b"]" + expanded() + b"a" + TUPLE + REDUCE
                       + STOP), "UnpicklingError", ["(key, value) pairs"]),
        "Size(expanded tensor)": (checkpoint(P + call("torch", "Size", expanded()) + STOP),
                                  "UnpicklingError", ["torch.Size(Tensor)"]),
        "NEWOBJ Size(expanded tensor)": (
            checkpoint(P + glob("torch", "Size") + MARK + expanded() + TUPLE + NEWOBJ + STOP),
            "UnpicklingError", ["torch.Size(Tensor)"]),
        "bytearray(expanded tensor)": (checkpoint(P + call("builtins", "bytearray", expanded()) + STOP),
                                       "UnpicklingError", ["bytearray(Tensor)"]),
        "bytearray(2**40)": (checkpoint(P + call("builtins", "bytearray", integer(2**40)) + STOP),
                             "UnpicklingError", ["bytearray(1099511627776)", "larger than the file"]),
        "complex(expanded tensor)": (checkpoint(P + call("builtins", "complex", expanded()) + STOP),
                                     "UnpicklingError", ["complex(Tensor)"]),
        "device tensor from a (65536, 65536) zero-stride view": (
            checkpoint(P + call("torch._utils", "_rebuild_device_tensor_from_cpu_tensor",
                                tensor((65536, 65536), (0, 0)), glob("torch", "float64"), uni("cpu"), NEWFALSE)
                       + STOP),
            "RuntimeError", ["refused converting a tensor of shape [65536, 65536] to torch.float64"]),
        "compressed data.pkl inflating to 200 MB": (inflating_checkpoint(200), "RuntimeError",
                                                    ["data.pkl is compressed (deflate)", "never compresses"]),
        "compressed storage": (checkpoint(P + tensor((1,), (1,)) + STOP, compress=("data/0",)),
                               "RuntimeError", ["data/0 is compressed"]),
        "zip64 central directory at 2**62": (checkpoint(P + b"N" + STOP, cd_offset=2**62),
                                             "RuntimeError", ["truncated or corrupted", "hostile.pt"]),
        "storage larger than its record": (checkpoint(P + tensor((2**20,), (1,), numel=2**20) + STOP),
                                           "RuntimeError", ["data/0", "holds 4 bytes", "describes 4194304"]),
        "storage missing from the archive": (checkpoint(P + tensor((1,), (1,), key="7") + STOP),
                                             "RuntimeError", ["data/7", "file not found"]),
        "tensor past the end of its storage": (checkpoint(P + tensor((2**40,), (1,)) + STOP),
                                               "RuntimeError", ["out of bounds for a storage of 1 elements"]),
        "storage location not a string": (checkpoint(P + tensor((1,), (1,), location=ordered_dict()) + STOP),
                                          "RuntimeError", ["invalid storage location", "OrderedDict()"]),
        "tuple of 2**40 elements through shared references, as a dict key": (
            checkpoint(P + EMPTY_DICT + tuple_dag(40) + integer(1) + SETITEM + STOP, storages=()),
            "UnpicklingError", ["tuple built from shared references", "expands to"]),
        "frozenset of a 2**40-element tuple": (
            checkpoint(P + MARK + tuple_dag(40) + b"\x91" + STOP, storages=()),
            "UnpicklingError", ["tuple built from shared references"]),
        "a 2**20-element tuple hashed 200 times": (
            checkpoint(P + dag_keys(20, 200) + STOP, storages=()),
            "UnpicklingError", ["Hashing the keys"]),
        "set() of a list of a 2**20-element tuple 200 times": (
            checkpoint(P + call("builtins", "set", b"]" + MARK + b"".join([tuple_dag(20)] + [b"h\x14"] * 200) + b"e")
                       + STOP, storages=()),
            "UnpicklingError", ["Hashing the keys"]),
        "legacy: storages larger than the file": (_many_legacy_storages(50, 2**20), "RuntimeError",
                                                  ["storages", "larger than the rest of the file"]),
        "legacy: refused global in the system-info pickle": (
            legacy(P + b"N" + STOP, header_pkl=P + call("os", "system", uni("echo pwned")) + STOP),
            "UnpicklingError", ["GLOBAL os.system", "system info"]),
        "legacy: os.system in the object pickle": (legacy(P + call("os", "system", uni("echo pwned")) + STOP),
                                                   "UnpicklingError", ["GLOBAL os.system"]),
        "legacy: set(expanded tensor)": (
            legacy(P + call("builtins", "set", glob("torch._utils", "_rebuild_tensor_v2") + MARK
                            + legacy_storage("0", 1) + integer(0) + int_tuple((2**40,)) + int_tuple((0,))
                            + NEWFALSE + ordered_dict() + TUPLE + REDUCE) + STOP),
            "UnpicklingError", ["set(Tensor)"]),
    }


CASES = _cases()

CHILD = r"""
import json, os, pickle, resource, sys, time
import ember
def vm():
    return int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
limit = vm() + EXTRA
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, w0 = time.process_time(), time.perf_counter()
try:
    ember.load(sys.argv[1])
    outcome = ("loaded", "")
except BaseException as e:
    outcome = (type(e).__name__, str(e))
cpu, wall = time.process_time() - t0, time.perf_counter() - w0
extra = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024
print(json.dumps({"type": outcome[0], "message": outcome[1], "cpu": cpu, "wall": wall, "extra_rss": extra}))
""".replace("EXTRA", str(EXTRA_MEMORY))


def load_in_child(path, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=60,
                          env=env, cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_is_refused_cheaply(tmp_path, case):
    data, exc_type, words = CASES[case]
    path = tmp_path / "hostile.pt"
    path.write_bytes(data)
    result = load_in_child(path, tmp_path)
    assert result["type"] == exc_type, result
    for w in words:
        assert w in result["message"], (w, result["message"])
    assert "MemoryError" not in result["message"]
    assert result["cpu"] < CPU_LIMIT_S, result
    assert result["extra_rss"] < EXTRA_MEMORY, result
    assert sorted(os.listdir(tmp_path)) == ["hostile.pt"]  # nothing ran, nothing was left


def test_expanded_tensor_in_plain_containers_loads_as_a_view(tmp_path):
    """A zero-stride tensor is a legitimate checkpoint (torch saves expand()ed tensors so): it loads as a
    view over its one stored number, never materialised."""
    pkl = PROTO + EMPTY_DICT + uni("x") + tensor((65536, 65536), (0, 0)) + SETITEM + STOP
    path = tmp_path / "view.pt"
    path.write_bytes(checkpoint(pkl))
    result = load_in_child(path, tmp_path)
    assert result["type"] == "loaded" and result["cpu"] < CPU_LIMIT_S and result["extra_rss"] < EXTRA_MEMORY


def test_allowed_callables_still_take_what_torch_writes(tmp_path):
    """The argument checks refuse tensors, not the containers torch.save really produces."""
    import ember
    pkl = (PROTO + EMPTY_DICT
           + uni("s") + call("builtins", "set", b"]" + MARK + integer(1) + integer(2) + b"e") + SETITEM
           + uni("f") + call("builtins", "frozenset", b"]" + MARK + uni("a") + b"e") + SETITEM
           + uni("c") + call("collections", "Counter", EMPTY_DICT + uni("k") + integer(3) + SETITEM) + SETITEM
           + uni("o") + call("collections", "OrderedDict", b"]" + MARK + MARK + uni("k") + integer(1) + TUPLE
                             + b"e") + SETITEM
           + uni("z") + call("torch", "Size", int_tuple((2, 3))) + SETITEM
           + uni("b") + call("builtins", "bytearray", uni("ab"), uni("latin-1")) + SETITEM
           + uni("n") + call("builtins", "bytearray", integer(3)) + SETITEM
           + uni("j") + call("builtins", "complex", b"G" + struct.pack(">d", 1.0), b"G" + struct.pack(">d", 2.0))
           + SETITEM + STOP)
    path = tmp_path / "ok.pt"
    path.write_bytes(checkpoint(pkl, storages=()))
    out = ember.load(path)
    assert out["s"] == {1, 2} and out["f"] == frozenset({"a"}) and out["c"] == {"k": 3}
    assert list(out["o"].items()) == [("k", 1)] and out["z"] == ember.Size([2, 3])
    assert out["b"] == bytearray(b"ab") and out["n"] == bytearray(3) and out["j"] == 1 + 2j


def test_mmap_skips_crcs_and_verify_checksums_finds_the_damage(tmp_path):
    import ember
    from ember import serialization
    path = tmp_path / "w.pt"
    ember.save({"w": ember.arange(1000, dtype=ember.float32)}, path)
    serialization.verify_checksums(path)  # an intact file passes
    raw = bytearray(path.read_bytes())
    at = raw.index(struct.pack("<f", 500.0))
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match="truncated or corrupted"):
        ember.load(path)  # a normal load checks the CRC
    loaded = ember.load(path, mmap=True)  # documented: mmap does not read, so does not check
    assert loaded["w"].numpy()[500] != 500.0
    with pytest.raises(RuntimeError, match=r"checksum mismatch in .*w\.pt.*entry w/data/0"):
        serialization.verify_checksums(path)


def test_legacy_malicious_pickle_runs_nothing_under_the_default(tmp_path):
    """The legacy (pre-1.6) format goes through the restricted unpickler too when weights_only is left
    at its default."""
    import ember
    marker = tmp_path / "pwned"
    path = tmp_path / "legacy.pt"
    path.write_bytes(legacy(PROTO + call("os", "system", uni(f"touch {marker}")) + STOP))
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL os.system"):
        ember.load(path)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL os.system"):
        with open(path, "rb") as f:
            ember.load(f)
    assert not marker.exists()


# -- globals the user allows (torch.serialization.add_safe_globals & co.) -----------------------------------
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


def make_point(x, y):
    return Point(x, y)


@pytest.fixture
def clean_safe_globals():
    from ember import serialization
    serialization.clear_safe_globals()
    yield serialization
    serialization.clear_safe_globals()


def test_safe_globals_allow_a_class_only_while_asked(tmp_path, clean_safe_globals):
    import ember
    serialization = clean_safe_globals
    path = tmp_path / "p.pt"
    ember.save({"p": Point(1, 2.5), "w": ember.ones(3)}, path)
    with pytest.raises(pickle.UnpicklingError, match=r"add_safe_globals\(\[.*Point\]\)"):
        ember.load(path)
    with serialization.safe_globals([Point]):
        assert serialization.get_safe_globals() == [Point]
        out = ember.load(path)
    assert type(out["p"]) is Point and (out["p"].x, out["p"].y) == (1, 2.5) and out["w"].tolist() == [1, 1, 1]
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        ember.load(path)
    serialization.add_safe_globals([Point])
    assert type(ember.load(path)["p"]) is Point
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        ember.load(path)


def test_safe_globals_under_another_name_and_functions(tmp_path, clean_safe_globals):
    import ember
    serialization = clean_safe_globals
    # a function called through REDUCE, named in the file by a path of the user's choosing
    pkl = PROTO + call("mylib.geometry", "point", integer(3), integer(4)) + STOP
    path = tmp_path / "f.pt"
    path.write_bytes(checkpoint(pkl, storages=()))
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL mylib.geometry.point"):
        ember.load(path)
    serialization.add_safe_globals([(make_point, "mylib.geometry.point")])
    p = ember.load(path)
    assert type(p) is Point and (p.x, p.y) == (3, 4)
    serialization.add_safe_globals([(make_point, "a", "b")])
    with pytest.raises(ValueError, match="Expected tuple of length 2"):
        ember.load(path)


def test_safe_globals_agree_with_torch(tmp_path, clean_safe_globals):
    torch = pytest.importorskip("torch")
    import ember
    serialization = clean_safe_globals
    path = tmp_path / "p.pt"
    ember.save({"p": Point(5, 6), "w": ember.arange(4)}, path)
    with torch.serialization.safe_globals([Point]):
        t = torch.load(path, weights_only=True)
    with serialization.safe_globals([Point]):
        e = ember.load(path, weights_only=True)
    assert (t["p"].x, t["p"].y) == (e["p"].x, e["p"].y) and t["w"].tolist() == e["w"].tolist()
    for name in ("add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals"):
        assert hasattr(torch.serialization, name) and name in serialization.__all__


# -- no litter -----------------------------------------------------------------------------------------------
WRITER = r"""
import sys, numpy as np, ember
big = {"w": ember.from_numpy(np.ones(40 << 20 >> 2, np.float32))}
while True:
    ember.save(big, sys.argv[1])
"""


def test_killed_saves_leave_the_destination_intact_and_the_next_save_cleans_up(tmp_path):
    import signal
    import time
    import ember
    target = tmp_path / "ck.pt"
    ember.save({"epoch": 1}, target)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    leftovers = set()
    for _ in range(2):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], env=env)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # kill it while a temporary is being written
                tmps = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
                if tmps and os.path.getsize(tmp_path / tmps[0]) > 0:
                    break
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait()
        loaded = ember.load(target)  # whatever the kill interrupted, the destination is a whole checkpoint
        assert loaded == {"epoch": 1} or loaded["w"].shape == (10 << 20,)
        leftovers |= {n for n in os.listdir(tmp_path) if n.endswith(".tmp")}
    assert leftovers and all(n.startswith(".ck.pt.") for n in leftovers)
    ember.save({"epoch": 2}, target)
    assert sorted(os.listdir(tmp_path)) == ["ck.pt"] and ember.load(target) == {"epoch": 2}


def test_stale_temporaries_only_of_the_same_destination_and_dead_writers(tmp_path):
    import time
    import ember
    from ember import serialization
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout.strip()
        names = {
            f".ck.pt.{dead}.0123456789ab.tmp": False,            # its writer has exited: removed
            f".ck.pt.{sleeper.pid}.0123456789ab.tmp": True,      # a live writer: kept
            ".ck.pt.0123456789ab.tmp": True,                     # older naming, changed just now: kept
            ".ck.pt.abcdefabcdef.tmp": False,                    # older naming, unchanged for an hour: removed
            f".other.pt.{dead}.0123456789ab.tmp": True,          # another destination's: kept
            ".ck.pt.notours.tmp": True,                          # not ember's naming: kept
            "ck.pt.tmp": True,
        }
        for n in names:
            (tmp_path / n).write_bytes(b"partial")
        hour_ago = time.time() - 3600
        os.utime(tmp_path / ".ck.pt.abcdefabcdef.tmp", (hour_ago, hour_ago))
        ember.save({"a": 1}, tmp_path / "ck.pt")
        for n, kept in names.items():
            assert (tmp_path / n).exists() == kept, n
        assert serialization._remove_stale_temporaries(str(tmp_path / "ck.pt")) == []
    finally:
        sleeper.kill()
        sleeper.wait()


# -- a corpus of damaged files, all loaded in one limited child --------------------------------------------
CORPUS_CHILD = r"""
import json, os, pickle, resource, sys, time
import ember
def vm():
    return int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
limit = vm() + EXTRA
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
results = {}
for name in sorted(os.listdir(sys.argv[1])):
    t0 = time.process_time()
    try:
        ember.load(os.path.join(sys.argv[1], name))
        outcome = "loaded"
    except (RuntimeError, pickle.UnpicklingError) as e:
        outcome = type(e).__name__
    except BaseException as e:
        outcome = f"unexpected {type(e).__name__}: {e}"
    results[name] = (outcome, time.process_time() - t0)
extra = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024
print(json.dumps({"results": results, "extra_rss": extra}))
""".replace("EXTRA", str(EXTRA_MEMORY))


def test_damaged_corpus_ends_cleanly_within_limits(tmp_path):
    """A real checkpoint cut at 60 places and with 60 single flipped bytes: each load ends (loaded, or a
    RuntimeError / UnpicklingError) within 1 s of CPU, all of them within 64 MiB more memory. Every flip
    inside tensor data is caught by the CRC."""
    import numpy as np
    import ember
    good = tmp_path / "good.pt"
    rng = np.random.default_rng(0)
    ember.save({"w": ember.from_numpy(rng.standard_normal((64, 64)).astype(np.float32)), "b": ember.zeros(64),
                "step": 3, "names": ["a", "b"]}, good)
    raw = good.read_bytes()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    data_at = raw.index(np.asarray(ember.load(good)["w"].numpy()).tobytes()[:64])
    for i, cut in enumerate(np.linspace(1, len(raw) - 1, 60).astype(int)):
        (corpus / f"cut{i:02d}").write_bytes(raw[:cut])
    flips = {}
    for i, at in enumerate(rng.choice(len(raw), 60, replace=False)):
        damaged = bytearray(raw)
        damaged[at] ^= 0x5A
        (corpus / f"flip{i:02d}").write_bytes(bytes(damaged))
        flips[f"flip{i:02d}"] = data_at <= at < data_at + 64 * 64 * 4
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-c", CORPUS_CHILD, str(corpus)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, (outcome, cpu) in report["results"].items():
        assert not outcome.startswith("unexpected"), (name, outcome)
        assert cpu < CPU_LIMIT_S, (name, cpu)
        if name.startswith("cut"):
            assert outcome != "loaded", name
        if flips.get(name):
            assert outcome == "RuntimeError", name  # the zip CRC catches changed tensor bytes
    assert report["extra_rss"] < EXTRA_MEMORY
