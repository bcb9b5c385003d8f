"""Categorical distribution over 0..K-1, parameterised by probabilities or logits."""
import numpy as np

from ember.tensor import Tensor
from ember import random as _random


class Categorical:
    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
            self.logits = self.probs.clamp(min=np.finfo(self.probs._data.dtype).tiny).log()
        else:
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self.probs = self.logits.exp()
        self._num_events = self.probs.shape[-1]
        self.batch_shape = self.probs.shape[:-1]

    def sample(self, sample_shape=()):
        g = _random.default_generator_or(None)
        p = self.probs._data.astype(np.float64)
        shape = tuple(sample_shape) + tuple(self.batch_shape)
        u = g.random(shape + (1,))
        cdf = np.cumsum(p, -1)
        cdf = cdf / cdf[..., -1:]
        idx = (u > np.broadcast_to(cdf, shape + (p.shape[-1],))).sum(-1)
        return Tensor._make(np.minimum(idx, p.shape[-1] - 1).astype(np.int64))

    def log_prob(self, value):
        from ember.ops.index import gather
        v = value.long().unsqueeze(-1)
        logits = self.logits.expand(*value.shape, self._num_events) if value.ndim > self.logits.ndim - 1 \
            else self.logits
        return gather(logits, -1, v).squeeze(-1)

    def entropy(self):
        return -(self.probs * self.logits).sum(-1)
