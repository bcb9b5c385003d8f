#!/usr/bin/env python3
"""Peak RSS of one LeNet epoch on the 60k MNIST training set loaded as float32 (bench group `memory`).

As the `epoch` group's LeNet workload: the normalised float32 training set (60,000x1x28x28, 188 MB) in
memory, D2L's LeNet with xavier weights (NumPy-drawn, identical in both libraries), SGD lr 0.9, batch
256, one permuted copy of the data per epoch, batches as from_numpy slices.  Whole process.

    .venv/bin/python bench/scripts/mem_lenet_epoch.py --lib ember     # or --lib torch; --quick: 10k images
"""
import numpy as np

from _peak import common, report_peak, setup

BATCH = 256


def main():
    args, lib = setup(__doc__.split("\n")[1])
    X, Y = common.mnist_float(quick=args.quick)[:2]  # the test set is not kept
    model = common.build(lib, "lenet", init="xavier")
    opt = lib.optim.SGD(model.parameters(), lr=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    model.train()
    perm = np.random.default_rng(0).permutation(len(X))
    Xs, Ys = X[perm], Y[perm]
    for i in range(0, len(Xs), BATCH):
        xb = lib.from_numpy(Xs[i:i + BATCH])
        yb = lib.from_numpy(Ys[i:i + BATCH])
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    report_peak(loss=f"{float(loss.item()):.4f}", images=len(X))


if __name__ == "__main__":
    main()
