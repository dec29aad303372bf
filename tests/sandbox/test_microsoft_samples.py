"""Conformance with Microsoft's EWS reference examples (`../shared/ews-samples`).

Each request example is posted (after NTLM) twice: as printed, and with its placeholder ids replaced by ids of
real items, subscriptions and sync states in the sandbox. Both answers must be schema-valid (the `sandbox`
fixture checks every body) and use the same response element. The answer to the second must match one of
Microsoft's example responses from the same page: ResponseClass, ResponseCode and the element structure of
each response message two levels deep."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from requests_ntlm import HttpNtlmAuth

from calendar_app.sandbox import SandboxConfig, SandboxServer, SandboxUser
from tests.sandbox.conftest import finish_checked, start_checked
from tests.sandbox.schema_check import MESSAGES_NS, SOAP_NS, SchemaChecker, samples_dir
from tests.support.system import require

USER1 = SandboxUser("EXAMPLE", "user1", "User1-Pass")
USER2 = SandboxUser("EXAMPLE", "user2", "User2-Pass")
TYPES = "http://schemas.microsoft.com/exchange/services/2006/types"

# Printed in the docs in a form that is not well-formed XML: used neither as a request nor as a model answer.
NOT_WELL_FORMED = {
    "getstreamingevents-operation__2__GetStreamingEventsResponse.xml":
        "the GetStreamingEventsResponseMessage element is never closed",
}
# Printed in the docs with a namespace mistake, so the schema (and Exchange) reject them as printed: the test
# checks that rejection (an ErrorSchemaValidation fault) and posts a repaired copy for the comparison.
NOT_SCHEMA_VALID = {
    "getstreamingevents-operation__0__GetStreamingEvents.xml":
        ("SubscriptionId inside SubscriptionIds is written in the messages namespace; types.xsd wants t:",
         lambda text: text.replace("<SubscriptionId>", "<t:SubscriptionId>").replace("</SubscriptionId>",
                                                                                   "</t:SubscriptionId>")),
    "subscribe-operation__3__Subscribe.xml":
        ("the Subscribe element has no namespace",
         lambda text: text.replace("<Subscribe xmlns:xsi", f'<Subscribe xmlns="{MESSAGES_NS}" xmlns:xsi')),
}
# Exchange 2010 and later add elements that Exchange 2007's examples do not show.
LATER_ADDITIONS = {"ConflictResults"}


def _samples() -> Path:
    directory = samples_dir()
    require(directory is not None, "Microsoft's EWS examples (../shared/ews-samples beside the clone)",
            "copy the shared/ folder next to the repository or set EWS_SCHEMA_DIR")
    assert directory is not None
    return directory


def _is_response(name: str) -> bool:
    root = name.rsplit("__", 1)[-1].removesuffix(".xml")
    return root.endswith("Response") or root == "Fault"


def _request_files() -> list[str]:
    directory = samples_dir()
    if directory is None:
        return ["(samples missing)"]
    return sorted(p.name for p in directory.glob("*.xml") if not _is_response(p.name))


def _example_responses(request_name: str) -> list[Any]:
    page = request_name.split("__", 1)[0]
    examples = []
    for path in sorted(_samples().glob(f"{page}__*.xml")):
        if not _is_response(path.name) or path.name in NOT_WELL_FORMED:
            continue
        root = etree.parse(str(path)).getroot()
        body = next(child for child in root if etree.QName(child).localname == "Body")
        examples.append(body[0])
    return examples


def _skeleton(message: Any) -> tuple[Any, ...]:
    """(ResponseClass, ResponseCode, child names, grandchild names per child) of a response message."""
    children = [c for c in message if isinstance(c.tag, str) and etree.QName(c).localname not in LATER_ADDITIONS]
    return (
        message.get("ResponseClass"),
        message.findtext(f"{{{MESSAGES_NS}}}ResponseCode"),
        tuple(sorted(etree.QName(c).localname for c in children)),
        tuple(sorted(
            (etree.QName(c).localname, tuple(sorted({etree.QName(g).localname for g in c if isinstance(g.tag, str)})))
            for c in children if etree.QName(c).localname not in ("MessageText", "ResponseCode"))),
    )


def _messages(response: Any) -> list[Any]:
    container = response.find(f"{{{MESSAGES_NS}}}ResponseMessages")
    return [c for c in (container if container is not None else []) if isinstance(c.tag, str)]


@pytest.fixture
def conformance_sandbox(tmp_path: Path, seeded_tls: Path, schema_checker: SchemaChecker) -> Iterator[SandboxServer]:
    config = SandboxConfig(users=(USER1, USER2), mailboxes=("user1@example.com", "user2@example.com"),
                           streaming_heartbeat_seconds=5.0)
    server = start_checked(config, tmp_path / "state", seeded_tls, schema_checker)
    try:
        yield server
    finally:
        finish_checked(server, schema_checker)


class Client:
    def __init__(self, sandbox: SandboxServer, ca: Path, user: SandboxUser) -> None:
        self.sandbox = sandbox
        self.ca = ca
        self.session = requests.Session()
        self.session.auth = HttpNtlmAuth(user.account, user.password)

    def post(self, body: bytes, *, stream: bool = False) -> requests.Response:
        return self.session.post(self.sandbox.url, data=body, verify=str(self.ca), timeout=60, stream=stream,
                                 headers={"Content-Type": "text/xml; charset=utf-8"})

    def call(self, operation_xml: str) -> Any:
        envelope = (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP_NS}" xmlns:m="{MESSAGES_NS}" '
                    f'xmlns:t="{TYPES}"><s:Header><t:RequestServerVersion Version="Exchange2016"/></s:Header>'
                    f"<s:Body>{operation_xml}</s:Body></s:Envelope>")
        response = self.post(envelope.encode())
        assert response.status_code == 200, response.text[:400]
        return etree.fromstring(response.content).find(f"{{{SOAP_NS}}}Body")[0]


class Fixtures:
    """Real things in user1's mailbox that stand in for the examples' placeholder ids."""

    def __init__(self, client: Client, other: Client) -> None:
        self.client = client
        self.other = other

    def _item_id(self, response: Any) -> tuple[str, str]:
        item_id = response.find(f".//{{{TYPES}}}ItemId")
        return item_id.get("Id"), item_id.get("ChangeKey")

    def calendar_item(self) -> tuple[str, str]:
        return self._item_id(self.client.call(
            '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Subject>Placeholder'
            "</t:Subject><t:Start>2006-05-18T15:00:00Z</t:Start><t:End>2006-05-18T16:00:00Z</t:End>"
            "</t:CalendarItem></m:Items></m:CreateItem>"))

    def message(self, folder: str = "deleteditems") -> tuple[str, str]:
        return self._item_id(self.client.call(
            f'<m:CreateItem MessageDisposition="SaveOnly"><m:SavedItemFolderId><t:DistinguishedFolderId Id="{folder}"/>'
            "</m:SavedItemFolderId><m:Items><t:Message><t:Subject>Kept</t:Subject><t:Body BodyType=\"Text\">Text"
            "</t:Body></t:Message></m:Items></m:CreateItem>"))

    def meeting_request(self) -> tuple[str, str]:
        """user2 invites user1: a MeetingRequest arrives in user1's Inbox."""
        self.other.call(
            '<m:CreateItem SendMeetingInvitations="SendToAllAndSaveCopy"><m:Items><t:CalendarItem><t:Subject>Budget'
            "</t:Subject><t:Start>2013-11-09T17:00:00Z</t:Start><t:End>2013-11-09T17:30:00Z</t:End>"
            "<t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress>"
            "</t:Mailbox></t:Attendee></t:RequiredAttendees></t:CalendarItem></m:Items></m:CreateItem>")
        found = self.client.call(
            '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
            '<m:IndexedPageItemView MaxEntriesReturned="1" Offset="0" BasePoint="End"/>'
            '<m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>')
        return self._item_id(found)

    def subscription(self, kind: str) -> tuple[str, str]:
        request = {"pull": "PullSubscriptionRequest", "streaming": "StreamingSubscriptionRequest"}[kind]
        timeout = "<t:Timeout>10</t:Timeout>" if kind == "pull" else ""
        response = self.client.call(
            f'<m:Subscribe><m:{request}><t:FolderIds><t:DistinguishedFolderId Id="inbox"/></t:FolderIds>'
            f"<t:EventTypes><t:EventType>NewMailEvent</t:EventType></t:EventTypes>{timeout}</m:{request}>"
            "</m:Subscribe>")
        return (response.findtext(f".//{{{MESSAGES_NS}}}SubscriptionId"),
                response.findtext(f".//{{{MESSAGES_NS}}}Watermark") or "")

    def sync_state(self, folder: str) -> str:
        response = self.client.call(
            "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId>"
            f'<t:DistinguishedFolderId Id="{folder}"/></m:SyncFolderId><m:MaxChangesReturned>512'
            "</m:MaxChangesReturned></m:SyncFolderItems>")
        return response.findtext(f".//{{{MESSAGES_NS}}}SyncState")


