"""The sync engine against the in-memory Exchange-like remote, over a real SQLite calendar:
round trips of every field, remote changes arriving, no duplicates after lost answers, merges and
conflicts, throttling, invitations, per-item errors, the mass-delete guard."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calendar_app.domain import Appointment, FreeBusy
from calendar_app.store.sync_ledger import SyncLedger
from calendar_app.sync.in_memory_remote import Fault, InMemoryRemoteCalendar
from calendar_app.sync.merge import ConflictPolicy
from calendar_app.sync.remote_calendar import (
    AuthFailed,
    CertificateChanged,
    ChangePage,
    ItemRejected,
    LeftAlone,
    OutcomeUnknown,
    Throttled,
    TransientNetwork,
)
from calendar_app.sync.report import SyncProgress
from tests.support.calendar_sync import (
    KINDS,
    LocalCalendar,
    assert_same_calendars,
    edits_of,
    meeting,
    remote_appointments,
)


@pytest.fixture
def remote() -> InMemoryRemoteCalendar:
    return InMemoryRemoteCalendar()


@pytest.fixture
def local(tmp_path: Path, remote: InMemoryRemoteCalendar) -> LocalCalendar:
    return LocalCalendar.open(tmp_path / "calendar.sqlite3", remote)


def another_device(tmp_path: Path, remote: InMemoryRemoteCalendar, name: str = "other") -> LocalCalendar:
    """A second, empty local calendar on the same mailbox: what it pulls is what the server holds."""
    return LocalCalendar.open(tmp_path / f"{name}.sqlite3", remote)


# ---------------------------------------------------------------- every field, both ways

@pytest.mark.parametrize("kind", list(KINDS))
def test_create_update_cancel_round_trip_every_field(kind: str, tmp_path: Path, local: LocalCalendar,
                                                     remote: InMemoryRemoteCalendar) -> None:
    original = KINDS[kind]
    local.repo.add(original)
    assert local.sync().converged
    assert remote_appointments(remote) == {original.uuid: original}
    assert another_device(tmp_path, remote).sync().created_locally == 1

    current = original
    for changes in edits_of(original):
        current = current.with_changes(**changes)
        assert local.repo.update(current)
        report = local.sync()
        assert report.converged and report.pushed == 1, report.summary()
        assert remote_appointments(remote) == {original.uuid: current}, f"after {sorted(changes)}"
    fresh = another_device(tmp_path, remote, "fresh")
    fresh.sync()
    assert fresh.appointments() == {original.uuid: current}

    local.repo.cancel(original.uuid)
    assert local.sync().converged
    assert remote_appointments(remote) == {}
    assert local.appointments() == {}


def test_remote_create_update_delete_arrive_locally(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    foreign = meeting("Booked in Outlook", zone="America/Chicago", location="Phone")
    item_id = remote.external_create(foreign)
    report = local.sync()
    assert report.created_locally == 1 and report.converged
    (arrived,) = local.appointments().values()
    assert arrived.uuid != foreign.uuid  # it carried no local UUID: it gets one of ours
    assert arrived.with_changes() == remote.get(item_id).appointment
    assert local.item_id(arrived.uuid) == item_id

    remote.external_update(item_id, subject="Renamed on the phone", reminder_minutes=5)
    assert local.sync().updated_locally == 1
    assert local.appointments()[arrived.uuid].subject == "Renamed on the phone"
    assert_same_calendars(local, remote)

    remote.external_delete(item_id)
    assert local.sync().deleted_locally == 1
    assert local.appointments() == {}
    assert local.outbox.pending_count() == 0


def test_first_sync_pages_through_everything(tmp_path: Path, remote: InMemoryRemoteCalendar) -> None:
    for n in range(23):
        remote.external_create(meeting(f"Visit {n}", day=1 + n % 28))
    local = LocalCalendar.open(tmp_path / "paged.sqlite3", remote, page_size=5)
    report = local.sync()
    assert report.created_locally == 23 and report.converged
    assert remote.call_counts()["sync_changes"] == 5
    assert_same_calendars(local, remote)


def test_own_changes_coming_back_are_not_applied_twice(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    a = meeting()
    local.repo.add(a)
    local.sync()
    report = local.sync()
    assert (report.created_locally, report.updated_locally, report.pushed) == (0, 0, 0)


# ---------------------------------------------------------------- no duplicates

def test_a_create_whose_answer_was_lost_exists_exactly_once(local: LocalCalendar,
                                                           remote: InMemoryRemoteCalendar) -> None:
    a = meeting(required_attendees=("buyer@fabrikam.com", "cfo@fabrikam.com"))
    local.repo.add(a)
    remote.inject(Fault(OutcomeUnknown(), frozenset({"create"}), after_commit=True))
    first = local.sync()
    assert first.retry_after_seconds is not None and not first.converged
    assert local.outbox.ready()[0].outcome_unknown
    assert local.sync_until_converged().converged
    assert list(remote_appointments(remote)) == [a.uuid]
    assert remote.invitation_counts() == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1}
    assert remote.call_counts()["create"] == 1 and remote.call_counts()["find_by_local_uuid"] == 1


def test_a_create_lost_before_the_server_saw_it_is_sent_again(local: LocalCalendar,
                                                             remote: InMemoryRemoteCalendar) -> None:
    a = meeting()
    local.repo.add(a)
    remote.inject(Fault(OutcomeUnknown(), frozenset({"create"})))
    local.sync()
    assert local.sync_until_converged().converged
    assert list(remote_appointments(remote)) == [a.uuid]
    assert remote.call_counts()["create"] == 2


def test_a_lost_create_found_by_the_pull_is_adopted_not_duplicated(local: LocalCalendar,
                                                                  remote: InMemoryRemoteCalendar) -> None:
    """The answer was lost, then the rep edited the appointment; the pull sees our item first."""
    a = meeting()
    local.repo.add(a)
    remote.inject(Fault(OutcomeUnknown(), frozenset({"create"}), after_commit=True))
    local.sync()
    local.repo.update(a.with_changes(location="Room 7"))
    assert local.sync_until_converged().converged
    assert remote_appointments(remote) == {a.uuid: a.with_changes(location="Room 7")}


def test_cancelling_a_create_that_never_arrived_sends_nothing(local: LocalCalendar,
                                                             remote: InMemoryRemoteCalendar) -> None:
    a = meeting(required_attendees=("buyer@fabrikam.com",))
    local.repo.add(a)
    remote.inject(Fault(OutcomeUnknown(), frozenset({"create"})))
    local.sync()
    local.repo.cancel(a.uuid)
    assert local.sync_until_converged().converged
    assert remote.items() == [] and remote.sent_messages() == []


# ---------------------------------------------------------------- merges and conflicts

def synced_pair(local: LocalCalendar, remote: InMemoryRemoteCalendar, **fields: object) -> tuple[Appointment, str]:
    a = meeting(**fields)  # type: ignore[arg-type]
    local.repo.add(a)
    assert local.sync().converged
    return a, local.item_id(a.uuid)


def test_changes_to_different_fields_merge_silently(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    a, item_id = synced_pair(local, remote)
    remote.external_update(item_id, location="Their room", reminder_minutes=30)
    local.repo.update(a.with_changes(subject="My subject", start=a.start + timedelta(hours=2),
                                     end=a.end + timedelta(hours=2)))
    report = local.sync()
    assert report.converged and report.new_conflicts == 0
    expected = a.with_changes(subject="My subject", location="Their room", reminder_minutes=30,
                              start=a.start + timedelta(hours=2), end=a.end + timedelta(hours=2))
    assert local.appointments() == {a.uuid: expected}
    assert_same_calendars(local, remote)


def test_same_field_conflict_waits_for_the_rep_and_mine_reaches_exchange(
        local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    a, item_id = synced_pair(local, remote)
    remote.external_update(item_id, subject="Theirs", location="Their room")
    local.repo.update(a.with_changes(subject="Mine", body="My notes"))
    report = local.sync()
    assert report.new_conflicts == 1 and report.conflicts_waiting == 1 and not report.converged
    (conflict,) = local.records.conflicts(a.uuid)
    assert (conflict.field, conflict.base_value, conflict.local_value, conflict.remote_value) == \
        ("subject", a.subject, "Mine", "Theirs")
    stored = local.repo.get(a.uuid)
    assert stored.sync_state == "conflict"
    # the rep sees their own value, Exchange's other change merged in; Exchange is not touched yet
    assert stored.appointment == a.with_changes(subject="Mine", body="My notes", location="Their room")
    assert remote.get(item_id).appointment.subject == "Theirs"
    assert local.sync().conflicts_waiting == 1  # held until resolved

    assert sorted(local.repo.resolve_conflict(stored.appointment)) == ["body", "subject"]
    assert local.sync().converged
    assert remote.get(item_id).appointment == stored.appointment
    assert_same_calendars(local, remote)


def test_same_field_conflict_resolved_with_exchanges_value(local: LocalCalendar,
                                                           remote: InMemoryRemoteCalendar) -> None:
    a, item_id = synced_pair(local, remote)
    remote.external_update(item_id, subject="Theirs")
    local.repo.update(a.with_changes(subject="Mine"))
    local.sync()
    stored = local.repo.get(a.uuid).appointment
    assert local.repo.resolve_conflict(stored.with_changes(subject="Theirs")) == []
    calls_before = remote.call_counts().get("update", 0)
    assert local.sync().converged
    assert remote.call_counts().get("update", 0) == calls_before
    assert local.appointments()[a.uuid].subject == "Theirs"
    assert_same_calendars(local, remote)


@pytest.mark.parametrize(("policy", "winner"), [(ConflictPolicy.KEEP_MINE, "Mine"),
                                                (ConflictPolicy.TAKE_EXCHANGE, "Theirs")])
def test_conflict_policy_setting_decides_without_asking(tmp_path: Path, remote: InMemoryRemoteCalendar,
                                                        policy: ConflictPolicy, winner: str) -> None:
    local = LocalCalendar.open(tmp_path / "c.sqlite3", remote, policy=policy)
    a, item_id = synced_pair(local, remote)
    remote.external_update(item_id, subject="Theirs", start=a.start + timedelta(hours=1),
                           end=a.end + timedelta(hours=1))
    local.repo.update(a.with_changes(subject="Mine", location="My room"))
    report = local.sync_until_converged()
    assert report.converged and report.conflicts_waiting == 0
    result = local.appointments()[a.uuid]
    assert (result.subject, result.location, result.start) == (winner, "My room", a.start + timedelta(hours=1))
    assert_same_calendars(local, remote)


def test_edit_pending_while_a_remote_change_arrives_is_merged_not_overwritten(
        local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    a, item_id = synced_pair(local, remote)
    local.repo.update(a.with_changes(body="Written offline"))
    remote.inject(Fault(TransientNetwork(), frozenset({"update"})))
    local.sync()  # the push fails; the edit stays queued
    remote.external_update(item_id, location="Moved by the buyer")
    assert local.sync_until_converged().converged
    assert remote.get(item_id).appointment == a.with_changes(body="Written offline", location="Moved by the buyer")
    assert_same_calendars(local, remote)


def test_deleted_in_exchange_while_edited_here_keeps_the_edit(local: LocalCalendar,
                                                              remote: InMemoryRemoteCalendar) -> None:
    a, item_id = synced_pair(local, remote)
    remote.external_delete(item_id)
    remote.inject(Fault(TransientNetwork(), frozenset({"update"})))
    local.repo.update(a.with_changes(subject="Still needed"))
    local.sync()
    assert local.sync_until_converged().converged
    assert remote_appointments(remote) == {a.uuid: a.with_changes(subject="Still needed")}


# ---------------------------------------------------------------- throttling and errors

def test_throttling_back_off_is_honoured_and_the_sync_converges(local: LocalCalendar,
                                                                remote: InMemoryRemoteCalendar) -> None:
    for n in range(3):
        local.repo.add(meeting(f"Visit {n}", hour=9 + n))
    remote.inject(Fault(Throttled(back_off_seconds=0.3), frozenset({"create"})))
    first = local.sync()
    assert first.retry_after_seconds == pytest.approx(0.3) and "busy" in (first.retry_reason or "")
    assert local.engine.seconds_until_allowed() > 0
    assert local.sync_until_converged().converged
    assert remote.back_off_violations() == 0
    assert len(remote_appointments(remote)) == 3


def test_a_stop_request_ends_the_back_off_wait(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    local.repo.add(meeting())
    remote.inject(Fault(Throttled(back_off_seconds=120), frozenset({"create"})))
    local.sync()
    stop = threading.Event()
    stop.set()
    report = local.engine.run_once(stop)
    assert report.cancelled and remote.call_counts()["create"] == 1


def test_retry_back_off_grows_and_resets(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    local.repo.add(meeting())
    remote.inject(Fault(TransientNetwork(), times=3))
    delays = [local.sync().retry_after_seconds for _ in range(3)]
    assert delays == [0.01, 0.02, 0.04]
    assert local.sync().converged


@pytest.mark.parametrize("error", [AuthFailed(), CertificateChanged(old_sha256="AA", new_sha256="BB")])
def test_auth_and_certificate_errors_stop_and_surface(local: LocalCalendar, remote: InMemoryRemoteCalendar,
                                                      error: Exception) -> None:
    local.repo.add(meeting())
    local.repo.add(meeting("Second", hour=11))
    remote.inject(Fault(error, times=1))  # type: ignore[arg-type]
    report = local.sync()
    assert report.fatal_kind == type(error).__name__ and report.fatal_error == str(error)
    assert report.pending == 2 and remote.call_counts()["create"] == 1
    assert local.sync().converged


def test_one_rejected_item_is_marked_and_the_rest_sync(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    good, bad = meeting("Good"), meeting("Bad", hour=13)
    local.repo.add(bad)
    local.repo.add(good)
    remote.inject(Fault(ItemRejected("Exchange refused this appointment: invalid recurrence."),
                        frozenset({"create"})))
    report = local.sync()
    assert [f.uuid for f in report.failures] == [bad.uuid]
    assert local.repo.get(bad.uuid).sync_state == "failed"
    assert "invalid recurrence" in (local.repo.get(bad.uuid).last_error or "")
    assert list(remote_appointments(remote)) == [good.uuid]


def test_a_broken_progress_callback_does_not_stop_the_sync(local: LocalCalendar) -> None:
    local.repo.add(meeting())
    seen: list[str] = []

    def progress(p: object) -> None:
        seen.append(getattr(p, "phase", ""))
        raise RuntimeError("display gone")

    assert local.engine.run_once(None, progress).converged
    assert "push" in seen and "pull" in seen


# ---------------------------------------------------------------- invitations

def invited(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> tuple[Appointment, str]:
    return synced_pair(local, remote, required_attendees=("buyer@fabrikam.com",),
                       optional_attendees=("cfo@fabrikam.com",))


def test_create_invites_each_attendee_once(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    invited(local, remote)
    synced_pair(local, remote)  # no attendees: nobody to invite
    assert remote.invitation_counts() == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1}


@pytest.mark.parametrize("changes", [
    {"subject": "Renamed"}, {"body": "notes"}, {"reminder_minutes": 45}, {"categories": ("Won",)},
    {"free_busy": FreeBusy.FREE}, {"is_private": True},
])
def test_changes_nobody_else_sees_send_nothing(local: LocalCalendar, remote: InMemoryRemoteCalendar,
                                               changes: dict[str, object]) -> None:
    a, _ = invited(local, remote)
    before = remote.sent_messages()
    local.repo.update(a.with_changes(**changes))
    assert local.sync().pushed == 1
    assert remote.sent_messages() == before


def test_a_time_zone_change_that_keeps_the_time_sends_nothing(local: LocalCalendar,
                                                              remote: InMemoryRemoteCalendar) -> None:
    a, item_id = invited(local, remote)
    zone = ZoneInfo("Europe/London")
    moved = a.with_changes(timezone="Europe/London", start=a.start.astimezone(zone), end=a.end.astimezone(zone))
    local.repo.update(moved)
    local.sync()
    assert remote.get(item_id).appointment.timezone == "Europe/London"
    assert remote.invitation_counts() == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1}


@pytest.mark.parametrize("changes", [
    {"start": "+1h", "end": "+1h"}, {"location": "Fabrikam HQ"}, {"end": "+1h"},
])
def test_time_or_place_changes_reach_each_attendee_once(local: LocalCalendar, remote: InMemoryRemoteCalendar,
                                                        changes: dict[str, str]) -> None:
    a, _ = invited(local, remote)
    values: dict[str, object] = {k: (getattr(a, k) + timedelta(hours=1) if v == "+1h" else v)
                                 for k, v in changes.items()}
    local.repo.update(a.with_changes(**values))
    local.sync()
    assert remote.invitation_counts() == {"buyer@fabrikam.com": 2, "cfo@fabrikam.com": 2}
    assert remote.cancellation_counts() == {}


def test_attendee_changes_reach_only_the_changed_attendees(local: LocalCalendar,
                                                           remote: InMemoryRemoteCalendar) -> None:
    a, _ = invited(local, remote)
    local.repo.update(a.with_changes(optional_attendees=("legal@fabrikam.com",)))
    local.sync()
    assert remote.invitation_counts() == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1, "legal@fabrikam.com": 1}
    assert remote.cancellation_counts() == {"cfo@fabrikam.com": 1}


def test_cancel_sends_one_cancellation_per_attendee(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    a, _ = invited(local, remote)
    plain, _ = synced_pair(local, remote)
    local.repo.cancel(a.uuid)
    local.repo.cancel(plain.uuid)
    remote.inject(Fault(OutcomeUnknown(), frozenset({"cancel_meeting"}), after_commit=True))
    local.sync()
    assert local.sync_until_converged().converged
    assert remote.cancellation_counts() == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1}
    assert remote.items() == [] and local.appointments() == {}
    assert remote.call_counts()["move_to_deleted_items"] == 1


# ---------------------------------------------------------------- the mass-delete guard and resync

def test_an_emptied_server_does_not_empty_the_calendar_without_confirmation(
        local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    for n in range(6):
        local.repo.add(meeting(f"Visit {n}", day=1 + n))
    local.sync()
    for item in remote.items():
        remote.external_delete(item.item_id)
    report = local.sync()
    assert report.mass_delete_blocked == 6 and not report.converged
    assert "confirm" in report.summary()
    assert len(local.appointments()) == 6
    report = local.sync(allow_mass_delete=True)
    assert report.deleted_locally == 6 and local.appointments() == {}


def test_a_few_remote_deletions_apply_normally(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    for n in range(6):
        local.repo.add(meeting(f"Visit {n}", day=1 + n))
    local.sync()
    for item in remote.items()[:2]:
        remote.external_delete(item.item_id)
    assert local.sync().deleted_locally == 2
    assert_same_calendars(local, remote)


def test_a_refused_sync_state_reads_everything_again_without_duplicates(
        local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    for n in range(3):
        local.repo.add(meeting(f"Visit {n}", day=1 + n))
    local.sync()
    gone = remote.items()[0]
    remote.invalidate_sync_states()
    remote.external_delete(gone.item_id)
    remote.external_create(meeting("New in Outlook"))
    report = local.sync()
    assert report.converged and report.deleted_locally == 1 and report.created_locally == 1
    assert any("read again" in note for note in report.notes)
    assert_same_calendars(local, remote)


# ---------------------------------------------------------------- the rep keeps editing while the sync runs

class RemoteWhileTheRepSaves(InMemoryRemoteCalendar):
    """Exchange answering while the rep saves another edit on the GUI thread."""

    def __init__(self) -> None:
        super().__init__()
        self.during_update: list[Callable[[], None]] = []

    def update(self, *args: Any, **kwargs: Any) -> Any:
        while self.during_update:
            self.during_update.pop()()
        return super().update(*args, **kwargs)


def test_an_edit_saved_while_its_update_is_in_flight_is_sent_next(tmp_path: Path) -> None:
    remote = RemoteWhileTheRepSaves()
    local = LocalCalendar.open(tmp_path / "c.sqlite3", remote)
    a, _ = synced_pair(local, remote)
    local.repo.update(a.with_changes(subject="First"))
    latest = a.with_changes(subject="First", location="Saved during the request")
    remote.during_update.append(lambda: local.repo.update(latest) and None)
    assert local.sync_until_converged().converged
    assert remote_appointments(remote) == {a.uuid: latest}


def test_a_withdrawn_operation_is_never_sent(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    a = meeting()
    local.repo.add(a)
    (op,) = local.outbox.ready()
    local.repo.cancel(a.uuid)  # never sent: dropped at once, outbox row and all
    assert SyncLedger(local.database).mark_sending(op.id) is False
    assert local.sync().converged and remote.call_counts().get("create", 0) == 0


def test_edits_on_another_thread_during_syncs_all_arrive(tmp_path: Path, remote: InMemoryRemoteCalendar) -> None:
    """The GUI thread saves 120 edits while the sync thread runs; each has its own SQLite connection."""
    local = LocalCalendar.open(tmp_path / "c.sqlite3", remote)
    expected: dict[str, Appointment] = {}
    done = threading.Event()
    failures: list[BaseException] = []

    def rep() -> None:
        try:
            for n in range(120):
                if n % 4 == 0 or not expected:
                    a = meeting(f"Visit {n}", day=1 + n % 28, required_attendees=(f"p{n}@fabrikam.com",))
                    local.repo.add(a)
                    expected[a.uuid] = a
                elif n % 11 == 0:
                    uuid = sorted(expected)[n % len(expected)]
                    local.repo.cancel(uuid)
                    del expected[uuid]
                else:
                    uuid = sorted(expected)[n % len(expected)]
                    changed = expected[uuid].with_changes(subject=f"Edit {n}", location=f"Room {n}")
                    local.repo.update(changed)
                    expected[uuid] = changed
        except BaseException as error:
            failures.append(error)
        finally:
            done.set()

    editor = threading.Thread(target=rep)
    editor.start()
    while not done.is_set():
        local.sync()
    editor.join(timeout=60)
    assert not failures
    assert local.sync_until_converged().converged
    assert remote_appointments(remote) == expected == local.appointments()
    requests = Counter((m.local_uuid, m.to) for m in remote.sent_messages() if m.cause == "create")
    assert max(requests.values()) == 1


def test_a_stop_request_during_the_pull_keeps_the_sync_position(tmp_path: Path,
                                                                remote: InMemoryRemoteCalendar) -> None:
    for n in range(12):
        remote.external_create(meeting(f"Visit {n}", day=1 + n))
    local = LocalCalendar.open(tmp_path / "c.sqlite3", remote, page_size=4)
    stop = threading.Event()

    def stop_after_first_page(progress: SyncProgress) -> None:
        if progress.phase == "pull":
            stop.set()

    report = local.engine.run_once(stop, stop_after_first_page)
    assert report.cancelled and local.appointments() == {}
    assert local.records.folder_sync_state("calendar") is None
    report = local.sync()
    assert report.created_locally == 12 and report.converged
    assert len(report.changed_uuids) == 12


def test_progress_and_changed_items_are_reported(local: LocalCalendar, remote: InMemoryRemoteCalendar) -> None:
    a, b = meeting("A"), meeting("B", hour=11)
    local.repo.add(a)
    local.repo.add(b)
    seen: list[SyncProgress] = []
    report = local.engine.run_once(None, seen.append)
    pushes = [p for p in seen if p.phase == "push"]
    assert [(p.done, p.total) for p in pushes] == [(1, 2), (2, 2)]
    assert set(report.changed_uuids) == {a.uuid, b.uuid}
    assert "sent 2" in report.summary()


def test_appointments_waiting_for_the_rep_do_not_hold_up_the_others(local: LocalCalendar,
                                                                    remote: InMemoryRemoteCalendar,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from calendar_app.sync import engine

    monkeypatch.setattr(engine, "PUSH_BATCH", 2)
    in_conflict = [meeting(f"Disputed {n}", hour=8 + n) for n in range(3)]
    for a in in_conflict:
        local.repo.add(a)
    assert local.sync().converged
    for n, a in enumerate(in_conflict):
        remote.external_update(local.item_id(a.uuid), subject=f"Theirs {n}")
        local.repo.update(a.with_changes(subject=f"Mine {n}"))
    assert local.sync().conflicts_waiting == 3
    for a in in_conflict:  # the rep edits them again while they wait: more held operations
        local.repo.update(local.repo.get(a.uuid).appointment.with_changes(body="still mine"))
    late = meeting("Added later", hour=17)
    local.repo.add(late)
    local.sync()
    assert late.uuid in remote_appointments(remote)


# ---------------------------------------------------------------- items Exchange lists but the app cannot read

class RemoteWithUnreadableItems(InMemoryRemoteCalendar):
    """Exchange listing items whose values the app cannot read (as `ExchangeCalendar` reports
    them: left alone, with the reason) while it reads the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.unreadable: set[str] = set()
        self.unreadable_reads = 0

    def sync_changes(self, sync_state: str | None, *, max_changes: int) -> ChangePage:
        page = super().sync_changes(sync_state, max_changes=max_changes)
        kept = tuple(c for c in page.changes if c.item_id not in self.unreadable or c.item is None)
        left = tuple(LeftAlone(c.item_id, f"Exchange sent the appointment '{c.item.appointment.subject}' with values "
                               "this app cannot read; it is left unchanged here.")
                     for c in page.changes if c.item_id in self.unreadable and c.item is not None)
        return replace(page, changes=kept, left_alone=left)

    def get(self, item_id: str) -> Any:
        if item_id in self.unreadable:
            self.unreadable_reads += 1
            raise ItemRejected("Exchange sent an appointment with values this app cannot read.")
        return super().get(item_id)


