"""DistributedSampler against torch's (same indices without shuffle; coverage rules with it), DataParallel,
DDP's module wrapping, and the engine's post-accumulate-grad hooks that DDP is built on."""
import numpy as np
import pytest
import torch
import torch.utils.data.distributed as tdist_data

import ember
from ember.utils.data import DistributedSampler


@pytest.mark.parametrize("n", [0, 1, 5, 10, 11, 13])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_indices_equal_torchs(n, replicas, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        theirs = tdist_data.DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=False,
                                               drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("n,replicas", [(10, 2), (11, 3), (7, 4), (100, 3)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_epoch_covers_every_index_once(n, replicas, drop_last):
    for epoch in range(3):
        parts = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=True, seed=3, drop_last=drop_last)
            s.set_epoch(epoch)
            parts.append(list(s))
        seen = [i for p in parts for i in p]
        assert len({len(p) for p in parts}) == 1
        if drop_last:
            assert len(seen) == len(set(seen)) == (n // replicas) * replicas
        else:
            assert set(seen) == set(range(n)) and len(seen) == -(-n // replicas) * replicas


def test_set_epoch_reshuffles_the_same_way_on_every_rank():
    a = DistributedSampler(range(50), num_replicas=2, rank=0, seed=1)
    b = DistributedSampler(range(50), num_replicas=2, rank=1, seed=1)
    first = list(a) + list(b)
    a.set_epoch(1)
    b.set_epoch(1)
    second = list(a) + list(b)
    assert sorted(first) == sorted(second) == list(range(50)) and first != second
    again = DistributedSampler(range(50), num_replicas=2, rank=0, seed=1)
    again.set_epoch(1)
    assert list(again) == second[:25]


def test_bad_rank_message_matches_torch():
    with pytest.raises(ValueError) as ours:
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError) as theirs:
        tdist_data.DistributedSampler(range(4), num_replicas=2, rank=2)
    assert str(ours.value) == str(theirs.value)


def test_sampler_without_a_group_needs_init():
    with pytest.raises(ValueError, match="init_process_group"):
        DistributedSampler(range(4))


def test_data_parallel_is_a_transparent_wrapper_as_on_a_cpu_only_torch():
    lin = ember.nn.Linear(3, 2)
    dp = ember.nn.DataParallel(lin)
    x = ember.randn(4, 3)
    assert np.array_equal(dp(x).detach().numpy(), lin(x).detach().numpy())
    tdp = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    assert list(dp.state_dict()) == list(tdp.state_dict()) == ["module.weight", "module.bias"]
    assert repr(dp) == repr(tdp)
    assert ember.nn.parallel.DataParallel is ember.nn.DataParallel


def _grads_with_hooks(lib):
    lib.manual_seed(0)
    w = lib.nn.Parameter(lib.ones(3, 3) * 0.5)
    b = lib.nn.Parameter(lib.zeros(3))
    x = lib.tensor([[1.0, 2.0, 3.0]])
    seen = []
    hw = w.register_post_accumulate_grad_hook(lambda t: seen.append(("w", t.grad.sum().item())))
    b.register_post_accumulate_grad_hook(lambda t: seen.append(("b", t.grad.sum().item())))
    for _ in range(2):  # the second pass accumulates: the hook sees the sum
        ((x @ w + b).tanh() @ w).sum().backward()
    hw.remove()
    ((x @ w + b).sum()).backward()
    return seen, w.grad.numpy() if lib is ember else w.grad.detach().numpy()


def test_post_accumulate_grad_hooks_match_torch():
    ours, g_ours = _grads_with_hooks(ember)
    theirs, g_theirs = _grads_with_hooks(torch)
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    np.testing.assert_allclose([v for _, v in ours], [v for _, v in theirs], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-5, atol=1e-6)
    from ember.autograd import function
    assert function._EAGER_LEAVES[0] >= 0


def test_post_accumulate_grad_hook_refuses_non_leaves():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(2).register_post_accumulate_grad_hook(lambda t: None)


def test_dead_leaves_stop_the_eager_walk():
    import gc
    from ember.autograd import function
    before = function._EAGER_LEAVES[0]
    p = ember.ones(2, requires_grad=True)
    p.register_post_accumulate_grad_hook(lambda t: None)
    assert function._EAGER_LEAVES[0] == before + 1
    del p
    gc.collect()
    assert function._EAGER_LEAVES[0] == before
