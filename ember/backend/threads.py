"""CPU threads: one worker pool for what ember runs in parallel, and who threads the matrix multiplies.

Two pools can run work in parallel: OpenBLAS's worker threads (inside one GEMM) and ember's own pool
(im2col copies and the per-image GEMMs of a convolution, big elementwise passes). Handing work to a
sleeping thread costs tens of microseconds on a virtual machine, so OpenBLAS's workers busy-wait after each
call for the next one -- and while they spin they compete with ember's workers for the cores.

Who threads a GEMM is a setting, never a guess from what ran recently: the result of a call depends
only on its inputs, the thread count, where it is called from and these settings.

* `set_threads(n)` (`ember.set_num_threads`): the size of ember's pool.
* GEMM threading, `set_gemm_threading(...)` or EMBER_GEMM_THREADING at import:
  - "auto" (the default): a GEMM called from the main program is threaded by BLAS (its spinning workers
    take back-to-back GEMMs at once: MLPs); inside a share of ember's pool BLAS runs single-threaded, and
    OpenBLAS's spin after a call is shortened (`blas_spin_timeout`, ember/backend/process.py) so that a
    convolution right after a GEMM finds its second core free;
  - "ember": BLAS always single-threaded, ember's pool splits big GEMMs by rows, columns, batch or terms;
  - "blas": BLAS threads every GEMM with ember's thread count, ember never splits one.
* deterministic (`ember.use_deterministic_algorithms(True)`): results also independent of the thread
  count. GEMMs are split at fixed places (DETERMINISTIC_PARTS pieces, whatever the thread count; a
  split of the k terms sums its DETERMINISTIC_PARTS partial products in a fixed order), BLAS stays
  single-threaded, and ops whose route depends on the thread count take the route they take on one
  thread (`route_threads()`).
"""
import os
import threading

import numpy as np

__all__ = ["get_threads", "set_threads", "parallel", "matmul", "elementwise", "set_gemm_threading",
           "get_gemm_threading", "set_deterministic", "is_deterministic", "is_deterministic_warn_only",
           "route_threads", "single_threaded_blas", "blas_spin_timeout"]

_state = {"threads": None, "blas": None, "gemm": "auto", "deterministic": False, "warn_only": False}
_executor = [None, 0, 0]     # pool, its size, the process that made it (a forked child needs its own)
_local = threading.local()   # .inside: this thread is running a share of a parallel call

# a GEMM is split between threads only above this many multiply-adds: below it the hand-off to a
# sleeping worker costs about what the second core saves (bench/README.md)
SPLIT_MIN_MACS = 16 << 20
# deterministic mode: how many pieces a split GEMM is cut into, whatever the thread count
DETERMINISTIC_PARTS = 4
GEMM_THREADING = ("auto", "ember", "blas")
# "auto": OpenBLAS's workers spin 2**BLAS_SPIN_TIMEOUT cycles after a call (OpenBLAS's own default: 2**28,
# about 0.1 s) -- long enough to bridge the Python between an MLP's GEMMs, short enough not to hold a core
# through the convolution that follows (bench/README.md, "Who threads a GEMM")
BLAS_SPIN_TIMEOUT = 20


def get_threads():
    n = _state["threads"]
    if n is None:
        n = _state["threads"] = default_threads()     # once: os.cpu_count() costs microseconds per call
    return n


