"""Autograd semantics against PyTorch: higher-order gradients, hooks, grad modes, graph rules."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)


def both(fn, *arrays, requires_grad=True):
    """Run fn(lib, *tensors) with ember and with torch on the same float64 data."""
    out = []
    for lib in (ember, torch):
        ts = [lib.tensor(a, dtype=lib.float64, requires_grad=requires_grad) for a in arrays]
        out.append(fn(lib, *ts))
    return out


def close(a, b, tol=1e-10):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


SECOND_ORDER = {
    "sin": lambda lib, x: x.sin(),
    "cos": lambda lib, x: x.cos(),
    "exp": lambda lib, x: x.exp(),
    "log": lambda lib, x: (x * x + 1).log(),
    "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "pow3": lambda lib, x: x ** 3,
    "pow_half": lambda lib, x: (x * x + 1) ** 0.5,
    "rpow": lambda lib, x: 2 ** x,
    "div": lambda lib, x: 1 / (x * x + 1),
    "sqrt": lambda lib, x: (x * x + 1).sqrt(),
    "softmax": lambda lib, x: lib.softmax(x, 0) * lib.arange(x.shape[0], dtype=lib.float64),
    "logsumexp": lambda lib, x: lib.logsumexp(x, 0),
    "norm": lambda lib, x: x.norm(),
    "var": lambda lib, x: x.var(),
    "matmul": lambda lib, x: (lib.outer(x, x) @ x),
    "max_index": lambda lib, x: x[1:].max() * x[0],
    "cumsum": lambda lib, x: x.cumsum(0) ** 2,
    "where": lambda lib, x: lib.where(x > 0, x ** 2, x ** 3),
}


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives_match_torch(name):
    f = SECOND_ORDER[name]
    x = RNG.uniform(-1.5, 1.5, size=5)

    def hess_diag_and_hvp(lib, t):
        y = f(lib, t).sum()
        (g,) = lib.autograd.grad(y, t, create_graph=True)
        v = lib.tensor(np.linspace(0.5, 1.5, 5), dtype=lib.float64)
        (hv,) = lib.autograd.grad((g * v).sum(), t)
        return g, hv

    (ge, hve), (gt, hvt) = both(hess_diag_and_hvp, x)
    close(ge, gt)
    close(hve, hvt, 1e-9)


def test_third_derivative_of_a_power():
    x = ember.tensor(3.0, requires_grad=True)
    y = x ** 4
    (g1,) = ember.autograd.grad(y, x, create_graph=True)
    (g2,) = ember.autograd.grad(g1, x, create_graph=True)
    (g3,) = ember.autograd.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (108.0, 108.0, 72.0)


def test_hooks_and_retain_grad_match_torch():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        seen = []
        y = x * 2
        y.retain_grad()
        h = y.register_hook(lambda g: seen.append(g.clone()) or g * 10)
        x.register_hook(lambda g: g + 1)
        (y ** 2).sum().backward()
        h.remove()
        return x.grad, y.grad, seen[0]

    (xe, ye, se), (xt, yt, st) = run(ember), run(torch)
    close(xe, xt)
    close(ye, yt)
    close(se, st)


def test_accumulation_retain_graph_and_second_backward_error():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.clone()
    y.backward()
    close(x.grad, 2 * first.numpy())
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_backward_with_gradient_and_inputs():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        y = a * b
        y.backward(lib.tensor([1.0, 0.5]), inputs=[a])
        return a.grad, b.grad

    (ae, be), (at, bt) = run(ember), run(torch)
    close(ae, at)
    assert be is None and bt is None


def test_grad_modes_as_context_and_decorator():
    x = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert (x * 2).requires_grad

    @ember.no_grad()
    def f():
        return x * 2

    @ember.no_grad
    def g():
        return x * 2

    @ember.inference_mode()
    def h():
        return x * 2

    assert not f().requires_grad and not g().requires_grad and not h().requires_grad
    ember.set_grad_enabled(False)
    assert not ember.is_grad_enabled()
    ember.set_grad_enabled(True)
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()


def test_detach_data_and_version_rules():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    d[0] = 5.0                      # shares storage with x
    assert x[0].item() == 5.0
    y = x.exp()
    y.detach().add_(1)              # shares the version counter: backward must refuse
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    z = x.exp()
    z.data.add_(1)                  # .data does not share it: silently allowed, as in torch
    z.sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        ember.tensor([1, 2]).requires_grad_()
    w = x * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        w.requires_grad = False
    w.detach_()
    assert w.grad_fn is None and not w.requires_grad


def test_inplace_on_non_leaf_is_tracked_like_torch():
    def run(lib):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = x * 3
        y += 1
        y *= x
        y[1] = 7.0
        y.relu_()
        (y * y).sum().backward()
        return x.grad, y.grad_fn.name() if hasattr(y.grad_fn, "name") else None

    (ge, _), (gt, _) = run(ember), run(torch)
    close(ge, gt)


def test_custom_function_matches_torch():
    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    close(x.grad, [3.0, 12.0])
