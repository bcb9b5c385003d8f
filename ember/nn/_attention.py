"""Attention functions of torch.nn.functional: scaled_dot_product_attention, multi_head_attention_forward.

PyTorch's multi_head_attention_forward works in seq-first layout (L, N, E). Here the same steps are kept
(and checked against it), with one fast route: self-attention without extra key/value rows and without
returned weights -- what every Transformer layer runs -- goes through one in-projection GEMM and the
fused `PackedSelfAttention` op (see ember/ops/attention.py), in whichever layout the input comes in, so
a batch-first model pays for no transposes.
"""
import math
import warnings

import numpy as np

from ember.backend import dtypes as _dt
from ember.tensor import Tensor
from ember.ops import attention as _attn
from ember.ops.linalg import linear, bmm, baddbmm, _dtype_word
from ember.ops.activation import softmax
from ember.ops.norm import dropout, _keep_mask
from ember.ops.shape import pad, cat
from ember.creation import zeros


# -- scaled_dot_product_attention ------------------------------------------------------------------

def _causal_bias(length, source, dtype):
    """0 where query i may see key j (j <= i, top-left aligned as PyTorch), -inf elsewhere."""
    return np.where(np.tri(length, source, dtype=np.bool_), 0, -np.inf).astype(dtype)


def _sdpa_bias(attn_mask, is_causal, length, source, dtype):
    """The additive bias (an array, or a Tensor when the float mask needs its gradient) or None."""
    bias = None
    if attn_mask is not None:
        if attn_mask.dtype is _dt.bool_:
            bias = np.where(attn_mask._data, 0, -np.inf).astype(dtype)  # True: may attend
        elif attn_mask.requires_grad:
            bias = attn_mask
        else:
            bias = attn_mask._data
    if is_causal:
        causal = _causal_bias(length, source, dtype)
        if bias is None:
            bias = causal
        elif isinstance(bias, Tensor):
            bias = bias + Tensor._make(causal)
        else:
            bias = bias + causal
    return bias


def _check_sdpa(query, key, value, attn_mask, dropout_p, enable_gqa):
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_dtype_word(query.dtype)} key.dtype: {_dtype_word(key.dtype)} and value.dtype: "
                           f"{_dtype_word(value.dtype)} instead.")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"scaled_dot_product_attention expects floating-point query, key and value, but got "
                           f"{query.dtype}")
    if attn_mask is not None and attn_mask.dtype is not _dt.bool_ and attn_mask.dtype is not query.dtype:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {_dtype_word(attn_mask.dtype)} and  query.dtype: "
                           f"{_dtype_word(query.dtype)} instead.")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(f"Expected query and key to have the same last dimension (the head size), but got "
                           f"query: {list(query.shape)} and key: {list(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"Expected key and value to have the same sequence length, but got key: "
                           f"{list(key.shape)} and value: {list(value.shape)}")
    if enable_gqa and query.ndim >= 3 and query.shape[-3] % key.shape[-3]:
        raise RuntimeError("Number of heads in key and value must divide the number of heads in query")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query key^T * scale + bias) value, with the weights dropped out with probability dropout_p.

    A boolean attn_mask says where a query may attend (True); a float mask is added to the scores;
    is_causal adds the causal mask (combined with attn_mask when both are given)."""
    _check_sdpa(query, key, value, attn_mask, dropout_p, enable_gqa)
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(groups, -3)
        value = value.repeat_interleave(groups, -3)
    length, source = query.shape[-2], key.shape[-2]
    if attn_mask is not None:
        try:
            np.broadcast_shapes(attn_mask.shape, tuple(query.shape[:-1]) + (source,))
        except ValueError:
            from ember.ops.elementwise import raise_broadcast_error
            raise_broadcast_error(tuple(query.shape[:-1]) + (source,), attn_mask.shape)
    bias = _sdpa_bias(attn_mask, is_causal, length, source, query._data.dtype)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    keep = None
    if dropout_p > 0.0:
        shape = np.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2])) + (length, source)
        keep = _keep_mask(shape, dropout_p, query._data.dtype)
    return _attn.attention(query, key, value, bias, scale, keep)


# -- masks, as PyTorch canonicalises them -------------------------------------------------------------

def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A boolean mask (True: masked out) becomes an additive float mask (-inf); a float mask stays."""
    if mask is None:
        return None
    is_float = mask.dtype.is_floating_point
    if mask.dtype is not _dt.bool_ and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype is not other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      f"instead.", stacklevel=3)
    if not is_float:
        mask = Tensor._make(np.where(mask._data, -np.inf, 0).astype(target_type.np))
    return mask


