"""conv2d: the reference equals F.conv2d (values and gradients) on every stored case, correct
variants pass, realistic bugs fail."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from drillcli.harness import build_inputs
from tests.support import assert_rejected, assert_within_half_tolerance, describe, reference, stored_cases

PROBLEM = "conv2d"

CORRECT = {
    "loops-over-output-positions": """
        import torch
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            sh, sw = (stride, stride) if isinstance(stride, int) else stride
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            N, C, H, W = x.shape
            O, _, kh, kw = weight.shape
            xp = x.new_zeros(N, C, H + 2 * ph, W + 2 * pw)
            xp[:, :, ph:ph + H, pw:pw + W] = x
            Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
            rows = []
            for i in range(Ho):
                cols = []
                for j in range(Wo):
                    patch = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]          # (N, C, kh, kw)
                    cols.append((patch[:, None] * weight[None]).sum(dim=(2, 3, 4)))   # (N, O)
                rows.append(torch.stack(cols, -1))
            out = torch.stack(rows, -2)
            return out if bias is None else out + bias.view(1, -1, 1, 1)
    """,
    "im2col-by-indexing-matmul": """
        import torch
        import torch.nn.functional as F
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            sh, sw = (stride, stride) if isinstance(stride, int) else stride
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            N, C, H, W = x.shape
            O, _, kh, kw = weight.shape
            xp = F.pad(x, [pw, pw, ph, ph])
            Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
            r = (torch.arange(Ho) * sh)[:, None, None, None] + torch.arange(kh)[None, None, :, None]   # (Ho,1,kh,1)
            c = (torch.arange(Wo) * sw)[None, :, None, None] + torch.arange(kw)[None, None, None, :]   # (1,Wo,1,kw)
            cols = xp[:, :, r, c]                                              # (N, C, Ho, Wo, kh, kw)
            cols = cols.permute(0, 2, 3, 1, 4, 5).reshape(N, Ho * Wo, C * kh * kw)
            out = cols @ weight.reshape(O, -1).T                              # (N, Ho*Wo, O)
            if bias is not None:
                out = out + bias
            return out.transpose(1, 2).reshape(N, O, Ho, Wo)
    """,
    "shift-and-accumulate-float64": """
        import torch
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            sh, sw = (stride, stride) if isinstance(stride, int) else stride
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            dt = x.dtype
            x, weight = x.double(), weight.double()
            N, C, H, W = x.shape
            O, _, kh, kw = weight.shape
            xp = torch.nn.functional.pad(x, (pw, pw, ph, ph))
            Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
            out = torch.zeros(N, O, Ho, Wo, dtype=torch.float64)
            for a in range(kh):
                for b in range(kw):
                    sl = xp[:, :, a:a + sh * (Ho - 1) + 1:sh, b:b + sw * (Wo - 1) + 1:sw]   # (N, C, Ho, Wo)
                    out = out + torch.einsum("nchw,oc->nohw", sl, weight[:, :, a, b])
            if bias is not None:
                out = out + bias.double()[:, None, None]
            return out.to(dt)
    """,
    "as-strided-windows": """
        import torch
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            sh, sw = (stride, stride) if isinstance(stride, int) else stride
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            N, C, H, W = x.shape
            O, _, kh, kw = weight.shape
            xp = torch.zeros(N, C, H + 2 * ph, W + 2 * pw, dtype=x.dtype)
            xp = xp.index_put((torch.arange(N)[:, None, None, None], torch.arange(C)[None, :, None, None],
                               torch.arange(ph, ph + H)[None, None, :, None], torch.arange(pw, pw + W)[None, None, None, :]), x)
            Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
            s = xp.stride()
            win = xp.as_strided((N, C, Ho, Wo, kh, kw), (s[0], s[1], s[2] * sh, s[3] * sw, s[2], s[3]))
            out = torch.tensordot(win, weight, dims=([1, 4, 5], [1, 2, 3])).permute(0, 3, 1, 2)
            return out + bias[:, None, None] if bias is not None else out
    """,
}

TEMPLATE = """
import torch
import torch.nn.functional as F
def conv2d(x, weight, bias=None, stride=1, padding=0):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    kh, kw = weight.shape[-2:]
    x = PAD_LINE
    patches = x.unfold(2, kh, sh).unfold(3, kw, sw)
    out = torch.einsum("nchwij,ocij->nohw", patches, WEIGHT)
    if bias is not None:
        out = out + BIAS
    return out
