"""CreateItem (calendar items, CancelCalendarItem, meeting responses), GetItem, UpdateItem and DeleteItem.

Exchange's rules kept here: every change gives the item a new change key; a stale change key fails with
ErrorIrresolvableConflict under NeverOverwrite, and under AutoResolve when one of the fields being set was
changed since that change key; invitations and cancellations go to the attendees the request's
Send... attribute names, and each one is recorded as a sent message per recipient."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

from lxml import etree

from calendar_app.sandbox.mailbox_store import Mailbox, MailboxStore, SentMessage
from calendar_app.sandbox.operation_context import OperationContext, parse_item_shape
from calendar_app.sandbox.soap import (
    OperationError,
    SoapFault,
    error_message,
    m,
    new_response,
    parse_bool,
    success_message,
    t,
)
from calendar_app.sandbox.stored_item import (
    StoredItem,
    extended_key,
    field_uri_to_element,
    format_datetime,
    new_item_id,
    parse_datetime,
    utc_now,
    version_of_change_key,
)

CONFLICT = ("The send or update operation could not be performed because the change key passed in the request "
            "does not match the current change key for the item.")
RESPONSE_OBJECTS = ("AcceptItem", "TentativelyAcceptItem", "DeclineItem")
MAINTAINED = frozenset({"ItemId", "ParentFolderId", "DateTimeCreated", "LastModifiedTime", "Size", "ItemClass",
                        "DisplayTo", "DisplayCc", "IsMeeting", "Duration", "MyResponseType", "Organizer",
                        "CalendarItemType", "AppointmentState", "HasAttachments", "IsAssociated"})
TIME_OR_PLACE = frozenset({"Start", "End", "Location", "IsAllDayEvent", "Recurrence", "StartTimeZone", "EndTimeZone"})


# ---------------------------------------------------------------- CreateItem
def create_item(context: OperationContext) -> Any:
    body = context.body
    send_invitations = body.get("SendMeetingInvitations")
    disposition = body.get("MessageDisposition")
    response, messages = new_response("CreateItem")
    saved_folder = body.find(m("SavedItemFolderId"))
    items = body.find(m("Items"))
    for element in items if items is not None else []:
        if not isinstance(element.tag, str):
            continue
        try:
            created = _create_one(context, element, saved_folder, send_invitations, disposition)
        except OperationError as error:
            message = error_message(messages, "CreateItem", error)
            etree.SubElement(message, m("Items"))
            continue
        message = success_message(messages, "CreateItem")
        container = etree.SubElement(message, m("Items"))
        for mailbox, item in created:
            container.append(context.id_only(mailbox, item))
    return response


def _create_one(context: OperationContext, element: Any, saved_folder: Any, send_invitations: str | None,
                disposition: str | None) -> list[tuple[Mailbox, StoredItem]]:
    local = etree.QName(element).localname
    if local == "CancelCalendarItem":
        return _cancel_calendar_item(context, element)
    if local in RESPONSE_OBJECTS:
        return _respond_to_meeting(context, element, local, disposition)
    if local == "CalendarItem" and send_invitations is None:
        # Exchange requires the attribute for calendar items.
        raise OperationError("ErrorSendMeetingInvitationsRequired",
                             "SendMeetingInvitations attribute is required for calendar items.")
    if saved_folder is not None and len(saved_folder):
        mailbox, folder = context.resolve_folder(saved_folder[0])
    else:
        mailbox = context.acting_mailbox()
        folder = mailbox.folders["calendar" if local == "CalendarItem" else "drafts"]
        if local != "CalendarItem" and disposition in ("SendOnly", "SendAndSaveCopy"):
            folder = mailbox.folders["sentitems"]
    with mailbox.lock:
        item = _new_item(mailbox, folder.name, local, element)
        if local == "CalendarItem":
            _validate_times(item)
            if send_invitations in ("SendOnlyToAll", "SendToAllAndSaveCopy") and item.attendee_addresses():
                _send(context.store, mailbox, item, "invitation", item.attendee_addresses(),
                      save_copy=send_invitations == "SendToAllAndSaveCopy")
                _set(item, "MeetingRequestWasSent", "true")
        if disposition == "SendOnly":
            return []
        mailbox.add(item)
    return [(mailbox, item)]


def _new_item(mailbox: Mailbox, folder: str, item_type: str, element: Any) -> StoredItem:
    elements: dict[str, Any] = {}
    extended = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name == "ExtendedProperty":
            uri = child.find(t("ExtendedFieldURI"))
            if uri is not None:
                extended[extended_key(uri)] = copy.deepcopy(child)
        elif name not in MAINTAINED:
            elements[name] = copy.deepcopy(child)
    item = StoredItem(new_item_id(mailbox.address), folder, item_type, elements, extended)
    now = utc_now()
    _set(item, "DateTimeCreated", format_datetime(now))
    if item_type == "CalendarItem":
        _set(item, "ItemClass", "IPM.Appointment")
        for name, default in (("Sensitivity", "Normal"), ("Importance", "Normal"), ("ReminderIsSet", "true"),
                              ("ReminderMinutesBeforeStart", "15"), ("IsAllDayEvent", "false"),
                              ("LegacyFreeBusyStatus", "Busy"), ("IsCancelled", "false"), ("IsRecurring", "false"),
                              ("MeetingRequestWasSent", "false"), ("IsResponseRequested", "true"),
                              ("AppointmentSequenceNumber", "0"), ("AllowNewTimeProposal", "true"),
                              ("IsOnlineMeeting", "false")):
            if name not in item.elements:
                _set(item, name, default)
        if "UID" not in item.elements:
            _set(item, "UID", "040000008200E00074C5B7101A82E0080000000000000000000000000000000000000000"
                 + uuid.uuid4().hex.upper()[:32])
        if "Recurrence" in item.elements:
            _set(item, "IsRecurring", "true")
        # Exchange keeps no response a client claims for its attendees: each starts as Unknown.
        for group in ("RequiredAttendees", "OptionalAttendees", "Resources"):
            for response_type in item.elements[group].iter(t("ResponseType")) if group in item.elements else []:
                response_type.text = "Unknown"
        organizer = etree.Element(t("Organizer"))
        organizer.append(_mailbox_element(mailbox.display_name, mailbox.address))
        item.elements["Organizer"] = organizer
        _set(item, "MyResponseType", "Organizer")
    else:
        _set(item, "ItemClass", "IPM.Note")
    _refresh_maintained(item)
    return item


def _mailbox_element(name: str, address: str) -> Any:
    mailbox = etree.Element(t("Mailbox"))
    etree.SubElement(mailbox, t("Name")).text = name
    etree.SubElement(mailbox, t("EmailAddress")).text = address
    etree.SubElement(mailbox, t("RoutingType")).text = "SMTP"
    return mailbox


def _set(item: StoredItem, name: str, value: str) -> None:
    element = etree.Element(t(name))
    element.text = value
    item.elements[name] = element


def _refresh_maintained(item: StoredItem) -> None:
    _set(item, "LastModifiedTime", format_datetime(utc_now()))
    _set(item, "HasAttachments", "false")
    _set(item, "IsAssociated", "false")
    if item.item_type != "CalendarItem":
        return
    _set(item, "CalendarItemType", "RecurringMaster" if "Recurrence" in item.elements else "Single")
    attendees = item.attendee_addresses()
    _set(item, "IsMeeting", "true" if attendees else "false")
    names = []
    for group, target in (("RequiredAttendees", "DisplayTo"), ("OptionalAttendees", "DisplayCc")):
        container = item.elements.get(group)
        names = [] if container is None else [
            (a.findtext(f"{t('Mailbox')}/{t('Name')}") or a.findtext(f"{t('Mailbox')}/{t('EmailAddress')}") or "")
            for a in container.findall(t("Attendee"))]
        _set(item, target, "; ".join(n for n in names if n))
    state = (1 if attendees else 0) | (4 if item.text("IsCancelled") == "true" else 0)
    _set(item, "AppointmentState", str(state))
    start, end = item.start, item.end
    if start is not None and end is not None and end >= start:
        _set(item, "Duration", _iso_duration(end - start))
    # Roughly what the item weighs; Exchange counts bytes of the stored message.
    size = 64 * len(item.elements) + sum(len(node.text or "") for e in item.elements.values() for node in e.iter())
    _set(item, "Size", str(size))


def _iso_duration(delta: dt.timedelta) -> str:
    total = int(delta.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    if hours or minutes or seconds or not days:
        text += "T" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
        text += f"{seconds}S" if seconds or not (hours or minutes) else ""
    return text


def _validate_times(item: StoredItem) -> None:
    start, end = item.start, item.end
    if start is not None and end is not None and end < start:
        raise OperationError("ErrorCalendarEndDateIsEarlierThanStartDate",
                             "EndDate is earlier than StartDate")


def _send(store: MailboxStore, mailbox: Mailbox, item: StoredItem, kind: str, recipients: list[str], *,
          save_copy: bool) -> None:
    """Record one sent message per recipient; deliver it to recipients who have a mailbox in this sandbox (a
    MeetingRequest or MeetingCancellation in their Inbox) and keep a copy in Sent Items when asked to."""
    now = utc_now()
    for recipient in recipients:
        mailbox.sent.append(SentMessage(kind, mailbox.address, recipient, item.text("Subject") or "",
                                        item.item_id, item.text("UID") or "", now))
        target = store.get(recipient)
        if target is not None and target is not mailbox:
            target.add(_meeting_message(target, "inbox", item, kind, organizer=mailbox, recipients=recipients),
                       delivered=True)
    if save_copy and recipients:
        mailbox.add(_meeting_message(mailbox, "sentitems", item, kind, organizer=mailbox,
                                     recipients=recipients))
    mailbox.dirty = True


def _meeting_message(owner: Mailbox, folder: str, item: StoredItem, kind: str, *, organizer: Mailbox,
                     recipients: list[str]) -> StoredItem:
    cancellation = kind == "cancellation"
    item_type = "MeetingCancellation" if cancellation else "MeetingRequest"
    message = StoredItem(new_item_id(owner.address), folder, item_type, {}, {})
    _set(message, "ItemClass", "IPM.Schedule.Meeting.Canceled" if cancellation else "IPM.Schedule.Meeting.Request")
    subject = item.text("Subject") or ""
    _set(message, "Subject", f"Canceled: {subject}" if cancellation else subject)
    now = format_datetime(utc_now())
    for name in ("DateTimeReceived", "DateTimeSent", "DateTimeCreated", "LastModifiedTime"):
        _set(message, name, now)
    for name in ("Sensitivity", "Body", "Start", "End", "Location", "UID", "RequiredAttendees", "OptionalAttendees",
                 "IsAllDayEvent", "AppointmentSequenceNumber", "Organizer"):
        if name in item.elements:
            message.elements[name] = copy.deepcopy(item.elements[name])
    sender = etree.Element(t("From"))
    sender.append(_mailbox_element(organizer.display_name, organizer.address))
    message.elements["From"] = sender
    to = etree.Element(t("ToRecipients"))
    for recipient in recipients:
        to.append(_mailbox_element(recipient.split("@", 1)[0], recipient))
    message.elements["ToRecipients"] = to
    _set(message, "IsRead", "false")
    _set(message, "IsOutOfDate", "false")
    _set(message, "HasBeenProcessed", "false")
    _set(message, "ResponseType", "Organizer" if folder == "sentitems" else "NoResponseReceived")
    if not cancellation:
        _set(message, "MeetingRequestType", "NewMeetingRequest" if kind == "invitation" else "FullUpdate")
        _set(message, "IntendedFreeBusyStatus", item.text("LegacyFreeBusyStatus") or "Busy")
        _set(message, "IsMeeting", "true")
        _set(message, "CalendarItemType", "Single")
    _set(message, "HasAttachments", "false")
    return message


def _cancel_calendar_item(context: OperationContext, element: Any) -> list[tuple[Mailbox, StoredItem]]:
    reference = element.find(t("ReferenceItemId"))
    if reference is None:
        raise OperationError("ErrorInvalidReferenceItem",
                             "The reference item does not support the requested operation.")
    mailbox, item = context.resolve_item(reference)
    with mailbox.lock:
        _check_change_key(item, reference.get("ChangeKey"), "NeverOverwrite", set())
        if item.item_type != "CalendarItem":
            raise OperationError("ErrorInvalidReferenceItem",
                                 "The reference item does not support the requested operation.")
        _send(context.store, mailbox, item, "cancellation", item.attendee_addresses(), save_copy=True)
        # The organizer's copy of a cancelled meeting goes to Deleted Items, marked cancelled.
        def mark_cancelled(target: StoredItem) -> None:
            _set(target, "IsCancelled", "true")
            _refresh_maintained(target)

        mailbox.replace(item, mark_cancelled)
        mailbox.move(item, "deleteditems", new_item_id(mailbox.address))
    return []  # sent, not saved as a new item: Exchange answers with an empty m:Items


def _respond_to_meeting(context: OperationContext, element: Any, kind: str,
                        disposition: str | None) -> list[tuple[Mailbox, StoredItem]]:
    reference = element.find(t("ReferenceItemId"))
    if reference is None:
        raise OperationError("ErrorInvalidReferenceItem",
                             "The reference item does not support the requested operation.")
    mailbox, item = context.resolve_item(reference)
    response = {"AcceptItem": "Accept", "TentativelyAcceptItem": "Tentative", "DeclineItem": "Decline"}[kind]
    if item.text("MyResponseType") == "Organizer":
        raise OperationError("ErrorCalendarIsOrganizerForAccept",
                             "The user is the organizer of this meeting, and cannot, therefore, accept it.")
    if item.item_type != "MeetingRequest":
        raise OperationError("ErrorInvalidReferenceItem",
                             "The reference item does not support the requested operation.")
    with mailbox.lock:
        uid = item.text("UID")
        calendar = mailbox.folders["calendar"]
        existing = next((i for i in calendar.items.values() if uid and i.text("UID") == uid), None)
        if existing is None:
            existing = StoredItem(new_item_id(mailbox.address), "calendar", "CalendarItem", {}, {})
            for name in ("Subject", "Body", "Start", "End", "Location", "UID", "Organizer", "RequiredAttendees",
                         "OptionalAttendees", "IsAllDayEvent", "AppointmentSequenceNumber"):
                if name in item.elements:
                    existing.elements[name] = copy.deepcopy(item.elements[name])
            _set(existing, "ItemClass", "IPM.Appointment")
            _set(existing, "DateTimeCreated", format_datetime(utc_now()))
            _set(existing, "MyResponseType", response)
            _refresh_maintained(existing)
            if response != "Decline":
                mailbox.add(existing)
        else:
            mailbox.replace(existing, lambda i: _set(i, "MyResponseType", response))
        mailbox.replace(item, lambda i: _set(i, "HasBeenProcessed", "true"))
        organizer = item.elements.get("Organizer")
        address = organizer.findtext(f"{t('Mailbox')}/{t('EmailAddress')}") if organizer is not None else None
        if address:
            mailbox.sent.append(SentMessage(f"response:{response}", mailbox.address, address,
                                            item.text("Subject") or "", item.item_id, uid or "", utc_now()))
    if disposition in ("SendOnly", "SendAndSaveCopy"):
        return []
    saved = [(mailbox, existing)] if response != "Decline" else []
    return [*saved, (mailbox, item)]


# ---------------------------------------------------------------- GetItem
def get_item(context: OperationContext) -> Any:
    shape = parse_item_shape(context.body.find(m("ItemShape")))
    response, messages = new_response("GetItem")
    item_ids = context.body.find(m("ItemIds"))
    for item_id in item_ids if item_ids is not None else []:
        if not isinstance(item_id.tag, str):
            continue
        try:
            mailbox, item = context.resolve_item(item_id)
            with mailbox.lock:
                rendered = context.render_item(mailbox, item, shape)
        except OperationError as error:
            message = error_message(messages, "GetItem", error)
            etree.SubElement(message, m("Items"))
            continue
        message = success_message(messages, "GetItem")
        etree.SubElement(message, m("Items")).append(rendered)
    return response


# ---------------------------------------------------------------- UpdateItem
def update_item(context: OperationContext) -> Any:
    body = context.body
    resolution = body.get("ConflictResolution", "AutoResolve")
    send_mode = body.get("SendMeetingInvitationsOrCancellations")
    response, messages = new_response("UpdateItem")
    changes = body.find(m("ItemChanges"))
    for change in changes if changes is not None else []:
        if not isinstance(change.tag, str):
            continue
        try:
            mailbox, item = _update_one(context, change, resolution, send_mode)
        except OperationError as error:
            message = error_message(messages, "UpdateItem", error)
            etree.SubElement(message, m("Items"))
            continue
        message = success_message(messages, "UpdateItem")
        etree.SubElement(message, m("Items")).append(context.id_only(mailbox, item))
        conflicts = etree.SubElement(message, m("ConflictResults"))
        etree.SubElement(conflicts, t("Count")).text = "0"
    return response


def _update_one(context: OperationContext, change: Any, resolution: str,
                send_mode: str | None) -> tuple[Mailbox, StoredItem]:
    id_element = next((c for c in change if isinstance(c.tag, str) and etree.QName(c).localname.endswith("Id")), None)
    if id_element is None:
        raise OperationError("ErrorInvalidIdMalformed", "Id is malformed.")
    mailbox, item = context.resolve_item(id_element)
    updates = change.find(t("Updates"))
    operations = [u for u in (updates if updates is not None else []) if isinstance(u.tag, str)]
    touched = {_field_identity(u) for u in operations}
    with mailbox.lock:
        _check_change_key(item, id_element.get("ChangeKey"), resolution, touched)
        before_attendees = set(a.lower() for a in item.attendee_addresses())

        def mutate(target: StoredItem) -> None:
            for operation in operations:
                _apply(target, operation)
            _validate_times(target)
            if target.item_type == "CalendarItem" and "Recurrence" in target.elements:
                _set(target, "IsRecurring", "true")
            _refresh_maintained(target)
            for name in touched:
                target.field_versions[name] = target.version + 1

        # Validate on a copy first so a rejected update changes nothing.
        trial = copy.deepcopy(item)
        mutate(trial)
        mailbox.replace(item, mutate)
        if item.item_type == "CalendarItem" and send_mode and send_mode != "SendToNone":
            after = item.attendee_addresses()
            added = [a for a in after if a.lower() not in before_attendees]
            removed = [a for a in before_attendees if a not in {x.lower() for x in after}]
            time_or_place = bool(touched & TIME_OR_PLACE)
            if send_mode in ("SendOnlyToAll", "SendToAllAndSaveCopy"):
                recipients = after
            else:  # SendOnlyToChanged / SendToChangedAndSaveCopy
                recipients = after if time_or_place else added
            if recipients:
                _send(context.store, mailbox, item,
                      "update" if recipients != added or time_or_place else "invitation", recipients,
                      save_copy=send_mode.endswith("SaveCopy"))
                if time_or_place:
                    sequence = int(item.text("AppointmentSequenceNumber") or "0") + 1
                    _set(item, "AppointmentSequenceNumber", str(sequence))
                _set(item, "MeetingRequestWasSent", "true")
            if removed:
                _send(context.store, mailbox, item, "cancellation", removed,
                      save_copy=send_mode.endswith("SaveCopy"))
    return mailbox, item


def _field_identity(operation: Any) -> str:
    uri = next((c for c in operation if isinstance(c.tag, str)), None)
    if uri is None:
        raise OperationError("ErrorInvalidPropertySet", "The property set is invalid.")
    local = etree.QName(uri).localname
    if local == "ExtendedFieldURI":
        return repr(extended_key(uri))
    return field_uri_to_element(uri.get("FieldURI", ""))


def _check_change_key(item: StoredItem, change_key: str | None, resolution: str, touched: set[str]) -> None:
    if not change_key or change_key == item.change_key or resolution == "AlwaysOverwrite":
        return
    client_version = version_of_change_key(change_key)
    if client_version is None:
        raise OperationError("ErrorInvalidChangeKey", "ChangeKey is invalid.")
    if resolution == "NeverOverwrite":
        raise OperationError("ErrorIrresolvableConflict", CONFLICT)
    # AutoResolve: fine unless a field this update sets was changed after the client's version.
    if any(item.field_versions.get(name, 0) > client_version for name in touched):
        raise OperationError("ErrorIrresolvableConflict", CONFLICT)


def _apply(item: StoredItem, operation: Any) -> None:
    kind = etree.QName(operation).localname
    uri = next((c for c in operation if isinstance(c.tag, str)), None)
    if uri is None:
        raise OperationError("ErrorInvalidPropertySet", "The property set is invalid.")
    uri_kind = etree.QName(uri).localname
    wrapper = next((c for c in operation if isinstance(c.tag, str) and c is not uri), None)
    if uri_kind == "ExtendedFieldURI":
        key = extended_key(uri)
        if kind == "DeleteItemField":
            item.extended.pop(key, None)
            return
        value = wrapper.find(t("ExtendedProperty")) if wrapper is not None else None
        if value is None:
            raise OperationError("ErrorIncorrectUpdatePropertyCount",
                                 "An object within a change description must contain one and only one property to "
                                 "modify.")
        item.extended[key] = copy.deepcopy(value)
        return
    name = field_uri_to_element(uri.get("FieldURI", ""))
    if name in MAINTAINED and name not in ("ItemClass",):
        raise OperationError("ErrorInvalidPropertySet", f"The property {uri.get('FieldURI')} cannot be set.")
    if kind == "DeleteItemField":
        item.elements.pop(name, None)
        return
    value = wrapper.find(t(name)) if wrapper is not None else None
    if value is None:
        raise OperationError("ErrorIncorrectUpdatePropertyCount",
                             "An object within a change description must contain one and only one property to modify.")
    if kind == "AppendToItemField" and name in item.elements:
        existing = item.elements[name]
        if len(value):
            for child in value:
                existing.append(copy.deepcopy(child))
        else:
            existing.text = (existing.text or "") + (value.text or "")
        return
    if kind not in ("SetItemField", "AppendToItemField"):
        raise OperationError("ErrorInvalidPropertySet", f"Unknown change {kind}.")
    if name in ("Start", "End") and value.text:
        parse_datetime(value.text)  # reject a malformed value now
    item.elements[name] = copy.deepcopy(value)


# ---------------------------------------------------------------- DeleteItem
def delete_item(context: OperationContext) -> Any:
    body = context.body
    delete_type = body.get("DeleteType", "")
    if delete_type not in ("HardDelete", "SoftDelete", "MoveToDeletedItems"):
        raise SoapFault("ErrorSchemaValidation", "The request failed schema validation: The 'DeleteType' attribute "
                        f"is invalid - The value '{delete_type}' is invalid.")
    cancellations = body.get("SendMeetingCancellations")
    response, messages = new_response("DeleteItem")
    item_ids = body.find(m("ItemIds"))
    for item_id in item_ids if item_ids is not None else []:
        if not isinstance(item_id.tag, str):
            continue
        try:
            mailbox, item = context.resolve_item(item_id)
            if item.item_type == "CalendarItem" and cancellations is None:
                raise OperationError("ErrorSendMeetingCancellationsRequired",
                                     "SendMeetingCancellations attribute is required for calendar items.")
            with mailbox.lock:
                is_organizer = item.text("MyResponseType") == "Organizer"
                if cancellations in ("SendOnlyToAll", "SendToAllAndSaveCopy") and is_organizer \
                        and parse_bool(item.text("IsMeeting")):
                    _send(context.store, mailbox, item, "cancellation", item.attendee_addresses(),
                          save_copy=cancellations == "SendToAllAndSaveCopy")
                if delete_type == "MoveToDeletedItems" and item.folder != "deleteditems":
                    mailbox.move(item, "deleteditems", new_item_id(mailbox.address))
                else:
                    mailbox.remove(item)
        except OperationError as error:
            error_message(messages, "DeleteItem", error)
            continue
        success_message(messages, "DeleteItem")
    return response
