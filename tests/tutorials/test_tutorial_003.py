"""Tutorial 003 (PKU course slides): examples/t003_s*.py.

(The MNIST programs of the slides need the data set: a later issue.) Each program runs with
ember and with PyTorch (see tutorial_check.py); the *_prints_like_torch tests compare the two
outputs, the others check the outcome the slides state, and the *_matches_torch tests give both
libraries the same weights and data (from NumPy) and compare what they compute.
"""
import numpy as np
import pytest

from tutorial_check import (load_numpy_state, normalise, numbers, numpy_state, one_torch_thread,
                            run_tutorial, to_numpy)

TWO_LAYER = "t003_s1_two_layer_net.py"
MINIBATCH = "t003_s2_minibatch_sgd.py"
SAVE = "t003_s3_save_model.py"
CONV = "t003_s4_conv_examples.py"
CNN = "t003_s5_cnn_outputs.py"


@pytest.fixture(autouse=True)
def _one_torch_thread():
    with one_torch_thread():  # see tutorial_check._torch_threads
        yield


# ---- homework: two-layer network, gradients by hand ----

def test_two_layer_prints_like_torch():
    # The four gradient checks exactly; the losses (random data and weights) by layout.
    run = run_tutorial(TWO_LAYER)
    run.compare(lambda i: "exact" if i < 4 else "layout")


def test_two_layer_hand_gradients_and_fit():
    lines = run_tutorial(TWO_LAYER).out.splitlines()
    assert lines[:4] == ["W1 (1, 10) True", "b1 (10,) True", "W2 (10, 1) True", "b2 (1,) True"]
    f = [numbers(line)[-1] for line in lines[4:]]
    assert len(f) == 5 and all(b < a for a, b in zip(f, f[1:]))
    # The noise floor: 100 * Var(0.2 u) = 0.33 (the best fit is x**2 + 0.1).
    assert f[-1] < 1.0


def test_two_layer_hand_gradients_match_torch_autograd():
    run = run_tutorial(TWO_LAYER)
    rng = np.random.default_rng(0)
    x = np.linspace(-1, 1, 100, dtype=np.float32).reshape(-1, 1)
    y = (x ** 2 + 0.2 * rng.random(x.shape)).astype(np.float32)
    params = [rng.normal(0, 1, (1, 10)), rng.normal(0, 0.1, 10), rng.normal(0, 1, (10, 1)),
              rng.normal(0, 0.1, 1)]
    params = [p.astype(np.float32) for p in params]
    by_hand = []
    for ns in (run.ns, run.ref_ns):
        torch = ns["torch"]
        tensors = [torch.tensor(p) for p in params]
        by_hand.append([to_numpy(g) for g in ns["grads_by_hand"](torch.tensor(x), torch.tensor(y), *tensors)])
    # PyTorch's autograd on the same loss.
    torch = run.ref_ns["torch"]
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    _, y_pred = run.ref_ns["forward"](torch.tensor(x), *tensors)
    run.ref_ns["loss_fn"](torch.tensor(y), y_pred).backward()
    autograd = [to_numpy(t.grad) for t in tensors]
    for got, want, auto in zip(*by_hand, autograd):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(want, auto, rtol=1e-4, atol=1e-4)


# ---- mini-batch SGD ----

def test_minibatch_prints_like_torch():
    run_tutorial(MINIBATCH).compare("layout")


def test_minibatch_loss_falls_to_noise_floor():
    losses = [numbers(line)[-1] for line in run_tutorial(MINIBATCH).out.splitlines()]
    assert len(losses) == 4  # before training and after each of the 3 epochs
    assert all(b < a for a, b in zip(losses, losses[1:]))
    # The noise floor Var(0.2 u) = 0.0033 (MSELoss averages over the samples).
    assert losses[-1] < 0.005


