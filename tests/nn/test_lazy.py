"""Lazy modules (LazyLinear, LazyConv1d/2d, LazyBatchNorm1d/2d/3d) against torch.

Before the first call: repr, the state_dict (UninitializedParameter / UninitializedBuffer entries),
has_uninitialized_params, the error on .shape.  The first call: the module becomes its plain class, with
torch's repr, state_dict shapes and dtypes; then, with torch's weights copied in, the same outputs and
gradients.  The d2l book's way of using them (a dry forward, then net.apply(init), then an optimizer),
an optimizer built *before* the dry forward, load_state_dict into a lazy model, deepcopy and pickle.
"""
import copy
import pathlib
import pickle
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import (LIB, TOL, assert_same_repr, compare_layer, copy_weights, nn, rand, state_signature,
                        tnn, to_lib, to_numpy)  # noqa: E402
from torch_compare import assert_same_exception  # noqa: E402

LAZY_CASES = [
    ("LazyLinear", (5,), {}, (3, 7)),
    ("LazyLinear", (2,), dict(bias=False), (2, 3, 4)),
    ("LazyConv1d", (4, 3), {}, (2, 3, 9)),
    ("LazyConv1d", (4, 3), dict(stride=2, padding=1, bias=False), (3, 8)),
    ("LazyConv2d", (6, 3), dict(padding=1), (2, 3, 5, 5)),
    ("LazyConv2d", (4, (3, 2)), dict(stride=2, dilation=(1, 2), groups=2, padding_mode="reflect", padding=1),
     (1, 4, 7, 8)),
    ("LazyConvTranspose2d", (4, 3), dict(stride=2, output_padding=1), (2, 5, 6, 6)),
    ("LazyConvTranspose2d", (6, (3, 2)), dict(groups=2, padding=1, bias=False), (2, 4, 5, 7)),
    ("LazyBatchNorm1d", (), {}, (6, 3)),
    ("LazyBatchNorm1d", (), dict(affine=False, momentum=None), (4, 3, 5)),
    ("LazyBatchNorm2d", (), {}, (3, 2, 4, 4)),
    ("LazyBatchNorm2d", (), dict(bias=False, eps=1e-3), (3, 2, 4, 4)),
    ("LazyBatchNorm2d", (), dict(track_running_stats=False), (3, 2, 4, 4)),
    ("LazyBatchNorm3d", (), {}, (2, 2, 3, 3, 3)),
]


def _id(case):
    return f"{case[0]}-{case[2]}-{case[3]}"


@pytest.mark.parametrize("case", LAZY_CASES, ids=_id)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lazy_layer_matches_torch(case, dtype):
    name, args, kwargs, shape = case
    ref = getattr(tnn, name)(*args, **kwargs, dtype=getattr(torch, dtype))
    lib = getattr(nn, name)(*args, **kwargs, dtype=getattr(LIB, dtype))
    assert_same_repr(lib, ref, f"{name} before its first call")
    assert lib.has_uninitialized_params() and ref.has_uninitialized_params()
    before = [(k, type(v).__name__) for k, v in lib.state_dict().items()]
    assert before == [(k, type(v).__name__) for k, v in ref.state_dict().items()]
    x = rand(shape, seed=3, dtype=dtype)
    ref(torch.from_numpy(x))
    lib(to_lib(LIB, x))
    assert type(lib).__name__ == type(ref).__name__ == ref.cls_to_become.__name__ if False else type(ref).__name__
    assert type(lib) is getattr(nn, type(ref).__name__)
    assert not lib.has_uninitialized_params() if hasattr(lib, "has_uninitialized_params") else True
    assert_same_repr(lib, ref, f"{name} after its first call")
    assert state_signature(lib) == state_signature(ref)
    assert all(type(p).__name__ == "Parameter" for p in lib.parameters())
    copy_weights(ref, lib)
    for train in (True, False):
        compare_layer(ref, lib, x, train=train, rtol=TOL[dtype][0], atol=TOL[dtype][1], name=name)


@pytest.mark.parametrize("name,args", [("LazyLinear", (6,)), ("LazyConv2d", (4, 3)), ("LazyConv1d", (2, 1))])
def test_default_init_after_materialising(name, args):
    """reset_parameters runs on materialising: weights bounded by 1/sqrt(fan_in), not left empty."""
    lib = getattr(nn, name)(*args)
    shape = {"LazyLinear": (2, 50), "LazyConv2d": (2, 5, 6, 6), "LazyConv1d": (2, 40, 3)}[name]
    lib(to_lib(LIB, rand(shape)))
    w = to_numpy(lib.weight)
    fan_in = int(np.prod(w.shape[1:]))
    bound = 1 / np.sqrt(fan_in)
    assert np.abs(w).max() <= bound + 1e-7 and w.std() > bound / 4
    b = to_numpy(lib.bias)
    assert np.abs(b).max() <= bound + 1e-7 and np.ptp(b) > 0


