"""Every process-wide setting ember makes (ember/backend/process.py) has an opt-out that works: each is
checked in a fresh process, with and without its environment variable."""
import os
import platform
import subprocess
import sys

import pytest

from ember.backend import process


def _run(code, **env):
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
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


def test_single_threaded_blas_and_its_opt_out():
    pytest.importorskip("threadpoolctl")
    assert process.SETTINGS["gemm_threading"] == "EMBER_GEMM_THREADING"
    assert _run(_BLAS_PROBE) == "[1]"
    assert _run(_BLAS_PROBE, EMBER_GEMM_THREADING="blas") == "[2]"


def test_bad_opt_out_value_is_refused():
    with pytest.raises(subprocess.CalledProcessError) as e:
        _run("import ember", EMBER_GEMM_THREADING="spin")
    assert "gemm threading must be one of" in e.value.stderr
