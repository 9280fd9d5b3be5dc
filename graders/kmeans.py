"""Cases for k-means: Lloyd's iterations from a given init, and k-means++ seeding.

Lloyd cases call `kmeans(x, init_centroids, max_iters, tol)`; labels index the given
init's order, so no permutation is involved and both outputs are compared directly.
k-means++ cases (inputs `x` and `k`) call `kmeans_plus_plus(x, k, generator)` from the
same file with `torch.Generator().manual_seed(case.seed)`; the run hook returns the chosen
centroids and, as `labels`, the row index in x of each one (first matching row).
"""

from drillcli.fixtures import Case, make_case

RETURNS = ("centroids", "labels")
REFERENCE_DTYPE = "float64"


def run(entry, kind, case, names):
    import torch

    from drillcli.harness import WrongReturn, build_inputs, check_inputs_unchanged, run_case

    if "k" not in case.inputs:
        return run_case(entry, kind, case, names)
    pp = getattr(entry, "__globals__", {}).get("kmeans_plus_plus")
    if pp is None:
        raise WrongReturn("your file must define kmeans_plus_plus(x, k, generator) as well as kmeans")
    args, named, _ = build_inputs(case)
    x, k = args
    centers = pp(x, k, torch.Generator().manual_seed(case.seed))
    check_inputs_unchanged(case, named)
    if not isinstance(centers, torch.Tensor) or tuple(centers.shape) != (k, x.shape[1]):
        got = tuple(centers.shape) if isinstance(centers, torch.Tensor) else type(centers).__name__
        raise WrongReturn(f"kmeans_plus_plus must return a tensor of shape ({k}, {x.shape[1]}), got {got}")
    match = (centers.detach()[:, None, :] == x[None, :, :]).all(-1)          # (k, N)
    rows = torch.where(match.any(1), match.to(torch.int8).argmax(1), torch.full((k,), -1))
    return {"centroids": centers, "labels": rows}


def _blobs(g, n, k, d, spread, sep, dtype, offset=0.0):
    import torch

    centers = torch.randn(k, d, generator=g, dtype=torch.float64) * sep
    which = torch.randint(0, k, (n,), generator=g)
    x = centers[which] + spread * torch.randn(n, d, generator=g, dtype=torch.float64) + offset
    return x.to(dtype)


