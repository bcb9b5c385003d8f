"""Every process-wide setting ember makes (ember/backend/process.py) has an opt-out that works: each is
checked in a fresh process, with and without its environment variable."""
import os
import platform
import subprocess
import sys

import pytest

from ember.backend import process


def _run(code, **env):
    run_env = {k: v for k, v in os.environ.items()
               if not k.startswith("EMBER_") and k != "OPENBLAS_THREAD_TIMEOUT"}   # ember sets it in this process
    run_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=run_env).stdout.strip()


# glibc's mallopt has no getter; mallinfo2's view of the heap shows the setting: a freed 8 MB block is
# kept in the heap (fordblks) with ember's setting, handed back to the OS (munmap) with glibc's defaults
_MALLOC_PROBE = """
import ctypes, numpy as np, ember
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
a = np.ones(1 << 21, np.float32)       # 8 MB
mapped = libc.mallinfo2().hblkhd
del a
print(int(mapped >= (8 << 20)), int(libc.mallinfo2().fordblks >= (8 << 20)))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_keep_freed_memory_and_its_opt_out():
    assert process.SETTINGS["keep_freed_memory"] == "EMBER_KEEP_FREED_MEMORY"
    # ember's setting: the 8 MB array comes from the heap (not mmap) and stays there once freed
    assert _run(_MALLOC_PROBE) == "0 1"
    # opted out: glibc's defaults, the array is mmap'd and returned to the OS
    assert _run(_MALLOC_PROBE, EMBER_KEEP_FREED_MEMORY="0") == "1 0"


_BLAS_PROBE = """
import ember, threadpoolctl
ember.set_num_threads(2)
ember.ones(300, 300) @ ember.ones(300, 300)
print(sorted({p['num_threads'] for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas'}))
"""


def test_gemm_threading_and_its_opt_outs():
    pytest.importorskip("threadpoolctl")
    assert process.SETTINGS["gemm_threading"] == "EMBER_GEMM_THREADING"
    assert _run(_BLAS_PROBE) == "[2]"                                   # "auto": BLAS threads this GEMM
    assert _run(_BLAS_PROBE, EMBER_GEMM_THREADING="ember") == "[1]"
    assert _run(_BLAS_PROBE, EMBER_GEMM_THREADING="blas") == "[2]"


# what OpenBLAS itself read as its spin timeout (0: the variable was not set), after ember's first GEMM;
# NumPy is imported first, as most programs do, so OpenBLAS has started before ember sets anything
_SPIN_PROBE = """
import ctypes, os, numpy as np, ember
from ember.backend import threads
ember.ones(300, 300) @ ember.ones(300, 300)
libs = [lib for lib in threads._openblas_libraries() if hasattr(lib, "openblas_thread_timeout")]
print(os.environ.get("OPENBLAS_THREAD_TIMEOUT"), sorted({lib.openblas_thread_timeout() for lib in libs}))
"""


def test_short_blas_spin_and_its_opt_outs():
    assert process.SETTINGS["blas_spin_timeout"] == "EMBER_BLAS_SPIN_TIMEOUT"
    out = _run(_SPIN_PROBE)
    if out.endswith("[]"):
        pytest.skip("this NumPy's BLAS is not an OpenBLAS exposing its settings")
    assert out == "20 [20]"
    assert _run(_SPIN_PROBE, EMBER_BLAS_SPIN_TIMEOUT="0") == "None [0]"
    assert _run(_SPIN_PROBE, OPENBLAS_THREAD_TIMEOUT="25") == "25 [25]"     # the program's own choice stays


def test_bad_opt_out_value_is_refused():
    with pytest.raises(subprocess.CalledProcessError) as e:
        _run("import ember", EMBER_GEMM_THREADING="spin")
    assert "gemm threading must be one of" in e.value.stderr
