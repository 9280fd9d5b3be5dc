"""dropout: the stated mask rule, eval mode and gradients; the reference agrees with F.dropout where
torch's own mask (a different random stream) allows: eval mode, p = 0, p = 1, the set of output values
and the kept fraction."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.graders.dropout import run
from tests.support import (assert_near_miss, assert_rejected, assert_within_half_tolerance, describe, mutate,
                           reference, stored_cases)

PROBLEM = "dropout"

CORRECT = {
    "where-with-guard": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            if p >= 1:
                return x * 0
            keep = torch.rand(x.shape, generator=generator) >= p
            return torch.where(keep, x / (1 - p), torch.zeros_like(x))
    """,
    "uniform-float-mask-scale-first": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x.clone()
            if p == 1:
                return x * 0.0
            scale = 1.0 / (1.0 - p)
            u = torch.empty(x.shape).uniform_(0, 1, generator=generator)
            mask = (u >= p).to(x.dtype)
            return x * (mask * scale)
    """,
    "index-put": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            if p == 1:
                return torch.zeros_like(x)
            keep = torch.rand(x.size(), generator=generator).ge(p)
            out = torch.zeros_like(x)
            out[keep] = x[keep] / (1 - p)
            return out
    """,
    "flat-draw-reshaped": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if training is False:
                return x
            if p == 1.0:
                return torch.zeros_like(x)
            r = torch.rand(x.numel(), generator=generator).reshape(x.shape)
            return x.mul(r.ge(p)).div(1.0 - p)
    """,
}

BUGS = {
    "keeps-with-probability-p": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            if p == 1:
                return torch.zeros_like(x)
            keep = torch.rand(x.shape, generator=generator) < p
            return x * keep / (1 - p)
    """,
    "no-rescale": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            return x * (torch.rand(x.shape, generator=generator) >= p)
    """,
    "multiplies-by-keep-prob": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            return x * (torch.rand(x.shape, generator=generator) >= p) * (1 - p)
    """,
    "ignores-eval-mode": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if p == 1:
                return torch.zeros_like(x)
            keep = torch.rand(x.shape, generator=generator) >= p
            return x * keep / (1 - p)
    """,
    "global-rng-rand-like": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            if p == 1:
                return torch.zeros_like(x)
            keep = torch.rand_like(x) >= p
            return x * keep / (1 - p)
    """,
    "bernoulli-mask": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            if p == 1:
                return torch.zeros_like(x)
            keep = torch.bernoulli(torch.full(x.shape, 1 - p), generator=generator)
            return x * keep / (1 - p)
    """,
    "mask-drawn-in-x-dtype": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            if p == 1:
                return torch.zeros_like(x)
            keep = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p
            return x * keep / (1 - p)
    """,
    "draws-before-eval-check": """
        import torch
        def dropout(x, p, training=True, generator=None):
            keep = torch.rand(x.shape, generator=generator) >= p
            if not training:
                return x
            if p == 1:
                return torch.zeros_like(x)
            return x * keep / (1 - p)
    """,
    "p-one-draws-first": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            keep = torch.rand(x.shape, generator=generator) >= p
            return x * keep / (1 - p) if p < 1 else torch.zeros_like(x)
    """,
    "scales-input-in-place": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            if p == 1:
                return torch.zeros_like(x)
            keep = torch.rand(x.shape, generator=generator) >= p
            with torch.no_grad():
                x.mul_(keep).div_(1 - p)
            return x.clone()
    """,
    "keep-prob-convention": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            keep = torch.rand(x.shape, generator=generator) < p
            return x * keep / p
    """,
    "classic-scaled-at-test-time": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x * (1 - p)
            return x * (torch.rand(x.shape, generator=generator) >= p)
    """,
    "p-one-divides-by-zero": """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            keep = torch.rand(x.shape, generator=generator) >= p
            return x * keep / (1 - p)
    """,
}

# p = 0 drops nothing; it is not "use the default"
BUGS["zero-p-taken-as-default"] = mutate(CORRECT["where-with-guard"],
                                         ("if not training:", "p = p or 0.5\n            if not training:"))

NEAR_MISSES = {
    "not-inverted": [BUGS["no-rescale"], BUGS["classic-scaled-at-test-time"]],
    "keep-probability": [BUGS["keep-prob-convention"]],
}


@pytest.mark.parametrize("variant", NEAR_MISSES)
def test_near_misses_are_named(grade_source, variant):
    for source in NEAR_MISSES[variant]:
        assert_near_miss(grade_source(PROBLEM, source), PROBLEM, variant)


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status == ("modified_input" if name == "scales-input-in-place" else "failed"), describe(verdict)
    assert_rejected(verdict)


def test_failure_messages_name_the_mistake(grade_source):
    def messages(name):
        verdict = grade_source(PROBLEM, BUGS[name])
        return "\n".join(c.message + "\n" + c.detail for c in verdict.cases if not c.passed)

    assert "expected about 70.0%" in messages("keeps-with-probability-p")
    assert "inverted dropout rescales" in messages("no-rescale")
    assert "eval mode" in messages("ignores-eval-mode")
    assert "mask differs from the stated rule" in messages("bernoulli-mask")
    assert "drew from the generator although training=False" in messages("draws-before-eval-check")
    assert "drew from the generator although p = 1" in messages("p-one-draws-first")


def test_detached_output_is_reported(grade_source):
    verdict = grade_source(PROBLEM, """
        import torch
        def dropout(x, p, training=True, generator=None):
            if not training:
                return x
            if p == 1:
                return torch.zeros_like(x)
            return (x * (torch.rand(x.shape, generator=generator) >= p) / (1 - p)).detach()
    """)
    assert verdict.status == "wrong_return" and "autograd" in verdict.first_failure().message


def test_reference_agrees_with_torch_dropout_on_every_case():
    ref = reference(PROBLEM)
    for case in stored_cases(PROBLEM):
        ours = run(ref, "function", case, ["out"])
        x = torch.from_numpy(case.inputs["x"])
        p, training = case.inputs["p"], case.inputs["training"]
        assert ours["draws"] == (0 if not training or p == 1 or x.numel() == 0 else 1), case.name
        torch.manual_seed(case.seed)
        lib = F.dropout(x, p, training)
        scale = 0.0 if p == 1 else 1 / (1 - p)
        if not training or p in (0.0, 1.0):
            torch.testing.assert_close(ours["out"], lib, msg=case.name)
        else:
            # torch draws its mask from another stream: compare what each entry may become and how many are kept
            for out in (ours["out"], lib):
                kept = out != 0
                torch.testing.assert_close(out[kept], x[kept] * scale, msg=case.name)
            n = (x != 0).sum().item()
            if n >= 1000:
                frac_ours, frac_lib = ((ours["out"] != 0).sum() / n).item(), ((lib != 0).sum() / n).item()
                sigma = (p * (1 - p) / n) ** 0.5
                assert abs(frac_ours - (1 - p)) < 5 * sigma and abs(frac_lib - (1 - p)) < 5 * sigma, case.name
        if "grad_x" in ours:
            # d out / d x is keep / (1 - p): the output divided by x where x != 0
            upstream = torch.from_numpy(case.inputs["_upstream"])
            factor = torch.where(x != 0, ours["out"].detach() / torch.where(x != 0, x, 1), 0)
            nz = x != 0
            torch.testing.assert_close(ours["grad_x"][nz], (upstream * factor)[nz], msg=case.name)
