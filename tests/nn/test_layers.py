"""Every layer of nn vs torch: identical weights (copied through NumPy) and inputs.

For each layer the torch layer is built first, its parameters and buffers are copied into the
layer under test, and both run the same input: the output, the input gradient, every parameter
gradient and every buffer (running statistics, num_batches_tracked) must agree, in train and in
eval mode.  Conv/pool/linear geometries are drawn by hypothesis.  repr() and the state_dict
signature (keys, shapes, dtypes) are compared for each layer and several option combinations.
"""
import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st, HealthCheck

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import (LIB, LIB_NAME, TOL, assert_same_repr, compare_buffers,  # noqa: E402
                        compare_layer, copy_weights, make_pair, nn, rand, randn, state_signature, tnn, to_lib,
                        to_numpy)

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")

HYP = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
DTYPES = ["float32", "float64"]


def randomize_params(ref_layer, seed=0):
    """Give torch's layer non-trivial parameters (BN/LN/GN start at ones/zeros)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in ref_layer.parameters():
            p.copy_(torch.rand(p.shape, generator=g, dtype=p.dtype) * 1.5 + 0.25)


# =======================================================================================
# Linear, LazyLinear, Identity, Flatten, Unflatten
# =======================================================================================

@settings(max_examples=20, **HYP)
@given(in_f=st.integers(1, 9), out_f=st.integers(1, 9), lead=st.lists(st.integers(1, 4), max_size=3),
       bias=st.booleans(), dtype=st.sampled_from(DTYPES))
def test_linear(in_f, out_f, lead, bias, dtype):
    ref, lib = make_pair("Linear", in_f, out_f, bias=bias, dtype=dtype)
    x = rand(tuple(lead) + (in_f,), seed=in_f * 31 + out_f, dtype=dtype)
    for train in (True, False):
        compare_layer(ref, lib, x, train=train, rtol=TOL[dtype][0], atol=TOL[dtype][1], name="Linear")


def test_linear_wrong_input_size_raises():
    ref, lib = make_pair("Linear", 4, 3)
    from torch_compare import assert_same_exception
    assert_same_exception(lambda: lib(to_lib(LIB, rand((2, 5)))), lambda: ref(torch.from_numpy(rand((2, 5)))),
                          contains=["cannot be multiplied", "2x5", "4x3"], name="Linear size mismatch")


def test_lazy_linear():
    ref, lib = tnn.LazyLinear(4), nn.LazyLinear(4)
    assert_same_repr(lib, ref, "LazyLinear before its first call")
    assert type(lib.weight).__name__ == "UninitializedParameter"
    assert type(lib).__name__ == "LazyLinear"
    x = rand((2, 3), seed=1)
    ref(torch.from_numpy(x))
    lib(to_lib(LIB, x))
    assert type(lib) is nn.Linear, f"LazyLinear became {type(lib)}, torch's becomes {type(ref)}"
    assert type(lib.weight).__name__ == "Parameter"
    assert_same_repr(lib, ref, "LazyLinear after its first call")
    assert state_signature(lib) == state_signature(ref)
    # after materialisation: the default init bound 1/sqrt(in_features)
    w = to_numpy(lib.weight)
    assert np.abs(w).max() <= 1 / np.sqrt(3) + 1e-7 and np.abs(w).std() > 0
    copy_weights(ref, lib)
    compare_layer(ref, lib, x, name="LazyLinear (materialised)")


def test_lazy_linear_no_bias_and_dtype():
    ref, lib = tnn.LazyLinear(2, bias=False, dtype=torch.float64), nn.LazyLinear(2, bias=False, dtype=LIB.float64)
    assert_same_repr(lib, ref, "LazyLinear(bias=False)")
    x = rand((5, 6), seed=2, dtype="float64")
    ref(torch.from_numpy(x))
    lib(to_lib(LIB, x))
    assert_same_repr(lib, ref, "LazyLinear(bias=False) after call")
    assert state_signature(lib) == state_signature(ref)
    copy_weights(ref, lib)
    compare_layer(ref, lib, x, rtol=1e-9, atol=1e-10, name="LazyLinear float64")


def _linear_stack(lib, dtype, bias):
    """Two Linear layers with a ReLU, the same weights in either library."""
    model = lib.nn.Sequential(lib.nn.Linear(5, 4, bias=bias), lib.nn.ReLU(), lib.nn.Linear(4, 3, bias=bias))
    if dtype == "float64":
        model = model.double()
    with lib.no_grad():
        for k, p in enumerate(model.parameters()):
            p.copy_(to_lib(lib, rand(tuple(p.shape), seed=40 + k, dtype=dtype)))
    return model


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lead", [(6,), (), (2, 3)], ids=["2-d", "1-d", "3-d"])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_scalar_loss_backward_and_accumulation(dtype, lead, bias):
    """loss.backward() through Linear (its gradients straight on the arrays, which a parameter then keeps
    as .grad without a copy), twice: the second pass adds into the first's .grad in place; then an SGD
    step with momentum reads them."""
    def run(lib):
        model = _linear_stack(lib, dtype, bias)
        x = to_lib(lib, rand(lead + (5,), seed=3, dtype=dtype)).requires_grad_()
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        grads = []
        for k in range(2):
            loss = (model(x) * (k + 1)).square().sum()
            loss.backward()
            grads.append([to_numpy(p.grad).copy() for p in model.parameters()] + [to_numpy(x.grad).copy()])
        versions = [_version(p.grad) for p in model.parameters()]
        opt.step()
        opt.zero_grad()
        (model(x).sum()).backward()
        opt.step()
        return grads, versions, [to_numpy(p.detach()) for p in model.parameters()]

    (ge, ve, pe), (gt, vt, pt) = run(LIB), run(torch)
    rtol, atol = TOL[dtype]
    for step_e, step_t in zip(ge, gt):
        for a, b in zip(step_e, step_t):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    assert ve == vt, f"versions of .grad after accumulating: {ve} vs torch {vt}"
    for a, b in zip(pe, pt):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _version(t):
    v = t._version
    return v[0] if isinstance(v, list) else v


def test_linear_grad_seen_by_a_hook_is_not_shared_with_dot_grad():
    """A weight gradient that a hook keeps must stay the hook's own: .grad is a copy (PyTorch clones a
    gradient something else references), so accumulating into .grad leaves the kept one alone."""
    def run(lib):
        model = _linear_stack(lib, "float32", True)
        kept = []
        model[0].weight.register_hook(lambda g: kept.append(g))
        model[2].bias.register_hook(lambda g: kept.append(g))
        x = to_lib(lib, rand((6, 5), seed=3))
        model(x).sum().backward()
        first = [to_numpy(k).copy() for k in kept]
        model(x).sum().backward()
        model[0].weight.grad.zero_()
        model[2].bias.grad.add_(1)
        return first, [to_numpy(k) for k in kept[:2]], to_numpy(model[0].weight.grad), to_numpy(model[2].bias.grad)

    (fe, ke, we, be), (ft, kt, wt, bt) = run(LIB), run(torch)
    for a, b in zip(fe, ft):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)
    for first, now in zip(fe, ke):
        np.testing.assert_array_equal(first, now)      # the kept gradients were not written to
    np.testing.assert_array_equal(we, wt)
    np.testing.assert_allclose(be, bt, rtol=2e-4, atol=2e-5)


def test_linear_weight_grad_kept_by_an_upstream_function_is_not_shared_with_dot_grad():
    """The weight is computed by a custom Function whose backward keeps the gradient it passes on unchanged:
    the leaf's .grad must still be its own array (PyTorch clones a gradient something else references)."""
    def run(lib):
        kept = []

        class PassThrough(lib.autograd.Function):
            @staticmethod
            def forward(ctx, w):
                return w.clone()

            @staticmethod
            def backward(ctx, g):
                kept.append(g)
                return g

        w = to_lib(lib, rand((3, 5), seed=4)).requires_grad_()
        x = to_lib(lib, rand((6, 5), seed=3))
        lib.nn.functional.linear(x, PassThrough.apply(w)).sum().backward()
        w.grad.add_(1)
        return to_numpy(kept[0]), to_numpy(w.grad)

    (ke, we), (kt, wt) = run(LIB), run(torch)
    np.testing.assert_allclose(ke, kt, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(we, wt, rtol=2e-4, atol=2e-5)


def test_linear_parameters_keep_their_fresh_gradients(monkeypatch):
    """ember's own check that the copy-free path is taken: after loss.backward() each parameter's .grad
    holds the very array Linear's backward made (if this fails after a Python upgrade, the engine's
    reference count in ember.autograd.function._ENGINE_REFS needs measuring again)."""
    from ember.autograd import function
    from ember.ops import linalg
    made = []

    def spy(data):
        made.append(data)
        return function.fresh_grad(data)
    monkeypatch.setattr(linalg, "fresh_grad", spy)
    model = _linear_stack(LIB, "float32", True)
    model(to_lib(LIB, rand((6, 5), seed=3))).square().sum().backward()
    assert len(made) == 4
    assert all(any(p.grad._data is d for d in made) for p in model.parameters())


@pytest.mark.parametrize("shape", [(2, 3, 9, 9), (64, 3, 12, 12)])   # a per-image and a batched route
def test_conv_weights_keep_their_fresh_gradients(monkeypatch, shape):
    """The copy-free path for convolution weights: .grad holds the array the weight gradient was computed
    into, and a second backward adds into it as torch does."""
    from ember.ops import conv
    made = []
    real = conv._grad_weight

    def spy(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]
    monkeypatch.setattr(conv, "_grad_weight", spy)
    LIB.manual_seed(0)
    layer = LIB.nn.Conv2d(3, 4, 3)
    x = to_lib(LIB, rand(shape, seed=4))
    layer(x).square().sum().backward()
    assert len(made) == 1 and np.shares_memory(layer.weight.grad._data, made[0])
    first = layer.weight.grad._data.copy()
    layer(x).square().sum().backward()
    np.testing.assert_allclose(layer.weight.grad._data, 2 * first, rtol=1e-5)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_double_backward(bias):
    """A gradient penalty through Linear: backward with create_graph records the gradients as ops."""
    def run(lib):
        model = _linear_stack(lib, "float64", bias)
        x = to_lib(lib, rand((4, 5), seed=3, dtype="float64")).requires_grad_()
        out = model(x).tanh().sum()
        (gx,) = lib.autograd.grad(out, x, create_graph=True)
        gw = lib.autograd.grad(out, model[0].weight, create_graph=True)[0]
        ((gx * gx).sum() + (gw * gw).sum()).backward()
        return [to_numpy(x.grad)] + [to_numpy(p.grad) for p in model.parameters()]

    for a, b in zip(run(LIB), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("cls,args,shape", [
    ("Identity", (), (2, 3)),
    ("Identity", (54, ), (2, 3, 4)),
    ("Flatten", (), (2, 3, 4, 5)),
    ("Flatten", (0, 2), (2, 3, 4, 5)),
    ("Flatten", (-3, -2), (2, 3, 4, 5)),
    ("Unflatten", (1, (2, 5)), (3, 10)),
    ("Unflatten", (-1, (2, -1)), (3, 2, 6)),
])
def test_shape_layers(cls, args, shape):
    ref, lib = make_pair(cls, *args)
    for train in (True, False):
        compare_layer(ref, lib, rand(shape), train=train, name=cls)


@pytest.mark.parametrize("x_dtype,layer", [("float64", "Linear"), ("int64", "Linear"), ("float64", "Conv2d")])
def test_dtype_mismatch_raises(x_dtype, layer):
    """A float32 layer on a float64 or integer input: torch refuses rather than promoting."""
    from torch_compare import assert_same_exception
    ref, lib = (make_pair("Linear", 2, 3) if layer == "Linear" else make_pair("Conv2d", 1, 1, 1))
    x = np.ones((1, 2) if layer == "Linear" else (1, 1, 2, 2), dtype=x_dtype)
    names = {"float64": "double", "int64": "long"}[x_dtype]
    contains = [["same dtype", names, "float"] if layer == "Linear" else ["should be the same", names, "float"]][0]
    assert_same_exception(lambda: lib(to_lib(LIB, x)), lambda: ref(torch.from_numpy(x)), contains=contains,
                          name=f"{layer} float32 on {x_dtype} input")


# =======================================================================================
# Convolutions
# =======================================================================================

@st.composite
def conv_geometry(draw, nd):
    groups = draw(st.integers(1, 3))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 3))
    k = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    p = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    size = []
    for ki, di, pi in zip(k, d, p):
        need = max(1, di * (ki - 1) + 1 - 2 * pi)
        size.append(draw(st.integers(need, need + 5)))
    n = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    dtype = draw(st.sampled_from(DTYPES))
    # spell the options the way users do: ints when square
    fmt = (lambda t: t[0] if len(set(t)) == 1 and draw(st.booleans()) else t)
    return dict(cin=cin, cout=cout, k=fmt(k), s=fmt(s), p=fmt(p), d=fmt(d), groups=groups, bias=bias,
                shape=(n, cin) + tuple(size), dtype=dtype)


