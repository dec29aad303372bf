"""Which function answers which EWS operation.

An operation the sandbox does not implement is answered the way an Exchange server whose schema lacks the
operation answers: a SOAP fault `ErrorSchemaValidation` (HTTP 500). Not `ErrorInvalidRequest` or
`ErrorInvalidServerVersion`: exchangelib takes those as "wrong API version" and retries the request with
every older version it knows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from calendar_app.sandbox import (
    directory_operations,
    find_operations,
    folder_operations,
    item_operations,
    notification_operations,
    sync_operations,
)
from calendar_app.sandbox.operation_context import OperationContext
from calendar_app.sandbox.soap import SoapFault, schema_violation_text

Operation = Callable[[OperationContext], Any]

OPERATIONS: dict[str, Operation] = {
    "GetFolder": folder_operations.get_folder,
    "FindItem": find_operations.find_item,
    "GetItem": item_operations.get_item,
    "CreateItem": item_operations.create_item,
    "UpdateItem": item_operations.update_item,
    "DeleteItem": item_operations.delete_item,
    "SyncFolderItems": sync_operations.sync_folder_items,
    "Subscribe": notification_operations.subscribe,
    "GetEvents": notification_operations.get_events,
    "Unsubscribe": notification_operations.unsubscribe,
    "ResolveNames": directory_operations.resolve_names,
    "ConvertId": directory_operations.convert_id,
}
STREAMING_OPERATIONS: dict[str, Operation] = {
    "GetStreamingEvents": notification_operations.get_streaming_events,
}
# Operations that act on no particular mailbox: a caller without one of its own may use them.
MAILBOX_FREE = frozenset({"ResolveNames", "ConvertId", "GetEvents", "GetStreamingEvents", "Unsubscribe"})


def operation_for(name: str, body: Any) -> tuple[Operation, bool]:
    if name in OPERATIONS:
        return OPERATIONS[name], False
    if name in STREAMING_OPERATIONS:
        return STREAMING_OPERATIONS[name], True
    raise SoapFault("ErrorSchemaValidation", schema_violation_text(body))
