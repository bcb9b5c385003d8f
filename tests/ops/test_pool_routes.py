"""Every named pooling route (ember.ops.pool.ROUTES), forced, at 1 and 2 threads, against torch: max and
avg pooling forward, indices and input gradient (and double backward), over padding, stride, dilation,
ceil_mode, count_include_pad and divisor_override; the automatic choice pinned for the tutorial networks.

ember-only (routes are ember's internals): skipped with EMBER_TEST_LIB=torch."""
import pathlib
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from torch_compare import LIB_NAME  # noqa: E402

if LIB_NAME != "ember":
    pytest.skip("ember's routes", allow_module_level=True)

import ember  # noqa: E402
import ember.nn.functional as F  # noqa: E402
from ember.ops import pool  # noqa: E402

MAX = {   # input shape, kwargs
    "2x2": ((2, 3, 8, 8), dict(kernel_size=2)),
    "3x3 s2 overlap": ((2, 40, 9, 9), dict(kernel_size=3, stride=2)),
    "pad dilation ceil": ((2, 3, 9, 10), dict(kernel_size=(3, 2), stride=(2, 3), padding=1, dilation=(2, 1),
                                               ceil_mode=True)),
    "unbatched": ((3, 7, 7), dict(kernel_size=3, stride=1, padding=1)),
    "1d": ((2, 3, 11), dict(kernel_size=3, stride=2, padding=1)),
}
AVG = {
    "2x2": ((4, 3, 8, 8), dict(kernel_size=2)),
    "3x3 s2": ((2, 5, 9, 9), dict(kernel_size=3, stride=2)),
    "pad no count": ((2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False,
                                         ceil_mode=True)),
    "divisor": ((2, 3, 6, 6), dict(kernel_size=(2, 3), divisor_override=4)),
    "1d": ((2, 3, 12), dict(kernel_size=4, stride=3)),
}


def _fn(op, shape):
    if len(shape) == 3 and op in ("max", "avg") and shape[0] == 2:
        return getattr(TF, f"{op}_pool1d"), getattr(F, f"{op}_pool1d")
    return getattr(TF, f"{op}_pool2d"), getattr(F, f"{op}_pool2d")


def _applies(route, op, shape, kw):
    padded = kw.get("padding", 0) or kw.get("ceil_mode", False)
    return pool._route_applies(route, op, type("G", (), {"padded": padded})(), np.dtype("float64"))


CASES = [(route, op, name) for route in pool.ROUTES for op, table in (("max", MAX), ("avg", AVG))
         for name, (shape, kw) in table.items() if _applies(route, op, shape, kw)]


def test_every_route_is_exercised():
    assert {route for route, _, _ in CASES} == set(pool.ROUTES)


@pytest.mark.parametrize("route,op,name", CASES)
def test_forced_route_matches_torch(route, op, name, threads):
    shape, kw = (MAX if op == "max" else AVG)[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x[..., 0] = x[..., 1]                           # ties: the first in scan order wins
    tf, ef = _fn(op, shape)
    extra = dict(return_indices=True) if op == "max" else {}
    xt = torch.tensor(x, requires_grad=True)
    want = tf(xt, **kw, **extra)
    xe = ember.tensor(x, requires_grad=True)
    with pool.force_route(route):
        got = ef(xe, **kw, **extra)
    if op == "max":
        (want, want_idx), (got, got_idx) = want, got
        np.testing.assert_array_equal(got_idx.numpy(), want_idx.numpy())
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    up = rng.standard_normal(tuple(want.shape))
    want.backward(torch.tensor(up))
    got.backward(ember.tensor(up))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("route", list(pool.ROUTES))
def test_forced_route_double_backward(route):
    op = "avg" if route == "images" else "max"
    shape, kw = (MAX if op == "max" else AVG)["2x2"]
    x = np.random.default_rng(1).standard_normal(shape)
    grads = []
    for lib, f in ((torch, TF), (ember, F)):
        t = lib.tensor(x, requires_grad=True)
        with pool.force_route(route):
            y = getattr(f, f"{op}_pool2d")(t, **kw)
            (g,) = lib.autograd.grad((y * y).sum(), [t], create_graph=True)
            (g * g).sum().backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(1, 2)), dict(kernel_size=1),
                                dict(kernel_size=3, stride=2)], ids=["2x2", "1x2", "1x1", "3x3s2"])
def test_avg_images_route_sums_in_scan_order(kw, threads):
    """The images route (images split between threads) sums each window bitwise as the rows route does: offset
    by offset in PyTorch's scan order, then divides (float32, where a different order shows)."""
    x = ember.tensor(np.random.default_rng(3).standard_normal((8, 3, 12, 12)).astype(np.float32))
    outs = []
    for route in ("rows", "images"):
        with pool.force_route(route):
            outs.append(F.avg_pool2d(x, **kw).numpy())
    np.testing.assert_array_equal(outs[1], outs[0])


def test_max_pool_nan_rule_on_every_route():
    x = np.random.default_rng(2).standard_normal((2, 40, 6, 6))
    x[0, 0, 0, 1] = x[1, 3, 2, 2] = x[1, 3, 3, 3] = np.nan
    want = TF.max_pool2d(torch.tensor(x), 3, 2, return_indices=True)
    for route in ("reference", "rows", "channels_last"):
        with pool.force_route(route):
            got = F.max_pool2d(ember.tensor(x), 3, 2, return_indices=True)
        np.testing.assert_array_equal(got[1].numpy(), want[1].numpy(), err_msg=route)
        np.testing.assert_array_equal(got[0].numpy(), want[0].numpy(), err_msg=route)


def test_force_route_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match="'channels_last' does not apply to avg pooling"):
        with pool.force_route("channels_last"):
            F.avg_pool2d(ember.ones(1, 1, 4, 4), 2)
    with pytest.raises(ValueError, match="'images' does not apply to avg pooling"):
        with pool.force_route("images"):
            F.avg_pool2d(ember.ones(1, 1, 4, 4), 2, padding=1)
    with pytest.raises(ValueError, match="unknown pooling route 'fast'"):
        pool.force_route("fast")


AUTOMATIC = [   # label, op, input, kwargs, {threads: route}
    ("AlexNet last pool b1", "max", (1, 256, 12, 12), dict(kernel_size=3, stride=2),
     {1: "channels_last", 2: "channels_last"}),
    ("AlexNet first pool b16", "max", (16, 96, 54, 54), dict(kernel_size=3, stride=2), {1: "rows", 2: "rows"}),
    ("LeNet first pool b256", "avg", (256, 6, 28, 28), dict(kernel_size=2, stride=2), {1: "rows", 2: "images"}),
    ("LeNet second pool b256", "avg", (256, 16, 10, 10), dict(kernel_size=2, stride=2),
     {1: "rows", 2: "images"}),
]


@pytest.mark.parametrize("label,op,shape,kw,expected", AUTOMATIC, ids=[a[0] for a in AUTOMATIC])
def test_automatic_route_choice(label, op, shape, kw, expected, threads):
    y = getattr(F, f"{op}_pool2d")(ember.zeros(shape, requires_grad=True), **kw)
    node = y.grad_fn
    assert node.geom.route == expected[threads]
