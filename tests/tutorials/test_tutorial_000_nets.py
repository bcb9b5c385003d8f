"""Tutorial 000 ("深度学习框架与网络结构设计"), chapters 4-6: examples/t000_ch4_mlp.py, t000_ch5_alexnet.py,
t000_ch6_resnet.py.

Each program runs with ember and with PyTorch (see tutorial_check.py); the *_prints_like_torch
tests compare the two outputs, the others check the outcome the text states, and the
*_matches_torch tests give both libraries the same weights and inputs (from NumPy) and compare
what they compute.
"""
import numpy as np
import pytest

from tutorial_check import (load_numpy_state, missing_grads, normalise, numbers, numpy_state,
                            one_torch_thread, run_tutorial, to_numpy)

CH4 = "t000_ch4_mlp.py"
CH5 = "t000_ch5_alexnet.py"
CH6 = "t000_ch6_resnet.py"


@pytest.fixture(autouse=True)
def _one_torch_thread():
    with one_torch_thread():  # see tutorial_check._torch_threads
        yield


def _values(units, prefix):
    """The first number of every printed unit that starts with prefix."""
    return [numbers(u.split("=", 1)[1])[0] for u in units if u.startswith(prefix)]


def _vectors(units, prefix):
    return [numbers(u.split("=", 1)[1]) for u in units if u.startswith(prefix)]


# ---- chapter 4: MLP by hand and with nn.Sequential ----

PART1_UNITS = 50 * 4  # 50 iterations of '-----', w1, b1, sum_err


def test_ch4_prints_like_torch():
    # Part 1's weights come from np.random (seeded), so both libraries print the same numbers;
    # they are compared within one unit of the last printed digit (1.5e-4), as float32
    # rounding order may flip it. Part 2's weights come from the library's random stream:
    # only the layout is compared (test_ch4_sequential_matches_torch compares the numbers).
    run_tutorial(CH4).compare(lambda i: "approx" if i < PART1_UNITS else "layout",
                              rtol=1e-4, atol=1.5e-4)


def test_ch4_hand_written_network_learns():
    units = run_tutorial(CH4).units[:PART1_UNITS]
    errs = _values(units, "sum_err")
    assert len(errs) == 50
    # The output starts near 0, so the first error is about 0.7**2 / 2 = 0.245 (the text:
    # 0.2450), and it falls at every step (the text's last: 0.0915).
    assert abs(errs[0] - 0.245) < 0.005
    assert all(b < a for a, b in zip(errs, errs[1:]))
    assert errs[-1] < 0.1


def test_ch4_sequential_learns():
    units = run_tutorial(CH4).units[PART1_UNITS:]
    ys = _values(units, "y")
    ls = _values(units, "l")
    assert len(ys) == len(ls) == 5
    # The text: y 0.0003 -> 0.6563 (target 0.7), l 0.2448 -> 0.0010.
    assert all(b < a for a, b in zip(ls, ls[1:]))
    assert abs(ys[0]) < 0.05 and abs(ys[-1] - 0.7) < 0.1 and ls[-1] < 0.005


def _sequential(ns):
    nn = ns["nn"]
    return nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))


def _train_sequential(ns, state):
    """Part 2's network with the given weights, trained by the text's 5 steps; the y values."""
    torch = ns["torch"]
    net = _sequential(ns)
    load_numpy_state(ns, net, state)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    x = torch.tensor([2.1, 3.2], dtype=torch.float32).unsqueeze(dim=0)
    y_target = torch.tensor([0.7], dtype=torch.float32).unsqueeze(dim=0)
    ys = []
    for _ in range(5):
        y = net(x)
        ys.append(y.item())
        l = (y - y_target) ** 2 / 2
        l.backward()
        optimizer.step()
        optimizer.zero_grad()
    return ys


def test_ch4_sequential_matches_torch():
    run = run_tutorial(CH4)
    # Weights as nn.init.normal_(0, 0.01) would give, but from NumPy; biases larger so that
    # every ReLU is active and every parameter learns.
    rng = np.random.default_rng(0)
    state = {k: (rng.normal(0, 0.5, v.shape)).astype(np.float32)
             for k, v in numpy_state(run.ref_ns["net"]).items()}
    got = _train_sequential(run.ns, state)
    want = _train_sequential(run.ref_ns, state)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert abs(want[-1] - 0.7) < abs(want[0] - 0.7)


# ---- chapter 5: AlexNet on one sample ----

def test_ch5_prints_like_torch():
    # Every printed value depends on the random initialisation and the dropout masks:
    # only the layout is compared.
    run_tutorial(CH5).compare("layout")


def test_ch5_err_sum_falls_and_y_approaches_target():
    units = run_tutorial(CH5).units
    errs = _values(units, "err_sum")
    ys = _vectors(units, "y")
    assert len(errs) == len(ys) == 10 and all(len(y) == 10 for y in ys)
    # The output starts near 0, so err_sum starts near 0.5 (the text: 0.5125) and y[0] near 0.
    # Dropout and Adam's first large steps make both swing from step to step (the text shows
    # only the first two steps and the 50th: err_sum 0.0186, y[0] 0.8332); over the last five
    # of the 10 steps err_sum stays well below its start and y[0] has come up near 1.
    assert abs(errs[0] - 0.5) < 0.05 and abs(ys[0][0]) < 0.1
    assert sum(errs[5:]) / 5 < 0.6 * errs[0]
    assert max(y[0] for y in ys[5:]) > 0.5


