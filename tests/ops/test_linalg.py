"""ember.linalg and the matrix functions of the torch namespace vs torch: values, gradients (against torch and,
in float64, against finite differences), shapes of batched and broadcast inputs, and bad input.

Decompositions whose outputs are defined up to signs (eigenvectors, singular vectors) are compared through
quantities that do not depend on the signs (U diag(S) Vh, V diag(w) V^T, squares, U @ Vh)."""
import math
import pathlib
import sys
import warnings

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import (LIB, LIB_NAME, assert_same, assert_same_exception, check_grad,  # noqa: E402
                           finite_difference_check, to_lib, to_numpy)

TOL64 = dict(rtol=1e-8, atol=1e-10)
TOL32 = dict(rtol=2e-4, atol=2e-5)


def la(lib):
    return lib.linalg


def general(shape, seed, dtype="float64"):
    """Well-conditioned square matrices: random plus n on the diagonal."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    return (rng.standard_normal(shape) + n * np.eye(n)).astype(dtype)


def spd(shape, seed, dtype="float64"):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    return (x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def rect(shape, seed, dtype="float64"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def sym(lib, a):
    """Symmetric inputs for eigh/cholesky that still carry a gradient to every element of a."""
    return (a + a.transpose(-2, -1)) / 2


# (name, fn(lib, *tensors), arrays(dtype), grad mask, finite-difference check)
CASES = [
    ("det", lambda lib, a: la(lib).det(a), lambda dt: [general((3, 3), 0, dt)], [True], True),
    ("det batched", lambda lib, a: la(lib).det(a), lambda dt: [general((2, 4, 4), 1, dt)], [True], True),
    ("torch.det", lambda lib, a: lib.det(a), lambda dt: [general((3, 3), 2, dt)], [True], True),
    ("slogdet", lambda lib, a: tuple(la(lib).slogdet(a)), lambda dt: [general((2, 3, 3), 3, dt)], [True], True),
    ("inv", lambda lib, a: la(lib).inv(a), lambda dt: [general((2, 3, 3), 4, dt)], [True], True),
    ("inverse", lambda lib, a: lib.inverse(a), lambda dt: [general((3, 3), 5, dt)], [True], True),
    ("solve matrix", lambda lib, a, b: la(lib).solve(a, b), lambda dt: [general((3, 3), 6, dt), rect((3, 2), 7, dt)],
     [True, True], True),
    ("solve vector", lambda lib, a, b: la(lib).solve(a, b), lambda dt: [general((3, 3), 8, dt), rect((3,), 9, dt)],
     [True, True], True),
    ("solve broadcast", lambda lib, a, b: la(lib).solve(a, b),
     lambda dt: [general((2, 1, 3, 3), 10, dt), rect((4, 3, 2), 11, dt)], [True, True], True),
    ("solve left=False", lambda lib, a, b: la(lib).solve(a, b, left=False),
     lambda dt: [general((3, 3), 12, dt), rect((2, 3), 13, dt)], [True, True], True),
    ("cholesky", lambda lib, a: la(lib).cholesky(sym(lib, a)), lambda dt: [spd((2, 4, 4), 14, dt)], [True], True),
    ("cholesky upper", lambda lib, a: la(lib).cholesky(sym(lib, a), upper=True), lambda dt: [spd((3, 3), 15, dt)],
     [True], True),
    # straight on a leaf: torch's gradient formulas (symmetrised for cholesky, not for eigh) are matched exactly
    ("cholesky direct", lambda lib, a: la(lib).cholesky(a), lambda dt: [spd((2, 3, 3), 64, dt)], [True], False),
    ("eigh direct", lambda lib, a: _eigh_rebuild(lib, a) * 1.5 + la(lib).eigh(a)[0].sum(), lambda dt: [spd((3, 3), 65, dt)],
     [True], False),
    ("eigh values", lambda lib, a: la(lib).eigh(sym(lib, a))[0], lambda dt: [spd((2, 4, 4), 16, dt)], [True],
     True),
    ("eigh reconstruction", lambda lib, a: _eigh_rebuild(lib, sym(lib, a)), lambda dt: [rect((4, 4), 17, dt)],
     [True], True),
    ("eigh squares", lambda lib, a: la(lib).eigh(sym(lib, a))[1] ** 2, lambda dt: [rect((3, 3), 18, dt)], [True],
     True),
    ("eigvalsh", lambda lib, a: la(lib).eigvalsh(sym(lib, a)), lambda dt: [rect((3, 3), 19, dt)], [True], True),
    ("svd values", lambda lib, a: la(lib).svd(a, full_matrices=False)[1], lambda dt: [rect((2, 5, 3), 20, dt)],
     [True], True),
    ("svdvals", lambda lib, a: la(lib).svdvals(a), lambda dt: [rect((3, 5), 21, dt)], [True], True),
    ("svd U Vh tall", lambda lib, a: _svd_uv(lib, a), lambda dt: [rect((5, 3), 22, dt)], [True], True),
    ("svd U Vh wide", lambda lib, a: _svd_uv(lib, a), lambda dt: [rect((3, 5), 23, dt)], [True], True),
    ("svd squares", lambda lib, a: _svd_squares(lib, a), lambda dt: [rect((2, 4, 3), 24, dt)], [True], True),
    ("svd full_matrices reconstruction", lambda lib, a: _svd_full(lib, a), lambda dt: [rect((4, 3), 25, dt)], [True],
     True),
    ("torch.svd", lambda lib, a: _torch_svd(lib, a), lambda dt: [rect((4, 3), 26, dt)], [True], True),
    ("qr reduced", lambda lib, a: tuple(la(lib).qr(a)), lambda dt: [rect((5, 3), 27, dt)], [True], True),
    ("qr square batched", lambda lib, a: tuple(la(lib).qr(a)), lambda dt: [rect((2, 3, 3), 28, dt)], [True], True),
    ("qr r", lambda lib, a: la(lib).qr(a, mode="r")[1].abs(), lambda dt: [rect((4, 3), 29, dt)], [False], False),
    ("qr complete", lambda lib, a: tuple(la(lib).qr(a, mode="complete")), lambda dt: [rect((4, 3), 30, dt)],
     [False], False),
    ("pinv tall", lambda lib, a: la(lib).pinv(a), lambda dt: [rect((5, 3), 31, dt)], [True], True),
    ("pinv wide batched", lambda lib, a: la(lib).pinv(a), lambda dt: [rect((2, 3, 4), 32, dt)], [True], True),
    ("pinv hermitian", lambda lib, a: la(lib).pinv(sym(lib, a), hermitian=True), lambda dt: [spd((3, 3), 33, dt)],
     [True], True),
    ("pinverse", lambda lib, a: lib.pinverse(a), lambda dt: [rect((4, 3), 34, dt)], [True], True),
    ("lstsq", lambda lib, a, b: la(lib).lstsq(a, b).solution, lambda dt: [rect((5, 3), 35, dt), rect((5, 2), 36, dt)],
     [True, True], True),
    ("lstsq gelsd", lambda lib, a, b: tuple(la(lib).lstsq(a, b, driver="gelsd")),
     lambda dt: [rect((5, 3), 37, dt), rect((5, 2), 38, dt)], [True, True], False),
    ("lstsq gelsy fields", lambda lib, a, b: tuple(la(lib).lstsq(a, b)), lambda dt: [rect((5, 3), 37, dt),
                                                                                     rect((5, 2), 38, dt)],
     [False, False], False),
    ("matrix_rank", lambda lib, a: la(lib).matrix_rank(a), lambda dt: [rect((3, 5), 39, dt) * np.array([1, 1, 1, 0, 0])],
     [False], False),
    ("vector_norm", lambda lib, a: la(lib).vector_norm(a), lambda dt: [rect((3, 4), 40, dt)], [True], True),
    ("vector_norm ord 3 dim", lambda lib, a: la(lib).vector_norm(a, 3, dim=1, keepdim=True),
     lambda dt: [rect((3, 4), 41, dt)], [True], True),
    ("vector_norm inf", lambda lib, a: la(lib).vector_norm(a, float("inf"), dim=(0, 1)),
     lambda dt: [rect((2, 3, 4), 42, dt)], [True], True),
    ("vector_norm 0-d", lambda lib, a: la(lib).vector_norm(a), lambda dt: [np.array(-2.5, dt)], [True], True),
    *[(f"matrix_norm {o}", (lambda o: lambda lib, a: la(lib).matrix_norm(a, o))(o),
       lambda dt: [rect((2, 3, 4), 43, dt)], [True], True) for o in ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)],
    ("matrix_norm dims keepdim", lambda lib, a: la(lib).matrix_norm(a, 1, dim=(0, 2), keepdim=True),
     lambda dt: [rect((3, 2, 4), 44, dt)], [True], True),
    *[(f"norm {o} {d}", (lambda o, d: lambda lib, a: la(lib).norm(a, o, d))(o, d), lambda dt: [rect((3, 4), 45, dt)],
       [True], True) for o, d in ((None, None), (2, None), ("fro", None), ("nuc", None), (1, 0), (None, (0, 1)),
                                  (math.inf, 1))],
    ("norm 1-D ord", lambda lib, a: la(lib).norm(a, 3), lambda dt: [rect((5,), 46, dt)], [True], True),
    ("linalg.cross", lambda lib, a, b: la(lib).cross(a, b), lambda dt: [rect((4, 3), 47, dt), rect((4, 3), 48, dt)],
     [True, True], True),
    ("cross dim broadcast", lambda lib, a, b: lib.cross(a, b, dim=0),
     lambda dt: [rect((3, 4), 49, dt), rect((3, 1), 50, dt)], [True, True], True),
    ("trace", lambda lib, a: lib.trace(a), lambda dt: [rect((3, 4), 51, dt)], [True], True),
    ("Tensor.trace", lambda lib, a: a.trace(), lambda dt: [rect((4, 4), 52, dt)], [True], True),
    ("dist", lambda lib, a, b: lib.dist(a, b), lambda dt: [rect((3, 4), 53, dt), rect((4,), 54, dt)], [True, True],
     True),
    ("dist p=1", lambda lib, a, b: lib.dist(a, b, 1), lambda dt: [rect((3, 4), 55, dt), rect((3, 4), 56, dt)],
     [True, True], True),
    ("dist p=inf", lambda lib, a, b: lib.dist(a, b, math.inf), lambda dt: [rect((3, 4), 57, dt), rect((3, 4), 58, dt)],
     [True, True], True),
    ("Tensor.det inverse", lambda lib, a: (a.det(), a.inverse(), a.logdet()), lambda dt: [spd((3, 3), 59, dt)],
     [True], True),
]


def _eigh_rebuild(lib, a):
    w, v = la(lib).eigh(a)
    return v @ (w.unsqueeze(-1) * v.transpose(-2, -1))


def _svd_uv(lib, a):
    u, s, vh = la(lib).svd(a, full_matrices=False)
    return u @ vh, s


def _svd_squares(lib, a):
    u, s, vh = la(lib).svd(a, full_matrices=False)
    return u ** 2, vh ** 2


def _svd_full(lib, a):
    u, s, vh = la(lib).svd(a)
    k = s.shape[-1]
    # (the first k columns of U span A's column space; the others are arbitrary, and torch's gradient ignores them)
    return u[..., :k] @ (s.unsqueeze(-1) * vh[..., :k, :]), u[..., :k] @ u[..., :k].transpose(-2, -1), s


def _torch_svd(lib, a):
    u, s, v = lib.svd(a)
    return u @ v.transpose(-2, -1), s, u.abs()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_linalg_matches_torch(case, dtype):
    name, fn, arrays_of, grad_mask, _ = case
    tol = TOL64 if dtype == "float64" else TOL32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_grad(fn, arrays_of(dtype), grad_mask, name=name, **tol)


@pytest.mark.parametrize("case", [c for c in CASES if c[4]], ids=[c[0] for c in CASES if c[4]])
def test_linalg_gradients_by_finite_differences(case):
    name, fn, arrays_of, grad_mask, _ = case
    arrays = arrays_of("float64")
    if sum(a.size for a in arrays) > 40:
        arrays = [a[:1] if a.ndim > 2 else a for a in arrays]   # keep the element-by-element check short
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finite_difference_check(fn, arrays, grad_mask, eps=1e-6, rtol=1e-5, atol=1e-7, name=name)


@pytest.mark.parametrize("case", ["det", "inv", "solve", "cholesky", "eigh", "svd"])
def test_linalg_second_derivatives(case):
    """Every backward is written with recorded ops: the gradient of a gradient is right (finite differences)."""
    def fn(lib, a):
        aa = a if a.requires_grad else a.clone().requires_grad_(True)
        m = sym(lib, aa) if case in ("cholesky", "eigh") else aa
        out = {"det": lambda: la(lib).det(m), "inv": lambda: la(lib).inv(m).sum(),
               "solve": lambda: la(lib).solve(m, lib.ones(3, dtype=lib.float64)).sum(),
               "cholesky": lambda: la(lib).cholesky(m).sum(), "eigh": lambda: la(lib).eigvalsh(m).max(),
               "svd": lambda: la(lib).svdvals(m).sum()}[case]()
        (g,) = lib.autograd.grad(out, aa, create_graph=True)
        return g
    a = spd((3, 3), 60) if case in ("cholesky", "eigh") else general((3, 3), 60)
    finite_difference_check(fn, [a], [True], eps=1e-6, rtol=1e-5, atol=1e-7, name=f"{case} second derivative")


def test_return_types_and_fields():
    a = LIB.tensor(rect((4, 3), 61))
    r = LIB.linalg.svd(a)
    assert r.U is r[0] and r.S is r[1] and r.Vh is r[2] and len(r) == 3
    assert repr(r).startswith("torch.return_types.linalg_svd(\nU=")
    assert LIB.linalg.eigh(LIB.tensor(spd((3, 3), 62))).eigenvalues.shape == (3,)
    q, rr = LIB.linalg.qr(a)
    assert q.shape == (4, 3) and rr.shape == (3, 3)
    u, s, v = LIB.svd(a, compute_uv=False)
    assert (to_numpy(u) == 0).all() and tuple(v.shape) == (3, 3)
    lst = LIB.linalg.lstsq(a, LIB.tensor(rect((4, 2), 63)))
    assert lst.rank.dtype == LIB.int64 and int(lst.rank) == 3
    assert issubclass(LIB.linalg.LinAlgError, RuntimeError)


def test_constants_and_default_tensor_type():
    assert (LIB.pi, LIB.e, LIB.inf) == (torch.pi, torch.e, torch.inf) and math.isnan(LIB.nan)
    before = LIB.get_default_dtype()
    try:
        with warnings.catch_warnings(record=True) as caught:   # torch warns once per process
            warnings.simplefilter("always")
            LIB.set_default_tensor_type(LIB.DoubleTensor)
        assert LIB_NAME != "ember" or "deprecated" in str(caught[0].message)
        assert LIB.get_default_dtype() == LIB.float64 and LIB.zeros(2).dtype == LIB.float64
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            LIB.set_default_tensor_type("torch.FloatTensor")
        assert LIB.get_default_dtype() == LIB.float32
        with pytest.raises(TypeError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            LIB.set_default_tensor_type(LIB.LongTensor)
    finally:
        LIB.set_default_dtype(before)


@pytest.mark.parametrize("indexing", ["ij", "xy", None])
@pytest.mark.parametrize("sizes", [(3, 2), (4,), (2, 3, 4), (1, 0, 2)])
def test_meshgrid(sizes, indexing):
    arrays = [rect((s,), i) for i, s in enumerate(sizes)]
    kw = {} if indexing is None else {"indexing": indexing}

    def fn(lib, *ts):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tuple(g * (i + 1) for i, g in enumerate(lib.meshgrid(*ts, **kw)))
    check_grad(fn, arrays, [True] * len(arrays), name="meshgrid")

    def fn_list(lib, *ts):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.meshgrid(list(ts), **kw)
    check_grad(fn_list, arrays, [False] * len(arrays), name="meshgrid list")


def test_meshgrid_warns_once_without_indexing_like_torch():
    """PyTorch warns once per process (TORCH_WARN_ONCE), so only ember's warning can be caught here."""
    if LIB_NAME != "ember":
        pytest.skip("torch's warning may have been given already")
    import ember.ops.tensor_math as tm
    tm._warned_meshgrid = False
    with pytest.warns(UserWarning, match="indexing argument"):
        LIB.meshgrid(LIB.arange(2), LIB.arange(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LIB.meshgrid(LIB.arange(2), LIB.arange(3))


BAD = {
    "det of long": (lambda lib: la(lib).det(lib.zeros(3, 3, dtype=lib.int64)), ["floating point", "Long"]),
    "inv not square": (lambda lib: la(lib).inv(lib.zeros(2, 3)), ["square", "2 by 3"]),
    "inv singular": (lambda lib: la(lib).inv(lib.zeros(3, 3)), ["singular"]),
    "inv 1-D": (lambda lib: la(lib).inv(lib.zeros(3)), ["at least 2 dimensions"]),
    "solve singular": (lambda lib: la(lib).solve(lib.zeros(3, 3), lib.ones(3)), ["singular"]),
    "solve shapes": (lambda lib: la(lib).solve(lib.eye(3), lib.ones(4, 2)), []),
    "solve dtypes": (lambda lib: la(lib).solve(lib.eye(3), lib.ones(3, 2, dtype=lib.float64)), ["dtype"]),
    "cholesky not pd": (lambda lib: la(lib).cholesky(-lib.eye(3)), ["positive-definite"]),
    "eigh uplo": (lambda lib: la(lib).eigh(lib.eye(3), UPLO="X"), ["UPLO"]),
    "qr mode": (lambda lib: la(lib).qr(lib.eye(3), mode="full"), ["mode"]),
    "cross length": (lambda lib: la(lib).cross(lib.ones(4, 2), lib.ones(4, 2)), ["length 3"]),
    "trace 3-D": (lambda lib: lib.trace(lib.ones(2, 2, 2)), []),
    "matrix_norm ord": (lambda lib: la(lib).matrix_norm(lib.ones(2, 2), 3), ["3"]),
    "matrix_norm 1-D": (lambda lib: la(lib).matrix_norm(lib.ones(2)), ["2 dimensions"]),
    "norm 3-D with ord": (lambda lib: la(lib).norm(lib.ones(2, 2, 2), 2), ["1D or 2D"]),
    "meshgrid indexing": (lambda lib: lib.meshgrid(lib.ones(2), indexing="yx"), ["indexing"]),
    "meshgrid 2-D": (lambda lib: lib.meshgrid(lib.ones(2, 2), indexing="ij"), ["1D"]),
    "qr backward of complete": (lambda lib: la(lib).qr(lib.ones(4, 2, requires_grad=True), mode="complete")[0]
                                .sum().backward(), []),
}


@pytest.mark.parametrize("case", list(BAD))
def test_linalg_bad_input(case):
    fn, words = BAD[case]
    assert_same_exception(lambda: fn(LIB), lambda: fn(torch), contains=words, name=case)
