"""How fast NumPy can run LeNet at all: the whole network written by hand as NumPy calls, against torch and ember.

    python bench/lenet_numpy_floor.py [--isa avx2] [--threads 2]

Issue 13 asks LeNet inference (10,000 images, batch 256, eval, no_grad) to take at most 1.3x torch's time, and a
LeNet training epoch (batch 256, SGD) at most 1.0x. ember runs each layer as its own op, with a hand-off to its
thread pool per op. This script measures what is left when all of that framework cost is taken away: D2L's LeNet
(conv 1->6 5x5 pad 2, sigmoid, avg-pool 2, conv 6->16 5x5, sigmoid, avg-pool 2, 400-120-84-10 with sigmoids),
written out as the NumPy calls it needs and nothing else:

* the whole network runs per thread on that thread's share of the batch (one hand-off per batch, not per op),
  in chunks of 64 images ("fused"); the same calls are also timed layer by layer, each layer over the whole
  batch with a hand-off of its own, as an op-at-a-time framework must run them;
* the layouts are the fastest found for these shapes (bench/README.md, "Session 7: the networks written by hand"):
  im2col columns batch-major, one batched GEMM per convolution, the bias added in place, avg-pooling as two
  adds (row pairs with contiguous runs, then column pairs), the pooling's 1/4 folded into the next layer's
  weights, every buffer allocated once and reused, the sigmoid in place (4 passes: negate, exp, +1, reciprocal);
* training: the same forward keeping what backward needs, backward written out by hand (softmax cross-entropy,
  the sigmoid derivatives from their outputs, the convolutions' weight gradients as batched GEMMs, the second
  convolution's input gradient as one GEMM with a banded weight and 5 strided adds as in ember's
  `batch_split_banded` route, pooling backward as one broadcast copy), the threads' weight gradients added,
  then the SGD update.

Its outputs and gradients are checked against torch's on the same weights and batch before anything is timed
(and by tests/test_bench_lenet_floor.py). The layer-by-layer figure is what an op-at-a-time framework on NumPy
would cost with no bookkeeping of its own; the fused figure is what NumPy costs at all. When the layer-by-layer
figure is over a target, no change inside ember's NumPy ops meets it; when the fused one is, nothing on NumPy does.
"""
import argparse
import os
import sys

import numpy as np
from numpy.lib.stride_tricks import as_strided

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import hold_this_process_to, median_of_calls, numpy_simd  # noqa: E402


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


def _band_t(w):
    """(O*OW, KH*C*Wp) = (160, 420) for LeNet's second convolution: row (o, ow) holds w[o, c, kh, kw] at column
    (kh, c, ow + kw), so that one output row's gradient times it gives the gradient of the 5 input rows it saw."""
    band = np.zeros((16, 10, 5, 6, 14), np.float32)
    for ow in range(10):
        band[:, ow, :, :, ow:ow + 5] = w.transpose(0, 2, 1, 3)     # (o, kh, c, kw)
    return band.reshape(160, 420)


def _pool_sum(z, rows, out):
    """out = the sums of 2x2 windows of z (B, C, H, W): row pairs (contiguous runs), then column pairs."""
    np.add(z[:, :, 0::2], z[:, :, 1::2], out=rows)
    np.add(rows[..., 0::2], rows[..., 1::2], out=out)


