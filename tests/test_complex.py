"""Complex tensors vs torch: the dtypes and their names, creation, promotion, printing, the ops on the parts
(real, imag, view_as_real/complex, complex, polar, conj, angle, abs), conversions and save/load, torch's
errors for the ops complex numbers do not support, and gradients with complex leaves in torch's convention
(the op table, tests/ops/op_table.py, checks the same ops from real leaves, with finite differences)."""
import io
import pathlib
import sys
import warnings

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from torch_compare import LIB, assert_same, assert_same_exception  # noqa: E402

Z = [[1 + 2j, 3 - 4j, 0.5j], [-1.5, 0j, 2 + 0.25j]]


def both(fn):
    """fn(lib) in both libraries; the results must agree in structure, shape, dtype and values."""
    assert_same(fn(LIB), fn(torch), name="complex")


# -- the dtypes -------------------------------------------------------------------------------------

def test_dtype_names_and_flags():
    for name in ("complex64", "complex128", "cfloat", "cdouble"):
        d, t = getattr(LIB, name), getattr(torch, name)
        assert repr(d) == repr(t) and str(d) == str(t)
        assert d.is_complex is True and d.is_floating_point is False and d.is_signed == t.is_signed
        assert d.itemsize == t.itemsize
    assert LIB.cfloat is LIB.complex64 and LIB.cdouble is LIB.complex128
    assert LIB.float32.is_complex is False
    assert LIB.complex64.to_real() is LIB.float32 and LIB.float64.to_complex() is LIB.complex128


def test_legacy_type_name():
    assert LIB.tensor([1j]).type() == torch.tensor([1j]).type() == "torch.ComplexFloatTensor"
    assert LIB.tensor([1j], dtype=LIB.cdouble).type() == "torch.ComplexDoubleTensor"


# -- creation --------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([1 + 2j]),
    lambda lib: lib.tensor(1j),
    lambda lib: lib.tensor([1, 2j, 3.5]),
    lambda lib: lib.tensor(Z),
    lambda lib: lib.tensor(Z, dtype=lib.complex128),
    lambda lib: lib.tensor([1.0, 2.0], dtype=lib.cfloat),
    lambda lib: lib.tensor(np.array([1 + 1j, 2])),
    lambda lib: lib.tensor(np.array([1 + 1j], dtype=np.complex64)),
    lambda lib: lib.from_numpy(np.array([[1 + 1j, 2]])),
    lambda lib: lib.zeros(2, 3, dtype=lib.cfloat),
    lambda lib: lib.ones(2, dtype=lib.cdouble) - 1,
    lambda lib: lib.full((2,), 1 - 1j),
    lambda lib: lib.zeros_like(lib.tensor(Z)),
], ids=lambda f: "")
def test_creation(make):
    both(make)


def test_default_dtype_float64_makes_complex128():
    for lib in (LIB, torch):
        old = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            assert repr(lib.tensor([1j]).dtype) == "torch.complex128"
            assert repr((lib.ones(2, dtype=lib.int64) * 1j).dtype) == "torch.complex128"
        finally:
            lib.set_default_dtype(old)


def test_random_complex_draws_both_parts():
    LIB.manual_seed(0)
    z = LIB.randn(20000, dtype=LIB.cfloat)
    assert z.dtype is LIB.complex64
    # torch's convention: E|z|^2 = 1, each part with variance 1/2
    assert abs(float(z.real.var()) - 0.5) < 0.03 and abs(float(z.imag.var()) - 0.5) < 0.03
    u = LIB.rand(1000, dtype=LIB.cdouble)
    assert float(u.imag.min()) >= 0 and float(u.imag.max()) < 1 and float(u.imag.std()) > 0.2


def test_linspace_complex_and_arange_refuses():
    both(lambda lib: lib.linspace(0, 2, 5, dtype=lib.cdouble))
    both(lambda lib: lib.linspace(-1, 1, 4, dtype=lib.cfloat))
    mine, theirs = assert_same_exception(lambda: LIB.arange(3, dtype=LIB.cfloat), lambda: torch.arange(3, dtype=torch.cfloat))
    assert str(mine) == str(theirs)


