"""How tensors cross process boundaries under multiprocessing (torch.multiprocessing.reductions).

Registered with multiprocessing's ForkingPickler (used for Process arguments under spawn/forkserver and for
everything put on a multiprocessing Queue or Pipe), a tensor travels as a handle to its shared memory, not
as a copy: the receiver maps the same pages, so writes on either side are seen by the other. As in
PyTorch, a tensor that is not shared yet is moved into shared memory when it is sent.
"""
from multiprocessing.reduction import ForkingPickler, DupFd

import numpy as np

from ember.backend import dtypes as _dt
from ember.backend import shared_memory
from ember.tensor import Tensor


def rebuild_tensor(cls, dup_fd, nbytes, dtype_name, shape, strides, offset, requires_grad):
    block = shared_memory.open_block(dup_fd.detach(), nbytes)
    data = np.ndarray(shape, _dt._BY_NAME[dtype_name].np, buffer=block, offset=offset, strides=strides)
    t = Tensor._make(data)
    if cls is not Tensor:
        return cls(t, requires_grad=requires_grad)     # a Parameter
    t.requires_grad_(requires_grad)
    return t


def reduce_tensor(tensor):
    if tensor.grad_fn is not None and tensor.requires_grad:
        # PyTorch's refusal, word for word: a graph cannot follow the tensor into another process
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does not "
            "support crossing process boundaries.  If you just want to transfer the data, call detach() "
            "on the tensor before serializing (e.g., putting it on the queue).")
    tensor.share_memory_()
    data = tensor._data
    block = shared_memory.block_of(data)
    return (rebuild_tensor, (type(tensor), DupFd(block.fd), len(block), tensor.dtype.name, data.shape,
                             data.strides, shared_memory.offset_in_block(data, block), tensor.requires_grad))


def init_reductions():
    from ember.nn.parameter import Parameter
    ForkingPickler.register(Tensor, reduce_tensor)
    ForkingPickler.register(Parameter, reduce_tensor)
