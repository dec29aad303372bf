"""Smaller protocol rules: folders, paging, delete types, server versions, Basic, Extended Protection settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.auth import HTTPBasicAuth
from requests_ntlm import HttpNtlmAuth

from calendar_app.sandbox import ExtendedProtection, SandboxConfig, SandboxServer
from tests.sandbox.conftest import ALICE, ALICE_MAILBOX, AccountFactory
from tests.sandbox.fixtures import finish_checked, start_checked
from tests.sandbox.schema_check import SchemaChecker
from tests.sandbox.test_auth_rights_and_faults import GET_CALENDAR


def test_distinguished_folders_and_folder_ids(make_account: AccountFactory) -> None:
    account = make_account()
    assert account.calendar.name == "Calendar" and account.calendar.folder_class == "IPF.Appointment"
    assert account.sent.name == "Sent Items" and account.trash.name == "Deleted Items"
    assert account.root.name == "Top of Information Store"
    calendar = account.calendar
    calendar.refresh()  # GetFolder by FolderId
    assert calendar.total_count == 0


def test_paging_through_a_calendar_with_indexed_page_item_view(sandbox: SandboxServer,
                                                               make_account: AccountFactory) -> None:
    for n in range(230):
        start = dt.datetime(2027, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n)
        sandbox.add_calendar_item(ALICE_MAILBOX, (
            '<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
            f"<t:Subject>Slot {n:03d}</t:Subject><t:Start>{start:%Y-%m-%dT%H:%M:%SZ}</t:Start>"
            f"<t:End>{start + dt.timedelta(minutes=30):%Y-%m-%dT%H:%M:%SZ}</t:End></t:CalendarItem>"))
    account = make_account()
    operations: list[str] = []
    sandbox.traffic_listeners.append(lambda direction, op, _: operations.append(op) if direction == "request" else None)
    subjects = [item.subject for item in account.calendar.all().order_by("subject").only("subject")]
    assert subjects == [f"Slot {n:03d}" for n in range(230)]
    assert operations.count("FindItem") == 3  # pages of 100
    newest = account.calendar.all().order_by("-start").only("subject")[:2]
    assert [item.subject for item in newest] == ["Slot 229", "Slot 228"]


def test_soft_delete_and_move_to_deleted_items(sandbox: SandboxServer, make_account: AccountFactory) -> None:
    from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone
    from exchangelib.items import SEND_TO_NONE

    account = make_account()
    start = EWSDateTime(2027, 2, 1, 9, tzinfo=EWSTimeZone("Europe/Berlin"))
    first = CalendarItem(account=account, folder=account.calendar, subject="soft", start=start,
                         end=start + dt.timedelta(hours=1))
    first.save(send_meeting_invitations=SEND_TO_NONE)
    first.soft_delete(send_meeting_cancellations=SEND_TO_NONE)
    assert sandbox.calendar_items(ALICE_MAILBOX) == []
    assert sandbox.mailbox(ALICE_MAILBOX).folders["deleteditems"].items == {}  # SoftDelete skips Deleted Items


def test_pinned_older_server_version_is_honoured(sandbox: SandboxServer, make_account: AccountFactory) -> None:
    from exchangelib import Build, Version

    account = make_account()
    account.version = Version(build=Build(15, 0, 1497, 2), api_version="Exchange2013")
    versions: list[bytes] = []
    sandbox.traffic_listeners.append(
        lambda direction, _, body: versions.append(body) if direction == "request" else None)
    assert account.calendar.total_count == 0
    assert all(b'RequestServerVersion Version="Exchange2013"' in body for body in versions)


def test_unknown_request_version_is_refused_like_exchange(sandbox: SandboxServer, trusted_ca: Path) -> None:
    body = GET_CALENDAR.replace('Version="Exchange2016"', 'Version="Exchange2031"')
    with requests.Session() as session:
        session.auth = HttpNtlmAuth(ALICE.account, ALICE.password)
        response = session.post(sandbox.url, data=body.encode(), verify=str(trusted_ca), timeout=30)
    assert response.status_code == 500
    assert b"ErrorInvalidServerVersion" in response.content
    assert b"The specified server version is invalid" in response.content


@pytest.fixture
def configured_sandbox(request: pytest.FixtureRequest, sandbox_config: SandboxConfig, tmp_path: Path,
                       seeded_tls: Path, schema_checker: SchemaChecker) -> Iterator[SandboxServer]:
    config = dataclasses.replace(sandbox_config, **request.param)
    server = start_checked(config, tmp_path / "state", seeded_tls, schema_checker)
    try:
        yield server
    finally:
        finish_checked(server, schema_checker)


def _post(server: SandboxServer, tmp_path: Path, auth: Any) -> requests.Response:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(server.ca_pem)
    with requests.Session() as session:
        session.auth = auth
        return session.post(server.url, data=GET_CALENDAR.encode(), verify=str(ca), timeout=30)


@pytest.mark.parametrize("configured_sandbox", [{"allow_basic": True}], indirect=True)
def test_basic_authentication_when_enabled(configured_sandbox: SandboxServer, tmp_path: Path) -> None:
    challenged = _post(configured_sandbox, tmp_path, None)
    assert 'Basic realm="sandbox"' in challenged.raw.headers.getlist("WWW-Authenticate")
    assert _post(configured_sandbox, tmp_path, HTTPBasicAuth(ALICE.account, ALICE.password)).status_code == 200
    assert _post(configured_sandbox, tmp_path, HTTPBasicAuth("alice@contoso.com", ALICE.password)).status_code == 200
    assert _post(configured_sandbox, tmp_path, HTTPBasicAuth(ALICE.account, "wrong")).status_code == 401


def test_basic_is_refused_by_default(sandbox: SandboxServer, tmp_path: Path) -> None:
    response = _post(sandbox, tmp_path, HTTPBasicAuth(ALICE.account, ALICE.password))
    assert response.status_code == 401
    assert "Basic" not in " ".join(response.raw.headers.getlist("WWW-Authenticate"))


@pytest.mark.parametrize("configured_sandbox", [{"extended_protection": ExtendedProtection.OFF},
                                                {"extended_protection": ExtendedProtection.ALLOW}], indirect=True)
def test_clients_without_channel_binding_pass_when_not_required(configured_sandbox: SandboxServer,
                                                                tmp_path: Path) -> None:
    response = _post(configured_sandbox, tmp_path, HttpNtlmAuth(ALICE.account, ALICE.password, send_cbt=False))
    assert response.status_code == 200
    assert _post(configured_sandbox, tmp_path, HttpNtlmAuth(ALICE.account, ALICE.password)).status_code == 200


def test_all_day_appointment_round_trip(make_account: AccountFactory) -> None:
    from exchangelib import CalendarItem, EWSDate, EWSDateTime, EWSTimeZone
    from exchangelib.items import SEND_TO_NONE

    account = make_account()
    day = EWSDate(2027, 4, 5)
    item = CalendarItem(account=account, folder=account.calendar, subject="Trade fair", start=day, end=day,
                        is_all_day=True)
    item.save(send_meeting_invitations=SEND_TO_NONE)
    fetched = account.calendar.get(id=item.id)
    assert (fetched.is_all_day, fetched.start, fetched.end) == (True, day, day)
    berlin = EWSTimeZone("Europe/Berlin")
    view = account.calendar.view(start=EWSDateTime(2027, 4, 5, 12, tzinfo=berlin),
                                 end=EWSDateTime(2027, 4, 5, 13, tzinfo=berlin))
    assert [i.subject for i in view] == ["Trade fair"]


def test_pull_events_come_in_batches_and_subscriptions_expire(sandbox: SandboxServer,
                                                              make_account: AccountFactory) -> None:
    from exchangelib.errors import ErrorExpiredSubscription
    from exchangelib.properties import CreatedEvent

    account = make_account()
    subscription_id, watermark = account.calendar.subscribe_to_pull(timeout=1)
    for n in range(60):
        sandbox.add_calendar_item(ALICE_MAILBOX, (
            '<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
            f"<t:Subject>Event {n}</t:Subject><t:Start>2027-08-01T08:00:00Z</t:Start>"
            "<t:End>2027-08-01T09:00:00Z</t:End></t:CalendarItem>"))
    # exchangelib's folder.get_events() repeats its first watermark while MoreEvents is true, so a client
    # must call GetEvents itself with the last event's watermark, as the EWS documentation describes.
    from exchangelib.services import GetEvents

    first = GetEvents(account=account).get(subscription_id=subscription_id, watermark=watermark)
    second = GetEvents(account=account).get(subscription_id=subscription_id, watermark=first.events[-1].watermark)
    assert (len(first.events), first.more_events, len(second.events), second.more_events) == (50, True, 10, False)
    assert all(isinstance(e, CreatedEvent) for n in (first, second) for e in n.events)

    # Nobody asked for a minute (Timeout=1): Exchange has dropped the subscription.
    sandbox.hub.get(subscription_id).last_read -= dt.timedelta(minutes=2)  # type: ignore[union-attr]
    with pytest.raises(ErrorExpiredSubscription):
        GetEvents(account=account).get(subscription_id=subscription_id, watermark=second.events[-1].watermark)


def test_restrictions_on_ordinary_fields(sandbox: SandboxServer, make_account: AccountFactory) -> None:
    from exchangelib import EWSDateTime, EWSTimeZone

    for day, subject in ((3, "Kick-off"), (4, "Review"), (5, "Review")):
        sandbox.add_calendar_item(ALICE_MAILBOX, (
            '<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
            f"<t:Subject>{subject}</t:Subject><t:Start>2027-09-0{day}T08:00:00Z</t:Start>"
            f"<t:End>2027-09-0{day}T09:00:00Z</t:End></t:CalendarItem>"))
    calendar = make_account().calendar
    utc = EWSTimeZone("UTC")
    assert calendar.filter(subject="review").count() == 2  # Exchange compares text case-insensitively
    later = calendar.filter(start__gte=EWSDateTime(2027, 9, 4, tzinfo=utc), subject__contains="view")
    assert sorted(item.start.day for item in later) == [4, 5]
    assert calendar.filter(start__lt=EWSDateTime(2027, 9, 4, tzinfo=utc)).count() == 1
    assert [i.subject for i in calendar.exclude(subject="Review")] == ["Kick-off"]


def test_always_overwrite_wins_over_a_stale_change_key_and_all_properties(sandbox: SandboxServer,
                                                                          make_account: AccountFactory,
                                                                          trusted_ca: Path) -> None:
    from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone
    from exchangelib.items import ALWAYS_OVERWRITE, SEND_TO_NONE

    account = make_account()
    start = EWSDateTime(2027, 10, 1, 9, tzinfo=EWSTimeZone("Europe/Berlin"))
    item = CalendarItem(account=account, folder=account.calendar, subject="v1", start=start,
                        end=start + dt.timedelta(hours=1))
    item.save(send_meeting_invitations=SEND_TO_NONE)
    old = item.changekey
    item.subject = "v2"
    item.save(update_fields=["subject"], send_meeting_invitations=SEND_TO_NONE)
    stale = account.calendar.get(id=item.id)
    stale._id = stale.ID_ELEMENT_CLS(stale.id, old)
    stale.subject = "v3"
    stale.save(update_fields=["subject"], conflict_resolution=ALWAYS_OVERWRITE, send_meeting_invitations=SEND_TO_NONE)
    assert account.calendar.get(id=item.id).subject == "v3"

    body = GET_CALENDAR.replace(
        "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
        '<m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>',
        f'<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="'
        f'{item.id}"/></m:ItemIds></m:GetItem>')
    with requests.Session() as session:
        session.auth = HttpNtlmAuth(ALICE.account, ALICE.password)
        text = session.post(sandbox.url, data=body.encode(), verify=str(trusted_ca), timeout=30).text
    for element in ("<t:ItemClass>IPM.Appointment</t:ItemClass>", "<t:Subject>v3</t:Subject>", "<t:UID>",
                    "<t:Start>2027-10-01T07:00:00Z</t:Start>", "<t:MyResponseType>Organizer</t:MyResponseType>"):
        assert element in text


def test_recurring_series_is_expanded_in_a_calendar_view_across_daylight_saving(
        sandbox: SandboxServer, make_account: AccountFactory) -> None:
    from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone
    from exchangelib.items import SEND_TO_NONE
    from exchangelib.recurrence import NumberedPattern, Recurrence, WeeklyPattern

    berlin = EWSTimeZone("Europe/Berlin")
    account = make_account()
    start = EWSDateTime(2027, 3, 22, 10, tzinfo=berlin)  # Monday; Berlin moves its clocks on 28 March
    series = CalendarItem(
        account=account, folder=account.calendar, subject="Weekly sales call", start=start,
        end=start + dt.timedelta(minutes=30),
        recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=["Monday", "Wednesday"]),
                              boundary=NumberedPattern(start=start.date(), number=4)))
    series.save(send_meeting_invitations=SEND_TO_NONE)

    view = list(account.calendar.view(start=EWSDateTime(2027, 3, 20, tzinfo=berlin),
                                      end=EWSDateTime(2027, 4, 20, tzinfo=berlin)))
    assert [(o.start.astimezone(berlin).strftime("%a %d %H:%M"), o.type) for o in view] == [
        ("Mon 22 10:00", "Occurrence"), ("Wed 24 10:00", "Occurrence"),
        ("Mon 29 10:00", "Occurrence"), ("Wed 31 10:00", "Occurrence")]
    occurrence = account.calendar.get(id=view[2].id)
    assert (occurrence.subject, occurrence.type) == ("Weekly sales call", "Occurrence")
    master = account.calendar.get(id=series.id)
    assert master.type == "RecurringMaster" and master.recurrence.boundary.number == 4
    third = account.calendar.get(id=master.id).occurrence(3)  # OccurrenceItemId, InstanceIndex 3
    third.refresh()
    assert third.start == view[2].start
    assert [kind for kind, _ in account.calendar.sync_items()] == ["create"]  # the series is one item


@pytest.mark.parametrize("body", [b"", b"<not-xml", b'<?xml version="1.0"?><Envelope/>'])
def test_malformed_requests_get_a_schema_validation_fault(sandbox: SandboxServer, trusted_ca: Path,
                                                          body: bytes) -> None:
    with requests.Session() as session:
        session.auth = HttpNtlmAuth(ALICE.account, ALICE.password)
        response = session.post(sandbox.url, data=body, verify=str(trusted_ca), timeout=30)
    assert response.status_code == 500
    assert b"<e:ResponseCode" in response.content and b"ErrorSchemaValidation" in response.content
    assert response.content.startswith(b"<?xml")  # exchangelib parses a 500 only when it looks like XML


def test_times_without_offset_are_read_in_the_time_zone_context(sandbox: SandboxServer, trusted_ca: Path) -> None:
    body = GET_CALENDAR.replace(
        '<t:RequestServerVersion Version="Exchange2016"/>',
        '<t:RequestServerVersion Version="Exchange2016"/><t:TimeZoneContext>'
        '<t:TimeZoneDefinition Id="Pacific Standard Time"/></t:TimeZoneContext>',
    ).replace(
        "<m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
        '<m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder>',
        '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Subject>Local</t:Subject>'
        "<t:Start>2027-01-10T09:00:00</t:Start><t:End>2027-01-10T10:00:00</t:End></t:CalendarItem></m:Items>"
        "</m:CreateItem>")
    with requests.Session() as session:
        session.auth = HttpNtlmAuth(ALICE.account, ALICE.password)
        assert session.post(sandbox.url, data=body.encode(), verify=str(trusted_ca), timeout=30).status_code == 200
    (item,) = sandbox.calendar_items(ALICE_MAILBOX)
    assert (item.text("Start"), item.text("End")) == ("2027-01-10T17:00:00Z", "2027-01-10T18:00:00Z")
