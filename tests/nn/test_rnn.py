"""nn.RNN / nn.LSTM / nn.GRU, the cells and nn.utils.rnn against torch 2.13.

The same weights (copied through NumPy) and inputs in both libraries; compared: outputs, final
states, and the gradients of the input, the initial states and every weight, for every option
(hypothesis over sizes, layers, directions, batch_first, proj_size, with/without h0), for packed
batches of mixed lengths, unbatched input; dropout between layers by its statistics; state_dicts
both ways; PyTorch's errors for bad input.
"""
import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st, HealthCheck

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from nn_compare import (LIB, REF, nn, tnn, to_lib, to_numpy, assert_same, make_pair, copy_weights,
                        numpy_state_dict, state_dict_to, assert_same_repr)
from torch_compare import assert_same_exception

lib_rnn = __import__(f"{LIB.__name__}.nn.utils.rnn", fromlist=["x"])
ref_rnn = torch.nn.utils.rnn

TOL = {"float64": (1e-9, 1e-10), "float32": (2e-4, 2e-5)}


def rng_array(shape, seed, dtype):
    return np.random.default_rng(seed).uniform(-1, 1, size=shape).astype(dtype)


def _states(kind, hx):
    if hx is None:
        return []
    return list(hx) if kind == "LSTM" else [hx]


def run_both(kind, args, kwargs, x, hx=None, dtype="float64", lengths=None, enforce_sorted=True, seed=0,
             train=False):
    """Run torch's layer and ours on the same input; compare outputs, states and every gradient."""
    ref, lib = make_pair(kind, *args, dtype=dtype, **kwargs)
    ref.train(train)
    lib.train(train)
    rtol, atol = TOL[dtype]

    def inputs(mod):
        xt = to_lib(mod, x, requires_grad=True)
        hs = [to_lib(mod, h, requires_grad=True) for h in _states(kind, hx)]
        inp = xt
        if lengths is not None:
            pack = (ref_rnn if mod is REF else lib_rnn).pack_padded_sequence
            inp = pack(xt, lengths, batch_first=kwargs.get("batch_first", False), enforce_sorted=enforce_sorted)
        state = None if not hs else (tuple(hs) if kind == "LSTM" else hs[0])
        return xt, hs, inp, state

    results = {}
    for mod, layer in ((REF, ref), (LIB, lib)):
        xt, hs, inp, state = inputs(mod)
        out, hidden = layer(inp, state)
        if lengths is not None:
            out = (ref_rnn if mod is REF else lib_rnn).pad_packed_sequence(
                out, batch_first=kwargs.get("batch_first", False))[0]
        finals = list(hidden) if kind == "LSTM" else [hidden]
        loss = 0
        for k, t in enumerate([out] + finals):
            g = to_lib(mod, rng_array(tuple(t.shape), seed + 100 + k, dtype))
            loss = loss + (t * g).sum()
        loss.backward()
        results[mod] = (out, finals, xt, hs, layer)
    (o_r, f_r, x_r, h_r, L_r), (o_l, f_l, x_l, h_l, L_l) = results[REF], results[LIB]
    assert_same(o_l, o_r, rtol, atol, name=f"{kind} output")
    for k, (a, b) in enumerate(zip(f_l, f_r)):
        assert_same(a, b, rtol, atol, name=f"{kind} final state {k}")
    assert_same(x_l.grad, x_r.grad, rtol, atol, name=f"{kind} input grad")
    for k, (a, b) in enumerate(zip(h_l, h_r)):
        assert_same(a.grad, b.grad, rtol, atol, name=f"{kind} initial state {k} grad")
    lib_params = dict(L_l.named_parameters())
    for name, p in L_r.named_parameters():
        assert_same(lib_params[name].grad, p.grad, rtol, atol, name=f"{kind} grad of {name}")
    return results


