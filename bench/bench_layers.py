"""Convolution and pooling layers of the tutorial networks: ember vs torch, side by side.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/bench_layers.py [--threads 2]
        [--repeats 15] [--match REGEX] [--no-wait] [--interleave] [--mallopt]

Both libraries run in this one process on the same data, limited to the same number of threads
(ember.set_num_threads -- ember's worker pool, with NumPy's BLAS kept single-threaded --, and
torch.set_num_threads). Each figure is the median in ms of --repeats samples: ember's samples, a pause,
then torch's (torch's OpenMP workers keep spinning for a while after each call and would steal a core
from whatever runs next; --interleave alternates samples instead).

* fwd     -- the forward alone, under no_grad (inference)
* fwd+bwd -- forward with autograd on, then backward of a fixed upstream gradient: weight and bias
             gradients always, the input gradient except for a network's first layer (its input is the
             data, which needs none -- as in training)

ratio = ember / torch (below 1: ember is faster). Run without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE:
those variables make NumPy's OpenBLAS use its Haswell kernel and halve its GEMM speed; the script
says whether they were set. Before each layer it waits (up to --wait seconds) for the machine to be
idle, since other processes' load distorts multi-threaded timings badly, and measures the layer again
(up to 3 times) if the machine was busy afterwards; rows still measured under load are flagged.
"""
import argparse
import os
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from threadpoolctl import threadpool_limits, threadpool_info  # noqa: E402

import ember  # noqa: E402
from ember.ops import conv as E_conv, pool as E_pool  # noqa: E402

# (name, kind, input shape, params, input needs grad)
LAYERS = [
    # LeNet at batch 256
    ("lenet.conv1 1->6 k5 p2", "conv", (256, 1, 28, 28), dict(w=(6, 1, 5, 5), stride=1, padding=2), False),
    ("lenet.avgpool1 2", "avg", (256, 6, 28, 28), dict(k=2, s=2), True),
    ("lenet.conv2 6->16 k5", "conv", (256, 6, 14, 14), dict(w=(16, 6, 5, 5), stride=1, padding=0), True),
    ("lenet.avgpool2 2", "avg", (256, 16, 10, 10), dict(k=2, s=2), True),
    # AlexNet at 1x1x224x224
    ("alexnet.conv1 1->96 k11 s4 p1", "conv", (1, 1, 224, 224), dict(w=(96, 1, 11, 11), stride=4, padding=1), False),
    ("alexnet.maxpool1 3 s2", "max", (1, 96, 54, 54), dict(k=3, s=2), True),
    ("alexnet.conv2 96->256 k5 p2", "conv", (1, 96, 26, 26), dict(w=(256, 96, 5, 5), stride=1, padding=2), True),
    ("alexnet.maxpool2 3 s2", "max", (1, 256, 26, 26), dict(k=3, s=2), True),
    ("alexnet.conv3 256->384 k3 p1", "conv", (1, 256, 12, 12), dict(w=(384, 256, 3, 3), stride=1, padding=1), True),
    ("alexnet.conv4 384->384 k3 p1", "conv", (1, 384, 12, 12), dict(w=(384, 384, 3, 3), stride=1, padding=1), True),
    ("alexnet.conv5 384->256 k3 p1", "conv", (1, 384, 12, 12), dict(w=(256, 384, 3, 3), stride=1, padding=1), True),
    ("alexnet.maxpool3 3 s2", "max", (1, 256, 12, 12), dict(k=3, s=2), True),
    # ResNet-18 at 1x1x224x224
    ("resnet.conv1 1->64 k7 s2 p3", "conv", (1, 1, 224, 224), dict(w=(64, 1, 7, 7), stride=2, padding=3), False),
    ("resnet.maxpool 3 s2 p1", "max", (1, 64, 112, 112), dict(k=3, s=2, p=1), True),
    ("resnet.b1 64->64 k3 p1", "conv", (1, 64, 56, 56), dict(w=(64, 64, 3, 3), stride=1, padding=1), True),
    ("resnet.b2 64->128 k3 s2 p1", "conv", (1, 64, 56, 56), dict(w=(128, 64, 3, 3), stride=2, padding=1), True),
    ("resnet.b2 shortcut 64->128 k1 s2", "conv", (1, 64, 56, 56), dict(w=(128, 64, 1, 1), stride=2, padding=0), True),
    ("resnet.b2 128->128 k3 p1", "conv", (1, 128, 28, 28), dict(w=(128, 128, 3, 3), stride=1, padding=1), True),
    ("resnet.b3 128->256 k3 s2 p1", "conv", (1, 128, 28, 28), dict(w=(256, 128, 3, 3), stride=2, padding=1), True),
    ("resnet.b3 shortcut 128->256 k1 s2", "conv", (1, 128, 28, 28), dict(w=(256, 128, 1, 1), stride=2, padding=0),
     True),
    ("resnet.b3 256->256 k3 p1", "conv", (1, 256, 14, 14), dict(w=(256, 256, 3, 3), stride=1, padding=1), True),
    ("resnet.b4 256->512 k3 s2 p1", "conv", (1, 256, 14, 14), dict(w=(512, 256, 3, 3), stride=2, padding=1), True),
    ("resnet.b4 shortcut 256->512 k1 s2", "conv", (1, 256, 14, 14), dict(w=(512, 256, 1, 1), stride=2, padding=0),
     True),
    ("resnet.b4 512->512 k3 p1", "conv", (1, 512, 7, 7), dict(w=(512, 512, 3, 3), stride=1, padding=1), True),
    ("resnet.adaptive_avg_pool 1x1", "adaptive_avg", (1, 512, 7, 7), dict(out=(1, 1)), True),
]