# -- multi_head_attention_forward ---------------------------------------------------------------------

def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         f"tensor")


def _check_attn_mask_shape(attn_mask, bsz, num_heads, tgt_len, src_len):
    if attn_mask.dim() == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                               f"{(tgt_len, src_len)}.")
    elif attn_mask.dim() == 3:
        if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                               f"{(bsz * num_heads, tgt_len, src_len)}.")
    else:
        raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")


def _check_key_padding_mask(key_padding_mask, src_len, bsz):
    if key_padding_mask.shape[0] != bsz:
        raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got {key_padding_mask.shape[0]}")
    if key_padding_mask.shape[1] != src_len:
        raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                             f"{key_padding_mask.shape[1]}")


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """PyTorch's multi-head attention in seq-first layout: query (L, N, E) or unbatched (L, E)."""
    return _multi_head_attention(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
        add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
        attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v,
        average_attn_weights, is_causal, batch_first=False)


def _multi_head_attention(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
                          bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
                          key_padding_mask, need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
                          k_proj_weight, v_proj_weight, static_k, static_v, average_attn_weights, is_causal,
                          batch_first):
    """multi_head_attention_forward for either layout; batch_first: batched inputs are (N, L, E)."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask),
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    causal_only = is_causal and key_padding_mask is None and not need_weights
    if causal_only:
        attn_mask = None   # the hint stands for the mask (PyTorch lets SDPA build it)
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False

    fast = (query is key and key is value and not use_separate_proj_weight and bias_k is None and bias_v is None
            and not add_zero_attn and static_k is None and static_v is None and not need_weights
            and in_proj_weight is not None)
    if fast:
        return _packed_self_attention(query, num_heads, embed_dim_to_check, in_proj_weight, in_proj_bias,
                                      dropout_p if training else 0.0, out_proj_weight, out_proj_bias,
                                      key_padding_mask, attn_mask, causal_only, is_batched, batch_first)

    if batch_first and is_batched:
        query, key, value = _to_seq_first(query, key, value)
    out, weights = _general_attention(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
        add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
        attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v,
        average_attn_weights, is_causal, is_batched)
    if batch_first and is_batched:
        out = out.transpose(1, 0)
    return out, weights


def _to_seq_first(query, key, value):
    if key is value:
        if query is key:
            query = key = value = query.transpose(1, 0)
        else:
            query, key = query.transpose(1, 0), key.transpose(1, 0)
            value = key
    else:
        query, key, value = query.transpose(1, 0), key.transpose(1, 0), value.transpose(1, 0)
    return query, key, value


def _check_embed_dim(embed_dim, embed_dim_to_check, num_heads):
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    return head_dim


def _packed_self_attention(x, num_heads, embed_dim_to_check, in_proj_weight, in_proj_bias, dropout_p,
                           out_proj_weight, out_proj_bias, key_padding_mask, attn_mask, is_causal, is_batched,
                           batch_first):
    """The fast route: x (L, N, E), (N, L, E) or (L, E); one in-projection GEMM, the fused attention op, the
    out-projection -- all in x's own layout."""
    if not is_batched:
        x = x.unsqueeze(1)
        batch_first = False
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if batch_first:
        bsz, length, embed_dim = x.shape
    else:
        length, bsz, embed_dim = x.shape
    head_dim = _check_embed_dim(embed_dim, embed_dim_to_check, num_heads)
    dtype = x._data.dtype
    bias = None
    if attn_mask is not None:
        _check_attn_mask_shape(attn_mask, bsz, num_heads, length, length)
        bias = attn_mask if attn_mask.dim() == 2 else attn_mask.reshape(bsz, num_heads, length, length)
    if key_padding_mask is not None:
        _check_key_padding_mask(key_padding_mask, length, bsz)
        padding = key_padding_mask.reshape(bsz, 1, 1, length)
        bias = padding if bias is None else bias + padding
    if isinstance(bias, Tensor) and not bias.requires_grad:
        bias = bias._data
    if is_causal:
        bias = _causal_bias(length, length, dtype)
    keep = _keep_mask((bsz, num_heads, length, length), dropout_p, dtype) if dropout_p > 0.0 else None
    qkv = linear(x, in_proj_weight, in_proj_bias)
    out = _attn.packed_self_attention(qkv, num_heads, batch_first, bias, 1.0 / math.sqrt(head_dim), keep)
    out = linear(out, out_proj_weight, out_proj_bias)
    if not is_batched:
        out = out.squeeze(1)
    return out, None


