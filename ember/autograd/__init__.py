"""Automatic differentiation: backward, grad, grad modes and user-defined Functions."""
import numpy as np

from ember.autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa: F401
                                      is_grad_enabled, is_inference_mode_enabled)
from ember.autograd.function import run_backward, Function as _Node
from ember import tensor as _tensor_module  # partially initialised while ember.tensor imports us


def _make_grads(outputs, grad_outputs):
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = _tensor_module.Tensor._make(np.ones(out._data.shape, out._data.dtype))
        else:
            if not isinstance(g, _tensor_module.Tensor):
                from ember.creation import tensor
                g = tensor(g, dtype=out.dtype)
            if g.shape != out.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                                   f"has a shape of {out.shape}.")
        grads.append(g)
    return grads


def _as_tuple(x):
    if x is None:
        return None
    return (x,) if isinstance(x, _tensor_module.Tensor) else tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None,
             inputs=None):
    """Accumulate d(tensors)/d(leaf) into every leaf's .grad (or only into `inputs`)."""
    outputs = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) or (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(outputs, _make_grads(outputs, grads), retain_graph, create_graph,
                 inputs=_as_tuple(inputs), accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any .grad."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors does not require grad")
    grads = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(outputs, _make_grads(outputs, grads), retain_graph, create_graph, inputs=inputs,
                          allow_unused=bool(allow_unused) or materialize_grads, accumulate=False)
    if materialize_grads:
        from ember.creation import zeros_like
        result = tuple(zeros_like(t) if g is None else g for g, t in zip(result, inputs))
    return result


class FunctionCtx:
    """The `ctx` of a user-defined Function: what forward leaves for backward."""

    def __init__(self):
        self.saved_tensors = ()
        self.needs_input_grad = ()
        self._materialize = True

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        pass

    def mark_dirty(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        self._materialize = value


class Function:
    """torch.autograd.Function: subclass with static forward(ctx, ...) and backward(ctx, grad)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, _tensor_module.Tensor) and a._requires_grad for a in args)
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        if is_grad_enabled() and any(ctx.needs_input_grad):
            node = _UserNode()
            node.user_cls, node.ctx, node.n_args = cls, ctx, len(args)
            node.next = [(a.grad_fn or a) if isinstance(a, _tensor_module.Tensor) and a._requires_grad else None for a in args]
            if isinstance(out, tuple):
                # ember's graph nodes have one output each
                raise NotImplementedError("ember's autograd.Function supports a single output tensor")
            out._requires_grad = True
            out.grad_fn = node
        return out


class _UserNode(_Node):
    def name(self):
        return self.user_cls.__name__ + "Backward"

    def backward(self, grad):
        grads = self.user_cls.backward(self.ctx, grad)
        grads = grads if isinstance(grads, tuple) else (grads,)
        return tuple(grads[:self.n_args])


def set_detect_anomaly(mode):
    return _Anomaly()


class detect_anomaly:
    def __init__(self, check_nan=True):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Anomaly(detect_anomaly):
    pass


from ember.autograd import grad_mode  # noqa: E402,F401



def __getattr__(name):
    """torch.autograd.functional / .profiler are there after `import torch`; here they load on first use,
    so that `import ember` does not pay for them."""
    if name in ("functional", "profiler"):
        import importlib
        module = importlib.import_module("ember.autograd." + name)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'ember.autograd' has no attribute '{name}'")