def test_lazy_batchnorm_starts_with_unit_statistics():
    lib = nn.LazyBatchNorm2d()
    lib.eval()
    y = lib(to_lib(LIB, rand((2, 3, 2, 2))))
    assert list(to_numpy(lib.running_mean)) == [0, 0, 0] and list(to_numpy(lib.running_var)) == [1, 1, 1]
    assert list(to_numpy(lib.weight)) == [1, 1, 1] and list(to_numpy(lib.bias)) == [0, 0, 0]
    assert y.shape == (2, 3, 2, 2)


def _d2l_net(lib):
    m = lib.nn
    return m.Sequential(m.LazyConv2d(6, kernel_size=5, padding=2), m.LazyBatchNorm2d(), m.Sigmoid(),
                        m.AvgPool2d(kernel_size=2, stride=2), m.Flatten(), m.LazyLinear(16), m.LazyBatchNorm1d(),
                        m.Sigmoid(), m.LazyLinear(10))


def test_d2l_dry_forward_then_apply_init_then_train():
    """The d2l book: net(X) to materialise, net.apply(init_cnn) (xavier_uniform_ on Linear/Conv2d), then SGD.
    The same initial weights (copied from torch after the init) train identically for 3 steps."""
    nets = []
    for lib in (torch, LIB):
        lib.manual_seed(0)
        net = _d2l_net(lib)
        net(lib.zeros(2, 1, 8, 8))

        def init_cnn(module, lib=lib):
            if type(module) in (lib.nn.Linear, lib.nn.Conv2d):
                lib.nn.init.xavier_uniform_(module.weight)
        net.apply(init_cnn)
        nets.append(net)
    ref, lib = nets
    assert_same_repr(lib, ref, "d2l LeNet after the dry forward")
    assert state_signature(lib) == state_signature(ref)
    # xavier_uniform_ ran on the materialised weights: bounded by sqrt(6 / (fan_in + fan_out))
    w = to_numpy(lib[0].weight)
    assert np.abs(w).max() <= np.sqrt(6 / (25 + 150)) + 1e-7 and w.std() > 0.05
    copy_weights(ref, lib)
    x = rand((4, 1, 8, 8), seed=5)
    y = np.array([1, 3, 5, 7])
    opts = [torch.optim.SGD(ref.parameters(), lr=0.5), LIB.optim.SGD(lib.parameters(), lr=0.5)]
    for _ in range(3):
        for net, opt, lib_ in ((ref, opts[0], torch), (lib, opts[1], LIB)):
            opt.zero_grad()
            loss = lib_.nn.functional.cross_entropy(net(to_lib(lib_, x)), to_lib(lib_, y))
            loss.backward()
            opt.step()
    for (k, a), (_, b) in zip(lib.state_dict().items(), ref.state_dict().items()):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-4, atol=1e-5, err_msg=k)


def test_optimizer_built_before_the_dry_forward():
    """materialize() changes the parameter objects in place, so an optimizer holding them steps them."""
    lib = nn.LazyLinear(3)
    opt = LIB.optim.SGD(lib.parameters(), lr=1.0)
    params = list(lib.parameters())
    lib(to_lib(LIB, rand((2, 4)))).sum().backward()
    assert [id(p) for p in lib.parameters()] == [id(p) for p in params]
    before = to_numpy(lib.weight).copy()
    opt.step()
    np.testing.assert_allclose(to_numpy(lib.weight), before - to_numpy(lib.weight.grad), rtol=1e-6)


def test_load_state_dict_into_lazy_model():
    """Loading a trained state_dict materialises the lazy parameters with the checkpoint's shapes; the
    first call then turns each module into its plain class, with torch's attributes (torch leaves a loaded
    LazyConv2d's in_channels at 0, and sets a LazyLinear's in_features from the input)."""
    seen = []
    for lib in (torch, LIB):
        src = _d2l_net(lib)
        src(lib.ones(2, 1, 8, 8))
        dst = _d2l_net(lib)
        dst.load_state_dict(src.state_dict())
        assert type(dst[0]).__name__ == "LazyConv2d"
        assert not dst[0].has_uninitialized_params() and dst[0].in_channels == 0
        dst.eval(), src.eval()
        x = lib.ones(2, 1, 8, 8)
        np.testing.assert_array_equal(to_numpy(dst(x)), to_numpy(src(x)))
        seen.append((repr(dst), [(type(m).__name__, getattr(m, "in_channels", None), getattr(m, "in_features", None),
                                  getattr(m, "num_features", None)) for m in dst]))
    assert seen[0] == seen[1]


