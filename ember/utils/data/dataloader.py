"""DataLoader: batches from a dataset, in the main process or in worker processes (torch.utils.data.dataloader).

Single-process loading (``num_workers=0``) asks the sampler for indices, fetches the samples and collates
them, all in the caller's thread.

Multi-process loading (``num_workers > 0``) follows torch's design:

* Each worker is a daemon process (``fork`` on Linux unless ``multiprocessing_context`` or a global
  ``multiprocessing.set_start_method`` says otherwise) with its own index queue (a pipe fed by a thread, see
  ``_utils.worker.IndexQueue``); all send their results over one shared result channel (a pipe with a write
  lock, see ``_utils.worker.ResultChannel``).
* The main process hands out task ``i`` (an index list, i.e. one batch) to worker ``i % num_workers``,
  keeping ``prefetch_factor * num_workers`` tasks in flight, and returns the batches strictly in task order
  (``in_order=True``): results that arrive early wait in ``_task_info``.
* Each worker is seeded with ``base_seed + worker_id``; ``base_seed`` is drawn from the loader's
  ``generator`` (ember's default generator when None) each time an iterator is created, so a seeded
  generator makes the workers' random streams reproducible and every epoch different.
* A batch crosses as NumPy buffers, through a /dev/shm file when large (``_utils.transfer``).
* Forked workers start with the parent's objects frozen for the garbage collector (``gc.freeze``), so their
  collections do not copy the parent's whole heap page by page.
* An exception in a worker travels as its traceback text and is re-raised in the main process as the same
  type with "Caught <Type> in DataLoader worker process <i>" and the original traceback in the message.
* A worker that dies is noticed at once (the main process waits on the workers' sentinels along with the
  result pipe) and reported as "DataLoader worker (pid(s) ...) exited unexpectedly".
* Shutdown (iterator exhausted without persistent workers, deleted, garbage-collected after an exception or a
  KeyboardInterrupt in the loop body, or at interpreter exit): set the done flag, send every worker the final
  ``None``, wait for them to exit while draining the result pipe, terminate (then kill) whatever is still
  alive after a few seconds, join everything and remove the iterator's leftover shm files.
* Ctrl-C: workers ignore SIGINT, from their first instruction on (they are started with it blocked); the main
  process gets a KeyboardInterrupt and its cleanup stops them. A KeyboardInterrupt may land anywhere in the
  main thread, so nothing the shutdown relies on may be left half-done by one: the index queues hand tasks
  over in a single C call, and starting the workers and the end of their shutdown hold a Ctrl-C back until
  they are done (``_utils.signal_handling``). A second Ctrl-C during shutdown only cuts the wait short.
"""
import gc
import itertools
import math
import os
import sys
import time
import warnings
import weakref
from typing import Generic, TypeVar

from ember.utils.data import _utils
from ember.utils.data._utils import transfer as _transfer
from ember.utils.data._utils.collate import default_collate, default_convert  # noqa: F401
from ember.utils.data._utils.worker import get_worker_info  # noqa: F401
from ember.utils.data.dataset import IterableDataset
from ember.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _draw_seed

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

T_co = TypeVar("T_co", covariant=True)

_SHUTDOWN_TIMEOUT = 5.0  # seconds the workers get to exit by themselves before being terminated


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        if kind == _DatasetKind.Map:
            return _utils.fetch._MapDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)
        return _utils.fetch._IterableDatasetFetcher(dataset, auto_collation, collate_fn, drop_last)


class _InfiniteConstantSampler(Sampler):
    """The "sampler" of an iterable dataset: None forever (the dataset decides when to stop)."""

    def __iter__(self):
        while True:
            yield None


def _mp():
    # multiprocessing is imported on first use: `import ember` should not pay for it
    import multiprocessing
    import multiprocessing.connection
    return multiprocessing


def _default_context():
    # fork on Linux (cheap, nothing to pickle) unless the program chose a start method itself
    python_multiprocessing = _mp()
    if (python_multiprocessing.get_start_method(allow_none=True) is None and sys.platform.startswith("linux")
            and "fork" in python_multiprocessing.get_all_start_methods()):
        return python_multiprocessing.get_context("fork")
    return python_multiprocessing.get_context()


def _cpu_count():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


