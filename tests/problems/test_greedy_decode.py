"""greedy-decode: the reference agrees with an independent per-row decoder on every stored
case, correct variants pass, realistic bugs fail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from drillcli.graders import greedy_decode as grader
from drillcli.graders.greedy_decode import Model
from drillcli.harness import build_inputs
from tests.support import assert_rejected, assert_within_half_tolerance, describe, mutate, reference, stored_cases

PROBLEM = "greedy-decode"

CORRECT = {
    "preallocated-buffer": """
        import torch
        def greedy_decode(step, prompt, max_new_tokens, eos_id, pad_id):
            B, T0 = prompt.shape
            out = torch.full((B, T0 + max_new_tokens), pad_id, dtype=torch.long)
            out[:, :T0] = prompt
            alive = torch.ones(B, dtype=torch.bool)
            t = T0
            while t < T0 + max_new_tokens and alive.any():
                nxt = torch.max(step(out[:, :t]), dim=1).indices
                out[alive, t] = nxt[alive]
                alive &= out[:, t] != eos_id
                t += 1
            return out[:, :t]
    """,
    "hf-style-unfinished-multiply": """
        import torch
        def greedy_decode(step, prompt, max_new_tokens, eos_id, pad_id):
            ids = prompt.clone()
            unfinished = torch.ones(ids.shape[0], dtype=torch.long)
            for _ in range(max_new_tokens):
                logp = torch.log_softmax(step(ids).double(), dim=-1)
                nxt = torch.argmax(logp, dim=-1)
                nxt = nxt * unfinished + pad_id * (1 - unfinished)
                ids = torch.cat([ids, nxt.unsqueeze(-1)], dim=-1)
                unfinished = unfinished * (nxt != eos_id).long()
                if unfinished.max() == 0:
                    break
            return ids
    """,
    "python-lists": """
        import torch
        def greedy_decode(step, prompt, max_new_tokens, eos_id, pad_id):
            rows = [list(map(int, r)) for r in prompt]
            done = [False] * len(rows)
            for _ in range(max_new_tokens):
                if all(done):
                    break
                logits = step(torch.tensor(rows, dtype=torch.long)).tolist()
                for b, row in enumerate(logits):
                    if done[b]:
                        rows[b].append(pad_id)
                        continue
                    best = max(range(len(row)), key=lambda i: (row[i], -i))
                    rows[b].append(best)
                    done[b] = best == eos_id
            return torch.tensor(rows, dtype=torch.long)
    """,
    "numpy-argmax": """
        import numpy as np, torch
        def greedy_decode(step, prompt, max_new_tokens, eos_id, pad_id):
            seqs = prompt.numpy().copy()
            fin = np.zeros(len(seqs), dtype=bool)
            steps = 0
            while steps < max_new_tokens and not fin.all():
                nxt = np.argmax(step(torch.from_numpy(seqs)).numpy(), axis=1)
                nxt[fin] = pad_id
                fin |= nxt == eos_id
                seqs = np.concatenate([seqs, nxt[:, None]], axis=1)
                steps += 1
            return torch.from_numpy(seqs).long()
    """,
}

_LOOP = """
import torch
def greedy_decode(step, prompt, max_new_tokens, eos_id, pad_id):
    tokens = prompt
    done = torch.zeros(prompt.shape[0], dtype=torch.bool)
    for _ in range({steps}):
        {pre}
        logits = step({feed})
        nxt = logits.argmax(dim={axis})
        {mask}
        tokens = torch.cat([tokens, nxt[:, None]], dim=1)
        {update}
        {stop}
    return tokens
