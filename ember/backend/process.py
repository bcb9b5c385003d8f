"""Every process-wide setting ember makes, in one place.

Importing ember changes three things outside its own objects. Each is listed here with why, its opt-out
(an environment variable read at import), and where it is measured (bench/README.md, "Process-wide
settings"); tests/test_process_settings.py checks each opt-out in a fresh process.

| setting | when | what | opt-out |
|---|---|---|---|
| keep freed memory | at import | glibc `mallopt`: mmap threshold raised to 32 MB, heap trimmed only above 1 GB, so a training loop's big temporaries reuse memory instead of fresh zeroed pages | `EMBER_KEEP_FREED_MEMORY=0` |
| who threads a GEMM | on every GEMM and parallel call | "auto": NumPy's OpenBLAS gets ember's thread count for GEMMs of the main program and one thread inside ember's pool (ember/backend/threads.py) | `EMBER_GEMM_THREADING=ember` (BLAS single-threaded, ember splits big GEMMs) or `=blas` (BLAS threads every GEMM) |
| short BLAS spin | on ember's first GEMM or parallel call | OpenBLAS's workers busy-wait 2**20 cycles after a call instead of 2**28 (OPENBLAS_THREAD_TIMEOUT=20, also seen by child processes), so they leave the cores to ember's pool soon after a GEMM | `EMBER_BLAS_SPIN_TIMEOUT=0`, or set OPENBLAS_THREAD_TIMEOUT yourself |

Finding OpenBLAS's `set_num_threads` costs a fraction of a second (it reads /proc/self/maps and loads the
library with ctypes), so that setting waits for the first call that needs it. Within a process, every
result depends only on the inputs, the thread count and these settings, never on timing.
"""
import os

from ember.backend import memory, threads

__all__ = ["apply_at_import", "SETTINGS"]

SETTINGS = {
    "keep_freed_memory": "EMBER_KEEP_FREED_MEMORY",
    "gemm_threading": "EMBER_GEMM_THREADING",
    "blas_spin_timeout": "EMBER_BLAS_SPIN_TIMEOUT",
}


def apply_at_import():
    """Apply the settings above (ember/__init__.py calls this once)."""
    memory.keep_freed_memory()                      # reads EMBER_KEEP_FREED_MEMORY itself
    mode = os.environ.get("EMBER_GEMM_THREADING", "auto")
    if mode != "auto":
        threads.set_gemm_threading(mode)
