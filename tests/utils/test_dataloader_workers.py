"""DataLoader with worker processes (num_workers > 0).

Checked: the batches equal single-process loading (in order, every sample kind, iterable datasets, shuffles
with a seeded generator); per-worker seeding (seed = base_seed + worker id, reproducible from the loader's
generator, NumPy's and Python's global generators differ per worker); worker_init_fn and get_worker_info;
errors in a worker re-raised with the worker's traceback; a dead worker and a timeout reported; no child
process and no /dev/shm file left behind after exhaustion, deletion, an exception or a KeyboardInterrupt in
the loop body, a Ctrl-C to the process group (also one landing just after a lock was taken, a second one
during the shutdown, one while the workers start, and one reaching a worker the moment it exists), or the
main process being killed; persistent workers reused across epochs; 'spawn' works; and two workers really
are faster than none on CPU-bound samples.

Every test runs under the `no_leaks` fixture: the test's child processes and shm files must be gone at its
end. With EMBER_TEST_LIB=torch the torch-compatible parts run against torch (checks the tests).
"""
import contextlib
import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

import data_helpers as H
from data_helpers import (LIB, LIB_NAME, BurnDataset, FailingDataset, ImageDataset, IndexDataset, OffsetDataset,
                          PidDataset, SampleDataset, SeedDataset, SlowDataset, SuicideDataset, TwoArgError, batches,
                          child_pids, data, flat_ints, range_iterable, shm_files, tdata)

IS_EMBER = LIB_NAME == "ember"