def test_an_unreadable_item_is_left_alone_reported_and_does_not_stop_the_rest(tmp_path: Path) -> None:
    remote = RemoteWithUnreadableItems()
    local = LocalCalendar.open(tmp_path / "calendar.sqlite3", remote)
    kept = meeting("Visit Fabrikam", day=3)
    local.repo.add(kept)
    local.repo.add(meeting("Visit Contoso", day=4))
    assert local.sync().converged
    item_id = local.item_id(kept.uuid)

    remote.unreadable.add(item_id)
    remote.external_update(item_id, subject="Broken in some other client")
    remote.external_create(meeting("Booked in Outlook", day=5))
    report = local.sync()
    assert report.created_locally == 1 and report.fatal_error is None and report.retry_after_seconds is None
    assert [(f.uuid, "cannot read" in f.message) for f in report.failures] == [(kept.uuid, True)]
    assert local.appointments()[kept.uuid] == kept  # the local copy as it was

    # A full read (the server refused the stored position) must not take it for deleted either.
    remote.invalidate_sync_states()
    report = local.sync()
    assert report.deleted_locally == 0 and kept.uuid in local.appointments()

    remote.unreadable.clear()  # readable again: the change arrives
    remote.external_update(item_id, subject="Fixed in Outlook")
    assert local.sync().converged
    assert local.appointments()[kept.uuid].subject == "Fixed in Outlook"


