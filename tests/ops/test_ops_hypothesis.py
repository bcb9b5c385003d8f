"""Property-based shapes for the elementwise and reduction entries of the table.

hypothesis draws broadcastable shapes (0-d scalars, empty dims, up to 4 dims), data
(from a drawn seed, within each argument's domain) and, for reductions, ``dim``
(None / int / negative int / tuple) and ``keepdim``.  Either both libraries raise the
same kind of error, or they agree on values (and, where differentiable, on gradients).

``derandomize=True`` keeps CI reproducible; ``max_examples`` is modest so the whole
ops suite stays well under two minutes.
"""

import pathlib
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from op_table import ELEMENTWISE, REDUCTIONS  # noqa: E402
from torch_compare import check_grad, same_outcome  # noqa: E402

# Degenerate reductions (var of one element, mean of nothing) give nan with a warning in both.
pytestmark = [pytest.mark.filterwarnings("ignore:.*degrees of freedom"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning")]

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SEEDS = st.integers(0, 2**32 - 1)


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in ELEMENTWISE])
@SETTINGS
@given(data=st.data())
def test_elementwise_shapes(spec, data):
    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=len(spec.inputs), min_dims=0, max_dims=4,
                                                     min_side=0, max_side=4), label="shapes").input_shapes
    dtype = data.draw(st.sampled_from(spec.dtypes()), label="dtype")
    seed = data.draw(SEEDS, label="seed")
    inputs = [arg.with_shape(shape) for arg, shape in zip(spec.inputs, shapes)]
    arrays = spec.arrays(dtype, seed, inputs)
    rtol, atol = spec.tol(dtype)
    out = same_outcome(spec.fn, arrays, rtol, atol, name=f"{spec.name} {shapes}")
    if spec.grad and out is not None:
        check_grad(spec.fn, arrays, [a.wants_grad for a in inputs], rtol, atol, name=f"{spec.name} {shapes}",
                   skip_if_torch_fails=True)


@st.composite
def dims_for(draw, ndim, red):
    """A ``dim`` argument valid for a tensor with ``ndim`` dims (0-d tensors accept 0 and -1)."""
    rank = max(ndim, 1)
    options = [st.integers(-rank, rank - 1)]
    if red.none_dim:
        options.append(st.none())
    if red.tuple_dims and ndim >= 1:
        options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
            lambda ds: st.tuples(*[st.sampled_from([d, d - ndim]) for d in ds])))
    return draw(st.one_of(*options))


@pytest.mark.parametrize("red", [pytest.param(r, id=r.name) for r in REDUCTIONS])
@SETTINGS
@given(data=st.data())
def test_reduction_shapes(red, data):
    shape = data.draw(array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4), label="shape")
    dim = data.draw(dims_for(len(shape), red), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    dtype = "float32" if red.arg.is_float else None
    seed = data.draw(SEEDS, label="seed")
    arrays = [red.arg.with_shape(shape).generate(np.random.default_rng(seed), dtype or "float32")]

    def fn(lib, x):
        return red.fn(lib, x, dim, keepdim)

    name = f"{red.name} shape={shape} dim={dim} keepdim={keepdim}"
    out = same_outcome(fn, arrays, red.rtol, red.atol, name=name)
    if red.grad and out is not None:
        check_grad(fn, arrays, [True], red.rtol, red.atol, name=name, skip_if_torch_fails=True)
