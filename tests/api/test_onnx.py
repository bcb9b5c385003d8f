"""ember.onnx.export: the exported file, run by onnxruntime, gives ember's outputs."""
import io

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def exported(model, *args, **kw):
    buf = io.BytesIO()
    ember.onnx.export(model, args, buf, **kw)
    return buf.getvalue()


def run(blob, feeds):
    session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, feeds)))


def check(model, *shapes, atol=1e-5, batch_sizes=None, **kw):
    ember.manual_seed(0)
    model.eval()
    xs = [ember.randn(*s) for s in shapes]
    blob = exported(model, *xs, **kw)
    for n in batch_sizes or [None]:
        feed = xs if n is None else [ember.randn(n, *s[1:]) for s in shapes]
        with ember.no_grad():
            ours = model(*feed)
        ours = [ours] if isinstance(ours, ember.Tensor) else list(ours)
        theirs = run(blob, [x.numpy() for x in feed])
        assert len(theirs) == len(ours)
        for a, b in zip(ours, theirs):
            assert a.shape == b.shape
            np.testing.assert_allclose(b, a.numpy(), atol=atol, rtol=1e-4)
    return blob


LAYERS = [
    ("linear-relu", lambda: nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)), (4, 6)),
    ("sigmoid-tanh-gelu", lambda: nn.Sequential(nn.Linear(6, 6), nn.Sigmoid(), nn.Tanh(), nn.GELU(),
                                                nn.GELU(approximate="tanh")), (3, 6)),
    ("softmax-logsoftmax", lambda: nn.Sequential(nn.Softmax(dim=1), nn.LogSoftmax(dim=-1)), (3, 7)),
    ("dropout-eval", lambda: nn.Sequential(nn.Dropout(0.5), nn.Linear(4, 2), nn.Dropout(0.3)), (5, 4)),
    ("conv1d-pools-bn1d", lambda: nn.Sequential(nn.Conv1d(2, 4, 3, stride=2, padding=1), nn.BatchNorm1d(4),
                                                nn.MaxPool1d(2), nn.AvgPool1d(2), nn.Flatten()), (3, 2, 16)),
    ("conv2d-groups-dilation", lambda: nn.Sequential(nn.Conv2d(4, 6, 3, padding=2, dilation=2, groups=2),
                                                     nn.Conv2d(6, 2, (1, 3), stride=(2, 1), bias=False)),
     (2, 4, 9, 9)),
    ("pools-ceil-and-pad", lambda: nn.Sequential(nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                                                 nn.AvgPool2d(2, padding=1, count_include_pad=False),
                                                 nn.AvgPool2d(3, stride=2, ceil_mode=True)), (2, 3, 13, 13)),
    ("adaptive-avg", lambda: nn.Sequential(nn.AdaptiveAvgPool2d((2, 3)), nn.Flatten(),
                                           nn.Linear(12, 2)), (2, 2, 8, 9)),
    ("bn2d-leaky-elu-hardtanh", lambda: nn.Sequential(nn.BatchNorm2d(3), nn.LeakyReLU(0.2), nn.ELU(),
                                                      nn.Hardtanh(-0.5, 0.5), nn.ReLU6(), nn.SiLU()), (2, 3, 4, 4)),
]


@pytest.mark.parametrize("name,make,shape", LAYERS, ids=[l[0] for l in LAYERS])
def test_layers(name, make, shape):
    model = make()
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        # give the running statistics values other than 0 and 1
        model.train()
        with ember.no_grad():
            for _ in range(3):
                model(ember.randn(*shape) * 2 + 1)
    check(model, shape)


class Residual(nn.Module):
    """What a module walk cannot see: view with x.size(0), in-place add and ReLU, cat, arithmetic."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(6 * 4 * 4, 5)

    def forward(self, x):
        out = self.bn(self.conv(x))
        out += x
        out = F.relu(out, inplace=True)
        both = ember.cat([out, x * 0.5 - 1], dim=1)
        flat = both.view(both.size(0), -1)
        return self.fc(flat).mean(dim=1, keepdim=True), flat.sum(1)


def test_module_forward_between_layers_with_dynamic_batch():
    blob = check(Residual(), (2, 3, 4, 4), batch_sizes=[2, 5, 1], input_names=["images"],
                 output_names=["score", "total"],
                 dynamic_axes={"images": {0: "batch"}, "score": {0: "batch"}, "total": [0]})
    model = onnx.load_from_string(blob)
    assert [i.name for i in model.graph.input] == ["images"]
    assert [o.name for o in model.graph.output] == ["score", "total"]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert {"conv.weight", "conv.bias", "fc.weight", "fc.bias"} <= {t.name for t in model.graph.initializer}


def cli_zoo():
    """The `ember` command's model table (ember.vision.models._tutorials once torchvision's models take the
    public names)."""
    try:
        from ember.vision.models._tutorials import MODELS
    except ImportError:
        from ember.vision.models import MODELS
    return MODELS


@pytest.mark.parametrize("name", list(cli_zoo()))
def test_cli_zoo_models(name):
    spec = cli_zoo()[name]
    ember.manual_seed(0)
    check(spec.build(num_classes=10, in_channels=1), (1, 1) + tuple(spec.input_size), atol=1e-4)


def test_file_path_opset_and_export_params(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    x = ember.randn(4, 3)
    path = tmp_path / "m.onnx"
    assert ember.onnx.export(model, (x,), str(path), opset_version=17, do_constant_folding=True,
                             verbose=False) is None
    loaded = onnx.load(str(path))
    assert loaded.opset_import[0].version == 17
    np.testing.assert_allclose(run(path.read_bytes(), [x.numpy()])[0], model(x).detach().numpy(), atol=1e-6)
    blob = exported(model, x, export_params=False)
    g = onnx.load_from_string(blob).graph
    assert not g.initializer and [i.name for i in g.input] == ["input", "0.weight", "0.bias"]
    assert not list(tmp_path.glob("*.partial"))


def test_model_mode_restored_and_is_in_onnx_export():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append((ember.onnx.is_in_onnx_export(), self.training))
            return x + 1

    model = Probe().train()
    exported(model, ember.ones(2))
    assert seen == [(True, False)] and model.training and not ember.onnx.is_in_onnx_export()


def test_unsupported_op_names_it():
    class Cumulative(nn.Module):
        def forward(self, x):
            return ember.cumsum(x, 0)

    with pytest.raises(ember.onnx.errors.UnsupportedOperatorError, match="'Cumsum'"):
        exported(Cumulative(), ember.ones(3))
    assert issubclass(ember.onnx.errors.UnsupportedOperatorError, RuntimeError)


def test_tracing_leaves_ops_unpatched():
    from ember.autograd.function import Function
    from ember.ops.elementwise import Add
    before = Add.__dict__["forward"]
    exported(nn.Linear(2, 2), ember.ones(1, 2))
    assert Add.__dict__["forward"] is before and "forward" not in Function.__dict__.get("__wrapped__", {})


TORCHVISION_MODELS = ["resnet18", "mobilenet_v2", "squeezenet1_1", "densenet121"]


@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_torchvision_models(name):
    """ember.vision.models' torchvision architectures (skipped until they exist with torchvision's signature)."""
    import inspect
    import ember.vision.models as models
    build = getattr(models, name, None)
    if build is None or "weights" not in inspect.signature(build).parameters:
        pytest.skip(f"ember.vision.models.{name} with torchvision's signature is not there yet")
    ember.manual_seed(0)
    check(build(weights=None, num_classes=10), (1, 3, 64, 64), atol=1e-4)
