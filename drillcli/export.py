"""`drill export`: the history as CSV (one row per grade, with its attempt) or JSON
(attempts, grades and reviews with their raw signals)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict

from drillcli import clock
from drillcli.store import Store

CSV_COLUMNS = ("problem", "attempt_id", "attempt_started", "graded_at", "elapsed_s", "passed_cases",
               "total_cases", "status", "hints_used", "solution_seen", "code_hash")


def _iso(seconds: float | None) -> str | None:
    return clock.from_timestamp(seconds).isoformat() if seconds is not None else None


def render(store: Store, fmt: str) -> str:
    return _csv(store) if fmt == "csv" else _json(store)


def _csv(store: Store) -> str:
    started = {a.id: a.started_at for a in store.attempts()}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for g in store.grades():
        writer.writerow([g.problem, g.attempt_id, _iso(started.get(g.attempt_id)), _iso(g.graded_at), g.elapsed_s,
                         g.passed_cases, g.total_cases, g.status, g.hints_used, int(g.solution_seen), g.code_hash])
    return out.getvalue()


def _json(store: Store) -> str:
    def stamped(row: dict, *fields: str) -> dict:
        return {**row, **{f: _iso(row[f]) for f in fields}}

    reviews = []
    for r in store.reviews():
        row = asdict(r)
        del row["card"], row["card_id"]
        reviews.append(stamped(row, "reviewed_at", "due_at"))
    document = {
        "schema_version": store.schema_version,
        "attempts": [stamped(asdict(a), "started_at", "graded_at", "closed_at") for a in store.attempts()],
        "grades": [stamped(asdict(g), "graded_at") for g in store.grades()],
        "reviews": reviews,
        "concept_reviews": [stamped(r, "reviewed_at", "due_at") for r in store.concept_reviews()],
        "mocks": [{**stamped(asdict(m), "started_at", "resumed_at", "finished_at"), "plan": json.loads(m.plan)}
                  for m in store.mocks()],
    }
    return json.dumps(document, indent=2) + "\n"
