"""add_graph: the ops of one traced forward pass as a TensorFlow GraphDef, which TensorBoard draws.

The trace is the ONNX exporter's (ember/onnx/_tracer.py): every op the forward ran, fast paths and
in-place ops included. Nodes are the inputs, the parameters (named by their state_dict keys) and the ops,
each op listing the values it read and the shape it produced."""
import numpy as np
from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef


def _shape_attr(array):
    shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in np.shape(array)])
    return {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=[shape]))}


def graph(model, args, verbose=False):
    from ember.tensor import Tensor
    from ember.autograd.grad_mode import enable_grad
    from ember.onnx._tracer import Tracer
    args = (args,) if isinstance(args, Tensor) else tuple(args or ())
    params = {id(t._data): name for name, t in list(model.named_parameters()) + list(model.named_buffers())}
    with enable_grad(), Tracer() as tracer:
        feed = [Tensor._make(a._data.copy()) if isinstance(a, Tensor) else a for a in args]
        model(*feed)
    names, nodes = {}, []
    for i, t in enumerate(a for a in feed if isinstance(a, Tensor)):
        names[id(t._data)] = f"input/input.{i + 1}"
        nodes.append(NodeDef(name=names[id(t._data)], op="IO Node", attr=_shape_attr(t._data)))
    events = {}
    for index, array_id in tracer.events:
        events.setdefault(index, []).append(array_id)
    root = type(model).__name__
    for i, record in enumerate(tracer.records):
        inputs = []
        for x in record.inputs:
            if not isinstance(x, np.ndarray):
                continue
            name = names.get(id(x))
            if name is None and id(x) in params:
                name = names[id(x)] = f"{root}/{params[id(x)]}"
                nodes.append(NodeDef(name=name, op="prim::GetAttr", attr=_shape_attr(x)))
            if name is not None:
                inputs.append(name)
        name = f"{root}/{record.op}_{i}"
        nodes.append(NodeDef(name=name, op=record.op, input=inputs,
                             attr=_shape_attr(record.output) if isinstance(record.output, np.ndarray) else {}))
        names[id(record.output)] = name
        for array_id in events.get(i, ()):
            names[array_id] = name
    if verbose:
        for n in nodes:
            print(n.name, n.op, list(n.input))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
