"""Optimizers: ember.optim against torch.optim.

The same initial parameters and the same gradient sequence (NumPy, fed to both libraries by
setting ``p.grad`` directly) must give the same parameter trajectory, the same optimizer state
and the same state_dict; state dicts round-trip, including one made by torch; errors match.

With EMBER_TEST_LIB=torch the whole file compares torch with itself (checks the tests).
"""

import copy
import importlib
import itertools
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import LIB, LIB_NAME, REF, compare_arrays, to_lib  # noqa: E402

LIB_OPTIM = importlib.import_module(LIB_NAME + ".optim")

TOL = {"float32": (1e-5, 1e-6), "float64": (1e-10, 1e-12)}
# Optimizer state (momentum buffers, running averages) is a decaying sum of O(1) signed terms, so it can be
# small where the terms cancel.  torch's vectorized CPU kernels fuse multiply-adds (FMA) in lerp_/addcmul_;
# NumPy rounds the product and the sum separately, so float32 state agrees to about one ulp of the *terms*
# (~1e-6 absolute), not of the (possibly much smaller) result.  (add_(alpha=) is fused in ember too, through
# BLAS's axpy: SGD agrees bit for bit, tests/test_blas_axpy.py.)
STATE_TOL = {"float32": (1e-5, 1e-5), "float64": (1e-10, 1e-12)}
SHAPES = [(5,), (3, 4), (2, 3, 2), ()]
N_STEPS = 20


# ------------------------------------------------------------------ helpers
def optim_of(lib):
    return REF.optim if lib is REF else LIB_OPTIM


def to_np(t):
    return np.array(t.detach().numpy(), copy=True)


def make_params(lib, arrays):
    """Leaf tensors that require grad (what nn.Parameter is; ember.nn is not needed here)."""
    return [to_lib(lib, a.copy(), requires_grad=True) for a in arrays]


def initial_arrays(dtype, seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def gradient_sequence(arrays, n_steps=N_STEPS, seed=1, sparse=True):
    """One list of gradients per step; some entries are exactly zero, and one parameter sometimes has none."""
    rng = np.random.default_rng(seed)
    seq = []
    for step in range(n_steps):
        grads = []
        for i, a in enumerate(arrays):
            g = rng.standard_normal(a.shape).astype(a.dtype)
            if sparse:
                g[rng.random(a.shape) < 0.15] = 0
            if i == 1 and step % 7 == 3:
                g = None  # a parameter that got no gradient this step is skipped by the optimizers
            grads.append(g)
        seq.append(grads)
    return seq


def set_grads(lib, params, grads):
    for p, g in zip(params, grads):
        p.grad = None if g is None else to_lib(lib, g.copy())


def build(lib, cls_name, arrays, kwargs, groups=None):
    """params, optimizer; ``groups``: None (one group) or a list of (indices, extra options)."""
    params = make_params(lib, arrays)
    if groups is None:
        spec = params
    else:
        spec = [dict({"params": [params[i] for i in idx]}, **extra) for idx, extra in groups]
    return params, getattr(optim_of(lib), cls_name)(spec, **kwargs)


def assert_params_close(lib_params, ref_params, what):
    for i, (p, r) in enumerate(zip(lib_params, ref_params)):
        assert str(p.dtype) == str(r.dtype), f"{what}: param {i} dtype {p.dtype} != {r.dtype}"
        rtol, atol = TOL[str(r.dtype).replace("torch.", "")]
        compare_arrays(to_np(p), to_np(r), rtol, atol, f"{what}: param {i}")


def assert_value_equal(a, b, what, rtol=None, atol=None):
    """A state-dict value of the library under test vs torch's (tensors through NumPy)."""
    if isinstance(b, torch.Tensor):
        assert not isinstance(a, (int, float, list, tuple, dict)) and hasattr(a, "numpy"), \
            f"{what}: {type(a).__name__} where torch has a tensor"
        assert str(a.dtype) == str(b.dtype), f"{what}: dtype {a.dtype} != torch's {b.dtype}"
        assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} != torch's {tuple(b.shape)}"
        if rtol is None:
            rtol, atol = STATE_TOL.get(str(b.dtype).replace("torch.", ""), (0, 0))
        compare_arrays(to_np(a), to_np(b), rtol, atol, what)
    elif isinstance(b, dict):
        assert isinstance(a, dict), f"{what}: {type(a).__name__} where torch has a dict"
        assert list(a.keys()) == list(b.keys()), f"{what}: keys {list(a.keys())} != torch's {list(b.keys())}"
        for k in b:
            assert_value_equal(a[k], b[k], f"{what}[{k!r}]", rtol, atol)
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), f"{what}: {a!r} != torch's {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_value_equal(x, y, f"{what}[{i}]", rtol, atol)
    else:
        assert type(a) is type(b) and a == b, f"{what}: {a!r} ({type(a).__name__}) != torch's {b!r} " \
                                              f"({type(b).__name__})"


