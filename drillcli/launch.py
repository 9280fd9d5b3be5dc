"""The `drill` console script.

Ctrl-C at any moment, even while the CLI's modules are still importing, ends drill with
exit 130 and one line; a database failure that surfaces anywhere ends it with its
message. Neither prints a traceback. This module imports nothing heavy, so that the
window before its handler is in place is as short as Python's own start.
"""

from __future__ import annotations

import signal
import sys

INTERRUPTED = 130
DATABASE_TROUBLE = 2


def main() -> None:
    try:
        from drillcli.cli import app

        try:
            app()
        except Exception as exc:
            from drillcli.store import StoreError   # only now: `drill list` never needs the Store

            if not isinstance(exc, StoreError):
                raise
            sys.stderr.write(f"error: {exc}\n")
            sys.exit(DATABASE_TROUBLE)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # a second Ctrl-C must not cut the exit short
        sys.stderr.write("\ninterrupted\n")
        sys.exit(INTERRUPTED)
