"""Reading a 503/429 answer's Retry-After header (RFC 9110, section 10.2.3)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calendar_app.exchange.response_guard import retry_after_seconds

NOW = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("header", "seconds"), [
    ("120", 120.0),
    (" 5 ", 5.0),
    ("0", 0.0),
    ("Fri, 04 Dec 2026 12:00:30 GMT", 30.0),  # an HTTP date
    ("Fri, 04 Dec 2026 11:59:00 GMT", 0.0),  # already past: try again now
])
def test_retry_after_as_seconds_or_an_http_date(header: str, seconds: float) -> None:
    assert retry_after_seconds(header, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("header", [None, "", "soon", "-5", "1.5", "Fri, 99 Foo 2026"])
def test_an_unreadable_retry_after_is_ignored(header: str | None) -> None:
    assert retry_after_seconds(header, now=NOW) is None