def wait_until(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create:UserWarning")


@pytest.fixture(autouse=True)
def no_leaks():
    # no gc.collect(): the workers must go when the last reference to their iterator does, not at some
    # later garbage collection
    before = child_pids()
    yield
    if not IS_EMBER:
        gc.collect()  # torch's re-raised worker exceptions sit in a traceback cycle that keeps the iterator
    # shutdown joins the workers synchronously; allow a moment only for torch's own (asynchronous) paths
    assert wait_until(lambda: not (child_pids() - before), 5.0), f"worker processes left: {child_pids() - before}"
    assert not multiprocessing.active_children()
    assert shm_files() == []


def loader(dataset, **kw):
    return data.DataLoader(dataset, **kw)


# ---------------------------------------------------------------------------------------
# Same batches as single-process loading
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("num_workers,prefetch", [(1, 2), (2, 2), (3, 1), (2, 4)])
def test_same_batches_as_single_process(num_workers, prefetch):
    ds = ImageDataset(37)
    ref = batches(loader(ds, batch_size=4))
    got = batches(loader(ds, batch_size=4, num_workers=num_workers, prefetch_factor=prefetch))
    assert got == ref and len(got) == 10


@pytest.mark.parametrize("kind", ["int", "float", "str", "np_f32", "np_scalar_i32", "tensor", "tuple", "dict",
                                  "nested", "namedtuple", "bool"])
def test_sample_kinds_through_workers(kind):
    ds = SampleDataset(LIB_NAME, kind, 9)
    assert batches(loader(ds, batch_size=4, num_workers=2)) == batches(loader(ds, batch_size=4))


def test_drop_last_batch_size_none_and_custom_collate():
    ds = ImageDataset(10)
    assert batches(loader(ds, batch_size=3, drop_last=True, num_workers=2)) == batches(loader(ds, batch_size=3,
                                                                                              drop_last=True))
    assert batches(loader(ds, batch_size=None, num_workers=2)) == batches(loader(ds, batch_size=None))
    collate = np.stack  # numpy arrays and plain Python lists come back as they were made
    got = list(loader(IndexDataset(7), batch_size=3, num_workers=2, collate_fn=collate))
    assert [g.tolist() for g in got] == [[0, 1, 2], [3, 4, 5], [6]] and all(isinstance(g, np.ndarray) for g in got)


def test_results_in_order_when_workers_finish_out_of_order():
    ds = SlowDataset(16, {0: 0.3, 1: 0.2, 5: 0.15})
    assert flat_ints(loader(ds, batch_size=2, num_workers=3)) == list(range(16))


def test_in_order_false_delivers_everything():
    ds = SlowDataset(16, {0: 0.2})
    got = flat_ints(loader(ds, batch_size=2, num_workers=2, in_order=False))
    assert sorted(got) == list(range(16))


def test_shuffle_with_generator_same_as_single_process():
    def order(nw, seed):
        g = LIB.Generator().manual_seed(seed)
        ld = loader(IndexDataset(40), batch_size=6, shuffle=True, generator=g, num_workers=nw)
        return [flat_ints(ld) for _ in range(2)]

    two = order(2, 4)
    assert sorted(two[0]) == list(range(40)) and two[0] != two[1]
    assert two == order(2, 4)
    if IS_EMBER:  # torch's worker iterator draws its seeds in the same order too, but test only ours
        assert two == order(0, 4)


def test_len_and_iterator_len():
    ld = loader(IndexDataset(10), batch_size=3, num_workers=2)
    it = iter(ld)
    assert len(ld) == len(it) == 4
    assert len(list(it)) == 4


# ---------------------------------------------------------------------------------------
# Iterable datasets
# ---------------------------------------------------------------------------------------

def test_iterable_dataset_sharded_with_get_worker_info_matches_torch():
    ours = flat_ints(data.DataLoader(range_iterable(LIB, 3, 13), batch_size=2, num_workers=2))
    ref = flat_ints(tdata.DataLoader(range_iterable(torch, 3, 13), batch_size=2, num_workers=2))
    assert ours == ref  # worker 0 has 3..7, worker 1 has 8..12; batches alternate between them
    assert sorted(ours) == list(range(3, 13))


def test_iterable_dataset_unsharded_gives_duplicates():
    got = flat_ints(loader(range_iterable(LIB, 0, 4, shard=False), batch_size=None, num_workers=2))
    assert got == [0, 0, 1, 1, 2, 2, 3, 3]


def test_iterable_dataset_uneven_workers():
    # 3 workers over 7 items: shards of 3, 3, 1; exhausted workers drop out, the others continue
    got = flat_ints(loader(range_iterable(LIB, 0, 7), batch_size=2, num_workers=3))
    assert sorted(got) == list(range(7))
    got = flat_ints(loader(range_iterable(LIB, 0, 7), batch_size=2, drop_last=True, num_workers=3))
    assert sorted(got) == [0, 1, 3, 4]


# ---------------------------------------------------------------------------------------
# Seeds, get_worker_info, worker_init_fn
# ---------------------------------------------------------------------------------------

def seed_records(generator=None, num_workers=2, epochs=1):
    ld = loader(SeedDataset(8), batch_size=2, num_workers=num_workers, generator=generator)
    out = []
    for _ in range(epochs):
        for b in ld:
            for j in range(len(b["i"])):
                out.append({k: (v[j].item() if H.is_tensor(v) else v[j]) for k, v in b.items()})
    return out


def test_worker_seeds_differ_per_worker_and_follow_the_generator():
    recs = seed_records(LIB.Generator().manual_seed(123), epochs=2)
    first, second = recs[:8], recs[8:]
    by_worker = {r["id"]: r for r in first}
    assert set(by_worker) == {0, 1} and all(r["num_workers"] == 2 for r in recs)
    assert by_worker[1]["seed"] == by_worker[0]["seed"] + 1  # seed = base_seed + worker_id
    assert all(r["initial_seed"] == r["seed"] for r in recs)  # the library's default generator is seeded with it
    for key in ("np", "py", "lib"):  # every global stream differs between the workers
        assert len({r[key] for r in first}) == len(first), key
    assert first[0]["seed"] != second[0]["seed"]  # a new base seed every epoch
    # reproducible: the same generator seed gives the same seeds and the same random draws
    again = seed_records(LIB.Generator().manual_seed(123), epochs=2)
    strip = [{k: v for k, v in r.items() if k != "pid"} for r in recs]
    assert strip == [{k: v for k, v in r.items() if k != "pid"} for r in again]
    assert seed_records(LIB.Generator().manual_seed(124))[0]["seed"] != first[0]["seed"]


def test_worker_seeds_follow_manual_seed_without_generator():
    LIB.manual_seed(9)
    a = [r["seed"] for r in seed_records()]
    LIB.manual_seed(9)
    assert [r["seed"] for r in seed_records()] == a


def test_get_worker_info_inside_and_outside():
    assert data.get_worker_info() is None
    recs = seed_records(num_workers=3)
    assert {r["id"] for r in recs} == {0, 1, 2}
    assert {r["pid"] for r in recs}.isdisjoint({os.getpid()})
    assert seed_records(num_workers=0)[0]["id"] == -1


def test_worker_init_fn_configures_each_copy():
    got = flat_ints(loader(OffsetDataset(6), batch_size=1, num_workers=2, worker_init_fn=H.record_worker_id))
    # batch i goes to worker i % 2, whose copy was shifted by 1000 * (worker_id + 1)
    assert got == [1000, 2001, 1002, 2003, 1004, 2005]
    assert OffsetDataset.offset == 0  # the main process's dataset is untouched


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------

def test_worker_exception_is_reraised_with_traceback():
    with pytest.raises(ValueError) as info:
        list(loader(FailingDataset(20, bad=7), batch_size=2, num_workers=2))
    msg = str(info.value)
    assert "Caught ValueError in DataLoader worker process 1." in msg
    assert "Original Traceback (most recent call last):" in msg
    assert "sample 7 is corrupt" in msg and "__getitem__" in msg
    del info


def test_worker_keyerror_message_is_readable():
    with pytest.raises(KeyError) as info:
        list(loader(FailingDataset(6, bad=2, exc_type=KeyError), batch_size=None, num_workers=2))
    assert "\n" in str(info.value)  # not repr()-escaped into one line
    del info


def test_exception_needing_several_arguments_becomes_runtime_error():
    with pytest.raises(RuntimeError, match="Caught TwoArgError in DataLoader worker process"):
        list(loader(FailingDataset(6, bad=1, exc_type=TwoArgError, code=3), batch_size=2, num_workers=1))


def test_iteration_continues_after_a_worker_exception():
    # as in torch: the failing batch raises, the iterator stays usable and the next batch comes
    it = iter(loader(FailingDataset(8, bad=3), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1]
    with pytest.raises(ValueError):
        next(it)
    assert next(it).tolist() == [4, 5]
    del it


def test_worker_init_fn_exception():
    with pytest.raises(RuntimeError, match="init of worker 0 failed"):
        list(loader(IndexDataset(6), batch_size=2, num_workers=2, worker_init_fn=H.failing_init))


@pytest.mark.skipif(not IS_EMBER, reason="ember's result channel pickles in the worker")
def test_unpicklable_batch_is_reported_not_hung():
    with pytest.raises(Exception, match="in DataLoader worker process"):
        list(loader(IndexDataset(4), batch_size=2, num_workers=1, collate_fn=lambda b: (lambda: b), timeout=20))


def test_dead_worker_is_reported_promptly():
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        list(loader(SuicideDataset(20, bad=5), batch_size=2, num_workers=2))
    assert time.monotonic() - t0 < 4.0


def test_timeout():
    ds = SlowDataset(6, {2: 1.5})
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        list(loader(ds, batch_size=1, num_workers=1, timeout=0.3))
    assert time.monotonic() - t0 < 5.0
    # a timeout that is not hit changes nothing
    assert flat_ints(loader(IndexDataset(5), batch_size=2, num_workers=2, timeout=10)) == list(range(5))


# ---------------------------------------------------------------------------------------
# Shutdown: no worker outlives its iterator
# ---------------------------------------------------------------------------------------

def live_workers(it):
    return [w for w in it._workers if w.is_alive()]


def test_workers_gone_after_exhaustion_even_while_loader_lives():
    ld = loader(IndexDataset(10), batch_size=2, num_workers=2)
    it = iter(ld)
    assert len(live_workers(it)) == 2
    list(it)
    assert not live_workers(it) and not multiprocessing.active_children()


def test_workers_gone_after_deleting_a_partly_consumed_iterator():
    before = child_pids()
    it = iter(loader(ImageDataset(40), batch_size=2, num_workers=2, prefetch_factor=4))
    next(it)
    assert len(child_pids() - before) == 2
    del it
    assert child_pids() == before


def test_workers_gone_after_break():
    before = child_pids()
    for _ in loader(IndexDataset(50), batch_size=2, num_workers=2):
        assert len(child_pids() - before) == 2
        break
    assert child_pids() == before


def _loop_raising(exc):
    for i, _ in enumerate(loader(ImageDataset(40), batch_size=2, num_workers=2)):
        if i == 2:
            raise exc


def test_workers_gone_after_exception_in_loop_body():
    before = child_pids()
    with pytest.raises(ZeroDivisionError):
        _loop_raising(ZeroDivisionError("in the training step"))
    assert child_pids() == before and shm_files() == []


def test_workers_gone_after_keyboard_interrupt_in_loop_body():
    before = child_pids()
    with pytest.raises(KeyboardInterrupt):
        _loop_raising(KeyboardInterrupt())
    assert child_pids() == before and shm_files() == []


SCRIPT_PRELUDE = """
import os, sys, time, signal
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if started with SIGINT ignored
sys.path[:0] = {paths!r}
import ember
from ember.utils.data import DataLoader

class Slow:
    def __len__(self): return 10 ** 6
    def __getitem__(self, i):
        time.sleep(0.01)
        return i
"""


def run_script(body, **popen_kw):
    script = textwrap.dedent(SCRIPT_PRELUDE).format(paths=sys.path[:]) + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen_kw)


@contextlib.contextmanager
def reaped(p, group=False):
    """Run the block; a child it leaves running (a hang, a failed assertion) is killed, with its process
    group if `group`, and waited for."""
    try:
        yield p
    finally:
        if p.poll() is None:
            if group:
                os.killpg(p.pid, signal.SIGKILL)
            else:
                p.kill()
            p.wait()


def descendants_gone(pids):
    return all(not os.path.exists(f"/proc/{p}") or open(f"/proc/{p}/stat").read().split(") ")[1][0] == "Z"
               for p in pids)


@pytest.mark.skipif(not IS_EMBER, reason="ember's shutdown")
def test_ctrl_c_to_the_process_group():
    # a terminal's Ctrl-C: SIGINT to the main process *and* its workers; the workers ignore it, the main
    # process gets KeyboardInterrupt and its cleanup stops them
    p = run_script("""
        it = iter(DataLoader(Slow(), batch_size=4, num_workers=2))
        next(it)
        print(" ".join(str(w.pid) for w in it._workers), flush=True)
        try:
            for _ in it:
                pass
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        del it  # (while the exception is being handled, its traceback still references the iterator)
        import multiprocessing
        print("children", len(multiprocessing.active_children()), flush=True)
    """, start_new_session=True)
    with reaped(p):
        worker_pids = [int(x) for x in p.stdout.readline().split()]
        assert len(worker_pids) == 2
        time.sleep(0.2)
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=20)
    assert "interrupted\nchildren 0" in out, err
    assert wait_until(lambda: descendants_gone(worker_pids), 5.0)


