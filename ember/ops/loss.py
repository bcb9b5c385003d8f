"""Loss functions. cross_entropy on class indices is one fused op: log-sum-exp forward, and the
softmax-minus-one-hot gradient backward; the other losses compose differentiable ops."""
import warnings

import numpy as np

from ember.autograd.function import Function
from ember.backend import dtypes as _dt
from ember.tensor import Tensor
from ember.ops.norm import once_differentiable
from ember.ops.activation import log_softmax
from ember.ops.elementwise import where, cast
from ember.ops import _autocast


def _reduction(size_average, reduce, reduction):
    """The legacy size_average/reduce flags, folded into `reduction` as PyTorch does."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


_type_word = _dt.type_word


def _weighted_mean(total, weight_sum):
    """total / weight_sum, except that when every target is ignored the loss is nan (as in PyTorch)
    while the gradient stays zero instead of 0/0."""
    if float(weight_sum) == 0.0:
        return total + float("nan")
    return total / weight_sum


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _check_same_size(input, target, name):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      f"This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      f"same size.", stacklevel=4)  # caller > loss > autocast wrapper > here


@_autocast.full_precision
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _check_same_size(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, _reduction(size_average, reduce, reduction))


@_autocast.full_precision
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    _check_same_size(input, target, "l1_loss")
    return _reduce((input - target).abs(), _reduction(size_average, reduce, reduction))


@_autocast.full_precision
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _check_same_size(input, target, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = input - target
    ad = d.abs()
    if beta == 0:
        loss = ad
    else:
        loss = where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta)
    return _reduce(loss, _reduction(size_average, reduce, reduction))


@_autocast.full_precision
def huber_loss(input, target, reduction="mean", delta=1.0):
    d = input - target
    ad = d.abs()
    loss = where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    return _reduce(loss, reduction)


# -- classification --------------------------------------------------------------------------

def _class_last(input):
    """(N, C, d1, ...) → (N·d1·..., C) rows, so every class-index loss works on 2-d scores."""
    if input.ndim == 2:
        return input
    if input.ndim == 1:
        return input.reshape(1, -1)
    perm = (0,) + tuple(range(2, input.ndim)) + (1,)
    return input.permute(perm).reshape(-1, input.shape[1])


def _check_targets(input, target):
    if input.ndim == 1:
        if target.ndim != 0:
            raise RuntimeError(f"Expected target to be 0-d for 1-d input of shape {list(input.shape)}, got "
                               f"{list(target.shape)}")
        return
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        if target.shape[:1] != input.shape[:1]:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                             f"({target.shape[0] if target.ndim else 0}).")
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")


class CrossEntropyIndices(Function):
    """Fused softmax + negative log-likelihood on class indices, with ignore_index."""
    stash = ("probs",)

    @classmethod
    def _node_name(cls):
        return "NllLossBackward0"

    def forward(self, scores, target, ignore_index, reduction):
        n, c = scores.shape
        shifted = scores - scores.max(axis=1, keepdims=True) if scores.size else scores.copy()
        exp = np.exp(shifted)
        sums = exp.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        low, high = (target.min(), target.max()) if n else (0, -1)
        if 0 <= low and high < c and not low <= ignore_index <= high:
            valid, safe, count = None, target, n      # the common case: every target a class, none ignored
            losses = np.log(sums[:, 0])
            losses -= shifted[rows, target]
        else:
            valid = target != ignore_index
            safe = np.where(valid, target, 0)
            if valid.any() and (safe.min() < 0 or safe.max() >= c):
                bad = target[valid & ((target < 0) | (target >= c))][0]
                raise IndexError(f"Target {bad} is out of bounds.")
            losses = (np.log(sums[:, 0]) - shifted[rows, safe]) * valid
            count = int(valid.sum())
        self.probs = np.divide(exp, sums, out=exp)
        self.rows, self.safe, self.valid, self.reduction, self.count = rows, safe, valid, reduction, count
        if reduction == "mean":
            return np.asarray(losses.sum() / count if count else np.nan, dtype=scores.dtype)
        if reduction == "sum":
            return np.asarray(losses.sum(), dtype=scores.dtype)
        return losses.astype(scores.dtype, copy=False)

    @once_differentiable
    def backward(self, grad):
        # probs stays untouched: a retained graph runs this backward again (torch allows it)
        g = grad._data.astype(self.probs.dtype, copy=False)
        if self.reduction == "mean":
            g = g / self.count if self.count else np.zeros_like(g)
        row_scale = g if self.valid is None else self.valid * g    # per row (0 for ignored targets), or one
        gx = self.probs * (row_scale[:, None] if row_scale.ndim else row_scale)
        gx[self.rows, self.safe] -= row_scale
        return Tensor._make(gx), None


@_autocast.full_precision
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    reduction = _reduction(size_average, reduce, reduction)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if input.dtype._kind < 2:
        raise RuntimeError(f"\"log_softmax_lastdim_kernel_impl\" not implemented for '{input.dtype.name}'")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target.dtype._kind == 2:
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_type_word(target.dtype)}")
    _check_targets(input, target)
    if weight is None and label_smoothing == 0.0:
        rows = _class_last(input)
        loss = CrossEntropyIndices.apply(rows, target.reshape(-1)._data.astype(np.int64, copy=False),
                                         ignore_index=ignore_index, reduction=reduction)
        if reduction == "none":
            loss = loss.reshape(target.shape)
        return loss
    logp = log_softmax(input, 1 if input.ndim > 1 else 0)
    loss = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return loss
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    class_dim = 1 if input.ndim > 1 else 0
    wshape = [1] * input.ndim
    wshape[class_dim] = c
    weighted = logp if weight is None else logp * weight.reshape(wshape)
    smooth = -weighted.sum(class_dim)
    ignored = target == ignore_index
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        if weight is not None:
            kept = target[~ignored]
            smooth = _weighted_mean(smooth.sum(), weight[kept].sum())
        else:
            smooth = _weighted_mean(smooth.sum(), (~ignored).sum())
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * loss + smooth * (label_smoothing / c)


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing):
    if target.shape != input.shape:
        raise RuntimeError(f"Expected target size {list(input.shape)}, got {list(target.shape)}")
    class_dim = 1 if input.ndim > 1 else 0
    c = input.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / c
    logp = log_softmax(input, class_dim)
    prod = logp * target
    if weight is not None:
        wshape = [1] * input.ndim
        wshape[class_dim] = c
        prod = prod * weight.reshape(wshape)
    loss = -prod.sum(class_dim)
    if reduction == "mean":
        n = input.numel() // c if input.ndim > 1 else 1
        return loss.sum() / n
    return _reduce(loss, reduction)


@_autocast.full_precision
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if target.dtype is not _dt.int64:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    _check_targets(input, target)
    class_dim = 1 if input.ndim > 1 else 0
    c = input.shape[class_dim]
    valid = target != ignore_index
    safe = where(valid, target, 0)
    if safe.numel() and (int(safe.min()) < 0 or int(safe.max()) >= c):
        raise IndexError(f"Target {int(safe.max()) if int(safe.max()) >= c else int(safe.min())} is out of bounds.")
    picked = input.gather(class_dim, safe.unsqueeze(class_dim)).squeeze(class_dim)
    w = valid.to(input.dtype)
    if weight is not None:
        if weight.numel() != c:
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                               f"weight tensor of shape: {list(weight.shape)}")
        w = w * weight[safe]
    losses = -picked * w
    if reduction == "mean":
        return _weighted_mean(losses.sum(), w.sum())
    return _reduce(losses, reduction)


class BinaryCrossEntropy(Function):
    save = (0, 1)

    @classmethod
    def _node_name(cls):
        return "BinaryCrossEntropyBackward0"

    def forward(self, x, t):
        if ((x < 0) | (x > 1)).any():
            raise RuntimeError("all elements of input should be between 0 and 1")
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        return -(t * log_x + (1 - t) * log_1mx)

    def backward(self, grad):
        x, t = self.saved_tensors
        # PyTorch's formula: (x - t) / max(x (1 - x), 1e-12)
        gx = grad * (x - t) / (x * (1 - x)).clamp(min=1e-12) if self.next[0] is not None else None
        gt = None
        if self.next[1] is not None:
            gt = grad * ((1 - x).log().clamp(min=-100) - x.log().clamp(min=-100))
        return gx, gt


@_autocast.full_precision
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    loss = BinaryCrossEntropy.apply(input, cast(target, input.dtype))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class BCEWithLogits(Function):
    save = (0, 1, 2)

    @classmethod
    def _node_name(cls):
        return "BinaryCrossEntropyWithLogitsBackward0"

    def forward(self, x, t, pos_weight):
        # (1 - t) x + L (log(1 + e^{-|x|}) + max(-x, 0)),  L = 1 + (pos_weight - 1) t: never overflows
        softplus_neg = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
        scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        return ((1 - t) * x + scale * softplus_neg).astype(x.dtype, copy=False)

    def backward(self, grad):
        x, t, pw = self.saved_tensors
        scale = 1 if pw is None else 1 + (pw - 1) * t
        gx = grad * ((1 - t) - scale * (-x).sigmoid()) if self.next[0] is not None else None
        gt = None
        if self.next[1] is not None:
            softplus_neg = (-x.abs()).exp().log1p() + (-x).relu()
            gt = grad * (-x + (0 if pw is None else (pw - 1) * softplus_neg))
        return gx, gt, None


@_autocast.full_precision
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    loss = BCEWithLogits.apply(input, cast(target, input.dtype), pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


@_autocast.full_precision
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    reduction = _reduction(size_average, reduce, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = where(target > 0, target * (target.clamp(min=1e-45).log() - input), 0.0)
    if reduction == "batchmean":
        return loss.sum() / input.shape[0]
    return _reduce(loss, reduction)


@_autocast.full_precision
def soft_margin_loss(input, target, reduction="mean"):
    return _reduce((1 + (-target * input).exp()).log(), reduction)


# -- embedding and ranking losses: compositions of differentiable ops, in PyTorch's formulas --------
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where target is -1."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.dim() not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if target.dim() == 1 and (input1.dim() != 2 or input2.dim() != 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if target.dim() == 0 and (input1.dim() != 1 or input2.dim() != 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    dim = target.dim()
    eps = 1e-12    # PyTorch's: keeps a zero vector's cosine finite
    prod_sum = (input1 * input2).sum(dim)
    mag_square1 = (input1 * input1).sum(dim) + eps
    mag_square2 = (input2 * input2).sum(dim) + eps
    cos = prod_sum / (mag_square1 * mag_square2).sqrt()
    zeros = cos * 0
    pos = where(target == 1, 1 - cos, zeros)
    neg = where(target == -1, (cos - margin).clamp_min(0), zeros)
    return _reduce(pos + neg, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (x1 - x2) + margin): target 1 asks x1 to rank above x2, -1 below."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin) with d the p-norm pairwise distance; swap uses the closer of
    d(a, n) and d(p, n) (Balntas et al.)."""
    reduction = _reduction(size_average, reduce, reduction)
    a_dim, p_dim, n_dim = anchor.ndim, positive.ndim, negative.ndim
    if not (a_dim == p_dim == n_dim):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative {n_dim}D inputs")
    def distance(x1, x2):    # F.pairwise_distance
        return (x1 - x2 + eps).norm(p, -1)
    dist_pos = distance(anchor, positive)
    dist_neg = distance(anchor, negative)
    if swap:
        from ember.ops.elementwise import minimum
        dist_neg = minimum(dist_neg, distance(positive, negative))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)
