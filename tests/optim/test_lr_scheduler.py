"""Learning-rate schedulers: ember.optim.lr_scheduler against torch.optim.lr_scheduler.

Each scheduler is driven in both libraries the same way (optimizer.step() then scheduler.step(),
ReduceLROnPlateau fed the same metric sequence); the learning rates (and momenta / betas where
they are cycled) must be the same Python floats at every step, and state_dict round trips.

With EMBER_TEST_LIB=torch the whole file compares torch with itself (checks the tests).
"""

import copy
import importlib
import math
import pathlib
import sys
import warnings

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import LIB, LIB_NAME, REF, to_lib  # noqa: E402

LIB_OPTIM = importlib.import_module(LIB_NAME + ".optim")
N_STEPS = 60


def optim_of(lib):
    return REF.optim if lib is REF else LIB_OPTIM


def sched_of(lib):
    return optim_of(lib).lr_scheduler


def make_optimizer(lib, opt_name="SGD", lrs=(0.1, 0.02), **kwargs):
    """An optimizer with one param group per entry of ``lrs``."""
    params = [to_lib(lib, np.ones(3, np.float32), requires_grad=True) for _ in lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs)]
    if opt_name == "SGD":
        kwargs.setdefault("momentum", 0.9)
    return params, getattr(optim_of(lib), opt_name)(groups, **kwargs)


def snapshot(opt):
    """What a scheduler controls in each param group."""
    out = []
    for g in opt.param_groups:
        entry = {"lr": g["lr"]}
        if "momentum" in g:
            entry["momentum"] = g["momentum"]
        if "betas" in g:
            entry["betas"] = g["betas"]
        out.append(entry)
    return out


def drive(lib, sched_name, sched_kwargs, n_steps=N_STEPS, opt_name="SGD", lrs=(0.1, 0.02), metrics=None,
          opt_kwargs=None, make_sched=None):
    params, opt = make_optimizer(lib, opt_name, lrs, **(opt_kwargs or {}))
    if make_sched is not None:
        sched = make_sched(lib, opt)
    else:
        sched = getattr(sched_of(lib), sched_name)(opt, **sched_kwargs)
    history = [(list(sched.get_last_lr()), snapshot(opt))]
    for i in range(n_steps):
        opt.step()
        if metrics is not None:
            sched.step(metrics[i])
        else:
            sched.step()
        history.append((list(sched.get_last_lr()), snapshot(opt)))
    return opt, sched, history


def assert_same_history(lib_hist, ref_hist, what):
    assert len(lib_hist) == len(ref_hist)
    for step, (a, b) in enumerate(zip(lib_hist, ref_hist)):
        assert a == b, f"{what}: step {step}: {LIB_NAME} {a} != torch {b}"
        for x, y in zip(a[0], b[0]):
            assert type(x) is type(y), f"{what}: step {step}: lr type {type(x)} != {type(y)}"


def plain_state(sd):
    """A scheduler state dict without entries that cannot be compared across libraries."""
    return {k: v for k, v in sd.items() if not callable(v)}


def check_scheduler(sched_name, sched_kwargs, **drive_kwargs):
    lo, ls, lh = drive(LIB, sched_name, sched_kwargs, **drive_kwargs)
    ro, rs, rh = drive(REF, sched_name, sched_kwargs, **drive_kwargs)
    assert_same_history(lh, rh, f"{sched_name}({sched_kwargs})")
    assert plain_state(ls.state_dict()) == plain_state(rs.state_dict())
    for lg, rg in zip(lo.param_groups, ro.param_groups):
        assert {k: v for k, v in lg.items() if k != "params"} == {k: v for k, v in rg.items() if k != "params"}
    return ls, rs


# ------------------------------------------------------------------ sequences
SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("StepLR", dict(step_size=7)),
    ("MultiStepLR", dict(milestones=[5, 10, 10, 30], gamma=0.3)),
    ("MultiStepLR", dict(milestones=[40, 2])),
    ("ExponentialLR", dict(gamma=0.9)),
    ("ExponentialLR", dict(gamma=1.05)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=25)),
    ("CosineAnnealingLR", dict(T_max=60, eta_min=0.05)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.95 ** epoch)),
    ("LambdaLR", dict(lr_lambda=[lambda epoch: epoch // 10 + 1, lambda epoch: 1.0 / (1 + epoch)])),
    ("MultiplicativeLR", dict(lr_lambda=lambda epoch: 0.97)),
    ("ConstantLR", dict(factor=0.25, total_iters=8)),
    ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=15)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.2, total_iters=30)),
    ("PolynomialLR", dict(total_iters=40, power=2.0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=2, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts", dict(T_0=7)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5)),
    ("CyclicLR", dict(base_lr=[0.01, 0.001], max_lr=[0.1, 0.05], step_size_up=4, step_size_down=9,
                      mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=6, mode="exp_range", gamma=0.97)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=6, cycle_momentum=False)),
]


