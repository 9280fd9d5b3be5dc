"""Every failure verdict is triggered by a real submission through the real worker."""

from __future__ import annotations

import pytest

from tests.support import ATTENTION, describe

SOLUTION = ATTENTION


def test_stub_is_not_implemented(grade_source):
    verdict = grade_source("attention", open("problems/attention/stub.py").read())
    assert verdict.status == "not_implemented"
    assert all(c.kind == "not_implemented" for c in verdict.cases)


def test_syntax_error_names_the_line(grade_source):
    verdict = grade_source("attention", "def scaled_dot_product_attention(q, k, v, mask=None)\n    return q\n")
    assert verdict.status == "syntax_error"
    assert "line 1" in verdict.message and "^" in verdict.detail


def test_exception_at_import_is_import_error(grade_source):
    verdict = grade_source("attention", "import torch\nx = 1 / 0\n" + SOLUTION)
    assert verdict.status == "import_error"
    assert "ZeroDivisionError" in verdict.message and "line 2" in verdict.detail


def test_missing_module_is_import_error(grade_source):
    verdict = grade_source("attention", "import not_a_real_module_xyz\n" + SOLUTION)
    assert verdict.status == "import_error" and "not_a_real_module_xyz" in verdict.message


def test_missing_entry(grade_source):
    verdict = grade_source("attention", "def attention(q, k, v, mask=None):\n    return q, q\n")
    assert verdict.status == "missing_entry" and "scaled_dot_product_attention" in verdict.message


def test_exception_in_user_code_shows_only_user_frames(grade_source):
    verdict = grade_source("attention", """
        import torch
        def helper(q):
            return q @ torch.ones(q.shape[-1] + 1, 3)  # wrong shapes
        def scaled_dot_product_attention(q, k, v, mask=None):
            return helper(q), q
    """)
    failure = verdict.first_failure()
    assert verdict.status == "error" and failure.kind == "exception"
    assert "in helper" in failure.detail and "return q @ torch.ones" in failure.detail
    assert "site-packages" not in failure.detail and "drillcli" not in failure.detail


def test_wrong_arity(grade_source):
    verdict = grade_source("attention", "def scaled_dot_product_attention(q, k, v, mask=None):\n    return q\n")
    assert verdict.status == "wrong_return"
    assert "tuple of 2 values (out, weights)" in verdict.first_failure().message


def test_wrong_output_type(grade_source):
    verdict = grade_source("attention", SOLUTION.replace("return w @ v, w", "return (w @ v).tolist(), w"))
    failure = verdict.first_failure()
    assert failure.kind == "type" and "torch.Tensor" in failure.message


def test_wrong_shape_is_never_broadcast(grade_source):
    verdict = grade_source("attention", SOLUTION.replace("return w @ v, w", "return (w @ v)[..., :1, :], w"))
    assert verdict.status == "failed" and verdict.first_failure().kind == "shape"


def test_nan_output(grade_source):
    verdict = grade_source("attention", SOLUTION.replace("return w @ v, w", "return (w @ v) * float('nan'), w"))
    assert verdict.first_failure().kind == "nan"


def test_value_mismatch_reports_index_and_errors(grade_source):
    verdict = grade_source("attention", SOLUTION.replace("return w @ v, w", "return w @ v + 1e-3, w"))
    failure = next(c for c in verdict.cases if c.name == "readable-2x2")
    assert failure.kind == "value"
    assert "first mismatch at [0, 0]" in failure.detail and "expected 1.66048, got 1.66148" in failure.detail
    assert failure.max_abs == pytest.approx(1e-3, rel=1e-2)
    assert "100%" in failure.message


def test_timeout(grade_source):
    verdict = grade_source("attention", SOLUTION.replace("    return w @ v, w", "    while True:\n        pass"),
                           time_limit_s=1.0)
    assert verdict.status == "timeout", describe(verdict)
    assert any(c.kind == "timeout" for c in verdict.cases)


def test_timeout_when_the_alarm_is_swallowed(grade_source):
    verdict = grade_source("attention", """
        import signal
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        def scaled_dot_product_attention(q, k, v, mask=None):
            while True:
                pass
    """, time_limit_s=1.0)
    assert verdict.status == "timeout", describe(verdict)
    assert "killed" in verdict.message


def test_sys_exit(grade_source):
    verdict = grade_source("attention", SOLUTION.replace("    return w @ v, w", "    import sys; sys.exit(3)"))
    assert verdict.status == "exit" and "sys.exit(3)" in verdict.first_failure().message


def test_os_exit(grade_source):
    verdict = grade_source("attention", SOLUTION.replace("    return w @ v, w", "    import os; os._exit(4)"))
    assert verdict.status == "exit" and "exit code 4" in verdict.message


def test_segfault_is_a_crash(grade_source):
    verdict = grade_source("attention", SOLUTION.replace(
        "    return w @ v, w", "    import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"))
    assert verdict.status == "crash" and "SIGSEGV" in verdict.message


def test_memory_exhausted(grade_source):
    verdict = grade_source("attention", SOLUTION.replace(
        "    return w @ v, w", "    hog = torch.empty(1 << 40, dtype=torch.uint8); return hog, hog"))
    assert verdict.status == "memory", describe(verdict)


def test_printing_megabytes_is_bounded(grade_source):
    verdict = grade_source("attention", SOLUTION.replace("    return w @ v, w", "    print('x' * 10_000_000)\n    return w @ v, w"))
    assert verdict.ok, describe(verdict)
    assert verdict.printed_bytes > 10_000_000 * 20


