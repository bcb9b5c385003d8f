"""Results never depend on timing or on what ran before: the same call with the same inputs and the same
thread count gives the same bits, after pool activity, after idling. With
`ember.use_deterministic_algorithms(True)` they do not depend on the thread count either."""
import time

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.backend import threads

rng = np.random.default_rng(0)


def _t(shape, grad=True):
    return ember.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=grad)


def _grads(out, *inputs):
    out.backward(ember.ones_like(out) * 0.5 + out.detach() * 0.01)
    return [out.detach().numpy()] + [x.grad.numpy() for x in inputs]


def _op(fn, *shapes):
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]

    def run():
        ts = [ember.tensor(a, requires_grad=True) for a in arrays]
        return _grads(fn(*ts), *ts)
    return run


def _optimizer(cls, **kw):
    init = rng.standard_normal(1 << 21).astype(np.float32)      # big enough to be split between threads
    grad = rng.standard_normal(1 << 21).astype(np.float32)

    def run():
        p = ember.nn.Parameter(ember.tensor(init.copy()))
        opt = cls([p], **kw)
        for _ in range(2):
            p.grad = ember.tensor(grad)
            opt.step()
        return [p.detach().numpy()]
    return run


WORKLOADS = {
    "linear 256x784->256": _op(F.linear, (256, 784), (256, 784), (256,)),
    "matmul 1024^2": _op(lambda a, b: a @ b, (512, 1024), (1024, 512)),
    "matmul long thin (k split)": _op(lambda a, b: a @ b, (64, 12544), (12544, 49)),
    "matmul batched": _op(lambda a, b: a @ b, (8, 200, 300), (8, 300, 200)),
    "conv2d LeNet-2 b64": _op(F.conv2d, (64, 6, 14, 14), (16, 6, 5, 5), (16,)),
    "conv2d one image": _op(lambda x, w: F.conv2d(x, w, padding=1), (1, 16, 48, 48), (32, 16, 3, 3)),
    "conv2d channel-major": _op(lambda x, w: F.conv2d(x, w, padding=1), (16, 64, 14, 14), (64, 64, 3, 3)),
    "conv2d 1x1": _op(F.conv2d, (8, 64, 28, 28), (128, 64, 1, 1)),
    "max_pool2d": _op(lambda x: F.max_pool2d(x, 3, 2), (32, 16, 27, 27)),
    "avg_pool2d": _op(lambda x: F.avg_pool2d(x, 2), (256, 6, 28, 28)),
    "sigmoid big": _op(lambda x: x.sigmoid(), (512, 1024)),
    "Adam step": _optimizer(ember.optim.Adam, lr=1e-3),
    "SGD momentum step": _optimizer(ember.optim.SGD, lr=0.1, momentum=0.9),
}


def _run_all():
    return {name: run() for name, run in WORKLOADS.items()}


def _assert_same_bits(a, b, what):
    for name in a:
        for x, y in zip(a[name], b[name]):
            assert x.dtype == y.dtype and x.shape == y.shape
            assert np.array_equal(x.view(np.uint8), y.view(np.uint8)), f"{name}: bits differ {what}"


@pytest.fixture
def threads_restored():
    saved = ember.get_num_threads()
    yield
    ember.set_num_threads(saved)
    ember.use_deterministic_algorithms(False)


def _pool_activity():
    x = ember.randn(64, 6, 14, 14, requires_grad=True)
    F.conv2d(x, ember.randn(16, 6, 5, 5)).sum().backward()
    threads.parallel(lambda lo, hi: None, 4)


@pytest.mark.parametrize("nt", [1, 2])
def test_same_bits_whatever_ran_before(threads_restored, nt):
    ember.set_num_threads(nt)
    first = _run_all()
    time.sleep(0.7)                 # the pool idle for a while
    after_idle = _run_all()
    _assert_same_bits(first, after_idle, "after the pool idled")
    for name, run in WORKLOADS.items():     # each op right after pool activity
        _pool_activity()
        after_pool = {name: run()}
        _assert_same_bits({name: first[name]}, after_pool, "right after pool activity")


def test_deterministic_results_do_not_depend_on_thread_count(threads_restored):
    ember.use_deterministic_algorithms(True)
    assert ember.are_deterministic_algorithms_enabled()
    results = {}
    for nt in (1, 2, 3):
        ember.set_num_threads(nt)
        results[nt] = _run_all()
    _assert_same_bits(results[1], results[2], "between 1 and 2 threads")
    _assert_same_bits(results[1], results[3], "between 1 and 3 threads")


def test_deterministic_flags_as_torch(threads_restored):
    assert not ember.are_deterministic_algorithms_enabled()
    assert not ember.is_deterministic_algorithms_warn_only_enabled()
    ember.use_deterministic_algorithms(True, warn_only=True)
    assert ember.are_deterministic_algorithms_enabled() and ember.is_deterministic_algorithms_warn_only_enabled()
    ember.use_deterministic_algorithms(False)
    assert not ember.are_deterministic_algorithms_enabled()
    assert not ember.is_deterministic_algorithms_warn_only_enabled()
    with pytest.raises(TypeError, match="argument 'mode' \\(position 1\\) must be bool, not int"):
        ember.use_deterministic_algorithms(1)
    with pytest.raises(TypeError, match="argument 'warn_only' must be bool, not int"):
        ember.use_deterministic_algorithms(True, warn_only=1)