def assert_state_dict_equal(lib_sd, ref_sd, what="state_dict"):
    assert list(lib_sd.keys()) == ["state", "param_groups"] == list(ref_sd.keys())
    assert_value_equal(lib_sd["state"], ref_sd["state"], f"{what}['state']")
    assert_value_equal(lib_sd["param_groups"], ref_sd["param_groups"], f"{what}['param_groups']")


def run_both(cls_name, kwargs, dtype, groups=None, n_steps=N_STEPS, seed=0, on_step=None):
    arrays = initial_arrays(dtype, seed)
    seq = gradient_sequence(arrays, n_steps, seed + 1)
    lp, lo = build(LIB, cls_name, arrays, kwargs, groups)
    rp, ro = build(REF, cls_name, arrays, kwargs, groups)
    for step, grads in enumerate(seq):
        if on_step is not None:
            on_step(step, lo, ro)
        set_grads(LIB, lp, grads)
        set_grads(REF, rp, grads)
        lo.step()
        ro.step()
        assert_params_close(lp, rp, f"{cls_name}({kwargs}) {dtype} step {step + 1}")
    return lp, lo, rp, ro


def state_dict_to_lib(sd):
    """A torch state dict converted through NumPy into the library under test."""
    def conv(v):
        if isinstance(v, torch.Tensor):
            return to_lib(LIB, v.detach().numpy().copy())
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return copy.deepcopy(v)
    return {"state": {k: conv(v) for k, v in sd["state"].items()}, "param_groups": copy.deepcopy(sd["param_groups"])}


# ------------------------------------------------------------------ option grids
def _grid(**axes):
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*axes.values())]


SGD_CONFIGS = [c for c in _grid(lr=[0.05], momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True],
                                 weight_decay=[0, 0.1], maximize=[False, True])
               if not (c["nesterov"] and (c["momentum"] <= 0 or c["dampening"] != 0))]
ADAM_CONFIGS = _grid(lr=[0.01], betas=[(0.9, 0.999), (0.3, 0.5)], weight_decay=[0, 0.1], amsgrad=[False, True],
                     maximize=[False, True]) + [dict(eps=1e-3, lr=0.1), dict()]
ADAMW_CONFIGS = _grid(lr=[0.01], weight_decay=[1e-2, 0.5], amsgrad=[False, True], maximize=[False, True]) + [
    dict(betas=(0.2, 0.6), eps=1e-4), dict()]
RMSPROP_CONFIGS = _grid(lr=[0.01], alpha=[0.99, 0.3], momentum=[0, 0.9], centered=[False, True],
                        weight_decay=[0, 0.1], maximize=[False, True]) + [dict(eps=1e-2), dict()]
ADAGRAD_CONFIGS = _grid(lr=[0.1], lr_decay=[0, 0.1], weight_decay=[0, 0.1], initial_accumulator_value=[0, 0.5],
                        maximize=[False, True]) + [dict(eps=1e-3), dict()]
ADADELTA_CONFIGS = _grid(lr=[1.0, 0.3], rho=[0.9, 0.4], weight_decay=[0, 0.1], maximize=[False, True]) + [
    dict(eps=1e-3), dict()]
ADAMAX_CONFIGS = _grid(lr=[0.01], betas=[(0.9, 0.999), (0.3, 0.5)], weight_decay=[0, 0.1],
                       maximize=[False, True]) + [dict(eps=1e-3), dict()]
NADAM_CONFIGS = _grid(lr=[0.01], weight_decay=[0, 0.1], decoupled_weight_decay=[False, True],
                      momentum_decay=[4e-3, 0.1], maximize=[False, True]) + [dict(betas=(0.3, 0.5), eps=1e-4), dict()]
