"""ember.amp (torch.amp): automatic mixed precision -- autocast regions and the gradient scaler."""
from ember.amp.autocast_mode import (  # noqa: F401
    autocast, is_autocast_available, is_autocast_enabled, get_autocast_dtype, set_autocast_enabled,
    set_autocast_dtype, custom_fwd, custom_bwd,
)
from ember.amp.grad_scaler import GradScaler  # noqa: F401
