import torch


def vae_reparameterize(mu, logvar, generator):
    """mu, logvar (..., d): a diagonal Gaussian q(z|x) = N(mu, exp(logvar)).
    Returns (z (..., d), kl (...,)) with z = mu + std * eps and kl = KL(q || N(0, I))."""
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)   # (..., d)
    std = torch.exp(0.5 * logvar)                                   # (..., d) sigma = exp(logvar / 2)
    z = mu + std * eps                                              # differentiable in mu and logvar
    kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=-1)   # (...,) summed over the latent dim
    return z, kl
