"""How fast NumPy can run LeNet at all: the whole network written by hand as NumPy calls, against torch and ember.

    python bench/lenet_numpy_floor.py [--isa avx2] [--threads 2]

Issue 13 asks LeNet inference (10,000 images, batch 256, eval, no_grad) to take at most 1.3x torch's time, and a
LeNet training epoch (batch 256, SGD) at most 1.0x. ember runs each layer as its own op, with a hand-off to its
thread pool per op. This script measures what is left when all of that framework cost is taken away: D2L's LeNet
(conv 1->6 5x5 pad 2, sigmoid, avg-pool 2, conv 6->16 5x5, sigmoid, avg-pool 2, 400-120-84-10 with sigmoids),
written out as the NumPy calls it needs and nothing else:

* the whole network runs per thread on that thread's share of the batch (one hand-off per batch, not per op),
  in chunks of 64 images;
* the layouts are the fastest found for these shapes (bench/README.md, "LeNet in NumPy, written by hand"):
  im2col columns batch-major, one batched GEMM per convolution, the bias added in place, avg-pooling as two
  adds (row pairs with contiguous runs, then column pairs), the pooling's 1/4 folded into the next layer's
  weights, every buffer allocated once and reused, the sigmoid in place (4 passes: negate, exp, +1, reciprocal);
* training: the same forward keeping what backward needs, backward written out by hand (softmax cross-entropy,
  the sigmoid derivatives from their outputs, the convolutions' weight gradients as batched GEMMs, the second
  convolution's input gradient as a GEMM and 25 strided adds, pooling backward as one broadcast copy), the two
  threads' weight gradients added, then the SGD update.

Its outputs and gradients are checked against torch's on the same weights and batch before anything is timed.
An ember program can only be slower than this program (it does at least these calls, one op at a time), so when
this program is over a target, no change inside ember's NumPy ops meets it.
"""
import argparse
import os
import sys
import time

import numpy as np
from numpy.lib.stride_tricks import as_strided

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import hold_this_process_to, numpy_simd  # noqa: E402


def _sigmoid(z):
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    np.reciprocal(z, out=z)


def _sigmoid_backward(g, s, tmp):
    """tmp = g * s * (1 - s) (g, s, tmp of one shape)."""
    np.subtract(1.0, s, out=tmp)
    tmp *= s
    tmp *= g
    return tmp


def _windows(xp, k, oh, ow):
    """The (B, C, k, k, oh, ow) im2col view of a (B, C, H, W) array (stride 1)."""
    s = xp.strides
    return as_strided(xp, xp.shape[:2] + (k, k, oh, ow), (s[0], s[1], s[2], s[3], s[2], s[3]), writeable=False)


def _pool_sum(z, rows, out):
    """out = the sums of 2x2 windows of z (B, C, H, W): row pairs (contiguous runs), then column pairs."""
    np.add(z[:, :, 0::2], z[:, :, 1::2], out=rows)
    np.add(rows[..., 0::2], rows[..., 1::2], out=out)


