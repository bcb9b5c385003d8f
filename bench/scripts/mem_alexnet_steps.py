#!/usr/bin/env python3
"""Peak RSS of three AlexNet training steps at batch 16 with Adam (bench group `memory`).

The tutorial's AlexNet (ember.vision.models._tutorials.alexnet; torch: the same source built with torch) with the
library's own default initialisation, Adam lr 1e-4, CrossEntropyLoss, one seeded batch of 16 1x224x224
images.  Whole process: interpreter, library import, model, Adam state, activations and gradients.

    .venv/bin/python bench/scripts/mem_alexnet_steps.py --lib ember     # or --lib torch
    /usr/bin/time -v .venv/bin/python bench/scripts/mem_alexnet_steps.py --lib torch
"""
import numpy as np

from _peak import common, report_peak, setup

STEPS, BATCH = 3, 16


def main():
    args, lib = setup(__doc__.split("\n")[1])
    model = common.zoo(lib).alexnet()
    model.train()
    opt = lib.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = lib.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.standard_normal((BATCH, 1, 224, 224), dtype=np.float32))
    y = lib.from_numpy(rng.integers(0, 10, size=BATCH).astype(np.int64))
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    report_peak(loss=f"{float(loss.item()):.4f}")


if __name__ == "__main__":
    main()
