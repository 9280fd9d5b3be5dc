"""Run-time guards installed in the worker before the user's code is imported:
forbidden APIs raise when called, and the reference solutions cannot be imported.
"""

from __future__ import annotations

import importlib
import sys
import traceback
import types
from typing import Any, Callable

from drillcli.forbid import ALWAYS_FORBIDDEN_MODULES


class ForbiddenCall(BaseException):
    """Raised by a guarded API. A BaseException, so `except Exception` in user code
    does not swallow it."""


VIOLATIONS: list[str] = []


def user_line(user_file: str) -> str:
    for frame in reversed(traceback.extract_stack()):
        if frame.filename == user_file:
            return f" (line {frame.lineno}: {(frame.line or '').strip()})"
    return ""


def resolve(dotted: str) -> tuple[Any, str] | None:
    """(owner object, attribute name) for a dotted API name, or None if absent."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:-1]:
            owner = getattr(owner, attr, None)
            if owner is None:
                return None
        return (owner, parts[-1]) if hasattr(owner, parts[-1]) else None
    return None


def _guarded(name: str, user_file: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        message = f"{name} is forbidden in this problem{user_line(user_file)}"
        VIOLATIONS.append(message)
        raise ForbiddenCall(message)

    return refuse


def install_api_guard(forbid: tuple[str, ...], user_file: str) -> None:
    """Replace each forbidden API, where it is defined and where it is exported. A forbidden
    module stays importable (library internals import it), but its public functions and
    classes are replaced: `torch.optim` refuses `torch.optim.Adam(...)` however it was reached."""
    for name in forbid:
        found = resolve(name)
        if found is None:
            continue
        owner, attr = found
        original = getattr(owner, attr)
        if isinstance(original, types.ModuleType):
            for member in _public_members(original):
                _replace(original, member, f"{name}.{member}", user_file)
        else:
            _replace(owner, attr, name, user_file)


def _public_members(module: types.ModuleType) -> list[str]:
    """Names of the functions and classes a module defines (in itself or its submodules)."""
    prefix = module.__name__
    return [attr for attr, value in vars(module).items()
            if not attr.startswith("_") and callable(value) and not isinstance(value, types.ModuleType)
            and (getattr(value, "__module__", "") or "").startswith(prefix)]


def _replace(owner: Any, attr: str, name: str, user_file: str) -> None:
    original = getattr(owner, attr)
    replacement = _guarded(name, user_file)
    setattr(owner, attr, replacement)
    home = sys.modules.get(getattr(original, "__module__", "") or "")
    if home is not None and getattr(home, attr, None) is original:
        setattr(home, attr, replacement)


class _RefuseModules:
    """Meta-path finder that refuses to import the given packages (and their submodules)."""

    def __init__(self, modules: dict[str, str]):
        self.modules = modules  # package -> why it is refused

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        for module, why in self.modules.items():
            if fullname == module or fullname.startswith(module + "."):
                message = f"importing {fullname} is not allowed: {why}"
                VIOLATIONS.append(message)
                raise ForbiddenCall(message)
        return None


def install_import_guard(forbid: tuple[str, ...] = ()) -> None:
    """Refuse the reference solutions, and whole packages the problem forbids (`sklearn`)."""
    refused = {m: "the reference solutions stay hidden" for m in ALWAYS_FORBIDDEN_MODULES}
    refused.update({m: "this problem forbids it" for m in forbid if "." not in m})
    for name in list(sys.modules):
        if any(name == m or name.startswith(m + ".") for m in refused):
            del sys.modules[name]
    sys.meta_path.insert(0, _RefuseModules(refused))
