"""The matrix products a recurrent workload of bench_rnn.py needs, timed alone: NumPy/OpenBLAS vs torch/MKL.

    python bench/rnn_gemm_floor.py [scratch] [lm]

Same shapes, layouts (row-major or a transposed view) and counts as the workload's forward and backward, one
thread, CPU time, best of 7. What ember spends in these products is a floor under its time for the workload
whatever it does elsewhere: when the floor alone is above the target times torch's whole time, no work outside
the GEMMs can meet the target (bench/README.md, "Recurrent networks").
"""
import os
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from bench_rnn import _corpus  # noqa: E402


def products(name):
    """(count, (m, k), layout of the left operand, (k, n), layout of the right one); "T": a transposed view."""
    B, T, H = 32, 35, 256
    if name == "scratch":   # per step of the book's RNN from scratch, 8 minibatches of 35 steps
        V = _corpus(10000)[1]
        n = 8 * T
        return [(n, (B, V), "N", (V, H), "N"), (n, (B, H), "N", (H, H), "N"), (n, (B, H), "N", (H, V), "N"),
                (n, (V, B), "T", (B, H), "N"), (n, (B, H), "N", (H, H), "T"), (n, (H, B), "T", (B, H), "N"),
                (n, (B, V), "N", (V, H), "T"), (n, (H, B), "T", (B, V), "N")]
    if name == "lm":        # one minibatch of char-lstm: input projection, recurrence, output layer
        V = _corpus()[1]
        return [(1, (T * B, V), "N", (V, 4 * H), "T"), (T, (B, H), "N", (H, 4 * H), "N"),
                (1, (T * B, H), "N", (H, V), "T"), (1, (T * B, V), "N", (V, H), "N"),
                (1, (V, T * B), "T", (T * B, H), "N"), (1, (4 * H, T * B), "T", (T * B, V), "N"),
                (T, (B, 4 * H), "N", (4 * H, H), "N"), (1, (4 * H, T * B), "T", (T * B, H), "N")]
    raise SystemExit(f"unknown workload {name!r}")


def _operand(rng, shape, layout):
    a = rng.standard_normal(shape[::-1] if layout == "T" else shape).astype(np.float32)
    return a.T if layout == "T" else a


def _cpu(fn):
    t = time.process_time()
    fn()
    return time.process_time() - t


def floor(name, repeats=7):
    rng = np.random.default_rng(0)
    pairs = []
    for count, sa, la, sb, lb in products(name):
        a, b = _operand(rng, sa, la), _operand(rng, sb, lb)
        ta = torch.from_numpy(a.T.copy()).t() if la == "T" else torch.from_numpy(a.copy())
        tb = torch.from_numpy(b.T.copy()).t() if lb == "T" else torch.from_numpy(b.copy())
        pairs.append((count, a, b, ta, tb))

    def with_numpy():
        for count, a, b, _, _ in pairs:
            for _ in range(count):
                np.matmul(a, b)

    def with_torch():
        for count, _, _, ta, tb in pairs:
            for _ in range(count):
                torch.matmul(ta, tb)
    result = {}
    for lib, fn in (("numpy", with_numpy), ("torch", with_torch)):
        fn()
        result[lib] = min(_cpu(fn) for _ in range(repeats))
    return result


def main():
    torch.set_num_threads(1)
    with threadpool_limits(1):
        for name in sys.argv[1:] or ["scratch", "lm"]:
            r = floor(name)
            print(f"{name}: the GEMMs alone, CPU ms (best of 7): NumPy/OpenBLAS {r['numpy'] * 1e3:.1f}, "
                  f"torch/MKL {r['torch'] * 1e3:.1f}")


if __name__ == "__main__":
    main()
