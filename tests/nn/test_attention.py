"""Attention vs torch: F.scaled_dot_product_attention, nn.MultiheadAttention and the Transformer layers.

The same weights (copied through NumPy) and inputs go to both libraries; outputs, attention weights, the
gradients of every input (query/key/value, float masks) and of every parameter must agree, in eval mode
and in train mode with dropout 0, for every kind of mask. Dropout itself is checked by statistics (the
random streams differ). Bad input must raise torch's exception type.
"""
import math
import pathlib
import sys
import warnings

import numpy as np
import pytest
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from nn_compare import (LIB, LIB_NAME, TOL, F, TF, assert_same, assert_same_repr, copy_weights, nn,  # noqa: E402
                        rand, randn, state_signature, tnn, to_lib, to_numpy, upstream_gradients)
from torch_compare import assert_same_exception, check_grad  # noqa: E402

DTYPES = ["float32", "float64"]
ATOL = {"float32": (2e-4, 2e-5), "float64": (1e-9, 1e-10)}


def lib_of(lib):
    return torch if lib is torch else LIB


def fn_of(lib):
    return TF if lib is torch else F


# =======================================================================================
# scaled_dot_product_attention
# =======================================================================================

def _bool_mask(shape, seed, dead_row=False):
    m = np.random.default_rng(seed).uniform(size=shape) > 0.3
    m[..., 0] = True   # every row may attend somewhere...
    if dead_row:
        m[..., 1, :] = False   # ...except one row masked everywhere
    return m


SDPA_CASES = {
    # name: (q shape, k shape, v shape, mask builder(dtype) -> array or None, kwargs)
    "plain": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), None, {}),
    "bool 2-D": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), lambda dt: _bool_mask((4, 5), 1), {}),
    "bool broadcast": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), lambda dt: _bool_mask((2, 1, 4, 5), 2), {}),
    "bool dead row": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), lambda dt: _bool_mask((4, 5), 3, True), {}),
    "float additive": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), lambda dt: randn((2, 3, 4, 5), 4, dt), {}),
    "float -inf": ((2, 4, 8), (2, 5, 8), (2, 5, 8),
                   lambda dt: np.where(_bool_mask((4, 5), 5, True), 0.0, -np.inf).astype(dt), {}),
    "causal": ((2, 3, 6, 8), (2, 3, 6, 8), (2, 3, 6, 8), None, {"is_causal": True}),
    "causal L<S": ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), None, {"is_causal": True}),
    "causal L>S": ((1, 2, 6, 8), (1, 2, 4, 8), (1, 2, 4, 8), None, {"is_causal": True}),
    "causal and bool": ((2, 3, 5, 8), (2, 3, 5, 8), (2, 3, 5, 8), lambda dt: _bool_mask((5, 5), 6),
                        {"is_causal": True}),
    "scale": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), lambda dt: _bool_mask((4, 5), 7), {"scale": 0.37}),
    "unbatched 2-D": ((4, 8), (5, 8), (5, 3), None, {}),
    "3-D": ((3, 4, 8), (3, 5, 8), (3, 5, 8), lambda dt: randn((4, 5), 8, dt), {}),
    "gqa": ((2, 6, 4, 8), (2, 2, 5, 8), (2, 2, 5, 8), None, {"enable_gqa": True}),
    "batch broadcast": ((2, 3, 4, 8), (1, 3, 5, 8), (1, 3, 5, 8), None, {}),
    "dropout_p=0": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), None, {"dropout_p": 0.0}),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(SDPA_CASES))
def test_sdpa_matches_torch(case, dtype):
    qs, ks, vs, mask_of, kwargs = SDPA_CASES[case]
    arrays = [randn(qs, 10, dtype), randn(ks, 11, dtype), randn(vs, 12, dtype)]
    mask = None if mask_of is None else mask_of(dtype)
    float_mask = bool(mask is not None and mask.dtype != np.bool_ and np.isfinite(mask).all())
    if mask is not None:
        arrays.append(mask)

    def fn(lib, q, k, v, m=None):
        return fn_of(lib).scaled_dot_product_attention(q, k, v, attn_mask=m, **kwargs)

    rtol, atol = ATOL[dtype]
    check_grad(fn, arrays, [True, True, True] + [float_mask] * (mask is not None), rtol=rtol, atol=atol,
               name=f"sdpa {case}")


def test_sdpa_dead_rows_are_zero_not_nan():
    q, k, v = (LIB.tensor(randn(s, i)) for i, s in enumerate([(4, 8), (5, 8), (5, 8)]))
    mask = LIB.ones(4, 5, dtype=LIB.bool)
    mask[2] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert np.all(to_numpy(out)[2] == 0) and np.isfinite(to_numpy(out)).all()