def _substitute(name: str, text: str, fixtures: Fixtures) -> str:
    """The example with its placeholders replaced by real ids (and the state they need set up)."""
    page = name.split("__", 1)[0]
    if page in ("getevents-operation", "getstreamingevents-operation", "unsubscribe-operation"):
        subscription_id, watermark = fixtures.subscription("pull" if page != "getstreamingevents-operation"
                                                           else "streaming")
        if page == "getevents-operation":
            fixtures.meeting_request()  # new mail in user1's Inbox
        text = re.sub(r"(<(?:t:)?SubscriptionId>)[^<]*(</(?:t:)?SubscriptionId>)", rf"\g<1>{subscription_id}\g<2>",
                      text)
        return re.sub(r"<Watermark>[^<]*</Watermark>", f"<Watermark>{watermark}</Watermark>", text)
    if page == "syncfolderitems-operation":
        state = fixtures.sync_state("sentitems")
        # user1 invites user2 and keeps a copy: a MeetingRequest in user1's Sent Items, as in the example.
        fixtures.client.call(
            '<m:CreateItem SendMeetingInvitations="SendToAllAndSaveCopy"><m:Items><t:CalendarItem><t:Subject>Budget Q3'
            "</t:Subject><t:Start>2006-08-02T17:30:00Z</t:Start><t:End>2006-08-02T19:30:00Z</t:End>"
            "<t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>user2@example.com</t:EmailAddress>"
            "</t:Mailbox></t:Attendee></t:RequiredAttendees></t:CalendarItem></m:Items></m:CreateItem>")
        ignored, change_key = fixtures.message("sentitems")
        text = re.sub(r"<SyncState>[^<]*</SyncState>", f"<SyncState>{state}</SyncState>", text)
        return re.sub(r'<t:ItemId Id="[^"]*" ChangeKey="[^"]*"/>',
                      f'<t:ItemId Id="{ignored}" ChangeKey="{change_key}"/>', text)
    if "ReferenceItemId" in text:
        item_id, change_key = fixtures.meeting_request()
        return re.sub(r'<t:ReferenceItemId Id="[^"]*"\s+ChangeKey="[^"]*"\s*/>|<ReferenceItemId Id="[^"]*"\s+'
                      r'ChangeKey="[^"]*"\s*/>',
                      f'<t:ReferenceItemId xmlns:t="{TYPES}" Id="{item_id}" ChangeKey="{change_key}"/>', text)
    if page == "how-to-propose-a-new-meeting-time-by-using-ews-in-exchange":
        item_id, change_key = fixtures.meeting_request()
    elif page in ("deleteitem-operation", "updateitem-operation"):
        item_id, change_key = fixtures.message()
    else:
        item_id, change_key = fixtures.calendar_item()
    text = re.sub(r'(<t:ItemId\s+Id=")[^"]*("\s*(?:ChangeKey="[^"]*")?)', rf'\g<1>{item_id}" ChangeKey="{change_key}"',
                  text)
    text = re.sub(r'(<t:AlternateId Format="EwsId" Id=")[^"]*(")', rf"\g<1>{item_id}\g<2>", text)
    return text.replace('Mailbox="user1@example.com"', 'Mailbox="user1@example.com"')