def _run_conv(cls, g):
    ref, lib = make_pair(cls, g["cin"], g["cout"], g["k"], stride=g["s"], padding=g["p"], dilation=g["d"],
                         groups=g["groups"], bias=g["bias"], dtype=g["dtype"])
    x = rand(g["shape"], seed=sum(g["shape"]), dtype=g["dtype"])
    rtol, atol = TOL[g["dtype"]]
    compare_layer(ref, lib, x, rtol=rtol, atol=atol, name=f"{cls} {g}")
    assert_same_repr(lib, ref, cls)


@settings(max_examples=25, **HYP)
@given(g=conv_geometry(2))
def test_conv2d_hypothesis(g):
    _run_conv("Conv2d", g)


@settings(max_examples=15, **HYP)
@given(g=conv_geometry(1))
def test_conv1d_hypothesis(g):
    _run_conv("Conv1d", g)


CONV2D_CASES = [
    dict(args=(3, 6, 3)),
    dict(args=(3, 6, 3), kw=dict(stride=2, padding=1)),
    dict(args=(3, 6, (3, 2)), kw=dict(stride=(2, 1), padding=(1, 0)), shape=(2, 3, 9, 6)),
    dict(args=(4, 4, 3), kw=dict(groups=4, bias=False)),  # depthwise
    dict(args=(4, 6, 3), kw=dict(groups=2, dilation=2, padding=2)),
    dict(args=(3, 5, 3), kw=dict(padding="same")),
    dict(args=(3, 5, (4, 2)), kw=dict(padding="same", dilation=(1, 2))),  # even kernel: asymmetric padding
    dict(args=(3, 5, 3), kw=dict(padding="valid")),
    dict(args=(3, 5, 3), kw=dict(padding=1, padding_mode="reflect")),
    dict(args=(3, 5, 3), kw=dict(padding=(2, 1), padding_mode="replicate")),
    dict(args=(3, 5, 3), kw=dict(padding=1, padding_mode="circular", stride=2)),
    dict(args=(3, 5, 3), kw=dict(padding="same", padding_mode="reflect")),
    dict(args=(3, 5, 3), kw=dict(padding="same", padding_mode="circular")),
    dict(args=(2, 4, 1), kw=dict(bias=False)),
    dict(args=(2, 4, 5), shape=(1, 2, 5, 5)),  # kernel == input
]


