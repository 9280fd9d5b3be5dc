"""Find problems: the built-in catalog, id resolution (prefixes, aliases) and suggestions."""

from __future__ import annotations

import difflib
import importlib.util
import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from drillcli.spec import Spec, SpecError, load_spec

PACKAGE_DIR = Path(__file__).resolve().parent


def builtin_root() -> Path:
    """The folder holding the built-in problems/, solutions/ and graders/: the repository's
    top level in a checkout, the package folder in a wheel. pyproject.toml maps both to the
    `drillcli.problems`, `drillcli.solutions` and `drillcli.graders` packages."""
    found = importlib.util.find_spec("drillcli.problems")
    if found is None or not found.submodule_search_locations:
        raise RuntimeError("drill's catalog is not installed: run `pip install -e .` in the repository")
    return Path(next(iter(found.submodule_search_locations))).resolve().parent


class UnknownProblem(LookupError):
    """An id that names no problem; `suggestions` holds the nearest ids."""

    def __init__(self, query: str, suggestions: list[str], ambiguous: bool = False):
        self.query, self.suggestions, self.ambiguous = query, suggestions, ambiguous
        if ambiguous:
            msg = f"'{query}' matches several problems: {', '.join(suggestions)}"
        elif suggestions:
            msg = f"no problem '{query}'. Did you mean: {', '.join(suggestions)}?"
        else:
            msg = f"no problem '{query}'. `drill list` shows them all."
        super().__init__(msg)


@dataclass(frozen=True)
class Summary:
    """The fields `drill list` and id resolution need, without the prompt."""

    id: str
    title: str
    family: str
    difficulty: str
    target_minutes: float
    aliases: tuple[str, ...]


def _summary(spec: Spec) -> Summary:
    return Summary(spec.id, spec.title, spec.family, spec.difficulty, spec.target_minutes, spec.aliases)


@dataclass
class Catalog:
    """The problems under one root folder (`problems/<id>/spec.yaml`)."""

    root: Path = field(default_factory=builtin_root)

    @property
    def problems_dir(self) -> Path:
        return self.root / "problems"

    @cached_property
    def ids(self) -> list[str]:
        return sorted(p.parent.name for p in self.problems_dir.glob("*/spec.yaml"))

    def spec(self, problem_id: str) -> Spec:
        return load_spec(self.problems_dir / problem_id / "spec.yaml")

    def specs(self) -> list[Spec]:
        return [self.spec(pid) for pid in self.ids]

    def solution_path(self, spec: Spec) -> Path:
        return self.root / "solutions" / f"{spec.module_name}.py"

    def fixture_path(self, spec: Spec) -> Path:
        return self.root / "graders" / "fixtures" / f"{spec.id}.npz"

    def summaries(self, strict: bool = True) -> list[Summary]:
        """One Summary per problem, read through a cache keyed by each spec's mtime and
        size: parsing every YAML prompt would dominate `drill list`. With strict=False a
        spec that fails to load is skipped (it reports its own error when asked for)."""
        from drillcli.paths import data_dir

        cache_file = data_dir() / "catalog-cache.json"
        try:
            cache = json.loads(cache_file.read_text())
        except (OSError, ValueError):
            cache = {}
        fresh, out = {}, []
        for pid in self.ids:
            path = self.problems_dir / pid / "spec.yaml"
            stat = path.stat()
            key, stamp = str(path), [stat.st_mtime_ns, stat.st_size]
            entry = cache.get(key)
            if entry is None or entry["stamp"] != stamp:
                try:
                    entry = {"stamp": stamp, "summary": asdict(_summary(self.spec(pid)))}
                except SpecError:
                    if strict:
                        raise
                    continue
            fresh[key] = entry
            out.append(Summary(**{**entry["summary"], "aliases": tuple(entry["summary"]["aliases"])}))
        if fresh != cache:
            try:
                cache_file.parent.mkdir(parents=True, exist_ok=True)
                cache_file.write_text(json.dumps(fresh))
            except OSError:
                pass  # an unwritable data folder only costs speed here
        return out

    def aliases(self) -> dict[str, str]:
        """alias -> id; a broken spec blocks no other problem."""
        return {alias: s.id for s in self.summaries(strict=False) for alias in s.aliases}

    def resolve(self, query: str) -> str:
        """Map what the user typed to a problem id: exact id, alias, then unique prefix."""
        q = query.strip().lower().replace("_", "-")
        if q in self.ids:
            return q
        aliases = self.aliases()
        if q in aliases:
            return aliases[q]
        matches = [pid for pid in self.ids if pid.startswith(q)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise UnknownProblem(query, matches, ambiguous=True)
        names = self.ids + list(aliases)
        near = difflib.get_close_matches(q, names, n=3, cutoff=0.5)
        near += [pid for pid in self.ids if q in pid and pid not in near]
        raise UnknownProblem(query, [aliases.get(n, n) for n in dict.fromkeys(near)][:3])
