"""ember.onnx (torch.onnx): export a model to an ONNX file (needs the optional 'onnx' package)."""
from ember.onnx import errors  # noqa: F401
from ember.onnx.errors import OnnxExporterError  # noqa: F401
from ember.onnx.utils import export, is_in_onnx_export, select_model_mode_for_export  # noqa: F401

__all__ = ["export", "is_in_onnx_export", "select_model_mode_for_export", "errors", "OnnxExporterError"]
