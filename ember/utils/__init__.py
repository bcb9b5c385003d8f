"""torch.utils for ember: the data-loading package (``ember.utils.data``)."""
from ember.utils import data  # noqa: F401
