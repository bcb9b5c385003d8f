"""torch.amp on a CPU-only machine: autocast regions and GradScaler, against torch 2.13."""
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember


def caught(make):
    """(result, [(warning category name, message)]) of make()."""
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        result = make()
    return result, [(x.category.__name__, str(x.message)) for x in w]


AUTOCASTS = [
    ("amp.autocast('cuda')", lambda lib: lib.amp.autocast("cuda")),
    ("autocast('cuda')", lambda lib: lib.autocast("cuda")),
    ("autocast('cpu')", lambda lib: lib.autocast("cpu")),
    ("autocast('cpu', float16)", lambda lib: lib.autocast("cpu", dtype=lib.float16)),
    ("autocast('cpu', float64)", lambda lib: lib.autocast("cpu", dtype=lib.float64)),
    ("autocast('cpu', enabled=False)", lambda lib: lib.autocast("cpu", enabled=False)),
    ("cuda.amp.autocast()", lambda lib: lib.cuda.amp.autocast()),
    ("cpu.amp.autocast()", lambda lib: lib.cpu.amp.autocast()),
]


@pytest.mark.parametrize("label,make", AUTOCASTS, ids=[a[0] for a in AUTOCASTS])
def test_autocast_warnings_and_state(label, make):
    (ours, our_warnings), (theirs, their_warnings) = caught(lambda: make(ember)), caught(lambda: make(torch))
    assert our_warnings == their_warnings
    assert ours._enabled == theirs._enabled and ours.device == theirs.device
    assert repr(ours.fast_dtype) == repr(theirs.fast_dtype)
    for lib, ctx in ((ember, ours), (torch, theirs)):
        with ctx:
            inside = (lib.is_autocast_enabled(ctx.device), repr(lib.get_autocast_dtype(ctx.device)))
        after = (lib.is_autocast_enabled(ctx.device), repr(lib.get_autocast_dtype(ctx.device)))
        if lib is ember:
            ours_seen = inside, after
        else:
            assert ours_seen == (inside, after)


def test_autocast_nests_and_decorates():
    @ember.autocast("cpu")
    def inner():
        with ember.autocast("cpu", enabled=False):
            off = ember.is_autocast_enabled("cpu")
        return ember.is_autocast_enabled("cpu"), off
    assert inner() == (True, False)
    assert ember.is_autocast_enabled("cpu") is False
    assert ember.is_autocast_enabled() is torch.is_autocast_enabled() is False
    assert repr(ember.get_autocast_dtype("cuda")) == "torch.float16"


def test_autocast_bad_device_type():
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        ember.autocast(ember.device("cpu"))
    with pytest.raises(RuntimeError, match="Expected one of cpu"):
        ember.autocast("xyz")


SCALERS = [
    ("amp.GradScaler()", lambda lib: lib.amp.GradScaler()),
    ("amp.GradScaler('cuda')", lambda lib: lib.amp.GradScaler("cuda")),
    ("amp.GradScaler('cpu')", lambda lib: lib.amp.GradScaler("cpu")),
    ("cuda.amp.GradScaler()", lambda lib: lib.cuda.amp.GradScaler()),
    ("cpu.amp.GradScaler()", lambda lib: lib.cpu.amp.GradScaler()),
    ("cuda.amp.GradScaler(enabled=False)", lambda lib: lib.cuda.amp.GradScaler(enabled=False)),
]


@pytest.mark.parametrize("label,make", SCALERS, ids=[s[0] for s in SCALERS])
def test_grad_scaler_construction(label, make):
    (ours, our_warnings), (theirs, their_warnings) = caught(lambda: make(ember)), caught(lambda: make(torch))
    assert our_warnings == their_warnings
    assert ours.is_enabled() == theirs.is_enabled()
    assert ours.get_scale() == theirs.get_scale()
    assert ours.state_dict() == theirs.state_dict()


def test_disabled_scaler_passes_through():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaler = ember.cuda.amp.GradScaler()
    x = ember.ones(3)
    assert scaler.scale(x) is x
    assert scaler.scale([x, x])[0] is x
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.5)
    p.grad = ember.ones(2)
    assert scaler.step(opt) is None
    scaler.update()
    assert p.tolist() == [0.5, 0.5]
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}


