"""torch.cpu.amp: deprecated spellings of ember.amp's autocast and GradScaler for the CPU."""
from ember.cpu.amp.autocast_mode import autocast  # noqa: F401
from ember.cpu.amp.grad_scaler import GradScaler  # noqa: F401
