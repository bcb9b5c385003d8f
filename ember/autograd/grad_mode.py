"""Whether operations record the graph: no_grad, enable_grad, set_grad_enabled, inference_mode."""
import functools


class _GradState:
    # one attribute read per op on the hot path; a plain class is the cheapest place to keep it
    enabled = True


def is_grad_enabled():
    return _GradState.enabled


class _GradModeContext:
    """Base for the context managers that also work as decorators, like PyTorch's."""

    _target = True

    def __enter__(self):
        self._prev = _GradState.enabled
        _GradState.enabled = self._target

    def __exit__(self, *exc):
        _GradState.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__._clone(self):
                return fn(*args, **kwargs)
        return wrapper

    def _clone(self):
        return self.__class__()


class _NoParamContext(_GradModeContext):
    # allows both `@no_grad()` and the bare `@no_grad`
    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamContext):
    _target = False


class enable_grad(_NoParamContext):
    _target = True


class set_grad_enabled(_GradModeContext):
    """Sets the mode at once (as a function call) and restores it when used as a context manager."""

    def __init__(self, mode):
        self._target = bool(mode)
        self._prev = _GradState.enabled
        _GradState.enabled = self._target

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _GradState.enabled = self._prev
        return False

    def _clone(self):
        return set_grad_enabled(self._target)


class inference_mode(_GradModeContext):
    """ember has no separate inference tensors: inference mode is no_grad."""

    def __init__(self, mode=True):
        self._target = not mode

    def _clone(self):
        return inference_mode(not self._target)


def is_inference_mode_enabled():
    return False