def _root(payload: bytes) -> Any:
    envelope = etree.fromstring(payload)
    return next(child for child in envelope if etree.QName(child).localname == "Body")[0]


@pytest.mark.parametrize("request_file", _request_files())
def test_example_request_is_answered_like_microsofts_example(request_file: str, conformance_sandbox: SandboxServer,
                                                             tmp_path: Path, schema_checker: SchemaChecker) -> None:
    directory = _samples()
    path = directory / request_file
    text = path.read_text(encoding="utf-8")
    operation = request_file.rsplit("__", 1)[-1].removesuffix(".xml")
    ca = tmp_path / "ca.pem"
    ca.write_bytes(conformance_sandbox.ca_pem)
    client = Client(conformance_sandbox, ca, USER1)
    fixtures = Fixtures(client, Client(conformance_sandbox, ca, USER2))
    examples = _example_responses(request_file)

    if request_file in NOT_SCHEMA_VALID:
        reason, repair = NOT_SCHEMA_VALID[request_file]
        rejected = client.post(text.encode())
        assert rejected.status_code == 500, reason
        assert _root(rejected.content).findtext("detail/{*}ResponseCode") == "ErrorSchemaValidation", reason
        # The schema agrees with the sandbox: the only violations so far are this request's own.
        violations = schema_checker.take_violations()
        assert {(v.direction, v.operation) for v in violations} <= {("request", operation)}, violations
        text = repair(text)
    for variant, body in (("as printed", text), ("with real ids", _substitute(request_file, text, fixtures))):
        if operation == "GetStreamingEvents":
            answer = _first_streamed_document(client, body.encode(), fixtures)
        else:
            response = client.post(body.encode())
            assert response.status_code in (200, 500), f"{variant}: HTTP {response.status_code}"
            answer = _root(response.content)
        assert etree.QName(answer).localname == f"{operation}Response", f"{variant}: {etree.tostring(answer)[:300]}"
        if variant == "with real ids" and examples:
            ours = {_skeleton(message) for message in _messages(answer)}
            theirs = [{_skeleton(message) for message in _messages(example)} for example in examples]
            assert any(ours == example for example in theirs), (
                f"{request_file}: our answer {ours} matches none of Microsoft's examples {theirs}")


