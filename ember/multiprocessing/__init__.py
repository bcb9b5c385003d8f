"""ember.multiprocessing (torch.multiprocessing): Python's multiprocessing, with tensors that travel between
processes through shared memory instead of being copied (see reductions.py), and spawn()."""
import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from ember.multiprocessing.reductions import init_reductions
from ember.multiprocessing.spawn import (  # noqa: F401
    ProcessContext, ProcessException, ProcessExitedException, ProcessRaisedException, spawn, SpawnContext,
    start_processes,
)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"]
__all__ += multiprocessing.__all__  # type: ignore[attr-defined]

_sharing_strategy = "file_descriptor"
_all_sharing_strategies = {"file_descriptor"}


def set_sharing_strategy(new_strategy):
    """Only "file_descriptor" exists in ember (PyTorch's default on Linux)."""
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}; ember supports only 'file_descriptor'")
    global _sharing_strategy
    _sharing_strategy = new_strategy


def get_sharing_strategy():
    return _sharing_strategy


def get_all_sharing_strategies():
    return _all_sharing_strategies


init_reductions()
