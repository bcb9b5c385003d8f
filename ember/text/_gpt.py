"""CharGPT: a small decoder-only Transformer over characters (the zoo's char-gpt).

Token embedding + learned position embedding, a stack of pre-norm Transformer blocks with causal
self-attention (nn.TransformerEncoderLayer, norm_first, GELU), a final LayerNorm and a Linear head to
the vocabulary -- GPT-2's layout at toy size. forward takes token indices (batch, seq) and returns
logits (batch, seq, vocab): position t sees tokens 0..t only, so one call trains on every position and
`generate` (or any sampler) reads the last position's logits.
"""
import math

import ember
from ember import nn
from ember.nn import functional as F

__all__ = ["CharGPT"]


class CharGPT(nn.Module):
    def __init__(self, vocab_size, block_size=128, d_model=128, nhead=4, num_layers=4, dim_feedforward=None,
                 dropout=0.1):
        super().__init__()
        if d_model % nhead:
            raise ValueError(f"d_model ({d_model}) must be divisible by nhead ({nhead})")
        self.vocab_size, self.block_size = vocab_size, block_size
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(block_size, d_model)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward or 4 * d_model, dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        self._init_weights(num_layers)

    def _init_weights(self, num_layers):
        """GPT-2's initialisation: N(0, 0.02) weights, zero biases, and the projections that add into the
        residual stream scaled down by sqrt(2 * layers) so the stream's variance does not grow with depth."""
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * num_layers) if name.endswith(("linear2.weight", "out_proj.weight")) \
                    else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        """idx: (batch, seq) token indices, seq <= block_size -> logits (batch, seq, vocab)."""
        if idx.dim() != 2:
            raise ValueError(f"CharGPT expects token indices of shape (batch, seq), got {list(idx.shape)}")
        seq = idx.shape[1]
        if seq > self.block_size:
            raise ValueError(f"sequence of length {seq} is longer than the block size {self.block_size}")
        positions = ember.arange(seq)
        x = self.dropout(self.token_embedding(idx) + self.position_embedding(positions))
        mask = nn.Transformer.generate_square_subsequent_mask(seq, dtype=x.dtype)
        x = self.blocks(x, mask=mask, is_causal=True)
        return self.head(self.norm(x))

    @ember.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        """Append max_new_tokens sampled tokens to idx (batch, seq); the context is cropped to block_size.
        temperature 0 picks the most likely token each time."""
        for _ in range(max_new_tokens):
            logits = self(idx[:, -self.block_size:])[:, -1]
            if temperature == 0:
                nxt = logits.argmax(-1, keepdim=True)
            else:
                logits = logits / temperature
                if top_k is not None and top_k < logits.shape[-1]:
                    kth = logits.topk(top_k, dim=-1).values[:, -1:]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                nxt = ember.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
            idx = ember.cat([idx, nxt], dim=1)
        return idx