def test_python_number_conversions():
    assert float(LIB.tensor(2 + 0j)) == 2.0 and int(LIB.tensor(3 + 0j)) == 3
    for conv in (float, int):
        mine, theirs = assert_same_exception(lambda: conv(LIB.tensor(1j)), lambda: conv(torch.tensor(1j)))
        assert str(mine) == str(theirs)


def test_testing_assert_close_on_complex():
    z = LIB.tensor(Z)
    LIB.testing.assert_close(z, z + 1e-7)
    LIB.testing.assert_close(z[0, 0], z[0, 0])
    for other in (z + 1j, z[0, 0] + 1j):
        mine, theirs = assert_same_exception(lambda: LIB.testing.assert_close(z if other.ndim else z[0, 0], other),
                                             lambda: torch.testing.assert_close(torch.tensor(Z) if other.ndim else
                                                                                torch.tensor(Z)[0, 0], torch.tensor(other.numpy())))
        assert str(mine).splitlines()[0] == str(theirs).splitlines()[0]


def test_numpy_and_back():
    z = LIB.tensor(Z)
    a = z.numpy()
    assert a.dtype == np.complex64 and np.array_equal(a, np.array(Z, np.complex64))
    assert LIB.from_numpy(a).dtype is LIB.complex64
    assert z.tolist() == torch.tensor(Z).tolist()
    assert LIB.tensor(Z)[0, 1].item() == torch.tensor(Z)[0, 1].item()
    assert complex(LIB.tensor(2 - 1j)) == 2 - 1j


# -- promotion ---------------------------------------------------------------------------------------

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64", "complex64", "complex128"]


def _t(lib, name, ndim):
    return lib.ones((2,) * ndim, dtype=getattr(lib, name))


@pytest.mark.parametrize("a", NAMES)
def test_result_type_with_complex(a):
    for b in ("complex64", "complex128"):
        for na, nb in ((1, 1), (1, 0), (0, 1), (0, 0)):
            for x, y in ((a, b), (b, a)):
                want = torch.result_type(_t(torch, x, na), _t(torch, y, nb))
                assert repr(LIB.result_type(_t(LIB, x, na), _t(LIB, y, nb))) == str(want), (x, y, na, nb)
        assert repr(LIB.promote_types(getattr(LIB, a), getattr(LIB, b))) == str(
            torch.promote_types(getattr(torch, a), getattr(torch, b)))
    for scalar in (1j, 2.5, 3, True):
        for nd in (0, 1):
            want = torch.result_type(_t(torch, a, nd), scalar)
            assert repr(LIB.result_type(_t(LIB, a, nd), scalar)) == str(want), (a, scalar, nd)


@pytest.mark.parametrize("expr", [
    lambda lib, z: z + 1, lambda lib, z: z * 2.5, lambda lib, z: z / 2, lambda lib, z: 1 - z,
    lambda lib, z: z * 1j, lambda lib, z: 1j / (z + 1), lambda lib, z: lib.ones(3, dtype=lib.float64) * z,
    lambda lib, z: lib.arange(3) + z, lambda lib, z: lib.ones(3) * 1j, lambda lib, z: lib.arange(3) * (1 + 0j),
    lambda lib, z: lib.ones(3, dtype=lib.float64) - 1j, lambda lib, z: z * lib.tensor(2.0, dtype=lib.float64),
    lambda lib, z: z @ z.T, lambda lib, z: z.T @ z, lambda lib, z: z[0] @ z[1], lambda lib, z: z * z.conj(),
    lambda lib, z: z / (z + 3), lambda lib, z: z - z.to(lib.complex128), lambda lib, z: z == z.conj(),
    lambda lib, z: z != 0, lambda lib, z: z.sum(), lambda lib, z: z.mean(0), lambda lib, z: z.sum(1, keepdim=True),
    lambda lib, z: -z, lambda lib, z: z.reshape(3, 2).t(), lambda lib, z: lib.cat([z, z]), lambda lib, z: z[:, 1:],
    lambda lib, z: lib.stack([z, z], 1), lambda lib, z: lib.where(z.real > 0, z, 0), lambda lib, z: z.flip(1),
    lambda lib, z: z.clone(), lambda lib, z: z.sum().item(),
], ids=lambda f: "")
def test_arithmetic(expr):
    both(lambda lib: expr(lib, lib.tensor(Z)))


