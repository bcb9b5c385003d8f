"""torch.autograd.profiler: which ops a block of code ran, how often, and for how long.

While a profile is active, ember.autograd._op_hooks.watching_ops wraps every op's forward and backward, so
each call becomes an event (nested calls are children: an event's self time excludes them); outside a
profile nothing is wrapped and nothing is paid. Ops are named as PyTorch's profiler names them where the
two correspond (aten::linear, aten::conv2d, aten::relu, ...); a backward step is
"autograd::engine::evaluate_function: <node name>" with the node (e.g. AddmmBackward0) inside it.
"""
import re
import threading
import time
import traceback

import numpy as np

from ember.autograd.profiler_util import EventList, FunctionEvent  # noqa: F401

_ATEN = {
    "Linear": "aten::linear", "MatMul": "aten::matmul", "Convolution": "aten::conv2d",
    "ConvTranspose": "aten::conv_transpose2d", "MaxPool2DWithIndices": "aten::max_pool2d",
    "AvgPool2D": "aten::avg_pool2d", "AdaptiveAvgPool2D": "aten::adaptive_avg_pool2d",
    "_GlobalAvg": "aten::adaptive_avg_pool2d", "AdaptiveMaxPool2D": "aten::adaptive_max_pool2d",
    "BatchNorm": "aten::batch_norm", "LayerNorm": "aten::layer_norm", "View": "aten::view",
    "UnsafeView": "aten::reshape", "ToCopy": "aten::to", "T": "aten::t", "Relu": "aten::relu",
    "LogSoftmax": "aten::log_softmax", "CrossEntropyIndices": "aten::cross_entropy_loss",
    "BCEWithLogits": "aten::binary_cross_entropy_with_logits", "BinaryCrossEntropy": "aten::binary_cross_entropy",
    "Gelu": "aten::gelu", "Silu": "aten::silu", "LeakyRelu": "aten::leaky_relu", "Elu": "aten::elu",
    "Hardtanh": "aten::hardtanh", "Embedding": "aten::embedding", "Index": "aten::index",
}


def _op_name(fn):
    cls = type(fn)
    name = _ATEN.get(cls.__name__)
    if name is None:
        # Add -> aten::add, MaxMinDim -> aten::max_min_dim
        name = "aten::" + re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.lstrip("_")).lower()
        _ATEN[cls.__name__] = name
    if name == "aten::conv2d" and getattr(getattr(fn, "geom", None), "one_d", False):
        return "aten::conv1d"
    return name


class _Recorder:
    """The events of one profile, with a stack of open events per thread."""

    def __init__(self, record_shapes, profile_memory, with_stack):
        self.record_shapes, self.profile_memory, self.with_stack = record_shapes, profile_memory, with_stack
        self.events = []
        self.local = threading.local()
        self.t0 = time.perf_counter_ns()
        self.next_id = 0
        self.lock = threading.Lock()

    def now_us(self):
        return (time.perf_counter_ns() - self.t0) / 1000.0

    def open(self, name, shapes=None, user=False):
        stack = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        with self.lock:
            self.next_id += 1
            eid = self.next_id
        where = self._where() if self.with_stack else None
        evt = FunctionEvent(eid, name, threading.get_ident(), self.now_us(), 0.0,
                            input_shapes=shapes if self.record_shapes else None, stack=where,
                            is_user_annotation=user)
        if stack:
            evt.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(evt)
        stack.append(evt)
        return evt

    def close(self, evt, out=None):
        evt.end_us = self.now_us()
        if self.profile_memory and isinstance(out, np.ndarray) and out.base is None:
            evt.cpu_memory_usage = out.nbytes      # what the op allocated for its result
        stack = self.local.stack
        if stack and stack[-1] is evt:
            stack.pop()
        with self.lock:
            self.events.append(evt)

    @staticmethod
    def _where():
        frames = traceback.extract_stack()[:-3]
        return [f"{f.filename}({f.lineno}): {f.name}" for f in reversed(frames)
                if "/ember/" not in f.filename.replace("\\", "/")][:5]

    # -- wrappers for watching_ops -------------------------------------------------------------
    def wrap_forward(self, original):
        recorder = self

        def forward(fn, *args, **params):
            shapes = [list(a.shape) if isinstance(a, np.ndarray) else [] for a in args]
            evt = recorder.open(_op_name(fn), shapes)
            out = None
            try:
                out = original(fn, *args, **params)
                return out
            finally:
                recorder.close(evt, out)
        return forward

    def wrap_backward(self, original):
        recorder = self

        def backward(fn, grad):
            node = fn.name()
            outer = recorder.open("autograd::engine::evaluate_function: " + node)
            inner = recorder.open(node)
            try:
                return original(fn, grad)
            finally:
                recorder.close(inner)
                recorder.close(outer)
        return backward


_active = []      # the recorders of the profiles now running (record_function reports to them)


class profile:
    """torch.autograd.profiler.profile: `with profile() as prof: ...`, then prof.key_averages().table()."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        self.enabled = enabled
        self.record_shapes, self.profile_memory, self.with_stack = record_shapes, profile_memory, with_stack
        self._recorder = None
        self._function_events = None
        self._watch = None

    def __enter__(self):
        if self.enabled:
            self._start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self._stop()
        return False

    def _start(self):
        from ember.autograd._op_hooks import watching_ops
        self._recorder = _Recorder(self.record_shapes, self.profile_memory, self.with_stack)
        self._watch = watching_ops(self._recorder.wrap_forward, self._recorder.wrap_backward)
        self._watch.__enter__()
        _active.append(self._recorder)

    def _stop(self):
        _active.remove(self._recorder)
        self._watch.__exit__(None, None, None)
        self._watch = None
        events = sorted(self._recorder.events, key=lambda e: (e.start_us, -e.end_us))
        self._function_events = EventList(events, profile_memory=self.profile_memory)

    def _check_finished(self):
        if self._function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def events(self):
        self._check_finished()
        return self._function_events

    @property
    def function_events(self):
        return self._function_events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        self._check_finished()
        return self._function_events.key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False):
        self._check_finished()
        return self._function_events.table(sort_by=sort_by, row_limit=row_limit, header=header,
                                           max_src_column_width=max_src_column_width,
                                           max_name_column_width=max_name_column_width,
                                           max_shapes_column_width=max_shapes_column_width,
                                           top_level_events_only=top_level_events_only)

    def total_average(self):
        self._check_finished()
        return self._function_events.total_average()

    def export_chrome_trace(self, path):
        self._check_finished()
        self._function_events.export_chrome_trace(path)

    @property
    def self_cpu_time_total(self):
        self._check_finished()
        return sum(e.self_cpu_time_total for e in self._function_events)

    def __str__(self):
        return self.table() if self._function_events is not None else "<unfinished profile>"


class record_function:
    """A labelled block in the profile (a context manager or a decorator); costs nothing when no profile
    is running."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._opened = []

    def __enter__(self):
        self._opened = [(r, r.open(self.name, [], user=True)) for r in _active]
        return self

    def __exit__(self, *exc):
        for recorder, evt in self._opened:
            recorder.close(evt)
        self._opened = []
        return False

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return func(*args, **kwargs)
        return wrapped
