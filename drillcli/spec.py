"""The problem spec (`problems/<id>/spec.yaml`): a typed view with validation.

Every error names the file, the field and what was expected, so a maintainer who
breaks a spec sees exactly where.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

FAMILIES = (
    "attention", "blocks", "positional", "normalization", "decoding", "tokenization",
    "training", "optimizers", "losses", "classic-ml", "algorithms",
)
DIFFICULTIES = ("easy", "medium", "hard")
DEFAULT_TOLERANCE = {"float32": {"atol": 1e-5, "rtol": 1e-4}, "float64": {"atol": 1e-9, "rtol": 1e-7}}


class SpecError(Exception):
    """A spec file that does not say what the loader needs."""

    def __init__(self, path: Path, field_name: str, expected: str, got: Any = None):
        self.path, self.field, self.expected = path, field_name, expected
        where = f"{path}: field '{field_name}'"
        super().__init__(f"{where}: expected {expected}" + ("" if got is None else f", got {got!r}"))


@dataclass(frozen=True)
class Followup:
    q: str
    a: str
    points: tuple[str, ...] = ()   # 2-4 key points a good answer covers (self-marked in quiz and mock)


@dataclass(frozen=True)
class Spec:
    id: str
    title: str
    family: str
    difficulty: str
    target_minutes: float
    entry: str
    kind: str                      # "function" or "class"
    prompt: str
    hints: tuple[str, ...]
    forbid: tuple[str, ...]
    tolerance: dict[str, dict[str, float]]
    followups: tuple[Followup, ...]
    tags: tuple[str, ...]
    aliases: tuple[str, ...]
    time_limit_s: float
    memory_limit_mb: int
    folder: Path = field(compare=False)
    pack: str = ""                 # the pack it comes from; "" for the built-in catalog

    @property
    def local_id(self) -> str:
        """The id inside its source: a pack problem's id is `<pack>/<local id>`."""
        return self.id.rpartition("/")[2]

    @property
    def module_name(self) -> str:
        """Python module name for this problem's solution and grader."""
        return self.local_id.replace("-", "_")

    @property
    def source_root(self) -> Path:
        """The folder holding problems/, solutions/ and graders/ for this problem."""
        return self.folder.parent.parent

    @property
    def package(self) -> str:
        from drillcli.sources import package_name

        return package_name(self.pack)

    def module(self, kind: str) -> Any:
        """This problem's grader ("graders") or reference solution ("solutions") module."""
        from drillcli.sources import import_from

        return import_from(self.package, self.source_root, kind, self.module_name)

    def tol(self, dtype: str) -> tuple[float, float]:
        """(atol, rtol) for outputs of this dtype; unknown dtypes use float32's."""
        t = self.tolerance.get(dtype) or self.tolerance["float32"]
        return t["atol"], t["rtol"]


