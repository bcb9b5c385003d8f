"""n-gram statistics: counts, the Zipf plot of the book, and an add-k smoothed n-gram language model whose
perplexity is the baseline a neural language model has to beat."""
import collections
import math

import numpy as np

__all__ = ["count_ngrams", "ngram_freqs", "plot_zipf", "NGramModel"]


def count_ngrams(tokens, n=1):
    """Counter of the n-grams (tuples of n tokens) of a token sequence."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    tokens = list(tokens)
    return collections.Counter(zip(*(tokens[i:] for i in range(n))))


def ngram_freqs(tokens, n=1):
    """[(n-gram, count)] most frequent first, as the book's `token_freqs` (unigrams as plain tokens)."""
    counts = count_ngrams(tokens, n)
    pairs = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
    return [(k[0], v) for k, v in pairs] if n == 1 else pairs


def plot_zipf(freq_lists, path, labels=("unigram", "bigram", "trigram")):
    """The book's figure: frequency against rank on log-log axes, one line per list of (n-gram, count)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for freqs, label in zip(freq_lists, labels):
        counts = [c for _, c in freqs]
        ax.loglog(np.arange(1, len(counts) + 1), counts, label=label)
    ax.set_xlabel("token: x (rank)")
    ax.set_ylabel("frequency: n(x)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


class NGramModel:
    """P(w | the n-1 tokens before) = (count(context, w) + k) / (count(context) + k * V), V the vocabulary size.

    The first n-1 tokens of a sequence are scored with the shorter contexts available (a unigram model for the
    first token), so every token of the held-out text counts."""

    def __init__(self, n, vocab_size, k=1.0):
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        self.n, self.vocab_size, self.k = n, vocab_size, float(k)

    def fit(self, ids):
        ids = [int(i) for i in ids]
        self.counts = [count_ngrams(ids, m) for m in range(1, self.n + 1)]
        # a context counts as often as it is followed by a token (so each distribution sums to one)
        self.context_counts = [None]
        for counts in self.counts[1:]:
            ctx = collections.Counter()
            for gram, c in counts.items():
                ctx[gram[:-1]] += c
            self.context_counts.append(ctx)
        self.total = len(ids)
        return self

    def log_prob(self, context, token):
        m = len(context) + 1
        num = self.counts[m - 1].get(tuple(context) + (token,), 0) + self.k
        den = (self.total if m == 1 else self.context_counts[m - 1].get(tuple(context), 0)) + self.k * self.vocab_size
        return math.log(num / den)

    def perplexity(self, ids):
        ids = [int(i) for i in ids]
        nll = 0.0
        for t, token in enumerate(ids):
            context = ids[max(0, t - self.n + 1):t]
            nll -= self.log_prob(context, token)
        return math.exp(nll / max(len(ids), 1))
