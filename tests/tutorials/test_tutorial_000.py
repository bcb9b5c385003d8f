"""Tutorial 000 ("深度学习框架与网络结构设计"), chapters 1-3: examples/t000_ch*.py.

Each program runs with ember and with PyTorch (see tutorial_check.py); the *_prints_like_torch
tests compare the two outputs, the others check the outcome the text states.
"""
from tutorial_check import numbers, run_tutorial

CH1 = "t000_ch1_scalar_extremum.py"
CH2 = "t000_ch2_vector_extremum.py"
CH3 = "t000_ch3_linear_regression.py"


# ---- chapter 1: minimise (x - 2)**2 / 2 ----

def test_ch1_prints_like_torch():
    # Every line compared. The lines print x.data.item(), a float32 value in full
    # (17 digits), so they are compared as numbers within 1e-6 (a few float32 ulps).
    run_tutorial(CH1).compare("approx", rtol=1e-6)


def test_ch1_x_converges_to_2():
    lines = run_tutorial(CH1).out.splitlines()
    assert len(lines) == 15 and all(line.startswith("x= ") for line in lines)
    xs = [float(line.split()[1]) for line in lines]
    # Start: np.random.seed(0); np.random.normal(0, 0.01) = 0.0176405..., stored as float32.
    assert abs(xs[0] - 0.017640523612499237) < 1e-9
    # Each step moves x 40 % of the way to 2 (x <- x - 0.4 (x - 2)).
    for a, b in zip(xs, xs[1:]):
        assert abs((2 - b) - 0.6 * (2 - a)) < 1e-6
    # The text: x -> 2.0 (last printed value 1.9984...).
    assert abs(xs[-1] - 2.0) < 2e-3


# ---- chapter 2: minimise x0**2 + x1**2 + 4 x0 + 5 x1 + 3 via torch.mm(x, x.t()) ----

def test_ch2_prints_like_torch():
    # Every line compared exactly: the values are rounded to 4 decimals and come from
    # np.random with a fixed seed, so both libraries print the same text.
    run_tutorial(CH2).compare("exact")


def test_ch2_x_converges_to_minimum():
    lines = run_tutorial(CH2).out.splitlines()
    assert len(lines) == 10
    assert all(line.startswith("x= tensor([[") and line.endswith("]], requires_grad=True)")
               for line in lines)
    # The text: the minimum is at [x0, x1] = [-2, -2.5].
    assert lines[-1] == "x= tensor([[-2.0000, -2.5000]], requires_grad=True)"
    x0, x1 = numbers(lines[-1])
    assert (x0, x1) == (-2.0, -2.5)


# ---- chapter 3: linear regression on 3 samples, manual updates w.data -= eta*w.grad ----

def test_ch3_prints_like_torch():
    run = run_tutorial(CH3)
    cut = run.ref_units.index("...")
    # Compared digit by digit up to the "..." line: y_target and the first three iterations
    # (few float32 operations, printed to 4 digits). A number may differ by one unit in its
    # last printed digit: w.grad = [[-819.9555, ...]] is a 3-term dot product whose exact value
    # -819.955523 rounds to float32 -819.95551 (NumPy's OpenBLAS, and the tutorial's text);
    # MKL's AVX-512 sgemm kernel sums in another order and gets -819.95557, one ulp away, which
    # prints as -819.9556. After "...", the last of the 30000 iterations is compared as numbers
    # (rtol 1e-3, atol 2e-4): rounding differences accumulate over the iterations, and loss /
    # w.grad there are differences of nearly equal numbers.
    run.compare(lambda i: "digit" if i <= cut else "approx", rtol=1e-3, atol=2e-4)


def test_ch3_text_values():
    lines = run_tutorial(CH3).out.splitlines()
    # Part 1, as printed in the text.
    assert lines[0] == "y_target =  tensor([[13.5700, 38.7000, 70.5100]])"
    # First iteration, as printed in the text (whose extraction dropped some spaces).
    assert lines[1:8] == [
        "-" * 20,
        "w = tensor([[0.0010, 0.0030]], requires_grad=True)",
        "b = tensor([0.0050], requires_grad=True)",
        "y = tensor([[0.0130, 0.0267, 0.0442]], grad_fn=<AddBackward0>)",
        "loss =  tensor([[  91.8961,  747.8121, 2482.7148]], grad_fn=<DivBackward0>)",
        "sum_err =  tensor(3322.4231, grad_fn=<SumBackward0>)",
        "w.grad= tensor([[-819.9555, -963.3235]])",
    ]
    assert lines[22] == "...", "the first three iterations are printed, then '...'"
    assert len(lines) == 30


def test_ch3_w_and_b_close_to_generating_values():
    lines = run_tutorial(CH3).out.splitlines()
    last = dict(line.split("=", 1) for line in lines[-6:])
    w = numbers(last["w "])
    b = numbers(last["b "])
    sum_err = numbers(last["sum_err "])[0]
    # The text's last iteration: w = [[3.2567, 4.0443]], b = [0.6755], sum_err = 9.4248e-05.
    assert all(abs(g - t) < 2e-3 for g, t in zip(w, [3.2567, 4.0443]))
    assert abs(b[0] - 0.6755) < 2e-3
    assert sum_err < 2e-4
    # "w 和 b 比较接近数据生成时的参数" (w = [3.1, 4.2], b = 0.5).
    assert all(abs(g - t) < 0.2 for g, t in zip(w + b, [3.1, 4.2, 0.5]))


def test_digit_mode_accepts_only_a_last_digit_difference():
    from tutorial_check import _digits_match
    want = "w.grad= tensor([[-819.9556, -963.3235]])"
    assert _digits_match("w.grad= tensor([[-819.9555, -963.3235]])", want)
    assert _digits_match("w.grad= tensor([[-819.9556, -963.3236]])", want)
    assert _digits_match("sum_err =  tensor(9.4249e-05)", "sum_err =  tensor(9.4248e-05)")
    for wrong in ("w.grad= tensor([[-819.9554, -963.3235]])",     # two units apart
                  "w.grad= tensor([[-819.9656, -963.3235]])",     # another digit
                  "w.grad= tensor([[-819.955, -963.3235]])",      # fewer digits
                  "w.grad= tensor([[-819.9556,  -963.3235]])",    # layout
                  "w.grad= tensor([[-819.9556, -963.3235]], requires_grad=True)",
                  "w.grad= tensor([[819.9556, -963.3235]])"):     # sign
        assert not _digits_match(wrong, want), wrong
    assert not _digits_match("sum_err =  tensor(9.4248e-04)", "sum_err =  tensor(9.4248e-05)")
    assert not _digits_match("tensor([3, 4])", "tensor([3, 5])")  # integers are exact
