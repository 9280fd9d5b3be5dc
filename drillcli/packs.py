"""Problem packs: folders of problems in the catalog's own format, kept outside the package.

A pack is `pack.yaml` (name, version, description, the drill version it needs) beside
`problems/`, `solutions/` and `graders/`. `drill pack add` records its path in the data
folder; `DRILL_PACKS` (a path list) adds packs for one shell. Nothing here imports torch.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from drillcli import __version__
from drillcli.paths import data_dir

PACK_FILE = "pack.yaml"
NAME = re.compile(r"^[a-z][a-z0-9-]*$")
RESERVED = ("builtin", "drill")
CLAUSE = re.compile(r"^\s*(>=|<=|==|>|<)\s*(\d+(?:\.\d+)*)\s*$")


class PackError(Exception):
    """A pack that cannot be used; the message is one line naming the file and the fix."""


@dataclass(frozen=True)
class Pack:
    name: str
    version: str
    description: str
    requires: str          # the drill versions it works with, e.g. ">=0.1"
    root: Path


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def requirement_met(requirement: str, version: str = __version__) -> bool:
    """`>=0.1, <1` style clauses, all of which must hold; raises ValueError on bad syntax."""
    have = _version(version)
    for clause in requirement.split(","):
        match = CLAUSE.match(clause)
        if match is None:
            raise ValueError(clause.strip())
        op, want = match.group(1), _version(match.group(2))
        width = max(len(have), len(want))
        a, b = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
        if not {">=": a >= b, "<=": a <= b, "==": a == b, ">": a > b, "<": a < b}[op]:
            return False
    return True


def load_pack(root: Path) -> Pack:
    """Read and check `root/pack.yaml`."""
    import yaml

    path = root / PACK_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError:
        raise PackError(f"{root}: no {PACK_FILE} (a pack needs name, version, description, drill)") from None
    except yaml.YAMLError as exc:
        raise PackError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise PackError(f"{path}: expected a mapping with name, version, description, drill")
    fields = {}
    for key in ("name", "version", "description", "drill"):
        value = raw.get(key)
        if not isinstance(value, (str, int, float)) or not str(value).strip():
            raise PackError(f"{path}: field '{key}' is missing or empty")
        fields[key] = str(value).strip()
    if not NAME.match(fields["name"]) or fields["name"] in RESERVED:
        raise PackError(f"{path}: name '{fields['name']}' must be lowercase letters, digits and '-', "
                        f"and not {' or '.join(RESERVED)}")
    try:
        if not requirement_met(fields["drill"]):
            raise PackError(f"{path}: needs drill {fields['drill']}; this is drill {__version__}")
    except ValueError as exc:
        raise PackError(f"{path}: field 'drill' must look like '>=0.1' or '>=0.1, <1' (got '{exc}')") from None
    if not (root / "problems").is_dir():
        raise PackError(f"{root}: no problems/ folder")
    return Pack(fields["name"], fields["version"], fields["description"], fields["drill"], root.resolve())


def registry_file() -> Path:
    return data_dir() / "packs.json"


def _registered() -> list[str]:
    try:
        paths = json.loads(registry_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []


def _save(paths: list[str]) -> None:
    registry_file().parent.mkdir(parents=True, exist_ok=True)
    registry_file().write_text(json.dumps(paths, indent=1), encoding="utf-8")


def pack_paths() -> list[Path]:
    """The added packs, then those in DRILL_PACKS, each once."""
    extra = [p for p in os.environ.get("DRILL_PACKS", "").split(os.pathsep) if p.strip()]
    return [Path(p) for p in dict.fromkeys([*_registered(), *(str(Path(p).expanduser().resolve()) for p in extra)])]


def installed() -> tuple[list[Pack], list[str]]:
    """The usable packs, and one line for each that is not (a later one of the same name included)."""
    packs: list[Pack] = []
    broken: list[str] = []
    for path in pack_paths():
        try:
            pack = load_pack(path)
        except PackError as exc:
            broken.append(f"pack at {path} skipped: {exc}")
            continue
        same = next((p for p in packs if p.name == pack.name), None)
        if same is not None:
            broken.append(f"pack at {path} skipped: the name '{pack.name}' is already the pack at {same.root}")
            continue
        packs.append(pack)
    return packs, broken


def add(path: Path) -> Pack:
    """Record a pack's folder; it must be a valid pack whose name is not taken."""
    pack = load_pack(path.expanduser().resolve())
    others = [p for p in installed()[0] if p.root != pack.root]
    taken = next((p for p in others if p.name == pack.name), None)
    if taken is not None:
        raise PackError(f"a pack named '{pack.name}' is already added, from {taken.root}: "
                        f"`drill pack remove {pack.name}` first")
    _save([*dict.fromkeys([*_registered(), str(pack.root)])])
    return pack


def remove(name_or_path: str) -> Path:
    """Forget an added pack, by name or by folder (a broken pack may have no readable name);
    the folder itself is left as it is. Returns the folder forgotten."""
    target = str(Path(name_or_path).expanduser().resolve())
    for path in _registered():
        try:
            name = load_pack(Path(path)).name
        except PackError:
            name = None
        if name_or_path in (name, path) or path == target:
            _save([p for p in _registered() if p != path])
            return Path(path)
    hint = " (packs from DRILL_PACKS go away with that variable)" if os.environ.get("DRILL_PACKS") else ""
    raise PackError(f"no added pack '{name_or_path}'; `drill pack list` shows them{hint}")


def init(root: Path) -> Pack:
    """Make `root` a pack if it is not one yet (named after the folder), and add it."""
    root = root.expanduser().resolve()
    if not (root / PACK_FILE).is_file():
        name = re.sub(r"[^a-z0-9-]+", "-", root.name.lower()).strip("-") or "my-pack"
        name = name if name[0].isalpha() else f"pack-{name}"
        (root / "problems").mkdir(parents=True, exist_ok=True)
        (root / PACK_FILE).write_text(
            f"name: {name}\nversion: 0.1.0\ndescription: TODO what these problems practise\n"
            f"drill: \">={__version__.rsplit('.', 1)[0]}\"\n", encoding="utf-8")
    pack = load_pack(root)
    if pack.root not in [p.root for p in installed()[0]]:
        add(root)
    return pack
