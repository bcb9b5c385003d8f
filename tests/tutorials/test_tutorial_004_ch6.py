"""Tutorial 004 (notes on "Dive-into-DL-PyTorch"), chapter 6: the recurrent language models, examples/t004_ch6_*.py.

Each program runs unchanged with ember and with PyTorch (tutorial_check.py). The from-scratch models take their
weights from NumPy's seeded generator and their minibatch order from Python's, so both libraries train the very
same model: their perplexities must agree epoch by epoch. The concise models (nn.RNN/GRU/LSTM) draw their weights
from each library's own stream, so there the text's outcome is checked: perplexity falls.
"""
import pytest

from tutorial_check import one_torch_thread, run_tutorial


@pytest.fixture(autouse=True)
def _one_torch_thread():
    with one_torch_thread():
        yield


def _close(a, b, rtol):
    return all(abs(x - y) <= rtol * abs(y) for x, y in zip(a, b)) and len(a) == len(b)


def test_rnn_from_scratch_trains_like_torch():
    run = run_tutorial("t004_ch6_4_rnn_scratch.py")
    for mode in (True, False):                 # random, then consecutive sampling
        mine, ref = run.ns["perplexities"][mode], run.ref_ns["perplexities"][mode]
        # equal to 1e-5 for the first epochs; float32 rounding of torch's MKL kernels (AVX-512 on some hosts)
        # and NumPy's OpenBLAS then drifts apart by up to ~1.5e-3 over 16 epochs of training
        assert _close(mine, ref, 5e-3), (mode, mine, ref)
        assert _close(mine[:8], ref[:8], 1e-4), (mode, mine, ref)
        assert mine[-1] < 0.5 * mine[0] and mine[-1] < run.ns["vocab_size"] / 4
    # the samplers' printed minibatches, the one-hot vectors and the shapes are torch's, character for character
    units = run.units
    ref_units = run.ref_units
    printed = [i for i, u in enumerate(ref_units) if u.startswith(("X: ", "5 ", "tensor(", "vocab size"))]
    assert len(printed) >= 8
    for i in printed:
        assert units[i].replace("ember.", "torch.") == ref_units[i], (units[i], ref_units[i])


def test_rnn_concise_perplexity_falls():
    run = run_tutorial("t004_ch6_5_rnn_concise.py")
    for ns in (run.ns, run.ref_ns):
        p = ns["perplexities"]
        assert p[-1] < 0.3 * p[0], p
    assert "epoch 30, perplexity" in "\n".join(run.units)


def test_gru_and_lstm_from_scratch_train_like_torch_and_concise_ones_learn():
    run = run_tutorial("t004_ch6_7_gru_lstm.py")
    for mine, ref in zip(run.ns["scratch_perplexities"], run.ref_ns["scratch_perplexities"]):
        assert _close(mine, ref, 5e-3), (mine, ref)
        assert mine[-1] < 0.9 * mine[0]
    for ns in (run.ns, run.ref_ns):
        for p in ns["concise_perplexities"]:       # nn.GRU, then nn.LSTM
            assert p[-1] < 0.4 * p[0], p


def test_deep_and_bidirectional():
    run = run_tutorial("t004_ch6_9_deep_bidirectional.py")
    for ns in (run.ns, run.ref_ns):
        deep, bi = ns["runs"]["deep GRU"], ns["runs"]["bidirectional LSTM"]
        assert deep[-1] < 0.7 * deep[0], deep
        assert bi[-1] < 1.6, bi                     # it sees the answers through its backward direction
    assert "GRU(" in run.units[0] and "num_layers=2" in run.units[0]
