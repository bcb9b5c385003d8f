"""matmul's shape errors name what PyTorch names: the batches of the bmm route, the folded matrix of
the fold route, the vectors or matrices of the 1-D / 2-D routes (issue 12)."""
import itertools

import numpy as np
import pytest
import torch

import ember

SHAPES = [(3,), (4,), (3, 4), (5, 6), (6, 5), (2, 3, 4), (2, 5, 6), (3, 5, 6), (2, 1, 3, 4), (1, 4, 5),
          (2, 4, 7), (3, 1, 4, 2), (0, 3, 4)]


def pair(shape, requires_grad, transposed):
    """The same values in ember and torch; `transposed` stores the batch dimensions non-contiguously."""
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    if transposed and len(shape) >= 3:
        a = np.ascontiguousarray(np.swapaxes(a, 0, -2)).swapaxes(0, -2)
    e, t = ember.from_numpy(a.copy()), torch.from_numpy(a.copy())
    if transposed and len(shape) >= 3:  # from_numpy copies may be contiguous again: make the views here
        e = ember.from_numpy(np.ascontiguousarray(np.swapaxes(a, 0, -2))).transpose(0, -2)
        t = torch.from_numpy(np.ascontiguousarray(np.swapaxes(a, 0, -2))).transpose(0, -2)
    e.requires_grad_(requires_grad)
    t.requires_grad_(requires_grad)
    return e, t


def outcome(fn):
    try:
        fn()
    except RuntimeError as e:
        return str(e)
    return None


@pytest.mark.parametrize("sa,sb", list(itertools.product(SHAPES, SHAPES)))
def test_matmul_errors_match_torch(sa, sb):
    for ga, gb, ta, tb in itertools.product((False, True), repeat=4):
        (ea, tea), (eb, teb) = pair(sa, ga, ta), pair(sb, gb, tb)
        expected = outcome(lambda: torch.matmul(tea, teb))
        got = outcome(lambda: ember.matmul(ea, eb))
        assert got == expected, (sa, sb, ga, gb, ta, tb)


def test_batched_matmul_names_the_batches():
    with pytest.raises(RuntimeError, match=r"batch2 tensor to be: \[2, 4\] but got: \[2, 5\]"):
        ember.matmul(ember.randn(2, 3, 4), ember.randn(2, 5, 6))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match the size of tensor b \(3\) at "
                                           r"non-singleton dimension 0"):
        ember.randn(2, 3, 4) @ ember.randn(3, 4, 6)
