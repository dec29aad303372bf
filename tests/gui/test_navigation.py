"""Previous/next in the month view keeps the day of the month where it can and clamps it where the
month is shorter, across years and leap years."""

from __future__ import annotations

import calendar
from datetime import date

import pytest

from calendar_app.gui.calendar.navigation import ViewMode, days_in_month, step


def test_days_in_month_agrees_with_the_standard_library_for_five_centuries() -> None:
    for year in range(1800, 2300):
        for month in range(1, 13):
            assert days_in_month(year, month) == calendar.monthrange(year, month)[1], (year, month)


@pytest.mark.parametrize(("anchor", "direction", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2027, 1, 31), -1, date(2026, 12, 31)),
    (date(2026, 5, 31), 1, date(2026, 6, 30)),
])
def test_month_steps_clamp_to_the_last_day(anchor: date, direction: int, expected: date) -> None:
    assert step(ViewMode.MONTH, anchor, direction) == expected
