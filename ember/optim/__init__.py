"""ember.optim: optimizers and learning-rate schedulers with torch.optim's API and numerics.

    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
"""
from ember.optim.optimizer import Optimizer  # noqa: F401
from ember.optim.sgd import SGD  # noqa: F401
from ember.optim.adam import Adam  # noqa: F401
from ember.optim.adamw import AdamW  # noqa: F401
from ember.optim.rmsprop import RMSprop  # noqa: F401
from ember.optim.adagrad import Adagrad  # noqa: F401
from ember.optim.adadelta import Adadelta  # noqa: F401
from ember.optim.adamax import Adamax  # noqa: F401
from ember.optim.nadam import NAdam  # noqa: F401
from ember.optim.radam import RAdam  # noqa: F401
from ember.optim.lbfgs import LBFGS  # noqa: F401
from ember.optim import lr_scheduler  # noqa: F401

__all__ = [
    "Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "LBFGS", "lr_scheduler", "NAdam", "Optimizer", "RAdam",
    "RMSprop", "SGD",
]
