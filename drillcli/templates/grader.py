"""Cases for $id. No torch import at module level: the parent imports this module."""

from drillcli.fixtures import Case, make_case

RETURNS = ("out",)   # the names of the returned values


def cases() -> list[Case]:
    """At least 20 deterministic cases, readable ones first; every case's expected output is
    computed by the reference solution when `drill build-fixtures` runs."""
    import torch

    out = [make_case("readable", {"x": torch.tensor([1.0, -2.0, 3.0]), "scale": 2.0}, dtype="float32",
                     note="the example of the prompt"),
           make_case("scale-zero", {"x": torch.tensor([1.0, 2.0]), "scale": 0.0}, dtype="float32",
                     note="scale 0 is a value, not a missing argument"),
           make_case("scale-zero-float64", {"x": torch.tensor([[-1.5, 2.0]], dtype=torch.float64), "scale": 0.0},
                     dtype="float64", note="scale 0 is a value, not a missing argument")]
    for seed in range(18):
        g = torch.Generator().manual_seed(seed)
        dtype = (torch.float32, torch.float64)[seed % 2]
        shape = [(4,), (2, 3), (2, 3, 5)][seed % 3]
        x = torch.randn(*shape, generator=g, dtype=dtype)
        out.append(make_case(f"random-{seed}", {"x": x, "scale": 0.5 + seed}, seed=seed,
                             dtype=str(dtype).removeprefix("torch.")))
    return out
