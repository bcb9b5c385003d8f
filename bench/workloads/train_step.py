"""Group `train_step`: one training step of the tutorial's big networks.

A step is `opt.zero_grad(); loss = CrossEntropyLoss()(model(x), y); loss.backward(); opt.step();
loss.item()`, exactly as section e/f of ../shared/bench/torch_baselines.py, on a fixed seeded batch
(standard-normal images, random labels), the model in training mode (dropout and batch-norm batch statistics
active).  Models: `alexnet()` and `resnet18()` from ember.vision.models, and for torch the same source file
built with torch (bench/common.py `zoo`), both starting from the same NumPy-drawn weights.

  AlexNet (D2L 8.1, 1x224x224, Adam lr 1e-4)  at batch 1 and 16
  ResNet-18 (D2L 8.6, Adam lr 1e-3)            on 1x1x224x224 and on 32x1x28x28

The model keeps training from call to call (as the reference does).  Dropout draws different masks in the
two libraries, so the libraries are compared (`reference`) on the eval-mode logits of the batch at the
initial weights, which checks the architecture and the weight copy.  2 warm-up steps, median of 5-7 steps.
"""
import numpy as np

import common
from registry import add, group

TARGET = 1.5

group("train_step", "one training step (zero_grad, forward, CrossEntropyLoss, backward, Adam step) of the "
      "tutorial's AlexNet and ResNet-18, same initial weights; time per step", unit="ms",
      target=f"ember/torch <= {TARGET}")


def train_step(model_name, shape, lr):
    def make(lib):
        model = common.build(lib, model_name)
        rng = np.random.default_rng(0)
        x = lib.from_numpy(rng.standard_normal(shape, dtype=np.float32))
        y = lib.from_numpy(rng.integers(0, 10, size=shape[0]).astype(np.int64))
        model.eval()
        with lib.no_grad():
            reference = model(x).numpy().copy()
        model.train()
        opt = lib.optim.Adam(model.parameters(), lr=lr)
        loss_fn = lib.nn.CrossEntropyLoss()

        def step():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return float(loss.item())
        step.reference = reference
        return step
    return make


for label, model_name, shape, lr, repeats in [
    ("AlexNet b1 1x224x224", "alexnet", (1, 1, 224, 224), 1e-4, 5),
    ("AlexNet b16 1x224x224", "alexnet", (16, 1, 224, 224), 1e-4, 5),
    ("ResNet-18 b1 1x224x224", "resnet18", (1, 1, 224, 224), 1e-3, 7),
    ("ResNet-18 b32 1x28x28", "resnet18", (32, 1, 28, 28), 1e-3, 7),
]:
    add("train_step", label, train_step(model_name, shape, lr), warmup=2, repeats=repeats, target_ratio=TARGET,
        params={"model": model_name, "input": list(shape), "optimizer": "Adam", "lr": lr})
