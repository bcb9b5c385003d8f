"""The matrix products of one MLP/DNN training step (group `epoch`), timed alone: ember's GEMM route vs torch.

    python bench/mlp_gemm_floor.py [--isa avx2] [--epochs]

Per linear layer a step multiplies x @ W^T forward, g @ W for the input gradient (not for the first layer,
whose input needs none) and g^T @ x for the weight gradient, with the layouts a linear layer uses (W^T and
g^T are transposed views). ember's side goes through `ember.backend.threads.matmul`, the route every linear
layer takes; torch's through torch.mm. Both at 2 threads, wall time, median of many calls. The same script
times torch's whole training step on the same shapes (the one timed beside the hand-written step below), so
the report can say how much of torch's step is left for ember's non-GEMM work under a target: when ember's
GEMMs alone use up most of it, no work outside the GEMMs meets the target (bench/README.md, "Before and after
session 6").

It also times the whole step written by hand as the NumPy calls it needs and nothing else (`HandWrittenStep`:
the same GEMM route, the bias and ReLU in place, softmax cross-entropy, the ReLU's gradient from its output,
SGD with momentum, the update through axpy as ember's, every buffer reused), checked against torch's gradients
first (and by tests/test_bench_mlp_floor.py), beside ember's and torch's steps from the same weights on the same
batch: what an op-at-a-time framework on NumPy costs with no bookkeeping of its own (bench/README.md, "Session
7"). --epochs adds whole MNIST epochs of the three as group `epoch` runs them, the permuted copy of the data
included: the floor under that group's MLP and DNN rows (bench/README.md, "Session 8").
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import hold_this_process_to, median_of_calls, numpy_simd  # noqa: E402

WORKLOADS = {   # name: (layer widths, batch, SGD momentum, the epoch's lr), as in bench/workloads/epoch.py
    "MLP 784-256-10 b256": ([784, 256, 10], 256, 0.0, 0.1),
    "DNN 784-512-256-128-64-10 b64": ([784, 512, 256, 128, 64, 10], 64, 0.5, 0.01),
}


def products(widths, batch):
    """(label, (m, k), left layout, (k, n), right layout) for one step; "T": a transposed view."""
    out = []
    for layer, (i, o) in enumerate(zip(widths[:-1], widths[1:])):
        out.append((f"fwd {i}->{o}", (batch, i), "N", (i, o), "T"))
        if layer:
            out.append((f"grad in {i}->{o}", (batch, o), "N", (o, i), "N"))
        out.append((f"grad W {i}->{o}", (o, batch), "T", (batch, i), "N"))
    return out


def _operand(rng, shape, layout):
    a = rng.standard_normal(shape[::-1] if layout == "T" else shape).astype(np.float32)
    return a.T if layout == "T" else a


def _median_us(fn, calls=300):
    return median_of_calls(fn, calls, warmup=30) * 1e6


class HandWrittenStep:
    """One SGD training step of a ReLU MLP with cross-entropy loss, as NumPy calls (weights: [(W, b), ...] in
    torch's layout; updated in place)."""

    def __init__(self, weights, lr, momentum):
        from ember.backend import threads
        from ember.backend.blas import axpy
        self.matmul, self.axpy = threads.matmul, axpy
        self.params = [p for layer in weights for p in layer]
        self.weights = weights
        self.lr, self.momentum = np.float32(lr), np.float32(momentum)
        self.bufs = [np.zeros_like(p) for p in self.params] if momentum else None

    def grads(self, x, y):
        hs = [x]
        for i, (w, b) in enumerate(self.weights):
            z = self.matmul(hs[-1], w.T)
            z += b
            if i < len(self.weights) - 1:
                np.maximum(z, 0, out=z)
            hs.append(z)
        z = hs.pop()
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        total = e.sum(1, keepdims=True)
        rows = np.arange(len(y))
        loss = float(np.log(total[:, 0]).sum() - z[rows, y].sum()) / len(y)
        g = np.divide(e, total, out=e)
        g[rows, y] -= 1.0
        g *= np.float32(1.0 / len(y))
        grads = []
        for i in range(len(self.weights) - 1, -1, -1):
            w, _ = self.weights[i]
            h = hs[i]
            grads += [np.add.reduce(g, 0), self.matmul(g.T, h)]
            if i:
                g = self.matmul(g, w)
                np.multiply(g, h > 0, out=g)
        return loss, grads[::-1]

    def step(self, x, y):
        loss, grads = self.grads(x, y)
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if self.bufs is not None:
                buf = self.bufs[i]
                buf *= self.momentum
                buf += g
                g = buf
            self.axpy(-self.lr, g, p)     # one fused pass, as ember's SGD (ember/backend/blas.py)
        return loss


def mlp(lib, weights):
    """The ReLU MLP of `weights` ([(W, b), ...], torch's layout) in lib, with copies of the weights."""
    layers = []
    for w, b in weights:
        lin = lib.nn.Linear(w.shape[1], w.shape[0])
        with lib.no_grad():
            lin.weight.copy_(lib.from_numpy(w.copy()))
            lin.bias.copy_(lib.from_numpy(b.copy()))
        layers += [lin, lib.nn.ReLU()]
    return lib.nn.Sequential(*layers[:-1])


def _hand_vs_torch(torch, widths, batch, momentum, rng):
    """Times of one training step by hand, by ember and by torch from the same weights on the same batch (us),
    after checking the hand-written gradients against torch's."""
    import ember
    weights = [((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32),
                (rng.standard_normal(o) * 0.01).astype(np.float32)) for i, o in zip(widths[:-1], widths[1:])]
    x = rng.standard_normal((batch, widths[0])).astype(np.float32)
    y = rng.integers(0, widths[-1], batch)
    hand = HandWrittenStep([(w.copy(), b.copy()) for w, b in weights], 0.01, momentum)
    tmodel = mlp(torch, weights)
    loss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    hand_loss, grads = hand.grads(x, y)
    worst = max(float(np.abs(g - p.grad.numpy()).max() / np.abs(p.grad.numpy()).max())
                for g, p in zip(grads, tmodel.parameters()))
    assert abs(hand_loss - loss.item()) < 1e-5 and worst < 1e-4, (hand_loss, loss.item(), worst)

    from common import sgd_step
    emodel = mlp(ember, weights)
    xe, ye, xt, yt = ember.from_numpy(x), ember.from_numpy(y), torch.from_numpy(x), torch.from_numpy(y)
    return (_median_us(lambda: hand.step(x, y), 200),
            _median_us(sgd_step(ember, emodel, xe, ye, 0.01, momentum), 200),
            _median_us(sgd_step(torch, tmodel, xt, yt, 0.01, momentum), 200), worst)


def _epochs(torch, widths, batch, lr, momentum, rng, repeats=3):
    """Seconds per MNIST training epoch (group `epoch`'s loop: a permuted copy of the data, then from_numpy
    slices batch by batch) by hand, by ember and by torch, each from the same initial weights; the three
    alternate, median of `repeats` after one warm-up epoch each."""
    import time

    import ember
    from common import mnist_float, sgd_step
    X, Y = mnist_float()[:2]
    X = X.reshape(len(X), -1)
    weights = [((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32), np.zeros(o, np.float32))
               for i, o in zip(widths[:-1], widths[1:])]

    def batches():
        perm = np.random.default_rng(0).permutation(len(X))
        Xs, Ys = X[perm], Y[perm]
        for i in range(0, len(Xs), batch):
            yield Xs[i:i + batch], Ys[i:i + batch]

    def by_hand():
        hand = HandWrittenStep([(w.copy(), b.copy()) for w, b in weights], lr, momentum)
        for xb, yb in batches():
            hand.step(xb, yb)

    def by(lib):
        def run():
            step = sgd_step(lib, mlp(lib, weights), lr=lr, momentum=momentum)
            for xb, yb in batches():
                step(lib.from_numpy(xb), lib.from_numpy(yb))
        return run

    runs = [by_hand, by(ember), by(torch)]
    times = [[] for _ in runs]
    for round_ in range(repeats + 1):
        for fn, ts in zip(runs, times):
            t0 = time.perf_counter()
            fn()
            if round_:
                ts.append(time.perf_counter() - t0)
    return [float(np.median(ts)) for ts in times]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--isa", choices=["native", "avx2"], default="native")
    ap.add_argument("--epochs", action="store_true", help="also time whole MNIST epochs (hand, ember, torch)")
    opts = ap.parse_args()
    hold_this_process_to(opts.isa)
    import torch

    import ember
    from ember.backend import threads
    ember.set_num_threads(2)
    torch.set_num_threads(2)
    from threadpoolctl import threadpool_info
    kernel = [p.get("architecture") for p in threadpool_info() if p.get("internal_api") == "openblas"]
    print(f"# GEMMs of one training step, 2 threads (NumPy's OpenBLAS kernel {kernel}, NumPy SIMD {numpy_simd()}; "
          f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()})\n")
    rng = np.random.default_rng(0)
    for name, (widths, batch, momentum, lr) in WORKLOADS.items():
        print(f"## {name}\n\n| product | ember (us) | torch (us) |\n|---|---:|---:|")
        total_e = total_t = 0.0
        for label, sa, la, sb, lb in products(widths, batch):
            a, b = _operand(rng, sa, la), _operand(rng, sb, lb)
            ta = torch.from_numpy(a.T.copy()).t() if la == "T" else torch.from_numpy(a.copy())
            tb = torch.from_numpy(b.T.copy()).t() if lb == "T" else torch.from_numpy(b.copy())
            e = _median_us(lambda: threads.matmul(a, b))
            t = _median_us(lambda: torch.mm(ta, tb))
            total_e += e
            total_t += t
            print(f"| {label} {sa}{'ᵀ' if la == 'T' else ''} @ {sb}{'ᵀ' if lb == 'T' else ''} | {e:.1f} | {t:.1f} |")
        hand, est, step, worst = _hand_vs_torch(torch, widths, batch, momentum, rng)
        print(f"| **all products of a step** | **{total_e:.0f}** | **{total_t:.0f}** |\n")
        print(f"torch's whole training step (SGD, momentum {momentum}): {step:.0f} us. Under a target of 0.9, ember's step may "
              f"take {0.9 * step:.0f} us: its GEMMs leave {0.9 * step - total_e:.0f} us for everything else, where "
              f"torch spends {step - total_t:.0f} us.\n")
        print(f"The whole step from the same weights on the same batch (hand-written gradients checked against "
              f"torch's: max |diff| / max |grad| {worst:.1e}):\n")
        print("| by hand in NumPy | ember | torch | by hand / torch | ember / torch |\n|---:|---:|---:|---:|---:|")
        print(f"| {hand:.0f} us | {est:.0f} us | {step:.0f} us | {hand / step:.2f} | {est / step:.2f} |\n")
        if opts.epochs:
            hand, est, step = _epochs(torch, widths, batch, lr, momentum, rng)
            print(f"A whole MNIST epoch as group `epoch` runs it (lr {lr}; the permuted copy of the data included, "
                  f"the same for all three), median of 3:\n")
            print("| by hand in NumPy | ember | torch | by hand / torch | ember / torch |\n|---:|---:|---:|---:|---:|")
            print(f"| {hand:.3f} s | {est:.3f} s | {step:.3f} s | {hand / step:.2f} | {est / step:.2f} |\n")


if __name__ == "__main__":
    main()