def cases() -> list[Case]:
    import torch

    f32, f64 = torch.float32, torch.float64
    out: list[Case] = []

    def name_dtype(dt):
        return str(dt).removeprefix("torch.")

    def lloyd(name, x, init, max_iters=100, tol=1e-4, note="", seed=None, noncontig=()):
        out.append(make_case(name, {"x": x, "init_centroids": init.to(x.dtype), "max_iters": max_iters, "tol": tol},
                             seed=seed, dtype=name_dtype(x.dtype), note=note, noncontig=tuple(noncontig)))

    def plusplus(name, x, k, seed, note=""):
        out.append(make_case(name, {"x": x, "k": k}, seed=seed, dtype=name_dtype(x.dtype),
                             note=("k-means++ seeding with torch.Generator().manual_seed(seed); labels = row "
                                   "indices of the chosen points. " + note).strip()))

    pts = torch.tensor([[1.0, 1.0], [1.5, 2.0], [3.0, 4.0], [5.0, 7.0], [3.5, 5.0], [4.5, 5.0], [3.5, 4.5]])
    lloyd("readable-example", pts, pts[[0, 3]], note="the example of the prompt")
    lloyd("readable-one-step", pts, pts[[0, 3]], max_iters=1,
          note="max_iters = 1: one assignment + update, then labels for the returned centroids")
    lloyd("readable-empty-cluster", pts, torch.tensor([[1.0, 1.0], [4.0, 5.0], [100.0, 100.0]]),
          note="centroid 2 is far from every point: its cluster is empty and it keeps its position")
    lloyd("readable-tie", torch.tensor([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0]]), torch.tensor([[0.0, 0.0], [4.0, 0.0]]),
          max_iters=1, note="x = (2, 0) is equidistant from both centroids: the smaller index (0) wins")
    lloyd("duplicate-init-centroids", pts, pts[[0, 0, 3]],
          note="centroids 0 and 1 coincide: ties go to 0, so cluster 1 is empty and stays where it is")
    lloyd("large-tol-stops-early", pts, torch.tensor([[0.0, 0.0], [6.0, 8.0]]), tol=1e3,
          note="tol = 1000: the first update moves less than tol, so one iteration only")
    lloyd("tol-on-squared-shift", pts, pts[[0, 3]], tol=3.0,
          note="first shift: total squared 5.88 > tol = 3 (its square root 2.42 is not): the loop must go on")
    lloyd("tol-total-not-max", pts, pts[[0, 3]], tol=4.0,
          note="first shift: total 5.88 > tol = 4, but each centroid alone moves less than 4: the loop must go on")
    lloyd("tol-total-not-max-float64", pts.double() * 2, pts[[0, 3]].double() * 2, tol=16.0,
          note="the same points doubled, in float64: total 23.5 > tol = 16, each centroid alone less than 16")
    # tol = 0: the first update moves centroid 0 by 0.005 (squared shift 2.5e-5, below the default 1e-4),
    # which moves the boundary past x = 3.999: the second iteration reassigns it and both centroids jump
    line = torch.tensor([-1.0, 1.0, 3.999, 9.0, 11.0])
    near_start = torch.tensor([-0.005, 23.999 / 3])
    lloyd("tol-0-tiny-first-shift", torch.stack([line, torch.zeros(5)], 1), torch.stack([near_start, torch.zeros(2)], 1),
          tol=0.0, note="tol = 0 stops only when nothing moves: a first shift of 2.5e-5 is not convergence "
                        "(0.0 is a value, not 'use the default 1e-4')")
    u = torch.tensor([0.6, 0.8], dtype=f64)
    lloyd("tol-0-tiny-first-shift-float64", line.double()[:, None] * u + torch.tensor([2.0, -3.0], dtype=f64),
          near_start.double()[:, None] * u + torch.tensor([2.0, -3.0], dtype=f64), tol=0.0,
          note="the same points on a slanted line in float64: with tol = 0 the loop goes on after a tiny shift")
    lloyd("k-equals-1", pts, torch.tensor([[0.0, 0.0]]), note="K = 1: the centroid is the mean of all points")
    lloyd("k-equals-n", pts, pts.clone(), note="K = N with init = x: nothing moves")

    for i, (seed, n, k, d, dt, iters, tol, spread, note) in enumerate([
        (1, 200, 4, 2, f32, 100, 1e-4, 0.5, "blobs"),
        (2, 150, 3, 2, f64, 100, 0.0, 0.8, "tol = 0: run until nothing moves"),
        (3, 300, 8, 5, f32, 100, 1e-6, 0.4, ""),
        (4, 120, 5, 32, f64, 100, 1e-8, 0.7, "D = 32"),
        (5, 400, 10, 3, f32, 3, 1e-4, 1.0, "max_iters = 3 stops before convergence"),
        (6, 250, 6, 4, f64, 2, 0.0, 1.5, "overlapping blobs, 2 iterations"),
    ]):
        g = torch.Generator().manual_seed(seed)
        x = _blobs(g, n, k, d, spread, 4.0, dt)
        init = x[torch.randperm(n, generator=g)[:k]]
        lloyd(f"blobs-{i}", x, init, iters, tol, note=note, seed=seed)

    g = torch.Generator().manual_seed(7)
    x = _blobs(g, 100, 3, 2, 0.5, 4.0, f64, offset=1e4)
    lloyd("large-offset-float64", x, x[:3], note="coordinates around 1e4", seed=7)
    g = torch.Generator().manual_seed(8)
    x = _blobs(g, 100, 3, 2, 0.3, 3.0, f32, offset=100.0)
    lloyd("offset-float32", x, x[[0, 1, 2]], note="coordinates around 100 in float32", seed=8)
    g = torch.Generator().manual_seed(9)
    x = torch.randint(0, 6, (60, 2), generator=g).to(f32)
    lloyd("integer-grid-ties", x, x[:4].clone() + torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
          note="integer points on a 6x6 grid: many exact ties (smallest index wins), duplicate points", seed=9)
    for name, dt, seed in (("ties-matmul-path", f32, 12), ("ties-matmul-path-float64", f64, 13)):
        g = torch.Generator().manual_seed(seed)
        x = torch.randint(0, 13, (60, 2), generator=g).to(dt) * 0.5
        grid = torch.cartesian_prod(torch.arange(6.0), torch.arange(5.0)).to(dt)   # (30, 2) integer points
        lloyd(name, x, grid, max_iters=1, seed=seed,
              note="K = 30 > 25 (torch.cdist's matmul path) and half-integer points: exact ties, smallest index wins")
    g = torch.Generator().manual_seed(10)
    x = _blobs(g, 80, 3, 4, 0.5, 4.0, f32)
    lloyd("noncontiguous", x, x[:3].clone(), noncontig=("x", "init_centroids"), seed=10,
          note="x and init_centroids are non-contiguous views")
    g = torch.Generator().manual_seed(11)
    x = torch.cat([_blobs(g, 190, 1, 2, 0.3, 1.0, f64), _blobs(g, 10, 1, 2, 0.3, 1.0, f64) + 8.0])
    lloyd("unbalanced-clusters", x, x[[0, 1, 195]], seed=11, note="190 points vs 10 points")

    g = torch.Generator().manual_seed(20)
    plusplus("plusplus-readable", pts, 3, 20)
    plusplus("plusplus-blobs", _blobs(g, 200, 5, 2, 0.5, 4.0, f32), 5, 21)
    plusplus("plusplus-float64", _blobs(g, 150, 4, 6, 0.5, 4.0, f64), 6, 22, note="k = 6 > the 4 blobs")
    plusplus("plusplus-k-equals-1", _blobs(g, 50, 2, 3, 0.5, 4.0, f32), 1, 23, note="k = 1: a single uniform draw")
    x = _blobs(g, 30, 3, 2, 0.5, 4.0, f64)
    plusplus("plusplus-duplicate-points", torch.cat([x, x, x]), 8, 24,
             note="every point appears 3 times: a chosen point's duplicates have distance 0 and are never drawn")
    return out
