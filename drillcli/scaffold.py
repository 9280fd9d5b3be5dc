"""`drill new`: write a new problem's five files, from the templates or in the shape of an
existing problem, into the built-in catalog (a checkout) or a pack."""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template

from drillcli.spec import FAMILIES, Spec

TEMPLATES = Path(__file__).resolve().parent / "templates"
ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class ScaffoldError(Exception):
    """The problem cannot be written; the message says why and what to do."""


def _render(name: str, **values: str) -> str:
    return Template((TEMPLATES / name).read_text(encoding="utf-8")).substitute(values)


def _like_spec(other: Spec, local_id: str, family: str) -> str:
    """The other problem's spec.yaml with the new id and family, its title marked TODO and
    no aliases."""
    title = json.dumps(f"TODO (started from {other.id}: {other.title})")
    text = (other.folder / "spec.yaml").read_text(encoding="utf-8")
    for field, value in (("id", local_id), ("title", title), ("family", family), ("aliases", "[]")):
        text = re.sub(rf"(?m)^{field}: .*$", lambda _: f"{field}: {value}", text, count=1)
    return text


def _like_cases(solution: str) -> str:
    """The test's CORRECT and BUGS blocks for a problem started from another: its reference is
    the first correct alternative; the rest are the author's to write."""
    return (f'CORRECT = {{\n    "reference": {solution!r},\n    # TODO: at least two more, in other styles\n}}\n\n'
            f"BUGS = {{\n    # TODO: at least five realistic bugs, e.g. mutate(CORRECT[\"reference\"], (\"old\", \"new\"))\n}}")


def files_for(root: Path, pack: str, local_id: str) -> dict[str, Path]:
    module = local_id.replace("-", "_")
    tests = root / "tests" / ("" if pack else "problems")
    return {"spec": root / "problems" / local_id / "spec.yaml", "stub": root / "problems" / local_id / "stub.py",
            "solution": root / "solutions" / f"{module}.py", "grader": root / "graders" / f"{module}.py",
            "test": tests / f"test_{module}.py"}


def scaffold(root: Path, pack: str, local_id: str, family: str, like: Spec | None = None) -> list[Path]:
    """Write the five files; refuses to overwrite any of them."""
    if not ID.match(local_id):
        raise ScaffoldError(f"'{local_id}' is not a problem id: lowercase words joined by '-', e.g. rope-scaling")
    if family not in FAMILIES:
        raise ScaffoldError(f"no family '{family}'; families: {', '.join(FAMILIES)}")
    files = files_for(root, pack, local_id)
    existing = [str(p) for p in files.values() if p.exists()]
    if existing:
        raise ScaffoldError(f"{local_id} exists already: {', '.join(existing)}")
    full_id = f"{pack}/{local_id}" if pack else local_id
    values = {"id": full_id, "local_id": local_id, "family": family, "entry": local_id.replace("-", "_"),
              "depth": "1" if pack else "2"}
    if like is None:
        texts = {kind: _render(name, **values) for kind, name in (
            ("spec", "spec.yaml"), ("stub", "stub.py"), ("solution", "solution.py"), ("grader", "grader.py"))}
        cases = _render("cases_example.py", **values)
    else:
        solution = (like.source_root / "solutions" / f"{like.module_name}.py").read_text(encoding="utf-8")
        texts = {"spec": _like_spec(like, local_id, family), "stub": (like.folder / "stub.py").read_text(encoding="utf-8"),
                 "solution": solution,
                 "grader": (like.source_root / "graders" / f"{like.module_name}.py").read_text(encoding="utf-8")}
        cases = _like_cases(solution)
    texts["test"] = Template((TEMPLATES / "test_problem.py").read_text(encoding="utf-8")).substitute(
        values, cases=cases)
    for kind, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(texts[kind], encoding="utf-8")
    return list(files.values())