# A KeyboardInterrupt is raised wherever the main thread next checks for signals: also just after a
# threading.Condition's __enter__ (Python code) has acquired its lock, or just before its __exit__ releases it,
# and the lock then stays held. This prelude delivers a simulated Ctrl-C at the first such point after
# `trap["armed"]` is set, to whatever SIGINT handler is installed then, as the interpreter would.
CONDITION_TRAP = """
    import threading
    trap = {"armed": False}

    def ctrl_c_here():
        if trap["armed"] and threading.current_thread() is threading.main_thread():
            trap["armed"] = False
            handler = signal.getsignal(signal.SIGINT)
            if callable(handler):
                handler(signal.SIGINT, None)

    _enter, _exit = threading.Condition.__enter__, threading.Condition.__exit__

    def trapped_enter(self):
        held = _enter(self)
        ctrl_c_here()
        return held

    def trapped_exit(self, *exc):
        ctrl_c_here()
        return _exit(self, *exc)

    threading.Condition.__enter__, threading.Condition.__exit__ = trapped_enter, trapped_exit
"""


@pytest.mark.skipif(not IS_EMBER, reason="ember's shutdown")
@pytest.mark.parametrize("phase", ["loop", "shutdown"])
def test_ctrl_c_with_a_lock_just_taken_does_not_hang_the_shutdown(phase):
    # loop: the Ctrl-C lands in the loop, where the main thread hands tasks to the workers (it used to leave
    # an index queue's lock held, and the shutdown's final put waited for it forever); shutdown: a second
    # Ctrl-C lands in the shutdown. Either way the workers must be stopped and the process must exit.
    p = run_script(textwrap.dedent(CONDITION_TRAP) + textwrap.dedent(f"""
        it = iter(DataLoader(Slow(), batch_size=4, num_workers=2))
        next(it)
        print(" ".join(str(w.pid) for w in it._workers), flush=True)
        trap["armed"] = {phase == "loop"}
        try:
            for _ in it:
                pass
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        trap["armed"] = {phase == "shutdown"}
        try:
            del it
        except KeyboardInterrupt:
            pass
        trap["armed"] = False
        import multiprocessing
        print("children", len(multiprocessing.active_children()), flush=True)
    """), start_new_session=True)
    with reaped(p, group=True):
        worker_pids = [int(x) for x in p.stdout.readline().split()]
        time.sleep(0.2)
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=20)
    assert "interrupted\nchildren 0" in out, err
    assert wait_until(lambda: descendants_gone(worker_pids), 5.0)


