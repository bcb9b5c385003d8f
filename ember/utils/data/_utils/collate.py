"""default_collate and default_convert: turning a list of samples into a batch, as torch does.

Tensors are stacked along a new first dimension; NumPy arrays become tensors and are stacked; Python floats
become a float64 tensor and ints an int64 tensor (bools a bool tensor); NumPy scalars keep their dtype;
strings and bytes stay a list; mappings are collated key by key, namedtuples field by field, and other
sequences are transposed (a batch of (x, y) pairs gives [xs, ys]: tuples come back as lists, like torch).
``collate(batch, collate_fn_map=...)`` is the extensible form (``default_collate_fn_map`` maps types to
functions), as in torch.utils.data._utils.collate.
"""
import collections
import copy
import re

import numpy as np

from ember.tensor import Tensor
from ember import creation as _creation
from ember.autograd.grad_mode import is_grad_enabled as _is_grad_enabled

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


def default_convert(data):
    """Converts NumPy arrays and scalars (also inside mappings and sequences) to tensors; the rest unchanged.

    The collate function of a DataLoader with ``batch_size=None`` (no automatic batching).
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if elem_type.__name__ == "ndarray" and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data  # arrays of strings or objects stay arrays
        return _creation.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)  # keeps the mapping's type and extra attributes
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # torch returns a list here (backwards compatibility)
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch, *, collate_fn_map=None):
    """The general collate: looks the first element's type up in ``collate_fn_map`` (exact type first, then
    isinstance), otherwise recurses into mappings, namedtuples and sequences."""
    elem = batch[0]
    elem_type = type(elem)

    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                              for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]

    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """torch.stack(batch, 0); done in NumPy directly unless a sample carries autograd history to keep."""
    if _is_grad_enabled() and any(t._requires_grad for t in batch):
        from ember.ops.shape import stack
        return stack(batch, 0)
    shape = batch[0]._data.shape
    if any(t._data.shape != shape for t in batch):
        from ember.ops.shape import stack
        return stack(batch, 0)  # raises torch's "stack expects each tensor to be equal size" error
    return Tensor._make(np.stack([t._data for t in batch]))


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([_creation.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return _creation.from_numpy(np.array(batch))  # keeps the scalars' dtype, as torch.as_tensor does


def collate_float_fn(batch, *, collate_fn_map=None):
    return _creation.tensor(batch, dtype="float64")


def collate_int_fn(batch, *, collate_fn_map=None):
    return _creation.tensor(batch)  # int64 (bool for a batch of bools)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {Tensor: collate_tensor_fn}
default_collate_fn_map[np.ndarray] = collate_numpy_array_fn  # also np.memmap (a subclass)
default_collate_fn_map[(np.bool_, np.number, np.object_)] = collate_numpy_scalar_fn
default_collate_fn_map[float] = collate_float_fn
default_collate_fn_map[int] = collate_int_fn
default_collate_fn_map[str] = collate_str_fn
default_collate_fn_map[bytes] = collate_str_fn


def default_collate(batch):
    """Puts each data field into a tensor with outer dimension batch size (torch's default_collate).

    >>> default_collate([0, 1, 2, 3])
    tensor([0, 1, 2, 3])
    >>> default_collate([(1.0, 'a'), (2.0, 'b')])
    [tensor([1., 2.], dtype=torch.float64), ['a', 'b']]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
