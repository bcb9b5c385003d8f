"""What each process-wide setting of ember/backend/process.py buys, and what deterministic mode costs.

Times one training step (forward, CrossEntropyLoss, backward, SGD step) of LeNet (D2L, batch 256,
1x28x28) and of the MLP 784-256-10 (batch 256) in fresh processes, with ember's defaults and with each
opt-out / setting, and prints a table of medians and ratios to the defaults. Random data (timing does not
depend on the values).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/scripts/process_settings.py
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CHILD = r"""
import json, sys, time
import numpy as np
import ember, ember.nn as nn
ember.set_num_threads(int(sys.argv[2]))
if sys.argv[3] == "1":
    ember.use_deterministic_algorithms(True)
from ember.vision import models
rng = np.random.default_rng(0)
if sys.argv[1] == "lenet":
    model = models.lenet()
    x = ember.from_numpy(rng.standard_normal((256, 1, 28, 28), dtype=np.float32))
else:
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    x = ember.from_numpy(rng.standard_normal((256, 784), dtype=np.float32))
y = ember.from_numpy(rng.integers(0, 10, 256).astype(np.int64))
opt = ember.optim.SGD(model.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
def step():
    opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
for _ in range(5):
    step()
times = []
for _ in range(int(sys.argv[4])):
    t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
print(json.dumps(sorted(times)[len(times) // 2]))
"""

VARIANTS = [
    ("defaults", {}, "0"),
    ("EMBER_KEEP_FREED_MEMORY=0", {"EMBER_KEEP_FREED_MEMORY": "0"}, "0"),
    ("EMBER_GEMM_THREADING=ember", {"EMBER_GEMM_THREADING": "ember"}, "0"),
    ("EMBER_GEMM_THREADING=blas", {"EMBER_GEMM_THREADING": "blas"}, "0"),
    ("EMBER_BLAS_SPIN_TIMEOUT=0", {"EMBER_BLAS_SPIN_TIMEOUT": "0"}, "0"),
    ("use_deterministic_algorithms(True)", {}, "1"),
]


_THREADING_VARS = ("EMBER_GEMM_THREADING", "EMBER_BLAS_SPIN_TIMEOUT")


def measure(model, threads, env, det, steps=40):
    run_env = {k: v for k, v in os.environ.items()
               if not k.startswith("EMBER_") and k != "OPENBLAS_THREAD_TIMEOUT"}   # ember's setting, if inherited
    run_env.update(env)
    run_env["PYTHONPATH"] = ROOT
    out = subprocess.run([sys.executable, "-c", CHILD, model, str(threads), det, str(steps)], env=run_env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print("| model | threads | setting | step (ms) | / defaults |")
    print("|---|---:|---|---:|---:|")
    for model in ("lenet", "mlp"):
        for threads in (1, 2):
            # the GEMM threading settings only matter with two threads
            variants = [v for v in VARIANTS if threads > 1 or not any(k in v[1] for k in _THREADING_VARS)]
            times = {name: [] for name, _, _ in variants}
            for r in range(rounds):          # variants interleaved: a busy spell hits them all alike
                for name, env, det in (variants if r % 2 == 0 else variants[::-1]):
                    times[name].append(measure(model, threads, env, det))
            base = sorted(times["defaults"])[rounds // 2]
            for name, _, _ in variants:
                t = sorted(times[name])[rounds // 2]
                print(f"| {model} b256 | {threads} | {name} | {t * 1e3:.2f} | {t / base:.2f} |", flush=True)


if __name__ == "__main__":
    main()
