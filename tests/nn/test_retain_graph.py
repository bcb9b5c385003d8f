"""A retained graph can be run backward twice through the fused ops (cross_entropy, nll-style losses,
batch_norm, layer_norm): their backward must not consume what forward saved. Both libraries run the
same code; the second pass must add the same gradient again (torch allows this)."""
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import F, LIB, TF, fn_of, to_lib  # noqa: E402
import torch  # noqa: E402

rng = np.random.default_rng(3)
X = rng.standard_normal((6, 5)).astype(np.float32)
X4 = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
T = np.array([0, 1, -100, 4, 2, 2])
P = rng.random((6, 5)).astype(np.float32)
W4 = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)   # a fixed upstream gradient


CASES = {
    "cross_entropy_mean": (X, lambda f, x, lib: f.cross_entropy(x, to_lib(lib, T))),
    "cross_entropy_sum": (X, lambda f, x, lib: f.cross_entropy(x, to_lib(lib, T), reduction="sum")),
    "cross_entropy_none": (X, lambda f, x, lib: f.cross_entropy(x, to_lib(lib, T), reduction="none").sum()),
    "cross_entropy_4d": (X4[:, :, :, 0].copy(),
                         lambda f, x, lib: f.cross_entropy(x, to_lib(lib, np.array([[0, 1, 2, 0, 1]] * 4)))),
    "nll_loss": (X, lambda f, x, lib: f.nll_loss(f.log_softmax(x, 1), to_lib(lib, T))),
    "binary_cross_entropy": (P, lambda f, x, lib: f.binary_cross_entropy(x.clamp(0.01, 0.99), to_lib(lib, P))),
    "bce_with_logits": (X, lambda f, x, lib: f.binary_cross_entropy_with_logits(x, to_lib(lib, P))),
    "batch_norm_train": (X4, lambda f, x, lib: (f.batch_norm(x, None, None, training=True) * to_lib(lib, W4)).sum()),
    "batch_norm_eval": (X4, lambda f, x, lib: (f.batch_norm(x, to_lib(lib, np.zeros(3, np.float32)),
                                                            to_lib(lib, np.ones(3, np.float32))) * to_lib(lib, W4)).sum()),
    "layer_norm": (X4, lambda f, x, lib: (f.layer_norm(x, (5, 5)) * to_lib(lib, W4)).sum()),
    "softmax": (X, lambda f, x, lib: (f.softmax(x, 1) ** 2).sum()),
    "log_softmax": (X, lambda f, x, lib: (f.log_softmax(x, 1) ** 2).sum()),
}


def twice(lib, array, fn):
    x = to_lib(lib, array, requires_grad=True)
    loss = fn(fn_of(lib), x, lib)
    loss.backward(retain_graph=True)
    first = x.grad.detach().numpy().copy()
    loss.backward()
    return first, x.grad.detach().numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_backward_twice_through_retained_graph(name):
    array, fn = CASES[name]
    first, second = twice(LIB, array, fn)
    ref_first, ref_second = twice(torch, array, fn)
    np.testing.assert_allclose(first, ref_first, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second, ref_second, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second, 2 * first, rtol=1e-5, atol=1e-6)
