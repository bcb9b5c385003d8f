"""DistributedDataParallel: one model replica per process, gradients averaged across the processes.

As in PyTorch:
- at construction, rank 0's parameters and buffers are copied to every rank, and the ranks check that their
  models have the same parameter shapes;
- the parameters are grouped in buckets in reverse order (the order backward produces their gradients;
  the first bucket holds up to 1 MiB, the others `bucket_cap_mb`, 25 MiB by default);
- each parameter's post-accumulate-grad hook copies its gradient into its bucket; a full bucket is divided
  by the world size and its all-reduce started at once (non-blocking, MPI_Iallreduce), while backward
  goes on with the layers below. Buckets start in index order on every rank, as MPI needs the same order
  of collectives everywhere. At the end of backward the engine runs DDP's callback, which waits for the
  reductions and writes the averaged gradients into .grad;
- `no_sync()` skips the reduction (gradients accumulate locally) until the next backward outside it;
- `find_unused_parameters=True` walks the graph after forward and marks the parameters it does not reach
  as ready, so their buckets are not waited for; a parameter unused on every rank keeps .grad None;
- buffers (BatchNorm's running statistics) are broadcast from rank 0 before each forward
  (`broadcast_buffers=True`); batch statistics stay per process (no SyncBatchNorm).
"""
import contextlib
import time

import numpy as np

from ember.autograd import function as _engine
from ember.autograd.grad_mode import is_grad_enabled
from ember.distributed import distributed_c10d as _c10d
from ember.nn.modules.module import Module
from ember.tensor import Tensor

_FIRST_BUCKET_BYTES = 1024 * 1024
_UNFINISHED = ("Expected to have finished reduction in the prior iteration before starting a new one. This error "
               "indicates that your module has parameters that were not used in producing loss. You can enable "
               "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
               "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
               "participate in calculating loss.")


class _Bucket:
    """Parameters whose gradients travel in one all-reduce, packed in one flat array."""

    def __init__(self, params):
        self.params = params
        self.offsets = np.cumsum([0] + [p._data.size for p in params]).tolist()
        self.flat = np.zeros(self.offsets[-1], params[0]._data.dtype)
        self.pending = len(params)
        self.request = None

    def view(self, i):
        return self.flat[self.offsets[i]:self.offsets[i + 1]]