def _get(raw: dict, path: Path, name: str, kind: type | tuple, expected: str, default: Any = ...) -> Any:
    if name not in raw:
        if default is ...:
            raise SpecError(path, name, f"{expected} (the field is missing)")
        return default
    value = raw[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise SpecError(path, name, expected, value)
    return value


def _str_list(raw: dict, path: Path, name: str) -> tuple[str, ...]:
    items = _get(raw, path, name, list, "a list of strings", [])
    if not all(isinstance(s, str) and s for s in items):
        raise SpecError(path, name, "a list of non-empty strings", items)
    return tuple(items)


def _tolerance(raw: dict, path: Path) -> dict[str, dict[str, float]]:
    tol = _get(raw, path, "tolerance", dict, "a mapping dtype -> {atol, rtol}", {})
    merged = {k: dict(v) for k, v in DEFAULT_TOLERANCE.items()}
    for dtype, pair in tol.items():
        if not isinstance(pair, dict) or set(pair) - {"atol", "rtol"}:
            raise SpecError(path, f"tolerance.{dtype}", "a mapping with keys atol and rtol", pair)
        for key, value in pair.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise SpecError(path, f"tolerance.{dtype}.{key}", "a non-negative number", value)
        merged.setdefault(dtype, dict(DEFAULT_TOLERANCE["float32"])).update(pair)
    return merged


def _followups(raw: dict, path: Path) -> tuple[Followup, ...]:
    items = _get(raw, path, "followups", list, "a list of {q, a, points} mappings", [])
    return tuple(parse_card(item, path, f"followups[{i}]") for i, item in enumerate(items))


def parse_card(item: Any, path: Path, where: str) -> Followup:
    """One question with its reference answer and, optionally, 2-4 key points."""
    if (not isinstance(item, dict) or not {"q", "a"} <= set(item) <= {"q", "a", "points"}
            or not all(isinstance(item[k], str) and item[k].strip() for k in ("q", "a"))):
        raise SpecError(path, where, "a mapping with non-empty strings q and a, and optional points", item)
    points = item.get("points", [])
    if not isinstance(points, list) or not all(isinstance(x, str) and x.strip() for x in points) \
            or (points and not 2 <= len(points) <= 4):
        raise SpecError(path, f"{where}.points", "a list of 2-4 non-empty strings", points)
    return Followup(item["q"], item["a"], tuple(points))


def parse_spec(raw: Any, path: Path) -> Spec:
    """Validate a parsed spec.yaml mapping and return it as a Spec."""
    if not isinstance(raw, dict):
        raise SpecError(path, "(top level)", "a mapping of fields", type(raw).__name__)
    known = {f for f in Spec.__dataclass_fields__ if f not in ("folder", "pack")}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SpecError(path, unknown[0], f"one of the known fields ({', '.join(sorted(known))})")
    pid = _get(raw, path, "id", str, "the problem id (a string)")
    if pid != path.parent.name:
        raise SpecError(path, "id", f"the folder name '{path.parent.name}'", pid)
    family = _get(raw, path, "family", str, f"one of {', '.join(FAMILIES)}")
    if family not in FAMILIES:
        raise SpecError(path, "family", f"one of {', '.join(FAMILIES)}", family)
    difficulty = _get(raw, path, "difficulty", str, f"one of {', '.join(DIFFICULTIES)}")
    if difficulty not in DIFFICULTIES:
        raise SpecError(path, "difficulty", f"one of {', '.join(DIFFICULTIES)}", difficulty)
    target = _get(raw, path, "target_minutes", (int, float), "a positive number of minutes")
    if target <= 0:
        raise SpecError(path, "target_minutes", "a positive number of minutes", target)
    kind = _get(raw, path, "kind", str, "'function' or 'class'", "function")
    if kind not in ("function", "class"):
        raise SpecError(path, "kind", "'function' or 'class'", kind)
    entry = _get(raw, path, "entry", str, "the name of the function or class the user writes")
    if not entry.isidentifier():
        raise SpecError(path, "entry", "a Python identifier", entry)
    return Spec(
        id=pid,
        title=_get(raw, path, "title", str, "a one-line title"),
        family=family,
        difficulty=difficulty,
        target_minutes=float(target),
        entry=entry,
        kind=kind,
        prompt=_get(raw, path, "prompt", str, "the problem statement (Markdown)"),
        hints=_str_list(raw, path, "hints"),
        forbid=_str_list(raw, path, "forbid"),
        tolerance=_tolerance(raw, path),
        followups=_followups(raw, path),
        tags=_str_list(raw, path, "tags"),
        aliases=_str_list(raw, path, "aliases"),
        time_limit_s=float(_get(raw, path, "time_limit_s", (int, float), "a number of seconds", 10.0)),
        memory_limit_mb=int(_get(raw, path, "memory_limit_mb", int, "a number of MiB", 4096)),
        folder=path.parent,
    )


def load_spec(path: Path, pack: str = "") -> Spec:
    """Read and validate one spec.yaml; a pack's problem gets the id `<pack>/<id>`."""
    import yaml

    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser is ~10x faster
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise SpecError(path, "(yaml)", f"valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    spec = parse_spec(raw, path)
    return replace(spec, id=f"{pack}/{spec.id}", pack=pack) if pack else spec