# -- the parts -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr", [
    lambda lib, z: z.real, lambda lib, z: z.imag, lambda lib, z: lib.real(z), lambda lib, z: lib.imag(z),
    lambda lib, z: z.abs(), lambda lib, z: abs(z), lambda lib, z: lib.abs(z.to(lib.cdouble)),
    lambda lib, z: z.angle(), lambda lib, z: lib.angle(z), lambda lib, z: z.conj().resolve_conj(),
    lambda lib, z: lib.resolve_conj(lib.conj(z)), lambda lib, z: lib.resolve_neg(z.conj().imag),
    lambda lib, z: lib.view_as_real(z), lambda lib, z: lib.view_as_complex(lib.view_as_real(z)),
    lambda lib, z: lib.view_as_real(z.T), lambda lib, z: lib.view_as_complex(lib.ones(4, 3, 2)[1:]),
    lambda lib, z: lib.view_as_complex(lib.arange(2.0)), lambda lib, z: lib.complex(z.real, z.imag),
    lambda lib, z: lib.complex(lib.ones(2, 1, dtype=lib.float64), lib.arange(3.0, dtype=lib.float64)),
    lambda lib, z: lib.polar(z.abs(), z.angle()), lambda lib, z: lib.polar(lib.tensor([2.0]), lib.tensor([-0.5])),
    lambda lib, z: lib.angle(lib.tensor([-1.0, float("nan"), 0.0, -0.0, 2.0])), lambda lib, z: lib.angle(lib.arange(-2, 2)),
    lambda lib, z: lib.ones(2).real, lambda lib, z: lib.ones(2).conj(), lambda lib, z: z.is_complex(),
    lambda lib, z: lib.is_complex(z.real), lambda lib, z: z.is_floating_point(), lambda lib, z: z.real.is_contiguous(),
    lambda lib, z: z.real.stride(), lambda lib, z: z.imag.stride(), lambda lib, z: z.sgn(), lambda lib, z: lib.sgn(z),
    lambda lib, z: lib.tensor([1j], requires_grad=True).real, lambda lib, z: lib.tensor([1j], requires_grad=True).imag,
    lambda lib, z: lib.view_as_real(lib.tensor([1j], requires_grad=True)), lambda lib, z: lib.tensor([1j], requires_grad=True) * 2,
    lambda lib, z: lib.complex(lib.ones(1, requires_grad=True), lib.ones(1)),
    lambda lib, z: lib.polar(lib.ones(1, requires_grad=True), lib.ones(1)),
    lambda lib, z: lib.tensor([1j], requires_grad=True).conj() * 1, lambda lib, z: lib.tensor([1j], requires_grad=True).angle(),
    lambda lib, z: lib.tensor([1j], requires_grad=True).abs(),
], ids=lambda f: "")
def test_parts(expr):
    both(lambda lib: expr(lib, lib.tensor(Z)))


def test_real_and_imag_are_views():
    for lib in (LIB, torch):
        z = lib.tensor(Z)
        z.real[0, 0] = 10.0
        z.imag[1, 1] = -7.0
        assert z[0, 0].item() == 10 + 2j and z[1, 1].item() == -7j
        w = lib.view_as_real(z)
        w[0, 1, 1] = 9.0
        assert z[0, 1].item() == 3 + 9j
        wt = lib.view_as_real(z.T)   # any layout is viewed, not copied
        wt[2, 1, 0] = -5.0
        assert z[1, 2].item() == -5 + 0.25j and wt.stride() == (2, 6, 1)


