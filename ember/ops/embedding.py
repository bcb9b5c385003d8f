"""embedding_bag: the sum, mean or max of the embedding rows of each bag of indices, without building the
(bags x length x dim) tensor of looked-up rows for sum and mean.

Composed from differentiable ops: the rows are looked up with the Embedding op (which also carries
scale_grad_by_freq), weighted by per_sample_weights, then added into their bag with index_add (sum,
mean) or padded into a (bags x longest bag) grid and reduced with max.  Indices equal to padding_idx
take no part, so a bag of padding only, like an empty bag, gives zeros."""
import numpy as np

from ember.tensor import Tensor


def embedding_renorm_(weight, input, max_norm, norm_type):
    """Rescale, in place and outside autograd, the looked-up rows whose norm exceeds max_norm (PyTorch's
    embedding_renorm_)."""
    w = weight._data
    rows = np.unique(input._data)
    norms = np.linalg.norm(w[rows].astype(np.float64), ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] = (w[rows] * scale[:, None]).astype(w.dtype)
    weight._version[0] += 1


def _bags(input, offsets, include_last_offset):
    """(flat indices, bag id of each index, number of bags) from the 1D or 2D input."""
    if input.dim() == 2:
        n_bags, length = input.shape
        return input.reshape(-1), np.repeat(np.arange(n_bags), length), n_bags
    idx = input._data
    offs = offsets._data.astype(np.int64)
    n = idx.shape[0]
    if offs.shape[0] and offs[0] != 0:
        # PyTorch's message ends with how it prints the 0-d tensor offsets[0]: "[ torch.LongTensor{} ]"
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {offs[0]}\n[ {offsets.type()}{{}} ]")
    if offs.shape[0] and offs[-1] > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of "
                           f"{offs[-1]}")
    if np.any(np.diff(offs) < 0):
        k = int(np.argmax(np.diff(offs) < 0))
        raise RuntimeError(f"offsets must be non-decreasing, but got offsets[{k}]={offs[k]} > "
                           f"offsets[{k + 1}]={offs[k + 1]}")
    n_bags = max(offs.shape[0] - 1, 0) if include_last_offset else offs.shape[0]
    ends = np.append(offs[1:], n)[:n_bags]    # bag i ends where bag i + 1 starts (or at the input's end)
    lengths = ends - offs[:n_bags]
    bag_of = np.repeat(np.arange(n_bags), lengths)
    return input[:int(ends[-1]) if n_bags else 0], bag_of, n_bags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """F.embedding_bag: one output row per bag, of the sum, mean or max of its indices' rows."""
    from ember.ops.index import Embedding
    from ember.ops.shape import cat
    from ember.ops.elementwise import where
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        include_last_offset = False
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ("sum", "mean"):
        raise ValueError("mode has to be one of sum, mean or max")
    for name, t in (("indices", input), ("offsets", offsets)):
        if t is not None and t.dtype._kind != 1:
            raise RuntimeError(f"Expected tensor for argument #1 '{name}' to have one of the following scalar types: "
                               f"Long, Int; but got {t.type()} instead (while checking arguments for embedding_bag)")
    if max_norm is not None:
        embedding_renorm_(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  f"GitHub.")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have the same type as tensor for argument #1 "
                           f"'per_sample_weights'; but type {weight.type()} does not equal "
                           f"{per_sample_weights.type()} (while checking arguments for embedding_bag)")
    num_embeddings, dim = weight.shape
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num_embeddings
    flat, bag_of, n_bags = _bags(input, offsets, include_last_offset)
    idx = flat._data.astype(np.int64, copy=False)
    bad = np.flatnonzero((idx < 0) | (idx >= num_embeddings))
    if bad.size:
        raise RuntimeError(f"Index {bad[0]} of input takes value {idx[bad[0]]} which is not in the valid range "
                           f"[0, {num_embeddings})")
    keep = np.flatnonzero(idx != padding_idx) if padding_idx is not None else np.arange(idx.shape[0])
    rows = Embedding.apply(weight, index=idx[keep], padding_idx=None, scale_grad_by_freq=scale_grad_by_freq)
    bag_of = bag_of[keep]
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape(-1)[Tensor._make(keep)]
        rows = rows * psw.unsqueeze(1)
    zeros = Tensor._make(np.zeros((n_bags, dim), weight._data.dtype))
    if mode in ("sum", "mean"):
        out = zeros.index_add(0, Tensor._make(bag_of), rows)
        if mode == "mean":
            counts = np.bincount(bag_of, minlength=n_bags).astype(weight._data.dtype)
            out = out / Tensor._make(np.maximum(counts, 1)[:, None])
        return out
    # max: the rows padded into a (bags x longest) grid, the padding a row of -inf; empty bags give 0
    counts = np.bincount(bag_of, minlength=n_bags)
    longest = int(counts.max()) if n_bags else 0
    if longest == 0:
        return zeros + weight.sum() * 0
    grid = np.full((n_bags, longest), len(keep), np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(len(keep)) - starts[bag_of]
    grid[bag_of, position] = np.arange(len(keep))
    sentinel = Tensor._make(np.full((1, dim), -np.inf, weight._data.dtype))
    padded = cat([rows, sentinel])[Tensor._make(grid)]
    out = padded.max(dim=1).values
    return where(Tensor._make((counts == 0)[:, None]), zeros, out)
