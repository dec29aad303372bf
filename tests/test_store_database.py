"""The SQLite store: migrations, atomic save + outbox, and clear errors from a bad environment.
Everything here runs against real SQLite files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from calendar_app.domain import Appointment, FreeBusy, new_appointment
from calendar_app.store import AppointmentRepository, Database, Outbox, StoreError, SyncRecords
from calendar_app.store.appointment_repository import forget_decoded_lists
from calendar_app.store.errors import (
    DatabaseCorruptError,
    DatabaseFullError,
    DatabaseLockedError,
    DatabaseReadOnlyError,
    DatabaseTooNewError,
)
from calendar_app.store.migrations import LATEST_VERSION


def appointment(subject: str = "Call with Fabrikam", hour: int = 9) -> Appointment:
    return new_appointment(subject=subject, start=datetime(2026, 5, 4, hour), end=datetime(2026, 5, 4, hour + 1),
                           timezone="Europe/London", required_attendees=("buyer@fabrikam.com",))


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database.open(tmp_path / "calendar.sqlite3")


def table_names(db: Database) -> set[str]:
    with db.reading() as c:
        return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrates_from_empty_to_latest_with_wal(db: Database) -> None:
    assert db.schema_version() == LATEST_VERSION
    assert {"appointments", "sync_status", "outbox", "folder_sync_state", "conflicts"} <= table_names(db)
    with db.reading() as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("earlier", range(1, LATEST_VERSION))
def test_migrates_from_each_earlier_version_keeping_data(tmp_path: Path, earlier: int) -> None:
    path = tmp_path / "old.sqlite3"
    old = Database(path)
    old.migrate(target=earlier)
    assert old.schema_version() == earlier
    a = appointment()
    AppointmentRepository(old).add(a)
    old.close()

    upgraded = Database.open(path)
    assert upgraded.schema_version() == LATEST_VERSION
    assert AppointmentRepository(upgraded).get(a.uuid).appointment == a
    assert Outbox(upgraded).pending_count() == 1


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as c:
        c.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(DatabaseTooNewError, match="newer calendar-app"):
        Database.open(path)


def test_save_and_outbox_are_one_transaction(db: Database) -> None:
    """A failure between the appointment row and its outbox row leaves neither."""
    with db.transaction() as c:
        c.execute("CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    repo = AppointmentRepository(db)
    with pytest.raises(sqlite3.IntegrityError):
        repo.add(appointment())
    with db.reading() as c:
        assert c.execute("SELECT COUNT(*) FROM appointments").fetchone()[0] == 0
        assert c.execute("SELECT COUNT(*) FROM sync_status").fetchone()[0] == 0
        assert c.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0


def test_an_edit_failing_midway_keeps_the_previous_version(db: Database) -> None:
    repo = AppointmentRepository(db)
    a = appointment()
    repo.add(a)
    with db.transaction() as c:
        c.execute("CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'boom'); END")
    # the pending create absorbs the update, so first let the create "go out"
    outbox = Outbox(db)
    op = outbox.ready()[0]
    outbox.mark_sending(op.id)
    outbox.complete(op.id)
    with pytest.raises(sqlite3.IntegrityError):
        repo.update(a.with_changes(subject="Changed"))
    assert repo.get(a.uuid).appointment.subject == a.subject


def test_updates_send_only_changed_fields_and_fold_while_waiting(db: Database) -> None:
    repo, outbox = AppointmentRepository(db), Outbox(db)
    a = appointment()
    repo.add(a)
    # while the create has not been tried, edits ride along with it
    assert repo.update(a.with_changes(subject="v2")) == ["subject"]
    assert [(o.operation, o.changed_fields) for o in outbox.ready()] == [("create", ())]
    create = outbox.ready()[0]
    outbox.mark_sending(create.id)
    outbox.complete(create.id)
    b = repo.get(a.uuid).appointment
    repo.update(b.with_changes(location="Room 1"))
    repo.update(b.with_changes(location="Room 2", start=b.start + timedelta(hours=1),
                               end=b.end + timedelta(hours=1)))
    ops = outbox.ready()
    assert [(o.operation, o.changed_fields) for o in ops] == [("update", ("end", "location", "start"))]


def test_cancel_of_an_unsent_appointment_drops_it_entirely(db: Database) -> None:
    repo, outbox = AppointmentRepository(db), Outbox(db)
    a = appointment()
    repo.add(a)
    repo.cancel(a.uuid)
    assert repo.count() == 0 and outbox.pending_count() == 0


def test_cancel_after_a_send_is_queued(db: Database) -> None:
    repo, outbox = AppointmentRepository(db), Outbox(db)
    a = appointment()
    repo.add(a)
    op = outbox.ready()[0]
    outbox.mark_sending(op.id)  # outcome unknown: it may exist on the server
    repo.cancel(a.uuid)
    assert [o.operation for o in outbox.ready()] == ["create"]
    outbox.complete(op.id)
    assert [o.operation for o in outbox.ready()] == ["cancel"]
    assert repo.count() == 0


def test_range_query_finds_overlaps(db: Database) -> None:
    repo = AppointmentRepository(db)
    morning, noon = appointment("morning", 9), appointment("noon", 12)
    repo.add(morning)
    repo.add(noon)
    found = repo.between(morning.start + timedelta(minutes=30), noon.start)
    assert [s.appointment.subject for s in found] == ["morning"]


def test_sync_records_round_trip(db: Database) -> None:
    repo, records = AppointmentRepository(db), SyncRecords(db)
    a = appointment()
    repo.add(a)
    records.mark_synced(a.uuid, item_id="AAMk1", change_key="CK1", snapshot=a.to_dict())
    status = records.status(a.uuid)
    assert status is not None and status.item_id == "AAMk1" and status.snapshot == a.to_dict()
    records.record_conflict(a.uuid, "subject", "old", "mine", "theirs")
    assert repo.get(a.uuid).sync_state == "conflict"
    assert records.conflicts(a.uuid)[0].remote_value == "theirs"
    records.set_folder_sync_state("calendar", "H4sI...")
    assert records.folder_sync_state("calendar") == "H4sI..."


# ---------------------------------------------------------------- a bad environment

def test_locked_database_gives_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "calendar.sqlite3"
    db = Database.open(path, busy_timeout_ms=100)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLockedError, match="locked by another program"):
            AppointmentRepository(db).add(appointment())
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert AppointmentRepository(db).count() == 0


def test_read_only_database_gives_a_clear_error(db: Database) -> None:
    # Tests run as root, which ignores file modes; query_only gives SQLite's own read-only error.
    db.connection().execute("PRAGMA query_only = ON")
    with pytest.raises(DatabaseReadOnlyError, match="read-only"):
        AppointmentRepository(db).add(appointment())


def test_full_disk_gives_a_clear_error_and_no_half_row(db: Database) -> None:
    repo = AppointmentRepository(db)
    with db.reading() as c:
        pages = c.execute("PRAGMA page_count").fetchone()[0]
    db.connection().execute(f"PRAGMA max_page_count = {pages}")
    big = appointment().with_changes(body="x" * 90_000)
    with pytest.raises(DatabaseFullError, match="full"):
        repo.add(big)
    with db.reading() as c:
        assert c.execute("SELECT COUNT(*) FROM appointments").fetchone()[0] == 0
        assert c.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "calendar.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseCorruptError, match="damaged"):
        Database.open(path)


def test_store_errors_are_one_readable_sentence(tmp_path: Path) -> None:
    path = tmp_path / "calendar.sqlite3"
    path.write_bytes(b"\x00" * 4096)
    with pytest.raises(StoreError) as caught:
        Database.open(path)
    assert "Traceback" not in str(caught.value) and str(path) in str(caught.value)


def test_resolving_a_conflict_queues_the_fields_that_differ_from_exchange(db: Database) -> None:
    repo, records, outbox = AppointmentRepository(db), SyncRecords(db), Outbox(db)
    a = appointment()
    repo.add(a)
    op = outbox.ready()[0]
    outbox.mark_sending(op.id)
    outbox.complete(op.id)
    exchange_version = a.with_changes(subject="Theirs", location="Their room")
    # what the engine does on a same-field conflict: Exchange's version becomes the merge base
    records.mark_synced(a.uuid, item_id="AAMk1", change_key="CK2", snapshot=exchange_version.to_dict())
    records.record_conflict(a.uuid, "subject", a.subject, "Mine", "Theirs")
    resolved = exchange_version.with_changes(subject="Mine")
    assert repo.resolve_conflict(resolved) == ["subject"]
    assert records.conflicts(a.uuid) == []
    assert repo.get(a.uuid).sync_state == "pending"
    assert [(o.operation, o.changed_fields) for o in outbox.ready()] == [("update", ("subject",))]


def test_range_query_finds_a_long_appointment_that_started_long_before(db: Database) -> None:
    repo = AppointmentRepository(db)
    trade_fair = new_appointment(subject="Trade fair season", start=datetime(2026, 1, 1), end=datetime(2026, 4, 1),
                                 timezone="Europe/London", is_all_day=True)
    repo.add(trade_fair)
    repo.add(appointment("short", 9))
    found = repo.between(datetime(2026, 3, 30, tzinfo=trade_fair.start.tzinfo),
                         datetime(2026, 3, 31, tzinfo=trade_fair.start.tzinfo))
    assert [s.appointment.subject for s in found] == ["Trade fair season"]


def test_reading_back_gives_every_field_as_written(db: Database) -> None:
    repo = AppointmentRepository(db)
    full = new_appointment(
        subject="Quarterly review", start=datetime(2026, 6, 1, 14, 30), end=datetime(2026, 6, 1, 16),
        timezone="America/New_York", location="Room 4", body="Agenda:\n1. numbers", reminder_minutes=None,
        required_attendees=("a@contoso.com", "b@contoso.com"), optional_attendees=("c@contoso.com",),
        free_busy=FreeBusy.TENTATIVE, is_private=True, categories=("Customer", "Renewal"))
    plain = appointment("plain", 9)
    repo.add(full)
    repo.add(plain)
    again = {s.appointment.uuid: s.appointment for s in repo.between(datetime(2026, 1, 1, tzinfo=UTC),
                                                                      datetime(2027, 1, 1, tzinfo=UTC))}
    assert again == {full.uuid: full, plain.uuid: plain}
    assert again[full.uuid].start.tzinfo == ZoneInfo("America/New_York")
    forget_decoded_lists()  # a cold read decodes the lists again, to the same values
    assert repo.get(full.uuid).appointment == full


def test_range_query_orders_by_start_then_uuid(db: Database) -> None:
    repo = AppointmentRepository(db)
    same_start = [appointment(f"same {n}", 10) for n in range(6)]
    for a in [appointment("late", 15), *same_start, appointment("early", 8)]:
        repo.add(a)
    found = [s.appointment for s in repo.between(datetime(2026, 5, 4, tzinfo=UTC), datetime(2026, 5, 5, tzinfo=UTC))]
    assert found[0].subject == "early" and found[-1].subject == "late"
    assert [a.uuid for a in found[1:-1]] == sorted(a.uuid for a in same_start)


def test_a_row_naming_an_unknown_zone_gives_a_clear_error(db: Database) -> None:
    repo = AppointmentRepository(db)
    stored = appointment("zone gone", 9)
    repo.add(stored)
    with db.transaction() as c:  # as after a tzdata downgrade removed the zone
        c.execute("UPDATE appointments SET timezone = 'Mars/Olympus_Mons' WHERE uuid = ?", (stored.uuid,))
    with pytest.raises(StoreError, match=r"unknown time zone 'Mars/Olympus_Mons'.*tzdata"):
        repo.get(stored.uuid)