def _buckets(params, cap_bytes):
    buckets, current, size, cap = [], [], 0, _FIRST_BUCKET_BYTES
    for p in reversed(params):
        if current and (size >= cap or p._data.dtype != current[0]._data.dtype):
            buckets.append(_Bucket(current))
            current, size, cap = [], 0, cap_bytes
        current.append(p)
        size += p._data.nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _reached_leaves(outputs):
    """ids of the leaf tensors the autograd graph of `outputs` reaches."""
    found, stack, seen = set(), [], set()

    def collect(x):
        if isinstance(x, Tensor):
            if x.grad_fn is not None:
                stack.append(x.grad_fn)
            elif x._requires_grad:
                found.add(id(x))
        elif isinstance(x, (list, tuple)):
            for y in x:
                collect(y)
        elif isinstance(x, dict):
            for y in x.values():
                collect(y)
    collect(outputs)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for child in node.next:
            if child is None:
                continue
            if child._is_node:
                stack.append(child)
            else:
                found.add(id(child))
    return found


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False, bucket_cap_mb_list=None, batched_grad_copy=False,
                 forward_sync_buffers=None):
        super().__init__()
        group = _c10d._group(process_group)
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        if bucket_cap_mb is not None and bucket_cap_mb <= 0:
            raise ValueError(f"bucket_cap_mb must be positive, got {bucket_cap_mb}")
        self.module = module
        self.process_group = group
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = True if broadcast_buffers is None else bool(broadcast_buffers)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._world = group.size()
        try:
            _c10d._agree(group, "DistributedDataParallel", [p._data for p in params])
        except RuntimeError as e:
            raise RuntimeError("DistributedDataParallel: the ranks' models have different parameters "
                               "(count, shapes or dtypes); every rank must build the same model. " + str(e)) from None
        if init_sync:
            _c10d._broadcast_coalesced(list(module.parameters()) + list(module.buffers()), 0, group)
        self._params = params
        self._buckets = _buckets(params, self.bucket_bytes_cap)
        self._slot = {}
        for b, bucket in enumerate(self._buckets):
            for i, p in enumerate(bucket.params):
                self._slot[id(p)] = (b, i)
        self._pass_open = False
        self._unfinished = False
        self._timing = {}
        self._grad_hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    # -- forward --------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._unfinished:
            raise RuntimeError(_UNFINISHED)
        if self.require_forward_param_sync and self.broadcast_buffers:
            buffers = list(self.module.buffers())
            if buffers:
                _c10d._broadcast_coalesced(buffers, self.process_group._ranks[0], self.process_group)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self._open_pass(out)
        else:
            self._pass_open = False
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside skip the all-reduce; gradients accumulate in .grad until the first
        backward outside, which reduces the accumulated sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # -- one backward pass ------------------------------------------------------------------------
    def _open_pass(self, outputs):
        for bucket in self._buckets:
            bucket.pending = len(bucket.params)
            bucket.request = None
        self._next_launch = 0
        self._callback_queued = False
        self._used = np.ones(len(self._params), np.uint8)
        self._pass_open = True
        self._timing = {"first_launch": None}
        if self.find_unused_parameters:
            reached = _reached_leaves(outputs)
            for k, p in enumerate(self._params):
                if id(p) not in reached:
                    self._used[k] = 0
                    b, i = self._slot[id(p)]
                    self._buckets[b].view(i)[...] = 0
                    self._buckets[b].pending -= 1
            self._launch_ready()

    def _grad_ready(self, param):
        if not self._pass_open:
            return
        if not self._callback_queued:
            _engine._FINAL_CALLBACKS.append(self._finish_pass)
            self._callback_queued = True
        b, i = self._slot[id(param)]
        bucket = self._buckets[b]
        bucket.view(i)[...] = param.grad._data.reshape(-1)
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready()
        else:
            self._progress()

    def _launch_ready(self):
        MPI = _c10d._State.mpi
        while self._next_launch < len(self._buckets) and self._buckets[self._next_launch].pending == 0:
            bucket = self._buckets[self._next_launch]
            bucket.flat /= self._world
            bucket.request = self.process_group._comm.Iallreduce(MPI.IN_PLACE, bucket.flat, op=MPI.SUM)
            if self._timing["first_launch"] is None:
                self._timing["first_launch"] = time.perf_counter()
            self._next_launch += 1

    def _progress(self):
        """MPI moves a non-blocking collective along only inside MPI calls: test the open requests."""
        for bucket in self._buckets[:self._next_launch]:
            bucket.request.Test()  # a finished request turns into MPI.REQUEST_NULL, whose Wait returns at once

    def _finish_pass(self):
        self._pass_open = False
        self._timing["backward_end"] = time.perf_counter()
        if any(bucket.pending for bucket in self._buckets):
            # a parameter produced no gradient: reduce what there is so that every rank stays in step, and
            # refuse the next iteration as PyTorch does
            self._unfinished = True
            for bucket in self._buckets:
                for i, p in enumerate(bucket.params):
                    if p.grad is None:
                        bucket.view(i)[...] = 0
                bucket.pending = 0
        self._launch_ready()
        MPI = _c10d._State.mpi
        for bucket in self._buckets:
            if bucket.request is not None:
                bucket.request.Wait()
        self._timing["reduced"] = time.perf_counter()
        used = self._used
        if self.find_unused_parameters:
            used = np.empty_like(self._used)
            self.process_group._comm.Allreduce(self._used, used, op=MPI.MAX)
        for k, p in enumerate(self._params):
            if not used[k]:
                continue
            b, i = self._slot[id(p)]
            values = self._buckets[b].view(i).reshape(p._data.shape)
            if p.grad is None:
                p.grad = Tensor._make(values.copy())
            else:
                p.grad._data[...] = values
                p.grad._version[0] += 1
