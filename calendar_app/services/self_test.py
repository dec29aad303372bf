"""`calendar-app --self-test`: run a list of independent checks, one line each.

An admin runs this right after installing: every check runs even when an earlier one failed,
so one run shows everything that is missing. The checks themselves live in the layer that owns
the component (Qt in gui/, exchangelib in exchange/, TLS in security/); app.py puts them together.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from calendar_app.domain import new_appointment
from calendar_app.security.secret_store import SecretStore
from calendar_app.store import AppointmentRepository, Database
from calendar_app.store.migrations import LATEST_VERSION


@dataclass(frozen=True)
class SelfTestCheck:
    """One check: `run` returns a short description of what it saw, or raises on failure."""

    name: str
    run: Callable[[], str]


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        verdict = "ok  " if self.passed else "FAIL"
        return f"{verdict} {self.name}: {self.detail}"


def run_checks(checks: Iterable[SelfTestCheck], report: Callable[[CheckOutcome], None]) -> list[CheckOutcome]:
    """Run every check, reporting each outcome as soon as it is known."""
    outcomes = []
    for check in checks:
        try:
            outcome = CheckOutcome(check.name, True, _one_line(check.run()))
        except Exception as error:  # a self-test reports any failure as a result, never a traceback
            outcome = CheckOutcome(check.name, False, _one_line(f"{type(error).__name__}: {error}"))
        report(outcome)
        outcomes.append(outcome)
    return outcomes


def check_keyring_backend() -> str:
    """The OS keyring the app would store passwords in (found through keyring's entry points,
    which a bundle must ship for this to work)."""
    return f"backend {SecretStore().backend_name()}"


def check_database_in_temp_folder() -> str:
    """Create a calendar database in a throw-away folder, write an appointment, read it back."""
    with tempfile.TemporaryDirectory(prefix="calendar-app-self-test-") as folder:
        database = Database.open(Path(folder) / "calendar.sqlite3")
        try:
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
            appointment = new_appointment(subject="self-test", start=start, end=start + timedelta(hours=1),
                                          timezone="Europe/Berlin")
            repository = AppointmentRepository(database)
            repository.add(appointment)
            read_back = repository.get(appointment.uuid).appointment
            if read_back != appointment:
                raise RuntimeError("the appointment read back differs from the one written")
            schema = database.schema_version()
        finally:
            database.close()
    if schema != LATEST_VERSION:
        raise RuntimeError(f"schema {schema} after opening, expected {LATEST_VERSION}")
    return f"SQLite {sqlite3.sqlite_version}, schema {schema}, wrote and read an appointment in a temp folder"


def _one_line(text: str) -> str:
    return " ".join(text.split())
