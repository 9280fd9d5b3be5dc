import torch


def _assign(x, c):
    d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)     # (N, K) squared distances
    return d2.argmin(dim=1)                                   # (N,) ties -> smallest index


def kmeans(x, init_centroids, max_iters=100, tol=1e-4):
    c = init_centroids.clone()                                # (K, D)
    K = c.shape[0]
    for _ in range(max_iters):
        labels = _assign(x, c)                                # (N,)
        sums = torch.zeros_like(c).index_add_(0, labels, x)   # (K, D) per-cluster sums
        counts = torch.bincount(labels, minlength=K)          # (K,)
        new_c = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None].to(x.dtype), c)  # empty: keep
        shift = ((new_c - c) ** 2).sum()                      # total squared centroid movement
        c = new_c
        if shift <= tol:
            break
    return c, _assign(x, c)                                   # labels match the returned centroids


def kmeans_plus_plus(x, k, generator):
    idx = [torch.randint(x.shape[0], (1,), generator=generator).item()]    # first center: uniform
    d2 = ((x - x[idx[0]]) ** 2).sum(-1)                       # (N,) squared distance to the nearest center
    for _ in range(1, k):
        i = torch.multinomial(d2, 1, generator=generator).item()           # P(i) proportional to d2[i]
        idx.append(i)
        d2 = torch.minimum(d2, ((x - x[i]) ** 2).sum(-1))
    return x[idx].clone()                                     # (k, D)
