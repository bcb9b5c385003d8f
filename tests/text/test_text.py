"""ember.text: tokens, Vocab, the corpus reader, the book's two samplers, n-gram counts and models, the default
corpus."""
import collections
import math
import os
import pathlib

import numpy as np
import pytest

import ember
from ember.text import (tokenize, Vocab, read_text, load_corpus, data_iter_random, data_iter_consecutive,
                        count_ngrams, ngram_freqs, plot_zipf, NGramModel)

DATA = os.environ.get("EMBER_TEST_DATA", str(pathlib.Path.home() / ".cache" / "ember" / "data"))
TEXT = "the time machine by h g wells\nthe time traveller for so it will be convenient to speak of him\n"


def test_tokenize_words_and_chars():
    assert tokenize(["a bb  c", "d"], "word") == [["a", "bb", "c"], ["d"]]
    assert tokenize(["ab c"], "char") == [["a", "b", " ", "c"]]
    assert tokenize("xy", "char") == [["x", "y"]]
    with pytest.raises(ValueError, match="unknown token type 'byte'"):
        tokenize(["a"], "byte")


def test_vocab_frequency_sorted_with_unk_reserved_and_min_freq():
    tokens = [["b", "a", "c", "a"], ["b", "a", "d"]]
    v = Vocab(tokens, reserved_tokens=["<pad>", "<bos>"])
    assert v.idx_to_token == ["<unk>", "<pad>", "<bos>", "a", "b", "c", "d"]
    assert v.token_freqs == [("a", 3), ("b", 2), ("c", 1), ("d", 1)]   # ties in order of first appearance
    assert len(v) == 7
    assert v["a"] == 3 and v["zzz"] == 0 == v.unk
    assert v[["b", "nope", "d"]] == [4, 0, 6]
    assert v.to_tokens([3, 4]) == ["a", "b"] and v.to_tokens(6) == "d"
    assert all(v.token_to_idx[t] == i for i, t in enumerate(v.idx_to_token))
    v2 = Vocab(tokens, min_freq=2)
    assert v2.idx_to_token == ["<unk>", "a", "b"]
    assert v2["c"] == 0
    again = Vocab.from_state_dict(v.state_dict())
    assert again.idx_to_token == v.idx_to_token and again["d"] == 6


def test_load_corpus_chars_and_words():
    ids, vocab = load_corpus(TEXT, "char")
    assert ids.dtype == np.int64 and len(ids) == len(TEXT)
    assert "".join(vocab.to_tokens(ids)) == TEXT.replace("\n", " ")
    assert vocab.idx_to_token[1] == " "                    # the most frequent character
    ids, vocab = load_corpus(TEXT, "word", max_tokens=5)
    assert vocab.to_tokens(ids) == ["the", "time", "machine", "by", "h"]


def test_read_text_errors_are_one_line(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("héllo\n", encoding="utf-8")
    assert read_text(good) == "héllo\n"
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"  \n")
    with pytest.raises(ValueError, match="is empty") as e:
        read_text(empty)
    assert "\n" not in str(e.value)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(ValueError, match=r"not UTF-8 text: byte 0xe9 at offset 3") as e:
        read_text(latin)
    assert "\n" not in str(e.value)


def _windows(batches):
    """Every (X, Y) row as (start position of X, X row, Y row)."""
    return [(x, y) for X, Y in batches for x, y in zip(X.tolist(), Y.tolist())]


