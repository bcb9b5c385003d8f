"""nn.DataParallel: on a machine without GPUs PyTorch's runs the module as it is; so does ember's."""
from ember.nn.modules.module import Module


class DataParallel(Module):
    """Wraps `module` (its state_dict keys gain the prefix 'module.'); with no GPUs the forward is the
    module's own, as in PyTorch."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
