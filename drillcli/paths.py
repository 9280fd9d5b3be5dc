"""Where state lives: the database folder and the workspace the user edits in."""

from __future__ import annotations

import os
from pathlib import Path


class WorkspaceError(Exception):
    """The workspace cannot be written; the message says where and what to do."""


def data_dir() -> Path:
    """DRILL_HOME, else the platform's user data directory."""
    if os.environ.get("DRILL_HOME"):
        return Path(os.environ["DRILL_HOME"]).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("drill", appauthor=False))


def db_path() -> Path:
    return data_dir() / "drill.db"


def workspace() -> Path:
    """DRILL_WORKSPACE, else ~/drill."""
    return Path(os.environ.get("DRILL_WORKSPACE") or "~/drill").expanduser()


def workspace_file(problem_id: str) -> Path:
    return workspace() / f"{problem_id.replace('-', '_')}.py"
