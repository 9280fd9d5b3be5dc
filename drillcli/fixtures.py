"""Stored cases: inputs and expected outputs of one problem in a single .npz (no pickle).

Layout of `graders/fixtures/<id>.npz`:
    __meta__           uint8 bytes of a JSON document: problem id and, per case, its
                       name, seed, dtype, input kinds, constructor args and flags
    <i>/in/<name>      input arrays of case i
    <i>/out/<name>     expected output arrays of case i
    <i>/near/<v>/<name>  outputs of the grader's near miss <v> (another convention) on case i,
                       stored only where they differ from the expected outputs

Each case is self-contained: its inputs, its expected outputs, the seed and dtype it
was generated with. Only numpy is needed to read one.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# How an input reaches the user's code.
TENSOR, NDARRAY, LIST, VALUE = "tensor", "ndarray", "list", "value"


@dataclass
class Case:
    name: str
    inputs: dict[str, Any]                          # name -> array (tensor/ndarray/list kinds) or JSON value
    kinds: dict[str, str] = field(default_factory=dict)   # name -> TENSOR | NDARRAY | LIST | VALUE
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    out_types: dict[str, dict[str, Any]] = field(default_factory=dict)   # name -> {type, dtype} the reference returned
    seed: int | None = None
    dtype: str | None = None
    init: dict[str, Any] = field(default_factory=dict)    # constructor kwargs (class problems)
    noncontig: tuple[str, ...] = ()                       # tensor inputs passed as non-contiguous views
    grad: tuple[str, ...] = ()                            # inputs whose gradients are outputs (grad_<name>)
    timed: bool = False                                   # a scaling case: timed against the reference
    note: str = ""                                        # what the case is for, shown on failure
    near: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # near miss -> its outputs here

    def shapes(self) -> str:
        """Short description of the user-visible inputs, e.g. 'q(2,4,8) k(2,4,8) mask'."""
        parts = []
        for name, value in self.inputs.items():
            if name.startswith("_") or name.startswith("state."):
                continue
            if isinstance(value, np.ndarray) and value.ndim:
                parts.append(f"{name}({','.join(map(str, value.shape))})" if self.kinds.get(name) != LIST
                             else f"{name}[{len(value)}]")
        if any(n.startswith("state.") for n in self.inputs):
            parts.append("state_dict")
        return " ".join(parts)

    def meta(self) -> dict[str, Any]:
        return {
            "name": self.name, "seed": self.seed, "dtype": self.dtype, "init": self.init,
            "noncontig": list(self.noncontig), "grad": list(self.grad), "timed": self.timed,
            "note": self.note, "kinds": self.kinds, "outputs": list(self.outputs), "out_types": self.out_types,
            "values": {k: v for k, v in self.inputs.items() if self.kinds[k] == VALUE},
            "near": {v: list(outs) for v, outs in self.near.items()},
        }


def save_cases(path: Path, problem_id: str, cases: list[Case], compress: bool = True) -> None:
    names = [c.name for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"{problem_id}: duplicate case names {sorted(duplicates)}")
    arrays: dict[str, np.ndarray] = {}
    for i, case in enumerate(cases):
        for name, value in case.inputs.items():
            if case.kinds[name] != VALUE:
                arrays[f"{i}/in/{name}"] = np.asarray(value)
        for name, value in case.outputs.items():
            arrays[f"{i}/out/{name}"] = np.asarray(value)
        for variant, outs in case.near.items():
            for name, value in outs.items():
                arrays[f"{i}/near/{variant}/{name}"] = np.asarray(value)
    meta = {"problem": problem_id, "format": 1, "cases": [c.meta() for c in cases]}
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buf, **arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


def load_cases(path: Path, with_outputs: bool = True) -> list[Case]:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(data["__meta__"].tobytes())
        cases = []
        for i, m in enumerate(meta["cases"]):
            inputs: dict[str, Any] = {}
            for name, kind in m["kinds"].items():
                inputs[name] = m["values"][name] if kind == VALUE else data[f"{i}/in/{name}"]
            outputs = {n: data[f"{i}/out/{n}"] for n in m["outputs"]} if with_outputs else {}
            near = {v: {n: data[f"{i}/near/{v}/{n}"] for n in outs} for v, outs in m.get("near", {}).items()} \
                if with_outputs else {}
            cases.append(Case(
                name=m["name"], inputs=inputs, kinds=m["kinds"], outputs=outputs, seed=m["seed"],
                dtype=m["dtype"], init=m["init"], noncontig=tuple(m["noncontig"]),
                grad=tuple(m["grad"]), timed=m["timed"], note=m["note"], out_types=m["out_types"], near=near,
            ))
    return cases


def make_case(name: str, inputs: dict[str, Any], **meta: Any) -> Case:
    """A case from inputs as the grader writes them: torch tensors become TENSOR
    inputs, numpy arrays NDARRAY, lists LIST, anything else a JSON VALUE."""
    arrays: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    for key, value in inputs.items():
        if type(value).__module__.startswith("torch"):
            arrays[key], kinds[key] = value.detach().cpu().numpy().copy(), TENSOR
        elif isinstance(value, np.ndarray):
            arrays[key], kinds[key] = value, NDARRAY
        elif isinstance(value, list):
            arrays[key], kinds[key] = np.asarray(value), LIST
        else:
            arrays[key], kinds[key] = value, VALUE
    return Case(name=name, inputs=arrays, kinds=kinds, **meta)