@pytest.mark.skipif(not IS_EMBER, reason="ember's shutdown")
def test_second_ctrl_c_while_the_shutdown_joins_the_workers():
    # the final part of the shutdown runs to its end (no thread, process or pipe left), then the Ctrl-C is
    # delivered (from __del__ it can only be reported)
    p = run_script("""
        import multiprocessing, multiprocessing.process, threading
        _join = multiprocessing.process.BaseProcess.join
        ctrl_c = [True]

        def join(self, timeout=None):
            if ctrl_c:
                ctrl_c.clear()
                os.kill(os.getpid(), signal.SIGINT)
            return _join(self, timeout)

        multiprocessing.process.BaseProcess.join = join
        it = iter(DataLoader(Slow(), batch_size=4, num_workers=2))
        next(it)
        del it
        print("children", len(multiprocessing.active_children()), "threads", threading.active_count(), flush=True)
    """)
    with reaped(p):
        out, err = p.communicate(timeout=20)
    assert "children 0 threads 1" in out and "KeyboardInterrupt" in err, (out, err)


# Sends SIGINT to `{target}` right after each worker process starts (`self` is the process just started).
SIGINT_AFTER_EACH_START = """
    import multiprocessing, multiprocessing.process
    _start = multiprocessing.process.BaseProcess.start

    def start(self):
        _start(self)
        os.kill({target}, signal.SIGINT)

    multiprocessing.process.BaseProcess.start = start
"""


