"""Timing, noise guard and machine description for bench/run.py.

Noise guard (as in ../shared/bench/torch_baselines.py): the machines are
shared, so each timed repeat also records how much CPU time *other* processes
used meanwhile (from /proc/stat minus our own usage).  Repeats where that
exceeds 5% of the interval (plus one clock tick) are "noisy": extra repeats are
run, and the median is taken over the clean ones when there are enough.  The
same rule is applied to the measurement as a whole, which catches steady load
that short repeats miss at clock-tick resolution.  (Steady load matters a lot
here: with 2 threads on 2 cores and one core busy elsewhere, each of torch's
OpenMP parallel regions can wait a scheduler tick, ~4-8 ms.)
"""
from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time

import numpy as np

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # optional; the report then says "unknown"
    threadpool_info = threadpool_limits = None

now = time.perf_counter
_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
NOISY = 0.05  # foreign CPU seconds per wall second above which a repeat is noisy
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- noise guard
def cpu_snapshot():
    """(jiffies all CPUs were busy, jiffies this process and its reaped children used)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
        with open("/proc/self/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()
        return busy, int(st[11]) + int(st[12]) + int(st[13]) + int(st[14])
    except (OSError, IndexError, ValueError):
        return 0, 0


def foreign_since(c0) -> float:
    """CPU seconds used by other processes since snapshot c0."""
    c1 = cpu_snapshot()
    return max(0.0, ((c1[0] - c0[0]) - (c1[1] - c0[1])) / _HZ)


def is_clean(seconds: float, foreign: float) -> bool:
    return foreign <= NOISY * seconds + 1.5 / _HZ  # tolerate one clock tick


def wait_quiet(max_s: float) -> float:
    """Wait until other processes use < 5% of a core over 1 s (at most max_s). Returns seconds waited."""
    t0 = now()
    while now() - t0 < max_s:
        c0 = cpu_snapshot()
        time.sleep(1.0)
        if foreign_since(c0) <= 0.05:
            break
    return now() - t0


# ---------------------------------------------------------------- timing
def _time_calls(fn, n: int, keep: list | None = None):
    c0 = cpu_snapshot()
    t0 = now()
    for _ in range(n):
        r = fn()
    dt = now() - t0
    if keep is not None:
        keep[:] = [r]
    return dt, foreign_since(c0)


def median_of_calls(fn, calls: int, warmup: int) -> float:
    """Seconds: the median of `calls` single timed calls after `warmup` untimed ones (the floor scripts:
    robust to the odd disturbed call, which a mean over a repeat is not)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def measure(fn, *, per_call: int = 1, repeats: int = 7, min_time: float = 0.02, warmup: int = 1) -> dict:
    """Time fn(): warm-up calls, then `repeats` timed repeats of n calls each,
    with n chosen so one repeat lasts >= min_time.  Up to 3x repeats are run while
    other processes disturb them.  Returns seconds per iteration (call / per_call);
    `noisy` is set when too few repeats, or the run as a whole, were undisturbed.
    The last call's return value is in "result" (not saved to JSON).  A call that
    already lasts >= min_time during warm-up is not calibrated (n = 1): slow
    workloads (epochs) then cost warmup + repeats calls."""
    dt = 0.0
    for _ in range(warmup):
        dt, _ = _time_calls(fn, 1)
    n = 1
    while warmup == 0 or dt < min_time:  # calibrate (also warms up further)
        dt, _ = _time_calls(fn, n)
        if dt >= min_time or n >= 1_000_000:
            break
        n = min(1_000_000, max(2 * n, math.ceil(n * 1.2 * min_time / max(dt, 1e-7))))
    times, foreign, last = [], [], []
    c_all, t_all = cpu_snapshot(), now()
    while len(times) < 3 * repeats:
        dt, fr = _time_calls(fn, n, last)
        times.append(dt)
        foreign.append(fr)
        n_clean = sum(map(is_clean, times, foreign))
        if len(times) >= repeats and n_clean >= repeats:
            break
    foreign_all, t_all = foreign_since(c_all), now() - t_all
    clean = [t for t, f in zip(times, foreign) if is_clean(t, f)]
    # Short repeats see foreign CPU only at clock-tick resolution, so also judge the
    # whole measurement: steady load on another core shows up there.
    noisy = len(clean) < math.ceil(repeats / 2) or not is_clean(t_all, foreign_all)
    per_iter = [t / n / per_call for t in times]
    used = per_iter if noisy else [t / n / per_call for t in clean]
    return {
        "median_s": statistics.median(used),
        "min_s": min(per_iter),
        "calls_per_repeat": n,
        "repeats": len(times),
        "clean_repeats": len(clean),
        "noisy": noisy,
        "foreign_cpu_s": round(foreign_all, 3),
        "samples_s": per_iter,
        "result": last[0],
    }