def _one_epoch(ns, state, x, y, perm):
    torch = ns["torch"]
    net = ns["Net"](n_feature=1, n_hidden=10, n_output=1)
    load_numpy_state(ns, net, state)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    loss_func = torch.nn.MSELoss()
    x, y = torch.tensor(x), torch.tensor(y)
    for batch_i in range(len(perm) // 100):
        indx = perm[batch_i * 100:(batch_i + 1) * 100]
        loss = loss_func(net(x[indx, :]), y[indx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return loss_func(net(x), y).item(), numpy_state(net)


def test_minibatch_epoch_matches_torch():
    run = run_tutorial(MINIBATCH)
    rng = np.random.default_rng(0)
    x = np.linspace(-1, 1, 5000, dtype=np.float32).reshape(-1, 1)
    y = (x ** 2 + 0.2 * rng.random(x.shape)).astype(np.float32)
    perm = rng.permutation(len(x))
    state = {k: rng.normal(0, 1, v.shape).astype(np.float32)
             for k, v in numpy_state(run.ref_ns["net"]).items()}
    loss, after = _one_epoch(run.ns, state, x, y, perm)
    loss_ref, after_ref = _one_epoch(run.ref_ns, state, x, y, perm)
    assert abs(loss - loss_ref) <= 1e-4 * loss_ref
    for k in after_ref:
        np.testing.assert_allclose(after[k], after_ref[k], rtol=1e-4, atol=1e-5, err_msg=k)


# ---- saving the whole net vs only the parameters ----

NET_REPR = "\n".join([
    "Net(",
    "  (hidden): Linear(in_features=1, out_features=10, bias=True)",
    "  (predict): Linear(in_features=10, out_features=1, bias=True)",
    ")"])


def test_save_prints_like_torch():
    run_tutorial(SAVE).compare(lambda i: "layout" if i == 0 else "exact")


def test_save_restored_nets_predict_the_same():
    run = run_tutorial(SAVE)
    units = run.units
    # The slides' print(net2) and print(net3).
    assert units[1] == NET_REPR and units[2] == NET_REPR
    assert units[3] == "True True"  # net2 (whole net) and net3 (parameters) predict like net
    assert units[4] == "Net True ['hidden.weight', 'hidden.bias', 'predict.weight', 'predict.bias']"
    assert numbers(units[0])[0] < 0.2  # the MSE after 100 steps (y has variance ~0.1)


# ---- convolution examples 1-6 ----

def test_conv_examples_print_like_torch():
    run_tutorial(CONV).compare("exact")


def test_conv_examples_text_values():
    lines = [normalise(line) for line in run_tutorial(CONV).out.splitlines()]
    outputs = [line.split(" is ", 1)[1] for line in lines if line.startswith("Size of Conv1 Output")]
    assert outputs == ["torch.Size([1, 5, 28, 28])", "torch.Size([1, 5, 26, 26])",
                       "torch.Size([1, 5, 14, 14])", "torch.Size([1, 5, 14, 14])",
                       "torch.Size([1, 5, 28, 28])", "torch.Size([10, 5, 28, 28])"]
    counts = [line for line in lines if line.startswith("The Number of Conv1")]
    assert counts == ["The Number of Conv1 is 2 "] * 3 + ["The Number of Conv1 is 1 "] + \
        ["The Number of Conv1 is 2 "] * 2
    params = [line for line in lines if " : " in line]
    assert params == ["weight : torch.Size([5, 1, 3, 3])", "bias : torch.Size([5])"] * 3 + \
        ["weight : torch.Size([5, 1, 3, 3])"] + \
        ["weight : torch.Size([5, 3, 3, 3])", "bias : torch.Size([5])"] + \
        ["weight : torch.Size([5, 1, 3, 3])", "bias : torch.Size([5])"]


# ---- a CNN returning its intermediate outputs ----

def test_cnn_outputs_print_like_torch():
    run_tutorial(CNN).compare("exact")


def test_cnn_intermediate_shapes_and_values():
    run = run_tutorial(CNN)
    lines = [normalise(line) for line in run.out.splitlines()]
    assert lines[-6:] == ["torch.Size([1, 10])", "torch.Size([1, 16, 28, 28])",
                          "torch.Size([1, 16, 14, 14])", "torch.Size([1, 32, 14, 14])",
                          "torch.Size([1, 32, 7, 7])", "torch.Size([1, 1568])"]
    state = numpy_state(run.ns["cnn"])
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32)
    outs = []
    for ns in (run.ns, run.ref_ns):
        cnn = ns["CNN"]()
        load_numpy_state(ns, cnn, state)
        outs.append([to_numpy(t) for t in cnn(ns["torch"].tensor(x))])
    for got, want in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
