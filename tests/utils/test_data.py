"""ember.utils.data against torch.utils.data, single-process: datasets, samplers, collation, DataLoader.

The same data (NumPy) is wrapped by both libraries and the batches are compared structurally (container
types, tensor dtypes, shapes, values; see data_helpers.canon). Random orders cannot match torch's (different
generators), so for them the properties are checked instead: reproducible with a seeded generator, a new
permutation every epoch, every index exactly once. Error cases raise the same exception type as torch, and,
where ember copies torch's wording, the same message.

With EMBER_TEST_LIB=torch the file compares torch with itself (checks the tests).
"""
import itertools
import warnings

import numpy as np
import pytest
import torch

from data_helpers import (LIB, LIB_NAME, Point, GetitemsDataset, IndexDataset, SampleDataset, arrays, batches,
                          canon, data, flat_ints, range_iterable, tdata)
from torch_compare import assert_same_exception

LIBS = {"lib": (LIB, data), "torch": (torch, tdata)}


def tensor_dataset(lib, n=10, seed=0):
    x, y = arrays(n, seed)
    d = data if lib is LIB else tdata
    return d.TensorDataset(lib.from_numpy(x.copy()), lib.from_numpy(y.copy()))


def both(make):
    """make(lib, data_module) for the library under test and for torch."""
    return make(LIB, data), make(torch, tdata)


def assert_same_batches(make):
    ours, ref = both(make)
    assert batches(ours) == batches(ref)


# ---------------------------------------------------------------------------------------
# Batching of a TensorDataset
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size,drop_last", list(itertools.product([1, 3, 4, 10, 11], [False, True])))
def test_tensor_dataset_batches(batch_size, drop_last):
    def make(lib, d):
        return d.DataLoader(tensor_dataset(lib), batch_size=batch_size, drop_last=drop_last)

    ours, ref = both(make)
    assert len(ours) == len(ref)
    got, want = batches(ours), batches(ref)
    assert len(got) == len(ref)
    assert got == want


def test_default_batch_size_is_one_and_order_sequential():
    assert_same_batches(lambda lib, d: d.DataLoader(tensor_dataset(lib, 5)))


def test_batch_size_none_disables_batching():
    def make(lib, d):
        return d.DataLoader(tensor_dataset(lib, 4), batch_size=None)

    ours, ref = both(make)
    assert len(ours) == len(ref) == 4
    assert batches(ours) == batches(ref)
    assert ours.batch_sampler is None and ours.batch_size is None


@pytest.mark.parametrize("kind", ["int", "float", "np_f32", "np_scalar_i32", "dict", "nested", "str", "tuple"])
def test_batch_size_none_converts_samples(kind):
    assert_same_batches(lambda lib, d: d.DataLoader(SampleDataset(lib.__name__, kind, 3), batch_size=None))


# ---------------------------------------------------------------------------------------
# default_collate over every kind of sample
# ---------------------------------------------------------------------------------------

KINDS = ["int", "float", "bool", "str", "bytes", "np_f32", "np_i32", "np_bool", "np_scalar_f32", "np_scalar_i32",
         "np_scalar_f64", "tensor", "tuple", "list", "dict", "nested", "namedtuple"]


@pytest.mark.parametrize("kind", KINDS)
def test_loader_collates_like_torch(kind):
    assert_same_batches(lambda lib, d: d.DataLoader(SampleDataset(lib.__name__, kind, 7), batch_size=3))


@pytest.mark.parametrize("kind", KINDS)
def test_default_collate_direct(kind):
    ours = data.default_collate([SampleDataset(LIB_NAME, kind)[i] for i in range(4)])
    ref = tdata.default_collate([SampleDataset("torch", kind)[i] for i in range(4)])
    assert canon(ours) == canon(ref)


def test_default_collate_dtypes():
    c = data.default_collate
    assert str(c([1, 2]).dtype) == "torch.int64"
    assert str(c([1.0, 2.5]).dtype) == "torch.float64"
    assert str(c([True, False]).dtype) == "torch.bool"
    assert str(c([np.float32(1), np.float32(2)]).dtype) == "torch.float32"
    assert str(c([np.arange(3, dtype=np.int16)] * 2).dtype) == "torch.int16"
    assert c(["a", "b"]) == ["a", "b"]
    out = c([Point(1, 2.0), Point(3, 4.0)])
    assert type(out) is Point and str(out.label.dtype) == "torch.float64"