@pytest.mark.skipif(not IS_EMBER, reason="ember's start-up")
@pytest.mark.parametrize("ctx", ["fork", "spawn"])
def test_workers_ignore_ctrl_c_from_their_first_instruction(ctx):
    # a Ctrl-C that reaches each worker the moment it exists (with spawn: while its interpreter starts up)
    p = run_script(textwrap.dedent(SIGINT_AFTER_EACH_START.format(target="self.pid")) + textwrap.dedent(f"""
        it = iter(DataLoader(list(range(40)), batch_size=4, num_workers=2, multiprocessing_context={ctx!r}))
        print([next(it).tolist() for _ in range(4)], flush=True)
        del it
        print("children", len(multiprocessing.active_children()), flush=True)
    """))
    with reaped(p):
        out, err = p.communicate(timeout=60)
    assert p.returncode == 0 and "KeyboardInterrupt" not in err, err
    assert out.split("\n")[:2] == [str([list(range(i, i + 4)) for i in range(0, 16, 4)]), "children 0"], err


@pytest.mark.skipif(not IS_EMBER, reason="ember's start-up")
def test_ctrl_c_while_the_workers_start():
    # the KeyboardInterrupt waits until every worker is running and known, so that the cleanup stops them all
    # (raised in the middle of starting one, it left that worker running and untracked)
    p = run_script(textwrap.dedent(SIGINT_AFTER_EACH_START.format(target="os.getpid()")) + textwrap.dedent("""
        try:
            it = iter(DataLoader(list(range(40)), batch_size=4, num_workers=2))
            print("not interrupted", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        print("children", len(multiprocessing.active_children()), flush=True)
    """))
    with reaped(p):
        out, err = p.communicate(timeout=20)
    assert "interrupted\nchildren 0" in out, err


