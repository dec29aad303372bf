"""Answers that are not EWS, and server certificates with one thing wrong, against real TLS servers on
127.0.0.1: what the connection test (ExchangeProbe / run_connection_test) and the sync's error
translation (ExchangeCalendar) say about each. The exchangelib, requests and TLS stacks are the real
ones; only the server is ours, sending what a misbehaving server, proxy or login portal sends."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.etree
import pytest
import requests
from cryptography import x509
from exchangelib import CalendarItem

from calendar_app.domain.remote_errors import ItemRejected, OutcomeUnknown, TransientNetwork
from calendar_app.exchange import response_guard
from calendar_app.exchange.account_factory import close_account, make_account
from calendar_app.exchange.connection_probe import ExchangeProbe, ProbeFailure, ProbeProblem
from calendar_app.exchange.connection_settings import ConnectionSettings, SignInMode
from calendar_app.exchange.error_translation import translated
from calendar_app.exchange.exchange_calendar import ExchangeCalendar
from calendar_app.exchange.item_mapping import UnreadableItem, readable_remote_item, to_remote_item
from calendar_app.security.pinned_transport import PinnedTlsAdapter, PinnedTlsError
from calendar_app.services.connection_test import ConnectionTestRequest, Outcome, StepId, run_connection_test
from tests.security.pki import Issued, issue
from tests.support.raw_tls_server import Served, raw_server

SOAP_HEAD = ('<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
             'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Body>')

# answer → (the probe's short finding, what the explanation must say)
BAD_ANSWERS: dict[str, tuple[bytes, str, str]] = {
    "html": (b"<!DOCTYPE html><html><head><title>Corporate Proxy: Access Denied</title></head><body/></html>",
             "HTML page", r"not an EWS SOAP response \(an HTML page titled 'Corporate Proxy: Access Denied'.*"
                          r"login portal"),
    "invalid xml": (b"<?xml version='1.0'?><s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'>"
                    b"<s:Body><m:Oops>", "invalid XML", r"answered with invalid XML \(.*line 1\).*cut off"),
    "binary junk": (b"\x00\x01\x02\xff\xfe junk" * 50, "not XML", r"data that is not XML \(\d+ bytes of binary data\)"),
    "text": (b"SSH-2.0-OpenSSH_9.2\r\n", "not XML", r"data that is not XML \(text starting 'SSH-2\.0"),
    "empty": (b"", "empty answer", r"sent an empty answer \(HTTP 200 with no content\)"),
    "xml, not soap": (b"<?xml version='1.0'?><status>ok</status>", "not SOAP",
                      r"XML that is not an EWS SOAP response \(its root element is <status>"),
    "empty soap body": ((SOAP_HEAD + "</s:Body></s:Envelope>").encode(), "empty SOAP envelope",
                        r"answered with an empty SOAP envelope"),
    "another answer": ((SOAP_HEAD + "<m:GetFolderResponse/></s:Body></s:Envelope>").encode(), "not the one EWS",
                       r"holds <GetFolderResponse> where EWS answers with <ConvertIdResponse>"),
}


@pytest.fixture(scope="module")
def root() -> Issued:
    return issue("Bad Answers Test Root", ca=True)


@pytest.fixture(scope="module")
def server_context(root: Issued, tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    return _context(issue("127.0.0.1", issuer=root), tmp_path_factory.mktemp("tls"))


@pytest.fixture
def served() -> Served:
    return Served(b"")


@pytest.fixture
def url(server_context: ssl.SSLContext, served: Served) -> Iterator[str]:
    with raw_server(server_context, served) as port:
        yield f"https://127.0.0.1:{port}/EWS/Exchange.asmx"


def _context(issued: Issued, folder: Path) -> ssl.SSLContext:
    (folder / "server.crt").write_bytes(issued.pem)
    (folder / "server.key").write_bytes(issued.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.crt", folder / "server.key")
    return context


def _settings(url: str) -> ConnectionSettings:
    return ConnectionSettings(ews_url=url, mailbox="rep@contoso.com", username="CONTOSO\\rep",
                              sign_in_mode=SignInMode.OWN_ACCOUNT, timeout_seconds=10)


@pytest.mark.parametrize("kind", list(BAD_ANSWERS))
def test_probe_says_what_the_server_sent(kind: str, url: str, served: Served, root: Issued) -> None:
    answer, finding, explanation = BAD_ANSWERS[kind]
    served.answer = answer
    probe = ExchangeProbe(_settings(url), "Rep-Pass-1", lambda: PinnedTlsAdapter([root.certificate]))
    try:
        with pytest.raises(ProbeFailure) as failure:
            probe.sign_in()
    finally:
        probe.close()
    assert failure.value.problem is ProbeProblem.UNUSABLE_ANSWER
    assert finding in failure.value.detail
    assert re.search(explanation, failure.value.explanation), failure.value.explanation
    assert served.hits >= 1  # the answer really came over TLS from the server


def test_an_answer_over_the_limit_is_refused_without_reading_it_all(url: str, served: Served, root: Issued,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(response_guard, "MAX_ANSWER_BYTES", 1024 * 1024)
    served.answer = b"<a>" + b"x" * (3 * 1024 * 1024) + b"</a>"
    probe = ExchangeProbe(_settings(url), "Rep-Pass-1", lambda: PinnedTlsAdapter([root.certificate]))
    try:
        with pytest.raises(ProbeFailure) as failure:
            probe.sign_in()
    finally:
        probe.close()
    assert re.search(rf"{re.escape(url)} sent an answer larger than 1 MB \(it announced 3 MB\) and it was refused",
                     failure.value.explanation), failure.value.explanation


def test_a_chunked_answer_over_the_limit_is_cut_off(url: str, served: Served, root: Issued,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(response_guard, "MAX_ANSWER_BYTES", 1024 * 1024)
    served.answer = b"<a>" + b"x" * (3 * 1024 * 1024) + b"</a>"
    served.chunked = True  # no Content-Length: the size is only known by reading
    probe = ExchangeProbe(_settings(url), "Rep-Pass-1", lambda: PinnedTlsAdapter([root.certificate]))
    try:
        with pytest.raises(ProbeFailure) as failure:
            probe.sign_in()
    finally:
        probe.close()
    assert "larger than 1 MB (it kept sending) and it was refused" in failure.value.explanation


def _calendar(url: str, root: Issued) -> ExchangeCalendar:
    account = make_account(_settings(url), "Rep-Pass-1", lambda: PinnedTlsAdapter([root.certificate]),
                           timezone="UTC")
    return ExchangeCalendar(account)


def test_sync_read_of_an_html_page_is_a_retry_with_the_reason(url: str, served: Served, root: Issued) -> None:
    served.answer = BAD_ANSWERS["html"][0]
    calendar = _calendar(url, root)
    try:
        with pytest.raises(TransientNetwork) as raised:
            calendar.check_connection()
    finally:
        close_account(calendar.account)
    assert "an HTML page titled 'Corporate Proxy: Access Denied'" in str(raised.value)
    assert url in str(raised.value)
    assert str(raised.value).endswith("The sync will try again later.")


def test_a_change_answered_with_junk_has_an_unknown_outcome(url: str, served: Served, root: Issued) -> None:
    """A proxy may have passed a create on before it answered with junk: the engine must look the item
    up before sending it again (OutcomeUnknown), not re-send it blindly (TransientNetwork). The request
    here is a real exchangelib call meeting the real answer, translated as ExchangeCalendar.create does."""
    served.answer = BAD_ANSWERS["empty soap body"][0]
    account = make_account(_settings(url), "Rep-Pass-1", lambda: PinnedTlsAdapter([root.certificate]),
                           timezone="UTC")
    try:
        with pytest.raises(OutcomeUnknown) as raised, translated(changes_server=True):
            account.root.refresh()
    finally:
        close_account(account)
    assert "answered with an empty SOAP envelope" in str(raised.value)
    assert str(raised.value).endswith("The sync will check whether the last change arrived before sending it again.")


# ------------------------------------------------------------------ certificates with one thing wrong
def _request(url: str, trusted: x509.Certificate) -> ConnectionTestRequest:
    return ConnectionTestRequest(ews_url=url, mailbox="rep@contoso.com", username="CONTOSO\\rep",
                                 password="Rep-Pass-1", trusted_certificates=(trusted,),
                                 sign_in_mode=SignInMode.OWN_ACCOUNT, timeout_seconds=10)


def _certificate_step(issued: Issued, trusted: x509.Certificate, folder: Path) -> tuple[str, str]:
    with raw_server(_context(issued, folder), Served(b"")) as port:
        results = list(run_connection_test(_request(f"https://127.0.0.1:{port}/EWS/Exchange.asmx", trusted)))
    failed = results[-1]
    assert failed.step is StepId.CERTIFICATE and failed.outcome is Outcome.FAILED, results
    return failed.detail, failed.advice


def test_an_expired_trusted_certificate_is_called_expired(root: Issued, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    expired = issue("127.0.0.1", issuer=root, not_before=now - timedelta(days=400), not_after=now - timedelta(days=3))
    detail, advice = _certificate_step(expired, expired.certificate, tmp_path)
    day = f"{expired.certificate.not_valid_after_utc:%Y-%m-%d}"
    assert detail == f"the trusted certificate expired on {day}"
    assert f"but it expired on {day} (3 day(s) ago" in advice
    assert "renew the server's certificate" in advice


def test_a_not_yet_valid_trusted_certificate_is_called_so(root: Issued, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    future = issue("127.0.0.1", issuer=root, not_before=now + timedelta(days=5), not_after=now + timedelta(days=50))
    detail, advice = _certificate_step(future, future.certificate, tmp_path)
    assert detail.startswith("the trusted certificate is not valid before ")
    assert "Check this computer's date and time" in advice


def test_a_trusted_certificate_for_another_host_names_its_hosts(root: Issued, tmp_path: Path) -> None:
    other = issue("mail.contoso.test", issuer=root, dns_names=("mail.contoso.test",), ip_addresses=())
    detail, advice = _certificate_step(other, other.certificate, tmp_path)
    assert detail == "the trusted certificate does not name 127.0.0.1"
    assert "issued for mail.contoso.test, not for 127.0.0.1" in advice


def test_the_sync_connection_says_a_pinned_certificate_expired(root: Issued, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    expired = issue("127.0.0.1", issuer=root, not_before=now - timedelta(days=400), not_after=now - timedelta(days=3))
    with raw_server(_context(expired, tmp_path), Served(b"")) as port, requests.Session() as session:
        session.mount("https://", PinnedTlsAdapter([expired.certificate]))
        with pytest.raises(PinnedTlsError) as raised:
            session.post(f"https://127.0.0.1:{port}/EWS/Exchange.asmx", data=b"<x/>", timeout=10)
    assert f"but it expired on {expired.certificate.not_valid_after_utc:%Y-%m-%d}" in str(raised.value)


# ------------------------------------------------------------------ wrong types inside a valid answer
WRONG_TYPES_ITEM = (b'<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
                    b'<t:ItemId Id="AAMkAD-wrong-types" ChangeKey="CK1"/><t:Subject>Quarterly review</t:Subject>'
                    b'<t:Start>next tuesday</t:Start><t:End>2027-03-04T10:00:00Z</t:End>'
                    b'<t:IsAllDayEvent>maybe</t:IsAllDayEvent></t:CalendarItem>')


def test_an_item_whose_start_is_not_a_date_time_is_one_rejected_item() -> None:
    """exchangelib parses a value of the wrong type as None and only logs it; the mapping must turn
    that into one rejected item with a reason, not an AttributeError that stops the sync as a bug."""
    item = CalendarItem.from_xml(elem=lxml.etree.fromstring(WRONG_TYPES_ITEM), account=None)
    assert item.start is None and item.subject == "Quarterly review"  # what exchangelib makes of it
    with pytest.raises(UnreadableItem):
        to_remote_item(item, "UTC")
    with pytest.raises(ItemRejected) as rejected:
        readable_remote_item(item, "UTC")
    assert str(rejected.value).startswith("Exchange sent the appointment 'Quarterly review' with values this app "
                                          "cannot read (it has no readable start time); it is left unchanged here.")
