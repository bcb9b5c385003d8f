"""ember.linalg.eig / eigvals vs torch: values, eigenvectors, batches, dtypes, the named tuple, bad input, and
the gradient (PyTorch's linalg_eig_backward) on losses that do not depend on the eigenvectors' phases.

Each eigenvector is defined up to a phase e^{i phi}; LAPACK's geev scales it to norm 1 with its largest
component real, which leaves a sign that different LAPACK builds (NumPy's, PyTorch's) may choose
differently. So eigenvectors are compared after aligning each column's phase, besides the invariants
(A V = V diag(L), unit columns); eigenvalues, which are well defined, are compared exactly (in the same
order: both libraries run geev)."""
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import LIB, assert_same, assert_same_exception  # noqa: E402

TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-9, atol=1e-11),
       "complex64": dict(rtol=1e-4, atol=1e-5), "complex128": dict(rtol=1e-9, atol=1e-11)}


def matrices(shape, seed, dtype):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def aligned(v, ref):
    """v with each column turned by the phase that best matches ref's column."""
    phase = np.sum(np.conj(v) * ref, axis=-2, keepdims=True)
    return v * phase / np.abs(phase)


SHAPES = [(3, 3), (1, 1), (2, 4, 4), (2, 3, 5, 5)]


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_eig_matches_torch(shape, dtype):
    a = matrices(shape, 1, dtype)
    got, want = LIB.linalg.eig(LIB.tensor(a)), torch.linalg.eig(torch.tensor(a))
    tol = TOL[dtype]
    assert_same(got.eigenvalues, want.eigenvalues, name="eigenvalues", **tol)
    assert repr(got.eigenvectors.dtype) == repr(want.eigenvectors.dtype)
    v, vt = got.eigenvectors.numpy(), want.eigenvectors.numpy()
    np.testing.assert_allclose(aligned(v, vt), vt, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)
    # the invariants, whatever the phases
    w = got.eigenvalues.numpy()
    np.testing.assert_allclose(a @ v, v * w[..., None, :], atol=tol["atol"] * 100 * shape[-1])
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1, rtol=tol["rtol"] * 10)
    assert_same(LIB.linalg.eigvals(LIB.tensor(a)), torch.linalg.eigvals(torch.tensor(a)), name="eigvals", **tol)


def test_real_eigenvalues_of_a_real_matrix_are_still_complex():
    a = [[2.0, 1.0], [0.0, 3.0]]
    got, want = LIB.linalg.eig(LIB.tensor(a)), torch.linalg.eig(torch.tensor(a))
    assert repr(got) == repr(want)   # torch.return_types.linalg_eig(eigenvalues=..., eigenvectors=...)
    assert_same(tuple(got), tuple(want))
    assert type(got).__name__ == "linalg_eig" and got.eigenvalues is got[0] and got.eigenvectors is got[1]
    e, v = got
    assert repr(e.dtype) == "torch.complex64"


def test_rotation_has_conjugate_eigenvalues():
    c, s = np.cos(0.3), np.sin(0.3)
    a = [[c, -s], [s, c]]
    assert_same(LIB.linalg.eigvals(LIB.tensor(a, dtype=LIB.float64)),
                torch.linalg.eigvals(torch.tensor(a, dtype=torch.float64)))


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0)], ids=str)
def test_empty(shape):
    got, want = LIB.linalg.eig(LIB.zeros(shape)), torch.linalg.eig(torch.zeros(shape))
    assert repr(got) == repr(want)


@pytest.mark.parametrize("bad", [
    lambda lib: lib.linalg.eig(lib.ones(2, 3)),
    lambda lib: lib.linalg.eigvals(lib.ones(3, 2)),
    lambda lib: lib.linalg.eig(lib.ones(3)),
    lambda lib: lib.linalg.eig(lib.ones(2, 2, dtype=lib.long)),
    lambda lib: lib.linalg.eig(lib.tensor([[float("nan"), 1.0], [0.0, 1.0]])),
    lambda lib: lib.linalg.eig(lib.tensor([[float("inf"), 1.0], [0.0, 1.0]])),
    lambda lib: lib.linalg.eigvals(lib.tensor([[float("inf"), 1.0], [0.0, 1.0]], requires_grad=True)),
], ids=["non_square", "non_square_eigvals", "vector", "integer", "nan", "inf", "inf_eigvals_with_grad"])
def test_bad_input_as_torch(bad):
    mine, theirs = assert_same_exception(lambda: bad(LIB), lambda: bad(torch))
    assert str(mine) == str(theirs)


def test_eigvals_without_grad_does_not_check_finiteness():
    """As in torch (which returns LAPACK's undefined answer): no error, NaN eigenvalues for that matrix only."""
    a = LIB.tensor([[[float("inf"), 1.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 3.0]]])
    w = LIB.linalg.eigvals(a)
    assert w.dtype is LIB.complex64 and np.isnan(w[0].numpy()).all()
    assert_same(w[1], torch.linalg.eigvals(torch.tensor([[2.0, 0.0], [0.0, 3.0]])))
# -- gradients ------------------------------------------------------------------------------------------

def _weights(lib, n):
    return lib.arange(1.0, n * n + 1, dtype=lib.float64).reshape(n, n) / (n * n)


