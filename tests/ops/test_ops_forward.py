"""Forward values of every op in the table, ember vs torch, in float32 and float64."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from op_table import OPS  # noqa: E402
from torch_compare import run_forward  # noqa: E402

CASES = [pytest.param(spec, dtype, id=f"{spec.name}-{dtype}") for spec in OPS for dtype in spec.dtypes()]


@pytest.mark.parametrize("spec,dtype", CASES)
def test_forward(spec, dtype):
    rtol, atol = spec.tol(dtype)
    run_forward(spec.fn, spec.arrays(dtype), rtol, atol, name=spec.name)
