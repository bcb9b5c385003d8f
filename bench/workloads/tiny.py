"""Group `tiny`: per-op overhead of autograd on a scalar.

The tutorial's gradient-descent loop (as in ../shared/bench/torch_baselines.py,
section a): 1000 iterations of forward, backward and an in-place update on a
one-element float32 tensor.  Every op is trivial, so this measures the
framework's fixed cost per op and per backward pass.
"""
from registry import add, group

ITERS = 1000
ETA = 0.4

group("tiny", "the tutorial's scalar autograd loop: y = (x - 2) ** 2 / 2; y.backward(); "
      "x.data -= eta * x.grad; x.grad.zero_()  (1000 iterations, time per iteration)",
      target="ember/torch <= 0.5")


def scalar_loop(x0):
    def make(lib):
        def run():
            x = lib.tensor(x0, requires_grad=True)
            for _ in range(ITERS):
                y = (x - 2) ** 2 / 2
                y.backward()
                x.data -= ETA * x.grad
                x.grad.zero_()
            return x
        return run
    return make


def converged(x):
    v = float(x.item())
    assert abs(v - 2.0) < 1e-4, f"loop did not converge: x = {v}, expected 2"


# x = tensor(5.0): the 0-d form of the shared reference script (torch: ~30 us/iter);
# x = tensor([0.0]): the one-element 1-d form.
add("tiny", "scalar_loop x=tensor(5.)", scalar_loop(5.0), per_call=ITERS, repeats=9,
    target_ratio=0.5, check=converged, params={"x0": 5.0, "shape": [], "iters": ITERS, "eta": ETA})
add("tiny", "scalar_loop x=tensor([0.])", scalar_loop([0.0]), per_call=ITERS, repeats=9,
    target_ratio=0.5, check=converged, params={"x0": [0.0], "shape": [1], "iters": ITERS, "eta": ETA})