"""


def variant(pad="F.pad(x, (pw, pw, ph, ph))", weight="weight", bias="bias[:, None, None]", extra=""):
    return TEMPLATE.replace("PAD_LINE", pad).replace("WEIGHT", weight).replace("BIAS", bias) + extra


BUGS = {
    "kernel-flipped": variant(weight="weight.flip(-1, -2)"),
    "padding-one-side-only": variant(pad="F.pad(x, (0, 2 * pw, 0, 2 * ph))"),
    "stride-pair-swapped": variant().replace("sh, sw = (stride, stride) if isinstance(stride, int) else stride",
                                             "sw, sh = (stride, stride) if isinstance(stride, int) else stride"),
    "padding-pair-swapped": variant(pad="F.pad(x, (ph, ph, pw, pw))"),
    "bias-broadcast-over-width": variant(bias="bias"),
    "weight-read-as-cin-cout": variant().replace('"nchwij,ocij->nohw"', '"nchwij,coij->nohw"'),
    "output-size-off-by-one": """
        import torch
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            sh, sw = (stride, stride) if isinstance(stride, int) else stride
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            N, C, H, W = x.shape
            O, _, kh, kw = weight.shape
            xp = torch.nn.functional.pad(x, (pw, pw, ph, ph))
            Ho, Wo = (H + 2 * ph - kh) // sh, (W + 2 * pw - kw) // sw           # missing + 1
            out = torch.stack([torch.stack([
                torch.einsum("ncij,ocij->no", xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw], weight)
                for j in range(Wo)], -1) for i in range(Ho)], -2) if Ho and Wo else x.new_zeros(N, O, Ho, Wo)
            return out if bias is None else out + bias[:, None, None]
    """,
    "numpy-breaks-autograd": """
        import numpy as np, torch
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            sh, sw = (stride, stride) if isinstance(stride, int) else stride
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            X = np.pad(x.detach().numpy(), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
            Wt = weight.detach().numpy()
            O, C, kh, kw = Wt.shape
            Ho, Wo = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
            out = np.zeros((X.shape[0], O, Ho, Wo), dtype=X.dtype)
            for i in range(Ho):
                for j in range(Wo):
                    out[:, :, i, j] = np.einsum("ncab,ocab->no", X[:, :, i*sh:i*sh+kh, j*sw:j*sw+kw], Wt)
            if bias is not None:
                out += bias.detach().numpy()[:, None, None]
            return torch.from_numpy(out)
    """,
}

# wrong values, or a shape error on some cases (C_in != C_out, W != C_out, an empty output ...)
EXPECTED_STATUS = {"weight-read-as-cin-cout": ("failed", "error"),
                   "bias-broadcast-over-width": ("failed", "error"),
                   "stride-pair-swapped": ("failed", "error"),
                   "padding-pair-swapped": ("failed", "error"),
                   "output-size-off-by-one": ("failed", "error"),
                   "numpy-breaks-autograd": ("wrong_return",)}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass_within_half_tolerance(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


def test_template_is_correct(grade_source):
    verdict = grade_source(PROBLEM, variant())
    assert verdict.ok, describe(verdict)


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    assert verdict.status in EXPECTED_STATUS.get(name, ("failed",)), describe(verdict)
    assert_rejected(verdict)


@pytest.mark.parametrize("source", ["import torch.nn.functional as F\ndef conv2d(x, weight, bias=None, stride=1, padding=0):\n"
                                    "    return F.conv2d(x, weight, bias, stride, padding)\n",
                                    "import torch.nn.functional as F\ndef conv2d(x, weight, bias=None, stride=1, padding=0):\n"
                                    "    cols = F.unfold(x, weight.shape[-2:], padding=padding, stride=stride)\n"
                                    "    return cols\n"])
def test_library_shortcuts_are_forbidden(grade_source, source):
    assert grade_source(PROBLEM, source).status == "forbidden"


def test_reference_matches_f_conv2d_on_every_case():
    """In float64 (the fixtures' expected values are computed in float64), values and gradients."""
    for case in stored_cases(PROBLEM):
        args, _, _ = build_inputs(case)
        x, weight, bias, stride, padding = (a.detach().double() if isinstance(a, torch.Tensor) else a for a in args)
        leaves = {"x": x, "weight": weight, "bias": bias}
        mine = {k: v.clone().requires_grad_(k in case.grad) for k, v in leaves.items() if v is not None}
        lib = {k: v.clone().requires_grad_(k in case.grad) for k, v in leaves.items() if v is not None}
        out = reference(PROBLEM)(mine["x"], mine["weight"], mine.get("bias"), stride, padding)
        pair = lambda v: tuple(v) if isinstance(v, list) else v  # noqa: E731
        expected = F.conv2d(lib["x"], lib["weight"], lib.get("bias"), pair(stride), pair(padding))
        torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10, msg=case.name)
        torch.testing.assert_close(out.detach().to(torch.from_numpy(case.outputs["out"]).dtype),
                                   torch.from_numpy(case.outputs["out"]), rtol=1e-6, atol=1e-12, msg=case.name)
        if case.grad:
            upstream = torch.from_numpy(case.inputs["_upstream"]).double()
            out.backward(upstream)
            expected.backward(upstream)
            for g in case.grad:
                torch.testing.assert_close(mine[g].grad, lib[g].grad, rtol=1e-10, atol=1e-10, msg=f"{case.name} grad {g}")
