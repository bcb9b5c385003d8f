"""torch.distributed for ember: process groups and collectives on MPI (mpi4py), for data-parallel training.

    python -m ember.distributed.run --nproc-per-node 2 train.py        # starts 2 processes with mpiexec

    import ember.distributed as dist
    dist.init_process_group("gloo")            # "gloo" and "mpi" both mean the MPI engine here
    dist.all_reduce(t, op=dist.ReduceOp.SUM)   # in place, on every rank

mpi4py is imported only by init_process_group, so importing this package costs nothing.
"""
from ember.distributed.distributed_c10d import (  # noqa: F401
    Backend, GroupMember, ProcessGroup, ReduceOp, Work, all_gather, all_gather_into_tensor, all_gather_object,
    all_reduce, barrier, broadcast, broadcast_object_list, destroy_process_group, gather, get_backend,
    get_global_rank, get_group_rank, get_rank, get_world_size, init_process_group, irecv, is_available,
    is_gloo_available, is_initialized, is_mpi_available, is_nccl_available, is_torchelastic_launched, isend,
    new_group, recv, reduce, reduce_scatter_tensor, scatter, send,
)

__all__ = [
    "Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor",
    "all_gather_object", "all_reduce", "barrier", "broadcast", "broadcast_object_list", "destroy_process_group",
    "gather", "get_backend", "get_global_rank", "get_group_rank", "get_rank", "get_world_size",
    "init_process_group", "irecv", "is_available", "is_gloo_available", "is_initialized", "is_mpi_available",
    "is_nccl_available", "is_torchelastic_launched", "isend", "new_group", "recv", "reduce",
    "reduce_scatter_tensor", "scatter", "send",
]
