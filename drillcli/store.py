"""The attempt history in SQLite: WAL mode, a busy timeout, a schema version with
migrations, and every write in one transaction."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

BUSY_TIMEOUT_MS = 10_000

# Each entry upgrades the schema by one version; never edit a released one, append.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE attempts (
        id            INTEGER PRIMARY KEY,
        problem       TEXT NOT NULL,
        started_at    REAL NOT NULL,          -- unix seconds
        graded_at     REAL,
        elapsed_s     REAL,
        passed_cases  INTEGER,
        total_cases   INTEGER,
        status        TEXT,                   -- verdict status of the last grade
        hints_used    INTEGER NOT NULL DEFAULT 0,
        solution_seen INTEGER NOT NULL DEFAULT 0,
        code_hash     TEXT
    );
    CREATE INDEX attempts_problem ON attempts(problem, started_at);
    CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: every grade in its own table, attempts that close, FSRS cards and the raw
    # signals of every review (so the schedule can be rebuilt if the rating mapping changes).
    """
    ALTER TABLE attempts ADD COLUMN closed_at REAL;
    ALTER TABLE attempts ADD COLUMN outcome TEXT;            -- passed | failed | abandoned
    ALTER TABLE attempts ADD COLUMN mode TEXT NOT NULL DEFAULT 'start';   -- start | review | next
    CREATE TABLE grades (
        id            INTEGER PRIMARY KEY,
        attempt_id    INTEGER REFERENCES attempts(id),   -- NULL: graded with no attempt started
        problem       TEXT NOT NULL,
        graded_at     REAL NOT NULL,
        elapsed_s     REAL,
        passed_cases  INTEGER NOT NULL,
        total_cases   INTEGER NOT NULL,
        status        TEXT NOT NULL,
        hints_used    INTEGER NOT NULL DEFAULT 0,
        solution_seen INTEGER NOT NULL DEFAULT 0,
        code_hash     TEXT
    );
    CREATE INDEX grades_problem ON grades(problem, graded_at);
    CREATE INDEX grades_attempt ON grades(attempt_id);
    CREATE TABLE reviews (
        id            INTEGER PRIMARY KEY,
        problem       TEXT NOT NULL,
        attempt_id    INTEGER REFERENCES attempts(id),
        reviewed_at   REAL NOT NULL,
        passed        INTEGER NOT NULL,
        passed_cases  INTEGER,
        total_cases   INTEGER,
        elapsed_s     REAL,
        target_s      REAL NOT NULL,
        hints_used    INTEGER NOT NULL,
        solution_seen INTEGER NOT NULL,
        self_rating   INTEGER,                -- 1..4 on the follow-up questions, NULL if not asked
        rating        INTEGER NOT NULL,       -- the FSRS rating given: 1 Again, 2 Hard, 3 Good, 4 Easy
        due_at        REAL NOT NULL           -- when the card fell due after this review
    );
    CREATE INDEX reviews_problem ON reviews(problem, reviewed_at);
    CREATE TABLE cards (
        problem        TEXT PRIMARY KEY,
        card_id        INTEGER NOT NULL,
        card           TEXT NOT NULL,         -- fsrs Card.to_json()
        due_at         REAL NOT NULL,
        last_review_at REAL
    );
    CREATE INDEX cards_due ON cards(due_at);
    INSERT INTO grades (attempt_id, problem, graded_at, elapsed_s, passed_cases, total_cases, status,
                        hints_used, solution_seen, code_hash)
        SELECT id, problem, graded_at, elapsed_s, passed_cases, total_cases, status, hints_used,
               solution_seen, code_hash
        FROM attempts WHERE graded_at IS NOT NULL;
    UPDATE attempts SET closed_at = graded_at, outcome = 'passed' WHERE status = 'passed';
    """,
    # 3: the concept deck's own cards and reviews, and mock rounds.
    """
    CREATE TABLE concept_cards (
        card           TEXT PRIMARY KEY,      -- a deck card id
        fsrs           TEXT NOT NULL,         -- fsrs Card.to_json()
        due_at         REAL NOT NULL,
        last_review_at REAL
    );
    CREATE TABLE concept_reviews (
        id             INTEGER PRIMARY KEY,
        card           TEXT NOT NULL,
        reviewed_at    REAL NOT NULL,
        rating         INTEGER NOT NULL,      -- self-rated 1 Again .. 4 Easy
        points_covered INTEGER,
        points_total   INTEGER,
        due_at         REAL NOT NULL
    );
    CREATE INDEX concept_reviews_card ON concept_reviews(card, reviewed_at);
    CREATE TABLE mocks (
        id          INTEGER PRIMARY KEY,
        started_at  REAL NOT NULL,
        minutes     INTEGER NOT NULL,
        seed        INTEGER NOT NULL,
        family      TEXT,
        plan        TEXT NOT NULL,            -- JSON: the problems and questions, and what was done
        used_s      REAL NOT NULL DEFAULT 0,  -- clock time spent before the last interruption
        resumed_at  REAL,                     -- when the clock last started running
        finished_at REAL,
        score       REAL
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
WAL_RETRIES = 50   # switching a brand-new file to WAL can meet a concurrent first open

ATTEMPT_COLUMNS = ("id, problem, started_at, graded_at, elapsed_s, passed_cases, total_cases, status, "
                   "hints_used, solution_seen, code_hash, closed_at, outcome, mode")


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


def database_error(exc: sqlite3.Error, path: Path) -> StoreError:
    """What an SQLite failure means for the user, and what to do; the file is never touched."""
    text = str(exc)
    if "full" in text:
        return StoreError(f"the disk holding {path} is full: this was not recorded. Free some space and run it "
                          f"again; everything recorded before is intact.")
    if "locked" in text or "busy" in text:
        return StoreError(f"the database {path} stayed locked by another process: this was not recorded. Close "
                          f"other drill commands and try again.")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the database {path} is read-only: this was not recorded. Make it writable, or set "
                          f"DRILL_HOME to a writable folder.")
    return StoreError(f"the database {path} is damaged ({text}): this was not recorded, and the file was left "
                      f"untouched. `sqlite3 {path} .recover` can salvage the history; or move it aside (or set "
                      f"DRILL_HOME to another folder) to start a new one.")


