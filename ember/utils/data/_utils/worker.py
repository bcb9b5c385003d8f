"""The worker process's side of multi-process data loading (torch.utils.data._utils.worker).

Each worker seeds its random streams (ember's default generator and Python's ``random`` with
``base_seed + worker_id``, NumPy's global generator with a state hashed from both, as torch does), runs
``worker_init_fn``, then loops: take ``(task_idx, index)`` from its own index queue, fetch and collate the
batch, and send ``(task_idx, packed batch)`` to the result channel shared by all workers. An exception is sent
as an ExceptionWrapper carrying the worker's traceback text. ``None`` on the index queue ends the loop; a
``_ResumeIteration`` starts a new epoch for persistent workers. The worker also exits when its parent dies
(checked between tasks). It ignores SIGINT (see ``signal_handling``).
"""
import os
import pickle
import queue
import random
import threading
from dataclasses import dataclass

import numpy as np

from . import MP_STATUS_CHECK_INTERVAL, ExceptionWrapper
from . import signal_handling, transfer

_worker_info = None


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: its id, the number of workers, its seed, and its own
    copy of the dataset."""
    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None  # (torch 2.13's fields, for code that reads them)
    worker_method: str = "multiprocessing"


def get_worker_info():
    """Information about the current DataLoader worker process, or None in the main process.

    In a worker: ``id`` (0 .. num_workers-1), ``num_workers``, ``seed`` (the seed of ember's default generator
    in this worker: the loader's base seed + id) and ``dataset`` (this process's copy). Useful in an
    IterableDataset's ``__iter__`` or in ``worker_init_fn`` to give each worker its share of the data.
    """
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    seed: object = None


class ManagerWatchdog:
    """Notices that the main process died (the worker is re-parented)."""

    def __init__(self):
        self.manager_pid = os.getppid()
        self.manager_dead = False

    def is_alive(self):
        if not self.manager_dead:
            self.manager_dead = os.getppid() != self.manager_pid
        return not self.manager_dead


def _generate_state(base_seed, worker_id):
    """Four 32-bit words seeding numpy.random in a worker: torch's adaptation of NumPy's SeedSequence hash
    (MIT licence, Melissa E. O'Neill and the NumPy developers), so NumPy's stream differs from
    ``random``'s although both come from the same seed."""
    INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875
    INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
    MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
    XSHIFT = 4 * 8 // 2
    MASK32 = 0xFFFFFFFF

    entropy = [worker_id, base_seed & MASK32, base_seed >> 32, 0]
    pool = [0] * 4
    hash_const_A = INIT_A

    def hash(value):
        nonlocal hash_const_A
        value = (value ^ hash_const_A) & MASK32
        hash_const_A = (hash_const_A * MULT_A) & MASK32
        value = (value * hash_const_A) & MASK32
        return (value ^ (value >> XSHIFT)) & MASK32

    def mix(x, y):
        result = ((MIX_MULT_L * x) & MASK32) - ((MIX_MULT_R * y) & MASK32)
        result &= MASK32
        return (result ^ (result >> XSHIFT)) & MASK32

    for i in range(len(pool)):
        pool[i] = hash(entropy[i])
    for i_src in range(len(pool)):
        for i_dst in range(len(pool)):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash(pool[i_src]))

    hash_const_B = INIT_B
    state = []
    for i_dst in range(4):
        data_val = pool[i_dst]
        data_val = (data_val ^ hash_const_B) & MASK32
        hash_const_B = (hash_const_B * MULT_B) & MASK32
        data_val = (data_val * hash_const_B) & MASK32
        state.append((data_val ^ (data_val >> XSHIFT)) & MASK32)
    return state


class IndexQueue:
    """The main process's tasks for one worker: pickled in ``put``, written to a pipe by a feeder thread.

    Not a multiprocessing.Queue: its ``put`` and ``close`` take a threading.Condition whose ``__enter__`` is
    Python code, and a Ctrl-C landing just after the acquire raises a KeyboardInterrupt that leaves the lock
    held, so the shutdown's final ``put`` waited for it forever. Here the hand-over to the feeder is one C
    call (``queue.SimpleQueue.put``), which an interrupt can only precede or follow; the feeder thread, which
    signals never interrupt, does the writing that may block.
    """

    _CLOSE = object()  # (never crosses a process boundary: compared by identity in the feeder)

    def __init__(self, ctx):
        self.reader, self.writer = ctx.Pipe(duplex=False)
        self._pending = queue.SimpleQueue()
        self._feeder = None

    def __getstate__(self):
        return {"reader": self.reader}  # (spawn) the worker only reads

    def start_feeder(self):
        self._feeder = threading.Thread(target=_feed, args=(self._pending, self.writer), daemon=True,
                                        name="ember-dataloader-feeder")
        self._feeder.start()

    def release_reader(self):
        """Once the worker has its copy: with no reader left, a dead worker's pipe breaks (the feeder stops)
        instead of filling up."""
        self.reader.close()

    def put(self, obj):
        self._pending.put(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))

    def get(self, timeout):
        """In the worker: the next task, or queue.Empty after ``timeout`` seconds."""
        if not self.reader.poll(timeout):
            raise queue.Empty
        return pickle.loads(self.reader.recv_bytes())

    def close(self, timeout):
        """The feeder writes what was put before, closes the pipe and ends; waits at most ``timeout`` seconds
        for that (a write to a worker that is gone fails at once)."""
        self.reader.close()
        if self._feeder is None:
            self.writer.close()
        else:
            self._pending.put(self._CLOSE)
            self._feeder.join(timeout)