def test_load_state_dict_wrong_input_after_load():
    def run(lib):
        src = lib.nn.Linear(4, 2)
        dst = lib.nn.LazyLinear(2)
        dst.load_state_dict(src.state_dict())
        dst(lib.ones(3, 5))
    assert_same_exception(lambda: run(LIB), lambda: run(torch), name="LazyLinear input after load")


def test_uninitialized_parameter_behaviour():
    for mod in (tnn, nn):
        p = mod.UninitializedParameter()
        assert repr(p) == "<UninitializedParameter>"
        assert repr(mod.UninitializedBuffer()) == "<UninitializedBuffer>"
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
            p.shape
        q = copy.deepcopy(p)
        assert type(q) is mod.UninitializedParameter and q is not p and q.requires_grad
        p.materialize((2, 3))
        assert type(p) is mod.Parameter and tuple(p.shape) == (2, 3) and p.requires_grad
        b = mod.UninitializedBuffer()
        b.materialize((4,))
        assert type(b).__name__ == "Tensor" and tuple(b.shape) == (4,)


def test_lazy_module_deepcopy_pickle_and_dtype():
    for lib in (torch, LIB):
        m = lib.nn.LazyConv2d(3, 2)
        m2 = pickle.loads(pickle.dumps(m))
        m3 = copy.deepcopy(m).double()
        for mm in (m2, m3):
            assert type(mm).__name__ == "LazyConv2d" and mm.has_uninitialized_params()
        m3(lib.ones(1, 2, 4, 4, dtype=lib.float64))
        assert type(m3).__name__ == "Conv2d" and m3.weight.dtype == lib.float64
        m2(lib.ones(1, 5, 4, 4))
        assert tuple(m2.weight.shape) == (3, 5, 2, 2) and m.has_uninitialized_params()


@pytest.mark.parametrize("make,x_shape", [
    (lambda m: m.LazyConv2d(4, 3), (5, 7)),
    (lambda m: m.LazyConv1d(4, 3), (1, 2, 3, 4)),
    (lambda m: m.LazyConv2d(4, 3, groups=2), (1, 3, 5, 7)),
])
def test_lazy_errors(make, x_shape):
    assert_same_exception(lambda: make(nn)(to_lib(LIB, rand(x_shape))),
                          lambda: make(tnn)(torch.from_numpy(rand(x_shape))), name="lazy error")


def test_lazy_module_mixin_not_implemented():
    class Half(nn.modules.lazy.LazyModuleMixin, nn.Module):
        pass
    with pytest.raises(NotImplementedError, match="initialize_parameters is not implemented for Half"):
        Half()(to_lib(LIB, rand((2,))))


@pytest.mark.filterwarnings("ignore:input's size at dim")
@pytest.mark.parametrize("kw", [dict(), dict(affine=False, track_running_stats=False), dict(momentum=None, eps=1e-3)],
                         ids=str)
@pytest.mark.parametrize("name,shape", [("LazyInstanceNorm1d", (3, 4, 5)), ("LazyInstanceNorm2d", (2, 3, 4, 5)),
                                        ("LazyInstanceNorm3d", (2, 3, 2, 2, 2)), ("LazyInstanceNorm2d", (3, 4, 5))])
def test_lazy_instance_norm(name, shape, kw):
    """torch's lazy instance norms default to affine=True, track_running_stats=True and read num_features from
    dim 1 even for an unbatched input (which then fails the num_features check, in both libraries)."""
    seen, values = [], []
    for lib in (torch, LIB):
        m = getattr(nn_of_lib(lib), name)(**kw)
        record = [repr(m), [(k, type(v).__name__) for k, v in m.state_dict().items()]]
        x = np.linspace(-1, 2, int(np.prod(shape))).reshape(shape).astype(np.float32)
        try:
            y = m(to_lib(lib, x))
            record += [repr(m), list(m.state_dict())]
            values.append([to_numpy(y.detach())] + [to_numpy(v) for v in m.state_dict().values()])
        except Exception as e:  # noqa: BLE001 - the same error in both is the expectation
            record.append((type(e).__name__, str(e)))
        seen.append(record)
    assert seen[0] == seen[1]
    for a, b in zip(*values) if values else ():
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def nn_of_lib(lib):
    return tnn if lib is torch else nn
