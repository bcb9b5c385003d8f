"""Tutorial 001 (notes on "Dive into Deep Learning"), sections 一.1-一.6 and 二.1: examples/t001_*.py.

Each program runs with ember and with PyTorch (see tutorial_check.py); the *_prints_like_torch
tests compare the two outputs, the others check the outcomes the text states.
"""
import random

import numpy as np

from tutorial_check import bools, numbers, run_tutorial

S1_1 = "t001_s1_1_data_manipulation.py"
S1_2 = "t001_s1_2_data_preprocessing.py"
S1_3 = "t001_s1_3_linear_algebra.py"
S1_5 = "t001_s1_5_autograd.py"
S1_6 = "t001_s1_6_probability.py"
S2_1 = "t001_s2_1_linreg_scratch.py"


# ---- 一.1 data manipulation ----

RAND_UNIT = 6  # the 7th printed value: print(torch.rand((2, 3, 4)))


def test_s1_1_prints_like_torch():
    # Every printed value compared exactly, except torch.rand((2, 3, 4)): its values come
    # from the random stream, so only its layout (text without the numbers) is compared.
    run_tutorial(S1_1).compare(lambda i: "layout" if i == RAND_UNIT else "exact")


def test_s1_1_text_values():
    run = run_tutorial(S1_1)
    units = run.units
    assert units[0] == "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11])"
    assert units[1] == "12"
    assert units[2] in ("torch.Size([12])", "ember.Size([12])")
    rand = numbers(units[RAND_UNIT])
    assert len(rand) == 24 and all(0 <= v < 1 for v in rand)
    lines = run.out.splitlines()
    assert ("tensor([ 3.,  4.,  6., 10.]) tensor([-1.,  0.,  2.,  6.]) tensor([ 2.,  4.,  8., 16.]) "
            "tensor([0.5000, 1.0000, 2.0000, 4.0000]) tensor([ 1.,  4., 16., 64.])") in lines
    assert "tensor([2.7183e+00, 7.3891e+00, 5.4598e+01, 2.9810e+03])" in lines
    assert "tensor(15.)" in lines
    assert "tensor([False,  True, False, False])" in lines
    # 1.5: X = X + Y allocates a new tensor; X += Y and X[:] = ... keep the same object.
    assert [u for u in units if u in ("True", "False")] == ["False", "True", "True"]
    assert units[-2] in ("<class 'numpy.ndarray'> <class 'torch.Tensor'>",
                         "<class 'numpy.ndarray'> <class 'ember.Tensor'>")
    assert units[-1] == "tensor([3.5000]) 3.5 3.5 3"


# ---- 一.2 data preprocessing (CSV -> tensor; pandas emulated with numpy) ----

def test_s1_2_prints_like_torch():
    # Every printed value compared exactly (no random numbers).
    run_tutorial(S1_2).compare("exact")


def test_s1_2_shapes_and_dtype():
    lines = [line.replace("ember.", "torch.") for line in run_tutorial(S1_2).out.splitlines()]
    # The text: torch.Size([303, 12]) and torch.Size([303]) for its 303-row file; here 5 rows.
    assert "<class 'torch.Tensor'> torch.Size([5, 12])" in lines
    assert "<class 'torch.Tensor'> torch.Size([5])" in lines
    assert lines[-1] == "tensor([0., 1., 0., 0., 0.], dtype=torch.float64)"


# ---- 一.3 linear algebra ----

def test_s1_3_prints_like_torch():
    # Every printed value compared exactly (no random numbers).
    run_tutorial(S1_3).compare("exact")


def test_s1_3_text_values():
    units = run_tutorial(S1_3).units
    assert units[0] == "tensor([0., 1., 2., 3.]) tensor(6.)"
    assert units[2] == "tensor([40., 45., 50., 55.])"
    assert units[4] == "tensor([0., 1., 2., 3.]) tensor([1., 1., 1., 1.]) tensor(6.)"
    assert units[5] == "tensor([ 14.,  38.,  62.,  86., 110.])"
    assert numbers(units[6]) == [6.0] * 3 + [22.0] * 3 + [38.0] * 3 + [54.0] * 3 + [70.0] * 3
    assert units[7:] == ["tensor(5.)", "tensor(6.)", "tensor(7.)"]


# ---- 一.5 automatic differentiation ----

def test_s1_5_prints_like_torch():
    # Every printed value compared exactly, except the last (5.4, print(a.grad == d / a)):
    # a is random, and for a < 0 float32 rounding of 100 * b can make the exact comparison
    # False in either library. test_s1_5_control_flow checks it on fixed values of a.
    run = run_tutorial(S1_5)
    last = len(run.ref_units) - 1
    run.compare(lambda i: "skip" if i == last else "exact")


def test_s1_5_gradients():
    lines = run_tutorial(S1_5).out.splitlines()
    assert lines[0] == "tensor(28., grad_fn=<MulBackward0>)"
    # 5.1: y = 2 x.x, x.grad == 4 * x; zero_() clears it.
    assert lines[1] == "tensor([ 0.,  4.,  8., 12.])"
    assert lines[2] == "tensor([True, True, True, True])"
    assert lines[3] == "tensor([0., 0., 0., 0.])"
    # 5.2: y = x * x, y.sum().backward() -> 2 x.
    assert lines[4] == "tensor([0., 2., 4., 6.])"
    # 5.3: without detach z = x**3, grad 3 x**2 (== y only at 0); with u = y.detach(), grad u.
    assert lines[5] == "tensor([ 0.,  3., 12., 27.]) tensor([ True, False, False, False])"
    assert lines[6] == "tensor([0., 1., 4., 9.]) tensor([True, True, True, True])"
    # 5.4: f is piecewise linear, so a.grad == d / a (the text: tensor(True)); see above.
    assert lines[7] in ("tensor(True)", "tensor(False)")
    assert len(lines) == 8