def test_printed_output_is_shown_on_failure(grade_source):
    verdict = grade_source("attention", SOLUTION.replace("    return w @ v, w", "    print('debug', q.shape)\n    return w, w"))
    assert not verdict.ok and "debug torch.Size" in verdict.output


def test_patching_torch_cannot_change_the_verdict(grade_source):
    verdict = grade_source("attention", """
        import numpy, torch
        torch.Tensor.numpy = lambda self: numpy.zeros(1)
        torch.allclose = lambda *a, **k: True
        numpy.allclose = lambda *a, **k: True
        numpy.savez = lambda *a, **k: None
        def scaled_dot_product_attention(q, k, v, mask=None):
            return q, q
    """)
    assert verdict.status == "failed" and verdict.passed == 0, describe(verdict)


@pytest.mark.parametrize("source", [
    "import torch.nn.functional as F\ndef scaled_dot_product_attention(q, k, v, mask=None):\n"
    "    return F.scaled_dot_product_attention(q, k, v), None\n",
    "from torch.nn.functional import scaled_dot_product_attention as sdpa\n"
    "def scaled_dot_product_attention(q, k, v, mask=None):\n    return sdpa(q, k, v), None\n",
    "import torch\ndef scaled_dot_product_attention(q, k, v, mask=None):\n"
    "    return torch.nn.functional.scaled_dot_product_attention(q, k, v), None\n",
    "from torch.nn import functional\ndef scaled_dot_product_attention(q, k, v, mask=None):\n"
    "    return getattr(functional, 'scaled_dot_product_attention')(q, k, v), None\n",
    "from torch import nn\ndef scaled_dot_product_attention(q, k, v, mask=None):\n"
    "    return nn.MultiheadAttention(4, 1)(q, k, v)\n",
], ids=["alias", "from-import-as", "full-path", "getattr-string", "nn-module"])
def test_forbidden_api_is_caught_statically(grade_source, source):
    verdict = grade_source("attention", source)
    assert verdict.status == "forbidden", describe(verdict)
    assert "line" in verdict.message and "forbids" in verdict.message


def test_forbidden_api_is_caught_at_run_time(grade_source):
    verdict = grade_source("attention", """
        import importlib
        def scaled_dot_product_attention(q, k, v, mask=None):
            F = importlib.import_module("torch.nn." + "functional")
            fn = getattr(F, "scaled_dot_" + "product_attention")
            try:
                return fn(q, k, v), None
            except BaseException:
                return q, q
    """)
    assert verdict.status == "forbidden", describe(verdict)
    assert "torch.nn.functional.scaled_dot_product_attention" in verdict.first_failure().message
    assert "line 7: return fn(q, k, v)" in verdict.first_failure().message


def test_a_forbidden_module_refuses_its_classes_at_run_time(grade_source):
    """torch.optim stays importable for torch's own use, but its optimizers refuse to run."""
    verdict = grade_source("adam", """
        import importlib
        class Adam:
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                optim = importlib.import_module("torch.op" + "tim")
                self.inner = getattr(optim, "Ad" + "am")(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
            def zero_grad(self):
                self.inner.zero_grad()
            def step(self):
                self.inner.step()
    """)
    assert verdict.status == "forbidden", describe(verdict)
    assert "torch.optim.Adam is forbidden" in verdict.first_failure().message


def test_importing_the_solutions_is_refused(grade_source):
    verdict = grade_source("attention", "from drillcli.solutions.attention import scaled_dot_product_attention\n")
    assert verdict.status == "forbidden" and "drillcli.solutions" in verdict.message


def test_importing_the_solutions_dynamically_is_refused(grade_source):
    verdict = grade_source("attention", """
        import importlib
        def scaled_dot_product_attention(q, k, v, mask=None):
            ref = importlib.import_module("drillcli." + "solutions.attention")
            return ref.scaled_dot_product_attention(q, k, v, mask)
    """)
    assert verdict.status == "forbidden", describe(verdict)


def test_grading_is_deterministic(grade_source):
    buggy = SOLUTION.replace("dim=-1", "dim=-2")
    first, second = grade_source("attention", buggy), grade_source("attention", buggy)
    assert [(c.name, c.status, c.max_abs) for c in first.cases] == [(c.name, c.status, c.max_abs) for c in second.cases]


def test_modifying_an_input_in_place_is_reported(grade_source):
    verdict = grade_source("attention", SOLUTION.replace("    s = q @ k", "    q /= 1.0 + q.abs().max()\n    s = q @ k"))
    assert verdict.status == "modified_input", describe(verdict)
    assert "`q` in place" in verdict.first_failure().message


def test_a_list_of_numpy_integers_is_a_list(grade_source):
    verdict = grade_source("lis", """
        import bisect
        import numpy as np
        def longest_increasing_subsequence(nums):
            a = np.array(nums, dtype=np.int64)
            tails, idx, prev = [], [], [-1] * len(nums)
            for i, x in enumerate(a):
                j = bisect.bisect_left(tails, x)
                if j == len(tails):
                    tails.append(x); idx.append(i)
                else:
                    tails[j] = x; idx[j] = i
                prev[i] = idx[j - 1] if j else -1
            out, i = [], idx[-1] if idx else -1
            while i != -1:
                out.append(a[i]); i = prev[i]
            return out[::-1]
    """)
    assert verdict.ok, describe(verdict)


def test_forgetting_return_says_so(grade_source):
    verdict = grade_source("lis", "def longest_increasing_subsequence(nums):\n    out = sorted(set(nums))\n")
    assert "did you forget to return it?" in verdict.first_failure().message