# betas[1] = 0.5 makes the variance tractable (rho_t > 5) from the first step; 0.999 only after 6 steps
RADAM_CONFIGS = _grid(lr=[0.01], betas=[(0.9, 0.999), (0.3, 0.5), (0.9, 0.8)], weight_decay=[0, 0.1],
                      decoupled_weight_decay=[False, True], maximize=[False, True]) + [dict(eps=1e-3), dict()]

ALL_CONFIGS = ([("SGD", c) for c in SGD_CONFIGS] + [("Adam", c) for c in ADAM_CONFIGS]
               + [("AdamW", c) for c in ADAMW_CONFIGS] + [("RMSprop", c) for c in RMSPROP_CONFIGS]
               + [("Adagrad", c) for c in ADAGRAD_CONFIGS] + [("Adadelta", c) for c in ADADELTA_CONFIGS]
               + [("Adamax", c) for c in ADAMAX_CONFIGS] + [("NAdam", c) for c in NADAM_CONFIGS]
               + [("RAdam", c) for c in RADAM_CONFIGS])
ONE_PER_OPTIMIZER = [("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
                     ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
                     ("AdamW", dict(lr=0.01)),
                     ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                     ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
                     ("Adadelta", dict(lr=0.5, weight_decay=0.01)),
                     ("Adamax", dict(lr=0.01, weight_decay=0.1)),
                     ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
                     ("RAdam", dict(lr=0.01, betas=(0.9, 0.8), weight_decay=0.1))]


def _id(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


# ------------------------------------------------------------------ trajectories
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ALL_CONFIGS, ids=_id)
def test_trajectory_matches_torch(case, dtype):
    name, kwargs = case
    lp, lo, rp, ro = run_both(name, kwargs, dtype)
    assert_state_dict_equal(lo.state_dict(), ro.state_dict())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ONE_PER_OPTIMIZER + [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                                       ("Adam", dict(lr=0.01, maximize=True))], ids=_id)
def test_two_param_groups(case, dtype):
    name, kwargs = case
    groups = [([0, 1], {}), ([2, 3], {"lr": kwargs["lr"] * 3, "weight_decay": 0.2})]
    lp, lo, rp, ro = run_both(name, kwargs, dtype, groups=groups)
    assert_state_dict_equal(lo.state_dict(), ro.state_dict())
    assert [g["lr"] for g in lo.param_groups] == [g["lr"] for g in ro.param_groups]


@pytest.mark.parametrize("case", ONE_PER_OPTIMIZER, ids=_id)
def test_changing_lr_through_param_groups(case):
    """The tutorial's `for g in optimizer.param_groups: g['lr'] = ...` takes effect at the next step."""
    def on_step(step, lo, ro):
        if step in (5, 12):
            for opt in (lo, ro):
                for g in opt.param_groups:
                    g["lr"] = g["lr"] * 0.5
    name, kwargs = case
    run_both(name, kwargs, "float64", on_step=on_step)


@pytest.mark.parametrize("case", ONE_PER_OPTIMIZER, ids=_id)
def test_state_dict_before_any_step(case):
    name, kwargs = case
    arrays = initial_arrays("float32")
    _, lo = build(LIB, name, arrays, kwargs)
    _, ro = build(REF, name, arrays, kwargs)
    assert_state_dict_equal(lo.state_dict(), ro.state_dict())


@pytest.mark.parametrize("case", ONE_PER_OPTIMIZER, ids=_id)
def test_state_dict_default_dtype_step(case):
    """The 'step' counter is a float32 0-d tensor (float64 when that is the default dtype)."""
    name, kwargs = case
    if name == "SGD":
        pytest.skip("SGD keeps no step counter")
    arrays = initial_arrays("float64")
    prev_lib, prev_ref = LIB.get_default_dtype(), REF.get_default_dtype()
    try:
        LIB.set_default_dtype(LIB.float64)
        REF.set_default_dtype(REF.float64)
        lp, lo, rp, ro = run_both(name, kwargs, "float64", n_steps=3)
        assert_state_dict_equal(lo.state_dict(), ro.state_dict())
    finally:
        LIB.set_default_dtype(prev_lib)
        REF.set_default_dtype(prev_ref)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                                  "RAdam"])