def _control_flow_grads(ns, value):
    """The program's f at a fixed a: (a.grad, d / a, a.grad == d / a)."""
    a = ns["torch"].tensor(value, requires_grad=True)
    d = ns["f"](a)
    d.backward()
    return float(a.grad), float((d / a).detach()), bool(a.grad == d / a)


def test_s1_5_control_flow():
    run = run_tutorial(S1_5)
    # The program's own random a: a.grad == d / a up to float32 rounding.
    a, d = run.ns["a"], run.ns["d"]
    assert abs(float(a.grad) - float((d / a).detach())) <= 1e-6 * abs(float(a.grad))
    # Fixed a of both signs (f's two branches): the same results as PyTorch, including the
    # exact comparison. 0.7: grad 2048 and d / a == 2048 exactly (True). -0.8922905...:
    # f returns 100 * b, which float32 rounds, so d / a = 204799.98 != 204800 (False).
    for value in (0.7, 1e-3, -0.7, -0.8922905325889587):
        got = _control_flow_grads(run.ns, value)
        want = _control_flow_grads(run.ref_ns, value)
        assert got == want, (value, got, want)
    assert _control_flow_grads(run.ref_ns, 0.7) == (2048.0, 2048.0, True)
    assert _control_flow_grads(run.ref_ns, -0.8922905325889587)[2] is False


# ---- 一.6 probability ----

def test_s1_6_prints_like_torch():
    # The sample (#0) is random: only its layout is compared. The logits (#1) exactly.
    run_tutorial(S1_6).compare(lambda i: "layout" if i == 0 else "exact")


def test_s1_6_sample_and_logits():
    units = run_tutorial(S1_6).units
    sample = numbers(units[0])
    # One draw of a die: a one-hot vector of 6 float counts.
    assert len(sample) == 6 and sorted(sample) == [0.0] * 5 + [1.0]
    # log(1/6) for every face.
    assert units[1] == "tensor([-1.7918, -1.7918, -1.7918, -1.7918, -1.7918, -1.7918])"


# ---- 二.1 linear regression from scratch ----

def test_s2_1_prints_like_torch():
    # All printed values depend on the random stream (torch.normal, random.shuffle), which
    # differs between the libraries: only the layout (text without numbers) is compared.
    # test_s2_1_training_matches_torch compares the numbers on data both libraries share.
    run_tutorial(S2_1).compare("layout")


def test_s2_1_converges_to_true_parameters():
    units = run_tutorial(S2_1).units
    # print(X, '\n', y) of the first minibatch: X is 5x2, y is 5x1.
    assert len(numbers(units[0])) == 10 and len(numbers(units[1])) == 5
    losses = [float(u.rsplit(" ", 1)[1]) for u in units if u.startswith("epoch ")]
    assert len(losses) == 3
    # The text: 0.292531, 0.005235, 0.000142.
    assert losses[0] > losses[1] > losses[2] and losses[2] < 1e-3
    w_err = numbers(units[-2].split(":", 1)[1])
    b_err = numbers(units[-1].split(":", 1)[1])
    assert len(w_err) == 2 and len(b_err) == 1
    assert all(abs(e) < 0.05 for e in w_err + b_err), (w_err, b_err)


def _train_one_epoch(ns, features, labels, w0):
    """The program's data_iter, linear_reg, squared_loss and sgd, on the given data."""
    torch = ns["torch"]
    features = torch.tensor(features)
    labels = torch.tensor(labels)
    w = torch.tensor(w0, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    random.seed(0)  # the same shuffles for both libraries
    for X, y in ns["data_iter"](ns["batch_size"], features, labels):
        l = ns["squared_loss"](ns["linear_reg"](w, b, X), y)
        l.sum().backward()
        ns["sgd"]([w, b], ns["lr"], ns["batch_size"])
    with torch.no_grad():
        loss = float(ns["squared_loss"](ns["linear_reg"](w, b, features), labels).mean())
    return w.detach().numpy(), b.detach().numpy(), loss


def test_s2_1_training_matches_torch():
    # The program's own functions, fed the same float32 data from np.random in both
    # libraries: one epoch of its training loop must give the same w, b and loss.
    run = run_tutorial(S2_1)
    rng = np.random.default_rng(0)
    features = rng.normal(0, 1, (1000, 2)).astype(np.float32)
    labels = (features @ np.array([2, -3.4]) + 4.2 + rng.normal(0, 0.01, 1000))
    labels = labels.reshape(-1, 1).astype(np.float32)
    w0 = rng.normal(0, 0.01, (2, 1)).astype(np.float32)
    w, b, loss = _train_one_epoch(run.ns, features, labels, w0)
    w_ref, b_ref, loss_ref = _train_one_epoch(run.ref_ns, features, labels, w0)
    np.testing.assert_allclose(w, w_ref, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(b, b_ref, rtol=1e-4, atol=1e-6)
    assert abs(loss - loss_ref) <= 1e-3 * loss_ref
    assert loss_ref < 0.5  # one epoch at lr 0.01 from w ~ 0: the text's epoch 1 gives 0.29
