"""CosineEmbeddingLoss, MarginRankingLoss, TripletMarginLoss vs torch: module and functional forms, value
and gradient of every input, each reduction and option, unbatched and empty batches, legacy
size_average/reduce flags, reprs, and the errors (type and message) for bad shapes and options."""
import pathlib
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import LIB, F, TF, fn_of, nn, nn_of, rand, tnn, to_lib  # noqa: E402
from torch_compare import assert_same_exception, check_grad  # noqa: E402

REDUCTIONS = ["mean", "sum", "none"]
TOL = (1e-5, 1e-6)


def check_both(loss_name, fn_name, arrays, grad_mask, kw, rtol=TOL[0], atol=TOL[1]):
    def module_form(lib, *t):
        return getattr(nn_of(lib), loss_name)(**kw)(*t)

    def functional_form(lib, *t):
        return getattr(fn_of(lib), fn_name)(*t, **kw)
    check_grad(module_form, arrays, grad_mask, rtol, atol, name=f"nn.{loss_name}({kw})")
    check_grad(functional_form, arrays, grad_mask, rtol, atol, name=f"F.{fn_name}({kw})")


def signs(n, seed, with_zero=False):
    values = [1.0, -1.0, 0.0] if with_zero else [1.0, -1.0]
    return np.random.default_rng(seed).choice(values, size=n).astype(np.float32)


def same_error(fn, contains=(), exact=True):
    lib_exc, ref_exc = assert_same_exception(lambda: fn(LIB, nn, F), lambda: fn(torch, tnn, TF), contains=contains)
    if exact:
        assert str(lib_exc) == str(ref_exc)


# ---------------------------------------------------------------------------------------- cosine embedding
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.5])
def test_cosine_embedding(margin, reduction):
    x1, x2 = rand((6, 5), seed=1), rand((6, 5), seed=2)
    x2[0] = x1[0]          # cos = 1
    x2[1] = -x1[1]         # cos = -1
    target = signs(6, 3, with_zero=True)
    check_both("CosineEmbeddingLoss", "cosine_embedding_loss", [x1, x2, target], [True, True, False],
               dict(margin=margin, reduction=reduction))


def test_cosine_embedding_unbatched_and_float64():
    x1, x2 = rand((7,), seed=4, dtype="float64"), rand((7,), seed=5, dtype="float64")
    for t in (1.0, -1.0):
        check_both("CosineEmbeddingLoss", "cosine_embedding_loss", [x1, x2, np.array(t)], [True, True, False],
                   dict(margin=-0.9), rtol=1e-10, atol=1e-12)


def test_cosine_embedding_zero_vector_and_empty_batch():
    x1, x2 = rand((3, 4), seed=6), rand((3, 4), seed=7)
    x1[2] = 0
    check_both("CosineEmbeddingLoss", "cosine_embedding_loss", [x1, x2, np.ones(3, np.float32)],
               [True, True, False], dict(reduction="sum"))
    for reduction in REDUCTIONS:
        check_both("CosineEmbeddingLoss", "cosine_embedding_loss",
                   [np.zeros((0, 4), np.float32), np.zeros((0, 4), np.float32), np.zeros(0, np.float32)],
                   [True, True, False], dict(reduction=reduction))


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (2,)), ((3, 4), (3, 5), (3,)), ((2, 3, 4), (2, 3, 4), (2,)),
                                    ((3, 4), (3, 4), (3, 1)), ((4,), (4,), (1,)), ((2, 4), (2, 4), ())], ids=str)
def test_cosine_embedding_bad_shapes(shapes):
    arrays = [rand(s, seed=k) for k, s in enumerate(shapes)]
    same_error(lambda lib, m, f: f.cosine_embedding_loss(*[to_lib(lib, a) for a in arrays]),
               exact=shapes[1] != (3, 5))


# ---------------------------------------------------------------------------------------- margin ranking
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
@pytest.mark.parametrize("shape", [(7,), (2, 3), ()], ids=str)
def test_margin_ranking(shape, margin, reduction):
    x1, x2 = rand(shape, seed=8), rand(shape, seed=9)
    target = signs(int(np.prod(shape)), 10).reshape(shape)
    check_both("MarginRankingLoss", "margin_ranking_loss", [x1, x2, target], [True, True, True],
               dict(margin=margin, reduction=reduction))