def _in_projection_packed(q, k, v, w, b):
    e = q.size(-1)
    if k is v:
        if q is k:
            return linear(q, w, b).chunk(3, dim=-1)
        w_q, w_kv = w.split([e, e * 2])
        b_q, b_kv = (None, None) if b is None else b.split([e, e * 2])
        k_proj, v_proj = linear(k, w_kv, b_kv).chunk(2, dim=-1)
        return linear(q, w_q, b_q), k_proj, v_proj
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q, b_k, b_v):
    eq, ek, ev = q.size(-1), k.size(-1), v.size(-1)
    for what, w, shape in (("query", w_q, (eq, eq)), ("key", w_k, (eq, ek)), ("value", w_v, (eq, ev))):
        if tuple(w.shape) != shape:
            raise AssertionError(f"expecting {what} weights shape of {shape}, but got {w.shape}")
    for what, b in (("query", b_q), ("key", b_k), ("value", b_v)):
        if b is not None and tuple(b.shape) != (eq,):
            raise AssertionError(f"expecting {what} bias shape of {(eq,)}, but got {b.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _general_attention(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
                       bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask,
                       need_weights, attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight,
                       v_proj_weight, static_k, static_v, average_attn_weights, is_causal, is_batched):
    """PyTorch's steps, seq-first: every option (extra key/value rows, zero attention, static keys, weights)."""
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    head_dim = _check_embed_dim(embed_dim, embed_dim_to_check, num_heads)
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)

    if attn_mask is not None:
        _check_attn_mask_shape(attn_mask, bsz, num_heads, tgt_len, src_len)
        if attn_mask.dim() == 2:
            attn_mask = attn_mask.unsqueeze(0)

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, bsz, num_heads, head_dim, "static_k")
    v = _heads(v, static_v, bsz, num_heads, head_dim, "static_v")

    if add_zero_attn:
        zero_shape = (bsz * num_heads, 1, head_dim)
        k = cat([k, zeros(zero_shape, dtype=k.dtype)], dim=1)
        v = cat([v, zeros(zero_shape, dtype=v.dtype)], dim=1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))

    src_len = k.size(1)
    if key_padding_mask is not None:
        _check_key_padding_mask(key_padding_mask, src_len, bsz)
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1) \
            .reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask

    if not training:
        dropout_p = 0.0

    if need_weights:
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        if attn_mask is not None:
            weights = baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            weights = bmm(q_scaled, k.transpose(-2, -1))
        weights = softmax(weights, dim=-1)   # a row masked everywhere gives NaN, as PyTorch's does
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = bmm(weights, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out = out.squeeze(1)
            weights = weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None


def _heads(t, static, bsz, num_heads, head_dim, name):
    """(S, N, E) -> (N*H, S, D), or the given static keys/values after checking their shape."""
    if static is None:
        return t.reshape(t.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if static.size(0) != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got {static.size(0)}")
    if static.size(2) != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.size(2)}")
    return static