class DataLoader(Generic[T_co]):
    """Combines a dataset and a sampler, and iterates over batches of the dataset (torch.utils.data.DataLoader).

    Arguments as torch's: ``batch_size`` (None: no automatic batching; samples are only converted by
    ``default_convert``), ``shuffle`` (a RandomSampler drawing from ``generator``), ``sampler`` /
    ``batch_sampler`` (custom orders; exclusive with the options they replace), ``num_workers`` (worker
    processes; 0 loads in the main process), ``collate_fn`` (default: ``default_collate``), ``pin_memory``
    (accepted; there is no accelerator, so a no-op with torch's warning), ``drop_last``, ``timeout`` (seconds
    to wait for a worker's batch), ``worker_init_fn(worker_id)``, ``multiprocessing_context`` (a start method
    name or a context), ``generator`` (shuffling and the workers' base seed), ``prefetch_factor`` (batches in
    flight per worker, default 2 with workers), ``persistent_workers`` (keep the workers across epochs),
    ``pin_memory_device`` (deprecated in torch; ignored), ``in_order`` (False returns batches as they come).
    """

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers "
                             "> 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            elif batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                                 "drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)

        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator

        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers

        self._initialized = True
        self._IterableDataset_len_called = None  # len(dataset) reported by len(loader), for a warning later
        self._iterator = None

        self.check_worker_number_rationality()

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context):
        if multiprocessing_context is not None:
            python_multiprocessing = _mp()
            if self.num_workers > 0:
                if isinstance(multiprocessing_context, str):
                    valid_start_methods = python_multiprocessing.get_all_start_methods()
                    if multiprocessing_context not in valid_start_methods:
                        raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                         f"{valid_start_methods!r}, but got "
                                         f"multiprocessing_context={multiprocessing_context!r}")
                    multiprocessing_context = python_multiprocessing.get_context(multiprocessing_context)
                if not isinstance(multiprocessing_context, python_multiprocessing.context.BaseContext):
                    raise TypeError(f"multiprocessing_context option should be a valid context object or a string "
                                    f"specifying the start method, but got "
                                    f"multiprocessing_context={multiprocessing_context}")
            else:
                raise ValueError(f"multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
        self._multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr, val):
        if self._initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                          "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    def __iter__(self):
        # persistent workers: one iterator for the loader's lifetime, reset at the start of every epoch
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self):
        """Warns (as torch does) when more workers are asked for than this process may use cores."""
        if not self.num_workers:
            return
        max_num_worker_suggest = _cpu_count()
        if max_num_worker_suggest is None or self.num_workers > max_num_worker_suggest:
            cpuset_checked = hasattr(os, "sched_getaffinity")
            suggested = (
                f"Our suggested max number of worker in current system is {max_num_worker_suggest}"
                f"{'' if cpuset_checked else ' (`cpuset` is not taken into account)'}, which is smaller than what "
                f"this DataLoader is going to create." if max_num_worker_suggest is not None else
                "DataLoader is not able to compute a suggested max number of worker in current system.")
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. {suggested} "
                          "Please be aware that excessive worker creation might get DataLoader running slow or even "
                          "freeze, lower the worker number to avoid potential slowness/freeze if necessary.",
                          stacklevel=2)


