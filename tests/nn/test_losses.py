"""Losses vs torch: value and gradient (of input, and of target where torch has one), module and
functional forms, every reduction and option; error cases (exception type and key message
content) and the size-mismatch warning."""
import pathlib
import sys
import warnings

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import LIB, LIB_NAME, F, TF, fn_of, nn, nn_of, rand, tnn, to_lib  # noqa: E402
from torch_compare import assert_same_exception, check_grad  # noqa: E402

REDUCTIONS = ["mean", "sum", "none"]
TOL = (1e-5, 1e-6)


def both_forms(loss_name, fn_name, module_kw=None, fn_kw=None):
    """(module form, functional form) as fn(lib, *tensors) callables."""
    module_kw = module_kw or {}
    fn_kw = module_kw if fn_kw is None else fn_kw

    def module_form(lib, *t):
        return getattr(nn_of(lib), loss_name)(**module_kw)(*t)

    def functional_form(lib, *t):
        return getattr(fn_of(lib), fn_name)(*t, **fn_kw)
    return module_form, functional_form


def check_both(loss_name, fn_name, arrays, grad_mask, module_kw=None, fn_kw=None, rtol=TOL[0], atol=TOL[1]):
    mod, fun = both_forms(loss_name, fn_name, module_kw, fn_kw)
    check_grad(mod, arrays, grad_mask, rtol, atol, name=f"nn.{loss_name}({module_kw or ''})")
    check_grad(fun, arrays, grad_mask, rtol, atol, name=f"F.{fn_name}({fn_kw if fn_kw is not None else module_kw})")


def _with_tensors(kw, lib):
    """Option values given as NumPy arrays become tensors of lib."""
    return {k: to_lib(lib, v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}


def check_both_with_tensor_options(loss_name, fn_name, arrays, grad_mask, kw, rtol=TOL[0], atol=TOL[1]):
    def mod(lib, *t):
        return getattr(nn_of(lib), loss_name)(**_with_tensors(kw, lib))(*t)

    def fun(lib, *t):
        return getattr(fn_of(lib), fn_name)(*t, **_with_tensors(kw, lib))
    check_grad(mod, arrays, grad_mask, rtol, atol, name=f"nn.{loss_name}({kw})")
    check_grad(fun, arrays, grad_mask, rtol, atol, name=f"F.{fn_name}({kw})")


# ---------------------------------------------------------------------------------------
# Regression losses
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,fn", [("MSELoss", "mse_loss"), ("L1Loss", "l1_loss")])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4), ()], ids=str)
def test_mse_l1(name, fn, reduction, shape):
    arrays = [rand(shape, seed=1), rand(shape, seed=2)]
    check_both(name, fn, arrays, [True, True], dict(reduction=reduction))


@pytest.mark.parametrize("dtype", ["float64"])
def test_mse_float64(dtype):
    arrays = [rand((3, 4), seed=3, dtype=dtype), rand((3, 4), seed=4, dtype=dtype)]
    check_both("MSELoss", "mse_loss", arrays, [True, True], rtol=1e-12, atol=1e-14)


def test_l1_at_zero_difference():
    """d|x - t|/dx at x == t is 0, as torch's sign()."""
    x = np.array([1.0, 2.0, 3.0], np.float32)
    check_both("L1Loss", "l1_loss", [x, x.copy()], [True, True])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, 0.0])
def test_smooth_l1(beta, reduction):
    x = rand((5, 4), seed=5, low=-3, high=3)
    t = rand((5, 4), seed=6, low=-3, high=3)
    # differences exactly at +-beta and 0 too
    x[0, :3] = t[0, :3] + np.array([beta, -beta, 0.0], np.float32)
    check_both("SmoothL1Loss", "smooth_l1_loss", [x, t], [True, True], dict(reduction=reduction, beta=beta))


