import torch


def vae_reparameterize(mu, logvar, generator):
    """The VAE reparameterization trick and the KL term of the ELBO.

    mu, logvar: (..., d)   parameters of q(z|x) = N(mu, diag(exp(logvar)))
    generator:  a torch.Generator; draw the noise with exactly one call:
                eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    Returns (z, kl):
      z  (..., d) = mu + exp(0.5 * logvar) * eps     (differentiable w.r.t. mu and logvar)
      kl (...,)   = KL(q || N(0, I)), summed over the last dim (no mean over the batch)
    """
    raise NotImplementedError
