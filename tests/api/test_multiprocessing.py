"""ember.multiprocessing: tensors shared between processes, spawn() and its error reporting."""
import multiprocessing

import numpy as np
import pytest

import ember
import ember.multiprocessing as mp
import mp_workers


def test_share_memory_and_is_shared():
    t = ember.arange(6.0).reshape(2, 3)
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared() and t[1].is_shared()
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    t.share_memory_()                   # a second call keeps the same memory
    assert t.is_shared()
    net = ember.nn.Linear(2, 2)
    assert net.share_memory() is net and all(p.is_shared() for p in net.parameters())


def test_spawn_two_processes_write_into_a_shared_tensor():
    shared = ember.zeros(2, 3).share_memory_()
    assert mp.spawn(mp_workers.write_row, args=(shared,), nprocs=2) is None
    assert shared.tolist() == [[1.0] * 3, [2.0] * 3]


def test_spawn_reports_the_childs_exception():
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.spawn(mp_workers.fail_in_one, nprocs=2)
    assert "-- Process 1 terminated with the following error:" in str(info.value)
    assert "ValueError: boom in child 1" in str(info.value)
    assert info.value.error_index == 1


def test_start_processes_fork_exit_code_and_context():
    context = mp.start_processes(mp_workers.exit_with_code, nprocs=1, join=False, start_method="fork")
    assert isinstance(context, mp.ProcessContext)
    with pytest.raises(mp.ProcessExitedException, match="process 0 terminated with exit code 3"):
        while not context.join():
            pass


def test_queue_moves_tensors_through_shared_memory():
    ctx = mp.get_context("spawn")
    inbox, outbox = ctx.Queue(), ctx.Queue()
    t = ember.tensor([1.0, 2.0])
    p = ctx.Process(target=mp_workers.add_one_from_queue, args=(inbox, outbox))
    p.start()
    inbox.put(t)
    back = outbox.get(timeout=60)
    inbox.put("received")
    p.join(60)
    assert p.exitcode == 0
    assert t.is_shared() and t.tolist() == [2.0, 3.0]       # the child's in-place add is seen here
    assert back.tolist() == [7.0, 7.0] and back.is_shared()


def test_hogwild_model_through_spawn():
    net = ember.nn.Linear(2, 1)
    before = [p.detach().clone() for p in net.parameters()]
    net.share_memory()
    mp.spawn(mp_workers.hogwild_step, args=(net,), nprocs=1)
    for p, b in zip(net.parameters(), before):
        np.testing.assert_allclose(p.detach().numpy(), b.numpy() + 1.0)


def test_namespace_is_multiprocessing_plus_torch_names():
    assert mp.Process is multiprocessing.Process and mp.Queue is multiprocessing.Queue
    assert mp.get_context is multiprocessing.get_context
    assert mp.get_sharing_strategy() == "file_descriptor"


def test_non_leaf_requiring_grad_is_refused():
    x = ember.ones(2, requires_grad=True) * 2
    ctx = mp.get_context("spawn")
    q = ctx.SimpleQueue()
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        q.put(x)
