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


# -- the one-element fast paths (the tutorial's scalar loop) ---------------------------------

@pytest.mark.parametrize("x0", [5.0, [0.0]], ids=["0-d", "1-element"])
def test_scalar_loop_matches_torch(x0):
    """y = (x - 2) ** 2 / 2; y.backward(); x.data -= 0.4 * x.grad; x.grad.zero_(), step by step."""
    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        steps = []
        for _ in range(5):
            y = (x - 2) ** 2 / 2
            names = [y.grad_fn.name(), y.grad_fn.next_functions[0][0].name(),
                     y.grad_fn.next_functions[0][0].next_functions[0][0].name()]
            y.backward()
            x.data -= 0.4 * x.grad
            steps.append((y.detach().numpy().copy(), x.grad.numpy().copy(), x.detach().numpy().copy(), names,
                          str(y.dtype), str(x.grad.dtype)))
            x.grad.zero_()
        return steps

    for (ye, ge, xe, ne, dye, dge), (yt, gt, xt, nt, dyt, dgt) in zip(run(ember), run(torch)):
        assert ye.shape == yt.shape and ge.shape == gt.shape and xe.shape == xt.shape
        np.testing.assert_array_equal(ye, yt)
        np.testing.assert_array_equal(ge, gt)
        np.testing.assert_array_equal(xe, xt)
        assert ne == nt == ["DivBackward0", "PowBackward0", "SubBackward0"]
        assert dye.split(".")[-1] == dyt.split(".")[-1] == "float32" and dge.split(".")[-1] == "float32"


@pytest.mark.parametrize("shape", [(), (1,)], ids=["0-d", "1-element"])
def test_one_element_inplace_update_and_grad_accumulation(shape):
    def run(lib):
        x = lib.tensor(np.full(shape, 3.0, np.float32), requires_grad=True)
        (x * 2).sum().backward()
        g = x.grad
        v0 = _version(g)
        (x * x).sum().backward()           # accumulates into the same .grad tensor, in place
        same_grad, v1 = x.grad is g, _version(g)
        d = x.detach()
        vd = _version(d)
        x.data -= 0.5 * x.grad             # .data has its own version counter
        t = lib.tensor(np.full(shape, 1.0, np.float32))
        u = lib.tensor(np.full(shape, 4.0, np.float32))
        t -= u                             # one element, no autograd: written in place
        t *= 3.0
        return x.detach().numpy().copy(), g.numpy().copy(), same_grad, v1 - v0, _version(d) - vd, \
            t.numpy().copy(), _version(t)

    e, r = run(ember), run(torch)
    for a, b in zip(e, r):
        if isinstance(a, np.ndarray):
            assert a.shape == b.shape
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


def _version(t):
    v = t._version
    return v[0] if isinstance(v, list) else v


@pytest.mark.parametrize("target,other", [((), (1,)), ((1,), (1, 1)), ((1,), (3,))])
def test_one_element_inplace_shape_errors(target, other):
    for lib in (ember, torch):
        t = lib.zeros(target)
        with pytest.raises(RuntimeError):
            t -= lib.ones(other)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # torch's reference-cycle note
def test_root_gradient_is_a_fresh_writable_tensor():
    def run(lib):
        x = lib.tensor(3.0, requires_grad=True)
        (x + 1).backward(create_graph=True)      # x.grad is the root's gradient itself
        (x + 1).backward()                       # ... and now accumulates into it
        y = x * 2
        y.retain_grad()
        seen = []
        y.register_hook(lambda g: seen.append(g))
        y.backward()
        y.grad.zero_()
        seen[0].add_(1)
        return x.grad.detach().numpy().copy(), y.grad.numpy().copy(), seen[0].numpy().copy()

    for a, b in zip(run(ember), run(torch)):
        np.testing.assert_array_equal(a, b)