@pytest.mark.parametrize("expr", [
    lambda lib, z: z.to(lib.complex128), lambda lib, z: z.cdouble(), lambda lib, z: z.real.cfloat(),
    lambda lib, z: lib.arange(3).to(lib.cfloat), lambda lib, z: z.to(lib.float64), lambda lib, z: z.long(),
    lambda lib, z: z.type(lib.complex128), lambda lib, z: lib.ones(2, dtype=lib.float64).to(z),
], ids=lambda f: "")
def test_conversions(expr):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # casting complex to real warns in both libraries
        both(lambda lib: expr(lib, lib.tensor(Z)))


def test_casting_to_real_warns():
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        LIB.tensor(Z).float()


# -- printing ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor(Z), lambda lib: lib.tensor(1.5 - 2j), lambda lib: lib.tensor([1j], dtype=lib.complex128),
    lambda lib: lib.zeros(2, 3, dtype=lib.cfloat), lambda lib: lib.tensor([float("nan") + 1j, float("inf") * 1j]),
    lambda lib: lib.arange(12.0).reshape(3, 4) * (1 + 1j), lambda lib: lib.tensor(Z) * 1e5,
    lambda lib: lib.tensor(Z) * 1e-5, lambda lib: lib.tensor(Z) / lib.tensor(Z),
    lambda lib: lib.arange(2000.0).reshape(2, 1000) * (1 - 0.5j), lambda lib: lib.tensor([[[1 + 1j]]]),
    lambda lib: lib.tensor(Z, requires_grad=True), lambda lib: lib.tensor([], dtype=lib.cfloat),
    # with the graph node's name
    lambda lib: lib.tensor(Z, requires_grad=True).real, lambda lib: lib.tensor(Z, requires_grad=True).imag,
    lambda lib: lib.view_as_real(lib.tensor(Z, requires_grad=True)), lambda lib: lib.tensor(Z, requires_grad=True).conj(),
    lambda lib: lib.tensor(Z, requires_grad=True).angle(), lambda lib: lib.tensor(Z, requires_grad=True).abs(),
    lambda lib: lib.complex(lib.ones(2, requires_grad=True), lib.zeros(2)),
    lambda lib: lib.polar(lib.ones(2, requires_grad=True), lib.zeros(2)),
    lambda lib: lib.view_as_complex(lib.ones(2, 2, requires_grad=True)),
], ids=lambda f: "")
def test_repr_matches_torch(make):
    assert repr(make(LIB)) == repr(make(torch))


# -- errors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    lambda lib, z: z < z, lambda lib, z: z <= 1, lambda lib, z: z > 0, lambda lib, z: z >= z,
    lambda lib, z: lib.ones(2) < 1j,
    lambda lib, z: z.max(), lambda lib, z: z.min(), lambda lib, z: z.max(0), lambda lib, z: z.min(dim=1),
    lambda lib, z: lib.maximum(z, z), lambda lib, z: lib.minimum(z, z), lambda lib, z: lib.relu(z),
    lambda lib, z: z.clamp(0, 1), lambda lib, z: z.clamp(min=0), lambda lib, z: z.argmax(), lambda lib, z: z.argmin(0),
    lambda lib, z: z.sign(),
    lambda lib, z: lib.ones(2).imag, lambda lib, z: lib.view_as_real(lib.ones(2)),
    lambda lib, z: lib.view_as_complex(lib.ones(2, 3)), lambda lib, z: lib.view_as_complex(lib.ones(2, 2, dtype=lib.long)),
    lambda lib, z: lib.view_as_complex(lib.ones(2, 4)[:, ::2]), lambda lib, z: lib.view_as_complex(lib.ones(())),
    lambda lib, z: lib.complex(lib.ones(2), lib.ones(2, dtype=lib.float64)),
    lambda lib, z: lib.complex(lib.ones(2, dtype=lib.long), lib.ones(2, dtype=lib.long)),
    lambda lib, z: lib.complex(lib.ones(2, 3), lib.ones(4)),
    lambda lib, z: lib.polar(lib.ones(2), lib.ones(2, dtype=lib.float64)),
    lambda lib, z: lib.complex(1.0, lib.ones(1)), lambda lib, z: lib.complex(lib.ones(1), 2),
    lambda lib, z: lib.polar(1.0, lib.ones(1)),
    lambda lib, z: z @ lib.ones(3, 2),
], ids=lambda f: "")
def test_errors_match_torch(bad):
    """The same exception type and the same message."""
    mine, theirs = assert_same_exception(lambda: bad(LIB, LIB.tensor(Z)), lambda: bad(torch, torch.tensor(Z)))
    assert str(mine) == str(theirs)


