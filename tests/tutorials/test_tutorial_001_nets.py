"""Tutorial 001 (notes on "Dive into Deep Learning"), sections 三-六 without the Fashion-MNIST
training: examples/t001_s3_*.py ... t001_s6_*.py.

Each program runs with ember and with PyTorch (see tutorial_check.py); the *_prints_like_torch
tests compare the two outputs, the others check the outcome the text states, and the
*_matches_torch tests give both libraries the same weights and inputs (from NumPy) and compare
what they compute.
"""
import math

import numpy as np
import pytest

from tutorial_check import (load_numpy_state, missing_grads, modes_by_ref, normalise,
                            numbers, numpy_state, one_torch_thread, run_tutorial, to_numpy)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    with one_torch_thread():  # see tutorial_check._torch_threads
        yield


def _rng(seed=0):
    return np.random.default_rng(seed)


# ---- 三.1.2 activation functions ----

S3_1 = "t001_s3_1_activations.py"


def test_s3_1_prints_like_torch():
    # NumPy prints of float32 values computed by each library: compared as numbers.
    run_tutorial(S3_1).compare("approx", rtol=1e-5, atol=1e-6)


def test_s3_1_derivatives_are_the_texts_formulas():
    units = run_tutorial(S3_1).units
    series = {}
    for u in units:
        if u.startswith("  "):
            name, values = u.split(" [", 1)
            series[name.strip()] = np.array(numbers(values))
    x = np.arange(-5, 5, 1.0)  # every 10th point of arange(-5, 5, 0.1)
    np.testing.assert_allclose(series["relu(x)"], np.maximum(x, 0), atol=1e-6)
    # relu'(x) = 1 for x > 0, 0 for x <= 0 (x[50] is 0 up to float32 rounding).
    assert list(series["relu'(x)"]) == [0.0] * 6 + [1.0] * 4
    s = series["sigmoid(x)"]
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-x)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(series["sigmoid'(x)"], s * (1 - s), rtol=1e-4, atol=1e-7)
    t = series["tanh(x)"]
    np.testing.assert_allclose(t, np.tanh(x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(series["tanh'(x)"], 1 - t ** 2, rtol=1e-3, atol=1e-6)


# ---- 三.2 / 三.3 MLP from scratch and concise ----

S3_2 = "t001_s3_2_mlp_scratch.py"
S3_3 = "t001_s3_3_mlp_concise.py"


def test_s3_2_prints_like_torch():
    # Shapes, types and booleans exactly; the row sums of the softmax (all 1.0000) as numbers.
    run_tutorial(S3_2).compare("approx", rtol=1e-6, atol=1e-4)


def test_s3_2_softmax_rows_and_gradients():
    lines = run_tutorial(S3_2).out.splitlines()
    assert lines[0] == "['Parameter', 'Parameter', 'Parameter', 'Parameter'] [True, True, True, True]"
    assert normalise(lines[1]).startswith("torch.Size([4, 10]) tensor([1.0000, 1.0000, 1.0000, 1.0000]")
    assert normalise(lines[2]) == ("[torch.Size([784, 256]), torch.Size([256]), "
                                   "torch.Size([256, 10]), torch.Size([10])]")
    assert lines[3] == "tensor(True)"  # one sgd step lowers the cross-entropy


def _scratch_mlp_output(ns, weights, X):
    torch, nn = ns["torch"], ns["nn"]
    for name, w in weights.items():
        ns[name] = nn.Parameter(torch.tensor(w))
    return to_numpy(ns["net"](torch.tensor(X)))


def test_s3_2_scratch_mlp_matches_torch():
    run = run_tutorial(S3_2)
    rng = _rng()
    weights = {"W1": rng.normal(0, 0.05, (784, 256)).astype(np.float32),
               "b1": rng.normal(0, 0.1, 256).astype(np.float32),
               "W2": rng.normal(0, 0.1, (256, 10)).astype(np.float32),
               "b2": rng.normal(0, 0.1, 10).astype(np.float32)}
    X = rng.random((3, 1, 28, 28)).astype(np.float32)
    got = _scratch_mlp_output(run.ns, weights, X)
    want = _scratch_mlp_output(run.ref_ns, weights, X)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got.sum(1), 1, rtol=1e-6)


def test_s3_3_prints_like_torch():
    # print(net) and the loss shape exactly; the epoch line (random data) by layout.
    run_tutorial(S3_3).compare(modes_by_ref(run_tutorial(S3_3),
                                            lambda u: "layout" if u.startswith("epoch") else "exact"))


def test_s3_3_step_lowers_loss():
    line = [u for u in run_tutorial(S3_3).units if u.startswith("epoch")][0]
    before, after = numbers(line.split(",", 1)[1])
    # normal_(std=0.01) weights: the first loss is about log(10) = 2.30.
    assert abs(before - math.log(10)) < 0.05 and after < before


def test_s3_3_concise_step_matches_torch():
    run = run_tutorial(S3_3)
    rng = _rng()
    state = {k: rng.normal(0, 0.05, v.shape).astype(np.float32)
             for k, v in numpy_state(run.ref_ns["net"]).items()}
    X = rng.random((8, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 8)
    results = []
    for ns in (run.ns, run.ref_ns):
        torch, net, trainer = ns["torch"], ns["net"], ns["trainer"]
        load_numpy_state(ns, net, state)
        l = ns["loss"](net(torch.tensor(X)), torch.tensor(y))
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
        results.append((to_numpy(l), numpy_state(net)))
    (l, after), (l_ref, after_ref) = results
    assert l.shape == (8,)  # reduction='none'
    np.testing.assert_allclose(l, l_ref, rtol=1e-5)
    for k in after_ref:
        np.testing.assert_allclose(after[k], after_ref[k], rtol=1e-5, atol=1e-7, err_msg=k)


# ---- 三.4.1 L2 penalty / weight decay ----

S3_4_1 = "t001_s3_4_1_l2_penalty.py"


def test_s3_4_1_prints_like_torch():
    # All values come from random data and weights: layout only (the numbers: below).
    run_tutorial(S3_4_1).compare("layout")


def _l2_runs(units):
    """Per training run: (train losses, test losses, ||w||)."""
    runs, train, test = [], [], []
    for u in units:
        if u.startswith("epoch"):
            a, b = numbers(u.split(",", 1)[1])
            train.append(a)
            test.append(b)
        else:
            runs.append((train, test, numbers(u.split(":", 1)[1])[0]))
            train, test = [], []
    return runs


def test_s3_4_1_weight_decay_fights_overfitting():
    runs = _l2_runs(run_tutorial(S3_4_1).units)
    assert len(runs) == 4 and all(len(r[0]) == 5 for r in runs)
    for plain, decayed in (runs[0], runs[1]), (runs[2], runs[3]):  # scratch, concise
        # Without the penalty: 20 samples, 200 weights - the training loss goes to ~0, the
        # test loss stays large (overfitting), ||w|| stays near its initial ~sqrt(200) = 14.
        assert plain[0][-1] < 1e-3 and plain[1][-1] > 10 and plain[2] > 5
        # With lambd / wd = 3: a far smaller test loss and norm (the book: ||w|| ~ 0.35).
        assert decayed[1][-1] < plain[1][-1] / 10 and decayed[2] < 1


def _decayed_step(ns, state, X, y, wd):
    torch, nn = ns["torch"], ns["nn"]
    net = nn.Sequential(nn.Linear(200, 1))
    load_numpy_state(ns, net, state)
    trainer = torch.optim.SGD([{"params": net[0].weight, 'weight_decay': wd},
                               {"params": net[0].bias}], lr=0.003)
    trainer.zero_grad()
    l = nn.MSELoss(reduction='none')(net(torch.tensor(X)), torch.tensor(y))
    l.mean().backward()
    grads = {k: to_numpy(p.grad) for k, p in net.named_parameters()}
    trainer.step()
    return numpy_state(net), grads, ns["l2_penalty"](net[0].weight).item()


def test_s3_4_1_weight_decay_param_groups_match_torch():
    run = run_tutorial(S3_4_1)
    rng = _rng()
    state = {"0.weight": rng.normal(0, 1, (1, 200)).astype(np.float32),
             "0.bias": rng.normal(0, 1, 1).astype(np.float32)}
    X = rng.normal(0, 1, (5, 200)).astype(np.float32)
    y = rng.normal(0, 1, (5, 1)).astype(np.float32)
    got, grads, pen = _decayed_step(run.ns, state, X, y, 3)
    want, _, pen_ref = _decayed_step(run.ref_ns, state, X, y, 3)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-6, err_msg=k)
    # SGD with weight_decay adds wd * w to the weight's gradient only (not to the bias's group).
    decayed = state["0.weight"] - 0.003 * (grads["0.weight"] + 3 * state["0.weight"])
    np.testing.assert_allclose(got["0.weight"], decayed, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["0.bias"], state["0.bias"] - 0.003 * grads["0.bias"], rtol=1e-5, atol=1e-7)
    assert abs(pen - pen_ref) <= 1e-5 * pen_ref


# ---- 三.4.2 dropout ----

S3_4_2 = "t001_s3_4_2_dropout.py"


def test_s3_4_2_prints_like_torch():
    # The dropout_layer(X, 0.5) print (#2) is random: layout; everything else exactly.
    run_tutorial(S3_4_2).compare(lambda i: "layout" if i == 2 else "exact")


def test_s3_4_2_dropout_values():
    units = run_tutorial(S3_4_2).units
    X = np.arange(16.0)
    assert numbers(units[0]) == list(X) and numbers(units[1]) == list(X)
    half = numbers(units[2])
    assert all(v in (0.0, 2 * x) for v, x in zip(half, X))  # dropped, or kept and scaled by 2
    assert numbers(units[3]) == [0.0] * 16
    lines = run_tutorial(S3_4_2).out.splitlines()
    assert normalise(lines[8]) == "True torch.Size([2, 10])"
    assert lines[9] == "False True"  # eval mode: no dropout, deterministic
    assert lines[-2] == "True tensor([0.0000, 1.2500])"  # nn.Dropout(0.2): 0 or x / 0.8
    assert lines[-1] == "False True True"


def test_s3_4_2_models_match_torch_in_eval_mode():
    run = run_tutorial(S3_4_2)
    rng = _rng()
    X = rng.random((2, 1, 28, 28)).astype(np.float32)
    state = {k: rng.normal(0, 0.05, v.shape).astype(np.float32)
             for k, v in numpy_state(run.ref_ns["net"]).items()}
    outs = []
    for ns in (run.ns, run.ref_ns):
        torch = ns["torch"]
        net = ns["Net"](784, 10, 256, 256)
        load_numpy_state(ns, net, {"lin1.weight": state["1.weight"], "lin1.bias": state["1.bias"],
                                   "lin2.weight": state["4.weight"], "lin2.bias": state["4.bias"],
                                   "lin3.weight": state["7.weight"], "lin3.bias": state["7.bias"]})
        net.eval()
        concise = ns["net"]
        load_numpy_state(ns, concise, state)
        concise.eval()
        outs.append((to_numpy(net(torch.tensor(X))), to_numpy(concise(torch.tensor(X)))))
    (scratch, concise), (scratch_ref, concise_ref) = outs
    np.testing.assert_allclose(scratch, scratch_ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(concise, concise_ref, rtol=1e-5, atol=1e-6)
    # Same weights: the scratch net's output is the softmax of the concise net's.
    e = np.exp(concise_ref)
    np.testing.assert_allclose(scratch_ref, e / e.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)


# ---- 三.5 Xavier initialisation ----

S3_5 = "t001_s3_5_xavier_init.py"


def test_s3_5_prints_like_torch():
    run_tutorial(S3_5).compare("exact")


def test_s3_5_xavier_bounds():
    lines = run_tutorial(S3_5).out.splitlines()
    assert lines == ["Linear(in_features=784, out_features=256, bias=True) 0.076 True 1.0 0.0",
                     "Linear(in_features=256, out_features=10, bias=True) 0.1502 True 1.0 0.0"]


# ---- 四.1 layers and blocks ----

S4_1 = "t001_s4_1_layers_blocks.py"


def test_s4_1_prints_like_torch():
    run_tutorial(S4_1).compare("exact")


def test_s4_1_blocks():
    lines = [normalise(line) for line in run_tutorial(S4_1).out.splitlines()]
    assert lines[:4] == ["MySequential(", "  (0): Linear(in_features=20, out_features=256, bias=True)",
                         "  (1): ReLU()", "  (2): Linear(in_features=256, out_features=10, bias=True)"]
    assert "torch.Size([2, 10])" in lines
    assert "['0', '1', '2'] ['0.weight', '0.bias', '2.weight', '2.bias']" in lines
    assert "torch.Size([]) True ['linear.weight', 'linear.bias']" in lines  # rand_weight: no parameter
    assert lines[-1] == "torch.Size([])"


# ---- 四.2 parameter management ----

S4_2 = "t001_s4_2_parameters.py"
S4_2_RANDOM = (1, 3, 4, 5, 11)  # net[2].weight, .bias, .bias.data, state_dict, init_weights


def test_s4_2_prints_like_torch():
    run_tutorial(S4_2).compare(lambda i: "layout" if i in S4_2_RANDOM else "exact")


def test_s4_2_text_values():
    run = run_tutorial(S4_2)
    units = [normalise(u) for u in run.units]
    assert units[0] == units[2] == "Parameter containing:"
    assert units[1].endswith("requires_grad=True)") and "requires_grad" not in units[4]
    assert units[5].startswith("OrderedDict([('weight', tensor([[") and "('bias', tensor([" in units[5]
    assert units[6] == "[('weight', torch.Size([8, 4])), ('bias', torch.Size([8]))]"
    assert units[7] == ("[('0.weight', torch.Size([8, 4])), ('0.bias', torch.Size([8])), "
                        "('2.weight', torch.Size([1, 8])), ('2.bias', torch.Size([1]))]")
    assert units[9].count("(block ") == 4
    assert units[10] == "[('weight', torch.Size([8, 4])), ('bias', torch.Size([8]))]"
    # uniform(-10, 10), then zeroed where |w| < 5.
    init = numbers(units[11])
    assert len(init) == 8 and all(v == 0 or 5 <= abs(v) <= 10 for v in init)
    assert units[11].endswith("grad_fn=<SliceBackward0>)")
    assert units[12] == units[13] == "tensor([True, True, True, True, True, True, True, True])"
    assert units[14] == "torch.Size([5, 10])"
    net = run.ns["net"]
    assert tuple(net[0].weight.shape) == (256, 20)  # LazyLinear inferred in_features = 20


# ---- 四.3 custom layers ----

S4_3 = "t001_s4_3_custom_layer.py"


def test_s4_3_prints_like_torch():
    # X = torch.rand (#0) and MeanLayer(X) (#1) are random: layout; the rest exactly.
    run_tutorial(S4_3).compare(lambda i: "layout" if i < 2 else "exact")


def test_s4_3_mean_layer_centres_rows():
    run = run_tutorial(S4_3)
    units = run.units
    X, Y = np.array(numbers(units[0])), np.array(numbers(units[1]))
    np.testing.assert_allclose(Y, X - X.mean(), atol=2e-4)  # 4 printed digits
    assert units[2] == "True" and units[3] == "tensor([-2., -1.,  0.,  1.,  2.])" and units[4] == "True"
    x = _rng().random((3, 5)).astype(np.float32)
    outs = [to_numpy(ns["MeanLayer"]()(ns["torch"].tensor(x[:1]))) for ns in (run.ns, run.ref_ns)]
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-7)


# ---- 四.4 saving and loading ----

S4_4 = "t001_s4_4_save_load.py"


def test_s4_4_prints_like_torch():
    run_tutorial(S4_4).compare("exact")


def test_s4_4_round_trips():
    lines = run_tutorial(S4_4).out.splitlines()
    assert lines[0] == "tensor([0, 1, 2, 3]) tensor([0, 1, 2, 3])"
    assert lines[1] == ("{'x': tensor([0, 1, 2, 3]), 'y': tensor([0, 1, 2, 3])} "
                        "{'x': tensor([0, 1, 2, 3]), 'y': tensor([0, 1, 2, 3])}")
    assert lines[2] == "tensor([[True, True, True, True, True, True, True, True, True, True]])"


# ---- 四.5 GPU helpers on a CPU-only machine ----

S4_5 = "t001_s4_5_gpu.py"


def test_s4_5_prints_like_torch():
    # net(X) (#6) has random weights: layout; everything else exactly.
    run_tutorial(S4_5).compare(lambda i: "layout" if i == 6 else "exact")


def test_s4_5_everything_on_cpu():
    units = run_tutorial(S4_5).units
    assert units[:6] == ["False", "0", "cpu", "cpu cpu [device(type='cpu')]", "cpu", "cpu"]
    assert units[7] == "cpu"
    a, b = numbers(units[6])
    assert a == b  # both rows of X are ones


# ---- 五.2 convolution from scratch, edge detection, learning the kernel ----

S5_2 = "t001_s5_2_conv2d.py"
S5_2_RANDOM = (2, 3, 7, 8, 9, 10, 11, 12)  # the random kernel, its output, the learning


def test_s5_2_prints_like_torch():
    run_tutorial(S5_2).compare(lambda i: "layout" if i in S5_2_RANDOM else "exact")


def test_s5_2_conv2d_and_edges():
    units = run_tutorial(S5_2).units
    k = np.array(numbers(units[2])).reshape(2, 2)
    X = np.arange(16).reshape(4, 4)
    want = [[(X[i:i + 2, j:j + 2] * k).sum() for j in range(3)] for i in range(3)]
    np.testing.assert_allclose(np.array(numbers(units[3])).reshape(3, 3), want, atol=2e-4)
    assert units[6] == ("tensor([[ 0., -1.,  0.,  0.,  0.,  1.,  0.],\n"
                        "        [ 0., -1.,  0.,  0.,  0.,  1.,  0.],\n"
                        "        [ 0., -1.,  0.,  0.,  0.,  1.,  0.],\n"
                        "        [ 0., -1.,  0.,  0.,  0.,  1.,  0.]])")
    losses = [numbers(u)[-1] for u in units[7:12]]
    assert all(b < a for a, b in zip(losses, losses[1:]))
    np.testing.assert_allclose(numbers(units[12]), [1, -1], atol=0.2)  # learnt K = [[1, -1]]


def _learn_kernel(ns, w0):
    torch, nn = ns["torch"], ns["nn"]
    X = torch.zeros((4, 8))
    X[:, 2:6] = 1
    Y = ns["conv2d"](X, torch.tensor([[1, -1]])).reshape((1, 1, 4, 7))
    X = X.reshape((1, 1, 4, 8))
    layer = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
    layer.weight.data[:] = torch.tensor(w0)
    losses = []
    for _ in range(10):
        l = (layer(X) - Y) ** 2
        layer.zero_grad()
        l.sum().backward()
        layer.weight.data[:] -= 3e-2 * layer.weight.grad
        losses.append(l.sum().item())
    return losses, to_numpy(layer.weight)


def test_s5_2_kernel_learning_matches_torch():
    run = run_tutorial(S5_2)
    w0 = np.array([[[[0.3, 0.2]]]], dtype=np.float32)
    losses, w = _learn_kernel(run.ns, w0)
    losses_ref, w_ref = _learn_kernel(run.ref_ns, w0)
    np.testing.assert_allclose(losses, losses_ref, rtol=1e-5)
    np.testing.assert_allclose(w, w_ref, rtol=1e-5)


# ---- 五.3-五.5 padding and stride, channels, pooling ----

def test_s5_3_padding_stride_shapes():
    run = run_tutorial("t001_s5_3_padding_stride.py")
    run.compare("exact")
    assert [normalise(u) for u in run.units] == ["torch.Size([8, 8])", "torch.Size([3, 3])",
                                                 "torch.Size([2, 2])"]


def test_s5_4_channels():
    run = run_tutorial("t001_s5_4_channels.py")
    run.compare("exact")
    units = run.units
    assert units[0] == "tensor([[ 56.,  72.],\n        [104., 120.]])"
    assert normalise(units[1]) == "torch.Size([3, 2, 2, 2])"
    assert numbers(units[2]) == [56, 72, 104, 120, 76, 100, 148, 172, 96, 128, 192, 224]
    assert units[3] == "True"  # the 1x1 convolution as a matrix product


def test_s5_5_pooling():
    run = run_tutorial("t001_s5_5_pooling.py")
    run.compare("exact")
    units = [normalise(u) for u in run.units]
    assert units[0] == "tensor([[4., 5.],\n        [7., 8.]])"
    assert units[1] == "tensor([[2., 3.],\n        [5., 6.]])"
    assert units[2] == "tensor([[[[4.]]]])"
    assert units[3:5] == ["torch.Size([1, 2, 4, 4])", "torch.Size([1, 2, 2, 2])"]
    assert numbers(units[5]) == [5, 7, 13, 15, 6, 8, 14, 16]


# ---- 五.6 and 六 the networks ----

def _shape_lines(run):
    return [normalise(line) for line in run.out.splitlines() if "output shape:" in line]


def _net_prints_like_torch(name):
    """Shapes, print(net) and 'training on' exactly; values of random data (loss, acc) by layout."""
    run = run_tutorial(name)
    run.compare(modes_by_ref(run, lambda u: "layout" if ("loss" in u or "acc" in u) else "exact"))
    return run


def _trained_net_checks(run):
    """After the program's training step: finite loss, a gradient for every parameter, the
    same parameter table and module tree as PyTorch's."""
    net, ref = run.ns["net"], run.ref_ns["net"]
    last = run.out.splitlines()[-1]
    assert all(math.isfinite(v) for v in numbers(last))
    assert missing_grads(net) == []
    assert ([(n, tuple(p.shape)) for n, p in net.named_parameters()]
            == [(n, tuple(p.shape)) for n, p in ref.named_parameters()])
    assert normalise(str(net)) == str(ref)


def _eval_matches_torch(run, shape, make=None, rtol=1e-4, atol=1e-5, train=False):
    """The program's network (or make(ns)), with the same weights in both libraries, computes
    the same outputs; in training mode (train=True) also the same input gradient."""
    make = make or (lambda ns: ns["net"])
    x = _rng().random(shape).astype(np.float32)
    state = numpy_state(make(run.ns))
    outs = []
    for ns in (run.ns, run.ref_ns):
        torch = ns["torch"]
        net = make(ns)
        load_numpy_state(ns, net, state)
        net.train(train)
        X = torch.tensor(x, requires_grad=train)
        y = net(X)
        if train:
            (y * torch.tensor(np.linspace(-1, 1, y.numel(), dtype=np.float32).reshape(y.shape))).sum().backward()
            outs.append((to_numpy(y), to_numpy(X.grad)))
        else:
            outs.append((to_numpy(y), None))
    (y, g), (y_ref, g_ref) = outs
    np.testing.assert_allclose(y, y_ref, rtol=rtol, atol=atol)
    if train:
        np.testing.assert_allclose(g, g_ref, rtol=1e-3, atol=1e-3 * np.abs(g_ref).max())
    return y_ref


def test_s5_6_lenet():
    run = _net_prints_like_torch("t001_s5_6_lenet.py")
    assert _shape_lines(run) == [
        "Conv2d output shape: \t torch.Size([1, 6, 28, 28])",
        "Sigmoid output shape: \t torch.Size([1, 6, 28, 28])",
        "AvgPool2d output shape: \t torch.Size([1, 6, 14, 14])",
        "Conv2d output shape: \t torch.Size([1, 16, 10, 10])",
        "Sigmoid output shape: \t torch.Size([1, 16, 10, 10])",
        "AvgPool2d output shape: \t torch.Size([1, 16, 5, 5])",
        "Flatten output shape: \t torch.Size([1, 400])",
        "Linear output shape: \t torch.Size([1, 120])",
        "Sigmoid output shape: \t torch.Size([1, 120])",
        "Linear output shape: \t torch.Size([1, 84])",
        "Sigmoid output shape: \t torch.Size([1, 84])",
        "Linear output shape: \t torch.Size([1, 10])"]
    lines = run.out.splitlines()
    assert "training on cpu" in lines
    # train_ch6 saved the state_dict and it loads back with the LeNet's keys.
    assert lines[-1] == str([name for name, _ in run.ns["net"].state_dict().items()])
    _trained_net_checks(run)
    _eval_matches_torch(run, (2, 1, 28, 28))


def test_s6_1_alexnet():
    run = _net_prints_like_torch("t001_s6_1_alexnet.py")
    shapes = _shape_lines(run)
    assert shapes[0] == "Conv2d output shape:\t torch.Size([1, 96, 54, 54])"
    assert shapes[2] == "MaxPool2d output shape:\t torch.Size([1, 96, 26, 26])"
    assert shapes[5] == "MaxPool2d output shape:\t torch.Size([1, 256, 12, 12])"
    assert shapes[12:14] == ["MaxPool2d output shape:\t torch.Size([1, 256, 5, 5])",
                             "Flatten output shape:\t torch.Size([1, 6400])"]
    assert shapes[-1] == "Linear output shape:\t torch.Size([1, 10])" and len(shapes) == 21
    _trained_net_checks(run)
    _eval_matches_torch(run, (1, 1, 224, 224), atol=1e-4)


def test_s6_2_vgg():
    run = _net_prints_like_torch("t001_s6_2_vgg.py")
    assert _shape_lines(run) == [
        "Sequential output shape:\t torch.Size([1, 64, 112, 112])",
        "Sequential output shape:\t torch.Size([1, 128, 56, 56])",
        "Sequential output shape:\t torch.Size([1, 256, 28, 28])",
        "Sequential output shape:\t torch.Size([1, 512, 14, 14])",
        "Sequential output shape:\t torch.Size([1, 512, 7, 7])",
        "Flatten output shape:\t torch.Size([1, 25088])",
        "Linear output shape:\t torch.Size([1, 4096])",
        "ReLU output shape:\t torch.Size([1, 4096])",
        "Dropout output shape:\t torch.Size([1, 4096])",
        "Linear output shape:\t torch.Size([1, 4096])",
        "ReLU output shape:\t torch.Size([1, 4096])",
        "Dropout output shape:\t torch.Size([1, 4096])",
        "Linear output shape:\t torch.Size([1, 10])"]
    _trained_net_checks(run)  # the narrow VGG of the training step
    _eval_matches_torch(run, (1, 1, 224, 224), atol=1e-4)


def test_s6_3_nin():
    run = _net_prints_like_torch("t001_s6_3_nin.py")
    shapes = _shape_lines(run)
    assert shapes[:2] == ["Sequential output shape:\t torch.Size([1, 96, 54, 54])",
                          "MaxPool2d output shape:\t torch.Size([1, 96, 26, 26])"]
    assert shapes[-3:] == ["Sequential output shape:\t torch.Size([1, 10, 5, 5])",
                           "AdaptiveAvgPool2d output shape:\t torch.Size([1, 10, 1, 1])",
                           "Flatten output shape:\t torch.Size([1, 10])"]
    _trained_net_checks(run)
    _eval_matches_torch(run, (1, 1, 96, 96))


def test_s6_4_googlenet():
    run = _net_prints_like_torch("t001_s6_4_googlenet.py")
    assert _shape_lines(run) == [
        "Sequential output shape:\t torch.Size([1, 64, 24, 24])",
        "Sequential output shape:\t torch.Size([1, 192, 12, 12])",
        "Sequential output shape:\t torch.Size([1, 480, 6, 6])",
        "Sequential output shape:\t torch.Size([1, 832, 3, 3])",
        "Sequential output shape:\t torch.Size([1, 1024])",
        "Linear output shape:\t torch.Size([1, 10])"]
    _trained_net_checks(run)
    _eval_matches_torch(run, (1, 1, 96, 96))


def test_s6_5_batchnorm():
    run = _net_prints_like_torch("t001_s6_5_batchnorm.py")
    lines = [normalise(line) for line in run.out.splitlines()]
    assert lines[:3] == ["torch.Size([4, 3, 5, 5]) True True",
                         "torch.Size([1, 3, 1, 1]) ['gamma', 'beta']", "torch.Size([4, 3, 5, 5])"]
    shapes = _shape_lines(run)
    assert shapes[1] == "BatchNorm output shape:\t torch.Size([2, 6, 24, 24])"
    assert shapes[-1] == "Linear output shape:\t torch.Size([2, 10])" and len(shapes) == 16
    _trained_net_checks(run)
    # nn.BatchNorm2d/1d in training mode (batch statistics) and in evaluation mode.
    _eval_matches_torch(run, (4, 1, 28, 28), train=True)
    _eval_matches_torch(run, (4, 1, 28, 28))


def test_s6_5_scratch_batchnorm_equals_nn_batchnorm():
    run = run_tutorial("t001_s6_5_batchnorm.py")
    x = _rng().normal(3, 2, (4, 3, 5, 5)).astype(np.float32)
    results = []
    for ns in (run.ns, run.ref_ns):
        torch, nn = ns["torch"], ns["nn"]
        ours, theirs = ns["BatchNorm"](3, num_dims=4), nn.BatchNorm2d(3)
        X = torch.tensor(x)
        results.append((to_numpy(ours(X)), to_numpy(theirs(X)),
                        to_numpy(ours.moving_mean).ravel(), to_numpy(theirs.running_mean)))
    (y, y_nn, mm, rm), (y_ref, y_nn_ref, mm_ref, rm_ref) = results
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y_nn, y_nn_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y, y_nn, rtol=1e-4, atol=1e-4)  # the same normalisation
    # Moving averages: 0.9 old + 0.1 batch mean (scratch), momentum 0.1 (nn): the same here.
    np.testing.assert_allclose(mm, rm, rtol=1e-5)
    np.testing.assert_allclose(mm, mm_ref, rtol=1e-5)