class HandWrittenLeNet:
    """D2L's LeNet as NumPy calls. `weights`: torch's state_dict as arrays (keys 0, 3, 7, 9, 11). The work is
    split between ember's threads (`ember.set_num_threads`).

    fused=True: each thread takes its share of the batch through the whole network in chunks of CHUNK images,
    one hand-off per batch. fused=False does the same calls the way an op-at-a-time framework must: each layer
    (convolution, sigmoid, pooling, and their backward steps) over the whole batch, split between the threads
    with a hand-off of its own, the fully connected layers on the whole batch in the calling thread."""

    CHUNK = 64      # images: faster than 32 or 128 (bench/README.md, "Session 7")

    def __init__(self, weights, fused=True):
        self.w = {k: np.array(v, np.float32) for k, v in weights.items()}
        self.fused = fused
        self.bufs = {}

    def _folded(self):
        w = self.w
        q = np.float32(0.25)            # avg-pooling's 1/4, moved into the layer after each pool
        return dict(w1=w["0.weight"].reshape(1, 6, 25), b1=w["0.bias"].reshape(6, 1),
                    w2=(w["3.weight"] * q).reshape(1, 16, 150), b2=w["3.bias"].reshape(16, 1),
                    f1=w["7.weight"] * q, fb1=w["7.bias"], f2=w["9.weight"], fb2=w["9.bias"],
                    f3=w["11.weight"], fb3=w["11.bias"], band2=_band_t(w["3.weight"] * q))

    def _buffers(self, n, owner=None):
        """Buffers for n images; fused, each thread has its own for a chunk, reused chunk after chunk (still
        in its cache: taking a fresh slice of whole-batch buffers per chunk costs 10-20 % more)."""
        key = (n, owner)
        if key not in self.bufs:
            e = lambda *s: np.empty(s, np.float32)      # noqa: E731
            self.bufs[key] = dict(
                xp=np.zeros((n, 1, 32, 32), np.float32), c1=e(n, 1, 5, 5, 28, 28), s1=e(n, 6, 28, 28),
                r1=e(n, 6, 14, 28), p1=e(n, 6, 14, 14), c2=e(n, 6, 5, 5, 10, 10), s2=e(n, 16, 10, 10),
                r2=e(n, 16, 5, 10), p2=e(n, 16, 5, 5), g2=e(n, 16, 10, 10), t2=e(n, 16, 10, 10),
                gyr=e(n, 10, 16, 10), drows=e(n * 10, 420), gp1=e(n, 6, 14, 14), g1=e(n, 6, 28, 28),
                t1=e(n, 6, 28, 28), gp2=e(n, 400), logits=e(n, 10))
        return self.bufs[key]

    # -- the layers, each on images lo:hi of the batch's buffers d ----------------------------------------
    def _conv1(self, d, f, x, lo, hi):
        b = hi - lo
        d["xp"][lo:hi, :, 2:30, 2:30] = x[lo:hi]       # x: the images of d's buffers
        np.copyto(d["c1"][lo:hi], _windows(d["xp"][lo:hi], 5, 28, 28))
        s1 = d["s1"][lo:hi].reshape(b, 6, 784)
        np.matmul(f["w1"], d["c1"][lo:hi].reshape(b, 25, 784), out=s1)
        s1 += f["b1"]

    def _conv2(self, d, f, lo, hi):
        b = hi - lo
        np.copyto(d["c2"][lo:hi], _windows(d["p1"][lo:hi], 5, 10, 10))
        s2 = d["s2"][lo:hi].reshape(b, 16, 100)
        np.matmul(f["w2"], d["c2"][lo:hi].reshape(b, 150, 100), out=s2)
        s2 += f["b2"]

    def _fc(self, d, f, lo, hi):
        h1 = d["p2"][lo:hi].reshape(hi - lo, 400) @ f["f1"].T
        h1 += f["fb1"]
        _sigmoid(h1)
        h2 = h1 @ f["f2"].T
        h2 += f["fb2"]
        _sigmoid(h2)
        np.matmul(h2, f["f3"].T, out=d["logits"][lo:hi])
        d["logits"][lo:hi] += f["fb3"]
        return h1, h2

    def _forward_layers(self, d, f, x):
        return [lambda lo, hi: self._conv1(d, f, x, lo, hi),
                lambda lo, hi: _sigmoid(d["s1"][lo:hi]),
                lambda lo, hi: _pool_sum(d["s1"][lo:hi], d["r1"][lo:hi], d["p1"][lo:hi]),
                lambda lo, hi: self._conv2(d, f, lo, hi),
                lambda lo, hi: _sigmoid(d["s2"][lo:hi]),
                lambda lo, hi: _pool_sum(d["s2"][lo:hi], d["r2"][lo:hi], d["p2"][lo:hi])]

    def _fc_backward(self, d, f, y, n, lo, hi, h1, h2, acc, g0=0):
        """Softmax cross-entropy and the fully connected layers backward, for images lo:hi of d (y: their labels;
        n: the batch size; g0 + lo: where they start in the batch, naming their partial sums in acc)."""
        b = hi - lo
        key = g0 + lo
        logits = d["logits"][lo:hi]
        z = logits - logits.max(1, keepdims=True)
        e = np.exp(z)
        total = e.sum(1, keepdims=True)
        rows = np.arange(b)
        acc[("loss", key)] = float(np.log(total[:, 0]).sum() - z[rows, y].sum()) / n
        g = e / total
        g[rows, y] -= 1.0
        g *= np.float32(1.0 / n)
        acc[("11.weight", key)], acc[("11.bias", key)] = g.T @ h2, g.sum(0)
        g = _sigmoid_backward(g @ f["f3"], h2, np.empty_like(h2))
        acc[("9.weight", key)], acc[("9.bias", key)] = g.T @ h1, g.sum(0)
        g = _sigmoid_backward(g @ f["f2"], h1, np.empty_like(h1))
        p2 = d["p2"][lo:hi].reshape(b, 400)
        acc[("7.weight", key)], acc[("7.bias", key)] = (g.T @ p2) * np.float32(0.25), g.sum(0)
        np.matmul(g, f["f1"], out=d["gp2"][lo:hi])

    def _conv2_weight_grad(self, d, lo, hi, acc, g0):
        b = hi - lo
        g = d["t2"][lo:hi].reshape(b, 16, 100)
        per_image = np.matmul(g, d["c2"][lo:hi].reshape(b, 150, 100).transpose(0, 2, 1))
        acc[("3.weight", g0 + lo)] = (np.add.reduce(per_image, 0) * np.float32(0.25)).reshape(16, 6, 5, 5)
        acc[("3.bias", g0 + lo)] = np.add.reduce(g, (0, 2))

    def _conv2_input_grad(self, d, f, lo, hi, skip_row_adds):
        """The gradient of pool 1's window sums (conv 2's weights carry the 1/4), by one GEMM with the banded
        weight (ember's batch_split_banded route) and one strided add per kernel row."""
        b = hi - lo
        gp1 = d["gp1"][lo:hi]
        gp1[...] = 0.0
        np.copyto(d["gyr"][lo:hi], d["t2"][lo:hi].transpose(0, 2, 1, 3))
        drows = np.matmul(d["gyr"][lo:hi].reshape(b * 10, 160), f["band2"],
                          out=d["drows"][lo * 10:hi * 10]).reshape(b, 10, 5, 6, 14)
        for i in range(0 if skip_row_adds else 5):
            t = gp1[:, :, i:i + 10].transpose(0, 2, 1, 3)
            t += drows[:, :, i]

    def _conv1_weight_grad(self, d, lo, hi, acc, g0):
        b = hi - lo
        g = d["t1"][lo:hi].reshape(b, 6, 784)
        per_image = np.matmul(g, d["c1"][lo:hi].reshape(b, 25, 784).transpose(0, 2, 1))
        acc[("0.weight", g0 + lo)] = np.add.reduce(per_image, 0).reshape(6, 1, 5, 5)
        acc[("0.bias", g0 + lo)] = np.add.reduce(g, (0, 2))

    def _backward_layers(self, d, f, acc, skip_row_adds, g0=0):
        def pool2(lo, hi):   # every input of a window gets the window's gradient (the 1/4 is in f1)
            b = hi - lo
            np.copyto(d["g2"][lo:hi].reshape(b, 16, 5, 2, 5, 2), d["gp2"][lo:hi].reshape(b, 16, 5, 1, 5, 1))

        def pool1(lo, hi):
            b = hi - lo
            np.copyto(d["g1"][lo:hi].reshape(b, 6, 14, 2, 14, 2), d["gp1"][lo:hi].reshape(b, 6, 14, 1, 14, 1))
        return [pool2,
                lambda lo, hi: _sigmoid_backward(d["g2"][lo:hi], d["s2"][lo:hi], d["t2"][lo:hi]),
                lambda lo, hi: self._conv2_weight_grad(d, lo, hi, acc, g0),
                lambda lo, hi: self._conv2_input_grad(d, f, lo, hi, skip_row_adds),
                pool1,
                lambda lo, hi: _sigmoid_backward(d["g1"][lo:hi], d["s1"][lo:hi], d["t1"][lo:hi]),
                lambda lo, hi: self._conv1_weight_grad(d, lo, hi, acc, g0)]

    # -- running them ----------------------------------------------------------------------------------
    def _fused(self, n, fn):
        """fn(lo, hi) over [0, n) split between the threads, one hand-off in all; each thread goes through its
        share in chunks of CHUNK images (a chunk's activations stay in its cache from layer to layer)."""
        from ember.backend import threads

        def share(lo, hi):
            for a in range(lo, hi, self.CHUNK):
                fn(a, min(hi, a + self.CHUNK))
        threads.parallel(share, n)

    def _pass(self, x, y=None, skip_row_adds=False):
        """Forward (and with labels y, backward) over the batch x: (logits, partial sums of loss and gradients)."""
        import threading

        from ember.backend import threads
        n = x.shape[0]
        f = self._folded()
        acc = {}
        if self.fused:
            logits = np.empty((n, 10), np.float32)

            def chunk(lo, hi):
                b = hi - lo
                d = self._buffers(b, threading.get_ident())
                for layer in self._forward_layers(d, f, x[lo:hi]):
                    layer(0, b)
                h1, h2 = self._fc(d, f, 0, b)
                logits[lo:hi] = d["logits"]
                if y is not None:
                    self._fc_backward(d, f, y[lo:hi], n, 0, b, h1, h2, acc, g0=lo)
                    for layer in self._backward_layers(d, f, acc, skip_row_adds, g0=lo):
                        layer(0, b)
            self._fused(n, chunk)
            return logits, acc
        d = self._buffers(n)
        for layer in self._forward_layers(d, f, x):
            threads.parallel(layer, n)
        h1, h2 = self._fc(d, f, 0, n)
        if y is not None:
            self._fc_backward(d, f, y, n, 0, n, h1, h2, acc)
            for layer in self._backward_layers(d, f, acc, skip_row_adds):
                threads.parallel(layer, n)
        return d["logits"].copy(), acc

    def infer(self, x):
        return self._pass(x)[0]

    def grads(self, x, y, skip_row_adds=False):
        """The loss (mean cross-entropy) and the gradients of every weight, keyed like the weights.
        skip_row_adds: leave out adding the second convolution's row gradients back (wrong gradients for the first
        layer; only to show what the rest costs, a lower bound for any way of doing that step)."""
        acc = self._pass(x, y, skip_row_adds)[1]
        keys = sorted(acc, key=lambda k: k[1])       # partial sums added in image order
        loss = sum(acc[k] for k in keys if k[0] == "loss")
        return loss, {name: sum(acc[k] for k in keys if k[0] == name) for name in self.w}

    def train_step(self, x, y, lr, skip_row_adds=False):
        loss, grads = self.grads(x, y, skip_row_adds)
        for k, g in grads.items():
            self.w[k] -= np.float32(lr) * g
        return loss