# -- gradients with complex leaves ------------------------------------------------------------------------

def _leaves(lib, seed, dtype="complex128"):
    rng = np.random.default_rng(seed)
    arrays = [(rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))).astype(dtype) for _ in range(2)]
    return [lib.tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("loss", [
    lambda lib, z, w: (z * w).abs().sum(),
    lambda lib, z, w: (z / w).real.sum(),
    lambda lib, z, w: (z @ w).imag.sum(),
    lambda lib, z, w: (z.conj() * w).real.sum() + z.angle().sum(),
    lambda lib, z, w: lib.view_as_real(z * 2.5 - w).pow(2).sum(),
    lambda lib, z, w: ((z + 1j) * (w - 2)).abs().mean(),
    lambda lib, z, w: (z.sum(0) @ w).real.sum() + (w.mean() * 1j).imag,
    lambda lib, z, w: lib.complex(z.real, w.imag).abs().sum(),
    lambda lib, z, w: lib.polar(z.abs(), w.angle()).real.sum(),
    lambda lib, z, w: (z.real * w).imag.sum() + (w / z.imag).real.sum(),
    lambda lib, z, w: (z.T @ w.conj()).abs().pow(2).sum(),
    lambda lib, z, w: (z * lib.arange(3.0, dtype=lib.float64) + w).abs().sum(),
    lambda lib, z, w: (z.sgn() * w).real.sum(),
], ids=lambda f: "")
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_leaf_gradients_match_torch(loss, dtype):
    got, want = [], []
    for lib, out in ((LIB, got), (torch, want)):
        z, w = _leaves(lib, 7, dtype)
        loss(lib, z, w).backward()
        out += [z.grad.resolve_conj(), w.grad.resolve_conj()]
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "complex64" else dict(rtol=1e-10, atol=1e-12)
    assert_same(got, want, name="grad", **tol)


def test_real_leaf_through_complex_gets_a_real_gradient():
    for lib in (LIB, torch):
        x = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        (x * (1 + 2j)).abs().sum().backward()
        assert repr(x.grad.dtype) == "torch.float32"
    both(lambda lib: _real_leaf_grad(lib))


def _real_leaf_grad(lib):
    x = lib.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=lib.float64, requires_grad=True)
    z = x.to(lib.complex128) @ lib.tensor([[1j, 2], [1 - 1j, 0.5j]], dtype=lib.complex128)
    (z.real * z.imag).sum().backward()
    return x.grad


def test_ops_without_complex_gradients_refuse_instead_of_being_wrong():
    z = LIB.tensor([1 + 1j], requires_grad=True)
    with pytest.raises(NotImplementedError, match="gradient of exp for complex"):
        z.exp()
    with pytest.raises(NotImplementedError, match="gradient of pow for complex"):
        (z ** 2).abs().sum().backward()
    with LIB.no_grad():
        assert_same(z.exp(), torch.tensor([1 + 1j]).exp())


# -- save / load -------------------------------------------------------------------------------------------

def test_save_load_round_trip_and_with_torch():
    z = LIB.tensor(Z)
    buf = io.BytesIO()
    LIB.save({"z": z, "zd": z.cdouble(), "dtype": LIB.cfloat, "re": z.real}, buf)
    for loader in (LIB.load, torch.load):
        buf.seek(0)
        back = loader(buf)
        assert_same(back["z"], torch.tensor(Z)) if loader is torch.load else assert_same(back["z"], LIB.tensor(Z))
        assert repr(back["dtype"]) == "torch.complex64" and repr(back["zd"].dtype) == "torch.complex128"
        assert back["re"].tolist() == torch.tensor(Z).real.tolist()