def set_threads(lib, n: int):
    """Intra-op threads of the library and of the BLAS NumPy has loaded. Keep the
    returned object alive: threadpoolctl limits last as long as it does. The library's own
    setting comes last: ember keeps NumPy's BLAS single-threaded and runs its own threads."""
    limits = threadpool_limits(limits=n, user_api="blas") if threadpool_limits is not None else None
    if hasattr(lib, "set_num_threads"):
        lib.set_num_threads(n)
    return limits


# --isa avx2: both libraries held to the instructions of an AVX2 host (today's AVX2 EPYCs) on a machine that
# has AVX-512: NumPy's OpenBLAS takes its Haswell kernel, NumPy's own ufunc loops (exp, tanh, add, ...) their
# AVX2 versions (X86_V3), torch's ATen kernels, MKL and oneDNN stop at AVX2. Without NPY_DISABLE_CPU_FEATURES
# NumPy's elementwise passes ran their AVX-512 loops: exp on float32 about 2x, tanh about 5x faster than on AVX2
ISA_ENV = {
    "avx2": {"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
             "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
}


def numpy_simd() -> str:
    """The SIMD levels NumPy's own loops dispatch to in this process (e.g. 'X86_V3' on an AVX2 host)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:
        return "?"
    on = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    return " ".join(on) or "baseline only"


def isa_env(isa):
    """The environment variables that hold both libraries to `isa` ("native": none)."""
    return {} if isa == "native" else dict(ISA_ENV[isa])


def hold_this_process_to(isa):
    """Make this script run under isa_env(isa): if the environment differs, set it and start the script
    again (NumPy, OpenBLAS and torch read these variables when they load). Call before importing them."""
    wanted = isa_env(isa)
    if any(os.environ.get(k) != v for k, v in wanted.items()):
        os.environ.update(wanted)
        os.execv(sys.executable, [sys.executable] + sys.argv)


def thread_env(n: int) -> dict:
    """Environment for a child process measuring at n threads."""
    env = dict(os.environ)
    for k in THREAD_VARS:
        env[k] = str(n)
    return env


def digest(result):
    """Small fingerprint of a workload's result (tensor / array / number), to
    compare the two libraries' outputs."""
    if result is None:
        return None
    if hasattr(result, "parameters") and callable(result.parameters):  # a model: all its parameters
        ps = [digest(p) for p in result.parameters()]
        return {"shape": [sum(int(np.prod(p["shape"])) for p in ps)], "sum": sum(p["sum"] for p in ps),
                "abs_sum": sum(p["abs_sum"] for p in ps)}
    if hasattr(result, "detach"):
        result = result.detach()
    if hasattr(result, "numpy"):
        result = result.numpy()
    a = np.asarray(result, dtype=np.float64)
    return {"shape": list(a.shape), "sum": float(a.sum()), "abs_sum": float(np.abs(a).sum())}


def digests_agree(da, db, rtol=1e-3) -> bool:
    if da is None or db is None:
        return True
    if da["shape"] != db["shape"]:
        return False
    scale = max(da["abs_sum"], db["abs_sum"], 1e-6)
    return abs(da["sum"] - db["sum"]) <= rtol * scale


# ---------------------------------------------------------------- description
def machine_info() -> dict:
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu_model": cpu or platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_simd": numpy_simd(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "openblas_env": {k: os.environ.get(k) for k in OPENBLAS_VARS},
        "thread_env": {k: os.environ.get(k) for k in THREAD_VARS},
    }


def lib_info(lib) -> dict:
    """Version and compute libraries of an imported library (and of NumPy)."""
    info = {"name": lib.__name__, "version": getattr(lib, "__version__", None), "numpy": np.__version__,
            "numpy_simd": numpy_simd()}
    if threadpool_info is not None:
        info["threadpools"] = [{k: d.get(k) for k in ("user_api", "internal_api", "version", "architecture",
                                                      "threading_layer", "num_threads", "filepath")}
                               for d in threadpool_info()]
    config = getattr(lib, "__config__", None)
    if config is not None and hasattr(config, "show"):  # torch: BLAS is linked statically (MKL)
        try:
            text = config.show()
            for part in text.replace("\n", ",").split(","):
                part = part.strip()
                if "BLAS_INFO=" in part:  # "- Build settings: BLAS_INFO=mkl"
                    info["blas"] = part.split("BLAS_INFO=", 1)[1]
                if "Math Kernel Library Version" in part:
                    info["blas_version"] = part.lstrip("- ").strip()
        except Exception:
            pass
    cpu = getattr(getattr(lib, "backends", None), "cpu", None)
    if cpu is not None and hasattr(cpu, "get_cpu_capability"):
        try:
            info["cpu_capability"] = cpu.get_cpu_capability()
        except Exception:
            pass
    return info