def _feed(pending, writer):
    try:
        while True:
            buf = pending.get()
            if buf is IndexQueue._CLOSE:
                break
            writer.send_bytes(buf)
    except OSError:
        pass  # the worker is gone: nothing more to send
    finally:
        writer.close()


class DoneFlag:
    """Set by the main process when it shuts the workers down: one shared byte and no lock, unlike a
    multiprocessing.Event, whose lock a worker killed inside ``is_set`` would keep forever (and ``set``
    would then wait for it)."""

    def __init__(self, ctx):
        self._value = ctx.RawValue("b", 0)

    def set(self):
        self._value.value = 1

    def is_set(self):
        return self._value.value != 0


class ResultChannel:
    """Many writers (the workers), one reader (the main process): a pipe plus a write lock.

    Unlike multiprocessing.Queue, ``put`` pickles in the calling thread, so a batch that cannot be pickled
    raises in the worker (and is reported) instead of vanishing in a feeder thread; and the main process can
    wait on the reading end together with the workers' sentinels.
    """

    def __init__(self, ctx):
        self.reader, self.writer = ctx.Pipe(duplex=False)
        self.wlock = ctx.Lock()

    def put(self, obj):
        buf = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        with self.wlock:
            self.writer.send_bytes(buf)

    def poll(self, timeout=0.0):
        return self.reader.poll(timeout)

    def get(self):
        return pickle.loads(self.reader.recv_bytes())

    def close(self):
        for c in (self.reader, self.writer):
            try:
                c.close()
            except OSError:
                pass


def _send(data_queue, idx, data, worker_id):
    try:
        data_queue.put((idx, data))
    except OSError:
        raise  # the pipe is broken: the main process is gone (the loop exits quietly)
    except Exception:  # noqa: BLE001  (the batch could not be pickled: report that instead)
        if isinstance(data, transfer.Packed):
            data.discard()
        data_queue.put((idx, ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")))


def _worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn,
                 drop_last, base_seed, init_fn, worker_id, num_workers, persistent_workers, shm_prefix):
    # Ctrl-C in a terminal reaches the whole process group: the main process handles it and stops us (a
    # worker interrupted in the middle of sending a batch would leave half a message in the pipe). We were
    # started with SIGINT blocked, so nothing before this line could be interrupted either.
    signal_handling.worker_ignore_sigint()
    from ember.utils.data.dataloader import _DatasetKind
    import ember

    watchdog = ManagerWatchdog()
    try:
        ember.set_num_threads(1)  # workers share the cores; no BLAS thread pools fighting each other
        seed = base_seed + worker_id
        random.seed(seed)
        ember.manual_seed(seed)
        np.random.seed(_generate_state(base_seed, worker_id))

        global _worker_info
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        writer = transfer.ShmWriter(shm_prefix, worker_id)

        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn, drop_last)
        except Exception:  # noqa: BLE001  (reported in place of this worker's first batch)
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        # An iterable dataset can run dry in one worker before the others: it then sends one
        # _IterableDatasetStopIteration and idles (iteration_end) until the main process sends None.
        iteration_end = False
        while watchdog.is_alive():
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, None))  # acknowledge: the epoch restarts with a fresh fetcher
                iteration_end = False
                fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation, collate_fn,
                                                      drop_last)
                continue
            if r is None:  # the final signal
                break
            if done_event.is_set() or iteration_end:
                continue  # shutting down, or exhausted: skip work until the final signal
            idx, index = r
            if init_exception is not None:
                data = init_exception
                init_exception = None
            else:
                try:
                    data = transfer.pack(fetcher.fetch(index), writer)
                except Exception as e:  # noqa: BLE001
                    if isinstance(e, StopIteration) and dataset_kind == _DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            _send(data_queue, idx, data, worker_id)
            del data, idx, index, r
    except KeyboardInterrupt:
        pass  # the main process gets the KeyboardInterrupt too and shuts the workers down
    except OSError:
        if not done_event.is_set() and watchdog.is_alive():
            raise
        # the main process shut down or died while we were talking to it: nothing to report to anyone
