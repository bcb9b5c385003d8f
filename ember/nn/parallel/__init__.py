"""torch.nn.parallel for ember: DistributedDataParallel (over ember.distributed) and DataParallel."""
from ember.nn.parallel.data_parallel import DataParallel  # noqa: F401
from ember.nn.parallel.distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DataParallel", "DistributedDataParallel"]
