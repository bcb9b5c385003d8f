"""ember.text: text data for language models (an ember extra; torch has no such module).

    tokenize(lines, 'char' | 'word')        lines -> lists of tokens
    Vocab(tokens, min_freq, reserved_tokens) tokens <-> indices, frequency-sorted, index 0 is '<unk>'
    read_text(path)                         a UTF-8 file as one string (one-line errors for empty / not UTF-8)
    load_corpus(text, token='char')         (corpus as int64 indices, Vocab)
    data_iter_random / data_iter_consecutive  the book's two minibatch samplers: (X, Y), (batch, num_steps)
    count_ngrams, plot_zipf                 n-gram frequencies and the book's log-log Zipf plot
    NGramModel                              add-k smoothed n-gram language model (a baseline's perplexity)
    default_corpus()                        English prose that ships with Python itself (see _corpus.py)

The language models of the `ember` command are in ember.text.models, their training in ember.text.train.
"""
from ember.text.vocab import tokenize, Vocab, read_text, load_corpus  # noqa: F401
from ember.text.data import data_iter_random, data_iter_consecutive  # noqa: F401
from ember.text.ngram import count_ngrams, ngram_freqs, plot_zipf, NGramModel  # noqa: F401
from ember.text._corpus import default_corpus  # noqa: F401