@pytest.mark.parametrize("kind", ["int", "np_f32", "np_scalar_f64", "dict", "nested", "tuple", "namedtuple", "str"])
def test_default_convert_direct(kind):
    ours = data.default_convert(SampleDataset(LIB_NAME, kind)[2])
    ref = tdata.default_convert(SampleDataset("torch", kind)[2])
    assert canon(ours) == canon(ref)


def test_default_convert_keeps_string_arrays():
    a = np.array(["x", "y"])
    assert data.default_convert(a) is a


def test_collate_does_not_share_memory_with_samples():
    x = LIB.zeros(2)
    out = data.default_collate([x, x])
    out[0, 0] = 5.0
    assert float(x[0]) == 0.0


def test_custom_collate_fn():
    def make(lib, d):
        return d.DataLoader(tensor_dataset(lib, 7), batch_size=3, collate_fn=lambda b: [int(s[1]) for s in b])

    ours, ref = both(make)
    assert list(ours) == list(ref) == [[0, 1, 2], [3, 4, 5], [6]]


def test_identity_collate_keeps_samples():
    assert_same_batches(lambda lib, d: d.DataLoader(SampleDataset(lib.__name__, "dict", 5), batch_size=2,
                                                    collate_fn=lambda b: b))


def test_getitems_is_used_for_batches():
    assert_same_batches(lambda lib, d: d.DataLoader(GetitemsDataset(5), batch_size=2,
                                                    collate_fn=lambda b: b))


# ---------------------------------------------------------------------------------------
# Samplers
# ---------------------------------------------------------------------------------------

def test_sequential_and_batch_sampler():
    for bs, drop in itertools.product([1, 2, 3, 7], [False, True]):
        ours = data.BatchSampler(data.SequentialSampler(range(7)), bs, drop)
        ref = tdata.BatchSampler(tdata.SequentialSampler(range(7)), bs, drop)
        assert list(ours) == list(ref) and len(ours) == len(ref)
    assert list(data.BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]  # any iterable of indices


def test_loader_with_batch_sampler():
    def make(lib, d):
        bs = d.BatchSampler(d.SequentialSampler(range(10)), batch_size=4, drop_last=True)
        return d.DataLoader(tensor_dataset(lib), batch_sampler=bs)

    ours, ref = both(make)
    assert len(ours) == len(ref) == 2
    assert batches(ours) == batches(ref)


def test_loader_with_list_batch_sampler():
    assert_same_batches(lambda lib, d: d.DataLoader(tensor_dataset(lib), batch_sampler=[[3, 1], [0], [9, 8, 7]]))


def test_loader_with_index_list_sampler():
    assert_same_batches(lambda lib, d: d.DataLoader(tensor_dataset(lib), sampler=[5, 2, 2, 8], batch_size=3))


def test_subset_random_sampler_covers_its_indices():
    idx = [1, 4, 5, 9, 2]
    g = LIB.Generator().manual_seed(3)
    s = data.SubsetRandomSampler(idx, generator=g)
    assert len(s) == 5
    orders = [list(s) for _ in range(4)]
    assert all(sorted(o) == sorted(idx) for o in orders)
    assert len({tuple(o) for o in orders}) > 1
    loader = data.DataLoader(IndexDataset(10), sampler=data.SubsetRandomSampler(idx), batch_size=2)
    assert len(loader) == 3 and sorted(flat_ints(loader)) == sorted(idx)


def test_random_sampler_without_replacement():
    g = LIB.Generator().manual_seed(0)
    s = data.RandomSampler(range(10), generator=g)
    assert len(s) == 10 and sorted(s) == list(range(10))
    # more samples than items: whole permutations, then part of one (torch's rule)
    s = data.RandomSampler(range(4), num_samples=10, generator=g)
    out = list(s)
    assert len(out) == len(s) == 10
    assert sorted(out[:4]) == sorted(out[4:8]) == [0, 1, 2, 3] and len(set(out[8:])) == 2


def test_random_sampler_with_replacement():
    g = LIB.Generator().manual_seed(0)
    s = data.RandomSampler(range(5), replacement=True, num_samples=70, generator=g)
    out = list(s)
    assert len(out) == len(s) == 70 and set(out) <= set(range(5)) and len(set(out)) > 1


def test_random_sampler_reproducible_from_default_generator():
    s = data.RandomSampler(range(20))
    LIB.manual_seed(5)
    a = list(s)
    b = list(s)
    LIB.manual_seed(5)
    assert list(s) == a and a != b