def test_repr_matches_torch(name):
    arrays = initial_arrays("float32")
    kwargs = {"lr": 0.1} if name == "SGD" else {}
    _, lo = build(LIB, name, arrays, kwargs, groups=[([0], {}), ([1, 2], {"lr": 0.5})])
    _, ro = build(REF, name, arrays, kwargs, groups=[([0], {}), ([1, 2], {"lr": 0.5})])
    assert repr(lo) == repr(ro)


def test_param_group_keys_match_torch():
    arrays = initial_arrays("float32")
    for name in ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS"]:
        _, lo = build(LIB, name, arrays, {}, groups=[([0], {"momentum": 0.5} if name in ("SGD", "RMSprop") else {})])
        _, ro = build(REF, name, arrays, {}, groups=[([0], {"momentum": 0.5} if name in ("SGD", "RMSprop") else {})])
        assert list(lo.param_groups[0].keys()) == list(ro.param_groups[0].keys())
        assert {k: v for k, v in lo.param_groups[0].items() if k != "params"} == \
               {k: v for k, v in ro.param_groups[0].items() if k != "params"}
        assert lo.defaults == ro.defaults


# ------------------------------------------------------------------ autograd-produced gradients
@pytest.mark.parametrize("case", ONE_PER_OPTIMIZER, ids=_id)
def test_training_loop_with_backward(case):
    """zero_grad / backward / step on a least-squares problem, gradients from each library's autograd."""
    name, kwargs = case
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 4))
    y = rng.standard_normal((16, 2))
    w0 = rng.standard_normal((4, 2))
    b0 = rng.standard_normal((2,))
    results = []
    for lib in (LIB, REF):
        w, b = make_params(lib, [w0, b0])
        opt = getattr(optim_of(lib), name)([w, b], **kwargs)
        xt, yt = to_lib(lib, x), to_lib(lib, y)
        for _ in range(N_STEPS):
            opt.zero_grad()
            loss = ((xt @ w + b - yt) ** 2).mean()
            loss.backward()
            opt.step()
        results.append((w, b))
    assert_params_close(list(results[0]), list(results[1]), f"{name} training loop")


def test_step_with_closure_returns_loss():
    arrays = initial_arrays("float64")
    grads = gradient_sequence(arrays, 5)
    out = []
    for lib in (LIB, REF):
        params, opt = build(lib, "SGD", arrays, dict(lr=0.1, momentum=0.9))
        losses = []
        for step in range(5):
            def closure(lib=lib, params=params, step=step):
                set_grads(lib, params, grads[step])
                return float(step) * 1.5
            losses.append(opt.step(closure))
        out.append((params, losses))
    assert out[0][1] == out[1][1] == [0.0, 1.5, 3.0, 4.5, 6.0]
    assert_params_close(out[0][0], out[1][0], "closure")


# ------------------------------------------------------------------ zero_grad
@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    arrays = initial_arrays("float32")
    for lib in (LIB, REF):
        params, opt = build(lib, "SGD", arrays, dict(lr=0.1))
        set_grads(lib, params, [np.ones_like(a) for a in arrays])
        params[2].grad = None
        before = [p.grad for p in params]
        opt.zero_grad(set_to_none=set_to_none)
        for p, g in zip(params, before):
            if set_to_none or g is None:
                assert p.grad is None, lib.__name__
            else:
                assert p.grad is g, "zero_grad(set_to_none=False) keeps the gradient tensor"
                assert not p.grad.requires_grad
                assert np.all(to_np(p.grad) == 0)


def test_zero_grad_default_is_set_to_none():
    arrays = initial_arrays("float32")
    params, opt = build(LIB, "Adam", arrays, {})
    set_grads(LIB, params, [np.ones_like(a) for a in arrays])
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_step_without_grads_changes_nothing():
    arrays = initial_arrays("float32")
    for name, kwargs in ONE_PER_OPTIMIZER:
        lp, lo = build(LIB, name, arrays, kwargs)
        _, ro = build(REF, name, arrays, kwargs)
        lo.step()
        ro.step()
        for p, a in zip(lp, arrays):
            assert np.array_equal(to_np(p), a)
        assert_state_dict_equal(lo.state_dict(), ro.state_dict())


def test_step_updates_in_place():
    """The parameter object and its storage stay the same; only the values change."""
    arrays = initial_arrays("float32")
    for name, kwargs in ONE_PER_OPTIMIZER:
        params, opt = build(LIB, name, arrays, kwargs)
        views = [p.data for p in params]
        set_grads(LIB, params, [np.ones_like(a) for a in arrays])
        opt.step()
        for p, v, a in zip(params, views, arrays):
            assert np.array_equal(to_np(v), to_np(p))
            if a.size:
                assert not np.array_equal(to_np(p), a)


