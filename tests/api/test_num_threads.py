"""ember's thread count at import follows OMP_NUM_THREADS / MKL_NUM_THREADS as PyTorch's does."""
import os
import subprocess
import sys

import pytest
import torch

import ember

PROBE = ("import ember, torch\n"
         "print(ember.get_num_threads(), torch.get_num_threads())\n")


def counts(**env):
    full = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", PROBE], env=full, capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize("env", [
    {"OMP_NUM_THREADS": "1"}, {"OMP_NUM_THREADS": "64"}, {"OMP_NUM_THREADS": "abc"},
    {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "2"},
], ids=["omp1", "capped", "invalid", "mkl-over-omp"])
# (not compared: an invalid MKL_NUM_THREADS, which torch's bundled MKL turns into 1 thread; ember ignores it)
def test_thread_count_at_import_matches_torch(env):
    ours, theirs = counts(**env)
    assert ours == theirs


def test_omp_one_keeps_blas_single_threaded():
    threadpoolctl = pytest.importorskip("threadpoolctl")  # noqa: F841
    code = ("import numpy as np, ember, threadpoolctl\n"
            "a = ember.ones(256, 256); (a @ a).sum()\n"
            "print(ember.get_num_threads(), max(p['num_threads'] for p in "
            "threadpoolctl.threadpool_info() if p['user_api'] == 'blas'))\n")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1"]


def test_set_num_threads_checks_as_torch():
    saved = ember.get_num_threads()
    try:
        for bad in (0, -1, 2.5, "3", True):
            with pytest.raises(RuntimeError) as ours:
                ember.set_num_threads(bad)
            with pytest.raises(RuntimeError) as theirs:
                torch.set_num_threads(bad)
            assert str(ours.value) == str(theirs.value)
        ember.set_num_threads(5)
        assert ember.get_num_threads() == 5     # an explicit count is not capped, as in torch
    finally:
        ember.set_num_threads(saved)
