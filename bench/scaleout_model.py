"""A paper model of data-parallel scale-out: when does adding machines pay?

    .venv/bin/python bench/scaleout_model.py              # measures the step times here, prints the tables

Inputs, measured on this machine by this script: the time of one training step (forward, backward, optimizer)
of each model at its usual global batch on one process, and the model's gradient size. Assumptions (stated
so a reader can change them):
- the global batch B stays fixed; each of N machines computes B / N samples; a step costs a + c x (samples):
  a fixed part (Python, optimizer, small kernels) and a per-sample part, fitted from steps at B and B / 8;
- the gradient all-reduce is a ring: 2 (N - 1) / N x S bytes over each link, plus 2 (N - 1) hops of
  `LATENCY` seconds; links of 10 and 100 Gbit/s at `LINK_EFFICIENCY` of their line rate;
- a share `OVERLAP` of the all-reduce hides behind the backward pass (DDP's buckets start during backward;
  bench/bench_distributed.py measures the share on this machine); the rest adds to the step;
- one machine has no all-reduce.
The epoch time is steps_per_epoch x (a + c x B / N + (1 - OVERLAP) x allreduce(N)).
"""
import sys
import time

LATENCY = 20e-6
LINK_EFFICIENCY = 0.8
OVERLAP = 0.5
MACHINES = [1, 2, 4, 8, 16, 32, 64]
LINKS_GBIT = [10, 100]


def allreduce_seconds(nbytes, n, gbit):
    if n == 1:
        return 0.0
    return 2 * (n - 1) / n * nbytes / (gbit * 1e9 / 8 * LINK_EFFICIENCY) + 2 * (n - 1) * LATENCY


def epoch_seconds(fixed, per_sample, batch, nbytes, steps, n, gbit):
    return steps * (fixed + per_sample * batch / n + (1 - OVERLAP) * allreduce_seconds(nbytes, n, gbit))


def measure_step(model, x, y, loss_fn, repeats=3):
    import ember
    opt = ember.optim.SGD(model.parameters(), lr=0.01)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return sorted(times[1:])[len(times[1:]) // 2]


def workloads():
    import ember
    from ember import nn
    from ember.nn import functional as F
    ember.manual_seed(0)
    out = []
    lenet = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Flatten(), nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))
    out.append(("LeNet, MNIST, batch 256", lenet, ember.randn(256, 1, 28, 28), ember.randint(0, 10, (256,)),
                F.cross_entropy, 60000 // 256))
    try:
        from ember.vision.models import resnet18
        net = resnet18(num_classes=10)
        x = ember.randn(32, next(net.parameters()).shape[1], 96, 96)  # the book's variant takes 1 channel
        out.append(("ResNet-18, 96x96 images, batch 32", net, x, ember.randint(0, 10, (32,)), F.cross_entropy,
                    50000 // 32))
    except (ImportError, TypeError) as e:
        print(f"(ResNet-18 skipped: {e})", file=sys.stderr)
    if hasattr(nn, "LSTM"):
        class CharLSTM(nn.Module):
            def __init__(self, vocab=28, hidden=256):
                super().__init__()
                self.rnn = nn.LSTM(vocab, hidden)
                self.out = nn.Linear(hidden, vocab)
                self.vocab = vocab

            def forward(self, x):
                h, _ = self.rnn(F.one_hot(x.T, self.vocab).float())
                return self.out(h.reshape(-1, h.shape[-1]))
        tokens = ember.randint(0, 28, (32, 35))
        out.append(("char-LSTM, 35 steps, batch 32", CharLSTM(), tokens, ember.randint(0, 28, (35 * 32,)),
                    F.cross_entropy, int(1.4e6 * 0.9) // (32 * 35)))  # the default corpus: ~1.4 MB, 90 % trains
    return out


def main():
    print(__doc__.split("\n\n")[0].split("\n")[0])
    print(f"assumptions: ring all-reduce, link efficiency {LINK_EFFICIENCY:.0%}, latency {LATENCY * 1e6:.0f} us per "
          f"hop, {OVERLAP:.0%} of the all-reduce hidden behind backward; step = fixed + per-sample x B / N\n")
    for name, model, x, y, loss_fn, steps in workloads():
        batch = x.shape[0]
        step = measure_step(model, x, y, loss_fn)
        small = max(1, batch // 8)
        y_small = y[:small * (y.shape[0] // batch)]
        step_small = measure_step(model, x[:small], y_small, loss_fn)
        per_sample = max(0.0, (step - step_small) / (batch - small))
        fixed = max(0.0, step - per_sample * batch)
        nbytes = sum(p.numel() * p.element_size() for p in model.parameters())
        print(f"{name}: step {step * 1e3:.1f} ms on this machine ({fixed * 1e3:.1f} ms fixed + "
              f"{per_sample * 1e3:.3f} ms per sample), gradient {nbytes / 2 ** 20:.2f} MiB, {steps} steps per epoch")
        print("  machines " + " ".join(f"{n:>8}" for n in MACHINES))
        for gbit in LINKS_GBIT:
            row = [epoch_seconds(fixed, per_sample, batch, nbytes, steps, n, gbit) for n in MACHINES]
            print(f"  {gbit:>3} Gb/s " + " ".join(f"{t:>7.1f}s" for t in row))
        best = {g: min(MACHINES, key=lambda n: epoch_seconds(fixed, per_sample, batch, nbytes, steps, n, g))
                for g in LINKS_GBIT}
        print("  fastest at " + ", ".join(f"{n} machines over {g} Gb/s" for g, n in best.items()) + "\n")


if __name__ == "__main__":
    main()
