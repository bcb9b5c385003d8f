"""torch.onnx.utils: export an ember model to an ONNX file.

The model runs once on the example inputs while ember.onnx._tracer records every op; each op is then
translated into ONNX nodes by the table in ember.onnx._graph. Parameters and buffers become initializers
named by their state_dict keys, as PyTorch names them.
"""
import contextlib
import os

import numpy as np

from ember.onnx.errors import OnnxExporterError

DEFAULT_OPSET = 20   # torch 2.13's default opset
MIN_OPSET = 13       # Squeeze/ReduceSum take axes as inputs from here on; what the translations assume

_exporting = [False]


def is_in_onnx_export():
    return _exporting[0]


@contextlib.contextmanager
def select_model_mode_for_export(model, mode):
    was_training = model.training
    model.train(bool(mode))
    try:
        yield
    finally:
        model.train(was_training)


def _as_tuple(args):
    from ember.tensor import Tensor
    if isinstance(args, Tensor):
        return (args,)
    if isinstance(args, tuple):
        return args
    if isinstance(args, list):
        return tuple(args)
    raise TypeError(f"export: args must be a Tensor or a tuple of Tensors, got {type(args).__name__}")


def _flatten_outputs(out):
    from ember.tensor import Tensor
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        flat = []
        for o in out:
            flat.extend(_flatten_outputs(o))
        return flat
    raise OnnxExporterError(f"the model returned a {type(out).__name__}; ONNX export needs tensors "
                            f"(or tuples/lists of tensors) as outputs")


def _value_info(helper, name, array, dynamic):
    shape = [dynamic.get(i, d) for i, d in enumerate(array.shape)]
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(array.dtype), shape)


def _dynamic_axes_for(name, dynamic_axes):
    axes = (dynamic_axes or {}).get(name)
    if axes is None:
        return {}
    if isinstance(axes, dict):
        return {int(k): str(v) for k, v in axes.items()}
    return {int(k): f"{name}_dynamic_axes_{i + 1}" for i, k in enumerate(axes)}


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None, output_names=None,
           opset_version=None, dynamo=True, external_data=True, dynamic_shapes=None, export_params=True,
           keep_initializers_as_inputs=False, dynamic_axes=None, training=None, do_constant_folding=True,
           **unused):
    """Trace model(*args) and write it to f (a path or a binary file object) as an ONNX model.

    ember's exporter works as PyTorch's TorchScript exporter (`dynamo=False`) does: one traced run, with
    `dynamic_axes` naming the input/output dimensions that may vary. Returns None."""
    try:
        import onnx
        from onnx import helper
    except ImportError:
        raise ImportError("ember.onnx.export needs the 'onnx' package (pip install onnx, or ember's 'onnx' "
                          "extra)") from None
    from ember.tensor import Tensor
    from ember.autograd.grad_mode import enable_grad
    from ember.onnx._tracer import Tracer
    from ember.onnx._graph import GraphBuilder, convert

    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"export: opset_version {opset} is not supported; ember exports opsets "
                         f"{MIN_OPSET} to {onnx.defs.onnx_opset_version()}")
    if f is None:
        raise ValueError("export: f (a file path or a binary file object) is required")
    args = _as_tuple(args)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict) and not kwargs:
        args, kwargs = args[:-1], dict(args[-1])
    inputs = [a for a in args if isinstance(a, Tensor)]
    input_names = list(input_names or [])
    names_in = input_names + [f"input_{i}" if i else "input" for i in range(len(input_names), len(inputs))]
    if len(input_names) > len(inputs):
        raise ValueError(f"export: {len(input_names)} input_names for {len(inputs)} tensor inputs")

    name_of_param = {}
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        name_of_param.setdefault(id(t._data), name)

    _exporting[0] = True
    try:
        with select_model_mode_for_export(model, False), enable_grad(), Tracer() as tracer:
            # grad mode on: in-place ops on activations then take the recorded path (see _tracer)
            feed = [Tensor._make(a._data.copy()) if isinstance(a, Tensor) else a for a in args]
            outputs = _flatten_outputs(model(*feed, **kwargs))
    finally:
        _exporting[0] = False

    g = GraphBuilder(opset, name_of_param)
    g._param_done = set()
    graph_inputs = []
    for name, t, original in zip(names_in, [a for a in feed if isinstance(a, Tensor)], inputs):
        g.names[id(t._data)] = name
        graph_inputs.append(_value_info(helper, name, t._data, _dynamic_axes_for(name, dynamic_axes)))
    g.traced_ids = {id(r.output) for r in tracer.records} | {id(t._data) for t in feed if isinstance(t, Tensor)}
    events = {}
    for index, array_id in tracer.events:
        events.setdefault(index, []).append(array_id)
    for i, record in enumerate(tracer.records):
        if isinstance(record.output, tuple):
            from ember.onnx.errors import UnsupportedOperatorError
            raise UnsupportedOperatorError(record.op, opset)
        g.names[id(record.output)] = convert(g, record)
        for array_id in events.get(i, ()):
            g.names[array_id] = g.names[id(record.output)]   # an in-place op: the array now holds this value

    output_names = list(output_names or [])
    graph_outputs = []
    for i, out in enumerate(outputs):
        internal = g.value(out._data)
        name = output_names[i] if i < len(output_names) else (f"output_{i}" if i else "output")
        if internal in [o.name for o in graph_outputs] or internal in names_in or internal in {
                init.name for init in g.initializers}:
            internal = g.node("Identity", [internal])
        # rename the producing node's output to the public name
        for node in g.nodes:
            for k, o in enumerate(node.output):
                if o == internal:
                    node.output[k] = name
            for k, o in enumerate(node.input):
                if o == internal:
                    node.input[k] = name
        graph_outputs.append(_value_info(helper, name, out._data, _dynamic_axes_for(name, dynamic_axes)))

    initializers = g.initializers
    param_names = set(name_of_param.values())
    if not export_params:
        # the parameters become inputs the caller feeds; only the other constants stay in the file
        graph_inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in initializers
                         if t.name in param_names]
        initializers = [t for t in initializers if t.name not in param_names]
    elif keep_initializers_as_inputs:
        graph_inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in initializers]
    graph = helper.make_graph(g.nodes, type(model).__name__, graph_inputs, graph_outputs, initializers)
    proto = helper.make_model(graph, producer_name="ember", producer_version=_version(),
                              opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = min(proto.ir_version, 10)     # readable by current onnxruntime releases
    onnx.checker.check_model(proto)
    if verbose:
        print(helper.printable_graph(proto.graph))
    data = proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        tmp = os.fspath(f) + ".partial"
        with open(tmp, "wb") as fh:       # written whole, then renamed: never half a file at f
            fh.write(data)
        os.replace(tmp, f)
    else:
        f.write(data)
    return None


def _version():
    import ember
    return ember.__version__
