"""The user's workspace files: fresh stubs, and timestamped backups so that a file
the user edited is never overwritten or deleted without a copy."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from drillcli import clock, paths
from drillcli.paths import WorkspaceError
from drillcli.spec import Spec

BACKUP_DIR = ".backups"


def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def code_hash(path: Path) -> str:
    return hash_bytes(path.read_bytes())


def stub_path(spec: Spec) -> Path:
    return spec.folder / "stub.py"


def is_edited(spec: Spec, path: Path) -> bool:
    """The file exists and differs from the problem's stub."""
    return path.exists() and path.read_bytes() != stub_path(spec).read_bytes()


def backup(path: Path) -> Path:
    """Move `path` to <workspace>/.backups/<name>-<UTC timestamp>.py and return where it went."""
    folder = path.parent / BACKUP_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    target = folder / f"{path.stem}-{stamp}{path.suffix}"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{path.stem}-{stamp}-{n}{path.suffix}"
    path.replace(target)
    return target


def prepare(spec: Spec, fresh: bool) -> tuple[Path, Path | None, bool]:
    """Put the stub in the workspace unless the user's edits are there.

    Returns (workspace file, backup made or None, whether an edited file was kept).
    With `fresh`, an edited file is backed up first and the stub copied over.
    """
    target = paths.workspace_file(spec.id)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        moved = None
        if is_edited(spec, target):
            if not fresh:
                return target, None, True
            moved = backup(target)
        shutil.copyfile(stub_path(spec), target)
        return target, moved, False
    except OSError as exc:
        raise WorkspaceError(f"cannot write to the workspace {target.parent}: {exc}. "
                             f"Set DRILL_WORKSPACE to a writable folder.") from None


def clear(spec: Spec) -> Path | None:
    """Move the workspace file to a backup (nothing is deleted); None if there was none."""
    target = paths.workspace_file(spec.id)
    if not target.exists():
        return None
    try:
        return backup(target)
    except OSError as exc:
        raise WorkspaceError(f"cannot back up {target}: {exc}") from None