@pytest.mark.parametrize("case", ["bool 2-D", "float additive", "causal and bool", "bool dead row"])
def test_sdpa_reference_route_matches_fused(case):
    """The two routes of ember.ops.attention agree on values and on gradients (float64)."""
    if LIB_NAME != "ember":
        pytest.skip("ember's routes")
    from ember.ops import attention as A
    from ember.nn import _attention
    qs, ks, vs, mask_of, kwargs = SDPA_CASES[case]
    arrays = [randn(qs, 20, "float64"), randn(ks, 21, "float64"), randn(vs, 22, "float64")]
    mask = None if mask_of is None else LIB.tensor(mask_of("float64"))
    bias = _attention._sdpa_bias(mask, kwargs.get("is_causal", False), qs[-2], ks[-2], np.float64)
    results = []
    for route in A.ROUTES:
        ts = [LIB.tensor(a, requires_grad=True) for a in arrays]
        out = A.attention(*ts, bias=bias, scale=0.3, route=route)
        out.backward(LIB.tensor(randn(out.shape, 23, "float64")))
        results.append([to_numpy(out)] + [to_numpy(t.grad) for t in ts])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_sdpa_double_backward_by_finite_differences():
    """create_graph=True goes through the reference route: the gradient's own gradient is right."""
    from torch_compare import finite_difference_check

    def grad_of_sum_sq(lib, q, k, v):
        qq = q.clone().requires_grad_(True) if not q.requires_grad else q
        out = fn_of(lib).scaled_dot_product_attention(qq, k, v, attn_mask=lib.tensor(_bool_mask((4, 5), 30)))
        (g,) = lib_of(lib).autograd.grad((out * out).sum(), qq, create_graph=True)
        return g

    arrays = [randn((2, 4, 3), 31, "float64"), randn((2, 5, 3), 32, "float64"), randn((2, 5, 3), 33, "float64")]
    finite_difference_check(grad_of_sum_sq, arrays, [True, True, True], eps=1e-6, rtol=1e-5, atol=1e-7,
                            name="sdpa double backward")


def test_sdpa_dropout_statistics():
    """With q = 0 every weight is 1/S; v = identity shows the dropped-out weights themselves."""
    p, s = 0.3, 50
    LIB.manual_seed(0)
    q = LIB.zeros(8, 40, s, 4)
    k = LIB.zeros(8, 40, s, 4)
    v = LIB.eye(s).expand(8, 40, s, s)
    out = to_numpy(F.scaled_dot_product_attention(q, k, v, dropout_p=p))
    zero = (out == 0).mean()
    assert abs(zero - p) < 0.01, zero
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 1 / (s * (1 - p)), rtol=1e-5)
    assert abs(out.mean() - 1 / s) < 0.02 / s
    # a different draw each call, the same under the same seed
    LIB.manual_seed(0)
    again = to_numpy(F.scaled_dot_product_attention(q, k, v, dropout_p=p))
    np.testing.assert_array_equal(out, again)
    assert not np.array_equal(out, to_numpy(F.scaled_dot_product_attention(q, k, v, dropout_p=p)))


def test_sdpa_dropout_gradient_uses_the_same_mask():
    """Backward applies the forward's dropout mask: the dropped weights get no gradient through v."""
    LIB.manual_seed(1)
    s = 6
    q = LIB.zeros(1, s, 4, requires_grad=True)
    k = LIB.zeros(1, s, 4)
    v = LIB.tensor(np.eye(s, dtype=np.float32)[None], requires_grad=True)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    out.sum().backward()
    dropped = to_numpy(out)[0]           # out = dropped weights (v is the identity)
    # d out.sum() / d v[j, :] = sum_i dropped[i, j]
    np.testing.assert_allclose(to_numpy(v.grad)[0], np.repeat(dropped.sum(0)[:, None], s, 1), rtol=1e-6)


SDPA_ERRORS = {
    "mask dtype long": lambda lib, q, k, v: fn_of(lib).scaled_dot_product_attention(
        q, k, v, attn_mask=lib.zeros(4, 5, dtype=lib.int64)),
    "mask dtype double": lambda lib, q, k, v: fn_of(lib).scaled_dot_product_attention(
        q, k, v, attn_mask=lib.zeros(4, 5, dtype=lib.float64)),
    "mask shape": lambda lib, q, k, v: fn_of(lib).scaled_dot_product_attention(q, k, v, attn_mask=lib.zeros(3, 5)),
    "qkv dtypes": lambda lib, q, k, v: fn_of(lib).scaled_dot_product_attention(q, k.double(), v),
    "1-D": lambda lib, q, k, v: fn_of(lib).scaled_dot_product_attention(q[0, 0, 0], k[0, 0, 0], v[0, 0, 0]),
    "dropout_p": lambda lib, q, k, v: fn_of(lib).scaled_dot_product_attention(q, k, v, dropout_p=1.5),
    "head size": lambda lib, q, k, v: fn_of(lib).scaled_dot_product_attention(q, k[..., :7], v),
    "gqa heads": lambda lib, q, k, v: fn_of(lib).scaled_dot_product_attention(q, k[:, :2], v[:, :2],
                                                                              enable_gqa=True),
}
SDPA_ERROR_WORDS = {"mask dtype long": ["attn_mask dtype", "long"], "mask dtype double": ["attn_mask dtype", "double"],
                    "qkv dtypes": ["same dtype", "double"], "1-D": ["at least 2 dimensional"],
                    "dropout_p": ["1.5"], "gqa heads": ["divide"]}


@pytest.mark.parametrize("case", list(SDPA_ERRORS))
def test_sdpa_bad_input(case):
    arrays = [randn((2, 3, 4, 8), 1), randn((2, 3, 5, 8), 2), randn((2, 3, 5, 8), 3)]
    assert_same_exception(lambda: SDPA_ERRORS[case](LIB, *[to_lib(LIB, a) for a in arrays]),
                          lambda: SDPA_ERRORS[case](torch, *[to_lib(torch, a) for a in arrays]),
                          contains=SDPA_ERROR_WORDS.get(case, ()), name=f"sdpa {case}")


# =======================================================================================
# helpers: a module called on several inputs, in both libraries
# =======================================================================================

