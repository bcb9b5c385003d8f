"""torch.utils.data for ember: datasets, samplers and the DataLoader (with worker processes).

    from ember.utils.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, num_workers=2)
"""
from ember.utils.data.dataloader import (  # noqa: F401
    _DatasetKind, DataLoader, default_collate, default_convert, get_worker_info,
)
from ember.utils.data.dataset import (  # noqa: F401
    ChainDataset, ConcatDataset, Dataset, IterableDataset, random_split, StackDataset, Subset, TensorDataset,
)
from ember.utils.data.distributed import DistributedSampler  # noqa: F401
from ember.utils.data.sampler import (  # noqa: F401
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset", "RandomSampler",
    "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset",
    "WeightedRandomSampler", "_DatasetKind", "default_collate", "default_convert", "get_worker_info",
    "random_split",
]
