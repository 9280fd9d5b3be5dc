import torch


def clip_grad_norm(parameters, max_norm, norm_type=2.0):
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)  # a generator is read once
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])  # (n_grads,) one norm each
    total_norm = torch.linalg.vector_norm(norms, norm_type)                       # () norm of all grads as one vector
    clip_coef = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)              # () never scales up
    for g in grads:
        g.mul_(clip_coef)                                                         # in place: p.grad is g
    return total_norm
