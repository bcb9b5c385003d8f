"""axpy (ember/backend/blas.py): y += alpha * x rounded once, as PyTorch's add_(x, alpha=alpha), on both
routes; add/sub/rsub with alpha through it; and SGD, which is nothing but such adds and a multiply, bit for bit
torch's trajectory."""
import os
import platform
import subprocess
import sys

import numpy as np
import pytest
import torch

import ember
from ember.backend import blas

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sgd_trajectory import sgd_trajectory  # noqa: E402

needs_blas = pytest.mark.skipif(not blas.blas_axpy_available(), reason="no OpenBLAS loaded with NumPy")


def torch_axpy(alpha, x, y):
    t = torch.from_numpy(y.copy())
    t.add_(torch.from_numpy(x), alpha=alpha)
    return t.numpy()


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [64, 4096, 200_000 // 64 * 64])
def test_blas_route_is_torchs_add_with_alpha_bit_for_bit(dtype, n):
    """The vector loop of both libraries fuses the multiply-add; over whole vectors they agree exactly,
    where the two-pass reference rounds the product first and differs in some last bits."""
    rng = np.random.default_rng(n)
    x, y = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    expected = torch_axpy(-0.0123, x, y)
    with blas.force_route("blas"):
        got = blas.axpy(-0.0123, x, y.copy())
    assert np.array_equal(got, expected)
    with blas.force_route("reference"):
        ref = blas.axpy(-0.0123, x, y.copy())
    assert (ref != expected).any()          # the test could tell the routes apart
    np.testing.assert_allclose(ref, expected, rtol=4 * np.finfo(dtype).eps, atol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("route", list(blas.ROUTES))
@pytest.mark.parametrize("n", [0, 1, 7, 63, 65, 1031])
def test_routes_on_any_length_agree_with_torch(route, n):
    if route == "blas" and not blas.blas_axpy_available():
        pytest.skip("no OpenBLAS loaded with NumPy")
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    with blas.force_route(route):
        got = blas.axpy(2.5, x, y.copy())
    np.testing.assert_allclose(got, torch_axpy(2.5, x, y), rtol=1e-6, atol=1e-6)


def test_strided_and_other_dtypes_take_the_reference():
    y = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = np.ones((4, 3), np.float32).T                     # not contiguous
    np.testing.assert_array_equal(blas.axpy(2.0, x, y.copy()), y + 2)
    h = np.arange(8, dtype=np.float16)
    np.testing.assert_array_equal(blas.axpy(0.5, h, h.copy()), h * 1.5)


@needs_blas
def test_forcing_blas_where_it_cannot_run_says_why():
    x = np.ones((4, 3), np.float32).T
    with blas.force_route("blas"), pytest.raises(ValueError, match="does not apply to float32 \\[3, 4\\]"):
        blas.axpy(1.0, x, np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match="unknown axpy route 'fast'"):
        blas.force_route("fast")


ALPHA_OPS = {
    "add": lambda lib, a, b: lib.add(a, b, alpha=0.37),
    "sub": lambda lib, a, b: lib.sub(a, b, alpha=0.37),
    "rsub": lambda lib, a, b: lib.rsub(a, b, alpha=-2.5),
    "Tensor.add_": lambda lib, a, b: a.clone().add_(b, alpha=-0.01),
    "Tensor.sub_": lambda lib, a, b: a.clone().sub_(b, alpha=3),
}


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", list(ALPHA_OPS))
def test_ops_with_alpha_are_torchs_bit_for_bit(op, dtype):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((64, 64)).astype(dtype), rng.standard_normal((64, 64)).astype(dtype)
    got = ALPHA_OPS[op](ember, ember.from_numpy(a), ember.from_numpy(b)).numpy()
    expected = ALPHA_OPS[op](torch, torch.from_numpy(a), torch.from_numpy(b)).numpy()
    assert got.dtype == expected.dtype and np.array_equal(got, expected)


SGD_CASES = [dict(), dict(momentum=0.9), dict(momentum=0.9, nesterov=True), dict(weight_decay=0.01),
             dict(momentum=0.9, dampening=0.3), dict(momentum=0.9, weight_decay=0.1, maximize=True),
             dict(momentum=0.5, nesterov=True, weight_decay=0.05)]


@needs_blas
@pytest.mark.parametrize("kwargs", SGD_CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "plain")
def test_sgd_trajectory_is_torchs_bit_for_bit(kwargs):
    """torch's single-tensor SGD is mul_ and add_(alpha=) calls; with axpy ember's is the same arithmetic.
    Sizes are whole vectors (multiples of 64), where both libraries' loops fuse every element."""
    shapes = [(64, 32), (128,), (3, 64)]
    out = [sgd_trajectory(lib, shapes, 8, 5, 0.05, **kwargs) for lib in (torch, ember)]
    for got, expected in zip(out[1], out[0]):
        assert np.array_equal(got, expected)


SPLIT_STEP = """
import sys, ember
from sgd_trajectory import sgd_trajectory
kwargs, shapes = eval(sys.argv[1]), eval(sys.argv[2])
out = []
for n in (1, 2):
    ember.set_num_threads(n)
    out.append(sgd_trajectory(ember, shapes, 3, 9, 0.1, **kwargs))
print(sum(int((a != b).sum()) for a, b in zip(*out)))
"""


@pytest.mark.parametrize("kwargs", [dict(), dict(momentum=0.9, nesterov=True, weight_decay=0.01)],
                         ids=["plain", "nesterov-decay"])
@pytest.mark.parametrize("shapes", [[(1031, 1029), (33,)], [(301, 997), (33,)]], ids=["ember-split", "one-share"])
def test_sgd_step_does_not_depend_on_the_thread_count(kwargs, shapes):
    """Odd sizes, where a cut anywhere would leave scalar tails inside: a step over a million elements is
    cut between ember's threads at multiples of blas.ALIGN, and a smaller one runs axpy with BLAS
    single-threaded (its own split cuts anywhere), so the same elements reach BLAS's vector loop at 1 and 2
    threads. Run in a child on OpenBLAS's Haswell kernel (any x86-64 host with AVX2 has it), whose scalar
    tail does not fuse the multiply-add: a tail in the wrong place changes bits there."""
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell") if platform.machine() == "x86_64" else dict(os.environ)
    env.pop("OPENBLAS_THREAD_TIMEOUT", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.dirname(__file__), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", SPLIT_STEP, repr(kwargs), repr(shapes)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