# ------------------------------------------------------------------ state_dict / load_state_dict
def _skip_nadam_float64(name, dtype):
    if name == "NAdam" and dtype == "float64":
        # loading casts NAdam's float32 mu_product to the float64 parameters' dtype (torch does the same, see
        # test_nadam_load_casts_mu_product_as_torch), so the run continues with a more precise product
        pytest.skip("NAdam's mu_product changes dtype on load, in torch too")


def test_nadam_load_casts_mu_product_as_torch():
    arrays = initial_arrays("float64")
    seq = gradient_sequence(arrays, 6)
    dtypes = []
    for lib in (LIB, REF):
        params, opt = build(lib, "NAdam", arrays, dict(lr=0.01))
        for grads in seq[:3]:
            set_grads(lib, params, grads)
            opt.step()
        params2, opt2 = build(lib, "NAdam", arrays, dict(lr=0.01))
        opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
        state = opt2.state_dict()["state"][0]
        dtypes.append((str(state["mu_product"].dtype), str(state["step"].dtype)))
    assert dtypes[0] == dtypes[1] == ("torch.float64", "torch.float32")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ONE_PER_OPTIMIZER + [("Adam", dict(lr=0.01))], ids=_id)
def test_load_own_state_dict_continues_identically(case, dtype):
    name, kwargs = case
    _skip_nadam_float64(name, dtype)
    arrays = initial_arrays(dtype)
    seq = gradient_sequence(arrays, 20)
    groups = [([0, 1], {}), ([2, 3], {"lr": kwargs["lr"] * 2})]
    params, opt = build(LIB, name, arrays, kwargs, groups)
    for grads in seq[:10]:
        set_grads(LIB, params, grads)
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    params2, opt2 = build(LIB, name, [to_np(p) for p in params], kwargs, [([0, 1], {}), ([2, 3], {})])
    opt2.load_state_dict(saved)
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
    assert all(g2["params"][i] is p for g2, idx in zip(opt2.param_groups, ([0, 1], [2, 3]))
               for i, p in enumerate(params2[j] for j in idx))
    for grads in seq[10:]:
        set_grads(LIB, params, grads)
        set_grads(LIB, params2, grads)
        opt.step()
        opt2.step()
        for p, q in zip(params, params2):
            assert np.array_equal(to_np(p), to_np(q))
    sd, sd2 = opt.state_dict(), opt2.state_dict()
    assert sd["param_groups"] == sd2["param_groups"]
    for k in sd["state"]:
        for key, v in sd["state"][k].items():
            assert np.array_equal(to_np(v), to_np(sd2["state"][k][key])), (k, key)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ONE_PER_OPTIMIZER + [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                                       ("Adam", dict(lr=0.01, betas=(0.5, 0.9))),
                                                       ("RMSprop", dict(lr=0.01, alpha=0.9))], ids=_id)
def test_load_torch_state_dict_and_continue(case, dtype):
    """A torch-made state dict, converted through NumPy, continues identically in the library."""
    name, kwargs = case
    _skip_nadam_float64(name, dtype)
    arrays = initial_arrays(dtype)
    seq = gradient_sequence(arrays, 20)
    groups = [([0, 1], {}), ([2, 3], {"lr": kwargs["lr"] * 2})]
    rp, ro = build(REF, name, arrays, kwargs, groups)
    for grads in seq[:10]:
        set_grads(REF, rp, grads)
        ro.step()
    lp, lo = build(LIB, name, [to_np(p) for p in rp], kwargs, [([0, 1], {}), ([2, 3], {})])
    lo.load_state_dict(state_dict_to_lib(ro.state_dict()))
    assert_state_dict_equal(lo.state_dict(), ro.state_dict(), "after load")
    for step, grads in enumerate(seq[10:]):
        set_grads(REF, rp, grads)
        set_grads(LIB, lp, grads)
        ro.step()
        lo.step()
        assert_params_close(lp, rp, f"{name} after load, step {step + 1}")
    assert_state_dict_equal(lo.state_dict(), ro.state_dict(), "end")


