"""Group `ops`: single ops on small and medium float32 tensors, forward only and
forward + backward.

  elementwise  a + b, a * b, exp(a), relu(a)
  reductions   a.sum(), a.mean(dim=1)
  matmul       a @ b with b of the transposed shape (256x784 @ 784x256, 1024^2 @ 1024^2, ...)

"fwd" times the op on inputs that do not require grad; "fwd+bwd" times
`op(...).sum().backward()` (no extra .sum() when the op already gives a scalar)
on inputs that require grad, with their .grad reset to None before each call
(as `zero_grad()` does).  Time per call.
"""
import numpy as np

from registry import add, group

group("ops", "single ops (elementwise, reductions, matmul) on small and medium tensors; "
      "fwd, and fwd+bwd = op(...).sum().backward(); time per call")

SHAPES = [(1, 1), (2, 3), (64, 64), (256, 784), (1024, 1024)]

# name: (function, number of inputs, output is a scalar)
OPS = {
    "add": (lambda lib, a, b: a + b, 2, False),
    "mul": (lambda lib, a, b: a * b, 2, False),
    "exp": (lambda lib, a: lib.exp(a), 1, False),
    "relu": (lambda lib, a: lib.relu(a), 1, False),
    "sum": (lambda lib, a: a.sum(), 1, True),
    "mean(dim=1)": (lambda lib, a: a.mean(dim=1), 1, False),
    "matmul": (lambda lib, a, b: a @ b, 2, False),
}


def inputs(lib, op, shape, requires_grad):
    """Seeded standard-normal float32 inputs: identical for both libraries."""
    rng = np.random.default_rng(0)
    shapes = [shape, shape[::-1] if op == "matmul" else shape][:OPS[op][1]]
    return [lib.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=requires_grad)
            for s in shapes]


def forward(op, shape):
    f = OPS[op][0]

    def make(lib):
        args = inputs(lib, op, shape, requires_grad=False)
        return lambda: f(lib, *args)
    return make


def forward_backward(op, shape):
    f, _, scalar_out = OPS[op]

    def make(lib):
        args = inputs(lib, op, shape, requires_grad=True)

        def step():
            for t in args:
                t.grad = None
            out = f(lib, *args)
            (out if scalar_out else out.sum()).backward()
            return args[0].grad
        return step
    return make


for op in OPS:
    for shape in SHAPES:
        size = "x".join(map(str, shape))
        params = {"op": op, "shape": list(shape)}
        add("ops", f"{op} {size} fwd", forward(op, shape), params={**params, "mode": "fwd"})
        add("ops", f"{op} {size} fwd+bwd", forward_backward(op, shape), params={**params, "mode": "fwd+bwd"})
