import torch


def kl_diag_gaussians(mu_q, logvar_q, mu_p=None, logvar_p=None):
    if mu_p is None:                                              # standard normal prior N(0, I)
        mu_p, logvar_p = torch.zeros_like(mu_q), torch.zeros_like(logvar_q)
    var_ratio = torch.exp(logvar_q - logvar_p)                    # (..., D) var_q / var_p, in log space
    dist = ((mu_q - mu_p) * torch.exp(-0.5 * logvar_p)) ** 2      # (..., D) (mu_q - mu_p)^2 / var_p, no 0 * inf
    kl = 0.5 * (var_ratio + dist - 1 - (logvar_q - logvar_p))     # (..., D) per dimension
    return kl.sum(dim=-1)                                         # (...,)  independent dims add up
