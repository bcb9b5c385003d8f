"""Where ember's time goes, per workload: a cProfile of a few steps, each function's own time put in one bucket.

    python bench/profile_split.py                   all workloads
    python bench/profile_split.py lenet resnet18    some of them
    python bench/profile_split.py --isa avx2        OpenBLAS and NumPy's loops held to AVX2 (an AVX2 host emulated)

Buckets (by the function that spends the time, not its callers):
  GEMM            matrix multiplies (ember.backend.threads.matmul, NumPy's matmul/dot/einsum)
  im2col/col2im   the copies that lay a convolution's or pooling's windows out as columns, and back
  elementwise     activations, their gradients, reductions and the other ufunc passes
  thread hand-off waiting for ember's pool (lock acquire, queue, futures)
  optimizer       the parameter updates
  allocation      new arrays (empty/zeros), copies (astype/copyto) and scratch buffers
  Python          everything else: autograd bookkeeping, modules, Tensor construction, the loop

cProfile adds a cost per Python call, so the Python share is an upper bound; the other buckets are time spent in
NumPy/BLAS and are not inflated. Steps are timed separately without the profiler (first line of each table).
"""
import argparse
import cProfile
import os
import pstats
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

BUCKETS = ("GEMM", "im2col/col2im", "elementwise", "thread hand-off", "optimizer", "allocation", "Python")


def bucket(key):
    """The bucket of a pstats key (file, line, function)."""
    path, _, fn = key
    name = os.path.basename(path)
    if fn in ("matmul", "gemm") and name in ("threads.py", "linalg.py") or any(
            s in fn for s in ("numpy.matmul", "numpy.dot", "einsum", "'matmul'")):
        return "GEMM"
    if name in ("conv.py", "pool.py") or fn in ("padded",) or "col2im" in fn or "im2col" in fn:
        return "im2col/col2im"
    if "acquire" in fn or "SimpleQueue" in fn or name in ("_base.py", "thread.py", "threading.py"):
        return "thread hand-off"
    if os.sep + "optim" + os.sep in path:
        return "optimizer"
    if fn in ("get",) and name == "memory.py" or any(s in fn for s in (
            "numpy.empty", "numpy.zeros", "numpy.array", "numpy.ascontiguousarray", "'copy'", "'astype'",
            "numpy.ones", "numpy.full", "numpy.copyto")):
        return "allocation"
    if name in ("elementwise.py", "reduce.py", "activation.py", "loss.py", "norm.py", "_methods.py") or any(
            s in fn for s in ("ufunc", "numpy.exp", "numpy.tanh", "numpy.maximum", "'sum'", "'max'")):
        return "elementwise"
    return "Python"


def workloads(names):
    import numpy as np

    import common
    import ember
    rng = np.random.default_rng(0)

    def train(model_name, shape, classes=10, lr=0.01, init="default", optimizer="SGD"):
        model = common.build(ember, model_name, init=init)
        opt = getattr(ember.optim, optimizer)(model.parameters(), lr=lr)
        loss_fn = ember.nn.CrossEntropyLoss()
        x = ember.from_numpy(rng.standard_normal(shape, dtype=np.float32))
        y = ember.from_numpy(rng.integers(0, classes, shape[0]))

        def step():
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        return step

    def inference(model_name, shape, init="xavier"):
        model = common.build(ember, model_name, init=init)
        model.eval()
        x = ember.from_numpy(rng.standard_normal(shape, dtype=np.float32))

        def step():
            with ember.no_grad():
                model(x).argmax(dim=1)
        return step

    table = {
        "mlp": ("MLP 784-256-10, batch 256, train step", lambda: train("mlp", (256, 784)), 40),
        "dnn": ("DNN 784-512-256-128-64-10, batch 64, train step", lambda: train("dnn", (64, 784)), 40),
        "lenet": ("LeNet, batch 256, train step", lambda: train("lenet", (256, 1, 28, 28), init="xavier"), 20),
        "lenet-inference": ("LeNet inference, batch 256, eval, no_grad", lambda: inference("lenet", (256, 1, 28, 28)),
                            20),
        "resnet18": ("ResNet-18 (tutorial), 1x1x224x224, train step", lambda: train("resnet18", (1, 1, 224, 224)), 5),
        "alexnet": ("AlexNet (tutorial), 1x1x224x224, Adam train step",
                    lambda: train("alexnet", (1, 1, 224, 224), lr=1e-4, optimizer="Adam"), 5),
    }
    for name in names:
        label, make, steps = table[name]
        yield name, label, make(), steps


def profile(step, steps):
    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    per_step = (time.perf_counter() - start) / steps
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    totals = dict.fromkeys(BUCKETS, 0.0)
    for key, (_, _, tottime, _, _) in pstats.Stats(prof).stats.items():
        totals[bucket(key)] += tottime
    return per_step, {k: v / steps for k, v in totals.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", default=["mlp", "dnn", "lenet", "lenet-inference", "resnet18", "alexnet"])
    ap.add_argument("--isa", choices=["native", "avx2"], default="native")
    opts = ap.parse_args()
    from harness import hold_this_process_to, machine_info
    hold_this_process_to(opts.isa)
    m = machine_info()
    import threadpoolctl
    blas = [f"{p['internal_api']} {p['version']} kernel {p['architecture']}" for p in threadpoolctl.threadpool_info()
            if p["user_api"] == "blas"]
    print(f"# where ember's time goes ({m['cpu_model']}, {m['cpu_count']} CPUs; NumPy BLAS: {', '.join(blas)}; "
          f"NumPy's ufunc loops: {m['numpy_simd']})\n")
    for name, label, step, steps in workloads(opts.names):
        per_step, split = profile(step, steps)
        total = sum(split.values())
        print(f"## {label}: {per_step * 1e3:.2f} ms per step without the profiler\n")
        print("| bucket | ms per step (profiled) | share |")
        print("|---|---:|---:|")
        for k in BUCKETS:
            print(f"| {k} | {split[k] * 1e3:.2f} | {split[k] / total:.0%} |")
        print()


if __name__ == "__main__":
    main()