def _first_streamed_document(client: Client, body: bytes, fixtures: Fixtures) -> Any:
    """Read the first envelope of a streamed answer, then end the subscription so the stream closes."""
    response = client.post(body, stream=True)
    assert response.status_code == 200
    buffer = b""
    chunks = response.iter_content(chunk_size=None)
    for chunk in chunks:
        buffer += chunk
        end = buffer.find(b"</s:Envelope>")
        if end >= 0:
            document = buffer[: end + len(b"</s:Envelope>")]
            break
    subscription_id = re.search(rb"<(?:t:)?SubscriptionId>([^<]+)</", body)
    if subscription_id is not None:
        other = Client(client.sandbox, client.ca, USER1)
        other.call(f"<m:Unsubscribe><m:SubscriptionId>{subscription_id.group(1).decode()}</m:SubscriptionId>"
                   "</m:Unsubscribe>")
    rest = b"".join(chunks)
    assert b"<m:ConnectionStatus>Closed</m:ConnectionStatus>" in document + rest
    response.close()
    return _root(document)


def test_fault_has_the_shape_of_microsofts_fault_example(conformance_sandbox: SandboxServer, tmp_path: Path) -> None:
    example = etree.parse(str(_samples() / "updateitem-operation-contact__3__Fault.xml")).getroot()
    ca = tmp_path / "ca.pem"
    ca.write_bytes(conformance_sandbox.ca_pem)
    client = Client(conformance_sandbox, ca, USER1)
    response = client.post(
        f'<?xml version="1.0"?><s:Envelope xmlns:s="{SOAP_NS}"><s:Body><m:GetUserPhoto xmlns:m="{MESSAGES_NS}">'
        "<m:Email>user2@example.com</m:Email><m:SizeRequested>HR48x48</m:SizeRequested></m:GetUserPhoto>"
        "</s:Body></s:Envelope>".encode())
    assert response.status_code == 500
    fault = _root(response.content)
    their_fault = next(c for c in example if etree.QName(c).localname == "Body")[0]

    def shape(element: Any) -> list[str]:
        return [etree.QName(c).localname for c in element if isinstance(c.tag, str)]

    assert shape(fault) == shape(their_fault) == ["faultcode", "faultstring", "detail"]
    assert shape(fault.find("detail"))[:2] == shape(their_fault.find("detail"))[:2] == ["ResponseCode", "Message"]
    assert fault.findtext("detail/{*}ResponseCode") == their_fault.findtext("detail/{*}ResponseCode") == (
        "ErrorSchemaValidation")