def train_with_scaler(lib, grads_per_step, **kw):
    """SGD on one parameter with a CPU GradScaler; each step's gradient given (some inf)."""
    p = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0]))
    opt = lib.optim.SGD([p], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", **kw)
    seen = []
    for g in grads_per_step:
        opt.zero_grad()
        loss = scaler.scale((p * lib.tensor(g)).sum())
        loss.backward()
        scaled_grad = p.grad.tolist()
        ret = scaler.step(opt)
        scaler.update()
        seen.append((scaled_grad, p.tolist(), scaler.get_scale(), scaler._get_growth_tracker(), ret))
    return seen, scaler.state_dict()


def test_cpu_scaler_trajectory_matches_torch():
    inf = float("inf")
    steps = [[1.0, 2.0, 3.0], [0.5, inf, 1.0], [1.0, 1.0, 1.0], [2.0, 1.0, 0.5], [1.0, 2.0, 3.0],
             [float("nan"), 1.0, 1.0], [1.0, 0.25, 1.0]]
    kw = dict(init_scale=8.0, growth_interval=2, growth_factor=4.0, backoff_factor=0.25)
    ours = train_with_scaler(ember, steps, **kw)
    theirs = train_with_scaler(torch, steps, **kw)
    np.testing.assert_equal(ours, theirs)


def test_cpu_scaler_unscale_then_step_and_errors():
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
        opt = lib.optim.SGD([p], lr=1.0)
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0)
        with pytest.raises(AssertionError, match="Attempted step but _scale is None"):
            scaler.step(opt)
        scaler.scale(p.sum()).backward()
        scaler.unscale_(opt)
        assert p.grad.tolist() == [1.0, 1.0]
        with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called"):
            scaler.unscale_(opt)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the last update"):
            scaler.step(opt)
        with pytest.raises(RuntimeError, match=r"unscale_\(\) is being called after step"):
            scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            scaler.step(opt, closure=lambda: 0)
        scaler.update(2.0)
        assert scaler.get_scale() == 2.0
        with pytest.raises(AssertionError, match="growth factor must be > 1.0"):
            lib.amp.GradScaler("cpu", growth_factor=1.0)


def test_cpu_scaler_state_dict_round_trip_and_pickle():
    scaler = ember.amp.GradScaler("cpu", init_scale=16.0, growth_interval=3)
    other = ember.amp.GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == scaler.state_dict() == {
        "scale": 16.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3, "_growth_tracker": 0}
    assert pickle.loads(pickle.dumps(scaler)).state_dict() == scaler.state_dict()
    with pytest.raises(RuntimeError, match="The source state dict is empty"):
        other.load_state_dict({})


def small_cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 10))


def test_cpu_autocast_policy_matches_torch():
    pytest.importorskip("ml_dtypes")
    rng = np.random.default_rng(0)
    ours, theirs = small_cnn(ember), small_cnn(torch)
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.tensor(p.detach().numpy()))
    x = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    target = [1, 5, 9]
    results = []
    for lib, model in ((ember, ours), (torch, theirs)):
        xs = lib.tensor(x)
        with lib.autocast("cpu"):
            feats = model[:4](xs)
            logits = model[4](feats)
            prod = xs.reshape(3, 64) @ xs.reshape(3, 64).T
            total = logits.float() + 1      # elementwise ops keep (or promote) their inputs' dtype
            loss = lib.nn.functional.cross_entropy(logits, lib.tensor(target))
            mse = lib.nn.functional.mse_loss(logits, lib.zeros(3, 10))
            wide = lib.nn.functional.linear(xs.double().reshape(3, 64), lib.ones(2, 64).double())
        loss.backward()
        results.append(dict(
            dtypes=[repr(t.dtype) for t in (feats, logits, prod, total, loss, mse, wide)],
            logits=logits.detach().float().numpy(), loss=loss.item(),
            grads=[(repr(p.grad.dtype), p.grad.numpy()) for p in model.parameters()]))
    ours_r, theirs_r = results
    assert ours_r["dtypes"] == theirs_r["dtypes"] == [
        "torch.bfloat16", "torch.bfloat16", "torch.bfloat16", "torch.float32", "torch.float32", "torch.float32",
        "torch.float64"]
    np.testing.assert_allclose(ours_r["logits"], theirs_r["logits"], rtol=2e-2, atol=2e-2)
    assert ours_r["loss"] == pytest.approx(theirs_r["loss"], rel=2e-2)
    for (od, og), (td, tg) in zip(ours_r["grads"], theirs_r["grads"]):
        assert od == td == "torch.float32"
        np.testing.assert_allclose(og, tg, rtol=2e-2, atol=5e-3)
    # and outside the region everything is float32 again
    assert repr(ours[4](ours[:4](ember.tensor(x))).dtype) == "torch.float32"