class HandWrittenLeNet:
    """D2L's LeNet as NumPy calls. `weights`: torch's state_dict as arrays (keys 0, 3, 7, 9, 11). The work is
    split between ember's threads (`ember.set_num_threads`)."""

    CHUNK = 64      # images: the fastest of 16-256 at one and two threads (bench/README.md)

    def __init__(self, weights):
        self.w = {k: np.array(v, np.float32) for k, v in weights.items()}
        self.bufs = {}

    def _folded(self):
        w = self.w
        q = np.float32(0.25)            # avg-pooling's 1/4, moved into the layer after each pool
        return dict(w1=w["0.weight"].reshape(1, 6, 25), b1=w["0.bias"].reshape(6, 1),
                    w2=(w["3.weight"] * q).reshape(1, 16, 150), b2=w["3.bias"].reshape(16, 1),
                    f1=w["7.weight"] * q, fb1=w["7.bias"], f2=w["9.weight"], fb2=w["9.bias"],
                    f3=w["11.weight"], fb3=w["11.bias"])

    def _buffers(self, part, b):
        key = (part, b)
        if key not in self.bufs:
            e = lambda *s: np.empty(s, np.float32)      # noqa: E731
            self.bufs[key] = dict(
                xp=np.zeros((b, 1, 32, 32), np.float32), c1=e(b, 1, 5, 5, 28, 28), s1=e(b, 6, 28, 28),
                r1=e(b, 6, 14, 28), p1=e(b, 6, 14, 14), c2=e(b, 6, 5, 5, 10, 10), s2=e(b, 16, 10, 10),
                r2=e(b, 16, 5, 10), p2=e(b, 16, 5, 5), g2=e(b, 16, 10, 10), t2=e(b, 16, 10, 10),
                gc2=e(b, 150, 100), gp1=np.zeros((b, 6, 14, 14), np.float32), g1=e(b, 6, 28, 28),
                t1=e(b, 6, 28, 28))
        return self.bufs[key]

    def _forward(self, x, f, d):
        b = x.shape[0]
        d["xp"][:, :, 2:30, 2:30] = x
        np.copyto(d["c1"], _windows(d["xp"], 5, 28, 28))
        s1 = d["s1"].reshape(b, 6, 784)
        np.matmul(f["w1"], d["c1"].reshape(b, 25, 784), out=s1)
        s1 += f["b1"]
        _sigmoid(s1)
        _pool_sum(d["s1"], d["r1"], d["p1"])
        np.copyto(d["c2"], _windows(d["p1"], 5, 10, 10))
        s2 = d["s2"].reshape(b, 16, 100)
        np.matmul(f["w2"], d["c2"].reshape(b, 150, 100), out=s2)
        s2 += f["b2"]
        _sigmoid(s2)
        _pool_sum(d["s2"], d["r2"], d["p2"])
        h1 = d["p2"].reshape(b, 400) @ f["f1"].T
        h1 += f["fb1"]
        _sigmoid(h1)
        h2 = h1 @ f["f2"].T
        h2 += f["fb2"]
        _sigmoid(h2)
        logits = h2 @ f["f3"].T
        logits += f["fb3"]
        return logits, h1, h2

    def _run(self, n, fn):
        """fn(part, lo, hi) over [0, n) split between the threads, one hand-off for the whole network; each
        thread goes through its share in chunks of CHUNK images (buffers of a chunk stay in its cache)."""
        from ember.backend import threads

        def share(lo, hi):
            for a in range(lo, hi, self.CHUNK):
                fn(lo, a, min(hi, a + self.CHUNK))      # lo names the thread's buffers
        threads.parallel(share, n)

    def infer(self, x):
        f = self._folded()
        out = np.empty((x.shape[0], 10), np.float32)

        def part(p, lo, hi):
            out[lo:hi] = self._forward(x[lo:hi], f, self._buffers(p, hi - lo))[0]
        self._run(x.shape[0], part)
        return out

    def grads(self, x, y, skip_col2im=False):
        """The loss (mean cross-entropy) and the gradients of every weight, keyed like the weights.
        skip_col2im: leave out folding the second convolution's column gradient back (wrong gradients for the
        first layer; only to show what the rest costs, a lower bound for any way of doing that step)."""
        f = self._folded()
        n = x.shape[0]
        parts = {}

        def part(p, lo, hi):
            d = self._buffers(p, hi - lo)
            b = hi - lo
            logits, h1, h2 = self._forward(x[lo:hi], f, d)
            z = logits - logits.max(1, keepdims=True)
            e = np.exp(z)
            total = e.sum(1, keepdims=True)
            rows = np.arange(b)
            loss = float(np.log(total[:, 0]).sum() - z[rows, y[lo:hi]].sum()) / n
            g = e / total
            g[rows, y[lo:hi]] -= 1.0
            g *= np.float32(1.0 / n)
            gr = {"11.weight": g.T @ h2, "11.bias": g.sum(0)}
            g = _sigmoid_backward(g @ f["f3"], h2, np.empty_like(h2))
            gr["9.weight"], gr["9.bias"] = g.T @ h1, g.sum(0)
            g = _sigmoid_backward(g @ f["f2"], h1, np.empty_like(h1))
            p2 = d["p2"].reshape(b, 400)
            gr["7.weight"], gr["7.bias"] = (g.T @ p2) * np.float32(0.25), g.sum(0)
            gp2 = g @ f["f1"]
            # pool 2 backward: every input of a window gets the window's gradient (the 1/4 is in f1)
            np.copyto(d["g2"].reshape(b, 16, 5, 2, 5, 2), gp2.reshape(b, 16, 5, 1, 5, 1))
            g = _sigmoid_backward(d["g2"], d["s2"], d["t2"]).reshape(b, 16, 100)
            gr["3.weight"] = (np.add.reduce(np.matmul(g, d["c2"].reshape(b, 150, 100).transpose(0, 2, 1)), 0)
                              * np.float32(0.25)).reshape(16, 6, 5, 5)
            gr["3.bias"] = np.add.reduce(g, (0, 2))
            # the gradient of pool 1's window sums (conv 2's weights carry the 1/4): its column gradient, folded back
            gc2 = np.matmul(f["w2"][0].T, g, out=d["gc2"]).reshape(b, 6, 5, 5, 10, 10)
            gp1 = d["gp1"]
            gp1[...] = 0.0
            for i in range(0 if skip_col2im else 5):
                for j in range(5):
                    t = gp1[:, :, i:i + 10, j:j + 10]
                    t += gc2[:, :, i, j]
            np.copyto(d["g1"].reshape(b, 6, 14, 2, 14, 2), gp1.reshape(b, 6, 14, 1, 14, 1))
            g = _sigmoid_backward(d["g1"], d["s1"], d["t1"]).reshape(b, 6, 784)
            gr["0.weight"] = np.add.reduce(np.matmul(g, d["c1"].reshape(b, 25, 784).transpose(0, 2, 1)),
                                           0).reshape(6, 1, 5, 5)
            gr["0.bias"] = np.add.reduce(g, (0, 2))
            parts[(p, lo)] = (loss, gr)
        self._run(n, part)
        loss = sum(v[0] for v in parts.values())
        grads = {k: sum(v[1][k] for v in parts.values()) for k in self.w}
        return loss, grads

    def train_step(self, x, y, lr, skip_col2im=False):
        loss, grads = self.grads(x, y, skip_col2im)
        for k, g in grads.items():
            self.w[k] -= np.float32(lr) * g
        return loss