def randomize(ref_module, seed=0):
    """Non-trivial values for every parameter (biases and LayerNorms start at zeros and ones)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in ref_module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.3 + (1.0 if p.dim() == 1 else 0.0) * 0.1)


def pair(cls_name, *args, dtype="float32", seed=0, **kwargs):
    ref = getattr(tnn, cls_name)(*args, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lib = getattr(nn, cls_name)(*args, **kwargs)
    if dtype == "float64":
        ref.double()
        lib.double()
    randomize(ref, seed)
    copy_weights(ref, lib)
    return ref, lib


def compare_call(ref, lib, call, arrays, grad_mask, *, train, dtype="float32", name="module", masks=()):
    """call(lib, module, *tensors) -> output or tuple of outputs, run in both libraries and compared:
    outputs, the gradients of the inputs in grad_mask and of every parameter."""
    rtol, atol = ATOL[dtype]
    ref.train(train)
    lib.train(train)
    ref.zero_grad()
    lib.zero_grad()
    r_in = [to_lib(torch, a, requires_grad=g) for a, g in zip(arrays, grad_mask)]
    l_in = [to_lib(LIB, a, requires_grad=g) for a, g in zip(arrays, grad_mask)]
    r_out = call(torch, ref, *r_in)
    l_out = call(LIB, lib, *l_in)
    r_list = [o for o in (r_out if isinstance(r_out, tuple) else (r_out,))]
    l_list = [o for o in (l_out if isinstance(l_out, tuple) else (l_out,))]
    assert len(r_list) == len(l_list)
    for i, (o, r) in enumerate(zip(l_list, r_list)):
        if r is None:
            assert o is None, f"{name}: output {i} is not None as torch's"
            continue
        assert_same(o, r, rtol, atol, name=f"{name} output {i}")
    diff = [(o, r) for o, r in zip(l_list, r_list) if r is not None and r.requires_grad]
    grads = upstream_gradients(tuple(r for _, r in diff))
    finite = [np.isfinite(to_numpy(r)).all() for _, r in diff]
    for k, ((o, r), g, ok) in enumerate(zip(diff, grads, finite)):
        if not ok:   # NaN rows (need_weights with a row masked everywhere): torch's gradient is NaN as well
            continue
        keep = k < len(diff) - 1
        r.backward(to_lib(torch, g), retain_graph=keep)
        o.backward(to_lib(LIB, g), retain_graph=keep)
    for i, (x, rx) in enumerate(zip(l_in, r_in)):
        if grad_mask[i] and rx.grad is not None:
            assert x.grad is not None, f"{name}: input {i} has no gradient"
            assert_same(x.grad, rx.grad, rtol, atol, name=f"{name} grad of input {i}")
    lp = dict(lib.named_parameters())
    for pname, rp in ref.named_parameters():
        if rp.grad is None:
            assert lp[pname].grad is None, f"{name}: {pname}.grad set, torch's is None"
        else:
            assert lp[pname].grad is not None, f"{name}: {pname}.grad is None"
            assert_same(lp[pname].grad, rp.grad, rtol, atol, name=f"{name} grad of {pname}")
    return l_out, r_out


# =======================================================================================
# MultiheadAttention
# =======================================================================================

MHA_OPTIONS = {
    "default": {},
    "batch_first": {"batch_first": True},
    "no bias": {"bias": False},
    "bias_kv": {"add_bias_kv": True},
    "zero_attn": {"add_zero_attn": True},
    "kdim vdim": {"kdim": 5, "vdim": 3},
    "everything": {"add_bias_kv": True, "add_zero_attn": True, "kdim": 5, "vdim": 7, "batch_first": True},
}


def _mha_inputs(opts, l=4, s=5, n=3, e=8, dtype="float32", self_attention=False):
    bf = opts.get("batch_first", False)
    shape = (lambda length, dim: (n, length, dim)) if bf else (lambda length, dim: (length, n, dim))
    q = randn(shape(l, e), 40, dtype)
    if self_attention:
        return [q]
    return [q, randn(shape(s, opts.get("kdim", e)), 41, dtype), randn(shape(s, opts.get("vdim", e)), 42, dtype)]


MASKS = {
    "none": lambda l, s, n, h, dt: {},
    "bool attn_mask": lambda l, s, n, h, dt: {"attn_mask": ~_bool_mask((l, s), 50)},
    "float attn_mask": lambda l, s, n, h, dt: {"attn_mask": randn((l, s), 51, dt)},
    "3-D attn_mask": lambda l, s, n, h, dt: {"attn_mask": ~_bool_mask((n * h, l, s), 52)},
    "key_padding_mask": lambda l, s, n, h, dt: {"key_padding_mask": ~_bool_mask((n, s), 53)},
    "both bool": lambda l, s, n, h, dt: {"attn_mask": ~_bool_mask((l, s), 54),
                                         "key_padding_mask": ~_bool_mask((n, s), 55)},
    "both float": lambda l, s, n, h, dt: {"attn_mask": randn((l, s), 56, dt),
                                          "key_padding_mask": np.where(_bool_mask((n, s), 57), 0.0,
                                                                       -np.inf).astype(dt)},
    "dead row": lambda l, s, n, h, dt: {"attn_mask": ~_bool_mask((l, s), 58, dead_row=True)},
}


def _mha_call(mask_arrays, **kw):
    def call(lib, m, *ts):
        q, k, v = ts if len(ts) == 3 else (ts[0], ts[0], ts[0])
        masks = {name: to_lib(lib, a) for name, a in mask_arrays.items()}
        return m(q, k, v, **masks, **kw)
    return call


@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("option", list(MHA_OPTIONS))
def test_multihead_attention(option, mask, need_weights, average):
    opts = MHA_OPTIONS[option]
    e, h, l, s, n = 8, 2, 4, 5, 3
    extra = 1 * opts.get("add_bias_kv", False) + 1 * opts.get("add_zero_attn", False)
    mask_arrays = MASKS[mask](l, s, n, h, "float32")
    if extra:   # the masks grow by PyTorch's padding; build them for the keys before it
        pass
    ref, lib = pair("MultiheadAttention", e, h, **opts)
    arrays = _mha_inputs(opts, l, s, n, e)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch warns about mismatched mask types ("both float" is fine)
        for train in (False, True):
            compare_call(ref, lib, _mha_call(mask_arrays, need_weights=need_weights, average_attn_weights=average),
                         arrays, [True] * 3, train=train, name=f"MHA {option} {mask}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mask", ["none", "bool attn_mask", "key_padding_mask", "both bool", "dead row",
                                  "float attn_mask", "3-D attn_mask"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_self_attention_fast_route(batch_first, mask, dtype):
    """query is key is value and need_weights=False: the packed route."""
    e, h, l, n = 8, 2, 5, 3
    ref, lib = pair("MultiheadAttention", e, h, batch_first=batch_first, dtype=dtype)
    x = _mha_inputs({"batch_first": batch_first}, l, l, n, e, dtype, self_attention=True)
    mask_arrays = MASKS[mask](l, l, n, h, dtype)
    for train in (False, True):
        compare_call(ref, lib, _mha_call(mask_arrays, need_weights=False), x, [True], train=train, dtype=dtype,
                     name=f"MHA self {mask}")


def test_multihead_attention_float_mask_gradient():
    ref, lib = pair("MultiheadAttention", 8, 2)
    x = randn((4, 3, 8), 60)
    m = randn((4, 4), 61)

    def call(lib_, mod, x, m):
        return mod(x, x, x, attn_mask=m, need_weights=False)[0]
    compare_call(ref, lib, call, [x, m], [True, True], train=False, name="MHA float mask grad")


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_unbatched(need_weights):
    ref, lib = pair("MultiheadAttention", 8, 2, batch_first=True)
    x = randn((4, 8), 62)
    kv = randn((6, 8), 63)
    for masks in ({}, {"key_padding_mask": ~_bool_mask((6,), 64)}, {"attn_mask": ~_bool_mask((2, 4, 6), 65)}):
        compare_call(ref, lib, _mha_call(masks, need_weights=need_weights), [x, kv, kv], [True] * 3, train=False,
                     name="MHA unbatched")
    compare_call(ref, lib, _mha_call({}, need_weights=need_weights), [x], [True], train=True,
                 name="MHA unbatched self")


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_is_causal(need_weights):
    ref, lib = pair("MultiheadAttention", 8, 2)
    x = randn((5, 2, 8), 66)
    causal = np.triu(np.ones((5, 5), bool), 1)
    for masks in ({"attn_mask": causal}, {"attn_mask": causal, "key_padding_mask": ~_bool_mask((2, 5), 67)}):
        compare_call(ref, lib, _mha_call(masks, need_weights=need_weights, is_causal=True), [x], [True], train=True,
                     name="MHA is_causal")


def test_multihead_attention_dead_row_weights_are_nan_like_torch():
    ref, lib = pair("MultiheadAttention", 8, 2)
    x = randn((4, 2, 8), 68)
    m = np.zeros((4, 4), bool)
    m[1] = True
    out, w = lib(*[LIB.tensor(x)] * 3, attn_mask=LIB.tensor(m))
    r_out, r_w = ref(*[torch.tensor(x)] * 3, attn_mask=torch.tensor(m))
    assert np.isnan(to_numpy(w)[:, 1]).all() and np.isnan(r_w.detach().numpy()[:, 1]).all()
    assert_same(out, r_out, 2e-4, 2e-5, name="MHA dead row, need_weights")
    out, _ = lib(*[LIB.tensor(x)] * 3, attn_mask=LIB.tensor(m), need_weights=False)
    r_out, _ = ref(*[torch.tensor(x)] * 3, attn_mask=torch.tensor(m), need_weights=False)
    assert_same(out, r_out, 2e-4, 2e-5, name="MHA dead row, SDPA route")


def test_multihead_attention_dropout_statistics():
    """Train mode drops attention weights with probability p (need_weights shows them)."""
    LIB.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, dropout=0.25)
    x = LIB.zeros(40, 30, 8)   # zero input: all weights equal (1/40)
    _, w = mha(x, x, x, average_attn_weights=False)
    w = to_numpy(w)
    assert abs((w == 0).mean() - 0.25) < 0.01
    np.testing.assert_allclose(w[w != 0], 1 / 40 / 0.75, rtol=1e-5)
    mha.eval()
    _, w = mha(x, x, x)
    np.testing.assert_allclose(to_numpy(w), 1 / 40, rtol=1e-5)
    # the fused route: the output averages dropped weights; in eval it is exact
    mha.train()
    LIB.manual_seed(1)
    y = LIB.randn(40, 30, 8)
    with LIB.no_grad():
        outs = [to_numpy(mha(y, y, y, need_weights=False)[0]) for _ in range(2)]
    assert not np.array_equal(*outs)


def test_multihead_attention_repr_state_dict_and_init():
    for kwargs in ({}, {"kdim": 4, "vdim": 6, "add_bias_kv": True}, {"bias": False}):
        ref = tnn.MultiheadAttention(8, 2, **kwargs)
        lib = nn.MultiheadAttention(8, 2, **kwargs)
        assert_same_repr(lib, ref, f"MultiheadAttention {kwargs}")
        assert state_signature(lib) == state_signature(ref)
        assert type(lib.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
        assert isinstance(lib.out_proj, nn.Linear)
    big = nn.MultiheadAttention(64, 4)
    w = to_numpy(big.in_proj_weight)
    bound = math.sqrt(6 / (64 + 192))   # xavier_uniform_ on the (3E, E) weight
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert (to_numpy(big.in_proj_bias) == 0).all() and (to_numpy(big.out_proj.bias) == 0).all()
    # state_dicts cross-load both ways
    ref = tnn.MultiheadAttention(8, 2, kdim=4, vdim=6, add_bias_kv=True)
    lib = nn.MultiheadAttention(8, 2, kdim=4, vdim=6, add_bias_kv=True)
    lib.load_state_dict({k: to_lib(LIB, to_numpy(v)) for k, v in ref.state_dict().items()})
    ref.load_state_dict({k: torch.from_numpy(to_numpy(v)) for k, v in lib.state_dict().items()})


MHA_ERRORS = {
    "embed_dim not divisible": (lambda lib: nn_of(lib).MultiheadAttention(10, 3), ["divisible"]),
    "embed_dim zero": (lambda lib: nn_of(lib).MultiheadAttention(0, 3), ["greater than 0"]),
    "4-D query": (lambda lib: nn_of(lib).MultiheadAttention(8, 2)(*[lib.zeros(2, 3, 4, 8)] * 3), ["4-D"]),
    "key rank": (lambda lib: nn_of(lib).MultiheadAttention(8, 2)(lib.zeros(3, 2, 8), lib.zeros(3, 8),
                                                                 lib.zeros(3, 8)), ["2-D"]),
    "wrong embed": (lambda lib: nn_of(lib).MultiheadAttention(8, 2)(*[lib.zeros(3, 2, 6)] * 3), ["6"]),
    "attn_mask shape": (lambda lib: nn_of(lib).MultiheadAttention(8, 2)(
        *[lib.zeros(3, 2, 8)] * 3, attn_mask=lib.zeros(3, 4)), ["2D attn_mask", "(3, 3)"]),
    "3-D attn_mask shape": (lambda lib: nn_of(lib).MultiheadAttention(8, 2)(
        *[lib.zeros(3, 2, 8)] * 3, attn_mask=lib.zeros(2, 3, 3)), ["3D attn_mask", "(4, 3, 3)"]),
    "attn_mask dtype": (lambda lib: nn_of(lib).MultiheadAttention(8, 2)(
        *[lib.zeros(3, 2, 8)] * 3, attn_mask=lib.zeros(3, 3, dtype=lib.int64)), ["bool and floating"]),
    "key_padding_mask shape": (lambda lib: nn_of(lib).MultiheadAttention(8, 2)(
        *[lib.zeros(3, 2, 8)] * 3, key_padding_mask=lib.zeros(2, 4, dtype=lib.bool)), ["key_padded_mask", "4"]),
    "key_padding_mask rank": (lambda lib: nn_of(lib).MultiheadAttention(8, 2)(
        *[lib.zeros(3, 2, 8)] * 3, key_padding_mask=lib.zeros(2, dtype=lib.bool)), ["key_padding_mask"]),
    "key_padding_mask dtype": (lambda lib: nn_of(lib).MultiheadAttention(8, 2)(
        *[lib.zeros(3, 2, 8)] * 3, key_padding_mask=lib.zeros(2, 3, dtype=lib.int32)), ["bool and floating"]),
    "is_causal without mask": (lambda lib: nn_of(lib).MultiheadAttention(8, 2)(
        *[lib.zeros(3, 2, 8)] * 3, is_causal=True), ["Need attn_mask"]),
    "key value shapes": (lambda lib: nn_of(lib).MultiheadAttention(8, 2)(
        lib.zeros(3, 2, 8), lib.zeros(4, 2, 8), lib.zeros(5, 2, 8)), ["does not match"]),
}


def nn_of(lib):
    return tnn if lib is torch else nn


@pytest.mark.parametrize("case", list(MHA_ERRORS))
def test_multihead_attention_bad_input(case):
    fn, words = MHA_ERRORS[case]
    assert_same_exception(lambda: fn(LIB), lambda: fn(torch), contains=words, name=f"MHA {case}")


# =======================================================================================
# Transformer layers
# =======================================================================================

LAYER_OPTIONS = {
    "default": {},
    "norm_first": {"norm_first": True},
    "gelu": {"activation": "gelu"},
    "batch_first": {"batch_first": True},
    "no bias": {"bias": False},
    "eps": {"layer_norm_eps": 1e-3},
}


def _src(bf, l, n, e, seed, dtype="float32"):
    return randn((n, l, e) if bf else (l, n, e), seed, dtype)


def _causal(length):
    return np.where(np.triu(np.ones((length, length), bool), 1), -np.inf, 0.0).astype(np.float32)


ENC_MASKS = {
    "none": lambda l, n: {},
    "float causal": lambda l, n: {"src_mask": _causal(l)},
    "bool mask": lambda l, n: {"src_mask": ~_bool_mask((l, l), 70)},
    "padding": lambda l, n: {"src_key_padding_mask": ~_bool_mask((n, l), 71)},
    "both": lambda l, n: {"src_mask": ~_bool_mask((l, l), 72), "src_key_padding_mask": ~_bool_mask((n, l), 73)},
    "causal hint": lambda l, n: {"src_mask": _causal(l), "is_causal": True},
}


def _masks_to(lib, masks):
    return {k: (to_lib(lib, v) if isinstance(v, np.ndarray) else v) for k, v in masks.items()}


@pytest.mark.parametrize("mask", list(ENC_MASKS))
@pytest.mark.parametrize("option", list(LAYER_OPTIONS))
def test_transformer_encoder_layer(option, mask):
    opts = dict(LAYER_OPTIONS[option])
    ref, lib = pair("TransformerEncoderLayer", 8, 2, 16, dropout=0.0, **opts)
    l, n = 5, 3
    x = _src(opts.get("batch_first", False), l, n, 8, 74)
    masks = ENC_MASKS[mask](l, n)

    def call(lib_, m, x):
        return m(x, **_masks_to(lib_, masks))
    for train in (False, True):
        compare_call(ref, lib, call, [x], [True], train=train, name=f"EncoderLayer {option} {mask}")


def test_transformer_encoder_layer_callable_activation_and_float64():
    for act in (tnn.GELU(), lambda t: t.sigmoid()):
        ref = tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=act).double()
        lib_act = nn.GELU() if isinstance(act, tnn.GELU) else act
        lib = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=lib_act).double()
        randomize(ref, 3)
        copy_weights(ref, lib)
        assert_same_repr(lib, ref, "EncoderLayer with a callable activation")
        compare_call(ref, lib, lambda lib_, m, x: m(x), [randn((4, 2, 8), 75, "float64")], [True], train=True,
                     dtype="float64", name="EncoderLayer float64")
    assert nn.TransformerEncoderLayer(8, 2, activation=nn.ReLU()).activation_relu_or_gelu == 1
    assert nn.TransformerEncoderLayer(8, 2, activation="gelu").activation_relu_or_gelu == 2


@pytest.mark.parametrize("option", list(LAYER_OPTIONS))
def test_transformer_decoder_layer(option):
    opts = LAYER_OPTIONS[option]
    bf = opts.get("batch_first", False)
    ref, lib = pair("TransformerDecoderLayer", 8, 2, 16, dropout=0.0, **opts)
    t, s, n = 4, 6, 3
    tgt, mem = _src(bf, t, n, 8, 76), _src(bf, s, n, 8, 77)
    mask_sets = [{}, {"tgt_mask": _causal(t), "tgt_is_causal": True},
                 {"tgt_mask": ~_bool_mask((t, t), 78), "memory_mask": ~_bool_mask((t, s), 79),
                  "tgt_key_padding_mask": ~_bool_mask((n, t), 80), "memory_key_padding_mask": ~_bool_mask((n, s), 81)}]
    for masks in mask_sets:
        def call(lib_, m, tgt, mem):
            return m(tgt, mem, **_masks_to(lib_, masks))
        for train in (False, True):
            compare_call(ref, lib, call, [tgt, mem], [True, True], train=train, name=f"DecoderLayer {option}")


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_encoder_and_decoder_stacks(batch_first):
    layer_ref = tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=batch_first)
    layer_lib = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=batch_first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = tnn.TransformerEncoder(layer_ref, 3, norm=tnn.LayerNorm(8), enable_nested_tensor=False)
        lib = nn.TransformerEncoder(layer_lib, 3, norm=nn.LayerNorm(8), enable_nested_tensor=False)
    randomize(ref, 5)
    copy_weights(ref, lib)
    assert_same_repr(lib, ref, "TransformerEncoder")
    assert state_signature(lib) == state_signature(ref)
    x = _src(batch_first, 5, 2, 8, 82)
    for masks in ({}, {"mask": _causal(5)}, {"src_key_padding_mask": ~_bool_mask((2, 5), 83)},
                  {"mask": _causal(5), "is_causal": True}):
        for train in (False, True):
            compare_call(ref, lib, lambda lib_, m, x: m(x, **_masks_to(lib_, masks)), [x], [True], train=train,
                         name="TransformerEncoder")
    dref = tnn.TransformerDecoder(tnn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=batch_first), 2,
                                  norm=tnn.LayerNorm(8))
    dlib = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=batch_first), 2,
                                 norm=nn.LayerNorm(8))
    randomize(dref, 6)
    copy_weights(dref, dlib)
    assert_same_repr(dlib, dref, "TransformerDecoder")
    mem = _src(batch_first, 6, 2, 8, 84)
    tgt = _src(batch_first, 4, 2, 8, 85)
    for masks in ({}, {"tgt_mask": _causal(4)}, {"tgt_mask": _causal(4), "memory_key_padding_mask":
                                                  ~_bool_mask((2, 6), 86)}):
        compare_call(dref, dlib, lambda lib_, m, t, mm: m(t, mm, **_masks_to(lib_, masks)), [tgt, mem],
                     [True, True], train=True, name="TransformerDecoder")


def test_transformer_encoder_nested_tensor_inference_zeroes_padding():
    """torch's inference route (batch_first, eval, no grad, padding mask) gives zeros at padded positions."""
    layer_ref = tnn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    layer_lib = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    ref = tnn.TransformerEncoder(layer_ref, 2).eval()
    lib = nn.TransformerEncoder(layer_lib, 2).eval()
    randomize(ref, 7)
    copy_weights(ref, lib)
    x = randn((3, 5, 8), 87)
    pad = np.zeros((3, 5), bool)
    pad[0, 3:] = True
    pad[2, 1:] = True
    with torch.no_grad():
        r = ref(torch.tensor(x), src_key_padding_mask=torch.tensor(pad))
    with LIB.no_grad():
        o = lib(LIB.tensor(x), src_key_padding_mask=LIB.tensor(pad))
    assert_same(o, r, 2e-4, 2e-5, name="nested-tensor inference")
    assert (to_numpy(o)[pad] == 0).all()


