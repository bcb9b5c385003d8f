"""Recurrent networks, ember vs torch (issue 9's figures), each library in its own process, one thread each.

    python bench/bench_rnn.py                    everything (the char-LSTM epoch takes minutes per library)
    python bench/bench_rnn.py --only layers,scratch
    python bench/bench_rnn.py --only lm --fraction 0.2     the char-LSTM part on the first 20 % of an epoch

Parts:
  layers   nn.LSTM and nn.GRU forward + backward at the book's size: 35 steps, batch 32, one-hot input of 1,027
           (the book's vocabulary), hidden 256. Target ember/torch <= 1.0.
  scratch  one training epoch of the book's RNN written from scratch (D2L 6.4: per-step matmul/tanh ops, gradient
           clipping, SGD) on the first 10,000 characters of the default corpus, batch 32, 35 steps, random
           sampling; both libraries start from the same NumPy-drawn weights. Target <= 0.7.
  lm       one epoch of char-lstm (ember.text.models: LSTM 256 over one-hot characters, Adam 1e-2, clipping 1.0,
           batch 32, 35 steps, consecutive minibatches) on the default corpus, both libraries from the same initial
           weights and the same minibatches; time, peak RSS of the process, and held-out perplexity after the epoch
           (target: within 2 % of torch's). Target time <= 1.0, peak RSS <= torch's.

Times are both wall-clock and CPU time of the process (time.process_time): on a machine shared with other jobs the
CPU time is the steadier figure. Each figure is the median of the repeats.
"""
import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _lib(name):
    if name == "torch":
        import torch
        torch.set_num_threads(1)
        return torch
    import ember
    ember.set_num_threads(1)
    return ember


def _timed(fn, repeats):
    walls, cpus = [], []
    fn()  # warm-up
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


# -- parts, run in a child process ---------------------------------------------------------------

def part_layers(libname, repeats):
    lib = _lib(libname)
    rng = np.random.default_rng(0)
    V, B, T, H = 1027, 32, 35, 256
    ids = rng.integers(0, V, size=(T, B))
    x = np.zeros((T, B, V), np.float32)
    x[np.arange(T)[:, None], np.arange(B)[None, :], ids] = 1
    x = lib.from_numpy(x)
    out = {}
    for kind in ("LSTM", "GRU"):
        layer = getattr(lib.nn, kind)(V, H)

        def step():
            y, _ = layer(x)
            y.sum().backward()
        out[kind] = _timed(step, repeats)
    return out


def _corpus(n_chars=None):
    from ember.text import default_corpus, load_corpus
    text = default_corpus(os.environ.get("EMBER_DATA", os.path.expanduser("~/.cache/ember/data")))
    if n_chars:
        text = text[:n_chars]
    ids, vocab = load_corpus(text, "char")
    return ids, len(vocab)