def test_ch5_alexnet_matches_torch():
    run = run_tutorial(CH5)
    state = numpy_state(run.ns["net"])
    x = np.random.default_rng(0).standard_normal((1, 1, 224, 224)).astype(np.float32)
    results = []
    for ns in (run.ns, run.ref_ns):
        torch = ns["torch"]
        net = ns["AlexNet"]()
        load_numpy_state(ns, net, state)
        net.eval()  # no dropout: both libraries compute the same function
        y = net(torch.tensor(x))
        err_sum = torch.sum((y - ns["y_target"]) ** 2 / 2)
        err_sum.backward()
        results.append((to_numpy(y), err_sum.item(), missing_grads(net),
                        to_numpy(net.conv[0].weight.grad), to_numpy(net.fc[6].weight.grad)))
    (y, err, missing, g_conv, g_fc), (y_ref, err_ref, _, g_conv_ref, g_fc_ref) = results
    assert missing == []
    np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-5)
    assert abs(err - err_ref) <= 1e-4 * err_ref
    np.testing.assert_allclose(g_fc, g_fc_ref, rtol=1e-3, atol=1e-4 * np.abs(g_fc_ref).max())
    np.testing.assert_allclose(g_conv, g_conv_ref, rtol=1e-3, atol=1e-3 * np.abs(g_conv_ref).max())


def test_ch5_alexnet_repr_like_torch():
    run = run_tutorial(CH5)
    assert normalise(str(run.ns["net"])) == str(run.ref_ns["net"])


# ---- chapter 6: ResNet-18 style network on one sample ----

def test_ch6_prints_like_torch():
    # Every printed value depends on the random initialisation: only the layout is compared.
    run_tutorial(CH6).compare("layout")


def test_ch6_err_sum_falls():
    units = run_tutorial(CH6).units
    errs = _values(units, "err_sum")
    ys = _vectors(units, "y")
    assert len(errs) == len(ys) == 5
    # The text: err_sum 1.6263 -> 0.6072 -> ... -> 0.2222 (5 steps); y[0] 0.1225 -> 1.2204.
    assert errs[-1] < errs[0] / 2
    assert abs(ys[-1][0] - 1) < abs(ys[0][0] - 1)


def _resnet(ns):
    """The program's network, assembled again as the text does."""
    nn = ns["nn"]
    net = nn.Sequential(
        nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    net.add_module("resnet_block1", ns["resnet_block"](64, 64, 2, first_block=True))
    net.add_module("resnet_block2", ns["resnet_block"](64, 128, 2))
    net.add_module("resnet_block3", ns["resnet_block"](128, 256, 2))
    net.add_module("resnet_block4", ns["resnet_block"](256, 512, 2))
    net.add_module("global_avg_pool", ns["GlobalAvgPool2d"]())
    net.add_module("fc", nn.Sequential(ns["FlattenLayer"](), nn.Linear(512, 10)))
    return net


def test_ch6_resnet_repr_and_parameters_like_torch():
    run = run_tutorial(CH6)
    net, ref = run.ns["net"], run.ref_ns["net"]
    assert normalise(str(net)) == str(ref)
    table = [(name, tuple(p.shape)) for name, p in net.named_parameters()]
    assert table == [(name, tuple(p.shape)) for name, p in ref.named_parameters()]
    assert list(net.state_dict().keys()) == list(ref.state_dict().keys())  # BN buffers too


def test_ch6_resnet_matches_torch():
    # The forward pass is compared in float32, as the program runs. The backward pass, the Adam
    # step and the eval-mode pass after it are compared in float64: in float32 a ReLU input
    # whose true value is a few float32 ulps from 0 (here 6.7e-6 among values up to 5, after
    # twenty layers) can land on either side of 0 depending on the BLAS kernels' summation
    # order, and one flipped ReLU mask moves the first layer's gradient by 3 %. In float64
    # such a tie is out of reach, so the gradients must agree closely (on a 64x64 input, to
    # keep the float64 passes cheap).
    run = run_tutorial(CH6)
    state = numpy_state(run.ns["net"])  # trained weights and BatchNorm running statistics
    x = np.random.default_rng(0).standard_normal((1, 1, 112, 112)).astype(np.float32)
    x64 = np.random.default_rng(1).standard_normal((1, 1, 64, 64))
    results = []
    for ns in (run.ns, run.ref_ns):
        torch = ns["torch"]
        net = _resnet(ns)
        load_numpy_state(ns, net, state)
        y32 = net(torch.tensor(x))  # training mode: BatchNorm uses the batch statistics
        net = _resnet(ns).double()
        load_numpy_state(ns, net, state)
        optimizer = torch.optim.Adam(net.parameters(), lr=ns["lr"])
        y = net(torch.tensor(x64))
        err_sum = torch.sum((y - ns["y_target"].double()) ** 2 / 2)
        err_sum.backward()
        missing = missing_grads(net)
        grad = to_numpy(net[0].weight.grad)
        optimizer.step()
        net.eval()  # now the running statistics the step updated
        with torch.no_grad():
            y2 = net(torch.tensor(x64))
        results.append((to_numpy(y32), missing, grad, to_numpy(y2),
                        to_numpy(net[1].running_mean), to_numpy(net[1].running_var)))
    (y, missing, grad, y2, rm, rv), (y_ref, _, grad_ref, y2_ref, rm_ref, rv_ref) = results
    assert missing == []
    assert y.dtype == np.float32 and grad.dtype == np.float64
    np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-7, atol=1e-9 * np.abs(grad_ref).max())
    np.testing.assert_allclose(rm, rm_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(rv, rv_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(y2, y2_ref, rtol=1e-7, atol=1e-9)