def _case_id(c):
    return f"{c['args']}-{c.get('kw', {})}"


@pytest.mark.parametrize("case", CONV2D_CASES, ids=_case_id)
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_options(case, dtype):
    ref, lib = make_pair("Conv2d", *case["args"], dtype=dtype, **case.get("kw", {}))
    x = rand(case.get("shape", (2, case["args"][0], 7, 8)), seed=3, dtype=dtype)
    for train in (True, False):
        compare_layer(ref, lib, x, train=train, rtol=TOL[dtype][0], atol=TOL[dtype][1], name="Conv2d")


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=2, dilation=2), dict(padding="same"),
                                dict(padding=1, padding_mode="reflect"), dict(groups=2, bias=False)],
                         ids=str)
def test_conv1d_options(kw):
    ref, lib = make_pair("Conv1d", 4, 6, 3, **kw)
    compare_layer(ref, lib, rand((2, 4, 11), seed=4), rtol=TOL["float32"][0], atol=TOL["float32"][1],
                  name="Conv1d")


def test_conv2d_unbatched_input():
    ref, lib = make_pair("Conv2d", 2, 3, 3, padding=1)
    compare_layer(ref, lib, rand((2, 5, 5)), rtol=TOL["float32"][0], atol=TOL["float32"][1],
                  name="Conv2d unbatched")


# =======================================================================================
# Pooling
# =======================================================================================

@st.composite
def pool_geometry(draw, avg):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = (1, 1) if avg else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = []
    for ki, di, pi in zip(k, d, p):
        need = max(1, di * (ki - 1) + 1 - 2 * pi)
        size.append(draw(st.integers(need, need + 5)))
    return dict(k=k, s=s, p=p, d=d, ceil=draw(st.booleans()), shape=(draw(st.integers(1, 2)), 2) + tuple(size),
                cip=draw(st.booleans()))


@settings(max_examples=30, **HYP)
@given(g=pool_geometry(avg=False))
def test_maxpool2d_hypothesis(g):
    kw = dict(stride=g["s"], padding=g["p"], dilation=g["d"], ceil_mode=g["ceil"])
    ref, lib = make_pair("MaxPool2d", g["k"], **kw)
    compare_layer(ref, lib, rand(g["shape"], seed=sum(g["shape"])), name=f"MaxPool2d {g}")
    assert_same_repr(lib, ref, "MaxPool2d")


@settings(max_examples=30, **HYP)
@given(g=pool_geometry(avg=True))
def test_avgpool2d_hypothesis(g):
    kw = dict(stride=g["s"], padding=g["p"], ceil_mode=g["ceil"], count_include_pad=g["cip"])
    ref, lib = make_pair("AvgPool2d", g["k"], **kw)
    compare_layer(ref, lib, rand(g["shape"], seed=sum(g["shape"])), name=f"AvgPool2d {g}")
    assert_same_repr(lib, ref, "AvgPool2d")