@pytest.mark.parametrize("option", ["default", "norm_first", "batch_first", "gelu"])
def test_transformer(option):
    opts = LAYER_OPTIONS[option]
    bf = opts.get("batch_first", False)
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, lib = pair("Transformer", **kw, **opts)
    src, tgt = _src(bf, 6, 2, 8, 88), _src(bf, 4, 2, 8, 89)
    masks = {"tgt_mask": _causal(4), "src_key_padding_mask": ~_bool_mask((2, 6), 90),
             "memory_key_padding_mask": ~_bool_mask((2, 6), 90)}
    for m in ({}, masks):
        for train in (False, True):
            compare_call(ref, lib, lambda lib_, mod, s, t: mod(s, t, **_masks_to(lib_, m)), [src, tgt],
                         [True, True], train=train, name=f"Transformer {option}")


def test_transformer_repr_init_and_mask():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = tnn.Transformer(16, 2, 1, 1, 32)
        lib = nn.Transformer(16, 2, 1, 1, 32)
    assert_same_repr(lib, ref, "Transformer")
    assert state_signature(lib) == state_signature(ref)
    # xavier_uniform_ on every parameter with more than one dimension, including in_proj_weight
    for name, p in lib.named_parameters():
        a = to_numpy(p)
        if a.ndim > 1:
            bound = math.sqrt(6 / (a.shape[0] + a.shape[1]))
            assert np.abs(a).max() <= bound and np.abs(a).max() > 0.8 * bound, name
    m = nn.Transformer.generate_square_subsequent_mask(4)
    assert_same(m, tnn.Transformer.generate_square_subsequent_mask(4), name="square subsequent mask")
    m64 = nn.Transformer.generate_square_subsequent_mask(3, dtype=LIB.float64)
    assert_same(m64, tnn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64), name="mask float64")


