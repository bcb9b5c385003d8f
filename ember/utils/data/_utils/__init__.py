"""Helpers behind DataLoader, laid out as torch.utils.data._utils: collate, fetch, worker, and the transfer of
batches from worker processes (ember's own: NumPy buffers through /dev/shm)."""
import atexit
import sys
import traceback

IS_WINDOWS = sys.platform == "win32"

# How long a worker waits on its index queue before checking that the main process is still alive.
MP_STATUS_CHECK_INTERVAL = 5.0

# Set at interpreter exit: cleanup code then does the least it can (the modules it needs may be gone).
python_exit_status = False


def _set_python_exit_flag():
    global python_exit_status
    python_exit_status = True


atexit.register(_set_python_exit_flag)


class KeyErrorMessage(str):
    """str subclass whose repr is itself, so a re-raised KeyError shows its traceback text readably."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception plus its formatted traceback, carried across processes and re-raised (torch's design).

    Re-raised as the same type with the message "Caught <Type> in DataLoader worker process <i>.\\nOriginal
    Traceback (most recent call last): ..." so the worker's traceback text reaches the user.
    """

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def __reduce__(self):
        # an exception class defined inside a function cannot be pickled; send the text as RuntimeError then
        import pickle
        exc_type = self.exc_type
        try:
            pickle.dumps(exc_type)
        except Exception:  # noqa: BLE001
            exc_type = RuntimeError
        return (_rebuild_exception_wrapper, (exc_type, self.exc_msg, self.where))

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # noqa: BLE001  (needs several arguments: fall back to RuntimeError)
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:
            del exception  # no frame -> traceback -> frame cycle keeping the DataLoader iterator alive


def _rebuild_exception_wrapper(exc_type, exc_msg, where):
    w = ExceptionWrapper.__new__(ExceptionWrapper)
    w.exc_type, w.exc_msg, w.where = exc_type, exc_msg, where
    return w


from . import collate, fetch, signal_handling, transfer, worker  # noqa: E402,F401
