"""exchangelib, configured as our users will configure it, does the whole calendar cycle against the sandbox.
Every request and response of these tests is validated against Microsoft's schema by the `sandbox` fixture."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest

from calendar_app.sandbox import SandboxServer
from tests.sandbox.conftest import ALICE, ALICE_MAILBOX, AccountFactory

BERLIN = "Europe/Berlin"


def _when(day: int, hour: int) -> Any:
    from exchangelib import EWSDateTime, EWSTimeZone

    return EWSDateTime(2027, 3, day, hour, 0, tzinfo=EWSTimeZone(BERLIN))


def _meeting(account: Any, subject: str, day: int = 10, attendees: tuple[str, ...] = ()) -> Any:
    from exchangelib import CalendarItem

    start = _when(day, 10)
    return CalendarItem(account=account, folder=account.calendar, subject=subject, start=start,
                        end=start + dt.timedelta(hours=1), location="Room 1", body="Agenda",
                        required_attendees=list(attendees) or None)


def _hold_change_key(item: Any, change_key: str) -> None:
    item._id = item.ID_ELEMENT_CLS(item.id, change_key)


def test_create_view_get_update_conflict_cancel_delete(sandbox: SandboxServer, make_account: AccountFactory) -> None:
    from exchangelib.errors import ErrorIrresolvableConflict, ErrorItemNotFound
    from exchangelib.items import (
        ALL_OCCURRENCES,
        NEVER_OVERWRITE,
        SEND_ONLY_TO_CHANGED,
        SEND_TO_ALL_AND_SAVE_COPY,
        SEND_TO_NONE,
    )

    account = make_account()
    meeting = _meeting(account, "Pipeline review", attendees=("bob@contoso.com", "dan@fabrikam.example"))
    meeting.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
    assert meeting.id and meeting.changekey
    invitations = sandbox.sent_messages(ALICE_MAILBOX, kind="invitation")
    assert sorted(m.recipient for m in invitations) == ["bob@contoso.com", "dan@fabrikam.example"]

    # view: FindItem with a CalendarView over the day
    seen = list(account.calendar.view(start=_when(10, 0), end=_when(11, 0)))
    assert [item.subject for item in seen] == ["Pipeline review"]
    assert list(account.calendar.view(start=_when(11, 0), end=_when(12, 0))) == []

    # get: all fields come back as exchangelib reads them (UTC, true/false)
    fetched = account.calendar.get(id=meeting.id)
    assert fetched.start == _when(10, 10) and fetched.end == _when(10, 11)
    assert fetched.location == "Room 1" and fetched.is_meeting is True and fetched.is_all_day is False
    assert fetched.organizer.email_address == ALICE_MAILBOX
    assert fetched.changekey == meeting.changekey

    # update with the change key: one UpdateItem, a new change key, invitations to nobody new
    stale_key = meeting.changekey
    meeting.subject = "Pipeline review (Q2)"
    meeting.save(update_fields=["subject"], conflict_resolution=NEVER_OVERWRITE,
                 send_meeting_invitations=SEND_ONLY_TO_CHANGED)
    assert meeting.changekey != stale_key
    assert account.calendar.get(id=meeting.id).subject == "Pipeline review (Q2)"
    assert len(sandbox.sent_messages(ALICE_MAILBOX, kind="invitation")) == 2

    # a second client still holding the old change key conflicts under NeverOverwrite
    stale = account.calendar.get(id=meeting.id)
    _hold_change_key(stale, stale_key)  # what the other client last saw
    stale.location = "Room 2"
    with pytest.raises(ErrorIrresolvableConflict):
        stale.save(update_fields=["location"], conflict_resolution=NEVER_OVERWRITE,
                   send_meeting_invitations=SEND_TO_NONE)
    assert account.calendar.get(id=meeting.id).location == "Room 1"

    # a time change sent to the changed attendees reaches all of them as an update
    meeting.start, meeting.end = _when(10, 14), _when(10, 15)
    meeting.save(update_fields=["start", "end"], conflict_resolution=NEVER_OVERWRITE,
                 send_meeting_invitations=SEND_ONLY_TO_CHANGED)
    assert len(sandbox.sent_messages(ALICE_MAILBOX, kind="update")) == 2

    # cancel: Sent Items looked up, CancelCalendarItem sent, the organizer's copy leaves the calendar
    meeting.cancel()
    assert len(sandbox.sent_messages(ALICE_MAILBOX, kind="cancellation")) == 2
    with pytest.raises(ErrorItemNotFound):
        account.calendar.get(id=meeting.id)
    cancelled = [i for i in sandbox.mailbox(ALICE_MAILBOX).folders["deleteditems"].items.values()]
    assert [i.text("IsCancelled") for i in cancelled] == ["true"]

    # delete: HardDelete of an appointment without attendees sends nothing
    lunch = _meeting(account, "Lunch", day=12)
    lunch.save(send_meeting_invitations=SEND_TO_NONE)
    lunch.delete(send_meeting_cancellations=SEND_TO_NONE, affected_task_occurrences=ALL_OCCURRENCES)
    assert sandbox.calendar_items(ALICE_MAILBOX) == []
    assert len(sandbox.sent_messages(ALICE_MAILBOX)) == 6

    # move to Deleted Items gives the item a new id there, as Exchange does
    coffee = _meeting(account, "Coffee", day=13)
    coffee.save(send_meeting_invitations=SEND_TO_NONE)
    coffee.move_to_trash(send_meeting_cancellations=SEND_TO_NONE)
    assert [i.text("Subject") for i in sandbox.mailbox(ALICE_MAILBOX).folders["deleteditems"].items.values()] == [
        "Pipeline review (Q2)", "Coffee"]


def test_auto_resolve_applies_a_stale_update_to_untouched_fields(make_account: AccountFactory) -> None:
    from exchangelib.errors import ErrorIrresolvableConflict
    from exchangelib.items import AUTO_RESOLVE, SEND_TO_NONE

    account = make_account()
    item = _meeting(account, "Demo")
    item.save(send_meeting_invitations=SEND_TO_NONE)
    old_key = item.changekey
    item.subject = "Demo for Fabrikam"
    item.save(update_fields=["subject"], send_meeting_invitations=SEND_TO_NONE)

    other = account.calendar.get(id=item.id)
    _hold_change_key(other, old_key)
    other.location = "Room 9"  # not changed since old_key: merged
    other.save(update_fields=["location"], conflict_resolution=AUTO_RESOLVE, send_meeting_invitations=SEND_TO_NONE)
    other.subject = "Something else"  # changed since old_key: a real conflict
    _hold_change_key(other, old_key)
    with pytest.raises(ErrorIrresolvableConflict):
        other.save(update_fields=["subject"], conflict_resolution=AUTO_RESOLVE, send_meeting_invitations=SEND_TO_NONE)
    final = account.calendar.get(id=item.id)
    assert (final.subject, final.location) == ("Demo for Fabrikam", "Room 9")


def test_sync_items_from_scratch_then_incrementally(sandbox: SandboxServer, make_account: AccountFactory) -> None:
    from exchangelib.items import SEND_TO_NONE

    account = make_account()
    items = [_meeting(account, f"Visit {n}", day=n) for n in range(1, 6)]
    for item in items:
        item.save(send_meeting_invitations=SEND_TO_NONE)

    calendar = account.calendar
    first = list(calendar.sync_items(max_changes_returned=2))  # three pages
    assert sorted((kind, item.subject) for kind, item in first) == [("create", f"Visit {n}") for n in range(1, 6)]
    state = calendar.item_sync_state
    assert list(calendar.sync_items(sync_state=state)) == []

    items[0].subject = "Visit 1 (moved)"
    items[0].save(update_fields=["subject"], send_meeting_invitations=SEND_TO_NONE)
    deleted_id = items[1].id
    items[1].delete(send_meeting_cancellations=SEND_TO_NONE)
    new = _meeting(account, "Visit 6", day=6)
    new.save(send_meeting_invitations=SEND_TO_NONE)
    sandbox.add_calendar_item(ALICE_MAILBOX, _calendar_item_xml("Booked by the assistant", "2027-03-20T09:00:00Z"))

    changes = list(calendar.sync_items(sync_state=state, max_changes_returned=512))
    summary = sorted((kind, getattr(item, "subject", None) or item.id) for kind, item in changes)
    assert summary == sorted([
        ("update", "Visit 1 (moved)"), ("delete", deleted_id), ("create", "Visit 6"),
        ("create", "Booked by the assistant"),
    ])
    assert list(calendar.sync_items(sync_state=calendar.item_sync_state)) == []


def _calendar_item_xml(subject: str, start: str) -> str:
    return (
        '<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
        f"<t:Subject>{subject}</t:Subject><t:Start>{start}</t:Start><t:End>{start[:11]}23:00:00Z</t:End>"
        "</t:CalendarItem>"
    )


def test_streaming_events_report_a_change_made_by_another_client(sandbox: SandboxServer,
                                                                 make_account: AccountFactory) -> None:
    from exchangelib.items import SEND_TO_NONE
    from exchangelib.properties import CreatedEvent, ModifiedEvent

    listener = make_account()
    other_client = make_account(user=ALICE, impersonate=False)  # the rep herself, e.g. in Outlook
    subscription_id = listener.calendar.subscribe_to_streaming()

    def change_elsewhere() -> None:
        item = _meeting(other_client, "Booked in Outlook")
        item.save(send_meeting_invitations=SEND_TO_NONE)

    writer = threading.Timer(0.5, change_elsewhere)
    writer.start()
    received: list[Any] = []
    try:
        for notification in listener.calendar.get_streaming_events(subscription_id, connection_timeout=1):
            received.extend(notification.events)
            if any(isinstance(event, CreatedEvent) for event in received):
                break
    finally:
        writer.join()
    created = [event for event in received if isinstance(event, CreatedEvent)]
    assert len(created) == 1
    assert created[0].item_id.id == sandbox.calendar_items(ALICE_MAILBOX)[0].item_id
    assert not [event for event in received if isinstance(event, ModifiedEvent)]
    listener.calendar.unsubscribe(subscription_id)


def test_pull_subscription_with_watermark(make_account: AccountFactory) -> None:
    from exchangelib.items import SEND_TO_NONE
    from exchangelib.properties import CreatedEvent, ModifiedEvent

    account = make_account()
    subscription_id, watermark = account.calendar.subscribe_to_pull()
    item = _meeting(account, "Call")
    item.save(send_meeting_invitations=SEND_TO_NONE)
    item.subject = "Call (moved)"
    item.save(update_fields=["subject"], send_meeting_invitations=SEND_TO_NONE)
    (notification,) = list(account.calendar.get_events(subscription_id, watermark))
    kinds = [type(event) for event in notification.events]
    assert kinds == [CreatedEvent, ModifiedEvent]
    (later,) = list(account.calendar.get_events(subscription_id, notification.events[-1].watermark))
    assert [type(e).__name__ for e in later.events] == ["StatusEvent"]
    account.calendar.unsubscribe(subscription_id)


def test_lookup_by_a_registered_named_extended_property(make_account: AccountFactory) -> None:
    from exchangelib import CalendarItem, ExtendedProperty
    from exchangelib.items import SEND_TO_NONE

    class LocalUuid(ExtendedProperty):
        property_set_id = "c11ff724-aa03-4555-9952-8fa248a11c3e"
        property_name = "CalendarAppLocalUuid"
        property_type = "String"

    CalendarItem.register("local_uuid", LocalUuid)
    try:
        account = make_account()
        wanted = str(uuid.uuid4())
        for value in (str(uuid.uuid4()), wanted, str(uuid.uuid4())):
            item = _meeting(account, f"item {value[:4]}")
            item.local_uuid = value
            item.save(send_meeting_invitations=SEND_TO_NONE)
        found = list(account.calendar.filter(local_uuid=wanted))
        assert [item.local_uuid for item in found] == [wanted]
        assert list(account.calendar.filter(local_uuid="no-such-uuid")) == []
    finally:
        CalendarItem.deregister("local_uuid")


def test_resolve_names_and_convert_id(make_account: AccountFactory) -> None:
    from exchangelib.items import SEND_TO_NONE
    from exchangelib.properties import EWS_ID, HEX_ENTRY_ID, AlternateId

    account = make_account()
    assert account.protocol.version.build.major_version == 15  # the guess: ConvertId with a dummy id
    resolved = account.protocol.resolve_names(["bob"])
    assert [mailbox.email_address for mailbox in resolved] == ["bob@contoso.com"]
    item = _meeting(account, "To convert")
    item.save(send_meeting_invitations=SEND_TO_NONE)
    converted = list(account.protocol.convert_ids([AlternateId(id=item.id, format=EWS_ID, mailbox=ALICE_MAILBOX)],
                                                  destination_format=HEX_ENTRY_ID))
    assert converted[0].format == HEX_ENTRY_ID and bytes.fromhex(converted[0].id)