def test_weighted_random_sampler():
    w = [0.0, 1.0, 0.0, 3.0, 2.0]
    g = LIB.Generator().manual_seed(1)
    s = data.WeightedRandomSampler(w, 200, generator=g)
    out = list(s)
    assert len(out) == len(s) == 200 and set(out) <= {1, 3, 4}
    assert out.count(3) > out.count(1)
    s = data.WeightedRandomSampler(w, 3, replacement=False, generator=g)
    assert sorted(s) == [1, 3, 4]
    ref = tdata.WeightedRandomSampler(w, 200)
    assert str(s.weights.dtype) == str(ref.weights.dtype) == "torch.float64"


def test_sampler_base_has_no_len():
    class S(data.Sampler):
        def __iter__(self):
            return iter([1, 2])

    assert list(S()) == [1, 2]
    with pytest.raises(TypeError):
        len(S())


# ---------------------------------------------------------------------------------------
# Shuffling and generators
# ---------------------------------------------------------------------------------------

def shuffled(seed, n=50, epochs=1, **kw):
    g = LIB.Generator().manual_seed(seed)
    loader = data.DataLoader(IndexDataset(n), batch_size=7, shuffle=True, generator=g, **kw)
    return [flat_ints(loader) for _ in range(epochs)]


def test_shuffle_is_reproducible_with_a_seeded_generator():
    assert shuffled(0, epochs=3) == shuffled(0, epochs=3)
    assert shuffled(0) != shuffled(1)


def test_shuffle_each_epoch_is_a_new_permutation_covering_everything():
    epochs = shuffled(7, epochs=4)
    for order in epochs:
        assert sorted(order) == list(range(50))
    assert len({tuple(o) for o in epochs}) == 4
    assert epochs[0] != list(range(50))


def test_shuffle_without_generator_follows_manual_seed():
    loader = data.DataLoader(IndexDataset(30), batch_size=4, shuffle=True)
    LIB.manual_seed(11)
    a = flat_ints(loader)
    LIB.manual_seed(11)
    assert flat_ints(loader) == a and sorted(a) == list(range(30))


def test_shuffle_with_drop_last():
    g = LIB.Generator().manual_seed(0)
    loader = data.DataLoader(IndexDataset(10), batch_size=3, shuffle=True, drop_last=True, generator=g)
    got = [b.tolist() for b in loader]
    assert len(loader) == len(got) == 3 and all(len(b) == 3 for b in got)
    assert len(set(sum(got, []))) == 9


def test_shuffle_false_is_sequential():
    assert flat_ints(data.DataLoader(IndexDataset(9), batch_size=4, shuffle=False)) == list(range(9))


# ---------------------------------------------------------------------------------------
# len(DataLoader)
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (1, 5, False), (1, 5, True),
                                      (0, 2, False)])
def test_len(n, bs, drop):
    ours = data.DataLoader(IndexDataset(n), batch_size=bs, drop_last=drop)
    ref = tdata.DataLoader(IndexDataset(n), batch_size=bs, drop_last=drop)
    assert len(ours) == len(ref) == len(list(ref)) == len(list(ours))


def test_len_iterable_dataset():
    for bs, drop in [(None, False), (3, False), (3, True), (1, False)]:
        ours = data.DataLoader(range_iterable(LIB, 0, 10), batch_size=bs, drop_last=drop)
        ref = tdata.DataLoader(range_iterable(torch, 0, 10), batch_size=bs, drop_last=drop)
        assert len(ours) == len(ref)


# ---------------------------------------------------------------------------------------
# Iterable datasets
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("bs,drop", [(1, False), (3, False), (3, True), (None, False)])
def test_iterable_dataset_batches(bs, drop):
    assert_same_batches(lambda lib, d: d.DataLoader(range_iterable(lib, 3, 13), batch_size=bs, drop_last=drop))


def test_iterable_dataset_len_warning():
    def run(lib, d):
        loader = d.DataLoader(range_iterable(lib, 0, 6), batch_size=None)
        assert len(loader) == 6
        loader.dataset.end = 8  # grows after len() was taken
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            list(loader)
        return [str(x.message) for x in w if "Length of IterableDataset" in str(x.message)]

    ours, ref = both(run)
    assert len(ours) == len(ref) == 2


def test_chain_dataset_and_add():
    ours = range_iterable(LIB, 0, 3) + range_iterable(LIB, 10, 12)
    ref = range_iterable(torch, 0, 3) + range_iterable(torch, 10, 12)
    assert type(ours).__name__ == type(ref).__name__ == "ChainDataset"
    assert list(ours) == list(ref) == [0, 1, 2, 10, 11] and len(ours) == len(ref)


