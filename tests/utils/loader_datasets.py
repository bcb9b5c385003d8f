"""Datasets for the data-loading tests, importing nothing heavier than NumPy and the library under test.

Module-level classes, picklable by reference, so the 'spawn' start method can use them without importing
torch in every worker. Each builds its tensors from NumPy with the library named in its ``lib_name`` (the
library under test by default: EMBER_TEST_LIB, as in tests/torch_compare.py).
"""
import collections
import importlib
import os
import random
import time

import numpy as np

LIB_NAME = os.environ.get("EMBER_TEST_LIB", "ember").strip().lower() or "ember"
data = importlib.import_module(LIB_NAME + ".utils.data")

Point = collections.namedtuple("Point", ["x", "label"])


def lib_of(name):
    return importlib.import_module(name)


def data_of(lib):
    return importlib.import_module(lib.__name__ + ".utils.data")


def arrays(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, 3)).astype(np.float32), np.arange(n, dtype=np.int64))


class SampleDataset:
    """Samples of a chosen kind, built from index i (no tensors unless the kind asks for them)."""

    def __init__(self, lib_name, kind, n=10):
        self.lib_name, self.kind, self.n = lib_name, kind, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i >= self.n:
            raise IndexError(i)
        lib = lib_of(self.lib_name)
        x = np.arange(4, dtype=np.float32) + i
        k = self.kind
        if k == "int":
            return i
        if k == "float":
            return i / 2
        if k == "bool":
            return i % 2 == 0
        if k == "str":
            return f"s{i}"
        if k == "bytes":
            return b"b%d" % i
        if k == "np_f32":
            return x
        if k == "np_i32":
            return x.astype(np.int32)
        if k == "np_bool":
            return x > i + 1
        if k == "np_scalar_f32":
            return np.float32(i) / 4
        if k == "np_scalar_i32":
            return np.int32(i)
        if k == "np_scalar_f64":
            return np.float64(i) / 3
        if k == "tensor":
            return lib.from_numpy(x.reshape(2, 2).copy())
        if k == "tuple":
            return lib.from_numpy(x.copy()), i
        if k == "list":
            return [lib.from_numpy(x.copy()), i, float(i)]
        if k == "dict":
            return {"x": lib.from_numpy(x.copy()), "y": i, "name": f"n{i}"}
        if k == "nested":
            return {"pair": (x.copy(), i), "meta": {"w": float(i), "tag": "t"}, "list": [i, i + 1]}
        if k == "namedtuple":
            return Point(lib.from_numpy(x.copy()), i)
        raise ValueError(k)


class IndexDataset:
    """Returns its index (optionally burning CPU or sleeping on some indices)."""

    def __init__(self, n=20):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


class GetitemsDataset(IndexDataset):
    """Has a batched __getitems__; DataLoader must use it (records the calls in the samples)."""

    def __getitems__(self, indices):
        return [("batched", i) for i in indices]


def _iterable_classes(dmod):
    class RangeIterable(dmod.IterableDataset):
        def __init__(self, start, end, shard=True, with_len=True):
            self.start, self.end, self.shard, self.with_len = start, end, shard, with_len

        def __iter__(self):
            info = dmod.get_worker_info()
            if info is None or not self.shard:
                return iter(range(self.start, self.end))
            per_worker = int(np.ceil((self.end - self.start) / info.num_workers))
            lo = self.start + info.id * per_worker
            return iter(range(lo, min(lo + per_worker, self.end)))

        def __len__(self):
            if not self.with_len:
                raise TypeError("no len")
            return self.end - self.start

    return RangeIterable


RangeIterable = _iterable_classes(data)
RangeIterable.__qualname__ = RangeIterable.__name__ = "RangeIterable"  # picklable by reference


# ---------------------------------------------------------------------------------------
# Worker-test datasets
# ---------------------------------------------------------------------------------------

def burn_cpu(seconds):
    """Spends `seconds` of this process's CPU time (not wall time: a busy machine slows it, never skips it)."""
    t0 = time.process_time()
    while time.process_time() - t0 < seconds:
        pass


class BurnDataset:
    """~2 ms of CPU per item: the kind of per-sample transform worker processes exist for."""

    def __init__(self, n, cost=0.002):
        self.n, self.cost = n, cost

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        burn_cpu(self.cost)
        return i


class ImageDataset:
    """float32 "images" (3x32x32, value = index) and labels: big enough batches to travel through /dev/shm."""

    def __init__(self, n=40, lib_name=LIB_NAME):
        self.n, self.lib_name = n, lib_name

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        lib = lib_of(self.lib_name)
        img = np.full((3, 32, 32), i, dtype=np.float32)
        img[0, 0, :] = np.arange(32)
        return lib.from_numpy(img), i


class SeedDataset:
    """Reports, per sample, the worker's id and seeds and a draw from every random stream it should seed."""

    def __init__(self, n=8, lib_name=LIB_NAME):
        self.n, self.lib_name = n, lib_name

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        lib = lib_of(self.lib_name)
        info = data_of(lib).get_worker_info()
        wid, seed, nw = (-1, -1, 0) if info is None else (info.id, info.seed, info.num_workers)
        return {"i": i, "id": wid, "seed": seed, "num_workers": nw, "initial_seed": lib.initial_seed(),
                "np": int(np.random.randint(0, 2 ** 31 - 1)), "py": random.random(), "lib": float(lib.rand(1)),
                "pid": os.getpid()}


class FailingDataset:
    """Raises exc_type(message) at index `bad`."""

    def __init__(self, n=20, bad=7, exc_type=ValueError, **exc_kwargs):
        self.n, self.bad, self.exc_type, self.exc_kwargs = n, bad, exc_type, exc_kwargs

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise self.exc_type(f"sample {i} is corrupt", **self.exc_kwargs)
        return i


class TwoArgError(Exception):
    """Cannot be rebuilt from a message alone."""

    def __init__(self, msg, *, code):
        super().__init__(msg, code)


class SlowDataset:
    """Sleeps `delays.get(i, 0)` seconds before returning i (results then arrive out of order)."""

    def __init__(self, n, delays):
        self.n, self.delays = n, dict(delays)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.delays.get(i, 0.0))
        return i


class SuicideDataset:
    """The worker process kills itself (SIGKILL) at index `bad`."""

    def __init__(self, n=20, bad=5):
        self.n, self.bad = n, bad

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            import signal
            os.kill(os.getpid(), signal.SIGKILL)
        return i


class PidDataset:
    def __init__(self, n=8):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return os.getpid()


def record_worker_id(worker_id):
    """A worker_init_fn: shifts this worker's dataset copy by 1000 * (worker_id + 1)."""
    info = data.get_worker_info()
    assert info is not None and info.id == worker_id
    info.dataset.offset = 1000 * (worker_id + 1)


class OffsetDataset(IndexDataset):
    offset = 0

    def __getitem__(self, i):
        return self.offset + i


def failing_init(worker_id):
    raise RuntimeError(f"init of worker {worker_id} failed")


class FreezeCountDataset(IndexDataset):
    """Returns gc.get_freeze_count() as seen by whoever loads the sample."""

    def __getitem__(self, i):
        import gc
        return gc.get_freeze_count()
