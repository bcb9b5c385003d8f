"""Every process-wide setting ember makes, in one place.

Importing ember changes two things outside its own objects. Each is listed here with why, its opt-out
(an environment variable read at import), and where it is measured (bench/README.md, "Process-wide
settings"); tests/test_process_settings.py checks each opt-out in a fresh process.

| setting | when | what | opt-out |
|---|---|---|---|
| keep freed memory | at import | glibc `mallopt`: mmap threshold raised to 32 MB, heap trimmed only above 1 GB, so a training loop's big temporaries reuse memory instead of fresh zeroed pages | `EMBER_KEEP_FREED_MEMORY=0` |
| single-threaded BLAS | on ember's first GEMM or parallel call | NumPy's OpenBLAS set to one thread; ember's pool splits big GEMMs instead (ember/backend/threads.py) | `EMBER_GEMM_THREADING=blas`: BLAS keeps threading GEMMs, with ember's thread count |

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
}


def apply_at_import():
    """Apply the settings above (ember/__init__.py calls this once)."""
    memory.keep_freed_memory()                      # reads EMBER_KEEP_FREED_MEMORY itself
    mode = os.environ.get("EMBER_GEMM_THREADING", "ember")
    if mode != "ember":
        threads.set_gemm_threading(mode)