def _show(v):
    if callable(v) or (isinstance(v, list) and v and callable(v[0])):
        return "fn"
    return v


def _id(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={_show(v)}" for k, v in kw.items())


@pytest.mark.parametrize("case", SCHEDULERS, ids=_id)
def test_lr_sequence_matches_torch(case):
    name, kwargs = case
    check_scheduler(name, kwargs)


ONECYCLE = [
    dict(max_lr=0.1, total_steps=N_STEPS),
    dict(max_lr=[0.1, 0.05], total_steps=N_STEPS + 5, pct_start=0.25, anneal_strategy="linear"),
    dict(max_lr=0.2, total_steps=N_STEPS, three_phase=True),
    dict(max_lr=0.2, total_steps=N_STEPS, three_phase=True, anneal_strategy="linear", div_factor=10.0,
         final_div_factor=100.0),
    dict(max_lr=0.1, epochs=6, steps_per_epoch=10, base_momentum=0.8, max_momentum=0.9),
    dict(max_lr=0.1, total_steps=N_STEPS, base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.95]),
    dict(max_lr=0.1, total_steps=N_STEPS, cycle_momentum=False),
]


@pytest.mark.parametrize("opt_name", ["SGD", "Adam", "AdamW", "RMSprop"])
@pytest.mark.parametrize("kwargs", ONECYCLE, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_onecycle_matches_torch(kwargs, opt_name):
    """OneCycleLR, with momentum (SGD / RMSprop) or beta1 (Adam / AdamW) cycling."""
    check_scheduler("OneCycleLR", kwargs, opt_name=opt_name)


def test_onecycle_without_momentum_support():
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        drive(LIB, "OneCycleLR", dict(max_lr=0.1, total_steps=10), n_steps=0, opt_name="Adagrad")
    check_scheduler("OneCycleLR", dict(max_lr=0.1, total_steps=10, cycle_momentum=False), n_steps=10,
                    opt_name="Adagrad")


def test_onecycle_stepping_past_total_steps():
    for lib in (LIB, REF):
        _, sched, _ = drive(lib, "OneCycleLR", dict(max_lr=0.1, total_steps=10), n_steps=10)
        with pytest.raises(ValueError, match="Tried to step 11 times. The specified number of total steps is 10"):
            sched.step()


@pytest.mark.parametrize("kwargs", [
    dict(max_lr=0.1), dict(max_lr=0.1, total_steps=0), dict(max_lr=0.1, epochs=2),
    dict(max_lr=0.1, total_steps=10, pct_start=1.5), dict(max_lr=0.1, total_steps=10, anneal_strategy="exp"),
    dict(max_lr=[0.1], total_steps=10),
])
def test_onecycle_errors(kwargs):
    errors = []
    for lib in (REF, LIB):
        with pytest.raises(ValueError) as info:
            drive(lib, "OneCycleLR", kwargs, n_steps=0)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


# ------------------------------------------------------------------ ReduceLROnPlateau
def metric_sequence(n, seed, mode="min"):
    """Noisy improvement, then plateaus and bumps: enough to trigger several reductions."""
    rng = np.random.default_rng(seed)
    third = n // 3
    base = np.concatenate([np.linspace(1.0, 0.5, third), np.full(third, 0.5), np.linspace(0.5, 0.45, n - 2 * third)])
    values = base + rng.normal(0, 0.01, n)
    values[n // 2] = 0.3  # a sudden improvement resets the counter
    if mode == "max":
        values = -values
    return [float(v) for v in values]


PLATEAU = [
    dict(),
    dict(mode="min", factor=0.5, patience=3),
    dict(mode="min", factor=0.5, patience=0, cooldown=2),
    dict(mode="max", factor=0.2, patience=2, threshold=0.01, threshold_mode="abs"),
    dict(mode="max", patience=4, threshold=1e-3, threshold_mode="rel", cooldown=1),
    dict(mode="min", factor=0.1, patience=1, min_lr=0.005),
    dict(mode="min", factor=0.5, patience=1, min_lr=[0.01, 0.001]),
    dict(mode="min", factor=0.9, patience=0, eps=1e-3),
    dict(mode="min", factor=0.5, patience=2, threshold=0.05, threshold_mode="abs"),
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
@pytest.mark.parametrize("seed", [0, 1])
def test_reduce_lr_on_plateau_matches_torch(kwargs, seed):
    metrics = metric_sequence(N_STEPS, seed, kwargs.get("mode", "min"))
    ls, rs = check_scheduler("ReduceLROnPlateau", kwargs, metrics=metrics)
    for attr in ("best", "num_bad_epochs", "cooldown_counter", "last_epoch"):
        assert getattr(ls, attr) == getattr(rs, attr), attr


def test_reduce_lr_on_plateau_accepts_tensor_metric():
    metrics = metric_sequence(30, 3)
    hist = []
    for lib in (LIB, REF):
        _, _, h = drive(lib, "ReduceLROnPlateau", dict(patience=1), n_steps=30,
                        metrics=[to_lib(lib, np.array(m, np.float64)) for m in metrics])
        hist.append(h)
    assert_same_history(*hist, "tensor metric")


@pytest.mark.parametrize("kwargs", [dict(factor=1.0), dict(mode="avg"), dict(threshold_mode="x"),
                                    dict(min_lr=[0.1, 0.2, 0.3])])
def test_reduce_lr_on_plateau_errors(kwargs):
    errors = []
    for lib in (REF, LIB):
        with pytest.raises(ValueError) as info:
            drive(lib, "ReduceLROnPlateau", kwargs, n_steps=0)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


# ------------------------------------------------------------------ composite schedulers
def _sequential(lib, opt):
    s = sched_of(lib)
    return s.SequentialLR(opt, [s.LinearLR(opt, start_factor=0.1, total_iters=5),
                                s.ExponentialLR(opt, gamma=0.9),
                                s.CosineAnnealingLR(opt, T_max=12)], milestones=[5, 20])


def _chained(lib, opt):
    s = sched_of(lib)
    return s.ChainedScheduler([s.ConstantLR(opt, factor=0.1, total_iters=20), s.ExponentialLR(opt, gamma=0.9)])


@pytest.mark.parametrize("make", [_sequential, _chained], ids=["SequentialLR", "ChainedScheduler"])
def test_composite_schedulers(make):
    lo, ls, lh = drive(LIB, None, None, make_sched=make)
    ro, rs, rh = drive(REF, None, None, make_sched=make)
    assert_same_history(lh, rh, make.__name__)


# ------------------------------------------------------------------ state_dict round trips
ROUND_TRIP = SCHEDULERS[:9] + [
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.95 ** epoch)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=2)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=N_STEPS)),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=N_STEPS, three_phase=True, anneal_strategy="linear")),
    ("ReduceLROnPlateau", dict(factor=0.5, patience=1, cooldown=1)),
]


