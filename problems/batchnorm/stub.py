import torch
from torch import nn


class BatchNorm1d(nn.Module):
    """Batch normalization with running statistics (the semantics of torch.nn.BatchNorm1d).

    Attributes: weight (C,) = 1 and bias (C,) = 0 as nn.Parameter; running_mean (C,) = 0 and
    running_var (C,) = 1 as registered buffers.
    forward(x): x (N, C) or (N, C, L) -> same shape. Training mode: normalise with the batch
    statistics (biased variance) and update the running ones (unbiased variance, momentum);
    eval mode: normalise with the running statistics.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError
