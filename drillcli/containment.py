"""The audit hook (PEP 578) that keeps a submission away from the answers and the history.

Installed in the grading child after drill has loaded what it needs and before the
user's code is imported. Python offers no way to remove an audit hook, so removing the
import guard from `sys.meta_path` or loading a file under another name still ends here.
It refuses:

- opening, listing, linking, renaming or deleting anything under the protected folders
  (the reference solutions, the fixtures, drill's state folder), and other processes'
  `/proc` entries (another process's memory or open files);
- SQLite connections, ctypes library loading and symbol lookup (a way around every
  check here), starting other programs (a program runs outside this hook), and signals
  to processes outside the grade's own process group.

Each refusal raises `guard.ForbiddenCall` and is recorded in `guard.VIOLATIONS`, so the
case is `forbidden` even when the user's code catches the exception. This is not a
security boundary against a determined attacker with native code; it makes the honest
path the only easy one and keeps the history out of reach of an ordinary mistake.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Sequence

from drillcli.guard import VIOLATIONS, ForbiddenCall, user_line

REFUSED_EVENTS = {
    "sqlite3.connect": "opening an SQLite database",
    "ctypes.dlopen": "loading a native library with ctypes",
    "ctypes.dlsym": "looking up a native symbol with ctypes",
    "ctypes.dlsym/handle": "looking up a native symbol with ctypes",
    "os.system": "starting a program",
    "os.exec": "starting a program",
    "os.posix_spawn": "starting a program",
    "os.spawn": "starting a program",
    "subprocess.Popen": "starting a program",
    "pty.spawn": "starting a program",
}
# event -> positions of its path arguments
PATH_EVENTS = {
    "open": (0,), "os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1), "os.truncate": (0,),
    "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,), "os.link": (0, 1), "os.symlink": (0, 1),
    "os.listdir": (0,), "os.scandir": (0,), "os.mkdir": (0,), "shutil.rmtree": (0,), "shutil.move": (0, 1),
    "shutil.copyfile": (0, 1), "shutil.copytree": (0, 1), "os.chdir": (0,),
}
SIGNAL_EVENTS = ("os.kill", "os.killpg")


def install(protected: Sequence[str], user_file: str) -> None:
    """Add the hook; `protected` are folders. What the hook calls is bound as keyword
    defaults, so patching `os.path` afterwards does not change what it sees."""
    roots = tuple(os.path.realpath(p) for p in protected)
    own_proc = ("/proc/self", f"/proc/{os.getpid()}", "/proc/thread-self")

    def hook(event: str, args: tuple, *, _roots: tuple = roots, _violations: list = VIOLATIONS,
             _refuse: Any = ForbiddenCall, _realpath: Any = os.path.realpath, _fspath: Any = os.fspath,
             _getpgid: Any = os.getpgid, _getpgrp: Any = os.getpgrp, _busy: list = [False]) -> None:
        if _busy[0]:
            return   # events raised while the hook itself works (the traceback reads source files)
        why = None
        if event in REFUSED_EVENTS:
            why = REFUSED_EVENTS[event]
        elif event in PATH_EVENTS:
            for i in PATH_EVENTS[event]:
                path = args[i] if len(args) > i else None
                if isinstance(path, (str, bytes, os.PathLike)):
                    why = _path_refusal(_fspath(path), _roots, own_proc, _realpath)
                    if why:
                        break
        elif event in SIGNAL_EVENTS:
            why = _signal_refusal(event, args, _getpgid, _getpgrp)
        elif event == "object.__setattr__" and args and args[0] is hook:
            why = "changing drill's audit hook"
        if why is None:
            return
        _busy[0] = True
        try:
            message = f"{why} is not allowed while grading{user_line(user_file)}"
        finally:
            _busy[0] = False
        _violations.append(message)
        raise _refuse(message)

    sys.addaudithook(hook)


def _path_refusal(path: str | bytes, roots: tuple[str, ...], own_proc: tuple[str, ...],
                  realpath: Callable[[Any], Any]) -> str | None:
    text = os.fsdecode(path) if isinstance(path, bytes) else path
    if text.startswith("/proc/") and not text.startswith(own_proc) and text[6:7].isdigit():
        return f"reading another process's files ({text})"
    resolved = realpath(text)
    for root in roots:
        if resolved == root or resolved.startswith(root + os.sep):
            return f"touching {resolved} (drill's reference answers or history)"
    return None


def _signal_refusal(event: str, args: tuple, getpgid: Callable[[int], int], getpgrp: Callable[[], int]) -> str | None:
    target = args[0] if args else None
    if not isinstance(target, int):
        return None
    try:
        if event == "os.killpg" or target < 0:
            group = abs(target) or getpgrp()
        else:
            group = getpgid(target) if target > 0 else getpgrp()
    except OSError:
        return None   # no such process: the call itself will say so
    return None if group == getpgrp() else f"signalling process {target}, outside this grade"
