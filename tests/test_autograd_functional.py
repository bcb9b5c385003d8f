"""ember.autograd.functional vs torch.autograd.functional: the same values and the same structure (Tensor or
tuples, nested for several inputs and outputs), create_graph results that can be differentiated again, and
torch's exception types for bad input and strict mode."""
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from torch_compare import LIB, assert_same, assert_same_exception, to_lib  # noqa: E402


def AF(lib):
    return lib.autograd.functional


def rand(shape, seed):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, shape)


# functions written once for both libraries (methods only)
FUNCS = {
    "square": lambda x: x ** 2,
    "matrix out": lambda x: x.unsqueeze(1) * x.unsqueeze(0).sin(),
    "scalar": lambda x: (x ** 3).sum() + x.prod(),
    "two in": lambda x, y: x * y.exp(),
    "two in two out": lambda x, y: ((x * y).sum(), x.tanh() + y),
    "ignores y": lambda x, y: x * 2,
    "matmul": lambda a, b: a @ b,
}

INPUTS = {
    "square": [(3,)], "matrix out": [(3,)], "scalar": [(4,)], "two in": [(3,), (3,)],
    "two in two out": [(3,), (3,)], "ignores y": [(2,), (2,)], "matmul": [(2, 3), (3, 2)],
}


def _inputs(lib, name, single):
    ts = tuple(to_lib(lib, rand(s, i)) for i, s in enumerate(INPUTS[name]))
    return ts[0] if single and len(ts) == 1 else ts


def _compare(ours, theirs, name):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{name}: structure {type(ours)} vs tuple"
        for i, (o, t) in enumerate(zip(ours, theirs)):
            _compare(o, t, f"{name}[{i}]")
    else:
        assert not isinstance(ours, tuple), f"{name}: got a tuple, torch a Tensor"
        assert_same(ours, theirs, 1e-10, 1e-12, name=name)


@pytest.mark.parametrize("single", [True, False])
@pytest.mark.parametrize("name", list(FUNCS))
def test_jacobian(name, single):
    for kw in ({}, {"create_graph": True}, {"vectorize": True}):
        results = [AF(lib).jacobian(FUNCS[name], _inputs(lib, name, single), **kw) for lib in (LIB, torch)]
        _compare(*results, f"jacobian {name} {kw}")


@pytest.mark.parametrize("name", ["scalar", "two in two out"])
def test_hessian(name):
    fn = FUNCS[name] if name == "scalar" else (lambda x, y: FUNCS[name](x, y)[0] + (x ** 2 * y).sum())
    single = name == "scalar"
    results = [AF(lib).hessian(fn, _inputs(lib, name, single)) for lib in (LIB, torch)]
    _compare(*results, f"hessian {name}")


@pytest.mark.parametrize("name", list(FUNCS))
def test_vjp_and_jvp(name):
    results = {}
    for lib in (LIB, torch):
        inputs = _inputs(lib, name, True)
        outs = FUNCS[name](*(inputs if isinstance(inputs, tuple) else (inputs,)))
        outs_t = outs if isinstance(outs, tuple) else (outs,)
        v_out = tuple(to_lib(lib, rand(tuple(o.shape), 10 + i)) for i, o in enumerate(outs_t))
        v_in = tuple(to_lib(lib, rand(tuple(t.shape), 20 + i)) for i, t in
                     enumerate(inputs if isinstance(inputs, tuple) else (inputs,)))
        v_out = v_out if isinstance(outs, tuple) else v_out[0]
        v_in = v_in if isinstance(inputs, tuple) else v_in[0]
        results[lib] = (AF(lib).vjp(FUNCS[name], inputs, v_out), AF(lib).jvp(FUNCS[name], inputs, v_in))
    _compare(results[LIB], results[torch], f"vjp/jvp {name}")


def test_hvp_vhp_and_defaults():
    for lib_fn in ("hvp", "vhp"):
        res = [getattr(AF(lib), lib_fn)(FUNCS["scalar"], to_lib(lib, rand((4,), 0)), to_lib(lib, rand((4,), 1)))
               for lib in (LIB, torch)]
        _compare(*res, lib_fn)
    # v may be omitted for a single-element input/output
    res = [(AF(lib).vjp(lambda x: (x ** 2).sum(), to_lib(lib, rand((3,), 2))),
            AF(lib).jvp(lambda x: x.exp() * 3, to_lib(lib, rand((1,), 3)))) for lib in (LIB, torch)]
    _compare(*res, "defaults")


def test_create_graph_results_are_differentiable():
    grads = []
    for lib in (LIB, torch):
        x = to_lib(lib, rand((3,), 4), requires_grad=True)
        jac = AF(lib).jacobian(lambda t: t.sin() * t, x, create_graph=True)
        assert jac.requires_grad
        (g,) = lib.autograd.grad(jac.sum(), x)
        _, vj = AF(lib).vjp(lambda t: t ** 3, x, to_lib(lib, np.ones(3)), create_graph=True)
        (g2,) = lib.autograd.grad(vj.sum(), x)
        grads.append((g, g2))
    _compare(grads[0], grads[1], "second derivatives through create_graph")
    # the caller's tensors are left alone (evaluated at detached copies)
    x = to_lib(LIB, rand((2,), 6))
    AF(LIB).jacobian(lambda t: t * 2, x)
    AF(LIB).hessian(lambda t: (t ** 3).sum(), x)
    assert not x.requires_grad and x.grad is None
    # without create_graph the results are detached
    assert not AF(LIB).jacobian(lambda t: t * 2, to_lib(LIB, rand((2,), 5), requires_grad=True)).requires_grad


BAD = {
    "not a tensor": lambda lib: AF(lib).jacobian(lambda x: x, [1.0, 2.0]),
    "tuple with a number": lambda lib: AF(lib).jacobian(lambda x, y: x, (lib.ones(2), 3.0)),
    "v missing": lambda lib: AF(lib).vjp(lambda x: x * 2, lib.ones(3)),
    "v shape": lambda lib: AF(lib).vjp(lambda x: x * 2, lib.ones(3), lib.ones(4)),
    "v length": lambda lib: AF(lib).vjp(lambda x: (x, x), lib.ones(3), (lib.ones(3),)),
    "jvp v missing": lambda lib: AF(lib).jvp(lambda x: x * 2, lib.ones(3)),
    "hessian of a vector": lambda lib: AF(lib).hessian(lambda x: x * 2, lib.ones(3)),
    "hessian of a tuple": lambda lib: AF(lib).hessian(lambda x: (x.sum(), x.sum()), lib.ones(3)),
    "strict independent": lambda lib: AF(lib).jacobian(lambda x, y: x * 2, (lib.ones(2), lib.ones(2)), strict=True),
    "strict constant output": lambda lib: AF(lib).vjp(lambda x: lib.ones(2), lib.ones(2), lib.ones(2), strict=True),
    "strategy": lambda lib: AF(lib).jacobian(lambda x: x, lib.ones(2), strategy="sideways"),
    "forward-mode without vectorize": lambda lib: AF(lib).jacobian(lambda x: x, lib.ones(2),
                                                                   strategy="forward-mode"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input(case):
    assert_same_exception(lambda: BAD[case](LIB), lambda: BAD[case](torch), name=case)


def test_non_strict_independent_input_gives_zeros():
    _compare(AF(LIB).jacobian(FUNCS["ignores y"], (LIB.ones(2, dtype=LIB.float64), LIB.ones(2, dtype=LIB.float64))),
             AF(torch).jacobian(FUNCS["ignores y"], (torch.ones(2, dtype=torch.float64),
                                                     torch.ones(2, dtype=torch.float64))), "independent")
