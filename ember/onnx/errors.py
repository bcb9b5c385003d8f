"""torch.onnx.errors."""


class OnnxExporterError(RuntimeError):
    """Errors raised by the ONNX exporter."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op the model ran has no ONNX translation in ember's exporter."""

    def __init__(self, name, version=None, supported_version=None):
        msg = (f"Exporting the operator '{name}' to ONNX is not supported by ember's exporter"
               + (f" (opset version {version})" if version is not None else "")
               + ". The exporter translates the layers in ember.nn (linear, convolutions, pools, batch norm, "
                 "activations, reshapes, concatenation, elementwise arithmetic); rewrite the model with those "
                 "or leave this part out of the exported model.")
        super().__init__(msg)