@pytest.mark.parametrize("view", [lambda t: t.conj(), lambda t: t.conj().imag, lambda t: {"c": t.conj(), "t": t}],
                         ids=["conj", "negative_imag", "conj_and_plain"])
def test_load_torch_conjugate_and_negative_views(view):
    """torch saves a lazily conjugated / negated view as the plain storage plus a bit in its metadata."""
    t = torch.tensor(Z)
    buf = io.BytesIO()
    torch.save(view(t), buf)
    buf.seek(0)
    got = LIB.load(buf)
    want = view(t)
    if isinstance(want, dict):
        got, want = [got["c"], got["t"]], [want["c"], want["t"]]
    assert_same(got, [w.resolve_conj().resolve_neg() for w in want] if isinstance(want, list) else
                want.resolve_conj().resolve_neg())


@pytest.mark.filterwarnings("error")   # the real part is taken, not left to a warning cast
def test_real_intermediate_gets_a_real_gradient():
    seen = []
    for lib in (LIB, torch):
        x = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        y = x * 3.0
        y.register_hook(lambda g: seen.append(repr(g.dtype)))
        for z in (y.to(lib.complex128) * (1 - 2j), lib.complex(y, x), lib.polar(y.abs(), x), y * lib.tensor([1j, 2])):
            z.abs().sum().backward(retain_graph=True)
    assert seen == ["torch.float64"] * 8


@pytest.mark.parametrize("loss", [
    lambda lib, z, w: (z * w).abs().sum(),
    lambda lib, z, w: (z.angle() * w.abs()).sum(),
    lambda lib, z, w: lib.polar(z.abs(), w.angle()).imag.sum(),
    lambda lib, z, w: (z / w).abs().sum() + (z @ w.conj()).real.sum(),
], ids=["abs", "angle", "polar", "div_matmul"])
def test_second_derivatives_match_torch(loss):
    """Backward formulas of the complex ops are recorded ops: double backward agrees with torch."""
    got, want = [], []
    for lib, out in ((LIB, got), (torch, want)):
        z, w = _leaves(lib, 11)
        gz, gw = lib.autograd.grad(loss(lib, z, w), (z, w), create_graph=True)
        ((gz * gz.conj()).real.sum() + gw.abs().sum()).backward()
        out += [z.grad.resolve_conj(), w.grad.resolve_conj()]
    assert_same(got, want, rtol=1e-9, atol=1e-11, name="second derivative")


def test_large_complex_matmul_through_the_threaded_route():
    """Big products are split between ember's threads (ember/backend/threads.py): complex operands too."""
    rng = np.random.default_rng(2)
    a, b = ((rng.standard_normal((300, 260)) + 1j * rng.standard_normal((300, 260))).astype(np.complex64),
            (rng.standard_normal((260, 280)) + 1j * rng.standard_normal((260, 280))).astype(np.complex64))
    old = LIB.get_num_threads()
    LIB.set_num_threads(2)
    try:
        got = LIB.tensor(a) @ LIB.tensor(b)
    finally:
        LIB.set_num_threads(old)
    assert_same(got, torch.tensor(a) @ torch.tensor(b), rtol=1e-4, atol=1e-4)