def make_fn(lib, kind, p):
    F = TF if lib is torch else None
    if kind == "conv":
        fn = TF.conv2d if lib is torch else E_conv.conv2d
        return lambda x, w, b: fn(x, w, b, stride=p["stride"], padding=p["padding"])
    if kind == "max":
        fn = TF.max_pool2d if lib is torch else E_pool.max_pool2d
        return lambda x: fn(x, p["k"], p.get("s"), p.get("p", 0))
    if kind == "avg":
        fn = TF.avg_pool2d if lib is torch else E_pool.avg_pool2d
        return lambda x: fn(x, p["k"], p.get("s"), p.get("p", 0))
    if kind == "adaptive_avg":
        fn = TF.adaptive_avg_pool2d if lib is torch else E_pool.adaptive_avg_pool2d
        return lambda x: fn(x, p["out"])
    raise ValueError(kind)


def setup(lib, kind, shape, p, x_grad, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    x = rng.standard_normal(shape, dtype=np.float32)
    arrays = [x]
    grads = [x_grad]
    if kind == "conv":
        w = rng.standard_normal(p["w"], dtype=np.float32) * np.float32(1.0 / np.sqrt(np.prod(p["w"][1:])))
        b = rng.standard_normal(p["w"][0], dtype=np.float32)
        arrays += [w, b]
        grads += [True, True]
    tensors = []
    for a, g in zip(arrays, grads):
        t = lib.tensor(a)
        if g:
            t.requires_grad_(True)
        tensors.append(t)
    fn = make_fn(lib, kind, p)
    with lib.no_grad():
        y = fn(*tensors)
    gy = lib.tensor(rng.standard_normal(tuple(y.shape), dtype=np.float32))

    def fwd():
        with lib.no_grad():
            fn(*tensors)

    def fwd_bwd():
        for t in tensors:
            t.grad = None
        fn(*tensors).backward(gy)

    return fwd, fwd_bwd


def cpu_idle_fraction(dt=0.3):
    def read():
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
        return vals[3] + vals[4], sum(vals)
    i0, t0 = read()
    time.sleep(dt)
    i1, t1 = read()
    return (i1 - i0) / max(t1 - t0, 1)


def wait_quiet(limit):
    if limit <= 0:
        return True
    end = time.time() + limit
    while time.time() < end:
        if cpu_idle_fraction() > 0.9:
            return True
    return False


def _time(f, repeats, min_time):
    f()
    t = time.perf_counter()
    f()
    n = max(1, int(min_time / max(time.perf_counter() - t, 1e-6)))
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            f()
        samples.append((time.perf_counter() - t) / n)
    return float(np.median(samples))


def timed_pair(fa, fb, repeats, min_time=0.01, interleave=False):
    """Median seconds per call of fa and fb; each sample loops until min_time.

    By default all of fa's samples, a pause, then fb's: torch's OpenMP workers (and OpenBLAS's) keep
    spinning on the cores for a while after each call, which would slow whatever runs right after on
    a 2-core machine. --interleave alternates samples instead (more robust to load bursts)."""
    if not interleave:
        a = _time(fa, repeats, min_time)
        time.sleep(0.3)
        b = _time(fb, repeats, min_time)
        time.sleep(0.3)
        return a, b
    fa(); fb()
    t = time.perf_counter(); fa(); ta = time.perf_counter() - t
    t = time.perf_counter(); fb(); tb = time.perf_counter() - t
    na = max(1, int(min_time / max(ta, 1e-6)))
    nb = max(1, int(min_time / max(tb, 1e-6)))
    sa, sb = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(na):
            fa()
        sa.append((time.perf_counter() - t) / na)
        t = time.perf_counter()
        for _ in range(nb):
            fb()
        sb.append((time.perf_counter() - t) / nb)
    return float(np.median(sa)), float(np.median(sb))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--match", default=None, help="only layers whose name matches this regex")
    ap.add_argument("--wait", type=float, default=20.0, help="seconds to wait for an idle machine per layer")
    ap.add_argument("--no-wait", action="store_true")
    ap.add_argument("--interleave", action="store_true", help="alternate ember and torch samples")
    ap.add_argument("--mallopt", action="store_true",
                    help="keep freed memory in the heap (glibc mallopt: mmap threshold 32 MB, no trimming); "
                         "without it, glibc returns big freed blocks to the OS and every call pays page faults "
                         "(~0.2-1 ms per MB on this machine) for its temporaries and results")
    args = ap.parse_args()
    if args.mallopt:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)      # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)       # M_TRIM_THRESHOLD

    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    env_set = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ]
    blas = [(i.get("internal_api"), i.get("version"), i.get("architecture")) for i in threadpool_info()
            if i.get("user_api") == "blas"]
    print(f"threads={args.threads}  mallopt={args.mallopt}  numpy {np.__version__}  torch {torch.__version__}  BLAS {blas}")
    if env_set:
        print(f"WARNING: {', '.join(env_set)} set: NumPy's GEMM runs at about half speed; "
              f"rerun with env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE")
    head = (f"{'layer':36s} | {'fwd ember':>9s} {'torch':>8s} {'ratio':>6s} | {'fwd+bwd ember':>13s} {'torch':>8s} "
            f"{'ratio':>6s}")
    print(head)
    print("-" * len(head))
    rows = []
    # torch's side: NumPy's BLAS limited like torch; ember then sets its own (single-threaded BLAS, ember's pool)
    with threadpool_limits(limits=args.threads):
        ember.set_num_threads(args.threads)
        for name, kind, shape, p, x_grad in LAYERS:
            if args.match and not re.search(args.match, name):
                continue
            ef, efb = setup(ember, kind, shape, p, x_grad)
            tf, tfb = setup(torch, kind, shape, p, x_grad)
            for attempt in range(1 if args.no_wait else 3):
                quiet = True if args.no_wait else wait_quiet(args.wait)
                e1, t1 = timed_pair(ef, tf, args.repeats, interleave=args.interleave)
                e2, t2 = timed_pair(efb, tfb, args.repeats, interleave=args.interleave)
                # another process started meanwhile? measure the layer again
                if args.no_wait or (quiet and cpu_idle_fraction(0.5) > 0.9):
                    break
            rows.append((name, e1, t1, e2, t2))
            flag = "" if quiet else "  (machine busy)"
            print(f"{name:36s} | {e1 * 1e3:9.3f} {t1 * 1e3:8.3f} {e1 / t1:6.2f} | {e2 * 1e3:13.3f} {t2 * 1e3:8.3f} "
                  f"{e2 / t2:6.2f}{flag}", flush=True)
    if rows:
        r1 = np.array([r[1] / r[2] for r in rows])
        r2 = np.array([r[3] / r[4] for r in rows])
        print("-" * len(head))
        print(f"{'geometric mean':36s} | {'':18s} {np.exp(np.log(r1).mean()):6.2f} | {'':22s} "
              f"{np.exp(np.log(r2).mean()):6.2f}")
        print(f"{'worst':36s} | {'':18s} {r1.max():6.2f} | {'':22s} {r2.max():6.2f}")


if __name__ == "__main__":
    main()