@dataclass
class Attempt:
    id: int
    problem: str
    started_at: float
    graded_at: float | None
    elapsed_s: float | None
    passed_cases: int | None
    total_cases: int | None
    status: str | None            # verdict status of the latest grade
    hints_used: int
    solution_seen: bool
    code_hash: str | None
    closed_at: float | None = None
    outcome: str | None = None    # passed | failed | abandoned; None while open
    mode: str = "start"

    def __post_init__(self) -> None:
        self.solution_seen = bool(self.solution_seen)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass
class GradeRecord:
    """One grade, as kept in the `grades` table."""

    problem: str
    graded_at: float
    passed_cases: int
    total_cases: int
    status: str
    code_hash: str | None
    attempt_id: int | None = None
    elapsed_s: float | None = None
    hints_used: int = 0
    solution_seen: bool = False
    id: int | None = None

    def __post_init__(self) -> None:
        self.solution_seen = bool(self.solution_seen)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class ReviewRecord:
    """The raw signals of one review, the rating they gave and the card it produced."""

    problem: str
    attempt_id: int | None
    reviewed_at: float
    passed: bool
    passed_cases: int | None
    total_cases: int | None
    elapsed_s: float | None
    target_s: float
    hints_used: int
    solution_seen: bool
    self_rating: int | None
    rating: int
    due_at: float
    card_id: int = 0
    card: str = ""                # fsrs Card.to_json() after the review; not a column of `reviews`
    id: int | None = None

    def __post_init__(self) -> None:
        self.passed, self.solution_seen = bool(self.passed), bool(self.solution_seen)


@dataclass
class CardRow:
    problem: str
    card_id: int
    card: str
    due_at: float
    last_review_at: float | None


@dataclass(frozen=True)
class ConceptCardRow:
    card: str
    fsrs: str
    due_at: float
    last_review_at: float | None


MOCK_COLUMNS = "id, started_at, minutes, seed, family, plan, used_s, resumed_at, finished_at, score"


