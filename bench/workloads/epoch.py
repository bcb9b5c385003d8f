"""Group `epoch`: one training epoch on real MNIST (60,000 images; `--quick`: the first 10,000).

As sections b-d of ../shared/bench/torch_baselines.py: the data is loaded once as NumPy float32
(normalised with mean 0.1307, std 0.3081; N×784 for the MLPs, N×1×28×28 for LeNet), each epoch permutes it
(NumPy, seed 0: the same order for both libraries, the permuted copy is part of the epoch time) and feeds
`from_numpy` slices of it to the model, batch by batch:
`opt.zero_grad(); loss = CrossEntropyLoss()(model(x), y); loss.backward(); opt.step()`.

  MLP 784-256-10 ReLU                      SGD lr 0.1, batch 256
  DNN 784-512-256-128-64-10 ReLU           SGD lr 0.01 momentum 0.5, batch 64
  LeNet (D2L: sigmoid, avg-pool, xavier)   SGD lr 0.9, batch 256

Models from ember.vision.models._tutorials (torch: the same source built with torch), the same NumPy-drawn initial
weights in both libraries.  Every call starts again from those weights with a fresh optimizer, so each timed
call is "epoch 1" and both libraries train on the same data in the same order; the report adds the test
accuracy (10k test images) and last batch loss after the epoch (ember / torch), which should be close.
One warm-up epoch, median of 3.
"""
import numpy as np

import common
from registry import OPTIONS, add, group

group("epoch", "one training epoch on MNIST 60k (--quick: 10k) from the same initial weights, batches sliced "
      "from pre-loaded arrays; time per epoch, test accuracy after it", unit="s", default=False,
      target="MLP <= 0.8, DNN <= 0.9, LeNet <= 1.5, LeNet inference <= 1.3 (ember/torch)")

_DATA = {}


def mnist():
    if OPTIONS.quick not in _DATA:
        _DATA.clear()
        _DATA[OPTIONS.quick] = common.mnist_float(quick=OPTIONS.quick)
    return _DATA[OPTIONS.quick]


class Trained:
    """An epoch's result: the model (fingerprinted through parameters()) and how to evaluate it."""

    def __init__(self, model, loss, evaluate):
        self.model, self.loss, self.evaluate = model, loss, evaluate

    def parameters(self):
        return self.model.parameters()


def epoch(model_name, batch_size, lr, momentum=0.0, init="default"):
    def make(lib):
        X, Y, Xte, Yte = mnist()
        if model_name != "lenet":
            X, Xte = X.reshape(len(X), -1), Xte.reshape(len(Xte), -1)
        model = common.build(lib, model_name, init=init)
        initial = common.state_numpy(model)
        loss_fn = lib.nn.CrossEntropyLoss()

        def run():
            common.load_numpy_state(model, lib, initial)
            opt = lib.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
            model.train()
            perm = np.random.default_rng(0).permutation(len(X))
            Xs, Ys = X[perm], Y[perm]
            for i in range(0, len(Xs), batch_size):
                xb = lib.from_numpy(Xs[i:i + batch_size])
                yb = lib.from_numpy(Ys[i:i + batch_size])
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
            return Trained(model, float(loss.item()), lambda: common.accuracy(lib, model, Xte, Yte))
        return run
    return make


def report(result):
    return {"test acc": result.evaluate(), "last loss": result.loss}


for label, model_name, bs, lr, momentum, init, target in [
    ("MLP 784-256-10 b256", "mlp", 256, 0.1, 0.0, "default", 0.8),
    ("DNN 784-512-256-128-64-10 b64", "dnn", 64, 0.01, 0.5, "default", 0.9),
    ("LeNet b256", "lenet", 256, 0.9, 0.0, "xavier", 1.5),
]:
    add("epoch", label, epoch(model_name, bs, lr, momentum, init), warmup=1, repeats=3, target_ratio=target,
        info=report, params={"model": model_name, "batch": bs, "optimizer": "SGD", "lr": lr, "momentum": momentum,
                             "init": init})


def inference(model_name, batch_size):
    """Issue 13's inference workload: the trained-from-init model in eval mode under no_grad over the 10,000 test
    images, batch by batch (the predictions' digest compares the libraries)."""
    def make(lib):
        _, _, Xte, _ = mnist()
        model = common.build(lib, model_name, init="xavier")
        model.eval()

        def run():
            preds = []
            with lib.no_grad():
                for i in range(0, len(Xte), batch_size):
                    preds.append(model(lib.from_numpy(Xte[i:i + batch_size])).argmax(dim=1).numpy())
            return np.concatenate(preds)
        return run
    return make


add("epoch", "LeNet inference 10k b256", inference("lenet", 256), warmup=1, repeats=5, target_ratio=1.3,
    params={"model": "lenet", "batch": 256, "mode": "eval, no_grad"})