@pytest.mark.parametrize("offset", [False, True])
def test_random_sampler(offset):
    corpus = np.arange(1000)           # token = its position, so a window names its positions
    B, T = 4, 7
    batches = list(data_iter_random(corpus, B, T, seed=3, random_offset=offset))
    for X, Y in batches:
        assert tuple(X.shape) == (B, T) == tuple(Y.shape) and X.dtype == ember.int64
    rows = _windows(batches)
    starts = [x[0] for x, _ in rows]
    first = min(starts)
    assert first < T and (first == 0 or offset)
    for x, y in rows:
        assert x == list(range(x[0], x[0] + T)) and y == [v + 1 for v in x]      # Y is X shifted by one
        assert (x[0] - first) % T == 0                                             # on the window grid
    assert len(set(starts)) == len(starts)                                         # each window once
    n_windows = (len(corpus) - first - 1) // T
    assert len(rows) == (n_windows // B) * B
    # every position of the used windows is covered exactly once
    covered = collections.Counter(p for x, _ in rows for p in x)
    assert set(covered.values()) == {1}
    # shuffled, and reproducible with the same seed
    assert starts != sorted(starts)
    assert _windows(data_iter_random(corpus, B, T, seed=3, random_offset=offset)) == rows


@pytest.mark.parametrize("offset", [False, True])
def test_consecutive_sampler(offset):
    corpus = np.arange(1000)
    B, T = 4, 7
    batches = list(data_iter_consecutive(corpus, B, T, seed=5, random_offset=offset))
    first = batches[0][0][0, 0].item()
    assert first < T and (first == 0 or offset)
    for X, Y in batches:
        assert tuple(X.shape) == (B, T)
        assert (Y.numpy() == X.numpy() + 1).all()
    # row b of minibatch i+1 continues row b of minibatch i: no overlap, no gap
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        assert (X1.numpy()[:, 0] == X0.numpy()[:, -1] + 1).all()
    covered = np.concatenate([X.numpy().ravel() for X, _ in batches])
    assert len(set(covered.tolist())) == covered.size                              # no position twice
    row_len = (len(corpus) - first - 1) // B
    assert len(batches) == row_len // T
    rows = np.stack([np.concatenate([X.numpy()[b] for X, _ in batches]) for b in range(B)])
    assert (rows[:, 0] == first + np.arange(B) * row_len).all()                    # rows start a row apart
    assert (np.diff(rows, axis=1) == 1).all()


def test_samplers_reject_a_too_short_corpus():
    with pytest.raises(ValueError, match="too short"):
        next(data_iter_random(np.arange(10), 2, 5))
    with pytest.raises(ValueError, match="too short"):
        next(data_iter_consecutive(np.arange(10), 2, 5))


def test_book_float_dtype_option():
    X, Y = next(data_iter_consecutive(np.arange(100), 2, 5, dtype=ember.float32, random_offset=False))
    assert X.dtype == ember.float32 and X.tolist()[0] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_ngram_counts_and_freqs(tmp_path):
    tokens = "a b a b c a b".split()
    assert count_ngrams(tokens, 1) == collections.Counter({("a",): 3, ("b",): 3, ("c",): 1})
    assert count_ngrams(tokens, 2) == collections.Counter({("a", "b"): 3, ("b", "a"): 1, ("b", "c"): 1,
                                                           ("c", "a"): 1})
    assert count_ngrams(tokens, 3)[("a", "b", "a")] == 1 and sum(count_ngrams(tokens, 3).values()) == 5
    assert ngram_freqs(tokens, 1)[:2] == [("a", 3), ("b", 3)]
    assert ngram_freqs(tokens, 2)[0] == (("a", "b"), 3)
    path = plot_zipf([ngram_freqs(tokens, n) for n in (1, 2, 3)], str(tmp_path / "zipf.png"))
    assert pathlib.Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ngram_model_add_k_perplexity():
    ids = [0, 1, 0, 1, 0, 1]
    m = NGramModel(2, vocab_size=3, k=1).fit(ids)
    # P(1|0) = (3+1)/(3+3); P(0) = (3+1)/(6+3)
    assert math.isclose(math.exp(m.log_prob([0], 1)), 4 / 6)
    assert math.isclose(math.exp(m.log_prob([], 0)), 4 / 9)
    ppl = m.perplexity([0, 1])
    assert math.isclose(ppl, math.exp(-(math.log(4 / 9) + math.log(4 / 6)) / 2))
    # probabilities over the vocabulary sum to one for every context
    for ctx in ([0], [1], [2]):
        assert math.isclose(sum(math.exp(m.log_prob(ctx, w)) for w in range(3)), 1.0)
    # a trigram model on a repetitive text beats the bigram and unigram ones
    ids, vocab = load_corpus(TEXT * 40, "char")
    ppls = [NGramModel(n, len(vocab), 0.1).fit(ids[:2000]).perplexity(ids[2000:]) for n in (1, 2, 3)]
    assert ppls[0] > ppls[1] > ppls[2]


def test_default_corpus_is_a_megabyte_of_english():
    from ember.text._corpus import default_corpus, default_corpus_path
    text = default_corpus(DATA)
    assert len(text.encode("utf-8")) >= 1_000_000
    assert os.path.exists(default_corpus_path(DATA))
    words = text.split()
    common = collections.Counter(w.lower() for w in words).most_common(10)
    assert {"the", "of", "a", "to", "is"} <= {w for w, _ in common}
    assert ">>>" not in text and "::=" not in text
    assert default_corpus(DATA) == text       # read back from the cache


def test_tensor_multinomial_method():
    g = ember.Generator().manual_seed(3)
    probs = ember.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    assert probs.multinomial(1).tolist() == [[1], [2]]
    a = ember.tensor([0.2, 0.3, 0.5]).multinomial(5, replacement=True, generator=g)
    b = ember.tensor([0.2, 0.3, 0.5]).multinomial(5, replacement=True, generator=ember.Generator().manual_seed(3))
    assert a.tolist() == b.tolist() and a.shape == (5,)


def test_char_gpt_is_registered_and_loads_lazily():
    from ember.text.models import LM_MODELS, build_lm
    assert "char-gpt" in LM_MODELS and not LM_MODELS["char-gpt"].stateful
    try:
        import ember.text._gpt  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="char-gpt needs ember.text._gpt"):
            build_lm("char-gpt", 10)
    else:
        model = build_lm("char-gpt", 10)
        logits = model(ember.zeros(2, 5, dtype=ember.int64))
        assert tuple(logits.shape) == (2, 5, 10)