# ---------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------

def test_tensor_dataset_indexing():
    ours, ref = tensor_dataset(LIB), tensor_dataset(torch)
    assert len(ours) == len(ref) == 10
    for i in [0, 3, -1, slice(2, 5)]:
        assert canon(ours[i]) == canon(ref[i])
    assert canon(ours[[1, 4]]) == canon(ref[[1, 4]])
    assert len(ours.tensors) == 2


def test_tensor_dataset_subclass_getitem_is_honoured():
    def make(lib, d):
        class Plus(d.TensorDataset):
            def __getitem__(self, i):
                x, y = super().__getitem__(i)
                return x + 1, y * 10

        x, y = arrays(7)
        return d.DataLoader(Plus(lib.from_numpy(x.copy()), lib.from_numpy(y.copy())), batch_size=3)

    assert_same_batches(make)


def test_tensor_dataset_batches_keep_autograd_history():
    x0 = np.arange(8, dtype=np.float32).reshape(4, 2)
    grads = []
    for lib, d in ((LIB, data), (torch, tdata)):
        x = lib.tensor(x0, requires_grad=True)
        (b,) = next(iter(d.DataLoader(d.TensorDataset(x * 2), batch_sampler=[[3, 1]])))
        assert b.requires_grad
        (b * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        grads.append(x.grad.numpy().tolist())
    assert grads[0] == grads[1]


def test_subset_and_concat_indexing():
    a, b = both(lambda lib, d: d.Subset(tensor_dataset(lib), [7, 2, 5]))
    assert len(a) == len(b) == 3
    assert [canon(a[i]) for i in range(3)] == [canon(b[i]) for i in range(3)]
    assert canon(a.__getitems__([0, 2])) == canon(b.__getitems__([0, 2]))

    def concat(lib, d):
        return d.ConcatDataset([tensor_dataset(lib, 4, 0), tensor_dataset(lib, 3, 1), tensor_dataset(lib, 5, 2)])

    a, b = both(concat)
    assert len(a) == len(b) == 12 and a.cumulative_sizes == b.cumulative_sizes == [4, 7, 12]
    for i in list(range(12)) + [-1, -5, -12]:
        assert canon(a[i]) == canon(b[i])
    assert batches(data.DataLoader(a, batch_size=5)) == batches(tdata.DataLoader(b, batch_size=5))


def test_dataset_add_is_concat():
    a, b = both(lambda lib, d: tensor_dataset(lib, 3) + tensor_dataset(lib, 2, 1))
    assert type(a).__name__ == "ConcatDataset" and len(a) == len(b) == 5
    assert [canon(a[i]) for i in range(5)] == [canon(b[i]) for i in range(5)]


def test_stack_dataset():
    for kw in (False, True):
        def make(lib, d):
            x, y = tensor_dataset(lib, 4), tensor_dataset(lib, 4, 1)
            return d.StackDataset(a=x, b=y) if kw else d.StackDataset(x, y)

        a, b = both(make)
        assert len(a) == len(b) == 4
        assert canon(a[2]) == canon(b[2]) and canon(a.__getitems__([0, 3])) == canon(b.__getitems__([0, 3]))


def test_subset_of_dataset_with_getitems():
    s = data.Subset(GetitemsDataset(10), [4, 8])
    assert s.__getitems__([1, 0]) == [("batched", 8), ("batched", 4)]


# ---------------------------------------------------------------------------------------
# random_split
# ---------------------------------------------------------------------------------------

SPLITS = [(10, [3, 7]), (10, [0.3, 0.7]), (10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]),
          (5, [0.2] * 5), (13, [0.25, 0.25, 0.25, 0.25]), (3, [0.5, 0.5]), (100, [0.8, 0.1, 0.1]), (0, [0, 0]),
          (9, [1 / 3, 1 / 3, 1 / 3]), (6, [0.0, 1.0])]


@pytest.mark.parametrize("n,lengths", SPLITS)
def test_random_split_sizes_match_torch(n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = data.random_split(range(n), lengths, generator=LIB.Generator().manual_seed(0))
        ref = tdata.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in ref]
    items = [x for s in ours for x in (s[i] for i in range(len(s)))]
    assert sorted(items) == list(range(n))  # disjoint and covering
    assert all(type(s).__name__ == "Subset" for s in ours)


