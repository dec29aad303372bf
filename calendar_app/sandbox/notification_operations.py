"""Subscribe (pull, streaming, push), GetEvents, GetStreamingEvents and Unsubscribe.

GetStreamingEvents answers with a generator of response elements: the HTTP layer writes each one as its own
SOAP envelope in a chunked response, as Exchange does, ending with ConnectionStatus Closed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from lxml import etree

from calendar_app.sandbox.mailbox_store import FOLDER_CHANGE_KEY, ChangeEvent, folder_id_for
from calendar_app.sandbox.notifications import Subscription, decode_watermark, encode_watermark
from calendar_app.sandbox.operation_context import OperationContext
from calendar_app.sandbox.soap import (
    OperationError,
    SoapFault,
    bool_text,
    error_message,
    m,
    new_response,
    success_message,
    t,
)
from calendar_app.sandbox.stored_item import format_datetime

NOT_FOUND = "The specified subscription was not found."
ACCESS_DENIED = "Access is denied. Only the subscription owner may access the subscription."
ALL_EVENT_TYPES = frozenset({"CopiedEvent", "CreatedEvent", "DeletedEvent", "ModifiedEvent", "MovedEvent",
                             "NewMailEvent", "FreeBusyChangedEvent"})


def subscribe(context: OperationContext) -> Any:
    response, messages = new_response("Subscribe")
    request = next((c for c in context.body if isinstance(c.tag, str)), None)
    try:
        if request is None:
            raise OperationError("ErrorInvalidSubscriptionRequest", "The subscription request is invalid.")
        kind = {"PullSubscriptionRequest": "pull", "StreamingSubscriptionRequest": "streaming",
                "PushSubscriptionRequest": "push"}.get(etree.QName(request).localname)
        if kind is None:
            raise OperationError("ErrorInvalidSubscriptionRequest", "The subscription request is invalid.")
        mailbox = context.acting_mailbox()
        folders: frozenset[str] | None = None
        if request.get("SubscribeToAllFolders", "false").lower() not in ("true", "1"):
            names = set()
            folder_ids = request.find(t("FolderIds"))
            for folder_id in folder_ids if folder_ids is not None else []:
                if isinstance(folder_id.tag, str):
                    folder_mailbox, folder = context.resolve_folder(folder_id)
                    if folder_mailbox is not mailbox:
                        raise OperationError("ErrorSubscriptionDelegateAccessNotSupported",
                                             "Subscriptions are not supported for delegate user access.")
                    names.add(folder.name)
            folders = frozenset(names)
        event_types_element = request.find(t("EventTypes"))
        event_types = frozenset(
            (e.text or "").strip() for e in (event_types_element if event_types_element is not None else [])
            if isinstance(e.tag, str)) or ALL_EVENT_TYPES
        timeout = int(request.findtext(t("Timeout")) or "30")
        subscription = context.hub.subscribe(mailbox=mailbox.address, owner=context.user.account, folders=folders,
                                             event_types=event_types, kind=kind, timeout_minutes=timeout)
    except OperationError as error:
        error_message(messages, "Subscribe", error)
        return response
    message = success_message(messages, "Subscribe")
    etree.SubElement(message, m("SubscriptionId")).text = subscription.subscription_id
    if kind != "streaming":
        etree.SubElement(message, m("Watermark")).text = encode_watermark(0)
    return response


def _owned_subscription(context: OperationContext, subscription_id: str) -> Subscription:
    subscription = context.hub.get(subscription_id.strip())
    if subscription is None:
        raise OperationError("ErrorSubscriptionNotFound", NOT_FOUND)
    if subscription.owner.lower() != context.user.account.lower():
        raise OperationError("ErrorSubscriptionAccessDenied", ACCESS_DENIED)
    return subscription


def unsubscribe(context: OperationContext) -> Any:
    response, messages = new_response("Unsubscribe")
    try:
        subscription = _owned_subscription(context, context.body.findtext(m("SubscriptionId")) or "")
        context.hub.unsubscribe(subscription.subscription_id)
    except OperationError as error:
        error_message(messages, "Unsubscribe", error)
        return response
    success_message(messages, "Unsubscribe")
    return response


def _event_element(event: ChangeEvent, watermark: int | None) -> Any:
    element = etree.Element(t(event.kind))
    if watermark is not None:
        etree.SubElement(element, t("Watermark")).text = encode_watermark(watermark)
    etree.SubElement(element, t("TimeStamp")).text = format_datetime(event.timestamp)
    etree.SubElement(element, t("ItemId"), Id=event.item_id, ChangeKey=event.change_key)
    etree.SubElement(element, t("ParentFolderId"), Id=folder_id_for(event.mailbox, event.folder),
                     ChangeKey=FOLDER_CHANGE_KEY)
    if event.kind in ("MovedEvent", "CopiedEvent"):
        etree.SubElement(element, t("OldItemId"), Id=event.old_item_id or "")
        etree.SubElement(element, t("OldParentFolderId"), Id=folder_id_for(event.mailbox, event.old_folder or ""),
                         ChangeKey=FOLDER_CHANGE_KEY)
    return element


def get_events(context: OperationContext) -> Any:
    response, messages = new_response("GetEvents")
    try:
        subscription = _owned_subscription(context, context.body.findtext(m("SubscriptionId")) or "")
        if subscription.kind != "pull":
            raise OperationError("ErrorInvalidSubscription", "The subscription is not a pull subscription.")
        watermark_text = context.body.findtext(m("Watermark")) or ""
        after = decode_watermark(watermark_text)
        if after is None:
            raise OperationError("ErrorInvalidWatermark", "The watermark is invalid.")
        events, last = context.hub.pull(subscription, after)
    except OperationError as error:
        error_message(messages, "GetEvents", error)
        return response
    message = success_message(messages, "GetEvents")
    notification = etree.SubElement(message, m("Notification"))
    etree.SubElement(notification, t("SubscriptionId")).text = subscription.subscription_id
    etree.SubElement(notification, t("PreviousWatermark")).text = encode_watermark(after)
    etree.SubElement(notification, t("MoreEvents")).text = bool_text(False)
    if not events:
        status = etree.SubElement(notification, t("StatusEvent"))
        etree.SubElement(status, t("Watermark")).text = encode_watermark(last)
    for watermark, event in events:
        notification.append(_event_element(event, watermark))
    return response


def get_streaming_events(context: OperationContext) -> Iterator[Any]:
    """One response element per chunk: an immediate OK, then events as they happen, heartbeats while idle, and
    finally Closed when ConnectionTimeout minutes have passed or the subscription is gone. The request is
    checked before anything is streamed, so a bad one still gets an ordinary fault."""
    ids_element = context.body.find(m("SubscriptionIds"))
    id_elements = [e for e in (ids_element if ids_element is not None else []) if isinstance(e.tag, str)]
    for element in id_elements:
        if element.tag != t("SubscriptionId"):
            raise SoapFault("ErrorSchemaValidation", "The request failed schema validation: The element "
                            f"'SubscriptionIds' has invalid child element '{etree.QName(element).localname}' in "
                            f"namespace '{etree.QName(element).namespace}'.")
    subscription_ids = [(e.text or "").strip() for e in id_elements]
    timeout_minutes = int(context.body.findtext(m("ConnectionTimeout")) or "30")
    problems: list[str] = []
    for subscription_id in subscription_ids:
        subscription = context.hub.get(subscription_id)
        if subscription is None or subscription.kind != "streaming" or \
                subscription.owner.lower() != context.user.account.lower():
            problems.append(subscription_id)
    if problems or not 1 <= timeout_minutes <= 30:
        response, messages = new_response("GetStreamingEvents")
        message = error_message(messages, "GetStreamingEvents", OperationError(
            "ErrorInvalidSubscription", "The subscription is invalid." if problems
            else "ConnectionTimeout must be between 1 and 30 minutes."))
        if problems:
            error_ids = etree.SubElement(message, m("ErrorSubscriptionIds"))
            for subscription_id in problems:
                etree.SubElement(error_ids, t("SubscriptionId")).text = subscription_id
        etree.SubElement(message, m("ConnectionStatus")).text = "Closed"
        return iter([response])
    return _stream(context, subscription_ids, timeout_minutes)


def _stream(context: OperationContext, subscription_ids: list[str], timeout_minutes: int) -> Iterator[Any]:
    deadline = time.monotonic() + timeout_minutes * 60
    yield _streaming_message([], "OK")
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or context.hub.closed:
            break
        taken = context.hub.wait_streaming(subscription_ids, min(remaining, context.heartbeat_seconds))
        if not all(context.hub.is_active(i) for i in subscription_ids):
            break
        yield _streaming_message(taken, "OK")
    yield _streaming_message([], "Closed")


def _streaming_message(taken: list[tuple[Subscription, ChangeEvent]], status: str) -> Any:
    response, messages = new_response("GetStreamingEvents")
    message = success_message(messages, "GetStreamingEvents")
    if taken:
        notifications = etree.SubElement(message, m("Notifications"))
        by_subscription: dict[str, Any] = {}
        for subscription, event in taken:
            notification = by_subscription.get(subscription.subscription_id)
            if notification is None:
                notification = etree.SubElement(notifications, t("Notification"))
                etree.SubElement(notification, t("SubscriptionId")).text = subscription.subscription_id
                by_subscription[subscription.subscription_id] = notification
            notification.append(_event_element(event, None))
    etree.SubElement(message, m("ConnectionStatus")).text = status
    return response
