"""Every named convolution route (ember.ops.conv.ROUTES), forced, at 1 and 2 threads, against torch:
forward and the gradients of input, weight and bias, for conv1d/conv2d and the transposed convolutions
(which run the same routes with input and output swapped). Which route the automatic choice takes for
the tutorial networks' layers is pinned too, so a changed threshold shows up here.

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
from ember.ops import conv  # noqa: E402

# (input, weight, stride, padding, dilation, groups)
CONFIGS = {
    "3x3 pad": ((3, 4, 9, 8), (6, 4, 3, 3), 1, 1, 1, 1),
    "groups dilation stride": ((2, 4, 9, 10), (6, 2, 3, 2), (2, 1), (1, 0), (1, 2), 2),
    "one image": ((1, 3, 8, 8), (5, 3, 3, 3), 1, 1, 1, 1),
    "1x1": ((2, 4, 6, 6), (8, 4, 1, 1), 1, 0, 1, 1),
    "stride 2": ((2, 3, 9, 9), (4, 3, 3, 3), 2, 1, 1, 1),
    "wide kernel": ((4, 2, 5, 12), (3, 2, 2, 5), 1, (0, 2), 1, 1),
    "1d": ((3, 2, 10), (4, 2, 3), 1, 1, 1, 1),
    "1d one image": ((1, 4, 11), (2, 2, 3), 2, 1, 1, 2),
}


def _geom(cfg):
    xs, ws, s, p, d, g = cfg
    pair = (lambda v: (v, v) if isinstance(v, int) else v)
    if len(xs) == 3:
        return conv._Geom(xs, ws, (1, s), (0, 0, p, p), (1, d), g, True)
    (sh, sw), (ph, pw), (dh, dw) = pair(s), pair(p), pair(d)
    return conv._Geom(xs, ws, (sh, sw), (ph, ph, pw, pw), (dh, dw), g, False)


CASES = [(route, name) for route in conv.ROUTES for name, cfg in CONFIGS.items()
         if conv._route_applies(route, _geom(cfg))]


def test_every_route_is_exercised():
    assert {route for route, _ in CASES} == set(conv.ROUTES)


def _run(lib, fn, arrays):
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(lib, *ts)
    upstream = np.random.default_rng(1).standard_normal(tuple(out.shape))
    out.backward(lib.tensor(upstream))
    return out, [out.detach().numpy()] + [t.grad.numpy() for t in ts]


def _conv(transposed):
    def fn(lib, x, w, b, cfg):
        _, _, s, p, d, g = cfg
        f = TF if lib is torch else F
        nd = x.ndim - 2
        if transposed:
            name = "conv_transpose1d" if nd == 1 else "conv_transpose2d"
            return getattr(f, name)(x, w, b, stride=s, padding=p, groups=g, dilation=d)
        return getattr(f, "conv1d" if nd == 1 else "conv2d")(x, w, b, stride=s, padding=p, dilation=d, groups=g)
    return fn


def _arrays(cfg, transposed):
    xs, ws, s, p, d, g = cfg
    rng = np.random.default_rng(0)
    if transposed:
        # the transposed convolution of the convolution described by cfg: its input has the output's shape
        y = TF.conv1d if len(xs) == 3 else TF.conv2d
        out_shape = y(torch.zeros(xs, dtype=torch.float64), torch.zeros(ws, dtype=torch.float64), None,
                      s, p, d, g).shape
        return [rng.standard_normal(tuple(out_shape)), rng.standard_normal(ws), rng.standard_normal(ws[1] * g)]
    return [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])]


@pytest.mark.parametrize("transposed", [False, True], ids=["conv", "transposed"])
@pytest.mark.parametrize("route,name", CASES)
def test_forced_route_matches_torch(route, name, transposed, threads):
    cfg = CONFIGS[name]
    arrays = _arrays(cfg, transposed)
    fn = _conv(transposed)
    with conv.force_route(route):
        out, got = _run(ember, lambda lib, *t: fn(lib, *t, cfg), arrays)
    assert out.grad_fn.geom.route == route
    _, want = _run(torch, lambda lib, *t: fn(lib, *t, cfg), arrays)
    for what, a, b in zip(("output", "input grad", "weight grad", "bias grad"), got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10, err_msg=f"{route} {name}: {what}")


@pytest.mark.parametrize("route,name", [c for c in CASES if c[0] != "reference"][:6])
def test_forced_route_double_backward(route, name):
    """The gradient Functions take the same route (their own backward are convolutions again)."""
    cfg = CONFIGS[name]
    arrays = _arrays(cfg, False)
    results = []
    for lib in (ember, torch):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        with conv.force_route(route):
            y = _conv(False)(lib, *ts, cfg)
            gx, gw = (ember.autograd if lib is ember else torch.autograd).grad(y.pow(2).sum(), ts[:2],
                                                                              create_graph=True)
            (gx.pow(2).sum() + gw.pow(2).sum()).backward()
        results.append([t.grad.numpy() for t in ts])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_force_route_refuses_what_it_cannot_compute():
    x, w = ember.randn(2, 3, 8, 8), ember.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match="'one_image' cannot compute input \\[2, 3, 8, 8\\]"):
        with conv.force_route("one_image"):
            F.conv2d(x, w)
    with pytest.raises(ValueError, match="unknown convolution route 'fast'"):
        conv.force_route("fast")


# the automatic choice for the tutorial networks' layers (batch, input, weight, stride, padding)
AUTOMATIC = [
    ("LeNet conv1 b256", (256, 1, 28, 28), (6, 1, 5, 5), 1, 2, {1: "batch_split_wide_rows", 2: "batch_split_wide_rows"}),
    ("LeNet conv2 b256", (256, 6, 14, 14), (16, 6, 5, 5), 1, 0, {1: "batch_split_banded", 2: "batch_split_banded"}),
    ("AlexNet conv1 b1", (1, 1, 224, 224), (96, 1, 11, 11), 4, 1, {1: "batch", 2: "one_image"}),
    ("AlexNet conv3 b16", (16, 256, 12, 12), (384, 256, 3, 3), 1, 1, {1: "channel_chunked", 2: "channel_chunked"}),
    ("ResNet 3x3 b1", (1, 64, 56, 56), (64, 64, 3, 3), 1, 1, {1: "batch_wide_rows", 2: "one_image_wide_rows"}),
    ("ResNet 1x1 b32", (32, 64, 7, 7), (128, 64, 1, 1), 2, 0, {1: "channel", 2: "channel"}),
]


@pytest.mark.parametrize("label,xs,ws,s,p,expected", AUTOMATIC, ids=[a[0] for a in AUTOMATIC])
def test_automatic_route_choice(label, xs, ws, s, p, expected, threads):
    y = F.conv2d(ember.zeros(xs, requires_grad=True), ember.zeros(ws), stride=s, padding=p)
    assert y.grad_fn.geom.route == expected[threads]


@pytest.mark.parametrize("threads_n", [1, 2])
def test_lenet_second_layer_batch_256(threads_n):
    """The layer whose one-thread route once raised unnoticed, at its real size, against torch (float32)."""
    saved = ember.get_num_threads()
    ember.set_num_threads(threads_n)
    try:
        rng = np.random.default_rng(0)
        arrays = [rng.standard_normal(s).astype(np.float32) for s in ((256, 6, 14, 14), (16, 6, 5, 5), (16,))]
        fn = (lambda lib, x, w, b: (TF if lib is torch else F).conv2d(x, w, b))
        _, got = _run(ember, fn, arrays)
        _, want = _run(torch, fn, arrays)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-6 * 2500)
    finally:
        ember.set_num_threads(saved)
