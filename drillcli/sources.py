"""Where a problem's Python lives. The built-in catalog's graders and solutions are the
packages `drillcli.graders` and `drillcli.solutions`; a pack's are imported from its own
folder as `drill_packs.<pack>.graders` and `drill_packs.<pack>.solutions`, so two packs (or a
pack and the catalog) can each have a module of the same name."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from types import ModuleType

BUILTIN = "drillcli"
PACKS_PACKAGE = "drill_packs"


def package_name(pack: str) -> str:
    """The import prefix of a source: "" is the built-in catalog."""
    return f"{PACKS_PACKAGE}.{pack.replace('-', '_')}" if pack else BUILTIN


def ensure_importable(package: str, root: str | Path) -> None:
    """Register a pack's package, rooted at its folder (graders/ and solutions/ inside)."""
    if package == BUILTIN or package in sys.modules:
        return
    if PACKS_PACKAGE not in sys.modules:
        holder = types.ModuleType(PACKS_PACKAGE, "Problem packs outside the package (drill pack add).")
        holder.__path__ = []
        sys.modules[PACKS_PACKAGE] = holder
    module = types.ModuleType(package)
    module.__path__ = [str(root)]
    sys.modules[package] = module


def import_from(package: str, root: str | Path, kind: str, module: str) -> ModuleType:
    """`<package>.<kind>.<module>`, kind being "graders" or "solutions"."""
    ensure_importable(package, root)
    return importlib.import_module(f"{package}.{kind}.{module}")
