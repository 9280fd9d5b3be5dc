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

    def __init__(self, query: str, suggestions: list[str], ambiguous: bool = False, clash: str = ""):
        self.query, self.suggestions, self.ambiguous = query, suggestions, ambiguous
        if clash:
            msg = clash
        elif ambiguous:
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
    pack: str = ""


def _summary(spec: Spec) -> Summary:
    return Summary(spec.id, spec.title, spec.family, spec.difficulty, spec.target_minutes, spec.aliases, spec.pack)


BUILTIN_PREFIX = "builtin/"   # `builtin/<id>` names a built-in problem whatever the packs hold


@dataclass(frozen=True)
class Source:
    """One folder of problems: the built-in catalog (pack "") or a pack."""

    root: Path
    pack: str = ""

    @property
    def label(self) -> str:
        return f"pack {self.pack} ({self.root})" if self.pack else "the built-in catalog"

    def qualify(self, local_id: str) -> str:
        return f"{self.pack}/{local_id}" if self.pack else local_id


@dataclass
class Catalog:
    """The built-in problems under `root` (`problems/<id>/spec.yaml`), then those of every
    installed pack, whose ids are `<pack>/<id>`."""

    root: Path = field(default_factory=builtin_root)
    with_packs: bool = True

    @cached_property
    def _packs(self) -> tuple[list, list[str]]:
        from drillcli.packs import installed

        return installed() if self.with_packs else ([], [])

    @cached_property
    def sources(self) -> list[Source]:
        return [Source(self.root), *(Source(p.root, p.name) for p in self._packs[0])]

    @cached_property
    def _where(self) -> dict[str, tuple[Source, str]]:
        """id -> (its source, its id inside the source)."""
        return {source.qualify(path.parent.name): (source, path.parent.name)
                for source in self.sources for path in sorted((source.root / "problems").glob("*/spec.yaml"))}

    @property
    def problems_dir(self) -> Path:
        return self.root / "problems"

    @property
    def ids(self) -> list[str]:
        return list(self._where)

    def source(self, problem_id: str) -> Source:
        return self._where[problem_id][0] if problem_id in self._where else self.sources[0]

    def spec(self, problem_id: str, localized: bool = True) -> Spec:
        """The problem's spec, its texts in the chosen language (drillcli.i18n) unless localized=False."""
        from drillcli.i18n import localize

        source, local = self._where.get(problem_id, (self.sources[0], problem_id))
        spec = load_spec(source.root / "problems" / local / "spec.yaml", source.pack)
        return localize(spec) if localized else spec

    def specs(self) -> list[Spec]:
        """Every problem's spec. A pack's problem whose spec does not load is left out (`drill
        list` and `drill check` report it); a built-in one raises SpecError."""
        out = []
        for pid, (source, _) in self._where.items():
            try:
                out.append(self.spec(pid))
            except SpecError:
                if not source.pack:
                    raise
        return out

    def solution_path(self, spec: Spec) -> Path:
        return spec.source_root / "solutions" / f"{spec.module_name}.py"

    def fixture_path(self, spec: Spec) -> Path:
        return spec.source_root / "graders" / "fixtures" / f"{spec.local_id}.npz"

    def protected_folders(self) -> list[Path]:
        """Every source's answers: what a submission may never read."""
        return [folder for s in self.sources for folder in (s.root / "solutions", s.root / "graders" / "fixtures")]

    @property
    def broken_packs(self) -> list[str]:
        """One line for each pack that could not be loaded."""
        return self._packs[1]

    def troubles(self) -> list[str]:
        """One line for each broken pack or pack problem (bad pack.yaml, a spec that does not
        load, fixtures not built); the built-in catalog reports its own errors when used."""
        lines = list(self.broken_packs)
        for pid, (source, _) in self._where.items():
            if not source.pack:
                continue
            try:
                spec = self.spec(pid)
            except SpecError as exc:
                lines.append(f"{pid} skipped: {exc}")
                continue
            if not self.fixture_path(spec).is_file():
                lines.append(f"{pid}: no fixtures yet (`drill build-fixtures {pid}`)")
        return lines

    def summaries(self, strict: bool = True) -> list[Summary]:
        """One Summary per problem, read through a cache keyed by each spec's mtime and
        size: parsing every YAML prompt would dominate `drill list`. A spec that fails to
        load is skipped when it is a pack's or when strict=False (it reports its own error
        when asked for)."""
        from drillcli.paths import data_dir

        cache_file = data_dir() / "catalog-cache.json"
        try:
            cache = json.loads(cache_file.read_text())
        except (OSError, ValueError):
            cache = {}
        fresh, out = {}, []
        for pid, (source, local) in self._where.items():
            path = source.root / "problems" / local / "spec.yaml"
            stat = path.stat()
            key, stamp = f"{source.pack}:{path}", [stat.st_mtime_ns, stat.st_size]
            entry = cache.get(key)
            if entry is None or entry["stamp"] != stamp:
                try:
                    entry = {"stamp": stamp, "summary": asdict(_summary(self.spec(pid, localized=False)))}
                except SpecError:
                    if strict and not source.pack:
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

    def resolve(self, query: str, typed: bool = True) -> str:
        """Map what the user typed to a problem id: exact id, alias, then unique prefix. A
        bare id that two sources hold is an error naming both (`pack/id` always works);
        typed=False takes a stored id as it is."""
        q = query.strip().lower().replace("_", "-")
        local = q.removeprefix(BUILTIN_PREFIX)
        if local != q and "/" not in local and local in self._where:
            return local
        same = [pid for pid, (_, local) in self._where.items() if local == q]
        if q in self._where and (len(same) == 1 or not typed or "/" in q):
            return q
        if len(same) == 1:
            return same[0]
        if same:
            places = " and ".join(f"{BUILTIN_PREFIX}{pid}" if "/" not in pid else pid for pid in same)
            raise UnknownProblem(query, same, clash=f"'{query}' is a problem in more than one place: "
                                 + "; ".join(f"{pid} in {self.source(pid).label}" for pid in same)
                                 + f". Type the full id: {places}.")
        aliases = self.aliases()
        if q in aliases:
            return aliases[q]
        matches = [pid for pid, (_, local) in self._where.items() if pid.startswith(q) or local.startswith(q)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise UnknownProblem(query, matches, ambiguous=True)
        names = self.ids + list(aliases)
        near = difflib.get_close_matches(q, names, n=3, cutoff=0.5)
        near += [pid for pid in self.ids if q in pid and pid not in near]
        raise UnknownProblem(query, [aliases.get(n, n) for n in dict.fromkeys(near)][:3])
