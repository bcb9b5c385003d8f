"""CPU threads: one worker pool for what ember runs in parallel, and who threads the matrix multiplies.

OpenBLAS's worker threads busy-wait for about 0.1 s after every multi-threaded call, waiting for the
next one. That makes back-to-back GEMMs start instantly (an MLP's training step is little else), but
any other thread that wants a core meanwhile -- ember's own workers, which copy im2col columns and run
the small per-image GEMMs of a convolution in parallel -- competes with a spinning thread. Measured on
this 2-core machine: a LeNet training step at batch 256 took 19.4 ms with OpenBLAS threading its small
fully-connected GEMMs and 14.7 ms with OpenBLAS kept single-threaded. So there are two regimes:

* while ember's pool is idle (no parallel call in the last POOL_BUSY_S seconds: MLPs), BLAS runs with
  ember's thread count and threads GEMMs itself;
* once the pool is in use (convolutions, big optimizer steps), BLAS is set to one thread and ember
  splits big GEMMs over its pool instead: two single-threaded halves on two cores run about as fast
  as OpenBLAS's own two threads (1024x1024 @ 1024x1024: 4.8 ms vs 4.9 ms).

This sets NumPy's BLAS thread count for the whole process; `ember.set_num_threads(n)` sizes both.
"""
import os
import threading
import time

import numpy as np

__all__ = ["get_threads", "set_threads", "parallel", "matmul", "elementwise", "single_threaded_blas"]

_state = {"threads": None, "blas": None, "pool_used": -1e9}
_executor = [None, 0, 0]     # pool, its size, the process that made it (a forked child needs its own)
_local = threading.local()   # .inside: this thread is running a share of a parallel call

# a GEMM is split between threads only above this many multiply-adds (~0.1 ms on one core): below it
# the hand-off to a sleeping worker (~20-70 us here) costs about what the second core saves
SPLIT_MIN_MACS = 16 << 20
# how long after its last parallel call the pool counts as in use
POOL_BUSY_S = 0.5


def get_threads():
    n = _state["threads"]
    if n is None:
        n = _state["threads"] = os.cpu_count() or 1     # once: os.cpu_count() costs microseconds per call
    return n


def set_threads(n):
    _state["threads"] = max(1, int(n))
    _state["blas"] = None       # set it again: something (threadpoolctl) may have changed it meanwhile
    _blas_threads(1 if _pool_busy() else _state["threads"])


def _blas_thread_setters():
    """The `*set_num_threads` functions of the OpenBLAS libraries loaded in this process (NumPy's wheels
    bundle one with prefixed symbols), found through /proc/self/maps; none on other systems."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    import ctypes
    setters = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("openblas_set_num_threads", "openblas_set_num_threads64_",
                     "scipy_openblas_set_num_threads", "scipy_openblas_set_num_threads64_"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                fn.restype = None
                setters.append(fn)
                break
    return setters


def _blas_threads(n):
    """Set BLAS's thread count, if it is not n already."""
    if _state["blas"] == n:
        return
    if "setters" not in _state:
        _state["setters"] = _blas_thread_setters()
    _state["blas"] = n
    for setter in _state["setters"]:
        setter(n)


def single_threaded_blas():
    """BLAS to one thread until the next threads.matmul sets it again: for loops of small GEMMs (a recurrent
    layer's time steps, 32x256 @ 256x1024), which gain nothing from a second thread and, when other processes
    load the cores, lose much to OpenBLAS's spinning workers (see bench/bench_rnn.py)."""
    if _state["blas"] != 1:
        _blas_threads(1)


def _pool_busy():
    return time.perf_counter() - _state["pool_used"] < POOL_BUSY_S


def _pool(nt):
    if _executor[1] < nt - 1 or _executor[2] != os.getpid():
        from concurrent.futures import ThreadPoolExecutor
        _executor[:] = [ThreadPoolExecutor(nt - 1, thread_name_prefix="ember"), nt - 1, os.getpid()]
    return _executor[0]


def _run_share(fn, lo, hi):
    _local.inside = True
    try:
        fn(lo, hi)
    finally:
        _local.inside = False


