import torch


def kmeans(x, init_centroids, max_iters=100, tol=1e-4):
    """Lloyd's k-means from the given initial centroids.

    x: (N, D)   init_centroids: (K, D)   same dtype
    Returns (centroids (K, D) in x's dtype, labels (N,) int64): labels[i] is the index of the
    returned centroid nearest to x[i] (ties -> smallest index).
    """
    raise NotImplementedError


def kmeans_plus_plus(x, k, generator):
    """k-means++ seeding: (k, D) rows of x, drawn with the given torch.Generator.

    First center: x[torch.randint(N, (1,), generator=generator).item()].
    Each next center: x[torch.multinomial(d2, 1, generator=generator).item()], where d2 (N,) is
    each point's squared distance to its nearest center chosen so far.
    """
    raise NotImplementedError
