"""Shared helpers for the data-loading tests: a library-neutral view of a batch, the datasets (from
loader_datasets), and the child-process / shm bookkeeping the worker tests check."""
from __future__ import annotations

import os
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import LIB, LIB_NAME, REF  # noqa: E402,F401

from loader_datasets import (  # noqa: E402,F401  (re-exported for the tests)
    BurnDataset, FailingDataset, FreezeCountDataset, GetitemsDataset, ImageDataset, IndexDataset, OffsetDataset, PidDataset, Point,
    RangeIterable, SampleDataset, SeedDataset, SlowDataset, SuicideDataset, TwoArgError, _iterable_classes, arrays,
    burn_cpu, data, failing_init, record_worker_id,
)

tdata = torch.utils.data


# ---------------------------------------------------------------------------------------
# A library-neutral, comparable view of a batch
# ---------------------------------------------------------------------------------------

def is_tensor(x):
    return isinstance(x, (torch.Tensor, LIB.Tensor))


def canon(obj):
    """Nested structure with tensors as (dtype, shape, values): equal for equal batches of either library."""
    if is_tensor(obj):
        arr = np.asarray(obj.detach().numpy())
        return ("tensor", str(obj.dtype), tuple(arr.shape), arr.tolist())
    if isinstance(obj, np.ndarray):
        return ("ndarray", obj.dtype.str, obj.shape, obj.tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, {k: canon(v) for k, v in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__, tuple(canon(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [canon(v) for v in obj])
    return (type(obj).__name__, obj)


def batches(loader):
    return [canon(b) for b in loader]


def flat_ints(loader):
    """All values of a loader of 1-d integer batches, in order."""
    out = []
    for b in loader:
        if is_tensor(b):
            out.extend(np.asarray(b.numpy()).reshape(-1).tolist())
        elif isinstance(b, (list, tuple)):
            out.extend(b)
        else:
            out.append(b)
    return out


# ---------------------------------------------------------------------------------------
# Datasets (map-style ones need no base class; iterable ones derive from the library's IterableDataset)
# ---------------------------------------------------------------------------------------

TorchRangeIterable = _iterable_classes(tdata)
TorchRangeIterable.__qualname__ = TorchRangeIterable.__name__ = "TorchRangeIterable"


def range_iterable(lib, *args, **kwargs):
    return (TorchRangeIterable if lib is torch else RangeIterable)(*args, **kwargs)


# ---------------------------------------------------------------------------------------
# Child processes and shm files
# ---------------------------------------------------------------------------------------

def child_pids(pid=None):
    """PIDs of the live (non-zombie) children of `pid` (default: this process), read from /proc.

    multiprocessing's resource tracker (started once per program by the 'spawn' start method, and meant to
    outlive every loader) is not counted.
    """
    pid = os.getpid() if pid is None else pid
    out = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == pid and state != "Z" and b"resource_tracker" not in cmdline:
            out.add(int(entry))
    return out


def shm_files(pid=None):
    pid = os.getpid() if pid is None else pid
    try:
        return sorted(f for f in os.listdir("/dev/shm") if f.startswith(f"ember-dataloader-{pid}-"))
    except FileNotFoundError:
        return []
