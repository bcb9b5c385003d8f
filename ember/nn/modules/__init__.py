"""The layers, as in torch.nn.modules."""
from ember.nn.modules.module import Module  # noqa: F401
from ember.nn.modules.container import (  # noqa: F401
    Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict,
)
from ember.nn.modules.linear import Identity, Linear, LazyLinear  # noqa: F401
from ember.nn.modules.activation import (  # noqa: F401
    ReLU, ReLU6, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softplus, Hardtanh, Softmax, LogSoftmax, Softmin, Mish,
    Hardswish, Hardsigmoid, LogSigmoid, Softsign, PReLU,
)
from ember.nn.modules.dropout import Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout  # noqa: F401
from ember.nn.modules.flatten import Flatten, Unflatten  # noqa: F401
from ember.nn.modules.sparse import Embedding  # noqa: F401
from ember.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d  # noqa: F401
from ember.nn.modules.normalization import LayerNorm, GroupNorm  # noqa: F401
from ember.nn.modules.loss import (  # noqa: F401
    MSELoss, L1Loss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss,
)
from ember.nn.modules.conv import Conv1d, Conv2d  # noqa: F401
from ember.nn.modules.pooling import (  # noqa: F401
    MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool2d,
)
from ember.nn.modules.rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell  # noqa: F401
