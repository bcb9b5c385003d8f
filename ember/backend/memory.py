"""Memory reuse: big freed arrays stay in the process (keep_freed_memory, at import), and the ops' big
short-lived arrays live in per-thread scratch buffers (scratch, padded).

glibc serves big allocations (over 128 KB at first, a threshold that then adapts) with fresh mmap'd
pages and returns them to the OS when they are freed; the next step of a training loop then pays a
page fault and the zeroing of every 4 KB page of its temporaries and results again. On the bench machine
that cost more than the arithmetic of a LeNet training step (bench/README.md, "Process-wide settings").
So at import ember raises the mmap threshold to its maximum (32 MB) and stops trimming the heap
below 1 GB. Peak memory does not grow; memory freed after the peak stays with the process for reuse.
Set EMBER_KEEP_FREED_MEMORY=0 to keep glibc's defaults (ember/backend/process.py lists every such setting).
"""
import os
import threading

import numpy as np

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


class _Scratch(threading.local):
    """Reusable buffers for the big arrays that never outlive one call (a convolution's padded input,
    columns, column gradient, widened output gradient; a pool's padded input).

    Fresh memory is expensive: every new page is faulted in and zeroed by the kernel, and glibc hands
    big freed blocks back to the OS as soon as a call frees more than a couple of them. Allocating and
    filling fresh arrays per call costs more than the im2col copy and the GEMM of LeNet's layers
    together (bench/README.md, "Measured design choices"). So a few named
    buffers are kept per thread and reused, within a cap (they stay in the process's resident memory
    between calls); bigger arrays are allocated afresh."""
    LIMIT = 24 << 20      # largest buffer kept
    CAP = 48 << 20        # all buffers together

    def __init__(self):
        self.bufs = {}

    def get(self, name, shape, dtype):
        dtype = np.dtype(dtype)
        n = dtype.itemsize
        for s in shape:
            n *= s
        if n > self.LIMIT:
            return np.empty(shape, dtype)
        buf = self.bufs.get(name)
        if buf is None or buf.nbytes < n + 64:
            self.bufs.pop(name, None)
            if sum(b.nbytes for b in self.bufs.values()) + n + 64 > self.CAP:
                self.bufs.clear()
            buf = self.bufs[name] = np.empty(n + 64, np.uint8)
        start = -buf.ctypes.data % 64                 # 64-byte aligned, as BLAS likes it
        return buf[start:start + n].view(dtype).reshape(shape)


scratch = _Scratch()


def padded(x, top, bottom, left, right, value, name):
    """x (N, C, H, W) with `value` rows and columns around it, in the scratch buffer `name`."""
    N, C, H, W = x.shape
    xp = scratch.get(name, (N, C, top + H + bottom, left + W + right), x.dtype)
    xp[:, :, :top] = value
    xp[:, :, top + H:] = value
    xp[:, :, top:top + H, :left] = value
    xp[:, :, top:top + H, left + W:] = value
    xp[:, :, top:top + H, left:left + W] = x
    return xp
