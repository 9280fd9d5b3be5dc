"""extras/cosine-similarity: the reference agrees with F.cosine_similarity on the stored cases;
correct alternatives must pass with a margin; realistic bugs must fail, each on at least two
cases; a file written in another eps convention is told which one it follows."""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from drillcli.fixtures import load_cases
from drillcli.harness import build_inputs
from drillcli.testing import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe,
                              grade_source, mutate, problem_at)

SPEC = problem_at(Path(__file__).resolve().parents[1] / "problems" / "cosine-similarity")

CORRECT = {
    "normalise-then-matmul": """
import torch
def cosine_similarity(a, b, eps=1e-8):
    na = a.norm(dim=1, keepdim=True).clamp_min(eps)
    nb = b.norm(dim=1, keepdim=True).clamp_min(eps)
    return (a / na) @ (b / nb).T
""",
    "einsum-over-outer-norms": """
import torch
def cosine_similarity(a, b, eps=1e-8):
    na = torch.linalg.norm(a, dim=-1).clamp(min=eps)          # (N,)
    nb = torch.linalg.norm(b, dim=-1).clamp(min=eps)          # (M,)
    return torch.einsum("nd,md->nm", a, b) / torch.outer(na, nb)
""",
    "rsqrt-of-floored-squared-norms": """
import torch
def cosine_similarity(a, b, eps=1e-8):
    # max(|a|, eps) == sqrt(max(|a|^2, eps^2)): floor the squared norm at eps squared
    inv_a = torch.rsqrt((a * a).sum(dim=1, keepdim=True).clamp_min(eps * eps))
    inv_b = torch.rsqrt((b * b).sum(dim=1, keepdim=True).clamp_min(eps * eps))
    return (a * inv_a) @ (b * inv_b).transpose(0, 1)
""",
    "python-loops-float64": """
import math
import torch
def cosine_similarity(a, b, eps=1e-8):
    A, B = a.double().tolist(), b.double().tolist()
    na = [max(math.sqrt(sum(x * x for x in row)), eps) for row in A]
    nb = [max(math.sqrt(sum(y * y for y in row)), eps) for row in B]
    out = torch.empty(len(A), len(B), dtype=torch.float64)
    for i, u in enumerate(A):
        for j, v in enumerate(B):
            out[i, j] = sum(x * y for x, y in zip(u, v)) / (na[i] * nb[j])
    return out.to(a.dtype)
""",
    "numpy-broadcast-float64": """
import numpy as np
import torch
def cosine_similarity(a, b, eps=1e-8):
    A, B = a.numpy().astype(np.float64), b.numpy().astype(np.float64)
    na = np.maximum(np.sqrt((A ** 2).sum(axis=1)), eps)            # (N,)
    nb = np.maximum(np.sqrt((B ** 2).sum(axis=1)), eps)            # (M,)
    dots = (A[:, None, :] * B[None, :, :]).sum(axis=-1)             # (N, M)
    return torch.from_numpy(dots / na[:, None] / nb[None, :]).to(a.dtype)
""",
}

BASE = CORRECT["normalise-then-matmul"]

BUGS = {
    # older PyTorch: a.b / max(|a| |b|, eps); fails where both norms are small
    "clamps-the-product-of-norms": """
import torch
def cosine_similarity(a, b, eps=1e-8):
    na = a.norm(dim=1, keepdim=True)
    nb = b.norm(dim=1, keepdim=True)
    return (a @ b.T) / (na * nb.T).clamp_min(eps)
""",
    # optax: the squared norm floored at eps, i.e. the norm at sqrt(eps)
    "clamps-the-squared-norm": mutate(BASE, ("a.norm(dim=1, keepdim=True).clamp_min(eps)",
                                             "(a * a).sum(dim=1, keepdim=True).clamp_min(eps).sqrt()"),
                                      ("b.norm(dim=1, keepdim=True).clamp_min(eps)",
                                       "(b * b).sum(dim=1, keepdim=True).clamp_min(eps).sqrt()")),
    "adds-eps-to-the-norms": mutate(BASE, (".clamp_min(eps)", " + eps"), count=2),
    "no-eps-nan-on-zero-vectors": mutate(BASE, (".clamp_min(eps)", ""), count=2),
    "eps-zero-means-default": mutate(BASE, ("    na = ", "    eps = eps or 1e-8\n    na = ")),
    "one-sqrt-of-the-product-overflows": """
import torch
def cosine_similarity(a, b, eps=1e-8):
    sa = (a * a).sum(dim=1).clamp_min(eps * eps)        # |a|^2 floored at eps^2
    sb = (b * b).sum(dim=1).clamp_min(eps * eps)
    return (a @ b.T) / torch.sqrt(sa[:, None] * sb[None, :])
""",
    "norms-over-the-wrong-axis": mutate(BASE, ("a.norm(dim=1", "a.norm(dim=0"), ("b.norm(dim=1", "b.norm(dim=0")),
    "transposed-output": mutate(BASE, ("return (a / na) @ (b / nb).T", "return (b / nb) @ (a / na).T")),
    "returns-float64": mutate(BASE, ("return (a / na) @ (b / nb).T", "return (a / na).double() @ (b / nb).double().T")),
    "normalises-in-place": """
import torch
def cosine_similarity(a, b, eps=1e-8):
    a /= a.norm(dim=1, keepdim=True).clamp_min(eps)
    b /= b.norm(dim=1, keepdim=True).clamp_min(eps)
    return a @ b.T
""",
}