def test_s6_6_resnet():
    run = _net_prints_like_torch("t001_s6_6_resnet.py")
    lines = [normalise(line) for line in run.out.splitlines()]
    assert lines[:2] == ["torch.Size([4, 3, 6, 6])", "torch.Size([4, 6, 3, 3])"]
    assert _shape_lines(run) == [
        "Sequential output shape:\t torch.Size([1, 64, 56, 56])",
        "Sequential output shape:\t torch.Size([1, 64, 56, 56])",
        "Sequential output shape:\t torch.Size([1, 128, 28, 28])",
        "Sequential output shape:\t torch.Size([1, 256, 14, 14])",
        "Sequential output shape:\t torch.Size([1, 512, 7, 7])",
        "AdaptiveAvgPool2d output shape:\t torch.Size([1, 512, 1, 1])",
        "Flatten output shape:\t torch.Size([1, 512])",
        "Linear output shape:\t torch.Size([1, 10])"]
    _trained_net_checks(run)
    # The Residual block (with its in-place Y += X) in training mode, and the whole net.
    _eval_matches_torch(run, (2, 3, 6, 6), make=lambda ns: ns["Residual"](3, 6, use_1x1conv=True, strides=2),
                        train=True)
    _eval_matches_torch(run, (2, 1, 64, 64), atol=1e-4)


def test_s6_7_densenet():
    run = _net_prints_like_torch("t001_s6_7_densenet.py")
    lines = [normalise(line) for line in run.out.splitlines()]
    # The text: 3 + 2 * 10 = 23 output channels; the transition block halves height and width.
    assert lines[:2] == ["torch.Size([4, 23, 8, 8])", "torch.Size([4, 10, 4, 4])"]
    shapes = _shape_lines(run)
    assert shapes[:4] == ["Sequential output shape:\t torch.Size([1, 64, 24, 24])",
                          "DenseBlock output shape:\t torch.Size([1, 192, 24, 24])",
                          "Sequential output shape:\t torch.Size([1, 96, 12, 12])",
                          "DenseBlock output shape:\t torch.Size([1, 224, 12, 12])"]
    assert shapes[-1] == "Linear output shape:\t torch.Size([1, 10])" and len(shapes) == 13
    _trained_net_checks(run)
    _eval_matches_torch(run, (2, 3, 8, 8), make=lambda ns: ns["DenseBlock"](2, 3, 10), train=True)
    _eval_matches_torch(run, (1, 1, 96, 96))