def _median_ms(fn, calls=60):
    for _ in range(8):
        fn()
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--isa", choices=["native", "avx2"], default="native")
    ap.add_argument("--threads", type=int, default=2)
    opts = ap.parse_args()
    hold_this_process_to(opts.isa)
    import torch

    import common
    import ember
    nt = opts.threads
    torch.set_num_threads(nt)
    ember.set_num_threads(nt)
    from threadpoolctl import threadpool_info
    kernel = [p.get("architecture") for p in threadpool_info() if p.get("internal_api") == "openblas"]
    print(f"# LeNet written by hand in NumPy against torch and ember, batch 256, {nt} thread(s) "
          f"(NumPy's OpenBLAS kernel {kernel}, NumPy SIMD {numpy_simd()}; torch {torch.__version__}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()})\n")

    tm = common.build(torch, "lenet", init="xavier")
    em = common.build(ember, "lenet", init="xavier")
    weights = {k: v.detach().numpy().copy() for k, v in tm.state_dict().items()}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 256)
    hand = HandWrittenLeNet(weights)

    # checked against torch before timing
    tm.eval()
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    with np.errstate(over="ignore"):
        out = hand.infer(x)
        loss, grads = hand.grads(x, y)
    tm.train()
    tl = torch.nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(y))
    tm.zero_grad()
    tl.backward()
    worst = max(float(np.abs(grads[k] - p.grad.numpy()).max() / (np.abs(p.grad.numpy()).max() + 1e-12))
                for k, p in tm.named_parameters())
    print(f"check: logits max |diff| {np.abs(out - ref).max():.1e}, loss {loss:.6f} vs torch {tl.item():.6f}, "
          f"gradients max |diff| / max |grad| {worst:.1e}\n")
    assert np.abs(out - ref).max() < 1e-4 and abs(loss - tl.item()) < 1e-5 and worst < 1e-4

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    xe, ye = ember.from_numpy(x), ember.from_numpy(y)
    rows = []
    with np.errstate(over="ignore"):     # exp(-z) overflows to inf for very negative z: sigmoid 0, as wanted
        hand_inf = _median_ms(lambda: hand.infer(x))
        hand_step = _median_ms(lambda: hand.train_step(x, y, 1e-6))
        hand_bound = _median_ms(lambda: hand.train_step(x, y, 1e-6, skip_col2im=True))
    tm.eval()
    em.eval()
    with torch.no_grad():
        torch_inf = _median_ms(lambda: tm(xt))
    with ember.no_grad():
        ember_inf = _median_ms(lambda: em(xe))
    tm.train()
    em.train()
    rows.append(("inference, eval, no_grad", hand_inf, ember_inf, torch_inf, 1.3))

    def stepper(lib, model, xx, yy):
        opt = lib.optim.SGD(model.parameters(), lr=1e-6)
        loss_fn = lib.nn.CrossEntropyLoss()

        def step():
            opt.zero_grad()
            loss_fn(model(xx), yy).backward()
            opt.step()
        return step
    torch_step = _median_ms(stepper(torch, tm, xt, yt), 30)
    ember_step = _median_ms(stepper(ember, em, xe, ye), 30)
    rows.append(("training step, SGD", hand_step, ember_step, torch_step, 1.0))
    rows.append(("training step without conv 2's col2im (a bound)", hand_bound, ember_step, torch_step, 1.0))

    print("| batch of 256 | by hand in NumPy | ember | torch | by hand / torch | ember / torch | issue 13 target |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, h, e, t, target in rows:
        print(f"| {name} | {h:.2f} ms | {e:.2f} ms | {t:.2f} ms | {h / t:.2f} | {e / t:.2f} | <= {target} |")


if __name__ == "__main__":
    main()
