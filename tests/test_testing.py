"""ember.testing.assert_close vs torch.testing.assert_close: the same verdicts, exception types and reports."""
import math
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from torch_compare import LIB, LIB_NAME  # noqa: E402


def T(lib, values, dtype=None):
    t = lib.tensor(np.asarray(values))
    return t if dtype is None else t.to(getattr(lib, dtype))


# name: (actual(lib), expected(lib), kwargs)
CASES = {
    "equal": (lambda l: T(l, [1., 2., 3.]), lambda l: T(l, [1., 2., 3.]), {}),
    "float32 within": (lambda l: T(l, np.float32([1., 2., 3.])), lambda l: T(l, np.float32([1., 2., 3.000001])), {}),
    "float32 off": (lambda l: T(l, np.float32([1., 2., 3.])), lambda l: T(l, np.float32([1., 2.5, 3.])), {}),
    "float64 off": (lambda l: T(l, [1., 2., 3.]), lambda l: T(l, [1., 2., 3.0001]), {}),
    "2-D off": (lambda l: T(l, np.float32([[1, 2], [3, 4]])), lambda l: T(l, np.float32([[1, 2], [3, 5]])), {}),
    "shape": (lambda l: T(l, [1., 2., 3.]), lambda l: T(l, [1., 2., 3., 4.]), {}),
    "dtype": (lambda l: T(l, np.float32([1., 2.])), lambda l: T(l, [1., 2.]), {}),
    "dtype unchecked": (lambda l: T(l, np.float32([1., 2.])), lambda l: T(l, [1., 2.]), {"check_dtype": False}),
    "ints": (lambda l: T(l, [1, 2, 3]), lambda l: T(l, [1, 2, 4]), {}),
    "bools": (lambda l: T(l, [True]), lambda l: T(l, [False]), {}),
    "nan": (lambda l: T(l, [1., math.nan]), lambda l: T(l, [1., math.nan]), {}),
    "nan equal_nan": (lambda l: T(l, [1., math.nan]), lambda l: T(l, [1., math.nan]), {"equal_nan": True}),
    "inf": (lambda l: T(l, [math.inf]), lambda l: T(l, [math.inf]), {}),
    "rtol atol": (lambda l: T(l, [1., 2.]), lambda l: T(l, [1., 2.1]), {"rtol": 0.1, "atol": 0.0}),
    "rtol only": (lambda l: T(l, [1., 2.]), lambda l: T(l, [1., 2.1]), {"rtol": 0.1}),
    "atol only": (lambda l: T(l, [1., 2.]), lambda l: T(l, [1., 2.1]), {"atol": 0.1}),
    "msg": (lambda l: T(l, [1., 2.]), lambda l: T(l, [1., 2.1]), {"msg": "custom"}),
    "msg callable": (lambda l: T(l, [1., 2.]), lambda l: T(l, [1., 2.1]), {"msg": lambda m: "wrapped: " + m}),
    "0-d": (lambda l: T(l, 1.0), lambda l: T(l, 1.5), {}),
    "python floats": (lambda l: 1.0, lambda l: 1.1, {}),
    "python floats close": (lambda l: 1.0, lambda l: 1.0 + 1e-9, {}),
    "python ints": (lambda l: 3, lambda l: 4, {}),
    "tensor vs float": (lambda l: T(l, 1.0), lambda l: 1.0, {}),
    "tensor vs list": (lambda l: T(l, [1., 2.]), lambda l: [1., 2.], {}),
    "list of tensors": (lambda l: [T(l, 1.), T(l, [2., 3.])], lambda l: [T(l, 1.), T(l, [2., 3.5])], {}),
    "dict": (lambda l: {"a": T(l, 1.)}, lambda l: {"a": T(l, 1.2)}, {}),
    "dict keys": (lambda l: {"a": 1}, lambda l: {"b": 1}, {}),
    "lengths": (lambda l: (1, 2), lambda l: (1, 2, 3), {}),
    "numpy": (lambda l: np.float64([1., 2.]), lambda l: np.float64([1., 2.5]), {}),
    "empty": (lambda l: T(l, np.zeros((0, 3))), lambda l: T(l, np.zeros((0, 3))), {}),
}


def _outcome(lib, case):
    actual, expected, kwargs = CASES[case]
    fn = torch.testing.assert_close if lib is torch else LIB.testing.assert_close
    try:
        fn(actual(lib), expected(lib), **kwargs)
    except Exception as e:  # noqa: BLE001
        return type(e), str(e)
    return None, None


@pytest.mark.parametrize("case", list(CASES))
def test_assert_close_like_torch(case):
    ours, theirs = _outcome(LIB, case), _outcome(torch, case)
    assert ours[0] is theirs[0], f"{case}: {ours} vs torch {theirs}"
    if theirs[0] is not None:
        assert ours[1].replace("ember.Tensor", "torch.Tensor") == theirs[1], \
            f"{case}:\n{LIB_NAME}:\n{ours[1]}\ntorch:\n{theirs[1]}"


def test_make_tensor():
    t = LIB.testing.make_tensor(3, 4, dtype=LIB.float32, low=-1, high=1)
    assert t.shape == (3, 4) and t.dtype == LIB.float32 and float(t.abs().max()) <= 1
    i = LIB.testing.make_tensor((5,), dtype=LIB.int64, exclude_zero=True)
    assert i.dtype == LIB.int64 and bool((i != 0).all())
    assert LIB.testing.make_tensor(2, dtype=LIB.float64, requires_grad=True).requires_grad
