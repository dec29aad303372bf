from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calendar_app.domain import Appointment, FreeBusy, ValidationError, new_appointment

BERLIN = ZoneInfo("Europe/Berlin")


def make(**overrides: object) -> Appointment:
    values: dict[str, object] = {
        "subject": "Pipeline review",
        "start": datetime(2026, 3, 10, 9, 0),
        "end": datetime(2026, 3, 10, 10, 0),
        "timezone": "Europe/Berlin",
    }
    values.update(overrides)
    return new_appointment(**values)  # type: ignore[arg-type]


def test_a_valid_appointment_has_a_uuid_and_aware_times() -> None:
    a = make(location="Room 4", required_attendees=("ann@contoso.com",), categories=("Sales",))
    assert len(a.uuid) == 36
    assert a.start.tzinfo == BERLIN
    assert a.has_attendees


def test_end_must_be_after_start() -> None:
    with pytest.raises(ValidationError) as caught:
        make(end=datetime(2026, 3, 10, 8, 0))
    assert caught.value.for_field("end") == ["The end must be after the start."]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        make(subject=" ", end=datetime(2026, 3, 10, 8), required_attendees=("not-an-address",),
             reminder_minutes=-5)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"subject", "end", "required_attendees", "reminder_minutes"}


def test_all_day_must_be_whole_days() -> None:
    ok = make(start=datetime(2026, 3, 10), end=datetime(2026, 3, 11), is_all_day=True)
    assert ok.is_all_day
    with pytest.raises(ValidationError, match="midnight"):
        make(start=datetime(2026, 3, 10, 9), end=datetime(2026, 3, 11), is_all_day=True)


def test_lengths_and_control_characters_are_checked() -> None:
    with pytest.raises(ValidationError, match="limit is 255"):
        make(subject="x" * 256)
    with pytest.raises(ValidationError, match="control characters"):
        make(location="Room\x00 4")


def test_unknown_time_zone_says_what_to_use() -> None:
    with pytest.raises(ValidationError, match="IANA name"):
        make(timezone="Mars/Olympus_Mons")


def test_duplicate_attendees_are_refused() -> None:
    with pytest.raises(ValidationError, match="more than once"):
        make(required_attendees=("a@x.com",), optional_attendees=("A@x.com",))


def test_aware_input_is_converted_to_the_appointment_zone() -> None:
    a = make(start=datetime(2026, 3, 10, 8, tzinfo=ZoneInfo("UTC")),
             end=datetime(2026, 3, 10, 9, tzinfo=ZoneInfo("UTC")))
    assert a.start.hour == 9 and a.start.tzinfo == BERLIN


def test_with_changes_validates_and_keeps_the_uuid() -> None:
    a = make()
    b = a.with_changes(subject="Renamed")
    assert b.uuid == a.uuid and b.subject == "Renamed"
    with pytest.raises(ValidationError):
        a.with_changes(end=a.start - timedelta(hours=1))
    with pytest.raises(ValueError, match="never changes"):
        a.with_changes(uuid="00000000-0000-0000-0000-000000000000")


zones = st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"])
texts = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@given(
    zone=zones,
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31)),
    minutes=st.integers(min_value=1, max_value=60 * 24 * 30),
    subject=texts.filter(lambda s: s.strip() != ""),
    location=texts,
    free_busy=st.sampled_from(list(FreeBusy)),
    private=st.booleans(),
)
def test_dict_round_trip_is_lossless(zone: str, start: datetime, minutes: int, subject: str, location: str,
                                     free_busy: FreeBusy, private: bool) -> None:
    a = make(subject=subject, location=location, timezone=zone, start=start,
             end=start + timedelta(minutes=minutes), free_busy=free_busy, is_private=private)
    assert Appointment.from_dict(a.to_dict()) == a


def test_trusted_rebuild_equals_the_validated_one() -> None:
    a = make(location="Room 4", required_attendees=("ann@contoso.com",), categories=("Sales",), is_all_day=False)
    assert Appointment.from_dict(a.to_dict(), trusted=True) == a
