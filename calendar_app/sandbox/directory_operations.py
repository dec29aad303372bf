"""ResolveNames (against the sandbox's mailboxes) and ConvertId (between the id formats of our own ids)."""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

from lxml import etree

from calendar_app.sandbox.operation_context import OperationContext
from calendar_app.sandbox.soap import XSI_NS, OperationError, error_message, m, new_response, parse_bool, t
from calendar_app.sandbox.stored_item import mailbox_of_item_id

ID_FORMATS = ("EwsLegacyId", "EwsId", "EntryId", "HexEntryId", "StoreId", "OwaId")


def display_name_for(address: str) -> str:
    local = address.split("@", 1)[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").split("."))


def resolve_names(context: OperationContext) -> Any:
    body = context.body
    entry = (body.findtext(m("UnresolvedEntry")) or "").strip()
    full_contact = parse_bool(body.get("ReturnFullContactData"), default=False)
    query = entry.lower().removeprefix("smtp:")
    matches = []
    for mailbox in sorted(context.store.mailboxes.values(), key=lambda mb: mb.address.lower()):
        address = mailbox.address.lower()
        name = mailbox.display_name.lower()
        if query and (address == query or address.startswith(query) or name.startswith(query)
                      or address.split("@", 1)[0] == query):
            matches.append(mailbox)
    response, messages = new_response("ResolveNames")
    if not matches:
        error_message(messages, "ResolveNames", OperationError("ErrorNameResolutionNoResults",
                                                               "No results were found."))
        return response
    if len(matches) == 1:
        message = etree.SubElement(messages, m("ResolveNamesResponseMessage"), ResponseClass="Success")
        etree.SubElement(message, m("ResponseCode")).text = "NoError"
    else:
        message = etree.SubElement(messages, m("ResolveNamesResponseMessage"), ResponseClass="Warning")
        etree.SubElement(message, m("MessageText")).text = "Multiple results were found."
        etree.SubElement(message, m("ResponseCode")).text = "ErrorNameResolutionMultipleResults"
        etree.SubElement(message, m("DescriptiveLinkKey")).text = "0"
    resolution_set = etree.SubElement(message, m("ResolutionSet"), TotalItemsInView=str(len(matches)),
                                      IncludesLastItemInRange="true")
    for mailbox in matches:
        resolution = etree.SubElement(resolution_set, t("Resolution"))
        mailbox_element = etree.SubElement(resolution, t("Mailbox"))
        etree.SubElement(mailbox_element, t("Name")).text = mailbox.display_name
        etree.SubElement(mailbox_element, t("EmailAddress")).text = mailbox.address
        etree.SubElement(mailbox_element, t("RoutingType")).text = "SMTP"
        etree.SubElement(mailbox_element, t("MailboxType")).text = "Mailbox"
        if full_contact:
            contact = etree.SubElement(resolution, t("Contact"))
            etree.SubElement(contact, t("DisplayName")).text = mailbox.display_name
            addresses = etree.SubElement(contact, t("EmailAddresses"))
            etree.SubElement(addresses, t("Entry"), Key="EmailAddress1").text = f"SMTP:{mailbox.address}"
            etree.SubElement(contact, t("ContactSource")).text = "ActiveDirectory"
    return response


def _raw_id(identifier: str, source_format: str) -> bytes:
    try:
        if source_format in ("EwsId", "EwsLegacyId", "EntryId", "StoreId"):
            return base64.b64decode(identifier, validate=True)
        if source_format == "HexEntryId":
            return bytes.fromhex(identifier)
        if source_format == "OwaId":
            return base64.b64decode(urllib.parse.unquote(identifier), validate=True)
    except ValueError:
        pass
    raise OperationError("ErrorInvalidIdMalformed", "Id is malformed.")


def _format_id(raw: bytes, destination: str) -> str:
    if destination == "HexEntryId":
        return raw.hex().upper()
    text = base64.b64encode(raw).decode()
    return urllib.parse.quote(text, safe="") if destination == "OwaId" else text


def convert_id(context: OperationContext) -> Any:
    destination = context.body.get("DestinationFormat", "")
    response, messages = new_response("ConvertId")
    sources = context.body.find(m("SourceIds"))
    for source in sources if sources is not None else []:
        if not isinstance(source.tag, str):
            continue
        try:
            if destination not in ID_FORMATS:
                raise OperationError("ErrorInvalidIdMalformed", "Id is malformed.")
            raw = _raw_id(source.get("Id", ""), source.get("Format", ""))
            if mailbox_of_item_id(base64.b64encode(raw).decode()) is None:
                raise OperationError("ErrorInvalidIdMalformed", "Id is malformed.")
        except OperationError as error:
            error_message(messages, "ConvertId", error)
            continue
        message = etree.SubElement(messages, m("ConvertIdResponseMessage"), ResponseClass="Success")
        etree.SubElement(message, m("ResponseCode")).text = "NoError"
        alternate = etree.SubElement(message, m("AlternateId"), Format=destination, Id=_format_id(raw, destination),
                                     Mailbox=source.get("Mailbox", ""))
        alternate.set(f"{{{XSI_NS}}}type", "t:AlternateIdType")
    return response
