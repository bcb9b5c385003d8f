"""ember.vision.models: torchvision.models' classification networks, with torchvision's names, signatures,
state_dict keys and weights enums (pretrained files are read from PyTorch's hub cache, never downloaded).

The tutorials' networks that `ember train` uses live in ember.vision.models._tutorials.
"""
from ember.vision.models._api import (Weights, WeightsEnum, get_model, get_model_builder,  # noqa: F401
                                      get_model_weights, get_weight, list_models)
from ember.vision.models.alexnet import *  # noqa: F401,F403
from ember.vision.models.densenet import *  # noqa: F401,F403
from ember.vision.models.mobilenetv2 import *  # noqa: F401,F403
from ember.vision.models.resnet import *  # noqa: F401,F403
from ember.vision.models.squeezenet import *  # noqa: F401,F403
from ember.vision.models.vgg import *  # noqa: F401,F403