# -- the thread count a program starts with, as PyTorch picks it --------------------------------------
def default_threads():
    """PyTorch's intra-op default: MKL_NUM_THREADS, else OMP_NUM_THREADS (a positive integer; anything
    else is ignored), else the number of cores; never more than the number of cores."""
    cores = os.cpu_count() or 1
    for name in ("MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        try:
            n = int(os.environ.get(name, ""))
        except ValueError:
            continue
        if n > 0:
            return min(n, cores)
    return cores


def set_threads(n):
    _state["threads"] = max(1, int(n))
    _state["blas"] = None       # set it again: something (threadpoolctl) may have changed it meanwhile
    _blas_threads(_wanted_blas_threads())


def _reapply():
    """After a setting changed: set BLAS's thread count now if BLAS was already found, else on the next
    GEMM or parallel call (finding it costs a fraction of a second: not at import)."""
    _state["blas"] = None
    if "setters" in _state:
        _blas_threads(_wanted_blas_threads())


def set_gemm_threading(mode):
    """"auto": BLAS threads the main program's GEMMs, ember's pool the rest; "ember": BLAS single-threaded,
    ember's pool splits big GEMMs; "blas": BLAS threads every GEMM itself."""
    if mode not in GEMM_THREADING:
        raise ValueError(f"gemm threading must be one of {GEMM_THREADING}, got {mode!r}")
    _state["gemm"] = mode
    _reapply()


def get_gemm_threading():
    return _state["gemm"]


def set_deterministic(mode, warn_only=False):
    _state["deterministic"] = bool(mode)
    _state["warn_only"] = bool(warn_only)
    _reapply()


def is_deterministic():
    return _state["deterministic"]


def is_deterministic_warn_only():
    return _state["warn_only"]


def route_threads():
    """The thread count an op's route choice may look at: 1 in deterministic mode, so that the route
    (and with it the result) does not depend on the thread count."""
    return 1 if _state["deterministic"] else get_threads()


def _gemm_mode():
    """The GEMM threading in force: deterministic mode is "ember"'s fixed splits."""
    return "ember" if _state["deterministic"] else _state["gemm"]


def _wanted_blas_threads():
    return 1 if _gemm_mode() == "ember" else get_threads()


def _openblas_libraries():
    """The OpenBLAS libraries loaded in this process (NumPy's wheels bundle one), found through
    /proc/self/maps; none on other systems."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    import ctypes
    libs = []
    for path in sorted(paths):
        try:
            libs.append(ctypes.CDLL(path))
        except OSError:
            continue
    return libs


def _blas_thread_setters(libs):
    """The `*set_num_threads` functions of these OpenBLAS libraries (NumPy's bundles one with prefixed
    symbols)."""
    import ctypes
    setters = []
    for lib in libs:
        for name in ("openblas_set_num_threads", "openblas_set_num_threads64_",
                     "scipy_openblas_set_num_threads", "scipy_openblas_set_num_threads64_"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                fn.restype = None
                setters.append(fn)
                break
    return setters


def blas_spin_timeout(libs=None):
    """Shorten OpenBLAS's busy-wait after a threaded call to 2**BLAS_SPIN_TIMEOUT cycles (a setting of
    ember/backend/process.py, applied on ember's first GEMM or parallel call), unless the program set
    OPENBLAS_THREAD_TIMEOUT itself or EMBER_BLAS_SPIN_TIMEOUT=0. OpenBLAS reads the variable when it
    starts its workers: ember sets it, has OpenBLAS read its environment again and stops the workers,
    which the next threaded call starts afresh. Returns whether it was applied."""
    if os.environ.get("EMBER_BLAS_SPIN_TIMEOUT", "1") == "0" or "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return False
    import ctypes
    applied = False
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(BLAS_SPIN_TIMEOUT)
    for lib in (_openblas_libraries() if libs is None else libs):
        read_env = getattr(lib, "openblas_read_env", None)
        shutdown = getattr(lib, "blas_thread_shutdown_", None)
        if read_env is None or shutdown is None:
            continue
        read_env.restype = shutdown.restype = ctypes.c_int
        read_env()
        shutdown()
        applied = True
    return applied


def _blas_threads(n):
    """Set BLAS's thread count, if it is not n already."""
    if _state["blas"] == n:
        return
    if "setters" not in _state:
        libs = _openblas_libraries()
        _state["setters"] = _blas_thread_setters(libs)
        blas_spin_timeout(libs)
    _state["blas"] = n
    for setter in _state["setters"]:
        setter(n)


def single_threaded_blas():
    """BLAS to one thread until the next threads.matmul sets it again: for loops of small GEMMs (a recurrent
    layer's time steps), which gain nothing from a second thread and, when other processes load the cores,
    lose much to OpenBLAS's spinning workers (see bench/bench_rnn.py)."""
    if _state["blas"] != 1:
        _blas_threads(1)


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
    _blas_threads(get_threads() if _gemm_mode() == "blas" else 1)   # the shares' GEMMs run single-threaded
    pool = _pool(nt)
    bounds = [n * i // nt for i in range(nt + 1)]
    futures = [pool.submit(_run_share, fn, bounds[i], bounds[i + 1]) for i in range(1, nt)]
    _run_share(fn, bounds[0], bounds[1])
    for f in futures:
        f.result()


def _pieces(fn, n, parts):
    """fn(lo, hi) over [0, n) cut at fixed places into `parts` pieces, the pieces shared between threads."""
    def share(p_lo, p_hi):
        for t in range(p_lo, p_hi):
            lo, hi = n * t // parts, n * (t + 1) // parts
            if hi > lo:
                fn(lo, hi)
    parallel(share, parts)


def matmul(a, b, out=None):
    """np.matmul(a, b, out=out), split between ember's threads when it is big: by the k terms of a long
    thin product, by batch when there are at least as many matrices as threads, else by the rows of a
    (or the columns of b when a has fewer rows than b has columns). Where it is split depends only on
    the shapes and the thread count (deterministic mode: on the shapes only)."""
    if (a.ndim > 2 and b.ndim == 2 and a.shape[-1] == b.shape[0] and a.flags.c_contiguous
            and (out is None or out.flags.c_contiguous)):
        # a stack of matrices times one matrix (a linear layer on a sequence): one GEMM over all the
        # stacked rows, where NumPy would call BLAS once per matrix of the stack
        rows = matmul(a.reshape(-1, a.shape[-1]), b, None if out is None else out.reshape(-1, out.shape[-1]))
        return rows.reshape(a.shape[:-1] + (b.shape[-1],)) if out is None else out
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] == 1 and a.dtype.kind == "f" and b.dtype.kind == "f":
        return _outer(a, b, out)
    mode = _gemm_mode()
    if mode != "ember":
        # "auto": BLAS threads a GEMM of the main program, runs single-threaded inside a share of the pool
        _blas_threads(1 if mode == "auto" and getattr(_local, "inside", False) else get_threads())
        return np.matmul(a, b, out=out)
    if _state["blas"] is None:
        _blas_threads(1)
    if a.ndim == 2 and b.ndim == 2 and a.shape[0] * a.shape[1] * b.shape[1] < SPLIT_MIN_MACS:
        return np.matmul(a, b, out=out)     # too small to split: the common case, decided first
    if a.ndim < 2 or b.ndim < 2:
        return np.matmul(a, b, out=out)
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    batch_shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) if a.ndim > 2 or b.ndim > 2 else ()
    batch = 1
    for s in batch_shape:
        batch *= s
    nt = get_threads()
    det = _state["deterministic"]
    if ((nt <= 1 and not det) or batch * m * k * n < SPLIT_MIN_MACS or getattr(_local, "inside", False)):
        return np.matmul(a, b, out=out)
    parts = DETERMINISTIC_PARTS if det else nt
    if out is None:
        out = np.empty(batch_shape + (m, n), np.result_type(a, b))
    if batch == 1 and k >= 4 * max(m, n):
        # a long, thin product (a convolution's weight gradient: channels x pixels times pixels x taps):
        # each part takes its share of the k terms into its own small result, so each reads a share of
        # the inputs; the partial results are summed in part order
        a2, b2 = a.reshape(m, k), b.reshape(k, n)
        partial = np.empty((parts, m, n), out.dtype)

        def terms(lo, hi):
            for t in range(lo, hi):
                k0, k1 = k * t // parts, k * (t + 1) // parts
                np.matmul(a2[:, k0:k1], b2[k0:k1], out=partial[t])
        parallel(terms, parts)
        np.sum(partial, axis=0, out=out.reshape(m, n))
        return out
    split = (lambda fn, length: _pieces(fn, length, parts)) if det else parallel
    if len(batch_shape) == 1 and batch >= parts:
        a3 = a if a.ndim == 2 else np.broadcast_to(a, batch_shape + a.shape[-2:])
        b3 = b if b.ndim == 2 else np.broadcast_to(b, batch_shape + b.shape[-2:])

        def share(lo, hi):
            np.matmul(a3 if a3.ndim == 2 else a3[lo:hi], b3 if b3.ndim == 2 else b3[lo:hi], out=out[lo:hi])
        split(share, batch)
    elif m >= n or m >= 64 * parts:
        def share(lo, hi):
            np.matmul(a[..., lo:hi, :], b, out=out[..., lo:hi, :])
        split(share, m)
    else:
        def share(lo, hi):
            np.matmul(a, b[..., lo:hi], out=out[..., lo:hi])
        split(share, n)
    return out


def _outer(a, b, out=None):
    """(m, 1) @ (1, n), a product of one term per element (a linear layer's weight gradient at batch 1):
    an elementwise multiply split by rows. BLAS runs it as a GEMM at a fraction of memory speed; the
    product of one term is the same number either way (its sign of zero aside: BLAS adds it to +0)."""
    if out is None:
        out = np.empty((a.shape[0], b.shape[1]), np.result_type(a, b))

    def share(lo, hi):
        np.multiply(a[lo:hi], b, out=out[lo:hi])
    parallel(share, a.shape[0], nbytes=out.nbytes)
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
