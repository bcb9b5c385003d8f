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
from ember.nn.modules.activation import MultiheadAttention  # noqa: F401
from ember.nn.modules.transformer import (  # noqa: F401
    Transformer, TransformerEncoder, TransformerDecoder, TransformerEncoderLayer, TransformerDecoderLayer,
)
from ember.nn.modules.dropout import Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout  # noqa: F401
from ember.nn.modules.flatten import Flatten, Unflatten  # noqa: F401
from ember.nn.modules.sparse import Embedding, EmbeddingBag  # noqa: F401
from ember.nn.modules.batchnorm import (  # noqa: F401
    BatchNorm1d, BatchNorm2d, BatchNorm3d, LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d,
)
from ember.nn.modules.normalization import LayerNorm, GroupNorm  # noqa: F401
from ember.nn.modules.loss import (  # noqa: F401
    MSELoss, L1Loss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss,
)
from ember.nn.modules.loss import CosineEmbeddingLoss, MarginRankingLoss, TripletMarginLoss  # noqa: F401
from ember.nn.modules.conv import Conv1d, Conv2d, LazyConv1d, LazyConv2d, LazyConvTranspose2d  # noqa: F401
from ember.nn.modules.pooling import (  # noqa: F401
    MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool2d,
)
from ember.nn.modules.padding import (  # noqa: F401
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d,
    ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
    ZeroPad3d,
)
from ember.nn.modules.instancenorm import (  # noqa: F401
    InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d,
)
from ember.nn.modules.pixelshuffle import PixelShuffle, PixelUnshuffle  # noqa: F401
from ember.nn.modules.upsampling import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d  # noqa: F401
from ember.nn.modules.conv import ConvTranspose1d, ConvTranspose2d  # noqa: F401

from ember.nn.modules.rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell  # noqa: F401

# `from ember.nn.modules import *` (ember.nn does it) gives the layers, not the files they live in
import types as _types  # noqa: E402
__all__ = [_n for _n, _v in list(globals().items())
           if not _n.startswith("_") and not isinstance(_v, _types.ModuleType)]