def test_smooth_l1_negative_beta_raises():
    x, t = rand((3,)), rand((3,), seed=1)
    assert_same_exception(lambda: F.smooth_l1_loss(to_lib(LIB, x), to_lib(LIB, t), beta=-1.0),
                          lambda: TF.smooth_l1_loss(torch.from_numpy(x), torch.from_numpy(t), beta=-1.0),
                          contains=["negative values for beta"], name="smooth_l1_loss(beta=-1)")


@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True), (False, True)])
def test_legacy_size_average_reduce(size_average, reduce):
    arrays = [rand((3, 4), seed=7), rand((3, 4), seed=8)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_both("MSELoss", "mse_loss", arrays, [True, True], dict(size_average=size_average, reduce=reduce))


def test_mse_broadcast_warning():
    """A target of a different shape broadcasts, with torch's UserWarning pointing at the caller."""
    x, t = rand((3,)), rand((3, 1), seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = F.mse_loss(to_lib(LIB, x), to_lib(LIB, t))
    with warnings.catch_warnings(record=True) as ref_caught:
        warnings.simplefilter("always")
        ref = TF.mse_loss(torch.from_numpy(x), torch.from_numpy(t))
    assert len(ref_caught) == 1
    assert len(caught) == 1, f"{LIB_NAME} emitted {[str(w.message) for w in caught]}"
    w, rw = caught[0], ref_caught[0]
    assert w.category is rw.category is UserWarning
    msg = str(w.message)
    for fact in ("Using a target size", "[3, 1]", "different to the input size", "[3]", "broadcasting",
                 "Please ensure they have the same size"):
        assert fact in msg, f"warning {msg!r} lacks {fact!r} (torch: {rw.message})"
    assert w.filename == rw.filename == __file__, f"warning attributed to {w.filename}, torch's to {rw.filename}"
    np.testing.assert_allclose(float(out.item()), float(ref.item()), rtol=1e-6)


def test_mse_module_broadcast_warning():
    x, t = rand((4, 1)), rand((4,), seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.MSELoss()(to_lib(LIB, x), to_lib(LIB, t))
    assert len(caught) == 1 and "different to the input size" in str(caught[0].message)
    assert caught[0].category is UserWarning


def test_no_warning_for_same_shape():
    x = rand((4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(to_lib(LIB, x), to_lib(LIB, x))
        F.l1_loss(to_lib(LIB, x), to_lib(LIB, x))


def test_mse_size_mismatch_not_broadcastable_raises():
    x, t = rand((3,)), rand((4,), seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_exception(lambda: F.mse_loss(to_lib(LIB, x), to_lib(LIB, t)),
                              lambda: TF.mse_loss(torch.from_numpy(x), torch.from_numpy(t)),
                              contains=["size of tensor a (3) must match the size of tensor b (4)"],
                              name="mse_loss (3,) vs (4,)")


@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss", "cross_entropy"])
def test_invalid_reduction_raises(fn):
    x = rand((3, 4))
    t = np.array([0, 1, 2], np.int64) if fn == "cross_entropy" else rand((3, 4), seed=1)
    assert_same_exception(lambda: getattr(F, fn)(to_lib(LIB, x), to_lib(LIB, t), reduction="bad"),
                          lambda: getattr(TF, fn)(torch.from_numpy(x), torch.from_numpy(t), reduction="bad"),
                          contains=["bad is not a valid value for reduction"], name=f"{fn}(reduction='bad')")


# ---------------------------------------------------------------------------------------
# CrossEntropyLoss
# ---------------------------------------------------------------------------------------

def _ce_inputs(kind, seed=0, ignore=None):
    """(scores, class-index target) of the given layout."""
    rng = np.random.default_rng(seed)
    shapes = {"1d": ((5,), ()), "2d": ((6, 5), (6,)), "3d": ((3, 5, 4), (3, 4)), "4d": ((2, 5, 3, 2), (2, 3, 2))}
    xs, ts = shapes[kind]
    x = rng.uniform(-3, 3, xs).astype(np.float32)
    t = rng.integers(0, 5, ts).astype(np.int64)
    if ignore is not None and t.ndim:
        flat = t.reshape(-1)
        flat[::3] = ignore
    elif ignore is not None and t == ignore:  # 1-d input: keep its one target (all-ignored is tested apart)
        t = np.array((ignore + 1) % 5, np.int64)
    return x, t


CE_OPTIONS = [
    dict(),
    dict(reduction="sum"),
    dict(reduction="none"),
    dict(label_smoothing=0.1),
    dict(label_smoothing=0.3, reduction="sum"),
    dict(label_smoothing=0.2, reduction="none"),
    dict(ignore_index=2),
    dict(ignore_index=2, reduction="none"),
    dict(ignore_index=2, label_smoothing=0.1),
    dict(weight="w"),
    dict(weight="w", reduction="sum"),
    dict(weight="w", reduction="none"),
    dict(weight="w", ignore_index=1),
    dict(weight="w", label_smoothing=0.1),
    dict(weight="w", label_smoothing=0.2, ignore_index=3, reduction="none"),
    dict(weight="w", label_smoothing=0.2, ignore_index=3),
    dict(weight="w", label_smoothing=0.2, ignore_index=3, reduction="sum"),
]

W5 = np.array([0.5, 2.0, 1.0, 0.1, 3.0], np.float32)


def _opts(kw):
    return {k: (W5 if v == "w" else v) for k, v in kw.items()}


@pytest.mark.parametrize("kw", CE_OPTIONS, ids=str)
@pytest.mark.parametrize("kind", ["1d", "2d", "4d"])
def test_cross_entropy_indices(kind, kw):
    x, t = _ce_inputs(kind, seed=11, ignore=kw.get("ignore_index"))
    check_both_with_tensor_options("CrossEntropyLoss", "cross_entropy", [x, t], [True, False], _opts(kw))


@pytest.mark.parametrize("kw", [dict(), dict(reduction="none"), dict(ignore_index=0)], ids=str)
def test_cross_entropy_3d_input(kw):
    x, t = _ce_inputs("3d", seed=12, ignore=kw.get("ignore_index"))
    check_both_with_tensor_options("CrossEntropyLoss", "cross_entropy", [x, t], [True, False], _opts(kw))


def test_cross_entropy_default_ignore_index():
    x, t = _ce_inputs("2d", seed=13, ignore=-100)
    check_both("CrossEntropyLoss", "cross_entropy", [x, t], [True, False])
    check_both("CrossEntropyLoss", "cross_entropy", [x, t], [True, False], dict(reduction="none"))


@pytest.mark.parametrize("kw", [dict(), dict(weight="w"), dict(label_smoothing=0.1), dict(reduction="sum"),
                                dict(weight="w", reduction="none")], ids=str)
@pytest.mark.parametrize("loss", [("CrossEntropyLoss", "cross_entropy"), ("NLLLoss", "nll_loss")], ids=str)
@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_all_targets_ignored(kind, loss, kw):
    """Every target ignored: mean reduction is 0/0 = nan in torch, but the gradient is zero, not nan."""
    if loss[0] == "NLLLoss" and "label_smoothing" in kw:
        pytest.skip("NLLLoss has no label_smoothing")
    x, t = _ce_inputs(kind, seed=14)
    t = np.full(t.shape, -100, np.int64)
    check_both_with_tensor_options(loss[0], loss[1], [x, t], [True, False], _opts(kw))


@pytest.mark.parametrize("kw", [dict(), dict(reduction="sum"), dict(reduction="none"), dict(weight="w"),
                                dict(label_smoothing=0.15), dict(weight="w", label_smoothing=0.25),
                                dict(weight="w", label_smoothing=0.25, reduction="none")], ids=str)
@pytest.mark.parametrize("shape", [(6, 5), (5,), (2, 5, 3, 2)], ids=str)
def test_cross_entropy_probabilities(shape, kw):
    rng = np.random.default_rng(15)
    x = rng.uniform(-3, 3, shape).astype(np.float32)
    p = rng.uniform(0, 1, shape)
    p = (p / p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)).astype(np.float32)
    check_both_with_tensor_options("CrossEntropyLoss", "cross_entropy", [x, p], [True, True], _opts(kw))


def test_cross_entropy_large_logits():
    x = np.array([[1000.0, 0.0, -1000.0], [-1e4, 1e4, 0.0], [88.0, 89.0, 90.0]], np.float32)
    t = np.array([2, 1, 0], np.int64)
    check_both("CrossEntropyLoss", "cross_entropy", [x, t], [True, False])
    check_both("CrossEntropyLoss", "cross_entropy", [x, t], [True, False], dict(label_smoothing=0.1))


def test_cross_entropy_float64():
    x, t = _ce_inputs("2d", seed=16)
    x = x.astype(np.float64)
    check_both("CrossEntropyLoss", "cross_entropy", [x, t], [True, False], rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------
# NLLLoss
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [dict(), dict(reduction="sum"), dict(reduction="none"), dict(weight="w"),
                                dict(weight="w", reduction="none"), dict(weight="w", reduction="sum"),
                                dict(ignore_index=2), dict(weight="w", ignore_index=2)], ids=str)
@pytest.mark.parametrize("kind", ["1d", "2d", "3d", "4d"])
def test_nll_loss(kind, kw):
    x, t = _ce_inputs(kind, seed=17, ignore=kw.get("ignore_index"))
    check_both_with_tensor_options("NLLLoss", "nll_loss", [x, t], [True, False], _opts(kw))


def test_nll_after_log_softmax_equals_cross_entropy():
    x, t = _ce_inputs("2d", seed=18)

    def fn(lib, x, t):
        return fn_of(lib).nll_loss(fn_of(lib).log_softmax(x, 1), t)
    check_grad(fn, [x, t], [True, False], *TOL, name="nll_loss(log_softmax)")


# ---------------------------------------------------------------------------------------
# BCELoss, BCEWithLogitsLoss
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce(reduction, weighted):
    x = rand((4, 3), seed=19, low=0.02, high=0.98)
    t = rand((4, 3), seed=20, low=0.0, high=1.0)
    kw = dict(reduction=reduction)
    if weighted:
        kw["weight"] = rand((4, 3), seed=21, low=0.1, high=2.0)
    check_both_with_tensor_options("BCELoss", "binary_cross_entropy", [x, t], [True, True], kw, rtol=1e-5,
                                   atol=1e-5)


def test_bce_weight_broadcast():
    x = rand((4, 3), seed=22, low=0.02, high=0.98)
    t = (rand((4, 3), seed=23) > 0).astype(np.float32)
    check_both_with_tensor_options("BCELoss", "binary_cross_entropy", [x, t], [True, False],
                                   dict(weight=np.array([0.5, 1.0, 2.0], np.float32)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_inputs_exactly_0_and_1(reduction):
    """log is clamped at -100; the gradient is (x - t) / max(x (1 - x), 1e-12)."""
    x = np.array([0.0, 0.0, 1.0, 1.0, 0.5, 1e-30], np.float32)
    t = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0], np.float32)
    check_both("BCELoss", "binary_cross_entropy", [x, t], [True, False], dict(reduction=reduction), rtol=1e-5,
               atol=1e-5)


def test_bce_out_of_range_input_raises():
    x, t = np.array([0.5, 1.5], np.float32), np.array([0.0, 1.0], np.float32)
    assert_same_exception(lambda: F.binary_cross_entropy(to_lib(LIB, x), to_lib(LIB, t)),
                          lambda: TF.binary_cross_entropy(torch.from_numpy(x), torch.from_numpy(t)),
                          contains=["all elements of input should be between 0 and 1"], name="BCE input 1.5")


@pytest.mark.parametrize("kw", [dict(), dict(reduction="sum"), dict(reduction="none"), dict(weight="wb"),
                                dict(pos_weight="pw"), dict(weight="wb", pos_weight="pw", reduction="none"),
                                dict(pos_weight="pw", reduction="sum")], ids=str)
def test_bce_with_logits(kw):
    x = rand((4, 3), seed=24, low=-4, high=4)
    t = rand((4, 3), seed=25, low=0, high=1)
    opts = {k: {"wb": rand((4, 3), seed=26, low=0.1, high=2.0),
                "pw": np.array([0.5, 2.0, 3.0], np.float32)}.get(v, v) for k, v in kw.items()}
    check_both_with_tensor_options("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", [x, t], [True, True],
                                   opts)


@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_bce_with_logits_large_logits(pos_weight):
    """No overflow at +-100 and +-1000: log(1 + e^-|x|) form, exact saturated gradients."""
    x = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0] * 2, np.float32)
    t = np.array([0.0] * 7 + [1.0] * 7, np.float32)
    kw = {} if pos_weight is None else dict(pos_weight=np.array([pos_weight], np.float32))
    check_both_with_tensor_options("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", [x, t], [True, True],
                                   dict(kw, reduction="none"))
    check_both_with_tensor_options("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", [x, t], [True, True], kw)


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------

def _raises(fn_name, x, t, contains, name, **kw):
    assert_same_exception(lambda: getattr(F, fn_name)(to_lib(LIB, x), to_lib(LIB, t), **kw),
                          lambda: getattr(TF, fn_name)(torch.from_numpy(x), torch.from_numpy(t), **kw),
                          contains=contains, name=name)


X35 = rand((3, 5), seed=30)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("dtype", ["float32", "int32", "float64"])
def test_wrong_target_dtype(fn, dtype):
    """Class indices must be Long (int64); torch: 'expected target dtype to be Long or Byte, but got Int'."""
    t = np.array([1, 2, 3]).astype(dtype)
    if fn == "cross_entropy" and dtype.startswith("float"):
        pytest.skip("float targets of the input's shape are class probabilities; see test_prob_target_*")
    names = {"float32": ("Float", "float32"), "int32": ("Int", "int32"), "float64": ("Double", "float64")}
    _raises(fn, X35, t, ["Long", names[dtype]], f"{fn} with {dtype} target")


def test_uint8_class_indices_accepted():
    """torch takes Long or Byte class indices."""
    x, t = _ce_inputs("2d", seed=40)
    check_both("CrossEntropyLoss", "cross_entropy", [x, t.astype(np.uint8)], [True, False])


def test_label_smoothing_out_of_range_raises():
    t = np.array([1, 2, 3], np.int64)
    _raises("cross_entropy", X35, t, ["label_smoothing must be between 0.0 and 1.0", "1.5"],
            "cross_entropy(label_smoothing=1.5)", label_smoothing=1.5)


def test_prob_target_of_other_dtype_shape_raises():
    _raises("cross_entropy", X35, rand((3, 4), seed=1), [], "cross_entropy probabilities of shape (3, 4)")


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("bad", [5, 7, -3])
def test_class_index_out_of_range(fn, bad):
    t = np.array([1, bad, 0], np.int64)
    _raises(fn, X35, t, [f"Target {bad} is out of bounds"], f"{fn} with class {bad} of 5")


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_class_index_out_of_range_with_ignore(fn):
    t = np.array([1, 9, 0], np.int64)
    _raises(fn, X35, t, ["Target 9 is out of bounds"], f"{fn} class 9, ignore_index 1", ignore_index=1)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_batch_size_mismatch(fn):
    t = np.array([1, 2], np.int64)
    _raises(fn, X35, t, ["Expected input batch_size (3) to match target batch_size (2)"], f"{fn} batch 3 vs 2")


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_spatial_target_size_mismatch(fn):
    x = rand((2, 3, 4), seed=31)
    t = np.zeros((2, 3), np.int64)
    _raises(fn, x, t, ["Expected target size [2, 4], got [2, 3]"], f"{fn} spatial mismatch")


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_weight_of_wrong_length(fn):
    t = np.array([1, 2, 3], np.int64)
    assert_same_exception(
        lambda: getattr(F, fn)(to_lib(LIB, X35), to_lib(LIB, t), weight=to_lib(LIB, np.ones(4, np.float32))),
        lambda: getattr(TF, fn)(torch.from_numpy(X35), torch.from_numpy(t), weight=torch.ones(4)),
        contains=["weight tensor should be defined either for all 5 classes or no classes",
                  "shape: [4]"], name=f"{fn} with 4 weights for 5 classes")


def test_bce_target_size_mismatch():
    x, t = rand((3,), low=0.1, high=0.9), rand((4,), low=0.1, high=0.9)
    _raises("binary_cross_entropy", x, t, ["Using a target size", "different to the input size"],
            "binary_cross_entropy (3,) vs (4,)")


def test_bce_with_logits_target_size_mismatch():
    x, t = rand((3,)), rand((4,), low=0.1, high=0.9)
    _raises("binary_cross_entropy_with_logits", x, t, ["Target size", "must be the same as input size"],
            "binary_cross_entropy_with_logits (3,) vs (4,)")


def test_loss_module_reprs_and_buffers():
    from nn_compare import assert_same_repr, state_signature
    w = np.ones(5, np.float32)
    for ctor in (lambda m, lib: m.MSELoss(), lambda m, lib: m.L1Loss(reduction="sum"),
                 lambda m, lib: m.SmoothL1Loss(beta=0.5), lambda m, lib: m.CrossEntropyLoss(),
                 lambda m, lib: m.CrossEntropyLoss(weight=to_lib(lib, w), ignore_index=3, label_smoothing=0.1),
                 lambda m, lib: m.NLLLoss(weight=to_lib(lib, w)), lambda m, lib: m.BCELoss(),
                 lambda m, lib: m.BCEWithLogitsLoss(pos_weight=to_lib(lib, w))):
        ref, lib = ctor(tnn, torch), ctor(nn, LIB)
        assert_same_repr(lib, ref)
        assert state_signature(lib) == state_signature(ref)
        assert getattr(lib, "reduction") == getattr(ref, "reduction")


# ---------------------------------------------------------------------------------------
# HuberLoss, KLDivLoss (also in ember.nn)
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [1.0, 0.3, 2.5])
def test_huber(delta, reduction):
    x = rand((5, 4), seed=41, low=-3, high=3)
    t = rand((5, 4), seed=42, low=-3, high=3)
    x[0, :2] = t[0, :2] + np.array([delta, -delta], np.float32)
    check_both("HuberLoss", "huber_loss", [x, t], [True, True], dict(reduction=reduction, delta=delta))


@pytest.mark.parametrize("kw", [dict(reduction="batchmean"), dict(reduction="sum"), dict(reduction="none"),
                                dict(reduction="mean"), dict(reduction="batchmean", log_target=True)], ids=str)
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
def test_kl_div(kw):
    logp = np.log(np.random.default_rng(43).dirichlet(np.ones(5), size=4)).astype(np.float32)
    q = np.random.default_rng(44).dirichlet(np.ones(5), size=4).astype(np.float32)
    target = np.log(q).astype(np.float32) if kw.get("log_target") else q
    check_both("KLDivLoss", "kl_div", [logp, target], [True, True], kw)


def test_kl_div_zero_target_probability():
    """A zero-probability target contributes 0 to the loss and to the input gradient.  (torch's
    gradient with respect to such a target is nan, so the target's gradient is not compared.)"""
    logp = np.log(np.random.default_rng(45).dirichlet(np.ones(5), size=4)).astype(np.float32)
    q = np.random.default_rng(46).dirichlet(np.ones(5), size=4).astype(np.float32)
    q[0, 0] = q[2, 3] = 0.0
    check_both("KLDivLoss", "kl_div", [logp, q], [True, False], dict(reduction="sum"))