TRANSFORMER_ERRORS = {
    "batch": (lambda lib: nn_of(lib).Transformer(8, 2, 1, 1, 16)(lib.zeros(5, 2, 8), lib.zeros(4, 3, 8)),
              ["batch number"]),
    "features": (lambda lib: nn_of(lib).Transformer(8, 2, 1, 1, 16)(lib.zeros(5, 2, 6), lib.zeros(4, 2, 6)),
                 ["d_model"]),
    "activation": (lambda lib: nn_of(lib).TransformerEncoderLayer(8, 2, activation="tanh"), ["relu/gelu"]),
    "mask shape": (lambda lib: nn_of(lib).TransformerEncoderLayer(8, 2, 16)(lib.zeros(5, 2, 8),
                                                                            src_mask=lib.zeros(4, 4)),
                   ["2D attn_mask"]),
    "heads": (lambda lib: nn_of(lib).TransformerEncoderLayer(10, 4), ["divisible"]),
}


@pytest.mark.parametrize("case", list(TRANSFORMER_ERRORS))
def test_transformer_bad_input(case):
    fn, words = TRANSFORMER_ERRORS[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_exception(lambda: fn(LIB), lambda: fn(torch), contains=words, name=f"Transformer {case}")


def test_encoder_nested_tensor_warning_like_torch():
    for kwargs in ({}, {"batch_first": True}, {"batch_first": True, "norm_first": True}):
        with warnings.catch_warnings(record=True) as wr:
            warnings.simplefilter("always")
            tnn.TransformerEncoder(tnn.TransformerEncoderLayer(8, 2, **kwargs), 1)
        with warnings.catch_warnings(record=True) as wl:
            warnings.simplefilter("always")
            nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **kwargs), 1)
        assert [str(w.message) for w in wl] == [str(w.message) for w in wr]


