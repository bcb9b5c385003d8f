"""Ctrl-C and multi-process data loading (the counterpart of torch.utils.data._utils.signal_handling).

A Ctrl-C in a terminal sends SIGINT to the whole process group: the main process and its DataLoader workers.
The workers ignore it (``worker_ignore_sigint``); the main process gets a KeyboardInterrupt, and its cleanup
stops the workers.

In the main process a KeyboardInterrupt is raised wherever the interpreter next checks for signals, which
includes the inside of library code that does not survive it: a ``with`` on a ``threading.Condition`` runs
the Condition's ``__enter__``, Python code, and a KeyboardInterrupt raised there just after the lock was
acquired leaves the lock held for good. So the code that must run to its end (starting the workers, the
final part of their shutdown) runs under ``sigint_deferred``.
"""
import contextlib
import signal
import threading

_HAS_SIGMASK = hasattr(signal, "pthread_sigmask")


@contextlib.contextmanager
def sigint_deferred(block=True):
    """Runs the block without being interrupted by SIGINT; a SIGINT received meanwhile is delivered after it.
    ``with sigint_deferred() as noted:`` -- ``noted`` is a list that gets an entry when one is received.

    Only the main thread can be interrupted, so elsewhere this does nothing. The Python-level handler is
    swapped for one that only takes note (the kernel may deliver the signal to any thread, after which the
    main thread runs the handler). With ``block``, SIGINT is also blocked in this thread, so a process started
    inside the block (fork, or fork and exec for 'spawn': both keep the signal mask) begins with SIGINT
    blocked until ``worker_ignore_sigint``.
    """
    received = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # a handler installed outside Python: not ours to swap
        yield received
        return
    # (a SIGINT already pending raises here, before anything in the block has run)
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if block and _HAS_SIGMASK else None
    try:
        yield received
    finally:
        if old_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)  # a blocked SIGINT arrives now: noted
        signal.signal(signal.SIGINT, previous)
        if received:
            signal.raise_signal(signal.SIGINT)  # to the handler the program had: usually KeyboardInterrupt


def worker_ignore_sigint():
    """A worker's first act: ignore SIGINT (which discards one pending), then lift the block it was started with."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _HAS_SIGMASK:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