KINDS = ["RNN", "LSTM", "GRU"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_default_layer(kind, dtype):
    x = rng_array((5, 3, 4), 1, dtype)
    run_both(kind, (4, 6), {}, x, dtype=dtype)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_nonlinearity_two_layers_bidirectional(nonlinearity):
    x = rng_array((6, 2, 3), 2, "float64")
    h0 = rng_array((4, 2, 5), 3, "float64")
    run_both("RNN", (3, 5, 2), {"nonlinearity": nonlinearity, "bidirectional": True}, x, h0)


def test_rnn_positional_nonlinearity():
    ref, lib = make_pair("RNN", 3, 5, 1, "relu", False)
    assert lib.nonlinearity == "relu" and lib.bias is False
    run_both("RNN", (3, 5, 1, "relu", False), {}, rng_array((4, 2, 3), 0, "float64"))


def test_lstm_projection_with_states():
    x = rng_array((7, 3, 4), 4, "float64")
    hx = (rng_array((4, 3, 3), 5, "float64"), rng_array((4, 3, 6), 6, "float64"))
    run_both("LSTM", (4, 6, 2), {"proj_size": 3, "bidirectional": True}, x, hx)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(kind=st.sampled_from(KINDS), T=st.integers(1, 5), B=st.integers(1, 3), I=st.integers(1, 4),
       H=st.integers(2, 5), layers=st.integers(1, 3), bidirectional=st.booleans(), batch_first=st.booleans(),
       bias=st.booleans(), with_h0=st.booleans(), proj=st.integers(0, 4), nonlin=st.sampled_from(["tanh", "relu"]),
       seed=st.integers(0, 1000))
def test_every_option(kind, T, B, I, H, layers, bidirectional, batch_first, bias, with_h0, proj, nonlin, seed):
    kwargs = {"num_layers": layers, "bidirectional": bidirectional, "batch_first": batch_first, "bias": bias}
    if kind == "LSTM" and proj < H:
        kwargs["proj_size"] = proj
    if kind == "RNN":
        kwargs["nonlinearity"] = nonlin
    D = 2 if bidirectional else 1
    x = rng_array((B, T, I) if batch_first else (T, B, I), seed, "float64")
    hx = None
    if with_h0:
        P = kwargs.get("proj_size") or H
        h = rng_array((layers * D, B, P), seed + 1, "float64")
        hx = (h, rng_array((layers * D, B, H), seed + 2, "float64")) if kind == "LSTM" else h
    run_both(kind, (I, H), kwargs, x, hx, seed=seed)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched(kind, batch_first):
    x = rng_array((5, 3), 7, "float64")
    h = rng_array((2, 4), 8, "float64")
    hx = (h, rng_array((2, 4), 9, "float64")) if kind == "LSTM" else h
    run_both(kind, (3, 4), {"bidirectional": True, "batch_first": batch_first}, x, hx)
    run_both(kind, (3, 4), {"batch_first": batch_first}, x)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_mixed_lengths(kind, bidirectional, enforce_sorted):
    lengths = [6, 4, 4, 1] if enforce_sorted else [3, 6, 1, 4]
    x = rng_array((6, 4, 3), 10, "float64")
    D = 2 if bidirectional else 1
    h = rng_array((2 * D, 4, 5), 11, "float64")
    hx = (h, rng_array((2 * D, 4, 5), 12, "float64")) if kind == "LSTM" else h
    run_both(kind, (3, 5, 2), {"bidirectional": bidirectional}, x, hx, lengths=lengths,
             enforce_sorted=enforce_sorted)


def test_packed_batch_first_lstm_projection():
    x = rng_array((3, 5, 2), 13, "float64")
    run_both("LSTM", (2, 4), {"batch_first": True, "proj_size": 2, "bidirectional": True}, x,
             lengths=[2, 5, 3], enforce_sorted=False)


@pytest.mark.parametrize("kind", KINDS)
def test_parameter_names_shapes_and_all_weights(kind):
    kw = {"proj_size": 2} if kind == "LSTM" else {}
    ref, lib = make_pair(kind, 3, 4, 2, bidirectional=True, copy=False, **kw)
    sig = [(k, tuple(v.shape)) for k, v in ref.state_dict().items()]
    assert [(k, tuple(v.shape)) for k, v in lib.state_dict().items()] == sig
    assert [[tuple(w.shape) for w in ws] for ws in lib.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in ref.all_weights]
    assert lib._flat_weights_names == ref._flat_weights_names
    lib.flatten_parameters()


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_both_ways(kind):
    ref = getattr(tnn, kind)(3, 4, 2, bidirectional=True)
    lib = getattr(nn, kind)(3, 4, 2, bidirectional=True)
    lib.load_state_dict(state_dict_to(LIB, numpy_state_dict(ref)))
    for k, v in numpy_state_dict(lib).items():
        np.testing.assert_array_equal(v, to_numpy(ref.state_dict()[k]))
    lib2 = getattr(nn, kind)(3, 4, 2, bidirectional=True)
    ref2 = getattr(tnn, kind)(3, 4, 2, bidirectional=True)
    ref2.load_state_dict(state_dict_to(REF, numpy_state_dict(lib2)))
    x = rng_array((4, 2, 3), 0, "float32")
    a, _ = lib2(to_lib(LIB, x))
    b, _ = ref2(to_lib(REF, x))
    assert_same(a, b, 2e-5, 2e-6, name="after loading ember's state_dict into torch")


def test_repr():
    cases = [("RNN", (4, 5), {}), ("RNN", (4, 5), {"nonlinearity": "relu", "num_layers": 2}),
             ("LSTM", (4, 5, 2), {"proj_size": 3, "bias": False, "batch_first": True, "dropout": 0.5,
                                  "bidirectional": True}),
             ("GRU", (4, 5), {"bidirectional": True}), ("RNNCell", (3, 4), {"nonlinearity": "relu", "bias": False}),
             ("LSTMCell", (3, 4), {}), ("GRUCell", (3, 4), {"bias": False})]
    for kind, args, kw in cases:
        assert_same_repr(getattr(nn, kind)(*args, **kw), getattr(tnn, kind)(*args, **kw), kind)


@pytest.mark.parametrize("kind", KINDS + ["RNNCell", "LSTMCell", "GRUCell"])
def test_default_init_is_uniform_in_one_over_sqrt_h(kind):
    LIB.manual_seed(0)
    layer = getattr(nn, kind)(20, 64)
    bound = 1 / np.sqrt(64)
    values = np.concatenate([to_numpy(p).ravel() for p in layer.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound
    assert abs(values.mean()) < 0.05 * bound and abs(values.std() - bound / np.sqrt(3)) < 0.05 * bound


# -- cells ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_h", [True, False])
def test_cells(kind, batched, with_h):
    kw = {"nonlinearity": "relu"} if kind == "RNNCell" and batched else {}
    ref, lib = make_pair(kind, 3, 4, dtype="float64", **kw)
    x = rng_array((2, 3) if batched else (3,), 20, "float64")
    hshape = (2, 4) if batched else (4,)
    outs = {}
    for mod, layer in ((REF, ref), (LIB, lib)):
        xt = to_lib(mod, x, requires_grad=True)
        hs = [to_lib(mod, rng_array(hshape, 21 + k, "float64"), requires_grad=True)
              for k in range(2 if kind == "LSTMCell" else 1)] if with_h else []
        state = None if not hs else (tuple(hs) if kind == "LSTMCell" else hs[0])
        out = layer(xt, state)
        out = list(out) if kind == "LSTMCell" else [out]
        loss = sum((o * to_lib(mod, rng_array(tuple(o.shape), 30 + k, "float64"))).sum() for k, o in enumerate(out))
        loss.backward()
        outs[mod] = (out, xt, hs, layer)
    (o_r, x_r, h_r, L_r), (o_l, x_l, h_l, L_l) = outs[REF], outs[LIB]
    for a, b in zip(o_l, o_r):
        assert_same(a, b, 1e-10, 1e-11, name=f"{kind} output")
    assert_same(x_l.grad, x_r.grad, 1e-10, 1e-11, name=f"{kind} input grad")
    for a, b in zip(h_l, h_r):
        assert_same(a.grad, b.grad, 1e-10, 1e-11, name=f"{kind} state grad")
    lp = dict(L_l.named_parameters())
    for name, p in L_r.named_parameters():
        assert_same(lp[name].grad, p.grad, 1e-10, 1e-11, name=f"{kind} grad of {name}")


def test_cell_loop_matches_layer():
    """A hand-written loop of LSTMCell steps gives what nn.LSTM gives with the same weights."""
    layer = nn.LSTM(3, 4)
    cell = nn.LSTMCell(3, 4)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data = getattr(layer, name + "_l0").data.clone()
    x = to_lib(LIB, rng_array((5, 2, 3), 3, "float32"))
    out, (h, c) = layer(x)
    hc = None
    for t in range(5):
        hc = cell(x[t], hc)
    assert_same(hc[0], out[-1], 1e-5, 1e-6, name="cell loop h")
    assert_same(hc[1], c[0], 1e-5, 1e-6, name="cell loop c")


# -- dropout between layers -----------------------------------------------------------------------

def test_dropout_between_layers_statistics():
    """With W_ih of layer 1 = identity and everything else zero, layer 1 sees tanh(dropout(layer-0 output)):
    a fraction p of zeros, the rest scaled by 1/(1-p); nothing is dropped in eval mode or after the last layer."""
    p = 0.3
    H = 200
    layer = nn.RNN(H, H, 2, dropout=p, bias=False)
    with LIB.no_grad():
        for name, w in layer.named_parameters():
            w.zero_()
        layer.weight_ih_l0.copy_(LIB.eye(H) * 0.5)
        layer.weight_ih_l1.copy_(LIB.eye(H))
    LIB.manual_seed(0)
    x = to_lib(LIB, np.full((50, 4, H), 1.0, dtype=np.float32))
    out, _ = layer(x)
    y0 = np.tanh(0.5)
    o = to_numpy(out)
    dropped = np.isclose(o, 0).mean()
    assert abs(dropped - p) < 0.02, dropped
    kept = o[~np.isclose(o, 0)]
    np.testing.assert_allclose(kept, np.tanh(y0 / (1 - p)), rtol=1e-5)
    layer.eval()
    out, _ = layer(x)
    np.testing.assert_allclose(to_numpy(out), np.tanh(y0), rtol=1e-5)


def test_dropout_warning_and_checks():
    with pytest.warns(UserWarning, match="num_layers greater than 1, but got dropout=0.5 and num_layers=1"):
        nn.LSTM(3, 4, dropout=0.5)
    for kw, exc in [({"dropout": 1.5}, ValueError), ({"dropout": True}, ValueError), ({"bias": 1}, TypeError),
                    ({"batch_first": "yes"}, TypeError), ({"proj_size": 4}, ValueError), ({"proj_size": -1}, ValueError),
                    ({"num_layers": 0}, ValueError)]:
        assert_same_exception(lambda: nn.LSTM(3, 4, **kw), lambda: tnn.LSTM(3, 4, **kw))
    assert_same_exception(lambda: nn.GRU(3, 4, proj_size=2), lambda: tnn.GRU(3, 4, proj_size=2))
    assert_same_exception(lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), lambda: tnn.RNN(3, 4, nonlinearity="sigmoid"))
    assert_same_exception(lambda: nn.RNN(3.0, 4), lambda: tnn.RNN(3.0, 4))
    assert_same_exception(lambda: nn.RNN(3, 0), lambda: tnn.RNN(3, 0))


# -- bad input -----------------------------------------------------------------------------------

def _same_error(build, call):
    """The same exception type and message from both libraries."""
    ref, lib = build(tnn), build(nn)
    with pytest.raises(Exception) as ref_exc:
        call(ref, REF)
    with pytest.raises(type(ref_exc.value)) as lib_exc:
        call(lib, LIB)
    assert str(lib_exc.value) == str(ref_exc.value)


def _t(mod, shape, dtype="float32"):
    return to_lib(mod, np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("kind", KINDS)
def test_bad_input(kind):
    b = lambda m: getattr(m, kind)(4, 5, 2)  # noqa: E731
    _same_error(b, lambda layer, m: layer(_t(m, (3, 2, 3))))            # wrong feature size
    _same_error(b, lambda layer, m: layer(_t(m, (3,))))                 # wrong rank
    _same_error(b, lambda layer, m: layer(_t(m, (2, 3, 2, 4))))
    _same_error(b, lambda layer, m: layer(_t(m, (3, 2, 4), "float64")))  # dtype
    if kind == "LSTM":
        _same_error(b, lambda layer, m: layer(_t(m, (3, 2, 4)), (_t(m, (2, 3, 5)), _t(m, (2, 2, 5)))))
        _same_error(b, lambda layer, m: layer(_t(m, (3, 2, 4)), (_t(m, (2, 2, 5)), _t(m, (1, 2, 5)))))
        _same_error(b, lambda layer, m: layer(_t(m, (3, 2, 4)), (_t(m, (2, 5)), _t(m, (2, 2, 5)))))
        _same_error(b, lambda layer, m: layer(_t(m, (3, 4)), (_t(m, (2, 1, 5)), _t(m, (2, 1, 5)))))
    else:
        _same_error(b, lambda layer, m: layer(_t(m, (3, 2, 4)), _t(m, (2, 3, 5))))   # h0 batch mismatch
        _same_error(b, lambda layer, m: layer(_t(m, (3, 2, 4)), _t(m, (1, 2, 5))))   # h0 layers mismatch
        _same_error(b, lambda layer, m: layer(_t(m, (3, 2, 4)), _t(m, (2, 5))))      # h0 rank
        _same_error(b, lambda layer, m: layer(_t(m, (3, 4)), _t(m, (2, 1, 5))))


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_bad_input(kind):
    b = lambda m: getattr(m, kind)(4, 5)  # noqa: E731
    n = 2 if kind == "LSTMCell" else 1

    def st(m, shape):
        return tuple(_t(m, shape) for _ in range(n)) if n == 2 else _t(m, shape)
    _same_error(b, lambda c, m: c(_t(m, (3, 3))))
    _same_error(b, lambda c, m: c(_t(m, (3, 2, 4))))
    _same_error(b, lambda c, m: c(_t(m, (3, 4)), st(m, (2, 5))))
    _same_error(b, lambda c, m: c(_t(m, (3, 4)), st(m, (3, 6))))
    _same_error(b, lambda c, m: c(_t(m, (3, 4)), st(m, (1, 3, 5))))


def test_packing_errors():
    x = np.zeros((5, 3, 2), np.float32)
    for lengths in ([2, 5, 3], [5, 3], [5, 3, 0]):
        assert_same_exception(lambda: lib_rnn.pack_padded_sequence(to_lib(LIB, x), lengths),
                              lambda: ref_rnn.pack_padded_sequence(to_lib(REF, x), lengths))
    packed_l = lib_rnn.pack_padded_sequence(to_lib(LIB, x), [5, 3, 2])
    packed_r = ref_rnn.pack_padded_sequence(to_lib(REF, x), [5, 3, 2])
    assert_same_exception(lambda: lib_rnn.pad_packed_sequence(packed_l, total_length=4),
                          lambda: ref_rnn.pad_packed_sequence(packed_r, total_length=4))


def test_double_backward_is_refused_clearly():
    layer = nn.LSTM(2, 3)
    x = to_lib(LIB, rng_array((4, 1, 2), 0, "float32"), requires_grad=True)
    out, _ = layer(x)
    (g,) = LIB.autograd.grad(out.sum(), x, create_graph=True) if LIB is torch else (None,)
    if LIB is torch:
        return
    out, _ = layer(x)
    with pytest.raises(RuntimeError, match="first-order gradients only"):
        LIB.autograd.grad(out.sum(), x, create_graph=True)


# -- nn.utils.rnn -----------------------------------------------------------------------------

def _seqs(mod, lengths, feat=(2,), seed=0):
    return [to_lib(mod, rng_array((n,) + feat, seed + k, "float64"), requires_grad=True) for k, n in
            enumerate(lengths)]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    a = lib_rnn.pad_sequence(_seqs(LIB, [3, 5, 1]), batch_first, -1.0, padding_side)
    b = ref_rnn.pad_sequence(_seqs(REF, [3, 5, 1]), batch_first, -1.0, padding_side)
    assert_same(a, b, 0, 0, name="pad_sequence")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_pad_roundtrip_and_grads(batch_first, enforce_sorted):
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    res = {}
    for mod, R in ((REF, ref_rnn), (LIB, lib_rnn)):
        seqs = _seqs(mod, lengths, (2, 3))
        padded = R.pad_sequence(seqs, batch_first)
        packed = R.pack_padded_sequence(padded, to_lib(mod, np.array(lengths)), batch_first, enforce_sorted)
        again, lens = R.pad_packed_sequence(packed, batch_first, padding_value=7.0, total_length=6)
        seq_packed = R.pack_sequence(seqs, enforce_sorted=enforce_sorted)
        unpacked = R.unpack_sequence(seq_packed)
        unpadded = R.unpad_sequence(again.clone(), lens, batch_first)  # torch transposes its argument in place
        (again * to_lib(mod, rng_array(tuple(again.shape), 5, "float64"))).sum().backward()
        res[mod] = (packed, again, lens, seq_packed, unpacked, unpadded, seqs)
    pl, pr = res[LIB][0], res[REF][0]
    assert_same(pl.data, pr.data, 0, 0, name="packed data")
    assert_same(pl.batch_sizes, pr.batch_sizes, 0, 0, name="batch_sizes")
    for i in (2, 3):
        if pr[i] is None:
            assert pl[i] is None
        else:
            assert_same(pl[i], pr[i], 0, 0, name="indices")
    assert_same(res[LIB][1], res[REF][1], 0, 0, name="pad_packed_sequence")
    assert_same(res[LIB][2], res[REF][2], 0, 0, name="lengths")
    assert_same(res[LIB][3].data, res[REF][3].data, 0, 0, name="pack_sequence")
    for k in (4, 5):
        for a, b in zip(res[LIB][k], res[REF][k]):
            assert_same(a, b, 0, 0, name="unpack/unpad")
    for a, b in zip(res[LIB][6], res[REF][6]):
        assert_same(a.grad, b.grad, 0, 0, name="grad through packing")


def test_packed_sequence_class():
    p = lib_rnn.PackedSequence(to_lib(LIB, np.zeros((3, 2))), to_lib(LIB, np.array([2, 1])),
                               to_lib(LIB, np.array([1, 0])))
    assert p.unsorted_indices.tolist() == [1, 0]
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert p.float().data.dtype == LIB.float32
    q = lib_rnn.PackedSequence((p.data, p.batch_sizes))
    assert q.sorted_indices is None
    assert lib_rnn.invert_permutation(to_lib(LIB, np.array([2, 0, 1]))).tolist() == [1, 2, 0]


@pytest.mark.skipif(LIB.__name__ != "ember", reason="ember's fused recurrence itself")
@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM"])
def test_fused_recurrence_takes_the_hidden_bias_apart_or_folded(mode):
    """nn.RNN and nn.LSTM fold b_hh into the input projection's bias; the fused op also takes it apart
    (as a GRU must): both ways give the same states and gradients."""
    from ember.ops.rnn import RecurrentLayer
    T, B, H = 5, 3, 4
    G = 4 * H if mode == "LSTM" else H
    arrays = [rng_array(s, i, "float64") for i, s in enumerate([(T, B, G), (B, H), (B, H), (G, H), (G,)])]
    results = []
    for folded in (False, True):
        xp, h0, c0, w, b = [LIB.tensor(a, requires_grad=True) for a in arrays]
        c0_arg = c0 if mode == "LSTM" else None
        if folded:
            out = RecurrentLayer.apply(xp + b, h0, c0_arg, w, None, None, mode=mode)
        else:
            out = RecurrentLayer.apply(xp, h0, c0_arg, w, b, None, mode=mode)
        (out * LIB.tensor(rng_array(tuple(out.shape), 9, "float64"))).sum().backward()
        results.append([out] + [t.grad for t in (xp, h0, w, b)])
    for got, want in zip(*results):
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
