import torch


def kl_diag_gaussians(mu_q, logvar_q, mu_p=None, logvar_p=None):
    """KL(q || p) between diagonal Gaussians q = N(mu_q, diag(exp(logvar_q))), p = N(mu_p, diag(exp(logvar_p))).

    mu_q, logvar_q: (..., D) float tensors (log-VARIANCES, not log std)
    mu_p, logvar_p: broadcastable to (..., D), or both None for the standard normal N(0, I)
    Returns (...,): the KL summed over the last dimension D.
    """
    raise NotImplementedError
