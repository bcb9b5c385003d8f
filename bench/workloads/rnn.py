"""Group `rnn` (not in a default run): nn.LSTM and nn.GRU forward + backward at the book's size (D2L 6.5-6.8:
35 steps, batch 32, one-hot input of the book's 1,027-character vocabulary, hidden 256), same weights in both
libraries. bench/bench_rnn.py has the rest of issue 9's figures (the RNN written from scratch, a char-LSTM epoch,
peak RSS, perplexity after one epoch)."""
import numpy as np

from registry import add, group

TARGET = 1.0
V, B, T, H = 1027, 32, 35, 256

group("rnn", "recurrent layers, forward + backward of the output's sum, 35 steps x batch 32, one-hot input of "
      f"{V}, hidden {H}; time per call", unit="ms", target=f"ember/torch <= {TARGET}", default=False)


def fwd_bwd(kind):
    def make(lib):
        rng = np.random.default_rng(0)
        x = np.zeros((T, B, V), np.float32)
        x[np.arange(T)[:, None], np.arange(B)[None, :], rng.integers(0, V, size=(T, B))] = 1
        x = lib.from_numpy(x)
        layer = getattr(lib.nn, kind)(V, H)
        bound = 1 / np.sqrt(H)
        with lib.no_grad():
            for p in layer.parameters():
                p.copy_(lib.from_numpy(rng.uniform(-bound, bound, tuple(p.shape)).astype(np.float32)))
        with lib.no_grad():
            reference = layer(x)[0].numpy().copy()

        def step():
            layer.zero_grad()
            y, _ = layer(x)
            y.sum().backward()
            return float(layer.weight_hh_l0.grad.sum())
        step.reference = reference
        return step
    return make


for kind in ("LSTM", "GRU"):
    add("rnn", f"nn.{kind} fwd+bwd {T}x{B}x{V} -> {H}", fwd_bwd(kind), warmup=1, repeats=5, target_ratio=TARGET,
        params={"layer": kind, "input": [T, B, V], "hidden": H})