class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn(f"pin_memory_device is deprecated, the current accelerator will be used as the device,"
                          f"ignore pin_memory_device='{loader.pin_memory_device}'.", stacklevel=3)
        if loader.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", stacklevel=3)
        self._pin_memory = False  # CPU only: there is no page-locked memory to copy into
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = _draw_seed(loader.generator)
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)  # may raise StopIteration

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            warn_msg = (f"Length of IterableDataset {self._dataset} was reported to be "
                        f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but "
                        f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                warn_msg += ("For multiprocessing data-loading, this could be caused by not properly configuring "
                             "the IterableDataset replica at each worker. Please see "
                             "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for "
                             "examples.")
            warnings.warn(warn_msg, stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._dataset_fetcher = _DatasetKind.create_fetcher(self._dataset_kind, self._dataset,
                                                            self._auto_collation, self._collate_fn, self._drop_last)

    def _next_data(self):
        index = self._next_index()  # may raise StopIteration
        return self._dataset_fetcher.fetch(index)  # may raise StopIteration


class _WorkerPool:
    """The processes, queues and files of one multi-process iterator, and their shutdown.

    Kept apart from the iterator and owned by a ``weakref.finalize`` on it: the finalizer's registry holds the
    pool strongly, so even when the iterator dies inside a garbage cycle the queues it needs for a clean
    shutdown are still intact (not finalized alongside it), and the finalizer also runs at interpreter exit,
    before multiprocessing's own exit handler.
    """

    def __init__(self, ctx, shm_prefix):
        self.ctx = ctx
        self.workers = []
        self.index_queues = []
        self.final_sent = []
        self.result = _utils.worker.ResultChannel(ctx)
        self.done_event = _utils.worker.DoneFlag(ctx)
        self.shm_prefix = shm_prefix
        self.closed = False
        self.owner_pid = os.getpid()

    def start_worker(self, worker_id, loop_kwargs):
        index_queue = _utils.worker.IndexQueue(self.ctx)
        self.index_queues.append(index_queue)
        self.final_sent.append(False)
        kwargs = dict(loop_kwargs, index_queue=index_queue, data_queue=self.result, done_event=self.done_event,
                      worker_id=worker_id, shm_prefix=self.shm_prefix)
        w = self.ctx.Process(target=_utils.worker._worker_loop, name=f"ember-dataloader-worker-{worker_id}",
                             kwargs=kwargs, daemon=True)
        w.start()
        self.workers.append(w)
        index_queue.release_reader()

    def start_feeders(self):
        # after the last fork: a forked child gets only the forking thread, and forking with threads running
        # is best avoided
        for q in self.index_queues:
            q.start_feeder()

    def send_final(self, worker_id):
        """The final None makes a worker leave its loop; sent at most once per worker."""
        if not self.final_sent[worker_id]:
            self.final_sent[worker_id] = True
            self.index_queues[worker_id].put(None)

    def shutdown(self):
        if self.closed or os.getpid() != self.owner_pid:
            return  # (a forked child holding a copy of this pool must not touch its parent's workers)
        try:
            self.closed = True
            self.done_event.set()
            for worker_id in range(len(self.index_queues)):
                self.send_final(worker_id)
            self._wait_for_workers()
        finally:
            # a second Ctrl-C may cut the wait short, but not this: it is what stops the workers
            with _utils.signal_handling.sigint_deferred(block=False):
                self._stop()

    def _wait_for_workers(self):
        """Until every worker has exited (or the deadline passes), drain the result pipe, so that no worker
        stays blocked sending a batch nobody will read.

        Runs while a second Ctrl-C may interrupt it, so it leaves nothing half-done: the bytes are thrown away
        unparsed (a read cut short leaves the stream out of step, and a misread length would wait for bytes
        that never come; the shm files of those batches go with the iterator's leftovers), and an exit is seen
        on the worker's sentinel, not through ``exitcode``, whose ``waitpid`` would reap the worker and then
        lose its status if interrupted before storing it (multiprocessing would count it alive for good).
        """
        deadline = time.monotonic() + _SHUTDOWN_TIMEOUT
        reader = self.result.reader
        waiting_on = [reader]
        running = [w.sentinel for w in self.workers]
        while running:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            ready = _mp().connection.wait(waiting_on + running, remaining)
            running = [s for s in running if s not in ready]
            if reader in ready:
                try:
                    drained = os.read(reader.fileno(), 1 << 16)
                except OSError:
                    drained = b""
                if not drained:  # (no writer left)
                    waiting_on = []

    def _stop(self):
        """Terminates (then kills) the workers still alive, joins them, and closes the pipes and files."""
        for w in self.workers:
            if w.exitcode is None:
                w.terminate()
        for w in self.workers:
            w.join(timeout=1.0)
            if w.exitcode is None:
                w.kill()
                w.join()
        for q in self.index_queues:
            q.close(timeout=1.0)
        self.result.close()
        _transfer.remove_leftovers(self.shm_prefix)


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Iterates with worker processes; see the module docstring for the protocol."""

    _finalizer = None

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch_factor <= 0:
            raise AssertionError("prefetch_factor must be greater than 0 for MultiProcessingDataLoaderIter")
        ctx = loader.multiprocessing_context or _default_context()
        self._worker_init_fn = loader.worker_init_fn
        self._shutdown = False
        shm_prefix = (_transfer.shm_prefix(f"{id(self):x}{os.urandom(3).hex()}")
                      if _transfer.shm_available() else None)
        self._pool = pool = _WorkerPool(ctx, shm_prefix)
        self._finalizer = weakref.finalize(self, _WorkerPool.shutdown, pool)
        self._workers = pool.workers
        self._index_queues = pool.index_queues
        self._worker_result_queue = pool.result
        self._workers_status = []
        # With fork, move every existing object out of the garbage collector's reach while the workers are
        # created (gc.freeze), so that a collection in a worker does not write to - and thereby copy - every
        # page of the parent's heap; the main process gets its objects back right after (gc.unfreeze). A
        # program that froze objects itself is left alone.
        freeze = ctx.get_start_method() == "fork" and gc.get_freeze_count() == 0
        try:
            # a Ctrl-C meanwhile waits until every worker is running and tracked (then the shutdown stops them
            # all), and the workers start with SIGINT blocked (not with forkserver: the server, which forks
            # them, would keep the block for good if started now)
            with _utils.signal_handling.sigint_deferred(block=ctx.get_start_method() != "forkserver"):
                if freeze:
                    gc.freeze()
                try:
                    for i in range(self._num_workers):
                        pool.start_worker(i, dict(
                            dataset_kind=self._dataset_kind, dataset=self._dataset,
                            auto_collation=self._auto_collation, collate_fn=self._collate_fn,
                            drop_last=self._drop_last, base_seed=self._base_seed, init_fn=self._worker_init_fn,
                            num_workers=self._num_workers, persistent_workers=self._persistent_workers))
                        self._workers_status.append(True)
                finally:
                    if freeze:
                        gc.unfreeze()
                pool.start_feeders()
            self._reset(loader, first_iter=True)
        except BaseException:
            self._shutdown_workers()
            raise

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0  # index of the next task to send to a worker
        self._rcvd_idx = 0  # index of the next task to return from __next__
        # task index -> (worker_id,) while in flight, (worker_id, data) once arrived out of order
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # persistent workers: restart every worker's fetcher, and wait until all have acknowledged
            # (results of the previous epoch still in flight are dropped on the way)
            for idx in range(self._num_workers):
                self._index_queues[idx].put(_utils.worker._ResumeIteration())
            resume_iteration_cnt = self._num_workers
            while resume_iteration_cnt > 0:
                return_idx, return_data = self._get_data()
                if isinstance(return_idx, _utils.worker._ResumeIteration):
                    resume_iteration_cnt -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _receive(self):
        idx, data = self._worker_result_queue.get()
        if type(data) is _transfer.Packed:
            data = _transfer.unpack(data)  # maps and unlinks the shm file at once, even if out of order
        return idx, data

    def _try_get_data(self, timeout=_utils.MP_STATUS_CHECK_INTERVAL):
        channel = self._worker_result_queue
        if channel.poll(0):
            return True, self._receive()
        active = [w for i, w in enumerate(self._workers) if self._workers_status[i]]
        ready = _mp().connection.wait([channel.reader] + [w.sentinel for w in active], timeout)
        if channel.reader in ready or channel.poll(0):
            return True, self._receive()
        failed = [(i, w) for i, w in enumerate(self._workers) if self._workers_status[i] and not w.is_alive()]
        if failed:
            for i, _ in failed:
                self._mark_worker_as_unavailable(i)
            pids = ", ".join(str(w.pid) for _, w in failed)
            codes = ", ".join(str(w.exitcode) for _, w in failed)
            raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly (exit code(s) {codes})")
        return False, None

    def _get_data(self):
        if self._timeout > 0:
            deadline = time.monotonic() + self._timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
                success, data = self._try_get_data(remaining)
                if success:
                    return data
        while True:
            success, data = self._try_get_data()
            if success:
                return data

    def _next_data(self):
        while True:
            # skip tasks of workers that have stopped (an exhausted iterable dataset's), unless already here
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx, None)
                if info:
                    worker_id = info[0]
                    if len(info) == 2 or self._workers_status[worker_id]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if len(self._task_info[self._rcvd_idx]) == 2:  # arrived earlier, out of order
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

            if self._shutdown or self._tasks_outstanding <= 0:
                raise AssertionError("Invalid iterator state: shutdown or no outstanding tasks when fetching next "
                                     "data")
            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if self._dataset_kind == _DatasetKind.Iterable:
                if isinstance(data, _utils.worker._IterableDatasetStopIteration):
                    if self._persistent_workers:
                        self._workers_status[data.worker_id] = False
                    else:
                        self._mark_worker_as_unavailable(data.worker_id)
                    self._try_put_index()
                    continue

            if idx != self._rcvd_idx:
                if not self._in_order:
                    worker_id = self._task_info.pop(idx)[0]
                    return self._process_data(data, worker_id)
                self._task_info[idx] += (data,)
            else:
                worker_id = self._task_info.pop(idx)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

    def _try_put_index(self):
        max_tasks = self._prefetch_factor * self._num_workers
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next active worker, round-robin
            worker_queue_idx = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_queue_idx]:
                if self._in_order:
                    break
                if self._workers_num_tasks[worker_queue_idx] < max_tasks // sum(self._workers_status):
                    break
        else:
            return  # no active worker left

        self._index_queues[worker_queue_idx].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_queue_idx,)
        self._workers_num_tasks[worker_queue_idx] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data, worker_idx):
        self._workers_num_tasks[worker_idx] -= 1
        self._try_put_index()
        if isinstance(data, _utils.ExceptionWrapper):
            data.reraise()
        return data

    def _mark_worker_as_unavailable(self, worker_id, shutdown=False):
        self._pool.send_final(worker_id)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self):
        """Stops and joins the workers (idempotent); the batches already returned stay valid."""
        self._shutdown = True
        # called directly, not through the finalizer, which thus stays armed (for the iterator's end or the
        # interpreter's exit) should a KeyboardInterrupt stop us before the shutdown has begun
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown()

    def __del__(self):
        self._shutdown_workers()