"""


def _loop(steps="max_new_tokens", pre="", feed="tokens", axis="-1",
          mask="nxt = torch.where(done, torch.full_like(nxt, pad_id), nxt)",
          update="done = done | (nxt == eos_id)", stop="if done.all(): break"):
    return _LOOP.format(steps=steps, pre=pre, feed=feed, axis=axis, mask=mask, update=update, stop=stop)


BUGS = {
    "stops-when-any-row-ends": _loop(stop="if done.any(): break"),
    "no-padding-after-eos": _loop(mask=""),
    "feeds-only-last-token": _loop(feed="tokens[:, -1:]"),
    "never-stops-early": _loop(stop=""),
    "one-step-short": _loop(steps="max_new_tokens - 1"),
    "eos-in-prompt-counts": _loop(pre="done = done | (tokens == eos_id).any(1)"),
    "argmax-over-batch-axis": _loop(axis="0"),
    "extra-step-call": _loop(stop="if done.all():\n            step(tokens)\n            break"),
    "replaces-eos-in-the-callers-prompt": _loop(pre="prompt[prompt == eos_id] = pad_id"),
    "checks-the-budget-after-stepping": """
        import torch
        def greedy_decode(step, prompt, max_new_tokens, eos_id, pad_id):
            tokens, done = prompt, torch.zeros(prompt.shape[0], dtype=torch.bool)
            while True:
                nxt = step(tokens).argmax(-1)
                nxt = torch.where(done, torch.full_like(nxt, pad_id), nxt)
                tokens = torch.cat([tokens, nxt[:, None]], 1)
                done = done | (nxt == eos_id)
                if done.all() or tokens.shape[1] - prompt.shape[1] >= max_new_tokens:
                    return tokens
    """,
    "drops-the-eos-token": """
        import torch
        def greedy_decode(step, prompt, max_new_tokens, eos_id, pad_id):
            tokens, done = prompt, torch.zeros(prompt.shape[0], dtype=torch.bool)
            for _ in range(max_new_tokens):
                nxt = step(tokens).argmax(-1)
                done = done | (nxt == eos_id)
                nxt = torch.where(done, torch.full_like(nxt, pad_id), nxt)
                tokens = torch.cat([tokens, nxt[:, None]], 1)
                if done.all():
                    break
            return tokens
    """,
}
# pad_id = 0 is an id to pad with, not "no padding": `if pad_id` lets finished rows keep generating
BUGS["pad-id-zero-taken-as-no-padding"] = mutate(CORRECT["python-lists"], ("if done[b]:", "if done[b] and pad_id:"))


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(grade_source, name):
    assert_within_half_tolerance(grade_source(PROBLEM, CORRECT[name]))


# structural bugs crash on the cases (shapes do not line up) rather than give wrong values
EXPECTED_STATUS = {"argmax-over-batch-axis": "error", "replaces-eos-in-the-callers-prompt": "modified_input"}


@pytest.mark.parametrize("name", BUGS)
def test_bugs_fail(grade_source, name):
    verdict = grade_source(PROBLEM, BUGS[name])
    want = EXPECTED_STATUS.get(name, "failed")
    assert verdict.status == want, describe(verdict)
    assert_rejected(verdict)


def _independent(case):
    """A per-row decoder written without the reference's tensor tricks."""
    args, _, _ = build_inputs(case)
    prompt, max_new, eos, pad = args
    model = Model(case)
    rows = [list(map(int, r)) for r in prompt]
    finished = [False] * len(rows)
    calls = 0
    for _ in range(max_new):
        if all(finished):
            break
        logits = model(torch.tensor(rows)).double().numpy()
        calls += 1
        for b in range(len(rows)):
            tok = pad if finished[b] else int(np.flatnonzero(logits[b] == logits[b].max())[0])
            rows[b].append(tok)
            finished[b] = finished[b] or tok == eos
    return np.array(rows, dtype=np.int64).reshape(len(rows), -1), calls


def test_reference_matches_independent_decoder_on_every_case():
    ref = reference(PROBLEM)
    for case in stored_cases(PROBLEM):
        expected, calls = _independent(case)
        np.testing.assert_array_equal(case.outputs["tokens"], expected, err_msg=case.name)
        assert int(case.outputs["steps"]) == calls, case.name
        args, _, _ = build_inputs(case)
        np.testing.assert_array_equal(ref(Model(case), *args).numpy(), expected, err_msg=case.name)


def test_cases_exercise_the_rules():
    cases = {c.name: c for c in stored_cases(PROBLEM)}
    assert len(cases) >= 20
    # some cases stop early, some run to the budget, some rows finish before others
    early = [c for c in cases.values() if int(c.outputs["steps"]) < c.inputs["max_new_tokens"]]
    full = [c for c in cases.values() if int(c.outputs["steps"]) == c.inputs["max_new_tokens"] > 0]
    assert len(early) >= 8 and len(full) >= 4
    padded = [c for c in cases.values() if (c.outputs["tokens"][:, c.inputs["prompt"].shape[1]:] == c.inputs["pad_id"]).any()]
    assert len(padded) >= 6


def test_a_wrong_number_of_step_calls_is_named():
    case = next(c for c in stored_cases(PROBLEM) if c.name == "readable-one-row")
    got = {**case.outputs, "steps": case.outputs["steps"] + 1}
    assert grader.check(case, got).startswith("step called 4 times, expected 3")
    assert grader.check(case, dict(case.outputs)) is None
