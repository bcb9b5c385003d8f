"""Multinomial distribution: counts of `total_count` draws over categories (tutorial 001 uses it)."""
import numpy as np

from ember.tensor import Tensor
from ember import random as _random


class Multinomial:
    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self.total_count = total_count
        if probs is not None:
            if (probs._data < 0).any():
                raise ValueError("The parameter probs has invalid values: probabilities must be non-negative")
            self.probs = probs / probs.sum(-1, keepdim=True)
            # PyTorch's logits for probs: log of the normalised probabilities
            self.logits = self.probs.clamp(min=np.finfo(self.probs._data.dtype).tiny).log()
        else:
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self.probs = self.logits.exp()
        self.batch_shape = self.probs.shape[:-1]
        self.event_shape = self.probs.shape[-1:]

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        g = _random.default_generator_or(None)
        p = self.probs._data.astype(np.float64)
        p = p / p.sum(-1, keepdims=True)
        shape = tuple(sample_shape) + tuple(self.batch_shape)
        counts = g.multinomial(self.total_count, p, size=shape if shape else None)
        return Tensor._make(np.asarray(counts).astype(self.probs._data.dtype))

    def log_prob(self, value):
        from math import lgamma
        v = value._data.astype(np.float64)
        logits = self.logits._data.astype(np.float64)
        log_factorial_n = lgamma(self.total_count + 1)
        log_factorial_xs = np.vectorize(lambda k: lgamma(k + 1))(v).sum(-1)
        safe = np.where((v == 0) & np.isneginf(logits), 0.0, v * logits)
        return Tensor._make((log_factorial_n - log_factorial_xs + safe.sum(-1)).astype(self.probs._data.dtype))