@pytest.mark.parametrize("case", ROUND_TRIP, ids=_id)
def test_state_dict_round_trip(case):
    """Save after 25 steps, rebuild optimizer + scheduler, load both, continue: the same lrs as without saving."""
    name, kwargs = case
    metrics = metric_sequence(N_STEPS, 5) if name == "ReduceLROnPlateau" else None
    opt_name = "Adam" if name == "OneCycleLR" else "SGD"
    _, _, full = drive(LIB, name, kwargs, opt_name=opt_name, metrics=metrics)
    _, _, ref_full = drive(REF, name, kwargs, opt_name=opt_name, metrics=metrics)
    assert_same_history(full, ref_full, name)

    _, opt, sched = None, *drive(LIB, name, kwargs, n_steps=25, opt_name=opt_name, metrics=metrics)[:2]
    opt_sd = copy.deepcopy(opt.state_dict())
    sched_sd = copy.deepcopy(sched.state_dict())

    _, opt2 = make_optimizer(LIB, opt_name)
    sched2 = getattr(sched_of(LIB), name)(opt2, **kwargs)
    sched2.load_state_dict(sched_sd)
    opt2.load_state_dict(opt_sd)
    assert sched2.get_last_lr() == full[25][0]
    hist = []
    for i in range(25, N_STEPS):
        opt2.step()
        if metrics is not None:
            sched2.step(metrics[i])
        else:
            sched2.step()
        hist.append((list(sched2.get_last_lr()), snapshot(opt2)))
    assert_same_history(hist, full[26:], f"{name} after load")


def test_state_dict_keys_match_torch():
    for name, kwargs in ROUND_TRIP:
        metrics = metric_sequence(10, 0) if name == "ReduceLROnPlateau" else None
        _, ls, _ = drive(LIB, name, kwargs, n_steps=10, metrics=metrics)
        _, rs, _ = drive(REF, name, kwargs, n_steps=10, metrics=metrics)
        assert sorted(ls.state_dict().keys()) == sorted(rs.state_dict().keys()), name
        assert "optimizer" not in ls.state_dict()


def test_lambda_state_dict_keeps_callable_objects_state():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    _, opt = make_optimizer(LIB, lrs=(0.1,))
    sched = sched_of(LIB).LambdaLR(opt, Decay(0.9))
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.9}]
    _, opt2 = make_optimizer(LIB, lrs=(0.1,))
    sched2 = sched_of(LIB).LambdaLR(opt2, Decay(0.5))
    sched2.load_state_dict(sd)
    assert sched2.lr_lambdas[0].rate == 0.9