@dataclass
class MockRow:
    id: int | None
    started_at: float
    minutes: int
    seed: int
    family: str | None
    plan: str
    used_s: float = 0.0
    resumed_at: float | None = None
    finished_at: float | None = None
    score: float | None = None


REVIEW_COLUMNS = ("problem, attempt_id, reviewed_at, passed, passed_cases, total_cases, elapsed_s, target_s, "
                  "hints_used, solution_seen, self_rating, rating, due_at")
GRADE_COLUMNS = ("problem, graded_at, passed_cases, total_cases, status, code_hash, attempt_id, elapsed_s, "
                 "hints_used, solution_seen")


class Store:
    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not os.access(path.parent, os.W_OK | os.X_OK):
                raise PermissionError(f"no write permission on {path.parent}")
            self.conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                        check_same_thread=False)  # watch: one thread at a time
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._check_version(self._version())   # before WAL, which would rewrite a newer file's header
            self._enable_wal()
            self._migrate()
        except StoreError:
            raise
        except sqlite3.Error as exc:
            raise database_error(exc, path) from None
        except OSError as exc:
            raise StoreError(f"cannot use the data folder {path.parent}: {exc}. "
                             f"Set DRILL_HOME to a writable folder.") from None

    def _enable_wal(self) -> None:
        """WAL once per file (it persists); a concurrent first open may briefly hold the lock."""
        for _ in range(WAL_RETRIES):
            try:
                if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                time.sleep(0.1)
        raise StoreError(f"the database {self.path} stayed locked by another process. Close other drill "
                         f"commands and try again; the file was left untouched.")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE takes the write lock up front, so a busy writer waits instead of
        failing. A failure rolls the whole transaction back and becomes a StoreError."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                with suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise database_error(exc, self.path) from None

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        """A read, every row fetched; a failure becomes a StoreError."""
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise database_error(exc, self.path) from None

    def _version(self) -> int:
        return self._rows("PRAGMA user_version")[0][0]

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(f"the database {self.path} was written by a newer drill (schema {version}, "
                             f"this one knows {SCHEMA_VERSION}). Upgrade drill (pip install -U drill), or set "
                             f"DRILL_HOME to another folder; the file was left untouched.")

    def _migrate(self) -> None:
        while self._version() < SCHEMA_VERSION:
            with self.transaction() as conn:
                version = self._version()   # re-read under the lock: another process may have migrated
                self._check_version(version)
                if version >= SCHEMA_VERSION:
                    break
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")

    @property
    def schema_version(self) -> int:
        return self._version()

    def close(self) -> None:
        self.conn.close()

    # -- attempts ---------------------------------------------------------------------

    def start_attempt(self, problem: str, code_hash: str, now: float, mode: str = "start") -> int:
        with self.transaction() as conn:
            cur = conn.execute("INSERT INTO attempts (problem, started_at, code_hash, mode) VALUES (?, ?, ?, ?)",
                               (problem, now, code_hash, mode))
            conn.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('current', ?)", (problem,))
            return int(cur.lastrowid)

    def set_current(self, problem: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO state (key, value) VALUES ('current', ?)", (problem,))

    def current_problem(self) -> str | None:
        rows = self._rows("SELECT value FROM state WHERE key = 'current'")
        return rows[0][0] if rows else None

    def _attempt(self, where: str, args: tuple) -> Attempt | None:
        rows = self._rows(f"SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE {where} "
                          f"ORDER BY started_at DESC, id DESC LIMIT 1", args)
        return Attempt(*rows[0]) if rows else None

    def attempt(self, attempt_id: int) -> Attempt | None:
        return self._attempt("id = ?", (attempt_id,))

    def latest_attempt(self, problem: str) -> Attempt | None:
        """The latest attempt at the problem, open or closed."""
        return self._attempt("problem = ?", (problem,))

    def open_attempt(self, problem: str) -> Attempt | None:
        """The attempt at the problem still in progress, if any."""
        return self._attempt("problem = ? AND closed_at IS NULL", (problem,))

    def attempts(self, problem: str | None = None) -> list[Attempt]:
        """Attempts, oldest first."""
        where, args = ("WHERE problem = ?", (problem,)) if problem else ("", ())
        rows = self._rows(f"SELECT {ATTEMPT_COLUMNS} FROM attempts {where} ORDER BY started_at, id", args)
        return [Attempt(*row) for row in rows]

    def add_hint(self, attempt_id: int) -> int:
        """Count one more hint on the attempt; returns the new count."""
        with self.transaction() as conn:
            conn.execute("UPDATE attempts SET hints_used = hints_used + 1 WHERE id = ?", (attempt_id,))
            return conn.execute("SELECT hints_used FROM attempts WHERE id = ?", (attempt_id,)).fetchone()[0]

    def mark_solution_seen(self, attempt_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE attempts SET solution_seen = 1 WHERE id = ?", (attempt_id,))

    def record_grade(self, grade: GradeRecord, close: bool = False, review: ReviewRecord | None = None) -> int:
        """Keep the grade; update its attempt (if open) with the latest result, closing it
        when `close`; write the review and its card, if any. One transaction."""
        with self.transaction() as conn:
            cur = conn.execute(f"INSERT INTO grades ({GRADE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               _grade_values(grade))
            if grade.attempt_id is not None:
                conn.execute("UPDATE attempts SET graded_at = ?, elapsed_s = ?, passed_cases = ?, total_cases = ?, "
                             "status = ?, code_hash = ? WHERE id = ? AND closed_at IS NULL",
                             (grade.graded_at, grade.elapsed_s, grade.passed_cases, grade.total_cases,
                              grade.status, grade.code_hash, grade.attempt_id))
                if close:
                    _close(conn, grade.attempt_id, "passed" if grade.passed else "failed", grade.graded_at)
            if review is not None:
                _write_review(conn, review)
            return int(cur.lastrowid)

    def close_attempt(self, attempt_id: int, outcome: str, now: float, review: ReviewRecord | None = None) -> None:
        """Close an attempt (passed, failed or abandoned) and write its review, if any."""
        with self.transaction() as conn:
            _close(conn, attempt_id, outcome, now)
            if review is not None:
                _write_review(conn, review)

    def grades(self, problem: str | None = None) -> list[GradeRecord]:
        """Grades, oldest first."""
        where, args = ("WHERE problem = ?", (problem,)) if problem else ("", ())
        rows = self._rows(f"SELECT {GRADE_COLUMNS}, id FROM grades {where} ORDER BY graded_at, id", args)
        return [GradeRecord(*row) for row in rows]

    def passing_grade(self, attempt_id: int) -> GradeRecord | None:
        """The attempt's latest passing grade, if it has one."""
        rows = self._rows(f"SELECT {GRADE_COLUMNS}, id FROM grades WHERE attempt_id = ? AND status = 'passed' "
                          f"ORDER BY graded_at DESC, id DESC LIMIT 1", (attempt_id,))
        return GradeRecord(*rows[0]) if rows else None

    # -- reviews and cards ------------------------------------------------------------

    def reviews(self, problem: str | None = None) -> list[ReviewRecord]:
        """Reviews, oldest first (without the card JSON, which lives in `cards`)."""
        where, args = ("WHERE problem = ?", (problem,)) if problem else ("", ())
        rows = self._rows(f"SELECT {REVIEW_COLUMNS}, id FROM reviews {where} ORDER BY reviewed_at, id", args)
        return [ReviewRecord(*row[:-1], id=row[-1]) for row in rows]

    def card(self, problem: str) -> CardRow | None:
        rows = self._rows("SELECT problem, card_id, card, due_at, last_review_at FROM cards WHERE problem = ?",
                          (problem,))
        return CardRow(*rows[0]) if rows else None

    def cards(self) -> list[CardRow]:
        """Every card, soonest due first (most overdue first)."""
        rows = self._rows("SELECT problem, card_id, card, due_at, last_review_at FROM cards ORDER BY due_at, problem")
        return [CardRow(*row) for row in rows]

    def replace_cards(self, cards: list[CardRow]) -> None:
        """Swap every card at once (a schedule rebuilt from the reviews)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM cards")
            conn.executemany("INSERT INTO cards VALUES (?, ?, ?, ?, ?)",
                             [(c.problem, c.card_id, c.card, c.due_at, c.last_review_at) for c in cards])

    def delete_history(self, problem: str) -> int:
        """Forget a problem: its attempts, grades, reviews and card. Returns the attempts deleted."""
        with self.transaction() as conn:
            for table in ("grades", "reviews", "cards"):
                conn.execute(f"DELETE FROM {table} WHERE problem = ?", (problem,))
            return conn.execute("DELETE FROM attempts WHERE problem = ?", (problem,)).rowcount


    # -- the concept deck -------------------------------------------------------------

    def concept_cards(self) -> list[ConceptCardRow]:
        """Every reviewed concept card, most overdue first."""
        return [ConceptCardRow(*row) for row in
                self._rows("SELECT card, fsrs, due_at, last_review_at FROM concept_cards ORDER BY due_at, card")]

    def concept_card(self, card: str) -> ConceptCardRow | None:
        rows = self._rows("SELECT card, fsrs, due_at, last_review_at FROM concept_cards WHERE card = ?", (card,))
        return ConceptCardRow(*rows[0]) if rows else None

    def review_concept(self, card: ConceptCardRow, rating: int, covered: int | None, total: int | None) -> None:
        """Store a concept card's new schedule and the review that set it, together."""
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO concept_cards VALUES (?, ?, ?, ?)",
                         (card.card, card.fsrs, card.due_at, card.last_review_at))
            conn.execute("INSERT INTO concept_reviews (card, reviewed_at, rating, points_covered, points_total, "
                         "due_at) VALUES (?, ?, ?, ?, ?, ?)",
                         (card.card, card.last_review_at, rating, covered, total, card.due_at))

    def concept_reviews(self) -> list[dict]:
        cols = ("card", "reviewed_at", "rating", "points_covered", "points_total", "due_at")
        return [dict(zip(cols, row)) for row in
                self._rows(f"SELECT {', '.join(cols)} FROM concept_reviews ORDER BY reviewed_at, id")]

    # -- mock rounds --------------------------------------------------------------------

    def add_mock(self, mock: MockRow) -> int:
        with self.transaction() as conn:
            cur = conn.execute("INSERT INTO mocks (started_at, minutes, seed, family, plan, used_s, resumed_at) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?)", (mock.started_at, mock.minutes, mock.seed, mock.family,
                                                               mock.plan, mock.used_s, mock.resumed_at))
            return int(cur.lastrowid)

    def save_mock(self, mock: MockRow) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE mocks SET plan = ?, used_s = ?, resumed_at = ?, finished_at = ?, score = ? "
                         "WHERE id = ?", (mock.plan, mock.used_s, mock.resumed_at, mock.finished_at, mock.score,
                                          mock.id))

    def mocks(self) -> list[MockRow]:
        """Every mock round, oldest first."""
        return [MockRow(*row) for row in self._rows(f"SELECT {MOCK_COLUMNS} FROM mocks ORDER BY started_at, id")]


def _grade_values(g: GradeRecord) -> tuple:
    return (g.problem, g.graded_at, g.passed_cases, g.total_cases, g.status, g.code_hash, g.attempt_id,
            g.elapsed_s, g.hints_used, int(g.solution_seen))


def _close(conn: sqlite3.Connection, attempt_id: int, outcome: str, now: float) -> None:
    conn.execute("UPDATE attempts SET closed_at = ?, outcome = ? WHERE id = ? AND closed_at IS NULL",
                 (now, outcome, attempt_id))


def _write_review(conn: sqlite3.Connection, r: ReviewRecord) -> None:
    conn.execute(f"INSERT INTO reviews ({REVIEW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (r.problem, r.attempt_id, r.reviewed_at, int(r.passed), r.passed_cases, r.total_cases, r.elapsed_s,
                  r.target_s, r.hints_used, int(r.solution_seen), r.self_rating, r.rating, r.due_at))
    conn.execute("INSERT OR REPLACE INTO cards (problem, card_id, card, due_at, last_review_at) "
                 "VALUES (?, ?, ?, ?, ?)", (r.problem, r.card_id, r.card, r.due_at, r.reviewed_at))
