"""bfloat16 and float16: the dtype objects, conversions, and a few ops computed in bfloat16 against torch."""
import numpy as np
import pytest
import torch

import ember

pytest.importorskip("ml_dtypes")


def test_dtype_objects_print_as_torch():
    assert repr(ember.bfloat16) == repr(torch.bfloat16) == "torch.bfloat16"
    assert repr(ember.float16) == repr(ember.half) == repr(torch.half)
    assert ember.bfloat16.is_floating_point and ember.bfloat16.itemsize == torch.bfloat16.itemsize == 2
    assert repr(ember.promote_types(ember.bfloat16, ember.float16)) == repr(
        torch.promote_types(torch.bfloat16, torch.float16))
    assert repr(ember.promote_types(ember.bfloat16, ember.float32)) == "torch.float32"
    assert repr(ember.promote_types(ember.bfloat16, ember.int64)) == "torch.bfloat16"


VALUES = [[1.0, -2.5, 3.14159, 1e-3], [1000.7, -0.333, 65504.0, 1e30]]


def test_conversions_round_as_torch():
    for lib in (ember, torch):
        x = lib.tensor(VALUES)
        if lib is ember:
            ours = [x.bfloat16(), x.to(lib.bfloat16), x.half(), x.bfloat16().float(), x.bfloat16().half()]
        else:
            theirs = [x.bfloat16(), x.to(lib.bfloat16), x.half(), x.bfloat16().float(), x.bfloat16().half()]
    for a, b in zip(ours, theirs):
        assert repr(a.dtype) == repr(b.dtype)
        np.testing.assert_array_equal(a.float().numpy(), b.float().numpy())
    assert repr(ember.tensor(VALUES).bfloat16()) == repr(torch.tensor(VALUES).bfloat16())
    assert repr(ember.zeros(2, dtype=ember.bfloat16)) == repr(torch.zeros(2, dtype=torch.bfloat16))


OPS = [
    ("add", lambda lib, a, b: a + b),
    ("mul", lambda lib, a, b: a * b),
    ("exp", lambda lib, a, b: lib.exp(a)),
    ("relu", lambda lib, a, b: lib.relu(a)),
    ("matmul", lambda lib, a, b: a @ b.T),
    ("linear", lambda lib, a, b: lib.nn.functional.linear(a, b)),
    ("softmax", lambda lib, a, b: lib.softmax(a, 1)),
    ("sum", lambda lib, a, b: a.sum(1)),
    ("mean", lambda lib, a, b: a.mean()),
]


@pytest.mark.parametrize("name,op", OPS, ids=[o[0] for o in OPS])
def test_ops_in_bfloat16_against_torch(name, op):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 4, 8)).astype(np.float32)
    ours = op(ember, ember.tensor(a).bfloat16(), ember.tensor(b).bfloat16())
    theirs = op(torch, torch.tensor(a).bfloat16(), torch.tensor(b).bfloat16())
    assert repr(ours.dtype) == repr(theirs.dtype) == "torch.bfloat16"
    # both accumulate in float32 and round once; allow one bfloat16 step (2**-7 relative)
    np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=2 ** -7, atol=1e-2)


def test_gradient_flows_back_to_float32():
    x = ember.tensor([1.5, 2.25, 3.0], requires_grad=True)
    tx = torch.tensor([1.5, 2.25, 3.0], requires_grad=True)
    (x.bfloat16() ** 2).sum().backward()
    (tx.bfloat16() ** 2).sum().backward()
    assert repr(x.grad.dtype) == "torch.float32"
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_module_bfloat16_and_layers():
    ember.manual_seed(0)
    net = ember.nn.Sequential(ember.nn.Conv2d(1, 2, 3), ember.nn.ReLU(), ember.nn.MaxPool2d(2)).bfloat16()
    assert all(repr(p.dtype) == "torch.bfloat16" for p in net.parameters())
    y = net(ember.randn(1, 1, 6, 6).bfloat16())
    assert repr(y.dtype) == "torch.bfloat16" and tuple(y.shape) == (1, 2, 2, 2)


def test_without_ml_dtypes_the_name_exists_and_use_says_what_to_install():
    import subprocess
    import sys
    code = ("import sys; sys.modules['ml_dtypes'] = None\n"
            "import ember\nprint(ember.bfloat16)\n"
            "try:\n    ember.ones(2).bfloat16()\nexcept TypeError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "torch.bfloat16"
    assert "needs the 'ml_dtypes' package" in out


def test_save_and_load_with_torch():
    import io
    buf = io.BytesIO()
    ember.save({"w": ember.tensor(VALUES).bfloat16()}, buf)
    buf.seek(0)
    theirs = torch.load(buf, weights_only=True)["w"]
    assert theirs.dtype == torch.bfloat16
    np.testing.assert_array_equal(theirs.float().numpy(), torch.tensor(VALUES).bfloat16().float().numpy())
    buf = io.BytesIO()
    torch.save({"w": torch.tensor(VALUES).bfloat16()}, buf)
    buf.seek(0)
    ours = ember.load(buf)["w"]
    assert repr(ours.dtype) == "torch.bfloat16"
    np.testing.assert_array_equal(ours.float().numpy(), theirs.float().numpy())
