"""dtype promotion, ember vs torch: result dtype AND values.

* every pair of {bool, uint8, int8, int16, int32, int64, float16, float32, float64} tensors
  under + - * / maximum == <  (torch's errors, e.g. bool - bool, must be ember's errors)
* tensor (op) Python int / float / bool, both operand orders
* 0-d tensors against n-d tensors (a 0-d tensor only wins across categories)
* dtype inference of torch.tensor(...) from Python data and NumPy arrays
* integer / integer -> float32; // and % on (negative) integers follow Python's floor rules
"""

import itertools
import operator
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import LIB, REF, assert_same, assert_same_exception, same_outcome  # noqa: E402

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]

BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "maximum": lambda a, b: a.maximum(b),
    "eq": operator.eq,
    "lt": operator.lt,
}


def values(dtype, shape, seed=0):
    """Small positive values every dtype can hold (no zeros, so division is safe)."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    return rng.integers(1, 6, size=shape).astype(dtype) if dtype in INTS else \
        (rng.integers(1, 12, size=shape) / 2).astype(dtype)


def binary_fn(op):
    return lambda lib, a, b: op(a, b)


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize("da,db", list(itertools.product(DTYPES, DTYPES)))
def test_tensor_tensor(da, db, op):
    same_outcome(binary_fn(BINARY[op]), [values(da, (3, 4), 1), values(db, (4,), 2)],
                 name=f"{da} {op} {db}")


SCALARS = {"int": 2, "float": 2.5, "bool": True, "negint": -3}
SCALAR_OPS = {
    "x+s": lambda x, s: x + s,
    "s+x": lambda x, s: s + x,
    "x-s": lambda x, s: x - s,
    "s-x": lambda x, s: s - x,
    "x*s": lambda x, s: x * s,
    "x/s": lambda x, s: x / s,
    "s/x": lambda x, s: s / x,
    "x**s": lambda x, s: x ** s,
    "x==s": lambda x, s: x == s,
    "x<s": lambda x, s: x < s,
}


@pytest.mark.parametrize("op", list(SCALAR_OPS))
@pytest.mark.parametrize("scalar", list(SCALARS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_python_scalar(dtype, scalar, op):
    s, f = SCALARS[scalar], SCALAR_OPS[op]
    if dtype == "uint8" and scalar == "negint" and op in ("x==s", "x<s"):
        pytest.skip("torch wraps -3 to 253 before comparing with uint8 (a torch quirk, not a spec)")
    same_outcome(lambda lib, x: f(x, s), [values(dtype, (3,), 3)], name=f"{dtype} tensor {op} {s!r}")


@pytest.mark.parametrize("op", ["add", "mul", "lt"])
@pytest.mark.parametrize("d0,dn", list(itertools.product(DTYPES, DTYPES)))
def test_zero_dim_vs_n_dim(d0, dn, op):
    """0-d tensor op n-d tensor, both orders, and 0-d op 0-d (which promotes normally)."""
    f = binary_fn(BINARY[op])
    scalar, tensor = values(d0, (), 4), values(dn, (3,), 5)
    same_outcome(f, [scalar, tensor], name=f"0-d {d0} {op} {dn}")
    same_outcome(f, [tensor, scalar], name=f"{dn} {op} 0-d {d0}")
    same_outcome(f, [scalar, values(dn, (), 6)], name=f"0-d {d0} {op} 0-d {dn}")


CREATION = {
    "[1, 2.0]": lambda lib: lib.tensor([1, 2.0]),
    "[1, 2]": lambda lib: lib.tensor([1, 2]),
    "3": lambda lib: lib.tensor(3),
    "2.5": lambda lib: lib.tensor(2.5),
    "True": lambda lib: lib.tensor(True),
    "[True, False]": lambda lib: lib.tensor([True, False]),
    "[True, 2]": lambda lib: lib.tensor([True, 2]),
    "[[1, 2], [3, 4.5]]": lambda lib: lib.tensor([[1, 2], [3, 4.5]]),
    "[]": lambda lib: lib.tensor([]),
    "np.float64": lambda lib: lib.tensor(np.array([1.5, 2.5])),
    "np.float32": lambda lib: lib.tensor(np.array([1.5, 2.5], dtype=np.float32)),
    "np.int32": lambda lib: lib.tensor(np.array([1, 2], dtype=np.int32)),
    "np.uint8": lambda lib: lib.tensor(np.array([1, 2], dtype=np.uint8)),
    "np.bool_": lambda lib: lib.tensor(np.array([True])),
    "np.float64 scalar": lambda lib: lib.tensor(np.float64(2.0)),
    "dtype=float64": lambda lib: lib.tensor([1, 2], dtype=lib.float64),
    "dtype=int32": lambda lib: lib.tensor([1.7, -2.7], dtype=lib.int32),
    "dtype=bool": lambda lib: lib.tensor([0, 2], dtype=lib.bool),
    "float16": lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float16),
    "long": lambda lib: lib.tensor([1, 2], dtype=lib.long),
}


@pytest.mark.parametrize("case", list(CREATION))
def test_tensor_creation_dtype(case):
    assert_same(CREATION[case](LIB), CREATION[case](REF), name=f"torch.tensor({case})")


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64"])
def test_int_true_division_gives_default_float(dtype):
    same_outcome(lambda lib, a, b: a / b, [values(dtype, (4,), 7), values(dtype, (4,), 8)],
                 name=f"{dtype} / {dtype}")
    same_outcome(lambda lib, a, b: lib.div(a, b), [values(dtype, (4,), 7), values(dtype, (4,), 8)],
                 name=f"torch.div({dtype}, {dtype})")


SIGNED_NUMERATORS = np.array([-7, -6, -1, 0, 1, 5, 7, 9])


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64"])
@pytest.mark.parametrize("op", ["//", "%"])
def test_int_floor_div_and_mod(dtype, op):
    f = (lambda lib, a, b: a // b) if op == "//" else (lambda lib, a, b: a % b)
    a = SIGNED_NUMERATORS.astype(dtype)
    for b in ([2] * 8, [-3] * 8, [3, -3, 2, -2, 4, -4, 1, -1]):
        same_outcome(f, [a, np.array(b, dtype=dtype)], name=f"{dtype} {a.tolist()} {op} {b}")
    same_outcome(lambda lib, x: f(lib, x, 2), [a], name=f"{dtype} tensor {op} 2")
    same_outcome(lambda lib, x: f(lib, x, -2.5), [a], name=f"{dtype} tensor {op} -2.5 (promotes to float)")


def test_uint8_wraps_around():
    same_outcome(lambda lib, a, b: a - b, [np.array([1, 2, 250], dtype=np.uint8), np.array([3, 2, 10], dtype=np.uint8)],
                 name="uint8 - uint8")
    same_outcome(lambda lib, a: a + 10, [np.array([250, 1], dtype=np.uint8)], name="uint8 + 10")


def test_bool_subtraction_is_an_error():
    def f(lib):
        a = lib.tensor([True, False])
        return a - a
    assert_same_exception(lambda: f(LIB), lambda: f(REF), name="bool - bool")


NUMBERS = [2, 2.0, True, 0, 0.0, -0.0, -2.5, 1e-3, 1 / 3, float("inf"), -7]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("shape", [(), (1,), (3,)], ids=["0-d", "1-element", "3-element"])
def test_equal_numbers_of_other_types_do_not_mix(dtype, shape):
    """ember keeps Python numbers as cached 0-d arrays for speed; numbers that compare equal (2, 2.0,
    True; 0.0, -0.0) must still give their own dtype and sign, used in any order."""
    x = values(dtype, shape, 9)
    for s in NUMBERS + NUMBERS[::-1]:
        for name, f in (("x*s", lambda x: x * s), ("x-s", lambda x: x - s), ("x+s", lambda x: x + s),
                        ("x/s", lambda x: x / s)):
            out = same_outcome(lambda lib, t: f(t), [x], name=f"{dtype} {shape} {name} {s!r}")
            if out is not None and out.dtype.is_floating_point:
                ref = f(REF.tensor(x))
                np.testing.assert_array_equal(np.signbit(out.numpy()), np.signbit(ref.numpy()),
                                              err_msg=f"sign of {dtype} {name} {s!r}")


def test_many_distinct_numbers():
    """More distinct numbers than ember's number table holds (it starts over when full)."""
    x = np.array([1.5], np.float32)
    for i in range(1, 1300):
        s = i / 7
        same_outcome(lambda lib, t: (t - s) * s, [x], name=f"(x - {s}) * {s}")
