"""Errors: ember must raise what torch raises (same builtin exception type), with a
message that states the key facts (the sizes, shapes or dtypes involved).

Each case is a function of the library, run once with torch and once with ember.
"""

import pathlib
import re
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from torch_compare import LIB, REF, assert_same_exception, to_lib  # noqa: E402


def ones(lib, *shape, dtype="float32", requires_grad=False):
    return to_lib(lib, np.ones(shape, dtype=dtype), requires_grad=requires_grad)


def check(case, contains=()):
    return assert_same_exception(lambda: case(LIB), lambda: case(REF), contains=contains,
                                 name=case.__name__)


# shapes: accept torch's "2x3" as well as "(2, 3)" / "[2, 3]"
def shape_text(*dims):
    return ("x".join(map(str, dims)), str(tuple(dims)), str(list(dims)))


# ------------------------------------------------------------------ broadcasting
def test_broadcast_mismatch():
    def add_7_and_9(lib):
        return ones(lib, 2, 7) + ones(lib, 2, 9)
    check(add_7_and_9, contains=["7", "9"])


def test_broadcast_mismatch_function_form():
    def mul_3d(lib):
        return lib.mul(ones(lib, 5, 1, 7), ones(lib, 3, 9))
    check(mul_3d, contains=["7", "9"])


# ------------------------------------------------------------------ matrix products
def test_mm_shape_mismatch():
    def mm(lib):
        return lib.mm(ones(lib, 2, 3), ones(lib, 4, 5))
    check(mm, contains=[shape_text(2, 3), shape_text(4, 5)])


def test_matmul_operator_shape_mismatch():
    def matmul(lib):
        return ones(lib, 2, 3) @ ones(lib, 4, 5)
    check(matmul, contains=[shape_text(2, 3), shape_text(4, 5)])


def test_matmul_vector_mismatch():
    def mat_vec(lib):
        return lib.matmul(ones(lib, 2, 3), ones(lib, 4))
    check(mat_vec, contains=["3", "4"])


def test_bmm_mismatch():
    def bmm(lib):
        return lib.bmm(ones(lib, 2, 3, 4), ones(lib, 2, 5, 6))
    check(bmm)


def test_mm_dtype_mismatch():
    def mm_f32_f64(lib):
        return lib.mm(ones(lib, 2, 3), ones(lib, 3, 5, dtype="float64"))
    exc, _ = check(mm_f32_f64)
    message = str(exc)
    # torch says "float != double"; "float32" / "float64" are just as good
    assert re.search(r"float32|\bfloat\b", message) and re.search(r"float64|double", message), \
        f"mm dtype error does not name both dtypes: {message!r}"


def test_matmul_dtype_mismatch():
    def matmul_f64_f32(lib):
        return ones(lib, 2, 3, dtype="float64") @ ones(lib, 3, 5)
    exc, _ = check(matmul_f64_f32)
    assert re.search(r"float64|double", str(exc)), str(exc)


# ------------------------------------------------------------------ shapes
def test_reshape_invalid_size():
    def reshape(lib):
        return ones(lib, 6).reshape(5)
    check(reshape, contains=["[5]", "6"])


def test_view_invalid_size():
    def view(lib):
        return ones(lib, 2, 3).view(4, -1)
    check(view, contains=["6"])


def test_cat_mismatched_shapes():
    def cat(lib):
        return lib.cat([ones(lib, 2, 7), ones(lib, 2, 9)])
    check(cat, contains=["7", "9"])


def test_stack_mismatched_shapes():
    def stack(lib):
        return lib.stack([ones(lib, 7), ones(lib, 9)])
    check(stack, contains=["7", "9"])


def test_dim_out_of_range():
    def sum_dim_2(lib):
        return ones(lib, 2, 3).sum(dim=2)
    check(sum_dim_2, contains=["2"])


def test_expand_invalid():
    def expand(lib):
        return ones(lib, 2, 3).expand(7, 3)
    check(expand, contains=["7", "2"])


# ------------------------------------------------------------------ indexing
def test_index_out_of_range():
    def index_3_of_3(lib):
        return ones(lib, 3)[3]
    check(index_3_of_3, contains=["3"])


def test_index_out_of_range_second_dim():
    def index_col_5(lib):
        return ones(lib, 3, 2)[:, 5]
    check(index_col_5, contains=["5"])


def test_negative_index_out_of_range():
    def index_minus_4(lib):
        return ones(lib, 3)[-4]
    check(index_minus_4, contains=["-4"])


def test_tensor_index_out_of_range():
    def index_tensor(lib):
        return ones(lib, 3)[to_lib(lib, np.array([0, 4]))]
    check(index_tensor, contains=["4"])


# ------------------------------------------------------------------ autograd
def test_requires_grad_on_integer_tensor():
    def int_requires_grad(lib):
        return lib.tensor([1, 2], requires_grad=True)
    check(int_requires_grad, contains=["floating point", "require"])


def test_requires_grad_on_integer_tensor_method():
    def int_requires_grad_(lib):
        return ones(lib, 2, dtype="int64").requires_grad_()
    check(int_requires_grad_, contains=["floating point"])


def test_backward_twice():
    def twice(lib):
        x = ones(lib, 3, requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()
    check(twice, contains=[("second time", "retain_graph")])


def test_backward_non_scalar_without_gradient():
    def non_scalar(lib):
        x = ones(lib, 3, requires_grad=True)
        (x * 2).backward()
    check(non_scalar, contains=["scalar"])


def test_in_place_on_leaf_requiring_grad():
    def leaf_add_(lib):
        x = ones(lib, 3, requires_grad=True)
        x.add_(1)
    check(leaf_add_, contains=["leaf", ("in-place", "inplace")])


def test_in_place_modification_of_saved_tensor():
    def modified_saved(lib):
        x = ones(lib, 3, requires_grad=True)
        a = x + 0
        b = a * a          # saves a for backward
        a.add_(1)          # bumps a's version
        b.sum().backward()
    check(modified_saved, contains=[("in-place", "inplace"), "modified"])


def test_in_place_modification_of_saved_output():
    def modified_exp_output(lib):
        x = ones(lib, 3, requires_grad=True)
        y = x.exp()        # exp saves its output
        y.mul_(2)
        y.sum().backward()
    check(modified_exp_output, contains=[("in-place", "inplace")])


# ------------------------------------------------------------------ dtypes
def test_bool_subtraction():
    def bool_sub(lib):
        a = lib.tensor([True, False])
        return a - a
    check(bool_sub)


def test_int_negative_power():
    def int_pow_neg(lib):
        return lib.tensor([1, 2]) ** -1
    check(int_pow_neg)


def test_mean_of_integer_tensor():
    def int_mean(lib):
        return lib.tensor([1, 2, 3]).mean()
    check(int_mean)


@pytest.mark.parametrize("case", ["step<0", "step=0"])
def test_slice_step_must_be_positive(case):
    def neg_step(lib):
        return ones(lib, 4)[::-1] if case == "step<0" else ones(lib, 4)[::0]
    check(neg_step)
