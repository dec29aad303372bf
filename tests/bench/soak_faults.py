"""Fault soak: random local and remote edits for a fixed time while the sandbox injects throttling,
5xx answers, dropped connections (before and after the server acted) and latency. At the end the two
calendars must be identical, with no duplicates and no lost edit. Bounded: stops at --minutes and at
--max-edits, whichever comes first.

    .venv/bin/python -m tests.bench.soak_faults [--minutes 10] [--max-edits 100000] [--seed 9]

Every edit writes a subject never used before, so "the newest value of every appointment on both
sides" is a comparison of subject counts. Local edits go to appointments created locally and remote
edits to appointments another client created, so every edit has one expected final value (the
conflict paths are the state machine's and the merge tests' job); conflicts are still counted.
Exit 0 when the calendars match, 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from calendar_app.domain import new_appointment
from calendar_app.exchange.connection_settings import SignInMode
from calendar_app.store import AppointmentRepository, Database
from calendar_app.sync.engine import SyncEngine
from tests.support.exchange_sandbox import REP_MAILBOX, open_calendar, running_sandbox

ZONE = ZoneInfo("Europe/Berlin")
FAULTS = (("busy", 300), ("http500", 0), ("http503", 0), ("http503", 1), ("drop-before", 0), ("drop-after", 0),
          ("latency", 250))
OPERATIONS = (None, "CreateItem", "UpdateItem", "DeleteItem", "MoveItem", "SyncFolderItems", "GetItem",
              "FindItem")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--max-edits", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args(argv)
    # As in the app (logging_setup): exchangelib logs every failed request whole at ERROR; the
    # figures below count the failures.
    logging.getLogger("exchangelib.util").setLevel(logging.CRITICAL)
    rng = random.Random(args.seed)
    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as name, running_sandbox(Path(name) / "sandbox") as sandbox:
        server = sandbox.server
        database = Database.open(Path(name) / "calendar.sqlite3")
        repo = AppointmentRepository(database)
        engine = SyncEngine(database, open_calendar(server, SignInMode.IMPERSONATION), retry_base_seconds=0.05,
                            max_back_off_seconds=2.0, mass_delete_min_items=10_000)
        other = sandbox.remote(SignInMode.OWN_ACCOUNT)  # another client; its edits set faults aside
        expected_local: dict[str, str] = {}  # uuid -> newest subject
        expected_remote: dict[str, str] = {}  # item id -> newest subject
        serial = 0

        def fresh(label: str) -> str:
            nonlocal serial
            serial += 1
            return f"{label} {serial}"

        def sync() -> None:
            for _ in range(rng.randrange(0, 3)):
                kind, value = rng.choice(FAULTS)
                server.faults.add(kind, value=value, operation=rng.choice(OPERATIONS), times=rng.randrange(1, 3))
                counts["faults injected"] += 1
            report = engine.run_once()
            counts["sync runs"] += 1
            counts["conflicts"] += report.new_conflicts
            if not report.converged:
                counts["runs retried (did not converge)"] += 1
            counts["item failures"] += len(report.failures)
            if report.retry_after_seconds is not None:
                counts["back-offs asked by the server"] += 1

        deadline = time.monotonic() + args.minutes * 60
        while time.monotonic() < deadline and counts["edits"] < args.max_edits:
            action = rng.random()
            if action < 0.35 or not expected_local:
                start = datetime(2027, 5, 3, 8, tzinfo=ZONE) + timedelta(hours=rng.randrange(0, 2000))
                a = new_appointment(subject=fresh("Local"), start=start, end=start + timedelta(minutes=45),
                                    timezone="Europe/Berlin")
                repo.add(a)
                expected_local[a.uuid] = a.subject
            elif action < 0.55:
                uuid = rng.choice(sorted(expected_local))
                subject = fresh("Local edit")
                repo.update(repo.get(uuid).appointment.with_changes(subject=subject))
                expected_local[uuid] = subject
            elif action < 0.60:
                uuid = rng.choice(sorted(expected_local))
                repo.cancel(uuid)
                del expected_local[uuid]
            elif action < 0.80 or not expected_remote:
                start = datetime(2027, 9, 6, 8, tzinfo=ZONE) + timedelta(hours=rng.randrange(0, 2000))
                subject = fresh("Remote")
                item_id = other.external_create(new_appointment(subject=subject, start=start,
                                                                end=start + timedelta(minutes=30),
                                                                timezone="Europe/Berlin"))
                expected_remote[item_id] = subject
            elif action < 0.95:
                item_id = rng.choice(sorted(expected_remote))
                subject = fresh("Remote edit")
                other.external_update(item_id, subject=subject)
                expected_remote[item_id] = subject
            else:
                item_id = rng.choice(sorted(expected_remote))
                other.external_delete(item_id)
                del expected_remote[item_id]
            counts["edits"] += 1
            if rng.random() < 0.3:
                sync()
        counts["faults left unused at the end"] = sum(f.remaining or 1 for f in server.faults.active)
        server.faults.clear()
        for _ in range(20):
            report = engine.run_once()
            if report.converged and report.pending == 0:
                break
        engine.run_once()  # one more pull: what the last push's answers changed
        wanted = Counter([*expected_local.values(), *expected_remote.values()])
        on_server = Counter(item.text("Subject") or "" for item in server.calendar_items(REP_MAILBOX))
        local = Counter(s.appointment.subject for s in repo.all())
        database.close()
    for label, value in counts.items():
        print(f"{label:<34} {value}")
    problems = []
    for side, seen in (("server", on_server), ("local store", local)):
        missing, extra = wanted - seen, seen - wanted
        duplicates = [s for s, n in seen.items() if n > 1]
        if missing or extra or duplicates:
            problems.append(f"{side}: {len(missing)} lost, {len(extra)} unexpected, {len(duplicates)} duplicated "
                            f"(e.g. {sorted(missing)[:3]} {sorted(extra)[:3]})")
    print(f"{'appointments at the end':<34} {sum(wanted.values())} expected, {sum(on_server.values())} on the server, "
          f"{sum(local.values())} local")
    if problems:
        print("FAIL: " + "; ".join(problems))
        return 1
    print("OK: both calendars identical, no duplicates, no lost edits")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
