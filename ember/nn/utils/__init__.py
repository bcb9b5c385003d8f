"""ember.nn.utils: gradient clipping and parameter/vector conversion."""
import math

import numpy as np

from ember.tensor import Tensor
from ember.autograd.grad_mode import no_grad


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    grads = _grads(parameters)
    if not grads:
        from ember.creation import tensor
        return tensor(0.0)
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(np.abs(g._data).max()) for g in grads)
    else:
        total = float(np.sum([np.sum(np.abs(g._data.astype(np.float64)) ** norm_type) for g in grads])
                      ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           f"cannot be clipped.")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        with no_grad():
            for g in grads:
                g._data *= g._data.dtype.type(coef)
    from ember.creation import tensor
    return tensor(total, dtype=grads[0].dtype)


def clip_grad_value_(parameters, clip_value, foreach=None):
    for g in _grads(parameters):
        np.clip(g._data, -clip_value, clip_value, out=g._data)


def parameters_to_vector(parameters):
    from ember.ops.shape import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    offset = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p._data[...] = vec._data[offset:offset + n].reshape(p.shape)
            offset += n


from ember.nn.utils import rnn  # noqa: E402,F401  (torch.nn.utils.rnn: packing for the recurrent layers)
