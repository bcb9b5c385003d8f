"""One SGD trajectory in a library (ember or torch), shared by tests/test_blas_axpy.py and the child process it
starts (which imports nothing but NumPy and ember)."""
import numpy as np


def sgd_trajectory(lib, shapes, steps, seed, lr, **kwargs):
    """The parameters (as arrays) after `steps` SGD steps from seeded random parameters and gradients."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(steps)]
    params = [lib.nn.Parameter(lib.from_numpy(a)) for a in init]
    opt = lib.optim.SGD(params, lr=lr, **kwargs)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = lib.from_numpy(g)
        opt.step()
    return [p.detach().numpy().copy() for p in params]
