"""Run one case on an entry point (the user's or the reference's) and turn what it
returns into plain arrays. Runs in the worker, and in the maintainer's fixture build,
so user code and reference are driven the same way. Imports torch.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np
import torch

from drillcli.fixtures import LIST, NDARRAY, TENSOR, Case

# Imported by torch on a process's first backward (symbolic shapes, sympy: about half a
# second); a warm grading server imports them while it waits for its second request.
AUTOGRAD_IMPORTS = ("torch.fx.experimental.symbolic_shapes",)
STATE_PREFIX = "state."   # inputs named state.<param> form the module's state_dict
PRIVATE_PREFIX = "_"      # inputs only the grader uses (e.g. _upstream, the gradient fed to backward)


# Bound before the user's code is imported, so a submission that patches torch.Tensor
# cannot change how its outputs are read.
_DETACH, _CPU, _NUMPY = torch.Tensor.detach, torch.Tensor.cpu, torch.Tensor.numpy


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return _NUMPY(_CPU(_DETACH(t)))


class WrongReturn(Exception):
    """The entry returned something of the wrong type or arity."""


class ModifiedInput(Exception):
    """The entry changed one of its input tensors or arrays in place."""


def _noncontiguous(t: torch.Tensor) -> torch.Tensor:
    """Same values, non-contiguous layout (every other element of a bigger buffer)."""
    if t.dim() == 0:
        return t
    buf = torch.zeros(*t.shape, 2, dtype=t.dtype)
    buf[..., 0] = t
    return buf[..., 0]


def to_user(case: Case, name: str) -> Any:
    value, kind = case.inputs[name], case.kinds[name]
    if kind == TENSOR:
        t = torch.from_numpy(np.array(value, copy=True))
        if name in case.noncontig:
            t = _noncontiguous(t)
        if name in case.grad:
            t.requires_grad_(True)
        return t
    if kind == NDARRAY:
        return np.array(value, copy=True)
    if kind == LIST:
        return np.asarray(value).tolist()
    return value


def build_inputs(case: Case) -> tuple[list[Any], dict[str, Any], dict[str, torch.Tensor]]:
    """(positional args, all inputs by name, state_dict) for one case, fresh each call."""
    named = {n: to_user(case, n) for n in case.inputs}
    args = [v for n, v in named.items() if not n.startswith((STATE_PREFIX, PRIVATE_PREFIX))]
    state = {n[len(STATE_PREFIX):]: v for n, v in named.items() if n.startswith(STATE_PREFIX)}
    return args, named, state


def instantiate(cls: type, case: Case, state: dict[str, torch.Tensor]) -> Any:
    obj = cls(**case.init)
    if state:
        if not isinstance(obj, torch.nn.Module):
            raise WrongReturn(f"{cls.__name__} must be a torch.nn.Module subclass, got {type(obj).__mro__[1].__name__}")
        missing, unexpected = _state_mismatch(obj, state)
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing parameters {missing}")
            if unexpected:
                parts.append(f"unexpected parameters or buffers {unexpected} (keep constants as plain "
                             f"attributes or register_buffer(..., persistent=False))")
            raise WrongReturn(f"{cls.__name__} state_dict does not match: " + "; ".join(parts)
                              + f" (the grader loads {sorted(state)})")
        resized = _shape_mismatch(obj, state)
        if resized:
            raise WrongReturn(f"{cls.__name__} state_dict does not match: " + "; ".join(resized))
        floating = [t.dtype for t in state.values() if t.is_floating_point()]
        if floating:
            obj.to(floating[0])  # float64 cases get a float64 module
        obj.load_state_dict(state)
    return obj


def _state_mismatch(module: torch.nn.Module, state: dict[str, Any]) -> tuple[list[str], list[str]]:
    have = set(module.state_dict())
    return sorted(set(state) - have), sorted(have - set(state))


def _shape_mismatch(module: torch.nn.Module, state: dict[str, torch.Tensor]) -> list[str]:
    """'size mismatch for W_k.weight: yours is (8, 8), the grader loads (4, 8)' per parameter."""
    have = module.state_dict()
    return [f"size mismatch for {name}: yours is {tuple(have[name].shape)}, the grader loads {tuple(t.shape)}"
            for name, t in state.items() if have[name].shape != t.shape]


def call(entry: Callable, kind: str, case: Case) -> tuple[Any, dict[str, Any]]:
    """Call the entry on the case; returns (what it returned, the inputs by name)."""
    args, named, state = build_inputs(case)
    if kind == "class":
        target = instantiate(entry, case, state)
        return target(*args), named
    return entry(*args), named


def _as_number(v: Any) -> Any:
    """One-element tensors and arrays inside a returned list count as numbers."""
    if isinstance(v, torch.Tensor) and v.numel() == 1 or isinstance(v, np.ndarray) and v.size == 1:
        return v.item()
    return v


def describe(value: Any) -> tuple[np.ndarray | None, dict[str, Any]]:
    """One returned value as (array, descriptor); descriptor says its type and dtype."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        arr = to_numpy(value.to(torch.float64) if value.dtype in (torch.bfloat16, torch.float16) else value)
        return np.array(arr, copy=True), {"type": "tensor", "dtype": dtype}
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True), {"type": "ndarray", "dtype": str(value.dtype)}
    if isinstance(value, (list, tuple)):
        items = [_as_number(v) for v in value]
        odd = next((v for v in items if not isinstance(v, numbers.Real)), None)
        if odd is not None:
            return None, {"type": "list", "dtype": None, "note": f"a list holding {type(odd).__name__} values"}
        ints = all(isinstance(v, numbers.Integral) for v in items)
        return np.asarray(items, dtype=np.int64 if ints else np.float64), {"type": "list", "dtype": "int64" if ints else "float64"}
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
        return np.asarray(value), {"type": "scalar", "dtype": type(value).__name__}
    return None, {"type": type(value).__name__, "dtype": None}


