"""FindItem: CalendarView (by the start-time index), IndexedPageItemView with paging, restrictions (an
IsEqualTo on an extended property is answered from the extended-property index), SortOrder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree

from calendar_app.sandbox.item_schema import DATETIME_ELEMENTS
from calendar_app.sandbox.mailbox_store import Folder
from calendar_app.sandbox.operation_context import OperationContext, parse_item_shape
from calendar_app.sandbox.soap import OperationError, bool_text, error_message, m, new_response, success_message, t
from calendar_app.sandbox.stored_item import StoredItem, extended_key, field_uri_to_element, parse_datetime

# Exchange refuses a CalendarView spanning more than two years.
MAX_CALENDAR_VIEW = dt.timedelta(days=730)
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "IsEqualTo": lambda a, b: a == b,
    "IsNotEqualTo": lambda a, b: a != b,
    "IsGreaterThan": lambda a, b: a > b,
    "IsGreaterThanOrEqualTo": lambda a, b: a >= b,
    "IsLessThan": lambda a, b: a < b,
    "IsLessThanOrEqualTo": lambda a, b: a <= b,
}


def find_item(context: OperationContext) -> Any:
    body = context.body
    shape = parse_item_shape(body.find(m("ItemShape")))
    response, messages = new_response("FindItem")
    parents = body.find(m("ParentFolderIds"))
    for folder_id in parents if parents is not None else []:
        if not isinstance(folder_id.tag, str):
            continue
        try:
            mailbox, folder = context.resolve_folder(folder_id)
            with mailbox.lock:
                root = _find_in_folder(context, folder, body)
                items_element = root.find(t("Items"))
                for item in root.matched:
                    items_element.append(context.render_item(mailbox, item, shape))
        except OperationError as error:
            error_message(messages, "FindItem", error)
            continue
        message = success_message(messages, "FindItem")
        message.append(root.element)
    return response


class _Root:
    def __init__(self, element: Any, matched: list[StoredItem]) -> None:
        self.element = element
        self.matched = matched

    def find(self, tag: str) -> Any:
        return self.element.find(tag)


def _find_in_folder(context: OperationContext, folder: Folder, body: Any) -> _Root:
    root = etree.Element(m("RootFolder"))
    if body.get("Traversal") == "Associated":
        root.set("TotalItemsInView", "0")
        root.set("IncludesLastItemInRange", "true")
        etree.SubElement(root, t("Items"))
        return _Root(root, [])
    restriction = body.find(m("Restriction"))
    calendar_view = body.find(m("CalendarView"))
    paged_view = body.find(m("IndexedPageItemView"))
    if calendar_view is not None:
        if restriction is not None:
            raise OperationError("ErrorInvalidRestriction", "Restrictions and sort order may not be specified for a "
                                 "CalendarView.")
        start = parse_datetime(calendar_view.get("StartDate", ""))
        end = parse_datetime(calendar_view.get("EndDate", ""))
        if end < start:
            raise OperationError("ErrorInvalidRequest",
                                 "The EndDate value is earlier than the StartDate value.")
        if end - start > MAX_CALENDAR_VIEW:
            raise OperationError("ErrorCalendarViewRangeTooBig",
                                 "The requested view range exceeds the maximum range of two years.")
        matched = [item for item in folder.overlapping(start, end) if item.item_type == "CalendarItem"]
        limit = calendar_view.get("MaxEntriesReturned")
        total = len(matched)
        if limit is not None and total > int(limit):
            matched = matched[: int(limit)]
        root.set("TotalItemsInView", str(total))
        root.set("IncludesLastItemInRange", bool_text(len(matched) == total))
        etree.SubElement(root, t("Items"))
        return _Root(root, matched)
    candidates = _candidates(folder, restriction)
    sort = body.find(m("SortOrder"))
    ordered = _sorted(folder, candidates, sort)
    total = len(ordered)
    offset, limit, from_end = 0, total, False
    if paged_view is not None:
        offset = int(paged_view.get("Offset", "0"))
        limit = int(paged_view.get("MaxEntriesReturned", str(total)))
        from_end = paged_view.get("BasePoint") == "End"
    if from_end:
        stop = max(total - offset, 0)
        page = ordered[max(stop - limit, 0):stop]
        next_offset = offset + len(page)
    else:
        page = ordered[offset:offset + limit]
        next_offset = offset + len(page)
    if paged_view is not None:
        root.set("IndexedPagingOffset", str(next_offset))
    root.set("TotalItemsInView", str(total))
    root.set("IncludesLastItemInRange", bool_text(next_offset >= total))
    etree.SubElement(root, t("Items"))
    return _Root(root, page)


def _candidates(folder: Folder, restriction: Any) -> list[StoredItem]:
    if restriction is None or not len(restriction):
        return list(folder.items.values())
    condition = restriction[0]
    indexed = _indexed_lookup(folder, condition)
    pool: Iterable[StoredItem] = indexed if indexed is not None else folder.items.values()
    predicate = _predicate(condition)
    return [item for item in pool if predicate(item)]


def _indexed_lookup(folder: Folder, condition: Any) -> list[StoredItem] | None:
    """Items from the extended-property index when the restriction is (or is an And containing) an IsEqualTo on
    an extended property with a constant."""
    local = etree.QName(condition).localname
    if local == "And":
        for child in condition:
            found = _indexed_lookup(folder, child)
            if found is not None:
                return found
        return None
    if local != "IsEqualTo":
        return None
    uri = condition.find(t("ExtendedFieldURI"))
    constant = condition.find(f"{t('FieldURIOrConstant')}/{t('Constant')}")
    if uri is None or constant is None:
        return None
    ids = folder.by_extended.get((extended_key(uri), constant.get("Value", "")), set())
    return [folder.items[item_id] for item_id in ids if item_id in folder.items]


def _value(item: StoredItem, path: Any) -> str | None:
    local = etree.QName(path).localname
    if local == "ExtendedFieldURI":
        return item.extended_value(extended_key(path))
    name = field_uri_to_element(path.get("FieldURI", ""))
    if name == "ItemId":
        return item.item_id
    return item.text(name)


def _comparable(name: str, text: str) -> Any:
    if name in DATETIME_ELEMENTS:
        return parse_datetime(text)
    return text.lower()


def _predicate(condition: Any) -> Callable[[StoredItem], bool]:
    local = etree.QName(condition).localname
    children = [c for c in condition if isinstance(c.tag, str)]
    if local == "And":
        parts = [_predicate(c) for c in children]
        return lambda item: all(p(item) for p in parts)
    if local == "Or":
        parts = [_predicate(c) for c in children]
        return lambda item: any(p(item) for p in parts)
    if local == "Not":
        inner = _predicate(children[0])
        return lambda item: not inner(item)
    if local == "Exists":
        path = children[0]
        return lambda item: _value(item, path) is not None
    if local == "Contains":
        path = children[0]
        constant = (condition.find(t("Constant")).get("Value") or "").lower()
        return lambda item: constant in (_value(item, path) or "").lower()
    if local in COMPARISONS:
        path = children[0]
        constant_element = condition.find(f"{t('FieldURIOrConstant')}/{t('Constant')}")
        if constant_element is None:
            raise OperationError("ErrorUnsupportedPathForQuery", "The property path is not supported for queries.")
        name = field_uri_to_element(path.get("FieldURI", "")) if path.get("FieldURI") else ""
        constant = _comparable(name, constant_element.get("Value", ""))
        compare = COMPARISONS[local]

        def matches(item: StoredItem) -> bool:
            value = _value(item, path)
            if value is None:
                return False
            return bool(compare(_comparable(name, value), constant))

        return matches
    raise OperationError("ErrorUnsupportedQueryFilter", f"The restriction {local} is not supported.")


def _sorted(folder: Folder, items: list[StoredItem], sort: Any) -> list[StoredItem]:
    orders = [o for o in sort if isinstance(o.tag, str)] if sort is not None else []
    if not orders:
        if len(items) == len(folder.items):
            # The whole folder in start order straight from the index, then items without a start.
            by_start = [folder.items[item_id] for _, item_id in folder.by_start]
            return by_start + [item for item in items if item.start is None]
        return sorted(items, key=lambda i: (i.start is None, i.start or dt.datetime.min.replace(tzinfo=dt.UTC),
                                            i.item_id))
    result = list(items)
    for order in reversed(orders):
        path = next((c for c in order if isinstance(c.tag, str)), None)
        if path is None:
            continue
        name = field_uri_to_element(path.get("FieldURI", "")) if path.get("FieldURI") else ""
        descending = order.get("Order") == "Descending"

        def key(item: StoredItem, path: Any = path, name: str = name) -> tuple[bool, Any]:
            value = _value(item, path)
            return (value is None, _comparable(name, value) if value is not None else "")

        result.sort(key=key, reverse=descending)
    return result
