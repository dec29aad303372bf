"""10,000 items in one calendar: SyncFolderItems pages of 512, a CalendarView and an extended-property lookup
are answered from indexes (the sandbox must never be a benchmark's bottleneck)."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import requests
from requests_ntlm import HttpNtlmAuth

from calendar_app.sandbox import SandboxServer
from tests.sandbox.conftest import ALICE, ALICE_MAILBOX

ITEMS = 10_000
PROPERTY_SET = "c11ff724-aa03-4555-9952-8fa248a11c3e"
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" '
    'xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
    '<s:Header><t:RequestServerVersion Version="Exchange2016"/></s:Header><s:Body>{}</s:Body></s:Envelope>'
)


def _load(sandbox: SandboxServer) -> None:
    first = dt.datetime(2027, 1, 1, 8, 0, tzinfo=dt.UTC)
    for n in range(ITEMS):
        start = first + dt.timedelta(hours=3 * n)
        end = start + dt.timedelta(hours=1)
        sandbox.add_calendar_item(ALICE_MAILBOX, (
            '<t:CalendarItem xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
            f"<t:Subject>Visit {n}</t:Subject><t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="
            f'"{PROPERTY_SET}" PropertyName="CalendarAppLocalUuid" PropertyType="String"/>'
            f"<t:Value>uuid-{n}</t:Value></t:ExtendedProperty>"
            f"<t:Start>{start:%Y-%m-%dT%H:%M:%SZ}</t:Start><t:End>{end:%Y-%m-%dT%H:%M:%SZ}</t:End>"
            "</t:CalendarItem>"), notify=False)


def _post(session: requests.Session, sandbox: SandboxServer, ca: Path, body: str) -> str:
    response = session.post(sandbox.url, data=ENVELOPE.format(body).encode(), verify=str(ca), timeout=60,
                            headers={"Content-Type": "text/xml; charset=utf-8"})
    assert response.status_code == 200, response.text[:500]
    return response.text


def test_ten_thousand_items_page_through_sync_view_and_lookup(sandbox: SandboxServer, trusted_ca: Path) -> None:
    _load(sandbox)
    with requests.Session() as session:
        session.auth = HttpNtlmAuth(ALICE.account, ALICE.password)
        sync_state, pages, seen = "", 0, 0
        while True:
            text = _post(session, sandbox, trusted_ca,
                         "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
                         '<m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId>'
                         f"<m:SyncState>{sync_state}</m:SyncState><m:MaxChangesReturned>512</m:MaxChangesReturned>"
                         "</m:SyncFolderItems>")
            pages += 1
            seen += text.count("<t:Create>")
            sync_state = re.search(r"<m:SyncState>([^<]+)</m:SyncState>", text).group(1)  # type: ignore[union-attr]
            if "<m:IncludesLastItemInRange>true" in text:
                break
        assert (seen, pages) == (ITEMS, 20)
        base64.b64decode(sync_state)

        # A week in the middle: 56 items of 3-hourly visits, straight from the start-time index.
        view = _post(session, sandbox, trusted_ca,
                     "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
                     '<t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/></t:AdditionalProperties>'
                     '</m:ItemShape><m:CalendarView StartDate="2028-01-01T00:00:00Z" EndDate="2028-01-08T00:00:00Z"/>'
                     '<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>')
        assert view.count("<t:CalendarItem>") == 56

        lookup = _post(session, sandbox, trusted_ca,
                       '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
                       "<t:AdditionalProperties><t:FieldURI FieldURI=\"item:Subject\"/></t:AdditionalProperties>"
                       '</m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/>'
                       f'<m:Restriction><t:IsEqualTo><t:ExtendedFieldURI PropertySetId="{PROPERTY_SET}" '
                       'PropertyName="CalendarAppLocalUuid" PropertyType="String"/><t:FieldURIOrConstant>'
                       '<t:Constant Value="uuid-7777"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction>'
                       '<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>')
        assert re.findall(r"<t:Subject>([^<]+)</t:Subject>", lookup) == ["Visit 7777"]

        page = _post(session, sandbox, trusted_ca,
                     '<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>'
                     '<m:IndexedPageItemView MaxEntriesReturned="100" Offset="9950" BasePoint="Beginning"/>'
                     '<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>')
        assert page.count("<t:CalendarItem>") == 50
        assert 'IndexedPagingOffset="10000"' in page and 'IncludesLastItemInRange="true"' in page
