"""F.conv_transpose1d/2d and nn.ConvTranspose1d/2d against torch: forward and gradients over stride,
padding, output_padding, groups, dilation, bias and unbatched input; the layers' signature, repr,
parameter names and shapes, default init, and forward's output_size argument (with its errors)."""
import inspect
import math
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import LIB, F, TF, copy_weights, fn_of, nn, nn_of, tnn  # noqa: E402
from torch_compare import check_grad  # noqa: E402

# (input shape, weight shape, stride, padding, output_padding, groups, dilation, bias)
CASES = [
    ((2, 4, 5, 6), (4, 3, 3, 3), 1, 0, 0, 1, 1, True),
    ((2, 4, 5, 6), (4, 3, 3, 3), 2, 1, 1, 1, 1, True),
    ((2, 4, 5, 6), (4, 2, 3, 2), (2, 3), (1, 0), (1, 2), 2, 1, False),
    ((1, 6, 4, 4), (6, 1, 3, 3), 2, 1, 1, 3, 2, True),
    ((3, 4, 4), (3, 2, 3, 3), 1, 1, 0, 1, 1, True),                 # unbatched 2-d
    ((2, 4, 7), (4, 3, 3), 2, 1, 1, 1, 1, True),                    # 1-d
    ((2, 4, 7), (4, 1, 5), 3, 2, 2, 4, 1, False),
    ((4, 9), (4, 2, 2), 2, 0, 1, 1, 3, True),                       # unbatched 1-d
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_functional_forward_and_gradients(case, dtype):
    xs, ws, s, p, op, g, d, bias = case
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)]
    if bias:
        arrays.append(rng.standard_normal(ws[1] * g).astype(dtype))
    name = "conv_transpose1d" if len(ws) == 3 else "conv_transpose2d"

    def fn(lib, x, w, b=None):
        return getattr(fn_of(lib), name)(x, w, b, s, p, op, g, d)
    tol = (1e-10, 1e-10) if dtype == "float64" else (1e-4, 1e-4)
    check_grad(fn, arrays, [True] * len(arrays), *tol, name=f"{name}{case}")


def test_functional_keywords_and_defaults():
    assert list(inspect.signature(F.conv_transpose2d).parameters) == [
        "input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"]
    x = LIB.ones(1, 2, 3, 3)
    w = LIB.ones(2, 1, 2, 2)
    assert tuple(F.conv_transpose2d(x, w).shape) == (1, 1, 4, 4)
    assert tuple(F.conv_transpose1d(LIB.ones(1, 2, 3), LIB.ones(2, 1, 2), stride=2).shape) == (1, 1, 6)


LAYERS = [
    ("ConvTranspose2d", (4, 6, 3), {}),
    ("ConvTranspose2d", (4, 6, (3, 2)), dict(stride=2, padding=1, output_padding=1, bias=False)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=2,
                                        dilation=(1, 2))),
    ("ConvTranspose1d", (4, 6, 3), {}),
    ("ConvTranspose1d", (4, 2, 5), dict(stride=3, padding=2, output_padding=2, groups=2, dilation=1)),
    ("ConvTranspose1d", (4, 6, 2), dict(stride=2, dilation=3, output_padding=1, bias=False)),
]


@pytest.mark.parametrize("name,args,kw", LAYERS, ids=[f"{n}{a}{k}" for n, a, k in LAYERS])
def test_layer_matches_torch(name, args, kw):
    ours, ref = getattr(nn, name)(*args, **kw), getattr(tnn, name)(*args, **kw)
    assert repr(ours) == repr(ref)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in ref.named_parameters()]
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "output_padding",
                 "groups", "padding_mode", "transposed"):
        assert getattr(ours, attr) == getattr(ref, attr), attr
    copy_weights(ref, ours)
    nd = 1 if name.endswith("1d") else 2
    x = np.random.default_rng(1).standard_normal((2, args[0]) + (5,) * nd).astype(np.float32)
    got = ours(LIB.tensor(x))
    want = ref(torch.tensor(x))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_layer_signatures_match_torch():
    for name in ("ConvTranspose1d", "ConvTranspose2d"):
        ours = inspect.signature(getattr(nn, name).__init__)
        ref = inspect.signature(getattr(tnn, name).__init__)
        assert [(p.name, p.default) for p in ours.parameters.values()] == \
            [(p.name, p.default) for p in ref.parameters.values()]
        assert list(inspect.signature(getattr(nn, name).forward).parameters) == ["self", "input", "output_size"]


def test_default_init_bounds():
    """kaiming_uniform_(a=sqrt(5)) over the fan-in of the (in, out/groups, k...) weight, as torch: bound
    1/sqrt(out/groups * k*k) for weight and bias."""
    LIB.manual_seed(0)
    layer = nn.ConvTranspose2d(64, 32, 3, groups=2)
    fan_in = 16 * 9
    bound = 1 / math.sqrt(fan_in)
    w = layer.weight.detach().numpy()
    b = layer.bias.detach().numpy()
    assert w.shape == (64, 16, 3, 3) and b.shape == (32,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.8 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound


@pytest.mark.parametrize("output_size", [(10, 10), [9, 10], (2, 6, 10, 9), torch.Size([9, 9])])
def test_output_size_argument(output_size):
    ours, ref = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1), tnn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    copy_weights(ref, ours)
    x = np.random.default_rng(2).standard_normal((2, 4, 5, 5)).astype(np.float32)
    size = tuple(output_size)
    got = ours(LIB.tensor(x), output_size=size)
    want = ref(torch.tensor(x), output_size=size)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("output_size", [(12, 12), (8, 9), (10,), (2, 10, 10)])
def test_output_size_errors(output_size):
    ours, ref = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1), tnn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    with pytest.raises(ValueError) as e_ref:
        ref(torch.zeros(2, 4, 5, 5), output_size=output_size)
    with pytest.raises(ValueError) as e_ours:
        ours(LIB.zeros(2, 4, 5, 5), output_size=output_size)
    assert str(e_ours.value) == str(e_ref.value)


def test_padding_mode_refused():
    for lib_nn in (nn, tnn):
        with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
            lib_nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")


def test_layer_gradients_match_torch():
    ours, ref = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), \
        tnn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)
    copy_weights(ref, ours)
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 4)).astype(np.float32)
    xo, xr = LIB.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours(xo) ** 2).sum().backward()
    (ref(xr) ** 2).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xr.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(ours.bias.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-4, atol=1e-3)
