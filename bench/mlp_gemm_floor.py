"""The matrix products of one MLP/DNN training step (group `epoch`), timed alone: ember's GEMM route vs torch.

    python bench/mlp_gemm_floor.py [--isa avx2]

Per linear layer a step multiplies x @ W^T forward, g @ W for the input gradient (not for the first layer,
whose input needs none) and g^T @ x for the weight gradient, with the layouts a linear layer uses (W^T and
g^T are transposed views). ember's side goes through `ember.backend.threads.matmul`, the route every linear
layer takes; torch's through torch.mm. Both at 2 threads, wall time, median of many calls. The same script
times torch's whole training step on the same shapes, so the report can say how much of torch's step is left
for ember's non-GEMM work under a target: when ember's GEMMs alone use up most of it, no work outside the
GEMMs meets the target (bench/README.md, "Before and after session 6").
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import hold_this_process_to, numpy_simd  # noqa: E402

WORKLOADS = {   # name: (layer widths, batch, SGD momentum), as in bench/workloads/epoch.py
    "MLP 784-256-10 b256": ([784, 256, 10], 256, 0.0),
    "DNN 784-512-256-128-64-10 b64": ([784, 512, 256, 128, 64, 10], 64, 0.5),
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
    """The median of single calls: robust to the odd disturbed call, which a mean over a repeat is not."""
    for _ in range(30):
        fn()
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e6


def torch_step_us(torch, widths, batch, momentum):
    layers = []
    for i, o in zip(widths[:-1], widths[1:]):
        layers += [torch.nn.Linear(i, o), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(batch, widths[0])
    y = torch.randint(0, widths[-1], (batch,))

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return _median_us(step, 200)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--isa", choices=["native", "avx2"], default="native")
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
    for name, (widths, batch, momentum) in WORKLOADS.items():
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
        step = torch_step_us(torch, widths, batch, momentum)
        print(f"| **all products of a step** | **{total_e:.0f}** | **{total_t:.0f}** |\n")
        print(f"torch's whole training step (SGD, momentum {momentum}): {step:.0f} us. Under a target of 0.9, ember's step may "
              f"take {0.9 * step:.0f} us: its GEMMs leave {0.9 * step - total_e:.0f} us for everything else, where "
              f"torch spends {step - total_t:.0f} us.\n")


if __name__ == "__main__":
    main()
