import torch
from torch import nn


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))           # (C,) gamma
        self.bias = nn.Parameter(torch.zeros(num_features))            # (C,) beta
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        # x: (N, C) or (N, C, L); one mean and variance per channel C, over every other dim
        dims, shape = ((0,), (1, -1)) if x.dim() == 2 else ((0, 2), (1, -1, 1))
        if self.training:
            mean = x.mean(dim=dims)                                     # (C,)
            var = x.var(dim=dims, unbiased=False)                       # (C,) biased: used to normalise
            n = x.numel() // x.shape[1]                                 # values per channel
            with torch.no_grad():                                       # running stats: unbiased variance
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return x_hat * self.weight.view(shape) + self.bias.view(shape)