def test_packed_self_attention_double_backward_by_finite_differences():
    """The packed route's create_graph backward (MultiheadAttention, need_weights=False) is right too.
    (PyTorch's CPU flash-attention kernel has no double backward: this checks ember against itself.)"""
    if LIB_NAME != "ember":
        pytest.skip("torch's flash attention backward is not differentiable")
    from torch_compare import finite_difference_check
    ref = tnn.MultiheadAttention(4, 2, batch_first=True).double()
    randomize(ref, 9)
    mods = {}

    def module_of(lib):
        if lib not in mods:
            m = ref if lib is torch else nn.MultiheadAttention(4, 2, batch_first=True).double()
            if lib is not torch:
                copy_weights(ref, m)
            mods[lib] = m
        return mods[lib]

    mask = ~_bool_mask((2, 3), 91)

    def grad_of_sum_sq(lib, x):
        xx = x if x.requires_grad else x.clone().requires_grad_(True)
        out = module_of(lib)(xx, xx, xx, need_weights=False, key_padding_mask=to_lib(lib, mask))[0]
        (g,) = lib_of(lib).autograd.grad((out * out).sum(), xx, create_graph=True)
        return g

    finite_difference_check(grad_of_sum_sq, [randn((2, 3, 4), 92, "float64")], [True], eps=1e-6, rtol=1e-5,
                            atol=1e-7, name="packed attention double backward")


@pytest.mark.parametrize("case", ["bool dead row", "float additive", "causal", "gqa"])
def test_sdpa_create_graph_gradients_match_torch(case):
    """Under create_graph=True the gradients come from the recorded-op backward: the same values."""
    qs, ks, vs, mask_of, kwargs = SDPA_CASES[case]
    arrays = [randn(qs, 93, "float64"), randn(ks, 94, "float64"), randn(vs, 95, "float64")]
    mask = None if mask_of is None else mask_of("float64")
    g = randn(tuple(qs[:-1]) + (vs[-1],) if case != "gqa" else qs, 96, "float64")
    grads = {}
    for lib in (torch, LIB):
        ts = [to_lib(lib, a, requires_grad=True) for a in arrays]
        m = None if mask is None else to_lib(lib, mask)
        out = fn_of(lib).scaled_dot_product_attention(*ts, attn_mask=m, **kwargs)
        grads[lib] = lib_of(lib).autograd.grad(out, ts, to_lib(lib, g), create_graph=lib is not torch)
    for a, b in zip(grads[LIB], grads[torch]):
        assert_same(a, b, 1e-9, 1e-10, name=f"sdpa create_graph {case}")


@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_self_attention_create_graph_gradients_match_torch(batch_first):
    ref, lib = pair("MultiheadAttention", 8, 2, batch_first=batch_first, dtype="float64")
    x = randn((3, 5, 8), 97, "float64")
    kpm = ~_bool_mask((3, 5) if batch_first else (5, 3), 98)
    g = randn((3, 5, 8), 99, "float64")
    grads = {}
    for lib_, mod in ((torch, ref), (LIB, lib)):
        xt = to_lib(lib_, x, requires_grad=True)
        out = mod(xt, xt, xt, key_padding_mask=to_lib(lib_, kpm), need_weights=False)[0]
        params = [p for _, p in mod.named_parameters()]
        grads[lib_] = lib_of(lib_).autograd.grad(out, [xt] + params, to_lib(lib_, g),
                                                 create_graph=lib_ is not torch)
    for a, b in zip(grads[LIB], grads[torch]):
        assert_same(a, b, 1e-9, 1e-10, name="packed create_graph")


