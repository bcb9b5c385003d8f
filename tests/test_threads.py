"""ember's own threads (ember/backend/threads.py) and its malloc setting (ember/backend/memory.py)."""
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.backend import threads


@pytest.fixture
def two_threads():
    saved = ember.get_num_threads()
    ember.set_num_threads(2)
    yield
    ember.set_num_threads(saved)


SHAPES = [
    ((300, 500), (500, 400)),            # split by rows
    ((8, 700), (700, 3000)),             # few rows, many columns: split by columns
    ((1, 9216), (9216, 1024)),           # a single row (AlexNet's classifier at batch 1)
    ((4, 300, 500), (500, 400)),         # a batch against one matrix: split by batch
    ((6, 300, 100), (6, 100, 300)),      # batch against batch
    ((3, 1, 300, 500), (2, 500, 400)),   # broadcast batch dimensions
    ((1, 300, 500), (500, 400)),         # a batch of one: split by rows
    ((2, 3), (3, 4)),                    # too small to split
    ((64, 12544), (12544, 49)),          # long and thin: split by k, partial results added
    ((1, 1, 48, 20000), (1, 1, 20000, 30)),  # the same with leading batch dimensions of 1
]


@pytest.mark.parametrize("sa,sb", SHAPES)
def test_matmul_equals_numpy(two_threads, sa, sb):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(sa).astype(np.float32)
    b = rng.standard_normal(sb).astype(np.float32)
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    got = threads.matmul(a, b)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)
    out = np.full(expected.shape, np.nan, np.float32)
    assert threads.matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("m,n", [(4096, 300), (3, 5), (1, 1), (0, 4), (700, 0)])
def test_outer_product_route_equals_blas(n_threads, m, n):
    """(m, 1) @ (1, n) is an elementwise multiply split by rows: the same numbers as BLAS's GEMM (up to the
    sign of a zero), NaN and infinity included, at any thread count, into a fresh array or `out`."""
    saved = ember.get_num_threads()
    ember.set_num_threads(n_threads)
    try:
        rng = np.random.default_rng(2)
        a = rng.standard_normal((m, 1)).astype(np.float32)
        b = rng.standard_normal((1, n)).astype(np.float32)
        if m > 2 and n > 2:
            a[1, 0], b[0, 2] = np.nan, np.inf
        expected = np.matmul(a, b)
        got = threads.matmul(a, b)
        assert got.shape == (m, n) and got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)
        out = np.full((m, n), 7.0, np.float32)
        assert threads.matmul(a, b, out=out) is out
        np.testing.assert_array_equal(out, expected)
        # through a linear layer's weight gradient at batch 1, in float64 too
        x = ember.tensor(rng.standard_normal((1, n)))
        w = ember.tensor(rng.standard_normal((m, n)), requires_grad=True)
        ember.nn.functional.linear(x, w).sum().backward()
        np.testing.assert_array_equal(w.grad.numpy(), np.ones((m, 1)) @ x.numpy())
    finally:
        ember.set_num_threads(saved)


def test_matmul_of_transposed_views(two_threads):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((600, 400)).astype(np.float32)
    b = rng.standard_normal((300, 600)).astype(np.float32)
    np.testing.assert_allclose(threads.matmul(a.T, b.T), a.T.astype(np.float64) @ b.T, rtol=1e-4, atol=1e-3)
    # long and thin, the second operand a transposed view (a convolution's weight gradient: gy @ cols.T)
    gy = rng.standard_normal((1, 1, 64, 12544)).astype(np.float32)
    cols = rng.standard_normal((1, 1, 49, 12544)).astype(np.float32)
    expected = gy[0, 0].astype(np.float64) @ cols[0, 0].T
    np.testing.assert_allclose(threads.matmul(gy, cols.transpose(0, 1, 3, 2))[0, 0], expected, rtol=1e-4, atol=2e-3)


def test_parallel_covers_every_index_once(two_threads):
    seen = np.zeros(1000, np.int64)

    def fn(lo, hi):
        seen[lo:hi] += 1
    threads.parallel(fn, 1000)
    assert (seen == 1).all()
    threads.parallel(fn, 1000, nbytes=10)       # small work: inline, still covers everything
    assert (seen == 2).all()


def test_nested_parallel_runs_inline(two_threads):
    calls = []

    def inner(lo, hi):
        calls.append((lo, hi))

    def outer(lo, hi):
        threads.parallel(inner, 10)             # from inside a share: one inline call
    threads.parallel(outer, 2)
    assert sorted(calls) == [(0, 10), (0, 10)]