GRAPHS = {
    # a chain that forks, where one branch feeds the other: b = exp(a) and c = b * a
    "chain then fork": lambda lib, x: ((x * 2).exp() * (x * 2)).sin().sum(),
    # a diamond in the middle of a chain
    "diamond": lambda lib, x: (lambda a: ((a.sin() + a.cos()) * 3).tanh())(x * 1.5 - 1).sum(),
    # one tensor used twice by a single node
    "square by mul": lambda lib, x: (lambda a: (a * a) / 2)(x - 1).sum(),
    # a leaf used at several depths of a chain
    "leaf everywhere": lambda lib, x: (((x * x) + x) * x - x).sum(),
}


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("x0", [0.7, [0.7], [0.3, -1.2, 2.0]], ids=["0-d", "1-element", "3-element"])
def test_backward_walk_matches_torch(name, x0):
    def run(lib):
        x = lib.tensor(x0, dtype=lib.float64, requires_grad=True)
        y = GRAPHS[name](lib, x)
        y.backward(retain_graph=True)
        first = x.grad.clone()
        y.backward()
        with pytest.raises(RuntimeError, match="second time"):
            y.backward()
        return first, x.grad

    for a, b in zip(run(ember), run(torch)):
        close(a, b)


def test_backward_walk_with_hooks_retain_grad_and_a_missing_gradient():
    def run(lib):
        class FirstOnly(lib.autograd.Function):    # no gradient for its second input
            @staticmethod
            def forward(ctx, a, b):
                return a * 1.0 + b * 0.0

            @staticmethod
            def backward(ctx, g):
                return g, None

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        a = x * 3                     # a chain node with a hook and a retained grad
        a.retain_grad()
        a.register_hook(lambda g: g * 2)
        b = (w * 5).exp()             # a node that never gets a gradient
        y = (FirstOnly.apply(a, b) ** 2).sum()
        y.backward()
        return x.grad, w.grad, a.grad

    (xe, we, ae), (xt, wt, at) = run(ember), run(torch)
    close(xe, xt)
    close(ae, at)
    assert we is None and wt is None


@pytest.mark.parametrize("x0", [2.0, [2.0]], ids=["0-d", "1-element"])
def test_saved_version_checks_with_number_operands(x0):
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        h = x * 1
        y = h ** 3                    # saves h (and the number 3)
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        h2, w = x * 1, x * 2
        z = h2 * w                    # saves both tensors
        w.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
        h3 = x * 1
        (h3 / 4 + h3 ** 2 - 1).sum().backward()   # numbers saved beside tensors: nothing to check


def test_inlined_tensor_constructors_set_the_fields_of_init_fields():
    """Function.apply and the fast binary path write tensor._init_fields's fields out by hand (one call
    less per op); they must set exactly the same fields to the same values."""
    import numpy as np
    from ember.tensor import Tensor, _init_fields

    def fields(t):
        return {name: getattr(t, name) for name in Tensor.__slots__ if name not in ("__weakref__", "__dict__")}

    reference = fields(_init_fields(object.__new__(Tensor), np.zeros(2, np.float32)))
    x = ember.ones(2)
    for made in (x + 1.0, x.exp()):  # the fast binary path; Function.apply
        got = fields(made)
        assert set(got) == set(reference)
        for name, value in reference.items():
            if name != "_data":
                assert got[name] == value and type(got[name]) is type(value), name
        assert got["_version"] is not x._version


def test_a_leaf_used_many_times_sums_its_gradients_like_torch():
    """The engine sums a leaf's gradients in place once it holds the running sum alone; a gradient it
    received (here the add's, which goes to both w and v) is never written into."""
    def first(lib, w, v):
        y = ((w + v) * 2).sum() + (w * 3).sum() + (w * w).sum() + (lib.tanh(w) * v).sum()
        y.backward()
        return w.grad, v.grad

    def last(lib, w, v):
        y = (w * 3).sum() + (w * w).sum() + (lib.tanh(w) * v).sum() + ((w + v) * 2).sum()
        y.backward()
        return w.grad, v.grad
    for fn in (first, last):
        (ew, ev), (tw, tv) = both(fn, RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4)))
        close(ew, tw)
        close(ev, tv)
    # a hook that keeps a leaf's gradient sees it unchanged by later steps of the pass
    kept = []
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    w.register_hook(lambda g: kept.append(g.clone()) or None)
    ((w * 2).sum() + (w * w).sum() + (w * 5).sum()).backward()
    np.testing.assert_allclose(kept[0].numpy(), [9.0, 11.0])
    np.testing.assert_allclose(w.grad.numpy(), [9.0, 11.0])