@pytest.mark.parametrize("args,kw,shape", [
    ((2,), {}, (2, 3, 8, 8)),
    ((3,), dict(stride=2, padding=1), (2, 3, 7, 9)),
    ((3,), dict(stride=2, ceil_mode=True), (1, 2, 8, 8)),
    ((3,), dict(stride=2, padding=1, ceil_mode=True), (1, 2, 6, 6)),
    (((2, 3),), dict(stride=(1, 2)), (1, 2, 5, 7)),
    ((2,), {}, (3, 6, 6)),  # unbatched
])
def test_maxpool2d_options(args, kw, shape):
    ref, lib = make_pair("MaxPool2d", *args, **kw)
    for train in (True, False):
        compare_layer(ref, lib, rand(shape, seed=5), train=train, name="MaxPool2d")


def test_maxpool2d_return_indices():
    ref, lib = make_pair("MaxPool2d", 2, stride=2, padding=1, return_indices=True)
    compare_layer(ref, lib, rand((2, 3, 5, 6), seed=6), name="MaxPool2d(return_indices=True)")


def test_maxpool2d_nan_and_inf():
    """NaN wins a max-pool window (as in torch), -inf and +inf are ordinary values; gradients follow."""
    x = rand((1, 2, 4, 4), seed=30)
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 2, 2] = np.inf
    x[0, 1, :2, :2] = -np.inf
    ref, lib = make_pair("MaxPool2d", 2)
    compare_layer(ref, lib, x, name="MaxPool2d with nan/inf")


@settings(max_examples=30, **HYP)
@given(h=st.integers(1, 9), w=st.integers(1, 9), oh=st.integers(1, 9), ow=st.integers(1, 9),
       cls=st.sampled_from(["AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]))
def test_adaptive_pool2d_hypothesis(h, w, oh, ow, cls):
    ref, lib = make_pair(cls, (oh, ow))
    compare_layer(ref, lib, rand((2, 2, h, w), seed=h * 10 + w), name=f"{cls}(({oh}, {ow})) on {h}x{w}")


@settings(max_examples=20, **HYP)
@given(k=st.integers(1, 4), p=st.integers(0, 3), s=st.integers(1, 2),
       mode=st.sampled_from(["reflect", "replicate", "circular"]), extra=st.integers(0, 4))
def test_conv2d_padding_modes_hypothesis(k, p, s, mode, extra):
    size = max(k, p + 1) + extra  # reflect needs padding < size
    ref, lib = make_pair("Conv2d", 2, 3, k, stride=s, padding=p, padding_mode=mode)
    compare_layer(ref, lib, rand((1, 2, size, size + 1), seed=size), rtol=TOL["float32"][0],
                  atol=TOL["float32"][1], name=f"Conv2d(k={k}, p={p}, s={s}, {mode}) on {size}")


def test_maxpool2d_ties_gradient():
    """Equal values in a window: torch sends the gradient to the first maximum only."""
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1:3, 1:3] = 1.0
    ref, lib = make_pair("MaxPool2d", 2, stride=1)
    compare_layer(ref, lib, x, name="MaxPool2d ties")


@pytest.mark.parametrize("args,kw,shape", [
    ((2,), {}, (2, 3, 8, 8)),
    ((3,), dict(stride=2, padding=1), (2, 3, 7, 9)),
    ((3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 7, 9)),
    ((3,), dict(stride=2, ceil_mode=True), (1, 2, 8, 8)),
    ((3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False), (1, 2, 6, 6)),
    ((3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=True), (1, 2, 6, 6)),
    ((3,), dict(divisor_override=2), (1, 2, 6, 6)),
    (((2, 3),), dict(stride=(1, 2), padding=(1, 1)), (1, 2, 5, 7)),
    ((2,), {}, (3, 6, 6)),  # unbatched
])
def test_avgpool2d_options(args, kw, shape):
    ref, lib = make_pair("AvgPool2d", *args, **kw)
    for train in (True, False):
        compare_layer(ref, lib, rand(shape, seed=7), train=train, name="AvgPool2d")


ADAPTIVE_CASES = [
    ((1, 1), (2, 3, 7, 5)),
    (1, (2, 3, 7, 5)),
    ((3, 2), (2, 3, 7, 5)),
    ((7, 5), (1, 2, 7, 5)),   # identity size
    ((4, 3), (1, 2, 9, 10)),  # overlapping windows
    ((5, 6), (1, 2, 3, 4)),   # output larger than input
    ((None, 3), (1, 2, 6, 7)),
    (2, (3, 6, 6)),           # unbatched
]


@pytest.mark.parametrize("out,shape", ADAPTIVE_CASES, ids=str)
@pytest.mark.parametrize("cls", ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d"])
def test_adaptive_pool2d(cls, out, shape):
    ref, lib = make_pair(cls, out)
    for train in (True, False):
        compare_layer(ref, lib, rand(shape, seed=8), train=train, name=f"{cls}({out})")


def test_adaptive_maxpool2d_return_indices():
    ref, lib = make_pair("AdaptiveMaxPool2d", (3, 2), return_indices=True)
    compare_layer(ref, lib, rand((2, 2, 7, 5), seed=9), name="AdaptiveMaxPool2d(return_indices=True)")


# =======================================================================================
# Normalisation
# =======================================================================================

BN_OPTIONS = [
    dict(),
    dict(momentum=0.3),
    dict(momentum=None),
    dict(eps=1e-2),
    dict(affine=False),
    dict(track_running_stats=False),
    dict(affine=False, track_running_stats=False, momentum=None),
]


@pytest.mark.parametrize("kw", BN_OPTIONS, ids=str)
@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (3, 4, 5)),
                                       ("BatchNorm2d", (3, 4, 5, 2))], ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm(cls, shape, kw, dtype):
    ref, lib = make_pair(cls, 4, copy=False, dtype=dtype, **kw)
    randomize_params(ref)
    copy_weights(ref, lib)
    rtol, atol = TOL[dtype]
    # several training steps on different batches: running stats and num_batches_tracked accumulate
    for step in range(3):
        x = randn(shape, seed=10 + step, dtype=dtype, scale=2.0, shift=step - 1.0)
        compare_layer(ref, lib, x, train=True, rtol=rtol, atol=atol, name=f"{cls}{kw}", seed=step)
    # eval: running statistics (or batch statistics without them)
    for step in range(2):
        x = randn(shape, seed=20 + step, dtype=dtype, scale=3.0, shift=0.5)
        compare_layer(ref, lib, x, train=False, rtol=rtol, atol=atol, name=f"{cls}{kw}", seed=step)
    # back to training: still in step
    compare_layer(ref, lib, randn(shape, seed=30, dtype=dtype), train=True, rtol=rtol, atol=atol,
                  name=f"{cls}{kw} (train again)")
    if ref.track_running_stats:
        assert int(lib.num_batches_tracked.item()) == int(ref.num_batches_tracked.item()) == 4


def test_batchnorm_num_batches_tracked_dtype_and_eval_no_update():
    ref, lib = make_pair("BatchNorm2d", 3)
    x = randn((4, 3, 2, 2), seed=1)
    compare_layer(ref, lib, x, train=True, name="BatchNorm2d")
    assert str(lib.num_batches_tracked.dtype) == str(ref.num_batches_tracked.dtype)
    assert tuple(lib.num_batches_tracked.shape) == ()
    before = to_numpy(lib.running_mean)
    compare_layer(ref, lib, randn((4, 3, 2, 2), seed=2), train=False, name="BatchNorm2d eval")
    np.testing.assert_array_equal(to_numpy(lib.running_mean), before)
    assert int(lib.num_batches_tracked.item()) == 1


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (3, 4, 5, 6)), ("BatchNorm1d", (4,)),
                                       ("BatchNorm2d", (3, 4, 5))], ids=str)
