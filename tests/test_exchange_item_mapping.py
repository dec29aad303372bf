"""Appointment ↔ exchangelib CalendarItem without a server: every kind of appointment goes through
exchangelib's own request XML, comes back the way Exchange answers (UTC times, xs:boolean
true/false) through exchangelib's own parser, and must equal the original wall-clock times, zone,
all-day days and every other field. Plus: exchangelib's errors become our typed remote errors."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator

import pytest
import requests
from exchangelib import (
    DELEGATE,
    NTLM,
    Account,
    Build,
    CalendarItem,
    Configuration,
    Credentials,
    EWSTimeZone,
    FailFast,
    Version,
)
from exchangelib import errors as ews
from exchangelib.util import TNS

from calendar_app.domain import Appointment
from calendar_app.domain.appointment import SYNCED_FIELDS
from calendar_app.domain.remote_errors import (
    AuthFailed,
    CertificateChanged,
    Conflict,
    ImpersonationDenied,
    ItemGone,
    ItemRejected,
    MailboxNotFound,
    OutcomeUnknown,
    SyncStateInvalid,
    Throttled,
    TransientNetwork,
)
from calendar_app.domain.remote_items import uuid_for_foreign_item
from calendar_app.exchange.error_translation import translate
from calendar_app.exchange.item_mapping import (
    ITEM_FIELDS,
    LOCAL_UUID_FIELD,
    TIMEZONE_FIELD,
    appointment_from_item,
    item_field_names,
    item_values,
)
from tests.support.calendar_sync import KINDS, meeting

BOOLEAN_ELEMENTS = {"ReminderIsSet", "IsAllDayEvent"}


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def account(closed_port: int) -> Account:
    """An account that never reaches a server: building items needs its version and zone only."""
    config = Configuration(service_endpoint=f"https://127.0.0.1:{closed_port}/EWS/Exchange.asmx",
                           credentials=Credentials("CONTOSO\\rep", "not-used"), auth_type=NTLM,
                           version=Version(build=Build(15, 1, 2507, 0)), retry_policy=FailFast())
    return Account("rep@contoso.com", config=config, autodiscover=False, access_type=DELEGATE,
                   default_timezone=EWSTimeZone("UTC"))


def through_exchange(account: Account, appointment: Appointment, item_id: str = "AAMkAGI2") -> CalendarItem:
    """The CreateItem XML exchangelib would send, answered the way Exchange answers a GetItem."""
    item = CalendarItem(account=account, **item_values(appointment))
    item.clean(version=account.version)
    element = item.to_xml(version=account.version)
    for child in element:
        name = child.tag.split("}")[1]
        if name in BOOLEAN_ELEMENTS:
            child.text = {"1": "true", "0": "false"}[child.text or "0"]
        if name in {"Start", "End"}:
            child.text = dt.datetime.fromisoformat(child.text or "").astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    item_id_element = element.makeelement(f"{{{TNS}}}ItemId", {"Id": item_id, "ChangeKey": "DwAAABYA"})
    element.insert(0, item_id_element)
    return CalendarItem.from_xml(elem=element, account=account)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_appointment_survives_the_round_trip(account: Account, kind: str) -> None:
    original = KINDS[kind]
    local_uuid, back = appointment_from_item(through_exchange(account, original))
    assert local_uuid == original.uuid
    assert back == original
    assert back.to_dict() == original.to_dict()  # the same wall-clock times in the same zone


def test_times_travel_in_the_windows_zone_and_all_day_as_whole_days(account: Account) -> None:
    tokyo = CalendarItem(account=account, **item_values(KINDS["non-local-zone"]))
    assert tokyo._start_timezone.ms_id == "Tokyo Standard Time"
    assert tokyo.start.utcoffset() == dt.timedelta(hours=9)
    fair = item_values(KINDS["all-day"])  # 1 June up to (not including) 4 June
    assert (fair["start"], fair["end"], fair["is_all_day"]) == (dt.date(2026, 6, 1), dt.date(2026, 6, 3), True)


def test_a_zone_windows_merges_with_another_keeps_the_reps_iana_name(account: Account) -> None:
    copenhagen = meeting(zone="Europe/Copenhagen")  # Windows: 'Romance Standard Time', as Paris
    _, back = appointment_from_item(through_exchange(account, copenhagen))
    assert back.timezone == "Europe/Copenhagen" and back.start == copenhagen.start


def test_another_clients_item_gets_exchanges_zone_and_a_stable_uuid(account: Account) -> None:
    item = through_exchange(account, meeting(zone="America/Chicago"), item_id="AAMkForeign")
    setattr(item, LOCAL_UUID_FIELD, None)
    setattr(item, TIMEZONE_FIELD, None)
    local_uuid, back = appointment_from_item(item)
    assert local_uuid is None and back.uuid == uuid_for_foreign_item("AAMkForeign")
    assert back.timezone == "America/Chicago" and back.start.hour == 9


def test_values_the_domain_cannot_hold_are_made_to_fit(account: Account) -> None:
    item = through_exchange(account, meeting())
    item.subject = "   "
    item.end = item.start
    item.optional_attendees = item.required_attendees = None
    _, back = appointment_from_item(item)
    assert back.subject == "(no subject)" and back.end - back.start == dt.timedelta(minutes=1)


def test_every_domain_field_has_item_fields() -> None:
    assert set(ITEM_FIELDS) == set(SYNCED_FIELDS)
    names = item_field_names(["location", "start", "timezone"])
    assert names[0] == "location" and "start" in names and "_start_timezone" in names
    assert len(names) == len(set(names))
    for item_field in item_field_names(SYNCED_FIELDS):
        assert item_field in {f.name for f in CalendarItem.FIELDS}, item_field


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize(("raised", "expected"), [
    (ews.UnauthorizedError("401"), AuthFailed),
    (ews.ErrorImpersonateUserDenied("no"), ImpersonationDenied),
    (ews.ErrorNonExistentMailbox("no such mailbox"), MailboxNotFound),
    (ews.ErrorItemNotFound("gone"), ItemGone),
    (ews.ErrorIrresolvableConflict("stale"), Conflict),
    (ews.ErrorInvalidSyncStateData("bad"), SyncStateInvalid),
    (ews.ErrorMailboxStoreUnavailable("down"), TransientNetwork),
    (ews.ErrorInvalidRecipients("bad address"), ItemRejected),
    (ews.TransportError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), CertificateChanged),
])
def test_exchange_errors_become_typed_remote_errors(raised: Exception, expected: type) -> None:
    translated = translate(raised, changes_server=True)
    assert type(translated) is expected
    assert str(translated).endswith(".") and "\n" not in str(translated)


def test_throttling_carries_the_servers_back_off() -> None:
    translated = translate(ews.ErrorServerBusy("busy", back_off=12.5), changes_server=False)
    assert isinstance(translated, Throttled) and translated.back_off_seconds == 12.5
    assert translate(ews.ErrorServerBusy("busy"), changes_server=False).back_off_seconds == 30.0  # type: ignore[attr-defined]


def test_a_refused_connection_is_safe_to_retry_even_for_a_write(account: Account) -> None:
    with pytest.raises(ews.ErrorTimeoutExpired) as caught:
        account.calendar  # GetFolder over loopback to a closed port  # noqa: B018
    assert type(translate(caught.value, changes_server=True)) is TransientNetwork


def test_a_connection_lost_mid_answer_leaves_a_write_unknown() -> None:
    # how exchangelib reports a read timeout: its own error, with the requests error as context
    wrapped = ews.ErrorTimeoutExpired("Reraised from ReadTimeout(read timed out)")
    wrapped.__context__ = requests.exceptions.ReadTimeout("read timed out")
    assert type(translate(wrapped, changes_server=True)) is OutcomeUnknown
    assert type(translate(wrapped, changes_server=False)) is TransientNetwork