def test_margin_ranking_broadcast_target_and_empty():
    check_both("MarginRankingLoss", "margin_ranking_loss",
               [rand((3, 4), seed=11), rand((3, 4), seed=12), signs(4, 13).reshape(1, 4)], [True, True, False],
               dict(margin=0.1))
    for reduction in REDUCTIONS:
        check_both("MarginRankingLoss", "margin_ranking_loss", [np.zeros(0, np.float32)] * 3, [True, True, False],
                   dict(reduction=reduction))


@pytest.mark.parametrize("shapes", [((3,), (3,), (3, 1)), ((3,), (4,), (3,))], ids=str)
def test_margin_ranking_bad_shapes(shapes):
    arrays = [rand(s, seed=k) for k, s in enumerate(shapes)]
    same_error(lambda lib, m, f: f.margin_ranking_loss(*[to_lib(lib, a) for a in arrays]))


# ---------------------------------------------------------------------------------------- triplet margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [dict(), dict(margin=0.5, p=1.0), dict(p=3.0, swap=True), dict(eps=1e-2, swap=True),
                                dict(margin=2.0)], ids=str)
def test_triplet_margin(kw, reduction):
    a, p, n = rand((5, 4), seed=14), rand((5, 4), seed=15), rand((5, 4), seed=16)
    n[0] = a[0] + 0.01     # a hard negative: the hinge is active
    check_both("TripletMarginLoss", "triplet_margin_loss", [a, p, n], [True, True, True],
               dict(kw, reduction=reduction))


def test_triplet_margin_unbatched_empty_and_float64():
    arrays = [rand((6,), seed=k, dtype="float64") for k in (17, 18, 19)]
    check_both("TripletMarginLoss", "triplet_margin_loss", arrays, [True, True, True], dict(swap=True),
               rtol=1e-10, atol=1e-12)
    for reduction in REDUCTIONS:
        check_both("TripletMarginLoss", "triplet_margin_loss", [np.zeros((0, 3), np.float32)] * 3,
                   [True, True, True], dict(reduction=reduction))


def test_triplet_margin_bad_input():
    arrays = [rand((3, 4), seed=1), rand((3, 4), seed=2), rand((4,), seed=3)]
    same_error(lambda lib, m, f: f.triplet_margin_loss(*[to_lib(lib, a) for a in arrays]))
    same_error(lambda lib, m, f: m.TripletMarginLoss(margin=0))
    same_error(lambda lib, m, f: m.TripletMarginLoss(margin=-1.0))


# ---------------------------------------------------------------------------------------- all three
@pytest.mark.parametrize("make", [lambda m: m.CosineEmbeddingLoss(), lambda m: m.CosineEmbeddingLoss(margin=0.5),
                                  lambda m: m.MarginRankingLoss(margin=1.0), lambda m: m.TripletMarginLoss(),
                                  lambda m: m.TripletMarginLoss(p=1, swap=True, reduction="sum")])
def test_repr_and_attributes(make):
    lib_loss, ref_loss = make(nn), make(tnn)
    assert repr(lib_loss) == repr(ref_loss)
    for name in ("margin", "reduction", "p", "eps", "swap"):
        assert getattr(lib_loss, name, None) == getattr(ref_loss, name, None)


@pytest.mark.parametrize("flags", [dict(size_average=False), dict(reduce=False), dict(size_average=True,
                                                                                     reduce=True)], ids=str)
def test_legacy_reduction_flags(flags):
    arrays = [rand((4, 3), seed=1), rand((4, 3), seed=2)]
    for name in ("CosineEmbeddingLoss", "MarginRankingLoss"):
        target = signs(4, 5) if name == "CosineEmbeddingLoss" else signs(12, 5).reshape(4, 3)
        lib_loss, ref_loss = getattr(nn, name)(**flags), getattr(tnn, name)(**flags)
        assert lib_loss.reduction == ref_loss.reduction
        check_grad(lambda lib, *t: (lib_loss if lib is LIB else ref_loss)(*t), arrays + [target],
                   [True, True, False], *TOL, name=f"{name}({flags})")


def test_bad_reduction():
    arrays = [rand((3, 4), seed=1), rand((3, 4), seed=2), np.ones(3, np.float32)]
    same_error(lambda lib, m, f: f.cosine_embedding_loss(*[to_lib(lib, a) for a in arrays], reduction="foo"))