# files written in another convention: each verdict names it
NEAR_MISSES = {
    "clamped-product": BUGS["clamps-the-product-of-norms"],
    "clamped-squared-norm": BUGS["clamps-the-squared-norm"],
}

FORBIDDEN = {
    "functional": "import torch.nn.functional as F\ndef cosine_similarity(a, b, eps=1e-8):\n"
                  "    return F.cosine_similarity(a[:, None], b[None], dim=-1, eps=eps)\n",
    "torch-namespace": "import torch\ndef cosine_similarity(a, b, eps=1e-8):\n"
                       "    return torch.cosine_similarity(a[:, None], b[None], dim=-1, eps=eps)\n",
    "module": "from torch import nn\ndef cosine_similarity(a, b, eps=1e-8):\n"
              "    return nn.CosineSimilarity(dim=-1, eps=eps)(a[:, None], b[None])\n",
    "normalize": "from torch.nn.functional import normalize\ndef cosine_similarity(a, b, eps=1e-8):\n"
                 "    return normalize(a, dim=1, eps=eps) @ normalize(b, dim=1, eps=eps).T\n",
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_alternative_passes(name):
    assert_within_half_tolerance(grade_source(SPEC, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bug_is_rejected(name):
    assert_rejected(grade_source(SPEC, BUGS[name]))


def test_enough_alternatives_and_bugs():
    """The catalog's bar: at least 3 correct alternatives in different styles, at least 5 bugs."""
    assert len(CORRECT) >= 3 and len(BUGS) >= 5, f"{len(CORRECT)} alternatives, {len(BUGS)} bugs"


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_miss_is_named(variant):
    assert_near_miss(grade_source(SPEC, NEAR_MISSES[variant]), SPEC, variant)


@pytest.mark.parametrize("name", FORBIDDEN)
def test_forbidden_api_is_refused(name):
    verdict = grade_source(SPEC, FORBIDDEN[name])
    assert verdict.status == "forbidden", describe(verdict)


def _stored_cases():
    return load_cases(SPEC.source_root / "graders" / "fixtures" / f"{SPEC.local_id}.npz")


def _torch_floors_each_norm() -> bool:
    """Current PyTorch floors each norm at eps; older releases clamped the product |a| |b|."""
    v = torch.tensor([[3e-5, 4e-5]], dtype=torch.float64)       # |v| = 5e-5 > eps, |v|^2 = 2.5e-9 < eps
    return abs(F.cosine_similarity(v, v, dim=-1).item() - 1.0) < 1e-12


def test_reference_matches_torch_on_every_case():
    """F.cosine_similarity broadcast over (N, 1, D) and (1, M, D) on every stored case; on a torch
    that clamps the product of the norms, on every case where the two conventions agree."""
    reference = getattr(SPEC.module("solutions"), SPEC.entry)
    other = SPEC.module("graders").NEAR_MISSES["clamped-product"][1]
    same_convention = _torch_floors_each_norm()
    compared = 0
    for case in _stored_cases():
        a, b, *rest = build_inputs(case)[0]
        eps = rest[0] if rest else 1e-8
        ours = reference(a, b, *rest)
        if not same_convention and not torch.allclose(other(a.double(), b.double(), eps),
                                                      reference(a.double(), b.double(), eps), rtol=1e-6, atol=1e-9):
            continue
        theirs = F.cosine_similarity(a[:, None, :], b[None, :, :], dim=-1, eps=eps)
        torch.testing.assert_close(ours, theirs, msg=lambda m: f"{case.name}: {m}")
        compared += 1
    assert compared == len(_stored_cases()) or not same_convention, compared


def test_the_prompts_examples_are_the_stored_answers():
    stored = {case.name: case.outputs["out"] for case in _stored_cases()}
    np.testing.assert_allclose(stored["readable-2x4"], [[1.0, 0.0, -0.6, 0.0], [0.6, 0.8, -1.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(stored["readable-below-eps"], [[0.5]], atol=1e-6)


def test_the_prompts_magnitude_claims_hold():
    """Entries reach about 1e18 (float32) and 1e150 (float64); each squared norm fits the dtype,
    the product of two squared norms does not; norms go down to 1e-12."""
    for case in _stored_cases():
        for name in ("a", "b"):
            x = case.inputs[name].astype(np.float64)
            squared = (x * x).sum(axis=1)
            assert np.all(squared < np.finfo(case.inputs[name].dtype).max), (case.name, name)
            assert np.all((squared == 0) | (squared >= 1e-24 * 0.99)), (case.name, name)
    by_name = {case.name: case for case in _stored_cases()}
    for name, limit in (("large-both-float32", 1e18), ("large-both-float64", 1e150)):
        a, b = (by_name[name].inputs[k].astype(np.float64) for k in ("a", "b"))
        assert limit / 10 < max(np.abs(a).max(), np.abs(b).max()) < 2 * limit, name
        sa, sb = (a * a).sum(axis=1), (b * b).sum(axis=1)
        with np.errstate(over="ignore"):
            assert (sa[:, None] * sb[None, :]).min() > np.finfo(by_name[name].inputs["a"].dtype).max, name
