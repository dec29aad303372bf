"""iCalendar export read back by vobject (a parser the export does not use), and imports of
files shaped like Outlook's and Google Calendar's exports, saved through the store."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import vobject
from pytestqt.qtbot import QtBot

from calendar_app.domain import Appointment, FreeBusy, new_appointment
from calendar_app.services.calendar_service import CalendarService
from calendar_app.services.icalendar_io import IcsImportError, export_calendar, import_into, parse_calendar

from .conftest import BERLIN, at, make_window, outbox_rows

DATA = Path(__file__).parent / "data"
NEW_YORK = ZoneInfo("America/New_York")


def sample_appointments() -> list[Appointment]:
    return [
        new_appointment(subject="Northwind renewal; terms, v2", start=at(0, 10), end=at(0, 11, 30),
                        timezone="Europe/Berlin", location="Northwind HQ, Hamburg",
                        body="Line one\nLine two, with comma; and semicolon",
                        required_attendees=("anna@northwind.example", "Jan.Meyer@northwind.example"),
                        optional_attendees=("lea@contoso.example",), reminder_minutes=30,
                        free_busy=FreeBusy.TENTATIVE, is_private=True, categories=("Customer", "Renewal")),
        new_appointment(subject="Hannover trade fair", start=datetime(2026, 3, 11, tzinfo=BERLIN),
                        end=datetime(2026, 3, 13, tzinfo=BERLIN), timezone="Europe/Berlin", is_all_day=True,
                        reminder_minutes=None, free_busy=FreeBusy.OUT_OF_OFFICE),
        new_appointment(subject="Call with New York", start=datetime(2026, 3, 16, 9, tzinfo=NEW_YORK),
                        end=datetime(2026, 3, 16, 9, 45, tzinfo=NEW_YORK), timezone="America/New_York",
                        free_busy=FreeBusy.FREE, reminder_minutes=0),
    ]


def test_export_reads_back_in_vobject_with_the_same_fields() -> None:
    originals = sample_appointments()
    data = export_calendar(originals)
    calendar = vobject.readOne(data.decode("utf-8"))
    events = {str(e.uid.value): e for e in calendar.vevent_list}
    assert {tz.tzid.value for tz in calendar.vtimezone_list} == {"Europe/Berlin", "America/New_York"}
    for a in originals:
        event = events[a.uuid]
        assert event.summary.value == a.subject
        start, end = event.dtstart.value, event.dtend.value
        if a.is_all_day:
            assert (start, end) == (a.start.date(), a.end.date())
            assert not isinstance(start, datetime)
        else:
            assert start == a.start and end == a.end  # same instants, with a zone
            assert start.utcoffset() == a.start.utcoffset()
            # vobject resolves TZID through the file's own VTIMEZONE block (dateutil's tzical)
            assert start.tzinfo._tzid == a.timezone
        assert getattr(event, "location", None) is None or event.location.value == a.location
        if a.body:
            assert event.description.value == a.body
        roles = {str(att.value)[7:]: att.params["ROLE"][0] for att in getattr(event, "attendee_list", [])}
        assert roles == {**{x: "REQ-PARTICIPANT" for x in a.required_attendees},
                         **{x: "OPT-PARTICIPANT" for x in a.optional_attendees}}
        categories = [c for line in getattr(event, "categories_list", []) for c in line.value]
        assert tuple(categories) == a.categories
        assert event.contents["class"][0].value == ("PRIVATE" if a.is_private else "PUBLIC")
        assert event.x_microsoft_cdo_busystatus.value == {
            FreeBusy.TENTATIVE: "TENTATIVE", FreeBusy.OUT_OF_OFFICE: "OOF", FreeBusy.FREE: "FREE"}[a.free_busy]
        alarms = getattr(event, "valarm_list", [])
        if a.reminder_minutes is None:
            assert alarms == []
        else:
            assert alarms[0].trigger.value == -timedelta(minutes=a.reminder_minutes)


def test_export_then_import_gives_back_the_same_appointments() -> None:
    originals = sample_appointments()
    imported, problems = parse_calendar(export_calendar(originals), default_zone="Europe/Berlin")
    assert problems == []
    assert sorted(imported, key=lambda a: a.uuid) == sorted(originals, key=lambda a: a.uuid)


def test_outlook_export_with_windows_zone_attendees_and_all_day(service: CalendarService) -> None:
    report = import_into(service, (DATA / "outlook-export.ics").read_bytes(), default_zone="Europe/Berlin")
    assert len(report.saved) == 2
    meeting, fair = (service.get(uuid).appointment for uuid in report.saved)  # type: ignore[union-attr]
    assert meeting.subject == "Northwind Traders – renewal"
    assert meeting.timezone == "Europe/Berlin"  # "W. Europe Standard Time" mapped to its IANA zone
    assert (meeting.start, meeting.end) == (datetime(2026, 3, 30, 10, tzinfo=BERLIN),
                                            datetime(2026, 3, 30, 11, 30, tzinfo=BERLIN))
    assert meeting.start.utcoffset() == timedelta(hours=2)  # summer time had begun on 29 March
    assert meeting.location == "Northwind HQ, Hamburg"
    assert meeting.body == "Renewal terms for 2026–2028.\nBring the volume discount sheet.\n"
    assert meeting.required_attendees == ("anna.schmidt@northwind.example",)
    assert meeting.optional_attendees == ("lea.vogel@contoso.example",)
    assert (meeting.is_private, meeting.free_busy, meeting.reminder_minutes) == (True, FreeBusy.TENTATIVE, 30)
    assert fair.is_all_day and (fair.start.date(), fair.end.date()) == (date(2026, 3, 31), date(2026, 4, 2))
    assert fair.free_busy == FreeBusy.OUT_OF_OFFICE and fair.categories == ("Event", "Trade show")
    assert fair.reminder_minutes is None
    # saved as local edits: they go to Exchange like anything the rep typed
    assert all(outbox_rows(service, uuid) == [("create", [])] for uuid in report.saved)
    assert any("receive invitations" in p for p in report.problems)


def test_google_export_with_vtimezone_utc_times_and_unsupported_items(service: CalendarService) -> None:
    report = import_into(service, (DATA / "google-export.ics").read_bytes(), default_zone="Europe/Berlin")
    by_subject = {s.appointment.subject: s.appointment for s in service.appointments.all()}
    assert set(by_subject) == {"Tailspin Toys kickoff", "Call with Litware", "Quarter-end review"}
    kickoff = by_subject["Tailspin Toys kickoff"]
    assert kickoff.timezone == "America/New_York"
    assert kickoff.start == datetime(2026, 3, 16, 9, tzinfo=NEW_YORK)  # after the US switch on 8 March
    assert kickoff.required_attendees == ("cto@tailspin.example",)  # the organizer is not invited to their own
    assert kickoff.optional_attendees == ("ops@tailspin.example",)
    assert kickoff.reminder_minutes == 10 and kickoff.location == "Tailspin office, 5th Ave"
    litware = by_subject["Call with Litware"]
    assert litware.timezone == "Europe/Berlin"  # a UTC time is shown in the rep's own zone
    assert litware.start == datetime(2026, 3, 17, 16, tzinfo=BERLIN)
    review = by_subject["Quarter-end review"]
    assert review.is_all_day and review.free_busy == FreeBusy.FREE
    assert any("Team stand-up" in p and "recurring" in p for p in report.problems)
    assert any("Old pipeline call" in p and "cancelled" in p for p in report.problems)


def test_importing_the_same_file_twice_does_not_duplicate(service: CalendarService) -> None:
    data = (DATA / "google-export.ics").read_bytes()
    first = import_into(service, data, default_zone="Europe/Berlin")
    second = import_into(service, data, default_zone="Europe/Berlin")
    assert sorted(first.saved) == sorted(second.saved)
    assert service.appointments.count() == 3


def test_a_file_that_is_not_icalendar_is_refused_clearly() -> None:
    with pytest.raises(IcsImportError, match="not an iCalendar file"):
        parse_calendar(b"Subject,Start\nDemo,2026-03-10\n", default_zone="UTC")


def test_window_imports_and_exports_the_visible_range(qtbot: QtBot, service: CalendarService,
                                                      tmp_path: Path) -> None:
    window = make_window(qtbot, service)
    window.go_to(date(2026, 3, 30))
    window.import_file(DATA / "outlook-export.ics")
    assert window.model.rowCount() == 2
    assert "Imported 2 appointment(s)" in window.activity_panel.list.item(0).text()
    exported = tmp_path / "week.ics"
    assert window.export_visible_range(exported) == 2
    calendar = vobject.readOne(exported.read_text("utf-8"))
    assert sorted(e.summary.value for e in calendar.vevent_list) == ["Hannover trade fair",
                                                                      "Northwind Traders – renewal"]
    one = tmp_path / "one.ics"
    window.export_appointment(window.model.appointments()[0].appointment.uuid, one)
    assert [e.summary.value for e in vobject.readOne(one.read_text("utf-8")).vevent_list] == [
        window.model.appointments()[0].appointment.subject]
    window.import_file(tmp_path / "missing.ics")
    assert "could not be imported" in window.activity_panel.list.item(0).text()
