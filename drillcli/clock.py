"""The one clock everything reads, so that tests fix time instead of sleeping.

DRILL_NOW (ISO 8601, or unix seconds) freezes it: subprocess tests set it, in-process
tests may also monkeypatch `now`. Datetimes are timezone-aware UTC; the database
stores unix seconds.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    fixed = os.environ.get("DRILL_NOW")
    if fixed:
        return parse(fixed)
    return datetime.now(timezone.utc)


def timestamp() -> float:
    """Now as unix seconds, the form the database stores."""
    return now().timestamp()


def parse(text: str) -> datetime:
    """ISO 8601 (naive means UTC) or unix seconds, as an aware UTC datetime."""
    try:
        return from_timestamp(float(text))
    except ValueError:
        pass
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def local_day(seconds: float) -> date:
    """The calendar day a moment falls on where the user is (streaks, heatmap)."""
    return datetime.fromtimestamp(seconds).astimezone().date()


def duration(seconds: float) -> str:
    """12m05s, 1h02m00s."""
    minutes, secs = divmod(int(max(seconds, 0)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def relative(seconds: float, reference: float) -> str:
    """'in 3 days', '2 days ago', 'today' for a moment against a reference."""
    diff = seconds - reference
    hours = round(abs(diff) / 3600)
    if hours < 1:
        return "now"
    if hours < 24:
        return f"in {hours}h" if diff > 0 else f"{hours}h ago"
    n = round(abs(diff) / 86400)
    unit = "day" if n == 1 else "days"
    return f"in {n} {unit}" if diff > 0 else f"{n} {unit} ago"


def end_of_day(moment: datetime) -> datetime:
    """The last instant of the user's local day containing `moment`, in UTC: what is
    due before it is "due today"."""
    local = moment.astimezone()
    return (local.replace(hour=23, minute=59, second=59, microsecond=999999)).astimezone(timezone.utc)
