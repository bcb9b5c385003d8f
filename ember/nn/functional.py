"""ember.nn.functional: the stateless layer functions, as in torch.nn.functional.

Everything here is an op from ember.ops; this module only gathers them under PyTorch's names.
"""
import numpy as np

from ember.ops.elementwise import relu as _relu, sigmoid, tanh  # noqa: F401
from ember.ops.activation import (  # noqa: F401
    softmax, log_softmax, softmin, leaky_relu, elu, gelu, silu, softplus, hardtanh, relu6, hardsigmoid, hardswish,
    mish, logsigmoid, tanhshrink, softsign, prelu, glu, normalize,
)
from ember.ops.linalg import linear  # noqa: F401
from ember.ops.norm import (  # noqa: F401
    batch_norm, layer_norm, group_norm, dropout, dropout1d, dropout2d, dropout3d, alpha_dropout,
)
from ember.ops.norm import instance_norm  # noqa: F401
from ember.ops.sample import interpolate, pixel_shuffle, pixel_unshuffle  # noqa: F401
from ember.ops.loss import (  # noqa: F401
    mse_loss, l1_loss, smooth_l1_loss, huber_loss, cross_entropy, nll_loss, binary_cross_entropy,
    binary_cross_entropy_with_logits, kl_div, soft_margin_loss,
)
from ember.ops.loss import cosine_embedding_loss, margin_ranking_loss, triplet_margin_loss  # noqa: F401
from ember.ops.shape import pad  # noqa: F401
from ember.nn._attention import (  # noqa: F401
    scaled_dot_product_attention, multi_head_attention_forward, _canonical_mask, _none_or_dtype,
)
from ember.ops.index import one_hot  # noqa: F401
from ember.ops.embedding import embedding_bag, embedding_renorm_ as _embedding_renorm_  # noqa: F401
from ember.ops.conv import conv1d, conv2d  # noqa: F401
from ember.ops.conv import conv_transpose1d, conv_transpose2d  # noqa: F401
from ember.ops.pool import (  # noqa: F401
    max_pool1d, max_pool2d, avg_pool1d, avg_pool2d, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool2d,
)


def relu(input, inplace=False):
    return _relu(input, inplace=inplace)


def relu_(input):
    return _relu(input, inplace=True)


def threshold(input, threshold, value, inplace=False):
    from ember.ops.elementwise import where
    out = where(input > threshold, input, value)
    return input.copy_(out) if inplace else out


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    from ember.ops.index import Embedding
    if input.dtype._kind != 1:
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding)")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    if max_norm is not None:
        # PyTorch renormalises the looked-up rows of the weight in place, outside autograd
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return Embedding.apply(weight, index=input._data, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    num = (x1 * x2).sum(dim)
    den = (x1.norm(2, dim) * x2.norm(2, dim)).clamp_min(eps)
    return num / den


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return (x1 - x2 + eps).norm(p, -1, keepdim)
