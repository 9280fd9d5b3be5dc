"""Open a file in the user's editor ($VISUAL, else $EDITOR)."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path


class EditorError(Exception):
    """No editor configured, or it could not be started."""


def open_in_editor(path: Path) -> None:
    """Run the editor on `path` and wait for it (terminal editors need the terminal)."""
    command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not command:
        raise EditorError(f"set $EDITOR (for example `export EDITOR=vim`) or open {path} yourself.")
    try:
        subprocess.call([*shlex.split(command), str(path)])
    except OSError as exc:
        raise EditorError(f"could not run the editor '{command}': {exc}") from None
