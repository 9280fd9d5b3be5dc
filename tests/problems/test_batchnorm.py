"""batchnorm: the reference equals torch.nn.BatchNorm1d over every stored step sequence
(outputs, running statistics and gradients), correct variants pass, realistic bugs fail,
the library module is refused."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from drillcli.graders import batchnorm as grader
from tests.support import assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "batchnorm"

_INIT = """
        import torch
        from torch import nn
        class BatchNorm1d(nn.Module):
            def __init__(self, num_features, eps=1e-5, momentum=0.1):
                super().__init__()
                self.eps, self.momentum = eps, momentum
                self.weight = nn.Parameter(torch.ones(num_features))
                self.bias = nn.Parameter(torch.zeros(num_features))
                self.register_buffer("running_mean", torch.zeros(num_features))
                self.register_buffer("running_var", torch.ones(num_features))
"""

CORRECT = {
    "var-unbiased-then-rescale": _INIT + """
            def forward(self, x):
                dims = [0] if x.dim() == 2 else [0, 2]
                shape = [1, -1] + [1] * (x.dim() - 2)
                if self.training:
                    n = x.numel() / x.shape[1]
                    mean = x.mean(dims)
                    var_unbiased = x.var(dims, unbiased=True)
                    var = var_unbiased * (n - 1) / n
                    with torch.no_grad():
                        self.running_mean.copy_((1 - self.momentum) * self.running_mean + self.momentum * mean)
                        self.running_var.copy_((1 - self.momentum) * self.running_var + self.momentum * var_unbiased)
                else:
                    mean, var = self.running_mean, self.running_var
                return self.weight.view(shape) * (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps) \\
                    + self.bias.view(shape)
    """,
    "flatten-to-rows-float64-stats": _INIT + """
            def forward(self, x):
                c = x.shape[1]
                rows = x.transpose(1, -1).reshape(-1, c) if x.dim() == 3 else x     # (n, C)
                if self.training:
                    r = rows.double()
                    mean = r.mean(0)
                    var = ((r - mean) ** 2).mean(0)
                    n = r.shape[0]
                    self.running_mean.data = ((1 - self.momentum) * self.running_mean.double() + self.momentum * mean).to(x.dtype)
                    self.running_var.data = ((1 - self.momentum) * self.running_var.double()
                                             + self.momentum * var * n / (n - 1)).to(x.dtype)
                    mean, var = mean.to(x.dtype), var.to(x.dtype)
                else:
                    mean, var = self.running_mean, self.running_var
                y = (rows - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
                return y.reshape(x.shape[0], -1, c).transpose(1, -1).reshape(x.shape) if x.dim() == 3 else y
    """,
    "einsum-two-pass-sums": _INIT + """
            def forward(self, x):
                x3 = x if x.dim() == 3 else x.unsqueeze(-1)                           # (N, C, L)
                if self.training:
                    n = x3.shape[0] * x3.shape[2]
                    mean = torch.einsum("ncl->c", x3) / n
                    centered = x3 - mean[None, :, None]
                    ss = torch.einsum("ncl,ncl->c", centered, centered)
                    var = ss / n
                    with torch.no_grad():
                        self.running_mean.mul_(1 - self.momentum).add_(mean, alpha=self.momentum)
                        self.running_var.mul_(1 - self.momentum).add_(ss / (n - 1), alpha=self.momentum)
                else:
                    mean, var = self.running_mean, self.running_var
                y = (x3 - mean[None, :, None]) / (var[None, :, None] + self.eps).sqrt()
                y = y * self.weight[None, :, None] + self.bias[None, :, None]
                return y if x.dim() == 3 else y.squeeze(-1)
    """,
    "var-mean-and-lerp": _INIT + """
            def forward(self, x):
                dims = (0,) if x.dim() == 2 else (0, 2)
                shape = (1, -1) + (1,) * (x.dim() - 2)
                if self.training:
                    var, mean = torch.var_mean(x, dim=dims, correction=0)
                    n = x.numel() // x.shape[1]
                    with torch.no_grad():
                        self.running_mean.lerp_(mean, self.momentum)
                        self.running_var.lerp_(var * (n / (n - 1)), self.momentum)
                else:
                    mean, var = self.running_mean, self.running_var
                x_hat = (x - mean.reshape(shape)) / (var.reshape(shape) + self.eps) ** 0.5
                return torch.addcmul(self.bias.reshape(shape), x_hat, self.weight.reshape(shape))
    """,
}


def _forward(train_stats, eval_stats="mean, var = self.running_mean, self.running_var", norm="torch.sqrt(var + self.eps)"):
    return _INIT + f"""
            def forward(self, x):
                dims = (0,) if x.dim() == 2 else (0, 2)
                shape = (1, -1) + (1,) * (x.dim() - 2)
                n = x.numel() // x.shape[1]
                m = self.momentum
                if self.training:
                    {train_stats}
                else:
                    {eval_stats}
                return (x - mean.view(shape)) / ({norm}).view(shape) * self.weight.view(shape) + self.bias.view(shape)
    """


_GOOD_UPDATE = ("mean = x.mean(dims); var = x.var(dims, unbiased=False)\n"
                "                    with torch.no_grad():\n"
                "                        self.running_mean.mul_(1 - m).add_(m * mean)\n"
                "                        self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))")

BUGS = {
    "running-var-biased": _forward(
        "mean = x.mean(dims); var = x.var(dims, unbiased=False)\n"
        "                    with torch.no_grad():\n"
        "                        self.running_mean.mul_(1 - m).add_(m * mean)\n"
        "                        self.running_var.mul_(1 - m).add_(m * var)"),
    "normalises-with-unbiased-variance": _forward(
        "mean = x.mean(dims); var = x.var(dims)\n"
        "                    with torch.no_grad():\n"
        "                        self.running_mean.mul_(1 - m).add_(m * mean)\n"
        "                        self.running_var.mul_(1 - m).add_(m * var)"),
    "eval-uses-batch-statistics": _forward(_GOOD_UPDATE, eval_stats="mean = x.mean(dims); var = x.var(dims, unbiased=False)"),
    "momentum-keras-convention": _forward(
        "mean = x.mean(dims); var = x.var(dims, unbiased=False)\n"
        "                    with torch.no_grad():\n"
        "                        self.running_mean.mul_(m).add_((1 - m) * mean)\n"
        "                        self.running_var.mul_(m).add_((1 - m) * var * n / (n - 1))"),
    "sequence-input-reduces-batch-only": _forward(
        "mean = x.mean(0); var = x.var(0, unbiased=False)\n"
        "                    with torch.no_grad():\n"
        "                        self.running_mean.mul_(1 - m).add_(m * mean.mean(-1) if mean.dim() > 1 else m * mean)\n"
        "                        self.running_var.mul_(1 - m).add_(m * (var.mean(-1) if var.dim() > 1 else var) * n / (n - 1))\n"
        "                    mean, var = mean.reshape(-1), var.reshape(-1)\n"
        "                    shape = x.shape[1:]\n"
        "                    return (x - mean.view(shape)) / (var.view(shape) + self.eps).sqrt() * self.weight.view(-1, *[1] * (x.dim() - 2)) + self.bias.view(-1, *[1] * (x.dim() - 2))"),
    "eps-outside-sqrt": _forward(_GOOD_UPDATE, norm="torch.sqrt(var) + self.eps"),
    "normalises-training-batch-with-running-stats": _forward(
        _GOOD_UPDATE + "\n                    mean, var = self.running_mean, self.running_var"),
    "one-pass-variance": _forward(
        "mean = x.mean(dims); var = (x * x).mean(dims) - mean * mean\n"
        "                    with torch.no_grad():\n"
        "                        self.running_mean.mul_(1 - m).add_(m * mean)\n"
        "                        self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))"),
    "batch-statistics-without-gradient": _forward(
        "with torch.no_grad():\n"
        "                        mean = x.mean(dims); var = x.var(dims, unbiased=False)\n"
        "                        self.running_mean.mul_(1 - m).add_(m * mean)\n"
        "                        self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))"),
    "zero-momentum-means-default": _forward(_GOOD_UPDATE.replace("mean = x.mean(dims)", "m = m or 0.1; mean = x.mean(dims)")),
    "running-var-initialised-to-zero": _forward(_GOOD_UPDATE).replace(
        'self.register_buffer("running_var", torch.ones(num_features))',
        'self.register_buffer("running_var", torch.zeros(num_features))'),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    verdict = grade_source(PROBLEM, CORRECT[name])
    assert_within_half_tolerance(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == "failed", describe(verdict)
    assert_rejected(verdict)


@pytest.mark.parametrize("source", [
    "import torch\nclass BatchNorm1d(torch.nn.BatchNorm1d):\n    pass\n",
    "import torch.nn.functional as F\nfrom torch import nn\nimport torch\n"
    "class BatchNorm1d(nn.Module):\n    def __init__(self, c, eps=1e-5, momentum=0.1):\n        super().__init__()\n"
    "        self.weight = nn.Parameter(torch.ones(c)); self.bias = nn.Parameter(torch.zeros(c))\n"
    "        self.register_buffer('running_mean', torch.zeros(c)); self.register_buffer('running_var', torch.ones(c))\n"
    "    def forward(self, x):\n        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training)\n",
])
def test_library_batch_norm_is_forbidden(grade_source, source):
    assert grade_source(PROBLEM, source).status == "forbidden"


def test_reference_matches_nn_batchnorm1d_on_every_case():
    """The grader's step sequence driven with torch.nn.BatchNorm1d gives the stored outputs and
    running statistics (which come from the reference run in float64 and rounded once)."""
    for case in stored_cases(PROBLEM):
        ours = grader.run(reference(PROBLEM), "class", case, list(grader.RETURNS))
        torch_ = grader.run(nn.BatchNorm1d, "class", case, list(grader.RETURNS))
        for name in grader.RETURNS:
            assert ours[name].dtype == torch_[name].dtype, (case.name, name)
            torch.testing.assert_close(ours[name], torch_[name], msg=f"{case.name} {name}",
                                       **({"atol": 2e-5, "rtol": 1e-4} if case.dtype == "float32" else {}))
            torch.testing.assert_close(torch.from_numpy(case.outputs[name]), torch_[name], msg=f"{case.name} {name}",
                                       **({"atol": 2e-5, "rtol": 1e-4} if case.dtype == "float32" else {}))
        assert case.outputs["grad_x"].any(), case.name


def test_running_stats_do_not_change_in_eval_mode():
    bn = reference(PROBLEM)(3)
    bn.eval()
    bn(torch.randn(5, 3))
    assert torch.equal(bn.running_mean, torch.zeros(3)) and torch.equal(bn.running_var, torch.ones(3))
    assert {n for n, _ in bn.named_buffers()} == {"running_mean", "running_var"}


# files written in another convention: each verdict names it
NEAR_MISSES = {
    "running-var-biased": BUGS["running-var-biased"],
    "normalises-unbiased": BUGS["normalises-with-unbiased-variance"],
    "keras-momentum": BUGS["momentum-keras-convention"],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    assert_near_miss(grade_source(PROBLEM, NEAR_MISSES[variant]), PROBLEM, variant)