def test_random_split_reproducible_and_random():
    def split(seed):
        parts = data.random_split(range(20), [5, 15], generator=LIB.Generator().manual_seed(seed))
        return [list(p.indices) for p in parts]

    assert split(1) == split(1) and split(1) != split(2)
    LIB.manual_seed(3)
    a = [list(p.indices) for p in data.random_split(range(20), [0.5, 0.5])]
    LIB.manual_seed(3)
    assert [list(p.indices) for p in data.random_split(range(20), [0.5, 0.5])] == a


def test_random_split_zero_length_warns_like_torch():
    for d, gen in ((data, LIB.Generator()), (tdata, torch.Generator())):
        with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
            d.random_split(range(3), [0.1, 0.1, 0.8], generator=gen)


# ---------------------------------------------------------------------------------------
# Errors: same exception type as torch (and the same message where ember copies torch's wording)
# ---------------------------------------------------------------------------------------

class _Iter:
    pass


def _iterable(d):
    class It(d.IterableDataset):
        def __iter__(self):
            return iter(range(3))
    return It()


class _OnlyGetitem:
    pass


ERRORS = {
    "num_workers<0": lambda lib, d: d.DataLoader(IndexDataset(4), num_workers=-1),
    "timeout<0": lambda lib, d: d.DataLoader(IndexDataset(4), timeout=-1),
    "prefetch_without_workers": lambda lib, d: d.DataLoader(IndexDataset(4), prefetch_factor=2),
    "prefetch<0": lambda lib, d: d.DataLoader(IndexDataset(4), num_workers=1, prefetch_factor=-1),
    "persistent_without_workers": lambda lib, d: d.DataLoader(IndexDataset(4), persistent_workers=True),
    "batch_sampler+batch_size": lambda lib, d: d.DataLoader(IndexDataset(4), batch_size=2, batch_sampler=[[0]]),
    "batch_sampler+shuffle": lambda lib, d: d.DataLoader(IndexDataset(4), shuffle=True, batch_sampler=[[0]]),
    "batch_sampler+sampler": lambda lib, d: d.DataLoader(IndexDataset(4), sampler=[0], batch_sampler=[[0]]),
    "batch_sampler+drop_last": lambda lib, d: d.DataLoader(IndexDataset(4), drop_last=True, batch_sampler=[[0]]),
    "shuffle+sampler": lambda lib, d: d.DataLoader(IndexDataset(4), shuffle=True, sampler=[0, 1]),
    "batch_size_none+drop_last": lambda lib, d: d.DataLoader(IndexDataset(4), batch_size=None, drop_last=True),
    "iterable+shuffle": lambda lib, d: d.DataLoader(_iterable(d), shuffle=True),
    "iterable+sampler": lambda lib, d: d.DataLoader(_iterable(d), sampler=[0]),
    "iterable+batch_sampler": lambda lib, d: d.DataLoader(_iterable(d), batch_sampler=[[0]]),
    "context_without_workers": lambda lib, d: d.DataLoader(IndexDataset(4), multiprocessing_context="fork"),
    "bad_context_name": lambda lib, d: d.DataLoader(IndexDataset(4), num_workers=1, multiprocessing_context="nope"),
    "bad_context_type": lambda lib, d: d.DataLoader(IndexDataset(4), num_workers=1, multiprocessing_context=3),
    "set_batch_size_after_init": lambda lib, d: setattr(d.DataLoader(IndexDataset(4)), "batch_size", 3),
    "set_dataset_after_init": lambda lib, d: setattr(d.DataLoader(IndexDataset(4)), "dataset", None),
    "timeout_without_workers_at_iter": lambda lib, d: iter(d.DataLoader(IndexDataset(4), timeout=1)),
    "len_of_iterable_without_len": lambda lib, d: len(d.DataLoader(range_iterable(lib, 0, 3, with_len=False))),
    "batch_sampler_size_0": lambda lib, d: d.BatchSampler(range(3), 0, False),
    "batch_sampler_size_bool": lambda lib, d: d.BatchSampler(range(3), True, False),
    "batch_sampler_drop_last_int": lambda lib, d: d.BatchSampler(range(3), 2, 1),
    "random_sampler_replacement_int": lambda lib, d: d.RandomSampler(range(3), replacement=1),
    "random_sampler_num_samples_0": lambda lib, d: d.RandomSampler(range(3), num_samples=0),
    "random_sampler_empty": lambda lib, d: d.RandomSampler([]),
    "weighted_num_samples_0": lambda lib, d: d.WeightedRandomSampler([1.0, 2.0], 0),
    "weighted_2d": lambda lib, d: d.WeightedRandomSampler([[1.0, 2.0]], 2),
    "weighted_replacement_int": lambda lib, d: d.WeightedRandomSampler([1.0], 1, replacement=1),
    "tensor_dataset_size_mismatch": lambda lib, d: d.TensorDataset(lib.zeros(3, 2), lib.zeros(4)),
    "concat_empty": lambda lib, d: d.ConcatDataset([]),
    "concat_iterable": lambda lib, d: d.ConcatDataset([_iterable(d)]),
    "concat_index_too_negative": lambda lib, d: d.ConcatDataset([range(3)])[-4],
    "concat_index_too_large": lambda lib, d: d.ConcatDataset([range(3), range(2)])[5],
    "stack_dataset_mismatch": lambda lib, d: d.StackDataset(range(3), range(4)),
    "stack_dataset_empty": lambda lib, d: d.StackDataset(),
    "stack_dataset_both": lambda lib, d: d.StackDataset(range(3), b=range(3)),
    "random_split_bad_sum": lambda lib, d: d.random_split(range(10), [3, 3]),
    "random_split_bad_fractions": lambda lib, d: d.random_split(range(10), [0.5, 0.6]),
    "random_split_fraction_out_of_range": lambda lib, d: d.random_split(range(10), [1.5, -0.5]),
    "collate_object": lambda lib, d: d.default_collate([object(), object()]),
    "collate_ragged_lists": lambda lib, d: d.default_collate([[1, 2], [3]]),
    "collate_ragged_tensors": lambda lib, d: d.default_collate([lib.zeros(2), lib.zeros(3)]),
    "collate_string_arrays": lambda lib, d: d.default_collate([np.array(["a"]), np.array(["b"])]),
    "chain_of_map_dataset": lambda lib, d: list(d.ChainDataset([range(3)])),
    "dataset_getitem_not_implemented": lambda lib, d: d.Dataset()[0],
    "index_out_of_range_in_loader": lambda lib, d: list(d.DataLoader(tensor_dataset(lib, 3), sampler=[0, 5])),
}

# errors whose message ember copies from torch verbatim
SAME_MESSAGE = {"num_workers<0", "timeout<0", "prefetch<0", "persistent_without_workers", "batch_sampler+batch_size",
                "batch_sampler+shuffle", "batch_sampler+sampler", "batch_sampler+drop_last", "shuffle+sampler",
                "batch_size_none+drop_last", "iterable+shuffle", "context_without_workers", "bad_context_name",
                "set_batch_size_after_init", "set_dataset_after_init", "timeout_without_workers_at_iter",
                "batch_sampler_size_0", "batch_sampler_drop_last_int", "random_sampler_replacement_int",
                "random_sampler_num_samples_0", "random_sampler_empty", "weighted_num_samples_0", "weighted_2d",
                "tensor_dataset_size_mismatch", "concat_empty", "concat_iterable", "concat_index_too_negative",
                "stack_dataset_mismatch", "stack_dataset_empty", "random_split_bad_sum",
                "random_split_fraction_out_of_range", "collate_object", "collate_ragged_lists",
                "chain_of_map_dataset", "dataset_getitem_not_implemented", "prefetch_without_workers"}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    fn = ERRORS[name]
    exc, ref_exc = assert_same_exception(lambda: fn(LIB, data), lambda: fn(torch, tdata), name=name)
    assert type(exc) is type(ref_exc) or issubclass(type(ref_exc), type(exc))
    if name in SAME_MESSAGE:
        assert str(exc).replace("ember", "torch") == str(ref_exc)


def test_subset_overriding_only_getitem():
    for d in (data, tdata):
        class Bad(d.Subset):
            def __getitem__(self, idx):
                return 0
        with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
            Bad(range(3), [0])


def test_pin_memory_is_accepted_with_torchs_warning():
    def run(lib, d):
        with pytest.warns(UserWarning, match="no accelerator is found"):
            return batches(d.DataLoader(tensor_dataset(lib, 4), batch_size=2, pin_memory=True))

    ours, ref = both(run)
    assert ours == ref


def test_public_names():
    for name in ["DataLoader", "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
                 "ChainDataset", "StackDataset", "random_split", "Sampler", "SequentialSampler", "RandomSampler",
                 "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "get_worker_info",
                 "default_collate", "default_convert"]:
        assert hasattr(data, name) and hasattr(tdata, name), name
    assert data.get_worker_info() is None
    assert LIB.utils.data is data
    assert data.dataloader.default_collate is data.default_collate
    assert data._utils.collate.default_collate is data.default_collate