# losses that do not change when an eigenvector is multiplied by e^{i phi}
LOSSES = {
    "abs_eigenvalues": lambda lib, r: r.eigenvalues.abs().sum(),
    "weighted_real_eigenvalues": lambda lib, r: (r.eigenvalues.real * lib.arange(r.eigenvalues.shape[-1])).sum(),
    "imag_eigenvalues_squared": lambda lib, r: (r.eigenvalues.imag * r.eigenvalues.imag).sum(),
    "eigenvector_moduli": lambda lib, r: (r.eigenvectors.abs() * _weights(lib, r.eigenvectors.shape[-1])).sum(),
    "both": lambda lib, r: (r.eigenvectors.abs()[..., 0, :] * r.eigenvalues.real).sum() + r.eigenvalues.imag.abs().sum(),
    "phase_free_product": lambda lib, r: (r.eigenvectors[..., 0, :] * r.eigenvectors[..., 1, :].conj()).abs().sum(),
    "eigvals": lambda lib, r: (lib.linalg.eigvals(r.a) * (1 + 2j)).real.sum(),
}


@pytest.mark.parametrize("loss", LOSSES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)], ids=str)
def test_gradient_matches_torch(loss, dtype, shape):
    a = matrices(shape, 5, dtype)
    grads = []
    for lib in (LIB, torch):
        x = lib.tensor(a, requires_grad=True)
        LOSSES[loss](lib, _Result(lib.linalg.eig(x), x)).backward()
        grads.append(x.grad)
    assert repr(grads[0].dtype) == repr(grads[1].dtype)   # a real input gets a real gradient
    assert_same(grads[0], grads[1], rtol=1e-8, atol=1e-10, name=loss)


class _Result:
    def __init__(self, r, a):
        self.eigenvalues, self.eigenvectors, self.a = r.eigenvalues, r.eigenvectors, a


def test_gradient_float32():
    a = matrices((3, 3), 8, "float32")
    grads = []
    for lib in (LIB, torch):
        x = lib.tensor(a, requires_grad=True)
        lib.linalg.eig(x).eigenvalues.abs().sum().backward()
        grads.append(x.grad)
    assert_same(grads[0], grads[1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("loss", ["abs_eigenvalues", "eigenvector_moduli", "both"])
def test_gradient_matches_finite_differences(loss):
    """The analytic gradient of a real input against central differences (float64)."""
    a = matrices((3, 3), 9, "float64")

    def f(m):
        return float(LOSSES[loss](LIB, _Result(LIB.linalg.eig(LIB.tensor(m)), None)))

    x = LIB.tensor(a, requires_grad=True)
    LOSSES[loss](LIB, _Result(LIB.linalg.eig(x), x)).backward()
    numeric = np.zeros_like(a)
    eps = 1e-6
    for idx in np.ndindex(a.shape):
        p, m = a.copy(), a.copy()
        p[idx] += eps
        m[idx] -= eps
        numeric[idx] = (f(p) - f(m)) / (2 * eps)
    np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_phase_dependent_loss_is_refused_as_in_torch():
    a = matrices((3, 3), 3, "complex128")

    def run(lib):
        x = lib.tensor(a, requires_grad=True)
        lib.linalg.eig(x).eigenvectors.real.sum().backward()
    mine, theirs = assert_same_exception(lambda: run(LIB), lambda: run(torch))
    assert str(mine) == str(theirs)


def test_graph_node():
    x = LIB.tensor(matrices((3, 3), 2, "float64"), requires_grad=True)
    r = LIB.linalg.eig(x)
    assert r.eigenvalues.grad_fn is not None and r.eigenvectors.requires_grad
    assert LIB.linalg.eig(x.detach()).eigenvalues.grad_fn is None
    node = r.eigenvalues.grad_fn
    while node.name() != "LinalgEigBackward0":   # the outputs are views of the packed result
        node = node.next_functions[0][0]


def test_gradient_reaching_a_real_intermediate_is_real():
    """A real input's gradient is the real part (PyTorch's handle_r_to_c) already inside the graph, not only
    once it is stored in .grad: a hook on a real intermediate sees a real tensor."""
    a = matrices((3, 3), 4, "float64")
    seen = []
    for lib in (LIB, torch):
        x = lib.tensor(a, requires_grad=True)
        y = x * 2.0
        y.register_hook(lambda g: seen.append(repr(g.dtype)))
        lib.linalg.eig(y).eigenvalues.abs().sum().backward()
    assert seen == ["torch.float64", "torch.float64"]


@pytest.mark.parametrize("loss", ["abs_eigenvalues", "eigenvector_moduli", "both"])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_second_derivative_matches_torch(loss, dtype):
    """The backward is written with recorded ops: the gradient of a function of the gradient (double
    backward, as in a Hessian-vector product) agrees with torch's."""
    a = matrices((3, 3), 12, dtype)
    grads = []
    for lib in (LIB, torch):
        x = lib.tensor(a, requires_grad=True)
        (g,) = lib.autograd.grad(LOSSES[loss](lib, _Result(lib.linalg.eig(x), x)), x, create_graph=True)
        weights = lib.arange(9, dtype=lib.float64).reshape(3, 3)
        ((g.abs() if dtype == "complex128" else g) * weights).sum().backward()
        grads.append(x.grad.resolve_conj())
    assert_same(grads[0], grads[1], rtol=1e-8, atol=1e-10)
