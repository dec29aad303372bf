"""Sign-in, rights and injected faults, seen by exchangelib the way it sees a real Exchange server's."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from requests_ntlm import HttpNtlmAuth

from calendar_app.sandbox import SandboxServer
from tests.sandbox.conftest import ALICE, ALICE_MAILBOX, BOB_MAILBOX, CAROL_MAILBOX, SERVICE, AccountFactory

GET_CALENDAR = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
    'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
    '<s:Header><t:RequestServerVersion Version="Exchange2016"/></s:Header>'
    "<s:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>"
    '<m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder></s:Body></s:Envelope>'
)


def _post(sandbox: SandboxServer, ca: Path, auth: Any, body: str = GET_CALENDAR) -> requests.Response:
    with requests.Session() as session:
        session.auth = auth
        return session.post(sandbox.url, data=body.encode(), verify=str(ca), timeout=30,
                            headers={"Content-Type": "text/xml; charset=utf-8"})


def test_unauthenticated_request_is_challenged_with_negotiate_and_ntlm(sandbox: SandboxServer,
                                                                       trusted_ca: Path) -> None:
    response = _post(sandbox, trusted_ca, None)
    assert response.status_code == 401
    assert response.raw.headers.getlist("WWW-Authenticate") == ["Negotiate", "NTLM"]
    assert response.headers.get("Connection", "").lower() != "close"


def test_ntlm_with_channel_binding_authenticates_the_connection(sandbox: SandboxServer, trusted_ca: Path) -> None:
    with requests.Session() as session:
        session.auth = HttpNtlmAuth(ALICE.account, ALICE.password)
        first = session.post(sandbox.url, data=GET_CALENDAR.encode(), verify=str(trusted_ca), timeout=30)
        assert first.status_code == 200 and b"NoError" in first.content
        # Like IIS: the connection stays authenticated, the next request carries no Authorization header.
        session.auth = None
        second = session.post(sandbox.url, data=GET_CALENDAR.encode(), verify=str(trusted_ca), timeout=30)
        assert second.status_code == 200
        assert "Authorization" not in second.request.headers


def test_client_without_channel_binding_is_refused(sandbox: SandboxServer, trusted_ca: Path) -> None:
    response = _post(sandbox, trusted_ca, HttpNtlmAuth(ALICE.account, ALICE.password, send_cbt=False))
    assert response.status_code == 401


def test_wrong_password_is_401_and_unauthorized_error(sandbox: SandboxServer, trusted_ca: Path,
                                                      make_account: AccountFactory) -> None:
    from exchangelib.errors import UnauthorizedError

    assert _post(sandbox, trusted_ca, HttpNtlmAuth(ALICE.account, "wrong")).status_code == 401
    assert _post(sandbox, trusted_ca, HttpNtlmAuth("CONTOSO\\nobody", "x")).status_code == 401
    account = make_account(password="not-the-password")
    with pytest.raises(UnauthorizedError):
        account.calendar.refresh()


def test_own_mailbox_without_impersonation(make_account: AccountFactory) -> None:
    account = make_account(user=ALICE, impersonate=False)
    assert account.calendar.total_count == 0


def test_impersonation_denied_and_unknown_mailbox_are_soap_faults(sandbox: SandboxServer,
                                                                   make_account: AccountFactory) -> None:
    from exchangelib.errors import ErrorImpersonateUserDenied, ErrorNonExistentMailbox

    with pytest.raises(ErrorImpersonateUserDenied):
        make_account(mailbox=CAROL_MAILBOX).calendar.refresh()
    with pytest.raises(ErrorNonExistentMailbox):
        make_account(mailbox="nobody@contoso.com").calendar.refresh()
    # Rights can change while the sandbox runs.
    sandbox.set_impersonation(SERVICE.account, BOB_MAILBOX, allowed=False)
    with pytest.raises(ErrorImpersonateUserDenied):
        make_account(mailbox=BOB_MAILBOX).calendar.refresh()


def test_unimplemented_operation_fails_once_without_version_walk(sandbox: SandboxServer,
                                                                 make_account: AccountFactory) -> None:
    from exchangelib.errors import ErrorSchemaValidation

    account = make_account()
    account.calendar.refresh()
    operations: list[str] = []
    sandbox.traffic_listeners.append(lambda direction, operation, _: operations.append(f"{direction} {operation}"))
    with pytest.raises(ErrorSchemaValidation):
        list(account.protocol.get_roomlists())
    # One request, one fault: no retries with older API versions.
    assert operations == ["request GetRoomLists", "response GetRoomLists"]


def test_server_busy_carries_back_off(sandbox: SandboxServer, make_account: AccountFactory) -> None:
    from exchangelib.errors import ErrorServerBusy

    account = make_account()
    account.calendar.refresh()
    sandbox.faults.add("busy", value=2500, operation="FindItem", times=1)
    with pytest.raises(ErrorServerBusy) as raised:
        list(account.calendar.all())
    assert raised.value.back_off == 2.5
    assert list(account.calendar.all()) == []  # used up: the next call goes through


@pytest.mark.parametrize("kind", ["http500", "http503"])
def test_http_errors_are_transient_for_exchangelib(sandbox: SandboxServer, make_account: AccountFactory,
                                                   kind: str) -> None:
    from exchangelib.errors import ErrorServerBusy

    account = make_account()
    account.calendar.refresh()
    sandbox.faults.add(kind, operation="FindItem", times=1)
    # FailFast: exchangelib turns IIS's 500 page and a 503 into a retryable ErrorServerBusy.
    with pytest.raises(ErrorServerBusy, match="Reraised from ErrorInternalServerTransientError"):
        list(account.calendar.all())


def _new_item(account: Any, subject: str) -> Any:
    from exchangelib import CalendarItem, EWSDateTime, EWSTimeZone

    start = EWSDateTime(2027, 5, 3, 9, 0, tzinfo=EWSTimeZone("Europe/Berlin"))
    return CalendarItem(account=account, folder=account.calendar, subject=subject, start=start,
                        end=start + dt.timedelta(minutes=30))


def test_dropped_connection_before_and_after_commit(sandbox: SandboxServer, make_account: AccountFactory) -> None:
    from exchangelib.errors import ErrorTimeoutExpired
    from exchangelib.items import SEND_TO_NONE

    account = make_account(max_connections=1)
    account.calendar.refresh()
    sandbox.faults.add("drop-before", operation="CreateItem", times=1)
    with pytest.raises(ErrorTimeoutExpired):
        _new_item(account, "never stored").save(send_meeting_invitations=SEND_TO_NONE)
    assert sandbox.calendar_items(ALICE_MAILBOX) == []

    sandbox.faults.add("drop-after", operation="CreateItem", times=1)
    with pytest.raises(ErrorTimeoutExpired):
        _new_item(account, "stored, but nobody was told").save(send_meeting_invitations=SEND_TO_NONE)
    assert [item.text("Subject") for item in sandbox.calendar_items(ALICE_MAILBOX)] == ["stored, but nobody was told"]


def test_added_latency_delays_answers(sandbox: SandboxServer, make_account: AccountFactory) -> None:
    account = make_account()
    account.calendar.refresh()
    sandbox.faults.add("latency", value=300, operation="FindItem")
    began = time.monotonic()
    assert list(account.calendar.all()) == []
    assert time.monotonic() - began >= 0.3  # a lower bound only: never flaky on a busy machine


def test_changed_certificate_is_a_tls_error(sandbox: SandboxServer, make_account: AccountFactory) -> None:
    from exchangelib.errors import TransportError

    account = make_account()
    account.calendar.refresh()
    original = sandbox.certificate_sha256
    sandbox.faults.add("changed-certificate")
    assert sandbox.certificate_sha256 != original
    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        account.calendar.refresh()
    sandbox.faults.clear()
    assert sandbox.certificate_sha256 == original
    account.calendar.refresh()
