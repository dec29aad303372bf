"""The sync engine with the Exchange adapter against the sandbox (real TLS + NTLM, no mocks of
exchangelib): round trips of every field, remote changes, lost answers, throttling and server
errors, invitation counts, conflicts — in both sign-in modes where the mode matters."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from calendar_app.domain import Appointment
from calendar_app.domain.remote_errors import (
    AuthFailed,
    CertificateChanged,
    ImpersonationDenied,
    MailboxNotFound,
    OutcomeUnknown,
    TransientNetwork,
)
from calendar_app.exchange.account_factory import close_account
from calendar_app.exchange.connection_settings import SignInMode
from calendar_app.security.certificate_details import sha256_fingerprint
from calendar_app.sync.merge import ConflictPolicy
from tests.support.calendar_sync import (
    KINDS,
    LocalCalendar,
    assert_same_calendars,
    edits_of,
    meeting,
    remote_appointments,
)
from tests.support.exchange_sandbox import (
    REP_MAILBOX,
    RunningSandbox,
    SandboxRemote,
    open_calendar,
    running_sandbox,
    trusted_certificates,
)

ATTENDEES = ("buyer@fabrikam.com", "cfo@fabrikam.com")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path / "sandbox") as running:
        yield running


@pytest.fixture
def remote(sandbox: RunningSandbox) -> SandboxRemote:
    return sandbox.remote(SignInMode.IMPERSONATION)


@pytest.fixture
def local(tmp_path: Path, remote: SandboxRemote) -> LocalCalendar:
    return LocalCalendar.open(tmp_path / "calendar.sqlite3", remote)


def sent(sandbox: RunningSandbox, kind: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in sandbox.server.sent_messages(REP_MAILBOX, kind=kind):
        counts[message.recipient] = counts.get(message.recipient, 0) + 1
    return counts


# ---------------------------------------------------------------- every field, both ways, both modes
@pytest.mark.parametrize("mode", list(SignInMode))
def test_every_kind_and_every_field_round_trips_through_exchange(sandbox: RunningSandbox, tmp_path: Path,
                                                                 mode: SignInMode) -> None:
    remote = sandbox.remote(mode)
    local = LocalCalendar.open(tmp_path / "calendar.sqlite3", remote)
    for appointment in KINDS.values():
        local.repo.add(appointment)
    assert local.sync().converged
    assert remote_appointments(remote) == {a.uuid: a for a in KINDS.values()}

    current: dict[str, Appointment] = dict((a.uuid, a) for a in KINDS.values())
    for round_number in range(len(edits_of(KINDS["plain"]))):
        for original in KINDS.values():
            changes = edits_of(original)[round_number]
            current[original.uuid] = current[original.uuid].with_changes(**changes)
            assert local.repo.update(current[original.uuid])
        report = local.sync()
        assert report.converged and report.pushed == len(KINDS), report.summary()
        assert remote_appointments(remote) == current, f"round {round_number}"
    fresh = LocalCalendar.open(tmp_path / "fresh.sqlite3", remote)
    assert fresh.sync().created_locally == len(KINDS)
    assert fresh.appointments() == current

    for uuid in current:
        local.repo.cancel(uuid)
    assert local.sync().converged
    assert remote_appointments(remote) == {} and local.appointments() == {}
    assert fresh.sync().mass_delete_blocked == len(KINDS)  # everything gone at once: ask first
    assert fresh.sync(allow_mass_delete=True).deleted_locally == len(KINDS)


@pytest.mark.parametrize("mode", list(SignInMode))
def test_remote_create_update_delete_arrive_locally(sandbox: RunningSandbox, tmp_path: Path,
                                                    mode: SignInMode) -> None:
    remote = sandbox.remote(mode)
    local = LocalCalendar.open(tmp_path / "calendar.sqlite3", remote)
    item_id = remote.external_create(meeting("Booked in Outlook", zone="America/Chicago", location="Phone"))
    report = local.sync()
    assert report.created_locally == 1 and report.converged
    (arrived,) = local.appointments().values()
    assert arrived.timezone == "America/Chicago" and arrived.location == "Phone"
    assert local.item_id(arrived.uuid) == item_id

    remote.external_update(item_id, subject="Renamed on the phone", reminder_minutes=5)
    assert local.sync().updated_locally == 1
    assert local.appointments()[arrived.uuid].subject == "Renamed on the phone"
    assert_same_calendars(local, remote)  # type: ignore[arg-type]

    remote.external_delete(item_id)
    assert local.sync().deleted_locally == 1
    assert local.appointments() == {}


def test_an_item_written_by_another_client_without_a_zone_or_subject_is_kept(sandbox: RunningSandbox,
                                                                             local: LocalCalendar) -> None:
    sandbox.server.add_calendar_item(REP_MAILBOX, (
        '<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
        "<t:Start>2026-05-04T07:00:00Z</t:Start><t:End>2026-05-04T07:00:00Z</t:End></t:CalendarItem>"))
    assert local.sync().created_locally == 1
    (arrived,) = local.appointments().values()
    assert arrived.subject == "(no subject)" and arrived.timezone == "Europe/Berlin"
    assert arrived.start.hour == 9 and arrived.end > arrived.start
    local.repo.update(arrived.with_changes(location="Room 7"))
    assert local.sync().converged  # only the location goes out; the adjustments stay local


# ---------------------------------------------------------------- lost answers, throttling, server errors
def test_a_create_whose_answer_was_lost_exists_exactly_once(sandbox: RunningSandbox, local: LocalCalendar,
                                                            remote: SandboxRemote) -> None:
    a = meeting("Lost answer", required_attendees=ATTENDEES)
    local.repo.add(a)
    sandbox.server.faults.add("drop-after", operation="CreateItem", times=1)  # committed, then the line dropped
    report = local.sync()
    assert report.retry_after_seconds is not None and report.pending == 1, report.summary()
    assert local.sync_until_converged().converged
    assert [i.appointment.uuid for i in remote.items()] == [a.uuid]
    assert sent(sandbox, "invitation") == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1}


def test_a_create_dropped_before_it_was_carried_out_is_sent_again(sandbox: RunningSandbox, local: LocalCalendar,
                                                                  remote: SandboxRemote) -> None:
    a = meeting("Dropped request")
    local.repo.add(a)
    sandbox.server.faults.add("drop-before", operation="CreateItem", times=1)
    local.sync()
    assert local.sync_until_converged().converged
    assert [i.appointment.uuid for i in remote.items()] == [a.uuid]


@pytest.mark.parametrize("fault", ["busy", "http503", "http500"])
def test_throttling_and_server_errors_back_off_and_converge(sandbox: RunningSandbox, local: LocalCalendar,
                                                            remote: SandboxRemote, fault: str) -> None:
    a = meeting("Busy server")
    local.repo.add(a)
    sandbox.server.faults.add(fault, value=1500 if fault == "busy" else 0, operation="CreateItem", times=1)
    report = local.sync()
    assert report.retry_after_seconds is not None and report.pending == 1
    if fault == "busy":
        assert report.retry_after_seconds == pytest.approx(1.5)  # as the server said
    waited = time.monotonic()
    report = local.sync()  # waits out the back-off on this (the sync) thread, then sends
    if fault == "busy":
        assert time.monotonic() - waited >= 1.4
    assert report.converged, report.summary()
    assert [i.appointment.uuid for i in remote.items()] == [a.uuid]


def test_a_503_with_retry_after_is_waited_out_as_long_as_the_server_asked(
        sandbox: RunningSandbox, local: LocalCalendar, remote: SandboxRemote) -> None:
    a = meeting("Front end restarting")
    local.repo.add(a)
    sandbox.server.faults.add("http503", value=2, operation="CreateItem", times=1)  # Retry-After: 2
    report = local.sync()
    assert report.retry_after_seconds == pytest.approx(2.0), report.summary()
    assert report.retry_reason is not None
    assert "HTTP 503" in report.retry_reason and "wait 2 s" in report.retry_reason, report.retry_reason
    assert report.pending == 1 and remote.items() == []  # nothing was carried out
    waited = time.monotonic()
    report = local.sync()  # waits out the 2 s on the sync thread, then sends once
    assert time.monotonic() - waited >= 1.9
    assert report.converged, report.summary()
    assert [i.appointment.uuid for i in remote.items()] == [a.uuid]


# ---------------------------------------------------------------- invitations as Exchange counts them
def test_invitation_counts(sandbox: RunningSandbox, local: LocalCalendar) -> None:
    a = meeting("Pricing", required_attendees=ATTENDEES, location="Room 1")
    local.repo.add(a)
    local.sync()
    assert sent(sandbox, "invitation") == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1}

    quiet = a.with_changes(reminder_minutes=5, categories=("Q3",), is_private=True, body="my notes")
    local.repo.update(quiet)
    assert local.sync().converged
    assert sent(sandbox, "update") == {} and len(sandbox.server.sent_messages(REP_MAILBOX)) == 2

    moved = quiet.with_changes(start=a.start + timedelta(hours=2), end=a.end + timedelta(hours=2))
    local.repo.update(moved)
    assert local.sync().converged
    assert sent(sandbox, "update") == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1}

    more = moved.with_changes(optional_attendees=("legal@fabrikam.com",))
    local.repo.update(more)
    assert local.sync().converged
    assert sent(sandbox, "invitation") == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1, "legal@fabrikam.com": 1}
    assert sent(sandbox, "update") == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1}

    local.repo.cancel(a.uuid)
    assert local.sync().converged
    assert sent(sandbox, "cancellation") == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1, "legal@fabrikam.com": 1}


def test_cancel_without_attendees_moves_to_deleted_items_and_tells_nobody(sandbox: RunningSandbox,
                                                                         local: LocalCalendar) -> None:
    a = meeting("Lunch")
    local.repo.add(a)
    local.sync()
    local.repo.cancel(a.uuid)
    assert local.sync().converged
    assert sandbox.server.calendar_items(REP_MAILBOX) == []
    deleted = sandbox.server.mailbox(REP_MAILBOX).folders["deleteditems"].items.values()
    assert [i.text("Subject") for i in deleted] == ["Lunch"]
    assert sandbox.server.sent_messages(REP_MAILBOX) == []


# ---------------------------------------------------------------- conflicts
def test_one_side_changes_merge_and_a_same_field_conflict_is_resolved_onto_the_server(
        local: LocalCalendar, remote: SandboxRemote, tmp_path: Path) -> None:
    a = meeting("Review")
    local.repo.add(a)
    local.sync()
    item_id = local.item_id(a.uuid)

    remote.external_update(item_id, location="Their room")
    local.repo.update(a.with_changes(subject="My subject"))
    report = local.sync()
    assert report.converged and report.new_conflicts == 0
    assert remote.get(item_id).appointment == a.with_changes(subject="My subject", location="Their room")

    remote.external_update(item_id, subject="Theirs")
    mine = local.appointments()[a.uuid].with_changes(subject="Mine")
    local.repo.update(mine)
    report = local.sync()
    assert report.new_conflicts == 1 and report.conflicts_waiting == 1
    assert remote.get(item_id).appointment.subject == "Theirs"
    local.repo.resolve_conflict(local.appointments()[a.uuid])  # the rep keeps their own value
    assert local.sync().converged
    assert remote.get(item_id).appointment.subject == "Mine"
    assert_same_calendars(local, remote)  # type: ignore[arg-type]

    other = LocalCalendar.open(tmp_path / "take.sqlite3", remote, policy=ConflictPolicy.TAKE_EXCHANGE)
    other.sync()
    assert other.appointments()[a.uuid].subject == "Mine"


# ---------------------------------------------------------------- errors that stop the sync
def test_connection_errors_become_typed_errors(sandbox: RunningSandbox, tmp_path: Path) -> None:
    server = sandbox.server
    cases = [
        (open_calendar(server, SignInMode.IMPERSONATION, username="CONTOSO\\nobody"), AuthFailed),
        (open_calendar(server, SignInMode.IMPERSONATION, mailbox="ghost@contoso.com"), MailboxNotFound),
    ]
    server.set_impersonation("CONTOSO\\svc-calendar", REP_MAILBOX, allowed=False)
    cases.append((open_calendar(server, SignInMode.IMPERSONATION), ImpersonationDenied))
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed_port = spare.getsockname()[1]
    cases.append((open_calendar(server, SignInMode.IMPERSONATION,
                                ews_url=f"https://127.0.0.1:{closed_port}/EWS/Exchange.asmx"), TransientNetwork))
    try:
        for calendar, expected in cases:
            with pytest.raises(expected):
                calendar.sync_changes(None, max_changes=10)
    finally:
        for calendar, _ in cases:
            close_account(calendar.account)
        server.set_impersonation("CONTOSO\\svc-calendar", REP_MAILBOX, allowed=True)


def test_a_changed_certificate_stops_the_sync_with_both_fingerprints(sandbox: RunningSandbox, remote: SandboxRemote,
                                                                     local: LocalCalendar) -> None:
    local.repo.add(meeting("Before the change"))
    assert local.sync().converged
    trusted = sandbox.server.certificate_sha256
    sandbox.server.faults.add("changed-certificate")
    try:
        local.repo.add(meeting("After the change", hour=11))
        report = local.sync()
        assert report.fatal_kind == "CertificateChanged" and report.pending == 1
        new = sandbox.server.certificate_sha256
        assert new != trusted and new.replace(":", "").lower() in report.fatal_error.replace(":", "").lower()
        with pytest.raises(CertificateChanged) as caught:
            remote.get(local.item_id(next(iter(local.appointments()))))
        assert _hex(caught.value.new_sha256) == _hex(new)
        assert _hex(caught.value.old_sha256) == _hex(sha256_fingerprint(trusted_certificates(sandbox.server)[0]))
    finally:
        sandbox.server.faults.clear()


def _hex(fingerprint: str) -> str:
    return fingerprint.replace(":", "").lower()


def test_a_connection_dropped_after_sending_is_an_unknown_outcome_for_writes_only(sandbox: RunningSandbox,
                                                                                  remote: SandboxRemote) -> None:
    version = remote.create(meeting("Known"), send_invitations=False)
    sandbox.server.faults.add("drop-after", operation="CreateItem", times=1)
    with pytest.raises(OutcomeUnknown):
        remote.create(meeting("Unknown", hour=11), send_invitations=False)
    sandbox.server.faults.add("drop-after", operation="GetItem", times=1)
    with pytest.raises(TransientNetwork):
        remote.get(version.item_id)
    assert sorted(i.appointment.subject for i in remote.items()) == ["Known", "Unknown"]