def test_an_unreadable_item_of_ours_does_not_block_every_pull(tmp_path: Path) -> None:
    class UnlistedAndUnreadable(RemoteWithUnreadableItems):
        """Our create reaches Exchange, but the pull never lists it and reading it fails."""

        hide_creates = False

        def create(self, appointment: Appointment, *, send_invitations: bool) -> Any:
            version = super().create(appointment, send_invitations=send_invitations)
            if self.hide_creates:
                self.unreadable.add(version.item_id)
            return version

        def sync_changes(self, sync_state: str | None, *, max_changes: int) -> ChangePage:
            page = super().sync_changes(sync_state, max_changes=max_changes)
            return replace(page, left_alone=())

    remote = UnlistedAndUnreadable()
    local = LocalCalendar.open(tmp_path / "calendar.sqlite3", remote)
    local.repo.add(meeting("Visit Contoso", day=5))
    assert local.sync().converged  # the first, full read is done: pulls are incremental from here
    remote.hide_creates = True
    ours = meeting("Visit Northwind", day=6)
    local.repo.add(ours)
    first = local.sync()
    assert first.pushed == 1 and first.retry_after_seconds is None and first.fatal_error is None
    assert [f.uuid for f in first.failures] == [ours.uuid]
    second = local.sync()  # asked once, not again on every run
    assert second.failures == () and second.retry_after_seconds is None
    assert remote.unreadable_reads == 1
    assert ours.uuid in local.appointments()