def test_load_state_dict_casts_state_to_param_dtype():
    """Floating state follows the parameter's dtype; 'step' is kept as saved."""
    arrays = initial_arrays("float32")
    params, opt = build(LIB, "Adam", arrays, {})
    set_grads(LIB, params, [np.ones_like(a) for a in arrays])
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    for s in sd["state"].values():
        s["exp_avg"] = s["exp_avg"].double()
    opt.load_state_dict(sd)
    for p in params:
        assert str(opt.state[p]["exp_avg"].dtype) == "torch.float32"
        assert str(opt.state[p]["step"].dtype) == "torch.float32"


def test_load_state_dict_does_not_touch_the_argument():
    arrays = initial_arrays("float32")
    params, opt = build(LIB, "SGD", arrays, dict(lr=0.1, momentum=0.9))
    set_grads(LIB, params, [np.ones_like(a) for a in arrays])
    opt.step()
    sd = opt.state_dict()
    groups_before = copy.deepcopy(sd["param_groups"])
    opt.load_state_dict(sd)
    assert sd["param_groups"] == groups_before
    opt.param_groups[0]["lr"] = 7.0
    assert sd["param_groups"][0]["lr"] == 0.1


def _load_error(lib, n_groups_saved, sizes_saved):
    arrays = initial_arrays("float32")
    src_arrays = [np.ones(3, np.float32) for _ in range(sum(sizes_saved))]
    it = iter(range(len(src_arrays)))
    _, src = build(lib, "SGD", src_arrays, dict(lr=0.1),
                   groups=[([next(it) for _ in range(n)], {}) for n in sizes_saved][:n_groups_saved])
    _, dst = build(lib, "SGD", arrays, dict(lr=0.1), groups=[([0, 1], {}), ([2, 3], {})])
    dst.load_state_dict(src.state_dict())


@pytest.mark.parametrize("n_groups,sizes", [(1, [4]), (2, [2, 1]), (2, [1, 3])])
def test_load_state_dict_errors(n_groups, sizes):
    check_same_error(lambda lib: _load_error(lib, n_groups, sizes))


# ------------------------------------------------------------------ errors
def check_same_error(fn):
    try:
        fn(REF)
    except Exception as e:  # noqa: BLE001
        ref_exc = e
    else:
        raise AssertionError("torch did not raise (the test is wrong)")
    with pytest.raises(type(ref_exc)) as info:
        fn(LIB)
    assert str(info.value) == str(ref_exc)


ERROR_CASES = [
    ("SGD", dict(lr=-1)), ("SGD", dict(lr=0.1, momentum=-0.5)), ("SGD", dict(lr=0.1, weight_decay=-1e-3)),
    ("SGD", dict(lr=0.1, nesterov=True)), ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)),
    ("Adam", dict(lr=-1)), ("Adam", dict(eps=-1e-8)), ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-1)), ("Adam", dict(betas=(0, 0.9))),
    ("Adam", dict(fused=True, foreach=True)),
    ("AdamW", dict(lr=-0.5)), ("AdamW", dict(betas=(0.9, 1.5))), ("AdamW", dict(eps=-1.0)),
    ("RMSprop", dict(lr=-1)), ("RMSprop", dict(eps=-1)), ("RMSprop", dict(momentum=-1)),
    ("RMSprop", dict(weight_decay=-1)), ("RMSprop", dict(alpha=-0.1)),
    ("Adagrad", dict(lr=-1)), ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(weight_decay=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1)),
    ("Adadelta", dict(lr=-1)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(rho=-0.1)), ("Adadelta", dict(eps=-1)),
    ("Adadelta", dict(weight_decay=-1)),
    ("Adamax", dict(lr=-1)), ("Adamax", dict(eps=-1)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, -0.5))), ("Adamax", dict(weight_decay=-1)),
    ("NAdam", dict(lr=-1)), ("NAdam", dict(eps=-1)), ("NAdam", dict(betas=(-0.1, 0.9))),
    ("NAdam", dict(betas=(0.9, 1.0))), ("NAdam", dict(weight_decay=-1)), ("NAdam", dict(momentum_decay=-1)),
    ("RAdam", dict(lr=-1)), ("RAdam", dict(eps=-1)), ("RAdam", dict(betas=(1.5, 0.9))),
    ("RAdam", dict(betas=(0.9, 2.0))), ("RAdam", dict(weight_decay=-0.1)),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=_id)