@pytest.mark.skipif(not IS_EMBER, reason="ember's signal handling")
def test_sigint_deferred_delivers_the_ctrl_c_after_the_block():
    """A Ctrl-C sent to the main thread during the block waits (SIGINT blocked) and is raised as
    KeyboardInterrupt as the block ends, never inside it."""
    import threading

    from ember.utils.data._utils.signal_handling import sigint_deferred
    handler = signal.getsignal(signal.SIGINT)
    assert handler is signal.default_int_handler, "an earlier test left a SIGINT handler installed"
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, []), "an earlier test left SIGINT blocked"
    done = False
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred() as noted:
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            time.sleep(0.01)
            assert not noted and signal.SIGINT in signal.sigpending()   # held on the blocked main thread
            done = True
    assert done
    assert signal.getsignal(signal.SIGINT) is handler
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


@pytest.mark.skipif(not IS_EMBER, reason="ember's signal handling")
def test_sigint_deferred_notes_a_ctrl_c_another_thread_takes():
    # A terminal's Ctrl-C is sent to the process: with the main thread blocking SIGINT the kernel hands it to
    # another thread, whose handler runs when that thread is next scheduled; the main thread then runs the
    # Python handler -- the block's, which notes it. In a child process with one known idle thread, so that
    # which thread takes it (and when) is not left to whatever threads earlier tests started.
    p = run_script("""
        import threading
        from ember.utils.data._utils.signal_handling import sigint_deferred
        idle = threading.Event()
        threading.Thread(target=idle.wait, daemon=True).start()
        try:
            with sigint_deferred() as noted:
                os.kill(os.getpid(), signal.SIGINT)
                deadline = time.monotonic() + 10
                while not noted and time.monotonic() < deadline:
                    time.sleep(0.005)
                print("noted in the block" if noted else "not noted", flush=True)
        except KeyboardInterrupt:
            print("raised after the block", flush=True)
    """)
    with reaped(p):
        out, err = p.communicate(timeout=30)
    assert out.split("\n")[:2] == ["noted in the block", "raised after the block"], (out, err)


@pytest.mark.skipif(not IS_EMBER, reason="ember's watchdog interval")
def test_workers_exit_when_the_main_process_is_killed():
    p = run_script("""
        it = iter(DataLoader(Slow(), batch_size=4, num_workers=2, persistent_workers=True))
        next(it)
        print(" ".join(str(w.pid) for w in it._workers), flush=True)
        time.sleep(60)
    """)
    with reaped(p):
        worker_pids = [int(x) for x in p.stdout.readline().split()]
        assert len(worker_pids) == 2
        p.kill()
        p.wait()
        assert wait_until(lambda: descendants_gone(worker_pids), 12.0), "orphaned workers survived"


