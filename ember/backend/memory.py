"""Keep big freed arrays in the process instead of handing them back to the OS.

glibc serves big allocations (over 128 KB at first, a threshold that then adapts) with fresh mmap'd
pages and returns them to the OS when they are freed; the next step of a training loop then pays a
page fault and the zeroing of every 4 KB page of its temporaries and results again. On this machine
that cost more than the arithmetic: a LeNet training step at batch 256 took 24-28 ms with glibc's
defaults and 13.7-14.6 ms with big blocks kept in the heap (PyTorch's own step: 15.4 vs 9.3 ms).
So at import ember raises the mmap threshold to its maximum (32 MB) and stops trimming the heap
below 1 GB. Peak memory does not grow; memory freed after the peak stays with the process for reuse.
Set EMBER_KEEP_FREED_MEMORY=0 to keep glibc's defaults.
"""
import os

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


def keep_freed_memory():
    """Apply the setting above (glibc only; returns whether it was applied)."""
    if os.environ.get("EMBER_KEEP_FREED_MEMORY", "1") == "0":
        return False
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False       # not glibc (macOS, musl, Windows): nothing to do
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(M_TRIM_THRESHOLD, 1 << 30))