def test_invalid_arguments(case):
    name, kwargs = case
    check_same_error(lambda lib: build(lib, name, initial_arrays("float32"), kwargs))


def test_invalid_lr_message():
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        LIB_OPTIM.SGD(make_params(LIB, [np.ones(2, np.float32)]), lr=-1)


def test_parameter_in_two_groups():
    def fn(lib):
        p = make_params(lib, initial_arrays("float32"))
        optim_of(lib).SGD([{"params": [p[0], p[1]]}, {"params": [p[1]]}], lr=0.1)
    check_same_error(fn)


def test_add_param_group_duplicate():
    def fn(lib):
        p = make_params(lib, initial_arrays("float32"))
        opt = optim_of(lib).Adam([p[0]])
        opt.add_param_group({"params": p[0], "lr": 0.5})
    check_same_error(fn)


def test_non_leaf_tensor():
    def fn(lib):
        p = make_params(lib, initial_arrays("float32"))
        optim_of(lib).SGD([p[0] * 2], lr=0.1)
    check_same_error(fn)


def test_empty_parameter_list():
    check_same_error(lambda lib: optim_of(lib).SGD([], lr=0.1))


def test_tensor_instead_of_iterable():
    check_same_error(lambda lib: optim_of(lib).SGD(make_params(lib, initial_arrays("float32"))[0], lr=0.1))


def test_params_as_set():
    check_same_error(lambda lib: optim_of(lib).SGD([{"params": set(make_params(lib, initial_arrays("float32")))}]))


def test_non_tensor_param():
    check_same_error(lambda lib: optim_of(lib).SGD([make_params(lib, initial_arrays("float32"))[0], 3], lr=0.1))


# ------------------------------------------------------------------ add_param_group / hooks / misc
def test_add_param_group_matches_torch():
    arrays = initial_arrays("float32")
    seq = gradient_sequence(arrays, 10)
    opts = []
    for lib in (LIB, REF):
        params = make_params(lib, arrays)
        opt = optim_of(lib).SGD(params[:2], lr=0.1, momentum=0.9)
        for i, grads in enumerate(seq):
            if i == 4:
                opt.add_param_group({"params": params[2:], "lr": 0.01, "nesterov": True})
            set_grads(lib, params, grads)
            opt.step()
        opts.append((params, opt))
    assert_params_close(opts[0][0], opts[1][0], "add_param_group")
    assert_state_dict_equal(opts[0][1].state_dict(), opts[1][1].state_dict())


def test_named_parameters():
    arrays = initial_arrays("float32")
    sds = []
    for lib in (LIB, REF):
        params = make_params(lib, arrays)
        opt = optim_of(lib).Adam([(f"p{i}", p) for i, p in enumerate(params)])
        set_grads(lib, params, [np.ones_like(a) for a in arrays])
        opt.step()
        sds.append(opt.state_dict())
    assert_state_dict_equal(*sds)
    assert sds[0]["param_groups"][0]["param_names"] == ["p0", "p1", "p2", "p3"]


def test_step_hooks():
    arrays = initial_arrays("float32")
    params, opt = build(LIB, "SGD", arrays, dict(lr=0.1))
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt)))
    opt.step()
    assert calls == [("pre", True), ("post", True)]
    h1.remove()
    opt.step()
    assert calls == [("pre", True), ("post", True), ("post", True)]


def test_state_is_keyed_by_parameter():
    arrays = initial_arrays("float32")
    params, opt = build(LIB, "Adam", arrays, {})
    set_grads(LIB, params, [np.ones_like(a) for a in arrays])
    opt.step()
    assert set(map(id, opt.state.keys())) == set(map(id, params))
    assert sorted(opt.state[params[0]].keys()) == ["exp_avg", "exp_avg_sq", "step"]
    assert float(opt.state[params[0]]["step"]) == 1.0


def test_deepcopy_optimizer():
    arrays = initial_arrays("float32")
    params, opt = build(LIB, "SGD", arrays, dict(lr=0.1, momentum=0.9))
    set_grads(LIB, params, [np.ones_like(a) for a in arrays])
    opt.step()
    clone = copy.deepcopy(opt)
    assert repr(clone) == repr(opt)
    assert len(clone.state) == len(opt.state)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop"])