# ------------------------------------------------------------------ construction and protocol
def test_construction_sets_initial_lr_and_takes_a_step():
    for lib in (LIB, REF):
        _, opt = make_optimizer(lib)
        sched = sched_of(lib).StepLR(opt, step_size=2)
        assert sched.last_epoch == 0
        assert sched._step_count == 1
        assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
        assert sched.base_lrs == [0.1, 0.02]
        assert sched.get_last_lr() == [0.1, 0.02]


def test_resume_requires_initial_lr():
    errors = []
    for lib in (REF, LIB):
        _, opt = make_optimizer(lib)
        with pytest.raises(KeyError) as info:
            sched_of(lib).StepLR(opt, step_size=2, last_epoch=4)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_resume_with_last_epoch():
    hist = []
    for lib in (LIB, REF):
        _, opt = make_optimizer(lib)
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
        sched = sched_of(lib).CosineAnnealingLR(opt, T_max=20, last_epoch=7)
        h = [list(sched.get_last_lr())]
        for _ in range(15):
            opt.step()
            sched.step()
            h.append(list(sched.get_last_lr()))
        hist.append(h)
    assert hist[0] == hist[1]


def test_cosine_get_lr_right_after_resuming():
    """CosineAnnealingLR's closed-form branch (`_step_count == 1 and last_epoch > 0`) is never taken by
    step(); a direct get_lr() call right after constructing with last_epoch takes it, as in torch."""
    lrs = []
    for lib in (LIB, REF):
        _, opt = make_optimizer(lib, lrs=(0.5,))
        opt.param_groups[0]["initial_lr"] = 1.0
        sched = sched_of(lib).CosineAnnealingLR(opt, T_max=10, eta_min=0.01, last_epoch=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "please use get_last_lr()"
            lrs.append(sched.get_lr())
    assert lrs[0] == lrs[1] == [0.01 + 0.99 * (1 + math.cos(4 * math.pi / 10)) / 2]


def test_not_an_optimizer():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        sched_of(LIB).StepLR([], step_size=2)


def test_lr_scheduler_alias():
    s = sched_of(LIB)
    assert issubclass(s._LRScheduler, s.LRScheduler)
    assert issubclass(s.ReduceLROnPlateau, s.LRScheduler)


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return [str(x.message) for x in w if issubclass(x.category, UserWarning)]


def test_scheduler_step_before_optimizer_step_warns_like_torch():
    msgs = []
    for lib in (LIB, REF):
        _, opt = make_optimizer(lib)
        sched = sched_of(lib).StepLR(opt, step_size=2)
        msgs.append(_warnings_of(sched.step))
    assert msgs[0] == msgs[1]
    assert any("lr_scheduler.step()` before `optimizer.step()`" in m for m in msgs[0])


def test_correct_order_does_not_warn():
    for lib in (LIB, REF):
        _, opt = make_optimizer(lib)
        sched = sched_of(lib).StepLR(opt, step_size=2)

        def one_epoch():
            opt.step()
            sched.step()
        assert _warnings_of(one_epoch) == []


def test_get_lr_outside_step_warns():
    for lib in (LIB, REF):
        _, opt = make_optimizer(lib)
        sched = sched_of(lib).ExponentialLR(opt, gamma=0.5)
        assert any("get_last_lr()" in m for m in _warnings_of(sched.get_lr))


@pytest.mark.parametrize("name,kwargs", [("StepLR", dict(step_size=3, gamma=0.5)),
                                         ("MultiStepLR", dict(milestones=[2, 6], gamma=0.5)),
                                         ("ExponentialLR", dict(gamma=0.8)),
                                         ("CosineAnnealingLR", dict(T_max=10))])
def test_step_with_epoch_uses_closed_form(name, kwargs):
    out = []
    for lib in (LIB, REF):
        _, opt = make_optimizer(lib)
        sched = getattr(sched_of(lib), name)(opt, **kwargs)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in [3, 4, 7, 2, 9]:
                opt.step()
                sched.step(epoch)
                lrs.append(list(sched.get_last_lr()))
        out.append(lrs)
    assert out[0] == out[1]


def test_lr_values_are_python_floats():
    _, opt = make_optimizer(LIB)
    sched = sched_of(LIB).CosineAnnealingLR(opt, T_max=10)
    opt.step()
    sched.step()
    assert all(type(lr) is float for lr in sched.get_last_lr())
    assert all(type(g["lr"]) is float for g in opt.param_groups)
    assert math.isclose(sched.get_last_lr()[0], 0.1 * (1 + math.cos(math.pi / 10)) / 2)