def _median_ms(fn, calls=60):
    return median_of_calls(fn, calls, warmup=8) * 1e3


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
    fused, by_layer = HandWrittenLeNet(weights), HandWrittenLeNet(weights, fused=False)

    # checked against torch before timing
    tm.eval()
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    tm.train()
    tl = torch.nn.functional.cross_entropy(tm(torch.from_numpy(x)), torch.from_numpy(y))
    tm.zero_grad()
    tl.backward()
    for hand in (fused, by_layer):
        with np.errstate(over="ignore"):
            out = hand.infer(x)
            loss, grads = hand.grads(x, y)
        worst = max(float(np.abs(grads[k] - p.grad.numpy()).max() / (np.abs(p.grad.numpy()).max() + 1e-12))
                    for k, p in tm.named_parameters())
        how = "fused" if hand.fused else "layer by layer"
        print(f"check ({how}): logits max |diff| {np.abs(out - ref).max():.1e}, loss {loss:.6f} vs torch "
              f"{tl.item():.6f}, gradients max |diff| / max |grad| {worst:.1e}")
        assert np.abs(out - ref).max() < 1e-4 and abs(loss - tl.item()) < 1e-5 and worst < 1e-4
    print()

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    xe, ye = ember.from_numpy(x), ember.from_numpy(y)

    times = {}
    with np.errstate(over="ignore"):     # exp(-z) overflows to inf for very negative z: sigmoid 0, as wanted
        for name, hand in (("fused", fused), ("by layer", by_layer)):
            times["inference", name] = _median_ms(lambda: hand.infer(x))
            times["step", name] = _median_ms(lambda: hand.train_step(x, y, 1e-6))
            times["bound", name] = _median_ms(lambda: hand.train_step(x, y, 1e-6, skip_row_adds=True))
    tm.eval()
    em.eval()
    with torch.no_grad():
        times["inference", "torch"] = _median_ms(lambda: tm(xt))
    with ember.no_grad():
        times["inference", "ember"] = _median_ms(lambda: em(xe))
    tm.train()
    em.train()
    times["step", "torch"] = _median_ms(common.sgd_step(torch, tm, xt, yt, 1e-6), 30)
    times["bound", "torch"] = times["step", "torch"]
    times["step", "ember"] = _median_ms(common.sgd_step(ember, em, xe, ye, 1e-6), 30)

    print("| batch of 256 | by hand, fused | by hand, layer by layer | ember | torch | fused / torch "
          "| layer by layer / torch | ember / torch | issue 13 target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row, label, target in (("inference", "inference, eval, no_grad", "<= 1.3"),
                               ("step", "training step, SGD", "<= 1.0"),
                               ("bound", "training step less conv 2's row-gradient adds (a bound)", "")):
        t = times[row, "torch"]
        e = times.get((row, "ember"))
        cells = [f"{times[row, 'fused']:.2f} ms", f"{times[row, 'by layer']:.2f} ms",
                 f"{e:.2f} ms" if e else "", f"{t:.2f} ms", f"{times[row, 'fused'] / t:.2f}",
                 f"{times[row, 'by layer'] / t:.2f}", f"{e / t:.2f}" if e else "", target]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
