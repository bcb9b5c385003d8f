"""Tokens and vocabularies: tokenize, Vocab, and reading a corpus file."""
import collections

import numpy as np

__all__ = ["tokenize", "Vocab", "read_text", "load_corpus"]


def tokenize(lines, token="word"):
    """Split each line into words (on whitespace) or characters. A single string counts as one line."""
    if isinstance(lines, str):
        lines = [lines]
    if token == "word":
        return [line.split() for line in lines]
    if token == "char":
        return [list(line) for line in lines]
    raise ValueError(f"unknown token type '{token}'; use 'word' or 'char'")


def _flatten(tokens):
    if tokens and isinstance(tokens[0], (list, tuple)):
        return [t for line in tokens for t in line]
    return list(tokens)


class Vocab:
    """Tokens <-> indices. Index 0 is '<unk>' (what an unknown token maps to), then the reserved tokens, then
    every token seen at least `min_freq` times, most frequent first (ties: in order of first appearance)."""

    def __init__(self, tokens=(), min_freq=0, reserved_tokens=()):
        counter = collections.Counter(_flatten(list(tokens)))
        # Counter keeps first-appearance order, and sorted() is stable: ties stay in that order
        self.token_freqs = sorted(counter.items(), key=lambda kv: kv[1], reverse=True)
        self.idx_to_token = ["<unk>"] + [t for t in reserved_tokens if t != "<unk>"]
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}
        for token, freq in self.token_freqs:
            if freq < min_freq:
                break
            if token not in self.token_to_idx:
                self.token_to_idx[token] = len(self.idx_to_token)
                self.idx_to_token.append(token)

    def __len__(self):
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if isinstance(tokens, (list, tuple)):
            return [self.__getitem__(t) for t in tokens]
        return self.token_to_idx.get(tokens, self.unk)

    def to_tokens(self, indices):
        if hasattr(indices, "tolist"):
            indices = indices.tolist()
        if isinstance(indices, (list, tuple)):
            return [self.idx_to_token[int(i)] for i in indices]
        return self.idx_to_token[int(indices)]

    @property
    def unk(self):
        return 0

    def __contains__(self, token):
        return token in self.token_to_idx

    def __repr__(self):
        return f"Vocab(size={len(self)}, most frequent={[t for t, _ in self.token_freqs[:5]]})"

    # what a checkpoint stores: plain lists, which torch.load(weights_only=True) accepts
    def state_dict(self):
        return {"idx_to_token": list(self.idx_to_token), "token_freqs": [[t, int(f)] for t, f in self.token_freqs]}

    @classmethod
    def from_state_dict(cls, state):
        vocab = cls()
        vocab.idx_to_token = list(state["idx_to_token"])
        vocab.token_to_idx = {t: i for i, t in enumerate(vocab.idx_to_token)}
        vocab.token_freqs = [tuple(x) for x in state.get("token_freqs", [])]
        return vocab


def read_text(path):
    """The whole file as a string. An empty file or one that is not UTF-8 raises ValueError with a one-line
    message naming the file (and the first bad byte)."""
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.strip():
        raise ValueError(f"{path} is empty: a language model needs text to learn from")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text: byte 0x{raw[e.start]:02x} at offset {e.start} cannot be "
                         f"decoded") from None
    return text.removeprefix("\ufeff")


def load_corpus(text, token="char", max_tokens=-1, vocab=None):
    """(corpus as an int64 array of indices, Vocab) of a text; lines are joined by spaces for 'char', as the
    book replaces newlines by spaces."""
    if token == "char":
        tokens = list(text.replace("\r\n", "\n").replace("\n", " "))
    else:
        tokens = _flatten(tokenize(text.splitlines(), token))
    if max_tokens > 0:
        tokens = tokens[:max_tokens]
    if vocab is None:
        vocab = Vocab(tokens)
    return np.asarray(vocab[tokens], dtype=np.int64), vocab
