"""A plausible week for a demo mailbox: a few customer visits and calls around a given day, put in as
another client (Outlook, an assistant) would have made them."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape

from calendar_app.sandbox.server import SandboxServer

TYPES_NS = "http://schemas.microsoft.com/exchange/services/2006/types"

# (day offset from Monday, start hour UTC, minutes, subject, location, attendee or "")
DEMO_WEEK: tuple[tuple[int, int, int, str, str, str], ...] = (
    (0, 8, 30, "Pipeline review", "Teams", "manager@sandbox.test"),
    (0, 13, 60, "Visit: Fabrikam – renewal", "Fabrikam HQ, Berlin", "buyer@fabrikam.example"),
    (1, 9, 45, "Call: Contoso Pharma follow-up", "Phone", ""),
    (2, 11, 90, "Demo for Northwind Traders", "Northwind, Hamburg", "it@northwind.example"),
    (3, 7, 30, "Travel to Munich", "", ""),
    (3, 14, 60, "Visit: Tailspin Toys – new contract", "Tailspin Toys, Munich", "ceo@tailspin.example"),
    (4, 10, 60, "Forecast and CRM clean-up", "Office", ""),
)


def seed_demo_week(server: SandboxServer, address: str, day: dt.date) -> list[str]:
    """Add the demo week around `day` to the mailbox's calendar; returns the new item ids."""
    monday = day - dt.timedelta(days=day.weekday())
    ids = []
    for offset, hour, minutes, subject, location, attendee in DEMO_WEEK:
        start = dt.datetime.combine(monday + dt.timedelta(days=offset), dt.time(hour), tzinfo=dt.UTC)
        end = start + dt.timedelta(minutes=minutes)
        attendees = (
            f"<t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>{escape(attendee)}</t:EmailAddress>"
            "</t:Mailbox></t:Attendee></t:RequiredAttendees>" if attendee else ""
        )
        ids.append(server.add_calendar_item(address, (
            f'<t:CalendarItem xmlns:t="{TYPES_NS}"><t:Subject>{escape(subject)}</t:Subject>'
            f"<t:Start>{start:%Y-%m-%dT%H:%M:%SZ}</t:Start><t:End>{end:%Y-%m-%dT%H:%M:%SZ}</t:End>"
            f"<t:Location>{escape(location)}</t:Location>{attendees}</t:CalendarItem>"
        ).encode()))
    return ids