def test_one_thread_means_no_split():
    saved = ember.get_num_threads()
    ember.set_num_threads(1)
    try:
        assert ember.get_num_threads() == 1
        seen = []
        threads.parallel(lambda lo, hi: seen.append((lo, hi)), 100)
        assert seen == [(0, 100)]
    finally:
        ember.set_num_threads(saved)


def test_errors_in_a_share_reach_the_caller(two_threads):
    def fn(lo, hi):
        if lo > 0:
            raise ValueError("from the worker")
    with pytest.raises(ValueError, match="from the worker"):
        threads.parallel(fn, 10)


def _blas_threads_after(code, **env):
    """BLAS's thread counts (threadpoolctl) printed by `code` in a fresh process."""
    pytest.importorskip("threadpoolctl")
    prelude = ("import time, numpy as np, ember, threadpoolctl\n"
               "from ember.backend import threads\n"
               "def blas():\n"
               "    return [p['num_threads'] for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas']\n")
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
    run_env.update(env)
    out = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, check=True,
                         env=run_env).stdout
    return [eval(line) for line in out.splitlines()]


def test_auto_gemm_threading_whatever_ran_before():
    """By default ("auto") a GEMM of the main program gets BLAS threads, a GEMM inside a share of ember's
    pool runs single-threaded -- before and after pool activity and after the pool has been idle: no mode
    that depends on the clock."""
    code = ("ember.set_num_threads(2)\n"
            "print([threads.get_gemm_threading() == 'auto'])\n"
            "ember.ones(300, 300) @ ember.ones(300, 300)\n"
            "print(blas())\n"
            "inside = []\n"
            "threads.parallel(lambda lo, hi: (threads.matmul(np.ones((8, 8)), np.ones((8, 8))), inside.append(blas())), 2)\n"
            "print(inside[0])\n"
            "ember.ones(300, 300) @ ember.ones(300, 300)\n"
            "print(blas())\n"
            "time.sleep(0.7)\n"
            "ember.ones(300, 300) @ ember.ones(300, 300)\n"
            "print(blas())\n")
    flag, first, inside, after_pool, after_sleep = _blas_threads_after(code)
    assert flag == [True]
    assert all(r and all(c == 2 for c in r) for r in (first, after_pool, after_sleep)), (first, after_pool, after_sleep)
    assert inside and all(c == 1 for c in inside), inside


def test_gemm_threading_ember_keeps_blas_single_threaded():
    """EMBER_GEMM_THREADING=ember: BLAS stays single-threaded whatever ran before (ember's pool splits the
    big GEMMs)."""
    code = ("ember.set_num_threads(2)\n"
            "ember.ones(300, 300) @ ember.ones(300, 300)\n"
            "print(blas())\n"
            "threads.parallel(lambda lo, hi: None, 4)\n"
            "ember.ones(300, 300) @ ember.ones(300, 300)\n"
            "print(blas())\n"
            "time.sleep(0.7)\n"
            "ember.ones(300, 300) @ ember.ones(300, 300)\n"
            "print(blas())\n")
    runs = _blas_threads_after(code, EMBER_GEMM_THREADING="ember")
    assert all(r and all(c == 1 for c in r) for r in runs), runs


def test_gemm_threading_blas_opt_out():
    """EMBER_GEMM_THREADING=blas (the opt-out of single-threaded BLAS): BLAS threads GEMMs with ember's
    thread count, whatever ran before; deterministic mode overrides it."""
    code = ("ember.set_num_threads(2)\n"
            "print([threads.get_gemm_threading() == 'blas'])\n"
            "ember.ones(300, 300) @ ember.ones(300, 300)\n"
            "print(blas())\n"
            "threads.parallel(lambda lo, hi: None, 4)\n"
            "print(blas())\n"
            "ember.use_deterministic_algorithms(True)\n"
            "print(blas())\n")
    flag, first, after_pool, deterministic = _blas_threads_after(code, EMBER_GEMM_THREADING="blas")
    assert flag == [True]
    assert first and all(c == 2 for c in first)
    assert all(c == 2 for c in after_pool)
    assert all(c == 1 for c in deterministic)


def test_gemm_threading_setting_is_checked():
    with pytest.raises(ValueError, match="gemm threading"):
        threads.set_gemm_threading("spin")


def test_keep_freed_memory_setting():
    from ember.backend.memory import keep_freed_memory
    code = "import ember.backend.memory as m; print(m.keep_freed_memory())"
    env = dict(os.environ, EMBER_KEEP_FREED_MEMORY="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "False"
    if platform.libc_ver()[0] == "glibc":
        assert keep_freed_memory() is True
