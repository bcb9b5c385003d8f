"""Matrix functions and decompositions (torch.linalg): det, inv, solve, cholesky, eigh, svd, qr, and the
ones composed of them (pinv, lstsq, matrix norms). Each op's forward (NumPy's LAPACK) and backward sit side
by side; every backward is written with recorded ops, so second derivatives work.

Decompositions with several outputs (eigh: eigenvalues and eigenvectors; svd: U, S, Vh; qr: Q, R) are one
op whose result packs the outputs into one flat array; the outputs are views of it. A gradient reaching
any of them reaches the op as one packed gradient (zeros where an output was not used), from which its
backward reads the parts. Formulas are PyTorch's (FunctionsManual.cpp) for real inputs; like PyTorch's,
the eigenvector and singular-vector gradients assume distinct eigenvalues / singular values.

eig (a general square matrix) has complex results for any input, and its backward works in PyTorch's
complex convention (ember/ops/complex.py); it is the one op here that takes complex input (with solve's
backward, which eig's calls). The others refuse complex matrices (`_check_float`).
"""
import numpy as np

from ember.autograd.function import Function
from ember.backend import dtypes as _dt
from ember.tensor import Tensor


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a matrix the operation cannot handle (singular, not positive-definite)."""


LinAlgError.__module__ = "ember.linalg"


def _named(name, fields):
    """A tuple type printing as torch.return_types.<name>, with its fields as attributes."""
    def __new__(cls, *values):
        return tuple.__new__(cls, values)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    attrs = {"__new__": __new__, "__repr__": __repr__, "_fields": fields, "__module__": "torch.return_types"}
    for i, f in enumerate(fields):
        attrs[f] = property(lambda self, i=i: self[i])
    return type(name, (tuple,), attrs)


# -- checks --------------------------------------------------------------------------------------

def _check_float(a, fname):
    if a.dtype.is_complex:
        raise NotImplementedError(f"{fname}: ember supports complex matrices only in linalg.eig and "
                                  f"linalg.eigvals (got {_dt.type_word(a.dtype)})")
    if not a.dtype.is_floating_point:
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{_dt.type_word(a.dtype)}")


def _check_matrix(a, fname, name="A"):
    if a.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor {name} must have at least 2 dimensions.")


def _check_square(a, fname, name="A"):
    _check_matrix(a, fname, name)
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{fname}: {name} must be batches of square matrices, but they are {a.shape[-2]} by "
                           f"{a.shape[-1]} matrices")


def _check(a, fname, square=True):
    (_check_square if square else _check_matrix)(a, fname)
    _check_float(a, fname)


# -- helpers on Tensors (recorded, so backward formulas stay differentiable) ------------------------

def _mT(t):
    return t.transpose(-2, -1)


def _mH(t):
    """The conjugate transpose (the transpose of a real matrix)."""
    from ember.ops.complex import conj
    return conj(_mT(t))


def _mm(a, b):
    from ember.ops.linalg import matmul
    return matmul(a, b)


def _diag_embed(v):
    n = v.shape[-1]
    return v.unsqueeze(-1) * Tensor._make(np.eye(n, dtype=v._data.dtype))


def _tril(t, k=0):
    mask = np.tril(np.ones(t.shape[-2:], np.bool_), k)
    return t * Tensor._make(mask.astype(t._data.dtype))


def _sum_to(t, shape):
    from ember.ops.elementwise import sum_to
    return sum_to(t, tuple(shape))


def _unpack(packed, shapes):
    """Views of a packed result: one Tensor per shape, in order."""
    out, start = [], 0
    for shape in shapes:
        n = int(np.prod(shape, dtype=np.int64))
        out.append(packed[start:start + n].reshape(shape))
        start += n
    return out


def _pack(arrays, dtype):
    return np.concatenate([np.asarray(a, dtype).reshape(-1) for a in arrays])


def _linalg_error(fname, e, what):
    raise LinAlgError(f"{fname}: {what}") from None


# -- det, slogdet, inv, solve ---------------------------------------------------------------------

class Det(Function):
    save = (0,)
    save_output = True

    @classmethod
    def _node_name(cls):
        return "LinalgDetBackward0"

    def forward(self, a):
        return np.asarray(np.linalg.det(a), a.dtype)

    def backward(self, grad):
        (a,) = self.saved_tensors
        # d det(A) = det(A) tr(A^{-1} dA): gA = g det(A) A^{-T}
        return (grad * self.output).unsqueeze(-1).unsqueeze(-1) * _mT(inv(a))


def det(A):
    _check(A, "linalg.det")
    return Det.apply(A)


def slogdet(A):
    _check(A, "linalg.slogdet")
    from ember.ops.elementwise import abs as abs_, log, sign
    if A.requires_grad:   # through det: both outputs are recorded (the sign's gradient is zero), as in PyTorch
        d = det(A)
        return _SLOGDET(sign(d), log(abs_(d)))
    sign_a, logabs = np.linalg.slogdet(A._data)
    return _SLOGDET(Tensor._make(np.asarray(sign_a, A._data.dtype)), Tensor._make(np.asarray(logabs, A._data.dtype)))


_SLOGDET = _named("linalg_slogdet", ("sign", "logabsdet"))


class Inv(Function):
    save_output = True

    @classmethod
    def _node_name(cls):
        return "LinalgInvExBackward0"

    def forward(self, a):
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.inv: The diagonal element is zero, the inversion could not be completed "
                              "because the input matrix is singular.") from None

    def backward(self, grad):
        x = self.output
        return -_mm(_mT(x), _mm(grad, _mT(x)))


def inv(A):
    _check(A, "linalg.inv")
    return Inv.apply(A)


class Solve(Function):
    """X = A^{-1} B for B of shape (..., n, k)."""
    save = (0,)
    save_output = True

    @classmethod
    def _node_name(cls):
        return "LinalgSolveExBackward0"

    def forward(self, a, b):
        try:
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.solve: The solver failed because the input matrix is singular.") from None

    def backward(self, grad):
        (a,) = self.saved_tensors
        x = self.output
        gb = _solve(_mH(a), grad)
        ga = -_mm(gb, _mH(x)) if self.next[0] is not None else None
        return (None if ga is None else _sum_to(ga, a.shape),
                None if self.next[1] is None else _sum_to(gb, self.b_shape))


def solve(A, B, *, left=True):
    _check(A, "linalg.solve")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_dt.type_word(A.dtype)} and B of type {_dt.type_word(B.dtype)} instead")
    if not left:   # X A = B  <=>  A^T X^T = B^T
        return _mT(solve(_mT(A), _mT(B)))
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    b = B.unsqueeze(-1) if vector else B
    if b.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({A.shape[-2]}x{A.shape[-1]} and {b.shape[-2]}x{b.shape[-1]})")
    out = _solve(A, b)
    return out.squeeze(-1) if vector else out


def _solve(A, b):
    """A X = b for matrices b (real or complex: the backward formulas call it too), broadcast batches."""
    batch = np.broadcast_shapes(tuple(A.shape[:-2]), tuple(b.shape[:-2]))
    b_full = b.expand(*batch, *b.shape[-2:]) if tuple(b.shape[:-2]) != batch else b
    a_full = A.expand(*batch, *A.shape[-2:]) if tuple(A.shape[:-2]) != batch else A
    out = Solve.apply(a_full, b_full)
    if out.grad_fn is not None:
        out.grad_fn.b_shape = tuple(b_full.shape)
    return out


# -- cholesky -------------------------------------------------------------------------------------

class Cholesky(Function):
    save_output = True

    @classmethod
    def _node_name(cls):
        return "LinalgCholeskyExBackward0"

    def forward(self, a):
        try:
            return np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.cholesky: The factorization could not be completed because the input is not "
                              "positive-definite.") from None

    def backward(self, grad):
        # PyTorch's formula: P = Phi(L^T gL) (lower triangle, diagonal halved); gA = L^{-T} P L^{-1},
        # symmetrised
        low = self.output
        phi = _mm(_mT(low), _tril(grad))
        phi = _tril(phi) - 0.5 * _diag_embed(phi.diagonal(0, -2, -1))
        linv = inv(low)
        ga = _mm(_mT(linv), _mm(phi, linv))
        return 0.5 * (ga + _mT(ga))


def cholesky(A, *, upper=False):
    _check(A, "linalg.cholesky")
    low = Cholesky.apply(A)
    return _mT(low) if upper else low


# -- eigh -----------------------------------------------------------------------------------------

_EIGH = _named("linalg_eigh", ("eigenvalues", "eigenvectors"))


class Eigh(Function):
    """Packed (eigenvalues (..., n), eigenvectors (..., n, n))."""
    save_output = True

    @classmethod
    def _node_name(cls):
        return "LinalgEighBackward0"

    def forward(self, a, uplo):
        w, v = np.linalg.eigh(a, UPLO=uplo)
        self.shapes = (w.shape, v.shape)
        return _pack((w, v), a.dtype)

    def backward(self, grad):
        w, v = _unpack(self.output, self.shapes)
        gw, gv = _unpack(grad, self.shapes)
        # PyTorch's formula: gA = V (diag(gw) + skew(V^T gV) / E) V^T with skew(X) = (X - X^T) / 2 (V^T gV
        # projected on the tangent space of the orthogonal group) and E_ij = w_j - w_i off the diagonal
        diff = w.unsqueeze(-2) - w.unsqueeze(-1)
        n = w.shape[-1]
        eye = Tensor._make(np.eye(n, dtype=np.bool_))
        from ember.ops.elementwise import where
        vtgv = _mm(_mT(v), gv)
        inner = where(eye, 0.0, 0.5 * (vtgv - _mT(vtgv)) / where(eye, 1.0, diff))
        return _mm(v, _mm(inner + _diag_embed(gw), _mT(v)))


def eigh(A, UPLO="L"):
    _check(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    packed = Eigh.apply(A, uplo=UPLO)
    n = A.shape[-1]
    w, v = _unpack(packed, (tuple(A.shape[:-1]), tuple(A.shape[:-2]) + (n, n)))
    return _EIGH(w, v)


def eigvalsh(A, UPLO="L"):
    return eigh(A, UPLO)[0]


# -- eig ------------------------------------------------------------------------------------------

_EIG = _named("linalg_eig", ("eigenvalues", "eigenvectors"))


def _check_eig(A, fname):
    _check_square(A, fname)
    if A.dtype._kind < 2:
        raise RuntimeError(f"Unknown Complex ScalarType for {_dt.type_word(A.dtype)}")


def _check_finite(A):
    if not np.isfinite(A._data).all():
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")


class Eig(Function):
    """Packed (eigenvalues (..., n), eigenvectors (..., n, n)), complex for a real input too. LAPACK's geev
    (NumPy's and PyTorch's) scales each eigenvector to norm 1 with its largest component real."""
    save_output = True

    @classmethod
    def _node_name(cls):
        return "LinalgEigBackward0"

    def forward(self, a):
        self.real_input = a.dtype.kind != "c"
        cdtype = _dt.from_numpy_dtype(a.dtype).to_complex().np
        w, v = np.linalg.eig(a)
        self.shapes = (w.shape, v.shape)
        return _pack((w, v), cdtype)

    def backward(self, grad):
        w, v = _unpack(self.output, self.shapes)
        gw, gv = _unpack(grad, self.shapes)
        ga = _eig_backward(gw, gv, w, v)
        if self.real_input:   # a real A gets the real part (PyTorch's handle_r_to_c)
            from ember.ops.complex import real
            ga = real(ga)
        return ga


def _eig_backward(gw, gv, w, v):
    """PyTorch's linalg_eig_backward for A = V diag(w) V^-1 (gradients in PyTorch's complex convention):
    gA = V^-H (diag(gw) + (V^H gV - V^H V Re(diag(V^H gV))) / conj(w_j - w_i)) V^H, off-diagonal for the
    second term. The eigenvectors are defined up to a phase each (V -> V e^{i phi}); a loss that depends on
    the phase has Im(diag(V^H gV)) != 0 and no gradient. Written with recorded ops: second derivatives work."""
    from ember.ops.complex import conj, real
    from ember.ops.elementwise import where
    from ember.ops.shape import diagonal
    vh = _mH(v)
    vhgv = _mm(vh, gv)
    diag = diagonal(vhgv, 0, -2, -1)
    if not np.allclose(diag._data.imag, 0, rtol=1e-2, atol=1e-2):
        raise RuntimeError("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
                           "multiplication by e^{i phi}. The specified loss function depends on this quantity, so "
                           "it is ill-defined.")
    # project onto the tangent space of unit-norm columns, then divide by the eigenvalue gaps
    vhgv = vhgv - _mm(vh, v * real(diag).unsqueeze(-2))
    eye = Tensor._make(np.eye(w.shape[-1], dtype=np.bool_))
    wc = conj(w)
    gaps = where(eye, 1.0, wc.unsqueeze(-2) - wc.unsqueeze(-1))
    inner = where(eye, 0.0, vhgv / gaps) + _diag_embed(gw)
    return _solve(vh, _mm(inner, vh))


def eig(A):
    """Eigenvalues and eigenvectors of a general square matrix, complex (named tuple linalg_eig)."""
    _check_eig(A, "linalg.eig")
    _check_finite(A)
    packed = Eig.apply(A)
    n = A.shape[-1]
    w, v = _unpack(packed, (tuple(A.shape[:-1]), tuple(A.shape[:-2]) + (n, n)))
    return _EIG(w, v)


def eigvals(A):
    _check_eig(A, "linalg.eigvals")
    from ember.autograd.grad_mode import _GradState
    if A.requires_grad and _GradState.enabled:
        return eig(A)[0]
    # without the eigenvectors PyTorch does not check for inf/NaN: LAPACK's answer for such a matrix is
    # undefined (NaNs in PyTorch's build), so its eigenvalues are NaN here
    a = A._data
    cdtype = A.dtype.to_complex().np
    finite = np.isfinite(a).all(axis=(-2, -1))
    w = np.full(a.shape[:-1], np.nan * (1 + 1j), cdtype)
    if finite.all():
        w[...] = np.linalg.eigvals(a)
    elif finite.any():
        w[finite] = np.linalg.eigvals(a[finite])
    return Tensor._make(w)


# -- svd ------------------------------------------------------------------------------------------

_SVD = _named("linalg_svd", ("U", "S", "Vh"))
_TORCH_SVD = _named("svd", ("U", "S", "V"))


class SVD(Function):
    """Packed (U, S, Vh)."""
    save_output = True

    @classmethod
    def _node_name(cls):
        return "LinalgSvdBackward0"

    def forward(self, a, full_matrices):
        try:
            u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.svd: The algorithm failed to converge because the input matrix is "
                              "ill-conditioned or has too many repeated singular values.") from None
        self.shapes = (u.shape, s.shape, vh.shape)
        return _pack((u, s, vh), a.dtype)

    def backward(self, grad):
        u, s, vh = _unpack(self.output, self.shapes)
        gu, gs, gvh = _unpack(grad, self.shapes)
        return svd_backward(gu, gs, gvh, u, s, vh)


def svd_backward(gu, gs, gvh, u, s, vh):
    """PyTorch's formula (real case), k = min(m, n):
    gA = U [(skew(U^T gU) / E) S + S (skew(V^T gV) / E) + diag(gS)] V^T
         + (I - U U^T) gU S^{-1} V^T + U S^{-1} gV^T (I - V V^T),
    skew(X) = X - X^T, E_jk = S_k^2 - S_j^2 (1 on the diagonal)."""
    from ember.ops.elementwise import where
    k = s.shape[-1]
    m, n = u.shape[-2], vh.shape[-1]
    u, gu = u[..., :k], gu[..., :k]                 # full_matrices: only the first k columns count
    vh, gvh = vh[..., :k, :], gvh[..., :k, :]
    v, gv = _mT(vh), _mT(gvh)
    eye = Tensor._make(np.eye(k, dtype=np.bool_))
    s2 = s * s
    e = where(eye, 1.0, s2.unsqueeze(-2) - s2.unsqueeze(-1))
    utgu = _mm(_mT(u), gu)
    vtgv = _mm(_mT(v), gv)
    inner = ((utgu - _mT(utgu)) / e) * s.unsqueeze(-2) + s.unsqueeze(-1) * ((vtgv - _mT(vtgv)) / e) \
        + _diag_embed(gs)
    ga = _mm(u, _mm(inner, vh))
    if m > k:
        ga = ga + _mm((gu - _mm(u, utgu)) / s.unsqueeze(-2), vh)
    if n > k:
        ga = ga + _mm(u / s.unsqueeze(-2), _mT(gv - _mm(v, vtgv)))
    return ga


def svd(A, full_matrices=True, *, driver=None):
    _check(A, "linalg.svd", square=False)
    packed = SVD.apply(A, full_matrices=full_matrices)
    m, n = A.shape[-2:]
    k = min(m, n)
    batch = tuple(A.shape[:-2])
    shapes = (batch + (m, m if full_matrices else k), batch + (k,), batch + (n if full_matrices else k, n))
    return _SVD(*_unpack(packed, shapes))


def svdvals(A, *, driver=None):
    return svd(A, full_matrices=False)[1]


def torch_svd(input, some=True, compute_uv=True):
    """torch.svd: (U, S, V) with V = Vh^T; compute_uv=False gives zero-filled U and V, as PyTorch."""
    u, s, vh = svd(input, full_matrices=not some)
    if not compute_uv:
        from ember.creation import zeros_like
        return _TORCH_SVD(zeros_like(u), s, zeros_like(_mT(vh)))
    return _TORCH_SVD(u, s, _mT(vh))


# -- qr -------------------------------------------------------------------------------------------

_QR = _named("linalg_qr", ("Q", "R"))


class QR(Function):
    save_output = True

    @classmethod
    def _node_name(cls):
        return "LinalgQrBackward0"

    def forward(self, a, mode):
        q, r = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        self.shapes, self.mode = (q.shape, r.shape), mode
        return _pack((q, r), a.dtype)

    def backward(self, grad):
        q, r = _unpack(self.output, self.shapes)
        gq, gr = _unpack(grad, self.shapes)
        m, n = q.shape[-2], r.shape[-1]
        if self.mode == "complete" and m > n:
            raise NotImplementedError("The derivative of linalg.qr depends on Q, which is not computed when "
                                      "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                                      "differentiate through linalg.qr.")
        if m < n:
            raise NotImplementedError("ember's linalg.qr backward supports m >= n (tall or square inputs) only")
        # PyTorch's formula (m >= n): M = R gR^T - gQ^T Q; gA = (gQ + Q copyltu(M)) R^{-T}
        mm = _mm(r, _mT(gr)) - _mm(_mT(gq), q)
        low = _tril(mm, -1)
        copyltu = low + _mT(low) + _diag_embed(mm.diagonal(0, -2, -1))
        b = gq + _mm(q, copyltu)
        return _mT(solve(r, _mT(b)))      # b R^{-T}


def qr(A, mode="reduced"):
    _check(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           f"or 'complete'")
    packed = QR.apply(A, mode=mode)
    m, n = A.shape[-2:]
    k = m if mode == "complete" else min(m, n)
    batch = tuple(A.shape[:-2])
    q, r = _unpack(packed, (batch + (m, k), batch + (k, n)))
    if mode == "r":
        from ember.creation import empty
        return _QR(empty(0, dtype=A.dtype), r)
    return _QR(q, r)


# -- composed: pinv, lstsq, matrix_rank -----------------------------------------------------------

def _cutoff(s, atol, rtol, m, n, dtype):
    """The singular values kept by pinv/matrix_rank: s > max(atol, rtol * max(s))."""
    eps = np.finfo(dtype.np).eps
    if rtol is None:
        rtol = eps * max(m, n) if atol is None or (isinstance(atol, (int, float)) and atol == 0) else 0.0
    smax = s._data.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s._data.dtype)
    atol_v = 0.0 if atol is None else (atol._data[..., None] if isinstance(atol, Tensor) else atol)
    rtol_v = rtol._data[..., None] if isinstance(rtol, Tensor) else rtol
    return s._data > np.maximum(atol_v, rtol_v * smax)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    _check(A, "linalg.pinv", square=False)
    from ember.ops.elementwise import where
    m, n = A.shape[-2:]
    if hermitian:
        w, v = eigh(A)
        keep = Tensor._make(_cutoff(w.abs(), atol, rtol, m, n, A.dtype))
        winv = where(keep, 1.0 / where(keep, w, 1.0), 0.0)
        return _mm(v * winv.unsqueeze(-2), _mT(v))
    u, s, vh = svd(A, full_matrices=False)
    keep = Tensor._make(_cutoff(s, atol, rtol, m, n, A.dtype))
    sinv = where(keep, 1.0 / where(keep, s, 1.0), 0.0)
    return _mm(_mT(vh) * sinv.unsqueeze(-2), _mT(u))


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    _check(A, "linalg.matrix_rank", square=False)
    m, n = A.shape[-2:]
    s = eigvalsh(A).abs() if hermitian else svdvals(A)
    return Tensor._make(_cutoff(s, atol, rtol, m, n, A.dtype).sum(-1).astype(np.int64))


_LSTSQ = _named("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))


def lstsq(A, B, rcond=None, *, driver=None):
    """min ||A X - B||: X = pinv(A) B (the minimum-norm solution; PyTorch's default 'gelsy' gives the same for
    full-rank A). residuals and singular_values are filled for the drivers that compute them, as PyTorch."""
    _check(A, "linalg.lstsq", square=False)
    driver = driver or "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {A.dtype} and other's dtype {B.dtype}")
    vector = B.ndim == A.ndim - 1
    b = B.unsqueeze(-1) if vector else B
    if b.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2:]
    rtol = rcond if rcond is not None and rcond >= 0 else None
    x = _mm(pinv(A, rtol=rtol), b)
    from ember.creation import empty
    rank = matrix_rank(A, rtol=rtol) if driver != "gels" else Tensor._make(np.empty(0, np.int64))
    s = svdvals(A).detach() if driver in ("gelsd", "gelss") else empty(0, dtype=A.dtype)
    residuals = empty(0, dtype=A.dtype)
    if driver != "gelsy" and m > n and bool((rank._data == n).all()):
        residuals = ((_mm(A, x) - b) ** 2).sum(-2)
        if vector:
            residuals = residuals.squeeze(-1)
    return _LSTSQ(x.squeeze(-1) if vector else x, residuals, rank, s)


# -- norms ----------------------------------------------------------------------------------------

def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    from ember.ops.reduce import norm
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    if x.ndim == 0 and dim is None:
        return norm(x.reshape(1), ord, 0, keepdim, dtype).reshape(())
    return norm(x, ord, dim, keepdim, dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    from ember.ops.shape import wrap_dim
    if dtype is not None:
        A = A.to(dtype)
    _check_float(A, "linalg.matrix_norm")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    d0, d1 = (wrap_dim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    moved = A.movedim((d0, d1), (-2, -1))
    if ord == "nuc" or ord in (2, -2):
        s = svdvals(moved)
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
    elif ord in (1, -1, float("inf"), float("-inf")):
        sums = moved.abs().sum(-2 if ord in (1, -1) else -1)
        out = sums.amax(-1) if ord in (1, float("inf")) else sums.amin(-1)
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if keepdim:
        for d in sorted((d0, d1)):
            out = out.unsqueeze(d)
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is None and ord is not None:
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        if A.ndim != 1:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                               f"{A.ndim}D.")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim or [])}")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cross(input, other, *, dim=-1):
    from ember.ops.tensor_math import cross as _cross
    return _cross(input, other, dim=dim)


# -- torch.* forms of the linalg functions (their own names and arguments) ---------------------------

def inverse(input):
    return inv(input)


def logdet(input):
    return det(input).log()


def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


def cholesky_torch(input, upper=False):
    """torch.cholesky / Tensor.cholesky (upper as a positional argument)."""
    return cholesky(input, upper=upper)


def qr_torch(input, some=True):
    """torch.qr / Tensor.qr: `some` instead of linalg.qr's mode."""
    return qr(input, "reduced" if some else "complete")