@pytest.mark.skipif(not IS_EMBER, reason="ember's exit path")
def test_persistent_workers_stopped_at_interpreter_exit():
    p = run_script("""
        ld = DataLoader(Slow(), batch_size=4, num_workers=2, persistent_workers=True)
        it = iter(ld)
        next(it)
        print(" ".join(str(w.pid) for w in it._workers), flush=True)
        print(os.getpid(), flush=True)
    """)
    with reaped(p):
        out, err = p.communicate(timeout=30)
    lines = out.split("\n")
    worker_pids, pid = [int(x) for x in lines[0].split()], int(lines[1])
    assert p.returncode == 0, err
    assert wait_until(lambda: descendants_gone(worker_pids), 5.0)
    assert shm_files(pid) == []


# ---------------------------------------------------------------------------------------
# Persistent workers
# ---------------------------------------------------------------------------------------

def test_persistent_workers_are_reused_across_epochs():
    ld = loader(PidDataset(8), batch_size=2, num_workers=2, persistent_workers=True)
    epochs = [flat_ints(ld) for _ in range(3)]
    pids = [set(e) for e in epochs]
    assert pids[0] == pids[1] == pids[2] and len(pids[0]) == 2 and os.getpid() not in pids[0]
    it = ld._iterator
    assert iter(ld) is it and len(live_workers(it)) == 2
    del ld, it  # the loader owns the iterator; dropping it stops the workers (checked by no_leaks)


def test_non_persistent_workers_are_new_each_epoch():
    ld = loader(PidDataset(4), batch_size=2, num_workers=2)
    assert set(flat_ints(ld)).isdisjoint(flat_ints(ld))


def test_persistent_workers_epoch_after_a_partial_epoch():
    ds = ImageDataset(30)
    ref = batches(loader(ds, batch_size=4))
    ld = loader(ds, batch_size=4, num_workers=2, persistent_workers=True, prefetch_factor=3)
    for i, _ in enumerate(ld):
        if i == 1:
            break
    assert batches(ld) == ref
    assert batches(ld) == ref


def test_persistent_workers_with_iterable_dataset():
    ld = loader(range_iterable(LIB, 0, 9), batch_size=2, num_workers=2, persistent_workers=True)
    first = flat_ints(ld)
    assert sorted(first) == list(range(9)) and flat_ints(ld) == first


def test_persistent_workers_seeds_change_per_epoch():
    ld = loader(SeedDataset(4), batch_size=2, num_workers=2, persistent_workers=True,
                generator=LIB.Generator().manual_seed(0))
    a = [b["np"].tolist() for b in ld]
    b = [b["np"].tolist() for b in ld]
    assert a != b  # the workers' streams go on; they are not re-seeded to the same state


# ---------------------------------------------------------------------------------------
# Start methods, transfer
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("ctx", ["spawn", multiprocessing.get_context("fork")], ids=["spawn", "fork-object"])
def test_multiprocessing_context(ctx):
    ds = ImageDataset(12)
    assert batches(loader(ds, batch_size=4, num_workers=2, multiprocessing_context=ctx)) == batches(
        loader(ds, batch_size=4))


@pytest.mark.skipif(not IS_EMBER, reason="ember's fork set-up")
def test_forked_workers_inherit_a_frozen_heap_and_the_parent_does_not():
    import gc
    counts = flat_ints(loader(H.FreezeCountDataset(4), batch_size=2, num_workers=2))
    assert all(c > 1000 for c in counts)  # the parent's objects are frozen in the workers ...
    assert gc.get_freeze_count() == 0  # ... and back under the collector in the main process


