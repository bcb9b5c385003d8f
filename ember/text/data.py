"""The book's two ways of cutting a corpus into minibatches of (X, Y), both of shape (batch, num_steps), Y being
X shifted by one token.

random       the corpus (after a random offset in [0, num_steps)) is cut into windows of num_steps tokens; each
             minibatch holds batch_size windows chosen at random, each window used once per epoch. Neighbouring
             minibatches are unrelated, so a model starts each one from a fresh state.
consecutive  the corpus is cut into batch_size long rows; minibatch i holds columns [i*num_steps, (i+1)*num_steps)
             of every row, so row b of one minibatch continues row b of the previous one: a model carries its state
             over (detached) from one minibatch to the next.
"""
import numpy as np

from ember.tensor import Tensor

__all__ = ["data_iter_random", "data_iter_consecutive"]


def _rng(generator, seed):
    if generator is not None:
        return generator
    return np.random.default_rng(seed)


def _offset(rng, num_steps, random_offset):
    return int(rng.integers(0, num_steps)) if random_offset else 0


def _as_tensor(a, dtype):
    t = Tensor._make(np.ascontiguousarray(a, dtype=np.int64))
    return t if dtype is None else t.to(dtype)


def _check(corpus, batch_size, num_steps):
    if batch_size <= 0 or num_steps <= 0:
        raise ValueError(f"batch_size and num_steps must be positive, got batch_size={batch_size}, "
                         f"num_steps={num_steps}")
    if len(corpus) < batch_size * num_steps + 1:
        raise ValueError(f"a corpus of {len(corpus)} tokens is too short for one minibatch of {batch_size} x "
                         f"{num_steps} tokens")


def data_iter_random(corpus_indices, batch_size, num_steps, device=None, generator=None, seed=None,
                     random_offset=True, dtype=None):
    """Random sampling: yields (X, Y) int64 tensors of shape (batch_size, num_steps). `generator` is a
    numpy.random.Generator (or `seed` makes one) so that runs are reproducible."""
    corpus = np.asarray(corpus_indices, dtype=np.int64)
    _check(corpus, batch_size, num_steps)
    rng = _rng(generator, seed)
    corpus = corpus[_offset(rng, num_steps, random_offset):]
    num_examples = (len(corpus) - 1) // num_steps
    starts = np.arange(num_examples) * num_steps
    rng.shuffle(starts)
    windows = np.arange(num_steps)
    for i in range(num_examples // batch_size):
        batch = starts[i * batch_size:(i + 1) * batch_size, None] + windows
        yield _as_tensor(corpus[batch], dtype), _as_tensor(corpus[batch + 1], dtype)


def data_iter_consecutive(corpus_indices, batch_size, num_steps, device=None, generator=None, seed=None,
                          random_offset=True, dtype=None):
    """Consecutive (sequential) partitioning: yields (X, Y) int64 tensors of shape (batch_size, num_steps);
    row b of each minibatch continues row b of the one before."""
    corpus = np.asarray(corpus_indices, dtype=np.int64)
    _check(corpus, batch_size, num_steps)
    rng = _rng(generator, seed)
    offset = _offset(rng, num_steps, random_offset)
    usable = ((len(corpus) - offset - 1) // batch_size) * batch_size
    xs = corpus[offset:offset + usable].reshape(batch_size, -1)
    ys = corpus[offset + 1:offset + 1 + usable].reshape(batch_size, -1)
    for i in range(xs.shape[1] // num_steps):
        cols = slice(i * num_steps, (i + 1) * num_steps)
        yield _as_tensor(xs[:, cols], dtype), _as_tensor(ys[:, cols], dtype)
