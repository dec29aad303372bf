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
from tests.sandbox.conftest import ALICE, ALICE_MAILBOX, AccountFactory, finish_checked, start_checked
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