# the ops whose backward is linear in the gradient or conjugates its operands: complex leaves, real losses
_A = np.random.default_rng(0).standard_normal((3, 4)) + 1j * np.random.default_rng(1).standard_normal((3, 4))
_B = np.random.default_rng(2).standard_normal((4, 2)) + 1j * np.random.default_rng(3).standard_normal((4, 2))
MORE_LOSSES = {
    "cumsum": lambda lib, z, w: z.cumsum(1).abs().sum(), "var": lambda lib, z, w: z.var() + w.std(1).sum(),
    "norm": lambda lib, z, w: z.norm() + lib.linalg.vector_norm(w), "dist": lambda lib, z, w: lib.dist(z, z * 2),
    "einsum": lambda lib, z, w: lib.einsum("ij,jk->ik", z, w).abs().sum(),
    "linear": lambda lib, z, w: lib.nn.functional.linear(z, w.T, w[0]).abs().sum(),
    "vdot_dot": lambda lib, z, w: lib.vdot(z[0], w[:, 0]).abs() + lib.dot(z[1], w[:, 1]).real,
    "mv_outer": lambda lib, z, w: lib.mv(z, w[:, 0]).abs().sum() + lib.outer(z[0], w[0]).imag.sum(),
    "addmm_bmm": lambda lib, z, w: lib.addmm(z[:, :2], z, w).abs().sum() + lib.bmm(z[None], w[None]).real.sum(),
    "batched_matmul": lambda lib, z, w: (z[None].expand(2, 3, 4) @ w).abs().sum(),
    "indexing": lambda lib, z, w: z[[0, 2], 1:].abs().sum() + z.gather(1, lib.tensor([[0], [1], [3]])).real.sum()
    + z.index_select(1, lib.tensor([0, 0, 2])).imag.sum() + z.take(lib.tensor([0, 5])).abs().sum(),
    "masked_where": lambda lib, z, w: z.masked_fill(z.real > 0, 0).abs().sum() + lib.where(z.real > 0, z, z * 1j).imag.sum(),
    "shape": lambda lib, z, w: (lib.cat([z, z * 2]).abs().sum() + lib.stack([z, z]).real.sum() + (z.flip(0) * z.roll(1, 1)).abs().sum()
                                + z.reshape(4, 3).T.imag.sum() + z.repeat(2, 1).abs().sum() + z.split(2, 1)[1].abs().sum()),
    "diagonal_tril": lambda lib, z, w: z[:, :3].diagonal().abs().sum() + z[:, :3].trace().abs() + z.tril().abs().sum(),
    "pad_lerp": lambda lib, z, w: lib.nn.functional.pad(z, (1, 1)).abs().sum() + lib.lerp(z, z * 1j, 0.3).abs().sum(),
    "scatter_setitem": lambda lib, z, w: lib.zeros(3, 5, dtype=z.dtype).scatter_add(1, lib.tensor([[0, 1, 2, 3]] * 3), z).abs().sum()
    + _setitem(z).abs().sum(),
    "sgn_rdiv": lambda lib, z, w: (z.sgn() * z).abs().sum() + (2j / z).abs().sum() + (1 - z).real.sum(),
}


def _setitem(z):
    y = z.clone()
    y[0] = z[1] * 2
    return y


@pytest.mark.parametrize("loss", MORE_LOSSES, ids=str)
def test_more_complex_gradients_match_torch(loss):
    got, want = [], []
    for lib, out in ((LIB, got), (torch, want)):
        z, w = lib.tensor(_A, requires_grad=True), lib.tensor(_B, requires_grad=True)
        MORE_LOSSES[loss](lib, z, w).backward()
        out += [None if t.grad is None else t.grad.resolve_conj() for t in (z, w)]
    assert_same([g for g in got if g is not None], [g for g in want if g is not None], rtol=1e-9, atol=1e-11)
    assert [g is None for g in got] == [g is None for g in want]


def test_vdot_conjugates_its_first_argument():
    both(lambda lib: lib.vdot(lib.tensor([1 + 2j, 3 - 1j]), lib.tensor([2 - 1j, 1j])))


@pytest.mark.parametrize("op", [lambda z: z.prod(), lambda z: z.prod(1), lambda z: z.cumprod(0), lambda z: z.square()],
                         ids=["prod", "prod_dim", "cumprod", "square"])
def test_unported_backwards_refuse_complex(op):
    z = LIB.tensor(Z, requires_grad=True)
    with pytest.raises(NotImplementedError, match="for complex inputs"):
        op(z).abs().sum().backward()
