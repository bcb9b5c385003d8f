"""LBFGS: ember.optim.LBFGS against torch.optim.LBFGS.

The same closure (a quadratic plus a Rosenbrock valley plus a quartic term) drives both libraries from
the same start; the parameters, the losses step() returns, the evaluation counters and the state_dict
(history lists, step t, H_diag) must agree.  float64 agrees to rounding; float32 only over the first
steps, before the stopping tests (|loss change| < tolerance_change ...) meet numbers that differ in
their last bit between two BLAS dot products.
"""
import copy
import importlib
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import LIB, LIB_NAME, REF, to_lib  # noqa: E402

LIB_OPTIM = importlib.import_module(LIB_NAME + ".optim")


def optim_of(lib):
    return REF.optim if lib is REF else LIB_OPTIM


def problem(lib, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((6, 6)).astype(dtype)
    a = a @ a.T + np.eye(6, dtype=dtype)
    x = to_lib(lib, rng.standard_normal(6).astype(dtype), requires_grad=True)
    w = to_lib(lib, rng.standard_normal(2).astype(dtype), requires_grad=True)
    return to_lib(lib, a), x, w


def run(lib, kwargs, dtype, steps, seed=0, state=None):
    a, x, w = problem(lib, dtype, seed)
    opt = optim_of(lib).LBFGS([x, w], **kwargs)
    if state is not None:
        opt.load_state_dict(state)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x @ (a @ x)) + (1 - w[0]) ** 2 + 10 * (w[1] - w[0] ** 2) ** 2 + (x ** 4).sum() * 0.01
        loss.backward()
        return loss

    trajectory = []
    for _ in range(steps):
        loss = opt.step(closure)
        trajectory.append(np.concatenate([x.detach().numpy().ravel(), w.detach().numpy().ravel(),
                                          [float(loss.detach())]]))
    return np.array(trajectory), opt


def to_np(v):
    return np.array(v.detach().numpy(), copy=True)


def assert_state_equal(lib_state, ref_state, rtol):
    assert list(lib_state.keys()) == list(ref_state.keys())
    for key, ref in ref_state.items():
        got = lib_state[key]
        if isinstance(ref, list):
            assert len(got) == len(ref), key
            pairs = list(zip(got, ref))
        else:
            pairs = [(got, ref)]
        for g, r in pairs:
            if isinstance(r, torch.Tensor):
                assert str(g.dtype) == str(r.dtype) and tuple(g.shape) == tuple(r.shape), key
                np.testing.assert_allclose(to_np(g), to_np(r), rtol=rtol, atol=rtol, err_msg=key)
            elif isinstance(r, float):
                assert type(g) is float and g == pytest.approx(r, rel=rtol, abs=rtol), key
            else:
                assert g == r, key


CASES = [dict(), dict(line_search_fn="strong_wolfe"), dict(history_size=3, max_iter=7, lr=0.5),
         dict(line_search_fn="strong_wolfe", history_size=2, tolerance_change=1e-5),
         dict(max_iter=4, max_eval=5, line_search_fn="strong_wolfe"), dict(tolerance_grad=1e-2, lr=0.3),
         # a long first step overshoots: the line search brackets, then zooms in
         dict(line_search_fn="strong_wolfe", lr=20.0), dict(line_search_fn="strong_wolfe", lr=100.0, history_size=3)]


@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_trajectory_float64(kwargs):
    lib_traj, lib_opt = run(LIB, kwargs, "float64", 5)
    ref_traj, ref_opt = run(REF, kwargs, "float64", 5)
    np.testing.assert_allclose(lib_traj, ref_traj, rtol=1e-9, atol=1e-10)
    # 1/(y.s) of a nearly flat pair amplifies the last bits of y.s: state to 1e-5, trajectory to 1e-9
    assert_state_equal(lib_opt.state_dict()["state"][0], ref_opt.state_dict()["state"][0], 1e-5)
    assert lib_opt.state_dict()["param_groups"] == ref_opt.state_dict()["param_groups"]


@pytest.mark.parametrize("kwargs", [dict(max_iter=5), dict(max_iter=5, line_search_fn="strong_wolfe")], ids=str)
def test_trajectory_float32_first_iterations(kwargs):
    lib_traj, lib_opt = run(LIB, kwargs, "float32", 2)
    ref_traj, ref_opt = run(REF, kwargs, "float32", 2)
    np.testing.assert_allclose(lib_traj, ref_traj, rtol=1e-4, atol=1e-5)
    assert_state_equal(lib_opt.state_dict()["state"][0], ref_opt.state_dict()["state"][0], 1e-3)


def test_torch_state_dict_continues():
    """A torch-made state (lists of history tensors, H_diag, t) loads and the run continues as torch's."""
    kwargs = dict(max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    _, ref_opt = run(REF, kwargs, "float64", 2)
    saved = ref_opt.state_dict()

    def convert(v):
        if isinstance(v, torch.Tensor):
            return to_lib(LIB, v.detach().numpy().copy())
        if isinstance(v, list):
            return [convert(x) for x in v]
        return copy.deepcopy(v)

    lib_state = {"state": {k: {n: convert(x) for n, x in s.items()} for k, s in saved["state"].items()},
                 "param_groups": copy.deepcopy(saved["param_groups"])}
    lib_traj, lib_opt = run(LIB, kwargs, "float64", 2, state=lib_state)
    ref_traj, ref_opt2 = run(REF, kwargs, "float64", 2, state=copy.deepcopy(saved))
    np.testing.assert_allclose(lib_traj, ref_traj, rtol=1e-9, atol=1e-10)
    assert_state_equal(lib_opt.state_dict()["state"][0], ref_opt2.state_dict()["state"][0], 1e-8)


def test_stops_at_once_on_small_gradient():
    for lib in (LIB, REF):
        x = to_lib(lib, np.zeros(3), requires_grad=True)
        opt = optim_of(lib).LBFGS([x])
        calls = []

        def closure():
            calls.append(1)
            opt.zero_grad()
            loss = (x * x).sum()
            loss.backward()
            return loss
        opt.step(closure)
        assert len(calls) == 1 and opt.state[x]["n_iter"] == 0


def check_same_error(fn):
    with pytest.raises(Exception) as ref:
        fn(REF)
    with pytest.raises(type(ref.value)) as got:
        fn(LIB)
    assert str(got.value) == str(ref.value)


def test_errors():
    arrays = [np.ones(2), np.ones(3)]
    check_same_error(lambda lib: optim_of(lib).LBFGS([to_lib(lib, arrays[0], requires_grad=True)], lr=-1))
    check_same_error(lambda lib: optim_of(lib).LBFGS(
        [{"params": [to_lib(lib, a, requires_grad=True)]} for a in arrays]))

    def bad_line_search(lib):
        _, x, w = problem(lib, "float64")
        opt = optim_of(lib).LBFGS([x, w], line_search_fn="backtracking")

        def closure():
            opt.zero_grad()
            loss = (x * x).sum() + (w * w).sum()
            loss.backward()
            return loss
        opt.step(closure)
    check_same_error(bad_line_search)


def test_repr_and_defaults():
    lib_opt = LIB_OPTIM.LBFGS([to_lib(LIB, np.ones(2), requires_grad=True)], max_iter=8)
    ref_opt = REF.optim.LBFGS([torch.ones(2, requires_grad=True)], max_iter=8)
    assert repr(lib_opt) == repr(ref_opt)
    assert lib_opt.defaults == ref_opt.defaults
