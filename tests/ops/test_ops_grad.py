"""Gradients of every differentiable op in the table, ember vs torch.

The same random upstream gradient is backpropagated in both libraries
(``out.backward(g)``) and every input's ``.grad`` is compared.
"""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from op_table import GRAD_OPS  # noqa: E402
from torch_compare import check_grad  # noqa: E402

CASES = [pytest.param(spec, dtype, id=f"{spec.name}-{dtype}") for spec in GRAD_OPS for dtype in spec.dtypes()]


@pytest.mark.parametrize("spec,dtype", CASES)
def test_grad(spec, dtype):
    rtol, atol = spec.tol(dtype)
    check_grad(spec.fn, spec.arrays(dtype), spec.grad_mask(), rtol, atol, name=spec.name)
