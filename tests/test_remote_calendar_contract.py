"""The RemoteCalendar contract: what the sync engine relies on from any remote calendar.

One test class, run against every implementation. Today that is the in-memory fake; the Exchange
adapter joins by adding a factory to `HARNESSES` that starts the sandbox (real TLS + NTLM) and
returns an object with the same test-side helpers (`external_*`, `*_counts`) as the fake.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import pytest

from calendar_app.domain import Appointment, remote_errors
from calendar_app.sync.in_memory_remote import InMemoryRemoteCalendar
from calendar_app.sync.remote_calendar import (
    ChangeKind,
    Conflict,
    ItemGone,
    RemoteCalendar,
    SendTo,
    SyncStateInvalid,
)
from tests.support.calendar_sync import KINDS, meeting


class RemoteHarness(RemoteCalendar, Protocol):
    """A remote calendar plus what a test needs to see and do beside the app."""

    def external_create(self, appointment: Appointment) -> str: ...
    def external_update(self, item_id: str, **changes: Any) -> str: ...
    def external_delete(self, item_id: str) -> None: ...
    def invitation_counts(self) -> dict[str, int]: ...
    def cancellation_counts(self) -> dict[str, int]: ...


def in_memory() -> Iterator[RemoteHarness]:
    yield InMemoryRemoteCalendar()


def exchange_sandbox(mode: str) -> Callable[[], Iterator[RemoteHarness]]:
    """The Exchange adapter against the sandbox over real TLS + NTLM, in one sign-in mode."""

    def harness() -> Iterator[RemoteHarness]:
        import tempfile
        from pathlib import Path

        from calendar_app.exchange.connection_settings import SignInMode
        from tests.support.exchange_sandbox import running_sandbox

        with tempfile.TemporaryDirectory(prefix="contract-sandbox-") as folder, \
                running_sandbox(Path(folder)) as sandbox:
            yield sandbox.remote(SignInMode(mode))

    return harness


HARNESSES: dict[str, Callable[[], Iterator[RemoteHarness]]] = {
    "in-memory": in_memory,
    "exchange-impersonation": exchange_sandbox("impersonation"),
    "exchange-own-account": exchange_sandbox("own-account"),
}


@pytest.fixture(params=list(HARNESSES))
def remote(request: pytest.FixtureRequest) -> Iterator[RemoteHarness]:
    yield from HARNESSES[request.param]()


ATTENDEES = {"required_attendees": ("buyer@fabrikam.com",), "optional_attendees": ("cfo@fabrikam.com",)}


class TestRemoteCalendarContract:
    @pytest.mark.parametrize("kind", list(KINDS))
    def test_create_then_get_returns_every_field(self, remote: RemoteHarness, kind: str) -> None:
        a = KINDS[kind]
        version = remote.create(a, send_invitations=False)
        item = remote.get(version.item_id)
        assert (item.item_id, item.change_key, item.local_uuid) == (version.item_id, version.change_key, a.uuid)
        assert item.appointment == a
        assert item.appointment.to_dict() == a.to_dict()  # same wall-clock times and zone, not just instants

    def test_find_by_local_uuid(self, remote: RemoteHarness) -> None:
        a, b = meeting("A"), meeting("B", hour=11)
        version = remote.create(a, send_invitations=False)
        found = remote.find_by_local_uuid(a.uuid)
        assert found is not None and found.item_id == version.item_id and found.appointment == a
        assert remote.find_by_local_uuid(b.uuid) is None

    def test_update_changes_only_the_named_fields_and_the_change_key(self, remote: RemoteHarness) -> None:
        a = meeting(location="Room 1")
        version = remote.create(a, send_invitations=False)
        wanted = a.with_changes(subject="New subject", location="Room 2")
        after = remote.update(version.item_id, version.change_key, wanted, ["subject"], send_to=SendTo.NOBODY)
        assert after.item_id == version.item_id and after.change_key != version.change_key
        assert remote.get(version.item_id).appointment == a.with_changes(subject="New subject")

    def test_a_time_zone_change_carries_start_and_end(self, remote: RemoteHarness) -> None:
        a = KINDS["non-local-zone"]
        version = remote.create(a, send_invitations=False)
        zone = ZoneInfo("America/Los_Angeles")
        wanted = a.with_changes(timezone="America/Los_Angeles", start=a.start.astimezone(zone),
                                end=a.end.astimezone(zone))
        remote.update(version.item_id, version.change_key, wanted, ["timezone"], send_to=SendTo.NOBODY)
        assert remote.get(version.item_id).appointment.to_dict() == wanted.to_dict()

    def test_a_stale_change_key_is_a_conflict_and_changes_nothing(self, remote: RemoteHarness) -> None:
        a = meeting()
        version = remote.create(a, send_invitations=False)
        remote.external_update(version.item_id, location="Changed elsewhere")
        with pytest.raises(Conflict):
            remote.update(version.item_id, version.change_key, a.with_changes(subject="Mine"), ["subject"],
                          send_to=SendTo.NOBODY)
        assert remote.get(version.item_id).appointment == a.with_changes(location="Changed elsewhere")
        with pytest.raises(Conflict):
            remote.cancel_meeting(version.item_id, version.change_key)

    def test_a_removed_item_is_gone_for_every_operation(self, remote: RemoteHarness) -> None:
        a = meeting()
        version = remote.create(a, send_invitations=False)
        remote.move_to_deleted_items(version.item_id)
        with pytest.raises(ItemGone):
            remote.get(version.item_id)
        with pytest.raises(ItemGone):
            remote.update(version.item_id, version.change_key, a, ["subject"], send_to=SendTo.NOBODY)
        with pytest.raises(ItemGone):
            remote.cancel_meeting(version.item_id, version.change_key)
        with pytest.raises(ItemGone):
            remote.move_to_deleted_items(version.item_id)
        assert remote.find_by_local_uuid(a.uuid) is None

    def test_invitations_and_cancellations_per_attendee(self, remote: RemoteHarness) -> None:
        a = meeting(**ATTENDEES)  # type: ignore[arg-type]
        v = remote.create(a, send_invitations=True)
        assert remote.invitation_counts() == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1}
        b = a.with_changes(subject="Renamed")
        v = remote.update(v.item_id, v.change_key, b, ["subject"], send_to=SendTo.NOBODY)
        assert remote.invitation_counts() == {"buyer@fabrikam.com": 1, "cfo@fabrikam.com": 1}
        c = b.with_changes(start=b.start + timedelta(hours=1), end=b.end + timedelta(hours=1))
        v = remote.update(v.item_id, v.change_key, c, ["start", "end"], send_to=SendTo.ALL_ATTENDEES)
        assert remote.invitation_counts() == {"buyer@fabrikam.com": 2, "cfo@fabrikam.com": 2}
        d = c.with_changes(optional_attendees=("legal@fabrikam.com",))
        v = remote.update(v.item_id, v.change_key, d, ["optional_attendees"], send_to=SendTo.CHANGED_ATTENDEES)
        assert remote.invitation_counts() == {"buyer@fabrikam.com": 2, "cfo@fabrikam.com": 2,
                                              "legal@fabrikam.com": 1}
        assert remote.cancellation_counts() == {"cfo@fabrikam.com": 1}
        remote.cancel_meeting(v.item_id, v.change_key)
        assert remote.cancellation_counts() == {"cfo@fabrikam.com": 1, "buyer@fabrikam.com": 1,
                                                "legal@fabrikam.com": 1}
        with pytest.raises(ItemGone):
            remote.get(v.item_id)

    def test_a_create_without_invitations_tells_nobody(self, remote: RemoteHarness) -> None:
        v = remote.create(meeting(**ATTENDEES), send_invitations=False)  # type: ignore[arg-type]
        remote.move_to_deleted_items(v.item_id)
        assert remote.invitation_counts() == {} and remote.cancellation_counts() == {}

    def test_first_sync_pages_through_every_item_once(self, remote: RemoteHarness) -> None:
        created = {remote.create(meeting(f"Visit {n}", day=1 + n), send_invitations=False).item_id for n in range(5)}
        foreign = remote.external_create(meeting("From Outlook"))
        seen: list[str] = []
        state: str | None = None
        pages = 0
        while True:
            page = remote.sync_changes(state, max_changes=2)
            pages += 1
            assert all(c.kind is ChangeKind.CREATED and c.item is not None for c in page.changes)
            seen += [c.item_id for c in page.changes]
            state = page.sync_state
            if not page.more_available:
                break
        assert sorted(seen) == sorted({*created, foreign}) and pages == 3

    def test_incremental_sync_reports_updates_deletes_and_own_changes(self, remote: RemoteHarness) -> None:
        a, b = meeting("A"), meeting("B", hour=11)
        va = remote.create(a, send_invitations=False)
        vb = remote.create(b, send_invitations=False)
        state = _drain(remote, None)[1]
        assert remote.sync_changes(state, max_changes=10).changes == ()

        mine = remote.update(va.item_id, va.change_key, a.with_changes(subject="A2"), ["subject"],
                             send_to=SendTo.NOBODY)
        remote.external_delete(vb.item_id)
        foreign = remote.external_create(meeting("C", hour=15))
        changes, state = _drain(remote, state)
        kinds = {c.item_id: c.kind for c in changes}
        assert kinds == {va.item_id: ChangeKind.UPDATED, vb.item_id: ChangeKind.DELETED,
                         foreign: ChangeKind.CREATED}
        updated = next(c for c in changes if c.item_id == va.item_id)
        assert updated.item is not None and updated.item.change_key == mine.change_key
        assert updated.item.appointment.subject == "A2" and updated.item.local_uuid == a.uuid
        created = next(c for c in changes if c.item_id == foreign)
        assert created.item is not None and created.item.local_uuid is None
        assert next(c for c in changes if c.item_id == vb.item_id).item is None

    def test_a_refused_sync_state_is_reported(self, remote: RemoteHarness) -> None:
        with pytest.raises(SyncStateInvalid):
            remote.sync_changes("not-a-sync-state", max_changes=10)


def _drain(remote: RemoteHarness, state: str | None) -> tuple[list[Any], str]:
    changes: list[Any] = []
    while True:
        page = remote.sync_changes(state, max_changes=50)
        changes += page.changes
        state = page.sync_state
        if not page.more_available:
            return changes, state


@pytest.mark.parametrize("error", [
    remote_errors.AuthFailed(), remote_errors.Throttled(back_off_seconds=12.5),
    remote_errors.CertificateChanged(old_sha256="AB:CD", new_sha256="EF:01"),
    remote_errors.ItemRejected("Exchange refused it: the subject is too long."),
    remote_errors.OutcomeUnknown(), remote_errors.Conflict(),
])
def test_remote_errors_survive_a_process_boundary(error: remote_errors.RemoteError) -> None:
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, made one line above
    assert type(copy) is type(error) and str(copy) == str(error) and vars(copy) == vars(error)
    assert "\n" not in str(error) and str(error).endswith(".")
