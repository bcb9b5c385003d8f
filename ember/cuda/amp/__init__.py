"""torch.cuda.amp: deprecated spellings of ember.amp's autocast and GradScaler for CUDA (which ember does
not have: both disable themselves with PyTorch's warning)."""
from ember.cuda.amp.autocast_mode import autocast, custom_fwd, custom_bwd  # noqa: F401
from ember.cuda.amp.grad_scaler import GradScaler  # noqa: F401
