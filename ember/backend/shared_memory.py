"""Arrays in memory that other processes can map: what Tensor.share_memory_() moves a tensor into.

Each shared array lives in its own anonymous memory file (Linux memfd; elsewhere an unlinked temporary
file), mapped MAP_SHARED. A forked child inherits the mapping; any other process receives a duplicate of
the file descriptor through multiprocessing (see ember/multiprocessing/reductions.py) and maps the same
pages -- PyTorch's "file_descriptor" sharing strategy. Nothing is left behind in /dev/shm: the file has no
name, and its memory is freed when the last process closes its mapping.
"""
import mmap
import os
import tempfile

import numpy as np


class SharedBlock(mmap.mmap):
    """A MAP_SHARED mapping that keeps its file descriptor (to hand on to other processes) and closes it
    when the mapping is garbage-collected."""
    fd = -1

    def __del__(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _anonymous_file(nbytes):
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("ember-shared", 0)
    else:
        fd, path = tempfile.mkstemp(prefix="ember-shared-")
        os.unlink(path)
    os.ftruncate(fd, nbytes)
    return fd


def open_block(fd, nbytes):
    """Map an existing shared file (one received from another process); the block owns fd."""
    block = SharedBlock(fd, max(nbytes, 1))
    block.fd = fd
    return block


def shared_copy(array):
    """A C-contiguous copy of array in a new shared block."""
    nbytes = array.nbytes
    block = open_block(_anonymous_file(max(nbytes, 1)), nbytes)
    out = np.frombuffer(block, array.dtype, array.size).reshape(array.shape)
    out[...] = array
    return out


def block_of(array):
    """The SharedBlock under array (following views), or None for ordinary memory."""
    x = array
    while True:
        if isinstance(x, SharedBlock):
            return x
        if isinstance(x, memoryview):
            x = x.obj
        elif isinstance(x, np.ndarray) and x.base is not None:
            x = x.base
        else:
            return None


def offset_in_block(array, block):
    return array.__array_interface__["data"][0] - np.frombuffer(block, np.uint8, 1).__array_interface__["data"][0]
