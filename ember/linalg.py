"""ember.linalg: torch.linalg's functions (ops in ember/ops/matrix.py, each forward beside its backward)."""
from ember.ops.matrix import (  # noqa: F401
    LinAlgError, det, slogdet, inv, solve, cholesky, eigh, eigvalsh, eig, eigvals, svd, svdvals, qr, pinv, lstsq,
    matrix_rank, vector_norm, matrix_norm, norm, cross,
)
from ember.ops.linalg import matmul  # noqa: F401


def multi_dot(tensors):
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    return out


__all__ = ["LinAlgError", "det", "slogdet", "inv", "solve", "cholesky", "eigh", "eigvalsh", "eig", "eigvals", "svd",
           "svdvals", "qr", "pinv", "lstsq", "matrix_rank", "vector_norm", "matrix_norm", "norm", "cross", "matmul",
           "multi_dot"]
