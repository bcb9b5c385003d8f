"""ember against itself: analytic gradients vs float64 central finite differences.

Independent of torch: catches a backward that is wrong in the same way torch's
reference would never be, and names the argument and element that disagree.
"""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from op_table import GRADCHECK_OPS  # noqa: E402
from torch_compare import finite_difference_check  # noqa: E402

CASES = [pytest.param(spec, id=spec.name) for spec in GRADCHECK_OPS]


@pytest.mark.parametrize("spec", CASES)
def test_gradcheck(spec):
    finite_difference_check(spec.fn, spec.arrays("float64"), spec.grad_mask(), name=spec.name)