def unpack(result: Any, names: list[str]) -> dict[str, Any]:
    """Split what the entry returned into the named outputs, checking the arity."""
    if len(names) == 1:
        return {names[0]: result}
    if not isinstance(result, (tuple, list)):
        raise WrongReturn(f"expected a tuple of {len(names)} values ({', '.join(names)}), got {type(result).__name__}")
    if len(result) != len(names):
        raise WrongReturn(f"expected a tuple of {len(names)} values ({', '.join(names)}), got {len(result)} values")
    return dict(zip(names, result))


def gradients(case: Case, returned: dict[str, Any], named: dict[str, Any]) -> dict[str, Any]:
    """Backpropagate the case's upstream gradient through the first output."""
    if not case.grad:
        return {}
    first = next(iter(returned.values()))
    upstream = torch.from_numpy(np.asarray(case.inputs["_upstream"]))
    if isinstance(first, torch.Tensor) and first.shape != upstream.shape:
        return {}   # the parent reports the output's shape; backward would only say it less clearly
    if not isinstance(first, torch.Tensor) or not first.requires_grad:
        raise WrongReturn("the output is not connected to the inputs' autograd graph "
                          "(gradients are checked: avoid .detach(), .numpy() or torch.no_grad())")
    first.backward(upstream.to(first.dtype))
    return {f"grad_{g}": (named[g].grad if named[g].grad is not None else torch.zeros_like(named[g]))
            for g in case.grad}


COPY_HINT = {TENSOR: "{0} = {0}.clone()", NDARRAY: "{0} = {0}.copy()", LIST: "{0} = list({0})"}


def check_inputs_unchanged(case: Case, named: dict[str, Any]) -> None:
    """A caller's tensors, arrays and lists must come back as they went in: `q /= sqrt(d)`
    and `nums.sort()` are bugs."""
    for name, value in named.items():
        kind = case.kinds[name]
        if kind not in COPY_HINT or name.startswith(PRIVATE_PREFIX):
            continue
        now = to_numpy(value) if isinstance(value, torch.Tensor) else value
        try:
            same = np.array_equal(np.asarray(now), case.inputs[name], equal_nan=True)
        except (ValueError, TypeError):   # a list that no longer converts to an array
            same = False
        if not same:
            raise ModifiedInput(f"your code modified its input `{name}` in place; work on a copy "
                                f"(e.g. {COPY_HINT[kind].format(name)}) or use out-of-place operations")


def run_case(entry: Callable, kind: str, case: Case, names: list[str]) -> dict[str, Any]:
    """Raw outputs (name -> value) of the entry on one case, gradients included."""
    result, named = call(entry, kind, case)
    returned = unpack(result, names)
    check_inputs_unchanged(case, named)
    return {**returned, **gradients(case, returned, named)}