def test_batchnorm_wrong_dim_raises(cls, shape):
    from torch_compare import assert_same_exception
    ref, lib = make_pair(cls, 4)
    x = rand(shape)
    assert_same_exception(lambda: lib(to_lib(LIB, x)), lambda: ref(torch.from_numpy(x)),
                          contains=[f"got {len(shape)}D input"], name=f"{cls} on {len(shape)}-d input")


def test_batchnorm_single_value_per_channel_raises():
    from torch_compare import assert_same_exception
    ref, lib = make_pair("BatchNorm1d", 4)
    x = rand((1, 4))
    assert_same_exception(lambda: lib(to_lib(LIB, x)), lambda: ref(torch.from_numpy(x)),
                          contains=["more than 1 value per channel"], name="BatchNorm1d batch of 1")


@pytest.mark.parametrize("shape,ns,kw", [
    ((3, 5), 5, {}),
    ((2, 3, 4), (3, 4), {}),
    ((2, 3, 4), [4], dict(eps=1e-3)),
    ((2, 3, 4), 4, dict(elementwise_affine=False)),
    ((2, 3, 4), 4, dict(bias=False)),
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_layernorm(shape, ns, kw, dtype):
    ref, lib = make_pair("LayerNorm", ns, copy=False, dtype=dtype, **kw)
    randomize_params(ref)
    copy_weights(ref, lib)
    x = randn(shape, seed=11, dtype=dtype, scale=2.0, shift=1.0)
    for train in (True, False):
        compare_layer(ref, lib, x, train=train, rtol=TOL[dtype][0], atol=TOL[dtype][1], name="LayerNorm")


@pytest.mark.parametrize("groups,channels,shape,kw", [
    (2, 4, (3, 4, 5, 2), {}),
    (1, 4, (3, 4, 5), {}),
    (4, 4, (2, 4, 3, 3), dict(eps=1e-3)),
    (3, 6, (2, 6, 4), dict(affine=False)),
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_groupnorm(groups, channels, shape, kw, dtype):
    ref, lib = make_pair("GroupNorm", groups, channels, copy=False, dtype=dtype, **kw)
    randomize_params(ref)
    copy_weights(ref, lib)
    x = randn(shape, seed=12, dtype=dtype, scale=2.0, shift=1.0)
    for train in (True, False):
        compare_layer(ref, lib, x, train=train, rtol=TOL[dtype][0], atol=TOL[dtype][1], name="GroupNorm")


# =======================================================================================
# Dropout: random masks differ between libraries, so the properties are checked instead
# =======================================================================================

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_train_statistics_and_grad(p):
    LIB.manual_seed(0)
    layer = nn.Dropout(p)
    layer.train()
    x_np = rand((400, 500), seed=13, low=0.5, high=1.5)
    x = to_lib(LIB, x_np, requires_grad=True)
    out = layer(x)
    y = to_numpy(out)
    dropped = y == 0
    frac = dropped.mean()
    # binomial: std sqrt(p(1-p)/n) < 0.00075 here; allow about 7 standard deviations
    assert abs(frac - p) < 0.005, f"dropped fraction {frac}, expected {p}"
    kept = ~dropped
    np.testing.assert_allclose(y[kept], x_np[kept] / (1 - p), rtol=1e-6)
    g = rand((400, 500), seed=14)
    out.backward(to_lib(LIB, g))
    gx = to_numpy(x.grad)
    np.testing.assert_array_equal(gx[dropped], 0)
    np.testing.assert_allclose(gx[kept], g[kept] / (1 - p), rtol=1e-6)
    # scaling keeps the mean
    assert abs(y.mean() / x_np.mean() - 1) < 0.02


@pytest.mark.parametrize("cls", ["Dropout", "Dropout2d"])
@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_dropout_eval_identity(cls, p):
    ref, lib = make_pair(cls, p)
    x = to_lib(LIB, rand((2, 3, 2, 2)))
    assert lib.eval()(x) is x, "in eval mode torch's dropout returns its input itself"
    compare_layer(ref, lib, rand((2, 3, 4, 5)), train=False, name=f"{cls}({p}) eval")


def test_dropout_p_edge_values_in_training():
    ref, lib = make_pair("Dropout", 0.0)
    compare_layer(ref, lib, rand((3, 4)), train=True, name="Dropout(0) train")
    ref, lib = make_pair("Dropout", 1.0)
    compare_layer(ref, lib, rand((3, 4)), train=True, name="Dropout(1) train")


def test_dropout_invalid_p():
    from torch_compare import assert_same_exception
    for p in (-0.1, 1.5):
        assert_same_exception(lambda: nn.Dropout(p), lambda: tnn.Dropout(p), contains=["dropout probability"],
                              name=f"Dropout({p})")


@pytest.mark.parametrize("shape,unit", [((20, 30, 6, 7), 42), ((30, 6, 7), 7)], ids=str)
def test_dropout2d_channel_masks(shape, unit):
    """Whole channels are dropped.  A 3-d input is (N, C, L) for torch (with a warning that this
    will change): the unit dropped together is one length-L row, not a (C, H, W) channel."""
    import warnings
    p = 0.4
    LIB.manual_seed(1)
    layer = nn.Dropout2d(p).train()
    x_np = rand(shape, seed=15, low=0.5, high=1.5)
    x = to_lib(LIB, x_np, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = layer(x)
    y = to_numpy(out)
    planes = y.reshape(-1, unit)
    xplanes = x_np.reshape(planes.shape)
    zero = (planes == 0).all(axis=1)
    kept = (planes != 0).all(axis=1)
    assert (zero | kept).all(), (f"Dropout2d must drop whole channels of {unit} elements (input {shape}); "
                                 f"{int((~(zero | kept)).sum())} of {len(planes)} channels partly dropped")
    np.testing.assert_allclose(planes[kept], xplanes[kept] / (1 - p), rtol=1e-6)
    frac = zero.mean()
    n = planes.shape[0]
    assert abs(frac - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-9, f"dropped {frac} of {n} channels, p={p}"
    # channels of one sample are dropped independently: most samples keep some channels and drop others
    pattern = zero.reshape(shape[:2])
    c = shape[1]
    mixed = (pattern.any(axis=1) & ~pattern.all(axis=1)).mean()
    expected = 1 - p ** c - (1 - p) ** c
    assert mixed > expected / 2, (f"only {mixed:.2f} of the samples mix dropped and kept channels (expected about "
                                  f"{expected:.2f}): the mask is not drawn per (N, C) channel of the {shape} input")
    g = rand(shape, seed=16)
    out.backward(to_lib(LIB, g))
    gx = to_numpy(x.grad).reshape(planes.shape)
    np.testing.assert_array_equal(gx[zero], 0)
    np.testing.assert_allclose(gx[kept], g.reshape(planes.shape)[kept] / (1 - p), rtol=1e-6)


def test_dropout2d_3d_input_warning():
    """torch warns that a 3-d input to Dropout2d is taken as (N, C, L)."""
    import warnings
    x_np = rand((3, 4, 5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.Dropout2d(0.5).train()(to_lib(LIB, x_np))
    with warnings.catch_warnings(record=True) as ref_caught:
        warnings.simplefilter("always")
        tnn.Dropout2d(0.5).train()(torch.from_numpy(x_np))
    assert len(ref_caught) == 1
    got = [str(w.message) for w in caught]
    assert len(got) == 1 and "Received a 3D input to dropout2d" in got[0] and "(N, C, L)" in got[0], \
        f"{LIB_NAME} warned {got}; torch warned {[str(w.message) for w in ref_caught]}"
    assert caught[0].category is ref_caught[0].category


def test_dropout_inplace_on_leaf_raises():
    from torch_compare import assert_same_exception
    x = rand((3, 3))
    assert_same_exception(lambda: nn.Dropout(0.5, inplace=True).train()(to_lib(LIB, x, requires_grad=True)),
                          lambda: tnn.Dropout(0.5, inplace=True).train()(torch.tensor(x, requires_grad=True)),
                          contains=["a leaf Variable that requires grad is being used in an in-place operation"],
                          name="Dropout(inplace=True) on a leaf")


def test_dropout_inplace_flag():
    LIB.manual_seed(2)
    x = to_lib(LIB, rand((50, 50), low=0.5, high=1.5))
    out = nn.Dropout(0.5, inplace=True).train()(x)
    np.testing.assert_array_equal(to_numpy(out), to_numpy(x))
    assert (to_numpy(x) == 0).any()


# =======================================================================================
# Embedding
# =======================================================================================

@pytest.mark.parametrize("kw,idx", [
    (dict(), [[1, 2, 4, 5], [4, 3, 2, 9]]),
    (dict(padding_idx=0), [[0, 2, 0, 5], [4, 3, 2, 9]]),
    (dict(padding_idx=-1), [9, 9, 1, 1, 1]),
    (dict(), [3]),
    (dict(), 7),
])
def test_embedding(kw, idx):
    ref, lib = make_pair("Embedding", 10, 3, **kw)
    x = np.asarray(idx, dtype=np.int64)
    for train in (True, False):
        compare_layer(ref, lib, x, train=train, name=f"Embedding{kw}")
    if "padding_idx" in kw:
        pad = kw["padding_idx"] % 10
        assert lib.padding_idx == ref.padding_idx
        np.testing.assert_array_equal(to_numpy(lib.weight.grad)[pad], 0)


@pytest.mark.parametrize("kw", [dict(max_norm=1.0), dict(max_norm=0.5, norm_type=1.0), dict(scale_grad_by_freq=True),
                                dict(scale_grad_by_freq=True, padding_idx=1)], ids=str)
def test_embedding_max_norm_and_scale_grad_by_freq(kw):
    """max_norm renormalises the looked-up rows of the weight in place; scale_grad_by_freq divides
    each row's gradient by its count in the batch."""
    from nn_compare import compare_params
    ref, lib = make_pair("Embedding", 8, 4, **kw)
    x = np.array([[1, 2, 2, 5], [2, 7, 1, 1]], np.int64)
    compare_layer(ref, lib, x, name=f"Embedding{kw}")
    compare_params(ref, lib, 1e-6, 1e-7, f"Embedding{kw} weight after forward")


def test_embedding_default_padding_row_is_zero():
    lib = nn.Embedding(6, 4, padding_idx=2)
    np.testing.assert_array_equal(to_numpy(lib.weight)[2], 0)


def test_embedding_float_index_raises():
    from torch_compare import assert_same_exception
    ref, lib = make_pair("Embedding", 5, 2)
    x = np.array([1.0, 2.0], np.float32)
    assert_same_exception(lambda: lib(to_lib(LIB, x)), lambda: ref(torch.from_numpy(x)),
                          contains=["Long", "Int"], name="Embedding float indices")


def test_embedding_out_of_range_raises():
    from torch_compare import assert_same_exception
    ref, lib = make_pair("Embedding", 5, 2)
    x = np.array([1, 5], np.int64)
    assert_same_exception(lambda: lib(to_lib(LIB, x)), lambda: ref(torch.from_numpy(x)),
                          contains=["index out of range"], name="Embedding index 5 of 5")


def test_embedding_from_pretrained():
    w = rand((4, 3), seed=17)
    ref = tnn.Embedding.from_pretrained(torch.from_numpy(w))
    lib = nn.Embedding.from_pretrained(to_lib(LIB, w))
    assert lib.weight.requires_grad == ref.weight.requires_grad is False
    assert_same_repr(lib, ref, "Embedding.from_pretrained")
    compare_layer(ref, lib, np.array([[0, 3], [2, 2]], np.int64), name="Embedding.from_pretrained")


# =======================================================================================
# Activations
# =======================================================================================

ACTIVATIONS = [
    ("ReLU", (), {}),
    ("LeakyReLU", (), {}),
    ("LeakyReLU", (0.2,), {}),
    ("ELU", (), {}),
    ("ELU", (0.5,), {}),
    ("GELU", (), {}),
    ("GELU", (), dict(approximate="tanh")),
    ("SiLU", (), {}),
    ("Sigmoid", (), {}),
    ("Tanh", (), {}),
    ("Softmax", (), dict(dim=1)),
    ("Softmax", (), dict(dim=0)),
    ("Softmax", (), dict(dim=-1)),
    ("LogSoftmax", (), dict(dim=1)),
    ("LogSoftmax", (), dict(dim=-1)),
    ("Softplus", (), {}),
    ("Softplus", (), dict(beta=2.0, threshold=5.0)),
    ("Hardtanh", (), {}),
    ("Hardtanh", (-2.0, 3.0), {}),
]


@pytest.mark.parametrize("cls,args,kw", ACTIVATIONS, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation(cls, args, kw, dtype):
    ref, lib = make_pair(cls, *args, **kw)
    x = rand((3, 4, 5), seed=18, dtype=dtype, low=-4, high=4)
    rtol, atol = (1e-5, 1e-6) if dtype == "float32" else (1e-10, 1e-12)
    for train in (True, False):
        compare_layer(ref, lib, x, train=train, rtol=rtol, atol=atol, name=f"{cls}{args}{kw}")


@pytest.mark.parametrize("cls,kw", [("Softmax", dict(dim=1)), ("LogSoftmax", dict(dim=1)), ("Softplus", {}),
                                    ("Sigmoid", {}), ("Tanh", {}), ("SiLU", {}), ("ELU", {}), ("GELU", {}),
                                    ("GELU", dict(approximate="tanh"))], ids=str)
def test_activation_large_inputs(cls, kw):
    """Stability at |x| = 100 and 1000: no overflow, no NaN, torch's saturated values and gradients."""
    ref, lib = make_pair(cls, **kw)
    x = np.array([[-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0]], np.float32)
    compare_layer(ref, lib, x, rtol=1e-5, atol=1e-6, name=f"{cls} large inputs")


@pytest.mark.parametrize("cls,args,x", [
    ("ReLU", (), [-1.0, 0.0, 1.0]),
    ("LeakyReLU", (0.1,), [-1.0, 0.0, 1.0]),
    ("Hardtanh", (), [-2.0, -1.0, 0.0, 1.0, 2.0]),
    ("ELU", (), [-1.0, 0.0, 1.0]),
    ("Softplus", (1.0, 2.0), [1.9, 2.0, 2.1]),
])
def test_activation_kinks(cls, args, x):
    """Gradients exactly at the kinks follow torch's convention."""
    ref, lib = make_pair(cls, *args)
    compare_layer(ref, lib, np.array(x, np.float32), name=f"{cls} at its kinks")


@pytest.mark.parametrize("cls,args", [("ReLU", ()), ("LeakyReLU", (0.1, True)), ("ELU", (1.0, True)),
                                      ("SiLU", ()), ("Hardtanh", (-1.0, 1.0, True))], ids=str)
def test_activation_inplace_in_network(cls, args):
    if cls in ("ReLU", "SiLU"):
        ref_act, lib_act = getattr(tnn, cls)(inplace=True), getattr(nn, cls)(inplace=True)
    else:
        ref_act, lib_act = getattr(tnn, cls)(*args), getattr(nn, cls)(*args)
    ref = tnn.Sequential(tnn.Linear(4, 5), ref_act, tnn.Linear(5, 2))
    lib = nn.Sequential(nn.Linear(4, 5), lib_act, nn.Linear(5, 2))
    copy_weights(ref, lib)
    compare_layer(ref, lib, rand((3, 4), seed=19), rtol=1e-5, atol=1e-6, name=f"Linear-{cls}(inplace)-Linear")
    assert_same_repr(lib, ref, "Sequential with an in-place activation")


# =======================================================================================
# repr and state_dict signatures over many option combinations
# =======================================================================================

CONSTRUCTORS = [
    lambda m: m.Linear(3, 4),
    lambda m: m.Linear(3, 4, bias=False),
    lambda m: m.Conv1d(2, 4, 3),
    lambda m: m.Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode="circular"),
    lambda m: m.Conv2d(3, 8, 3),
    lambda m: m.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2)),
    lambda m: m.Conv2d(4, 8, 3, padding="same", dilation=2, groups=4, bias=False),
    lambda m: m.Conv2d(4, 8, 3, padding="valid"),
    lambda m: m.Conv2d(4, 8, 3, padding=1, padding_mode="replicate"),
    lambda m: m.Conv2d(4, 8, kernel_size=[2, 2], stride=[1, 1]),
    lambda m: m.MaxPool2d(2),
    lambda m: m.MaxPool2d((3, 2), stride=(2, 1), padding=1, dilation=2, ceil_mode=True),
    lambda m: m.MaxPool2d(2, return_indices=True),
    lambda m: m.AvgPool2d(2),
    lambda m: m.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    lambda m: m.AvgPool2d((2, 3), divisor_override=3),
    lambda m: m.AdaptiveAvgPool2d(1),
    lambda m: m.AdaptiveAvgPool2d((2, 3)),
    lambda m: m.AdaptiveAvgPool2d((None, 3)),
    lambda m: m.AdaptiveMaxPool2d((4, 4)),
    lambda m: m.AdaptiveMaxPool2d(2, return_indices=True),
    lambda m: m.BatchNorm1d(5),
    lambda m: m.BatchNorm2d(5, eps=1e-3, momentum=None),
    lambda m: m.BatchNorm2d(5, affine=False),
    lambda m: m.BatchNorm2d(5, track_running_stats=False),
    lambda m: m.LayerNorm(4),
    lambda m: m.LayerNorm([3, 4], eps=1e-6, elementwise_affine=False),
    lambda m: m.LayerNorm(4, bias=False),
    lambda m: m.GroupNorm(2, 4),
    lambda m: m.GroupNorm(1, 3, affine=False),
    lambda m: m.Dropout(),
    lambda m: m.Dropout(0.2, inplace=True),
    lambda m: m.Dropout2d(0.3),
    lambda m: m.Flatten(),
    lambda m: m.Flatten(0, -2),
    lambda m: m.Unflatten(1, (2, 3)),
    lambda m: m.Identity(),
    lambda m: m.Embedding(10, 4),
    lambda m: m.Embedding(10, 4, padding_idx=-2),
    lambda m: m.Embedding(10, 4, max_norm=2.0, scale_grad_by_freq=True),
    lambda m: m.ReLU(),
    lambda m: m.ReLU(inplace=True),
    lambda m: m.LeakyReLU(),
    lambda m: m.LeakyReLU(0.2, inplace=True),
    lambda m: m.ELU(alpha=0.5),
    lambda m: m.GELU(),
    lambda m: m.GELU(approximate="tanh"),
    lambda m: m.SiLU(),
    lambda m: m.Sigmoid(),
    lambda m: m.Tanh(),
    lambda m: m.Softmax(dim=1),
    lambda m: m.Softmax(),
    lambda m: m.LogSoftmax(dim=-1),
    lambda m: m.Softplus(),
    lambda m: m.Softplus(beta=2, threshold=10),
    lambda m: m.Hardtanh(),
    lambda m: m.Hardtanh(-2, 2),
    lambda m: m.Identity(54, unused="argument"),
    lambda m: m.Flatten(-3, -2),
    lambda m: m.Unflatten(-1, (2, -1)),
    lambda m: m.Conv1d(4, 6, 3, padding="same"),
    lambda m: m.Conv1d(4, 6, 3, padding=1, padding_mode="reflect"),
    lambda m: m.Conv2d(3, 5, 3, padding="same", padding_mode="reflect"),
    lambda m: m.Conv2d(3, 5, 3, padding=1, padding_mode="circular", stride=2),
    lambda m: m.MaxPool2d((2, 3), stride=(1, 2)),
    lambda m: m.AvgPool2d((2, 3), stride=(1, 2), padding=(1, 1)),
    lambda m: m.AdaptiveMaxPool2d((None, 3)),
    lambda m: m.BatchNorm1d(4, momentum=0.3),
    lambda m: m.BatchNorm1d(4, eps=1e-2, affine=False, track_running_stats=False, momentum=None),
    lambda m: m.Dropout(0.0),
    lambda m: m.Dropout2d(1.0),
    lambda m: m.Embedding(10, 3, padding_idx=0),
    lambda m: m.ELU(),
    lambda m: m.LeakyReLU(0.2),
    lambda m: m.LogSoftmax(dim=1),
    lambda m: m.Hardtanh(-2.0, 3.0),
    lambda m: m.Softplus(beta=2.0, threshold=5.0),
    lambda m: m.SiLU(inplace=True),
    lambda m: m.MSELoss(),
    lambda m: m.CrossEntropyLoss(label_smoothing=0.1),
    lambda m: m.Sequential(m.Conv2d(1, 2, 3), m.BatchNorm2d(2), m.ReLU(), m.MaxPool2d(2), m.Flatten(),
                           m.Linear(8, 2)),
]


def _ctor_id(i):
    import inspect
    src = inspect.getsource(CONSTRUCTORS[i]).strip().rstrip(",")
    return f"{i}:" + src.split("m: ", 1)[1][:60]


@pytest.mark.parametrize("i", range(len(CONSTRUCTORS)), ids=_ctor_id)
def test_repr_and_state_dict_signature(i):
    ref, lib = CONSTRUCTORS[i](tnn), CONSTRUCTORS[i](nn)
    assert_same_repr(lib, ref)
    assert type(lib.state_dict()).__name__ == "OrderedDict"
    assert state_signature(lib) == state_signature(ref), \
        f"state_dict signature {state_signature(lib)} != torch's {state_signature(ref)}"
    assert [n for n, _ in lib.named_parameters()] == [n for n, _ in ref.named_parameters()]
    lib_rg = [p.requires_grad for p in lib.parameters()]
    assert lib_rg == [p.requires_grad for p in ref.parameters()]


def test_small_cnn_end_to_end():
    """A LeNet-like network: every layer kind in one graph, weights copied, train and eval."""
    def build(m):
        return m.Sequential(
            m.Conv2d(1, 4, 3, padding=1), m.BatchNorm2d(4), m.ReLU(), m.MaxPool2d(2),
            m.Conv2d(4, 6, 3, groups=2), m.GELU(), m.AvgPool2d(2, ceil_mode=True),
            m.Flatten(), m.Dropout(0.0), m.Linear(6 * 2 * 2, 8), m.LayerNorm(8), m.Tanh(), m.Linear(8, 3),
            m.LogSoftmax(dim=1))
    ref, lib = build(tnn), build(nn)
    assert state_signature(lib) == state_signature(ref)
    copy_weights(ref, lib)
    x = randn((4, 1, 10, 10), seed=21)
    compare_layer(ref, lib, x, train=True, rtol=1e-4, atol=1e-5, steps=2, name="small CNN")
    compare_layer(ref, lib, x, train=False, rtol=1e-4, atol=1e-5, name="small CNN")
    compare_buffers(ref, lib, 1e-5, 1e-6, "small CNN")
    assert_same_repr(lib, ref, "small CNN")