def test_capturable_on_cpu_fails_like_torch(name):
    """capturable=True needs a graph-capturable device; on the CPU torch's step raises, and so does ember's."""
    def fn(lib):
        params, opt = build(lib, name, initial_arrays("float32"), dict(capturable=True))
        set_grads(lib, params, [np.ones_like(a) for a in initial_arrays("float32")])
        opt.step()
    check_same_error(fn)


FLAG_CASES = [(name, dict(kw, **extra)) for name, kw in ONE_PER_OPTIMIZER
              for extra in (dict(foreach=True), dict(foreach=False), dict(fused=True))
              if not ("fused" in extra and name in ("RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam"))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", FLAG_CASES, ids=_id)
def test_foreach_and_fused_flags(case, dtype):
    """The flags are stored in the param groups; torch's multi-tensor / fused kernels compute the same update."""
    name, kwargs = case
    lp, lo, rp, ro = run_both(name, kwargs, dtype)
    assert_state_dict_equal(lo.state_dict(), ro.state_dict())


def test_nn_parameters():
    """nn.Parameter objects (what model.parameters() yields) are optimized like any leaf tensor."""
    nn = pytest.importorskip(LIB_NAME + ".nn")
    arrays = initial_arrays("float32")
    seq = gradient_sequence(arrays, 5)
    out = []
    for lib, mod in ((LIB, nn), (REF, REF.nn)):
        params = [mod.Parameter(to_lib(lib, a.copy())) for a in arrays]
        opt = optim_of(lib).AdamW(params, lr=0.01)
        for grads in seq:
            set_grads(lib, params, grads)
            opt.step()
        out.append(params)
    assert_params_close(out[0], out[1], "nn.Parameter")


@pytest.mark.parametrize("case", [("Adam", {}), ("Adam", dict(amsgrad=True, weight_decay=0.1)),
                                  ("Adam", dict(maximize=True)), ("AdamW", dict(weight_decay=0.1)),
                                  ("AdamW", dict(amsgrad=True, maximize=True)), ("SGD", dict(lr=0.1)),
                                  ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
                                  ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True))], ids=_id)
@pytest.mark.parametrize("threads,shapes", [(2, [(1200, 800), (3,), (257, 1031), ()]),
                                            (1, [(1200, 800), (3,), (257, 1031), ()]),
                                            (2, [(300, 400), (3,), (257, 131), ()])],
                         ids=["split-2-threads", "blocks-1-thread", "small-step-blocks"])
def test_big_parameters_split_between_threads(case, threads, shapes):
    """Parameters big enough for the update to be split between ember's threads (element slices of
    each array) or, on one thread or in a small step, into blocks, next to small ones and one
    non-contiguous one (updated whole): still torch's trajectory."""
    cls_name, kwargs = case
    saved = LIB.get_num_threads()
    LIB.set_num_threads(threads)
    try:
        rng = np.random.default_rng(3)
        arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        seq = gradient_sequence(arrays, 4, seed=4)
        lp = make_params(LIB, arrays)
        transposed = np.ascontiguousarray(arrays[0].T).T          # same values, Fortran order
        lp[0] = LIB.from_numpy(transposed).requires_grad_()
        assert not lp[0].detach().numpy().flags.c_contiguous
        lo = getattr(optim_of(LIB), cls_name)(lp, **kwargs)
        rp, ro = build(REF, cls_name, arrays, kwargs)
        for step, grads in enumerate(seq):
            set_grads(LIB, lp, grads)
            set_grads(REF, rp, grads)
            lo.step()
            ro.step()
            assert_params_close(lp, rp, f"{cls_name}({kwargs}) step {step + 1}")
    finally:
        LIB.set_num_threads(saved)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "RAdam"])
def test_setstate_of_an_older_pickle_restores_flags_and_step_tensors(name):
    """An optimizer pickled before a flag existed, with its step kept as a number, loads as torch's does."""
    for lib in (LIB, torch):
        p = lib.nn.Parameter(lib.ones(3))
        opt = getattr(lib.optim, name)([p])
        p.grad = lib.ones(3)
        opt.step()
        state = dict(opt.__dict__)
        for group in state["param_groups"]:
            group.pop("maximize")
        opt.state[p]["step"] = 1.0
        opt.__setstate__(state)
        assert opt.param_groups[0]["maximize"] is False, lib
        assert isinstance(opt.state[p]["step"], lib.Tensor) and float(opt.state[p]["step"]) == 1.0, lib
