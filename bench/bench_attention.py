"""Attention layers: ember vs torch, side by side (issue 9's target: TransformerEncoderLayer fwd+bwd <= 1.2).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/bench_attention.py [--threads 2]
        [--repeats 9] [--match REGEX]

Both libraries run in this one process on the same data and weights, limited to the same number of
threads. Each figure is the median in ms of --repeats samples (ember's samples, a pause, then torch's).

* fwd     -- the forward alone, under no_grad, eval mode
* fwd+bwd -- train mode (the layer's default dropout 0.1 included), forward then backward of a fixed
             upstream gradient: every parameter's gradient and the input's

ratio = ember / torch (below 1: ember is faster). Figures taken while other processes load the machine
are noisy; run it on a quiet machine for numbers worth quoting.
"""
import argparse
import os
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import ember  # noqa: E402
from harness import median_of_calls  # noqa: E402

D_MODEL, HEADS, SEQ, BATCH = 128, 4, 64, 32

# (name, constructor(lib), input shapes, call(module, *inputs))
CASES = [
    ("TransformerEncoderLayer d128 h4 L64 N32 (batch_first)",
     lambda nn: nn.TransformerEncoderLayer(D_MODEL, HEADS, batch_first=True), [(BATCH, SEQ, D_MODEL)],
     lambda m, x: m(x)),
    ("TransformerEncoderLayer d128 h4 L64 N32 (seq-first)",
     lambda nn: nn.TransformerEncoderLayer(D_MODEL, HEADS), [(SEQ, BATCH, D_MODEL)],
     lambda m, x: m(x)),
    ("TransformerEncoderLayer d128 h4 L64 N32 causal mask",
     lambda nn: nn.TransformerEncoderLayer(D_MODEL, HEADS, batch_first=True), [(BATCH, SEQ, D_MODEL)],
     lambda m, x: m(x, src_mask=_causal(m), is_causal=True)),
    ("MultiheadAttention self d128 h4 L64 N32 need_weights=False",
     lambda nn: nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True), [(BATCH, SEQ, D_MODEL)],
     lambda m, x: m(x, x, x, need_weights=False)[0]),
    ("MultiheadAttention self d128 h4 L64 N32 need_weights=True",
     lambda nn: nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True), [(BATCH, SEQ, D_MODEL)],
     lambda m, x: m(x, x, x)[0]),
    ("scaled_dot_product_attention (32, 4, 64, 32)",
     None, [(BATCH, HEADS, SEQ, D_MODEL // HEADS)] * 3,
     lambda m, q, k, v: m(q, k, v)),
]

_MASKS = {}


def _causal(m):
    lib = torch if isinstance(m, torch.nn.Module) else ember
    key = lib.__name__
    if key not in _MASKS:
        _MASKS[key] = lib.nn.Transformer.generate_square_subsequent_mask(SEQ)
    return _MASKS[key]


def build(lib, ctor, seed):
    if ctor is None:
        return lib.nn.functional.scaled_dot_product_attention
    torch.manual_seed(seed)
    ref = ctor(torch.nn)
    if lib is torch:
        return ref
    mod = ctor(ember.nn)
    params = dict(mod.named_parameters())
    for name, p in ref.named_parameters():
        params[name].data = ember.tensor(p.detach().numpy().copy())
    return mod


def measure(fn, repeats):
    return 1e3 * median_of_calls(fn, repeats, warmup=2)


def run_case(lib, case, repeats, seed=0):
    name, ctor, shapes, call = case
    mod = build(lib, ctor, seed)
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    tensors = [lib.tensor(a) for a in arrays]
    grad_inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    with lib.no_grad():
        if hasattr(mod, "eval"):
            mod.eval()
        out = call(mod, *tensors)
    upstream = lib.tensor(rng.standard_normal(tuple(out.shape)).astype(np.float32))

    def fwd():
        with lib.no_grad():
            call(mod, *tensors)

    def fwd_bwd():
        for t in grad_inputs:
            t.grad = None
        if hasattr(mod, "zero_grad"):
            mod.zero_grad()
        call(mod, *grad_inputs).backward(upstream)

    if hasattr(mod, "eval"):
        mod.eval()
    t_fwd = measure(fwd, repeats)
    if hasattr(mod, "train"):
        mod.train()
    t_bwd = measure(fwd_bwd, repeats)
    return t_fwd, t_bwd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--match", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        ember.set_num_threads(args.threads)
        load = os.getloadavg()[0]
        print(f"threads={args.threads}  load average at start: {load:.1f} (figures are noisy when it is high)")
        print(f"| workload | ember fwd ms | torch fwd ms | ratio | ember fwd+bwd ms | torch fwd+bwd ms | ratio |")
        print("|---|---|---|---|---|---|---|")
        for case in CASES:
            if args.match and not re.search(args.match, case[0]):
                continue
            e = run_case(ember, case, args.repeats)
            time.sleep(0.5)
            t = run_case(torch, case, args.repeats)
            print(f"| {case[0]} | {e[0]:.2f} | {t[0]:.2f} | {e[0] / t[0]:.2f} | {e[1]:.2f} | {t[1]:.2f} | "
                  f"{e[1] / t[1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
