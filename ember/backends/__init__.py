"""ember.backends (torch.backends): the switches example programs set on every run. ember computes on the
CPU with NumPy, so cuDNN, CUDA and MPS are never available; their flags are kept and read back as
PyTorch keeps them (they change nothing here: ember's ops are deterministic and never use TF32)."""
from ember.backends import cuda, cudnn, mps  # noqa: F401