@pytest.mark.skipif(not IS_EMBER, reason="ember's transfer")
def test_large_batches_arrive_through_shared_memory():
    import mmap
    from ember.utils.data._utils import transfer

    def base_chain(a):
        while a is not None:
            yield a
            a = a.obj if isinstance(a, memoryview) else getattr(a, "base", None)

    x, y = next(iter(loader(ImageDataset(64), batch_size=32, num_workers=1)))
    assert x.shape == (32, 3, 32, 32) and x._data.nbytes >= transfer.SHM_MIN_BYTES
    if transfer.shm_available():
        assert any(isinstance(b, mmap.mmap) for b in base_chain(x._data))
    assert x._data.flags.writeable
    x.add_(1.0)  # a normal, writable tensor
    assert float(x[5, 1, 3, 3]) == 6.0
    assert y.tolist() == list(range(32)) and str(y.dtype) == "torch.int64"
    assert shm_files() == []


@pytest.mark.skipif(not IS_EMBER, reason="ember's transfer")
def test_transfer_keeps_requires_grad_and_odd_objects():
    from ember.utils.data._utils import transfer

    t = LIB.ones(3, requires_grad=True)
    batch = {"t": t, "s": np.array(["a", "b"]), "n": (1, "x", None), "big": LIB.zeros(200, 200)}
    w = transfer.ShmWriter(transfer.shm_prefix("unit") if transfer.shm_available() else None, 0)
    out = transfer.unpack(transfer.pack(batch, w))
    assert out["t"].requires_grad and out["t"].grad_fn is None and out["t"].tolist() == [1.0, 1.0, 1.0]
    assert out["s"].tolist() == ["a", "b"] and out["n"] == (1, "x", None)
    assert out["big"].shape == (200, 200)
    assert shm_files() == []


def test_pin_memory_with_workers():
    with pytest.warns(UserWarning, match="no accelerator"):
        assert flat_ints(loader(IndexDataset(6), batch_size=2, num_workers=2, pin_memory=True)) == list(range(6))


# ---------------------------------------------------------------------------------------
# Speed: worker processes must pay off on CPU-bound samples
# ---------------------------------------------------------------------------------------

def _time(nw, n):
    ld = loader(BurnDataset(n, 0.002), batch_size=8, num_workers=nw)
    t0 = time.perf_counter()
    got = flat_ints(ld)
    elapsed = time.perf_counter() - t0
    assert got == list(range(n))
    return elapsed


def _raw_parallel_ratio(seconds):
    """Wall time of two plain processes burning seconds/2 of CPU each, over one process burning `seconds`:
    the parallelism the machine grants this test right now (on a shared machine, with the scheduler's
    per-session groups, possibly none)."""
    t0 = time.perf_counter()
    H.burn_cpu(seconds)
    serial = time.perf_counter() - t0
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=H.burn_cpu, args=(seconds / 2,)) for _ in range(2)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return (time.perf_counter() - t0) / serial


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_two_workers_are_faster_than_none():
    # 240 items x 2 ms of CPU: ~0.5 s in the main process; two workers must take < 0.8x that. Wall-clock on a
    # possibly shared machine: up to three rounds; after a failed one, measure what two bare processes achieve.
    # Only when in two rounds even bare processes got no clear speedup (ratio > 0.7: the machine is saturated,
    # e.g. other sessions' processes under the scheduler's per-session groups) is the test skipped, not failed.
    n = 240
    rounds = []
    for _ in range(3):
        serial, parallel = _time(0, n), _time(2, n)
        if parallel < 0.8 * serial:
            return
        rounds.append((round(serial, 3), round(parallel, 3), round(_raw_parallel_ratio(n * 0.002), 2)))
        if sum(raw > 0.7 for _, _, raw in rounds) >= 2:
            break
    if sum(raw > 0.7 for _, _, raw in rounds) >= 2:
        pytest.skip(f"the machine is too busy: two bare processes were not clearly faster than one; (serial s, "
                    f"2 workers s, bare-process ratio) per round: {rounds}")
    raise AssertionError(f"2 workers not faster than 0: (serial s, 2 workers s, bare-process ratio) {rounds}")