def parallel(fn, n, nbytes=None):
    """Run fn(lo, hi) over [0, n) split between ember's threads, when the work is big enough to pay
    (nbytes: how much memory it touches; None: always split).

    For memory-bound copies and adds, and for batches of GEMMs: NumPy and BLAS release the GIL inside
    them, so two cores do about twice the work (torch runs these parts multi-threaded too). Called
    from inside a share, it runs inline: nested splitting would only queue behind itself."""
    nt = min(get_threads(), n)
    if nt <= 1 or (nbytes is not None and nbytes < (1 << 20)) or getattr(_local, "inside", False):
        fn(0, n)
        return
    _state["pool_used"] = time.perf_counter()
    if _state["blas"] != 1:
        _blas_threads(1)
    pool = _pool(nt)
    bounds = [n * i // nt for i in range(nt + 1)]
    futures = [pool.submit(_run_share, fn, bounds[i], bounds[i + 1]) for i in range(1, nt)]
    _run_share(fn, bounds[0], bounds[1])
    for f in futures:
        f.result()


def matmul(a, b, out=None):
    """np.matmul(a, b, out=out), split between ember's threads when it is big: by the k terms of a long
    thin product, by batch when there are at least as many matrices as threads, else by the rows of a
    (or the columns of b when a has fewer rows than b has columns)."""
    if a.ndim < 2 or b.ndim < 2:
        return np.matmul(a, b, out=out)
    if not _pool_busy():
        # nothing of ember's own runs in parallel: let BLAS thread the GEMM (its spinning workers then
        # start the next one at once) -- unless it is small: then a second thread saves under ~0.05 ms,
        # and when other processes load the cores a hand-off to a descheduled worker costs milliseconds
        # (the book's RNN from scratch, 8x56 @ 56x256 GEMMs: 3.3 ms each on a loaded machine, 20 us on one thread)
        if a.shape[-2] * a.shape[-1] * b.shape[-1] < SPLIT_MIN_MACS and a.ndim == 2 and b.ndim == 2:
            if _state["blas"] != 1:
                _blas_threads(1)
            return np.matmul(a, b, out=out)
        if _state["blas"] != get_threads():
            _blas_threads(get_threads())
        return np.matmul(a, b, out=out)
    if _state["blas"] != 1:
        _blas_threads(1)
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    batch_shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) if a.ndim > 2 or b.ndim > 2 else ()
    batch = 1
    for s in batch_shape:
        batch *= s
    nt = get_threads()
    if nt <= 1 or batch * m * k * n < SPLIT_MIN_MACS or getattr(_local, "inside", False):
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty(batch_shape + (m, n), np.result_type(a, b))
    if batch == 1 and k >= 4 * max(m, n):
        # a long, thin product (a convolution's weight gradient: channels x pixels times pixels x taps):
        # each thread takes half of the k terms into its own small result, so each reads half the inputs
        a2, b2 = a.reshape(m, k), b.reshape(k, n)
        parts = np.empty((nt, m, n), out.dtype)

        def terms(lo, hi):
            for t in range(lo, hi):
                k0, k1 = k * t // nt, k * (t + 1) // nt
                np.matmul(a2[:, k0:k1], b2[k0:k1], out=parts[t])
        parallel(terms, nt)
        np.sum(parts, axis=0, out=out.reshape(m, n))
        return out
    if len(batch_shape) == 1 and batch >= nt:
        a3 = a if a.ndim == 2 else np.broadcast_to(a, batch_shape + a.shape[-2:])
        b3 = b if b.ndim == 2 else np.broadcast_to(b, batch_shape + b.shape[-2:])

        def share(lo, hi):
            np.matmul(a3 if a3.ndim == 2 else a3[lo:hi], b3 if b3.ndim == 2 else b3[lo:hi], out=out[lo:hi])
        parallel(share, batch)
    elif m >= n or m >= 64 * nt:
        def share(lo, hi):
            np.matmul(a[..., lo:hi, :], b, out=out[..., lo:hi, :])
        parallel(share, m)
    else:
        def share(lo, hi):
            np.matmul(a, b[..., lo:hi], out=out[..., lo:hi])
        parallel(share, n)
    return out


def elementwise(fn, out, *ins, block=1 << 16):
    """fn(out, *ins) for an elementwise fn (one that writes out from the same positions of ins), on flat
    pieces split between ember's threads when the arrays are big.

    Each thread works through its half in blocks of 64K elements, so that a multi-pass fn (sigmoid: four
    NumPy passes) runs its passes on data still in cache. Arrays of other shapes (broadcasting) or not
    contiguous are handed to fn whole."""
    n = out.size
    if (n < (1 << 18) or get_threads() <= 1 or getattr(_local, "inside", False) or not out.flags.c_contiguous
            or any(x.shape != out.shape or not x.flags.c_contiguous for x in ins)):
        fn(out, *ins)
        return out
    flat_out = out.reshape(-1)
    flat_ins = [x.reshape(-1) for x in ins]

    def share(lo, hi):
        for a in range(lo, hi, block):
            b = min(hi, a + block)
            fn(flat_out[a:b], *[x[a:b] for x in flat_ins])
    parallel(share, n)
    return out
