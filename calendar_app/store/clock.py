"""Timestamps as the store writes them: UTC, ISO 8601, sortable as text."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
