"""ember.utils.tensorboard (torch.utils.tensorboard): SummaryWriter writes TensorBoard event files through
the optional `tensorboard` package."""
try:
    import tensorboard  # noqa: F401
except ImportError:
    raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above (pip install tensorboard, "
                      "or ember's 'tensorboard' extra)") from None

from ember.utils.tensorboard.writer import FileWriter, SummaryWriter  # noqa: F401,E402