# =======================================================================================
# the tensor ops attention needs
# =======================================================================================

def test_softmax_of_a_row_masked_everywhere_is_nan_like_torch():
    a = randn((3, 5), 100)
    a[1] = -np.inf
    for dim in (-1,):
        out = check_grad(lambda lib, x: lib.softmax(x, dim), [a], [False], name="softmax -inf row")
    r = torch.softmax(torch.tensor(a), -1)
    o = LIB.softmax(LIB.tensor(a), -1)
    assert_same(o, r, name="softmax -inf row")
    assert np.isnan(to_numpy(o)[1]).all()


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1)])
@pytest.mark.parametrize("input_shape", [(3, 4, 5), (1, 4, 5), (4, 5), (5,)])
def test_baddbmm(input_shape, beta, alpha):
    arrays = [randn(input_shape, 101, "float64"), randn((3, 4, 6), 102, "float64"), randn((3, 6, 5), 103, "float64")]
    check_grad(lambda lib, i, a, b: lib.baddbmm(i, a, b, beta=beta, alpha=alpha), arrays, [True] * 3,
               name="baddbmm")
    check_grad(lambda lib, i, a, b: i.baddbmm(a, b, beta=beta, alpha=alpha), arrays, [True] * 3,
               name="Tensor.baddbmm")


def test_baddbmm_bad_shapes():
    for shapes in [((2, 4, 5), (3, 4, 6), (3, 6, 5)), ((3, 4, 5), (3, 4, 6), (3, 7, 5))]:
        arrays = [randn(s, 104) for s in shapes]
        assert_same_exception(lambda: LIB.baddbmm(*[to_lib(LIB, a) for a in arrays]),
                              lambda: torch.baddbmm(*[to_lib(torch, a) for a in arrays]), name="baddbmm shapes")


@pytest.mark.parametrize("dtype", ["float32", "bool"])
def test_decoder_detects_a_causal_mask(dtype):
    """tgt_is_causal=None: the decoder compares tgt_mask with the causal mask (float -inf or bool)."""
    import ember.nn.modules.transformer as T
    causal = np.triu(np.ones((4, 4), bool), 1)
    mask = causal if dtype == "bool" else np.where(causal, -np.inf, 0).astype(np.float32)
    assert T._detect_is_causal_mask(LIB.tensor(mask), None, 4) is True
    assert T._detect_is_causal_mask(LIB.tensor(mask[::-1].copy()), None, 4) is False
    assert T._detect_is_causal_mask(LIB.tensor(mask), False, 4) is False
    ref, lib = pair("TransformerDecoderLayer", 8, 2, 16, dropout=0.0)
    dref = tnn.TransformerDecoder(ref, 1)
    dlib = nn.TransformerDecoder(lib, 1)
    compare_call(dref, dlib, lambda lib_, m, t, mm: m(t, mm, tgt_mask=to_lib(lib_, mask)),
                 [randn((4, 2, 8), 105), randn((5, 2, 8), 106)], [True, True], train=True, name="decoder causal")