def part_scratch(libname, repeats):
    lib = _lib(libname)
    import random
    ids, V = _corpus(10000)
    H, B, T, lr, theta = 256, 32, 35, 1e2, 1e-2
    rng = np.random.default_rng(0)
    init = [rng.normal(0, 0.01, (V, H)), rng.normal(0, 0.01, (H, H)), np.zeros(H), rng.normal(0, 0.01, (H, V)),
            np.zeros(V)]
    params = [lib.nn.Parameter(lib.tensor(a, dtype=lib.float32)) for a in init]
    loss_fn = lib.nn.CrossEntropyLoss()
    corpus = ids.tolist()

    def one_hot(x, n):
        res = lib.zeros(x.shape[0], n)
        res.scatter_(1, x.long().view(-1, 1), 1)
        return res

    def epoch():
        random.seed(0)
        n_ex = (len(corpus) - 1) // T
        order = list(range(n_ex))
        random.shuffle(order)
        for i in range(n_ex // B):
            batch = order[i * B:(i + 1) * B]
            X = lib.tensor([corpus[j * T:j * T + T] for j in batch], dtype=lib.float32)
            Y = lib.tensor([corpus[j * T + 1:j * T + T + 1] for j in batch], dtype=lib.float32)
            Wxh, Whh, bh, Whq, bq = params
            Hs = lib.zeros(B, H)
            outs = []
            for t in range(T):
                Hs = lib.tanh(lib.matmul(one_hot(X[:, t], V), Wxh) + lib.matmul(Hs, Whh) + bh)
                outs.append(lib.matmul(Hs, Whq) + bq)
            y = lib.transpose(Y, 0, 1).contiguous().view(-1)
            loss = loss_fn(lib.cat(outs, dim=0), y.long())
            for p in params:
                p.grad = None
            loss.backward()
            norm = lib.tensor([0.0])
            for p in params:
                norm += (p.grad.data ** 2).sum()
            norm = norm.sqrt().item()
            if norm > theta:
                for p in params:
                    p.grad.data *= theta / norm
            for p in params:
                p.data -= lr * p.grad
    return {"epoch": _timed(epoch, repeats)}


def _rnn_model(lib, V, H):
    nn = lib.nn

    class RNNModel(nn.Module):   # ember.text.models.RNNModel, written for either library
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(V, H)
            self.dense = nn.Linear(H, V)

        def forward(self, inputs, state):
            X = nn.functional.one_hot(inputs.t().long(), V).float()
            Y, state = self.rnn(X, state)
            return self.dense(Y.reshape(-1, Y.shape[-1])), state
    return RNNModel()


def part_lm(libname, fraction):
    lib = _lib(libname)
    from ember.text.data import data_iter_consecutive
    from ember.text.train import split_corpus
    ids, V = _corpus()
    train_ids, valid_ids = split_corpus(ids)
    H, B, T = 256, 32, 35
    model = _rnn_model(lib, V, H)
    rng = np.random.default_rng(0)
    for name, p in model.named_parameters():   # the same initial weights in both libraries
        bound = 1 / math.sqrt(H)
        with lib.no_grad():
            p.copy_(lib.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))
    opt = lib.optim.Adam(model.parameters(), lr=1e-2)
    F = lib.nn.functional
    batches = list(data_iter_consecutive(train_ids, B, T, seed=0))
    batches = batches[:max(1, int(len(batches) * fraction))]

    def detach(s):
        return None if s is None else tuple(x.detach() for x in s)
    w, c = time.perf_counter(), time.process_time()
    state, tokens = None, 0
    for X, Y in batches:
        X, Y = lib.from_numpy(X.numpy()), lib.from_numpy(Y.numpy())
        out, state = model(X, detach(state))
        loss = F.cross_entropy(out, Y.t().reshape(-1))
        opt.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        tokens += Y.numel()
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    model.eval()
    total, count, state = 0.0, 0, None
    with lib.no_grad():
        for X, Y in data_iter_consecutive(valid_ids, B, T, random_offset=False):
            X, Y = lib.from_numpy(X.numpy()), lib.from_numpy(Y.numpy())
            out, state = model(X, state)
            total += float(F.cross_entropy(out, Y.t().reshape(-1))) * Y.numel()
            count += Y.numel()
    return {"epoch": (wall, cpu), "tokens": tokens, "batches": len(batches),
            "valid_perplexity": math.exp(total / count),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# -- the parent ----------------------------------------------------------------------------------

def _child(part, libname, arg):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    out = subprocess.run([sys.executable, __file__, "--child", part, libname, str(arg)], env=env,
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{part}/{libname} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _row(name, a, b, target):
    (aw, ac), (bw, bc) = a, b
    return (f"| {name} | {aw * 1e3:.1f} / {ac * 1e3:.1f} | {bw * 1e3:.1f} / {bc * 1e3:.1f} | {aw / bw:.2f} | "
            f"{ac / bc:.2f} | <= {target} |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--only", default="layers,scratch,lm")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--fraction", type=float, default=1.0, help="part of the char-LSTM epoch to run")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        part, libname, arg = args.child
        fn = {"layers": part_layers, "scratch": part_scratch, "lm": part_lm}[part]
        print(json.dumps(fn(libname, float(arg) if part == "lm" else int(arg))))
        return
    only = args.only.split(",")
    load = os.getloadavg()[0]
    print(f"# ember vs torch, recurrent networks (1 thread each; load average at start {load:.1f} on "
          f"{os.cpu_count()} CPUs)\n")
    print("| workload | ember ms (wall / CPU) | torch ms (wall / CPU) | ratio wall | ratio CPU | target |")
    print("|---|---|---|---|---|---|")
    results = {}
    if "layers" in only:
        e, t = _child("layers", "ember", args.repeats), _child("layers", "torch", args.repeats)
        for kind in ("LSTM", "GRU"):
            print(_row(f"nn.{kind} fwd+bwd, 35x32x1027 -> 256", e[kind], t[kind], 1.0), flush=True)
        results["layers"] = {"ember": e, "torch": t}
    if "scratch" in only:
        e, t = _child("scratch", "ember", max(1, args.repeats // 2)), _child("scratch", "torch",
                                                                              max(1, args.repeats // 2))
        print(_row("RNN from scratch, one epoch (10k chars)", e["epoch"], t["epoch"], 0.7), flush=True)
        results["scratch"] = {"ember": e, "torch": t}
    if "lm" in only:
        e, t = _child("lm", "ember", args.fraction), _child("lm", "torch", args.fraction)
        print(_row(f"char-lstm epoch x{args.fraction:g} ({e['batches']} batches)", e["epoch"], t["epoch"], 1.0))
        print(f"\npeak RSS: ember {e['peak_rss_mib']:.0f} MiB, torch {t['peak_rss_mib']:.0f} MiB "
              f"(ratio {e['peak_rss_mib'] / t['peak_rss_mib']:.2f}, target <= 1.0)")
        rel = e["valid_perplexity"] / t["valid_perplexity"] - 1
        print(f"held-out perplexity after the epoch, same initial weights and minibatches: ember "
              f"{e['valid_perplexity']:.3f}, torch {t['valid_perplexity']:.3f} ({rel:+.2%}; target within 2 %)")
        results["lm"] = {"ember": e, "torch": t}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "rnn.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
