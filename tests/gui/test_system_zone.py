"""The window's time zone comes from the computer: TZ first, then the /etc/localtime link, then Qt."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from calendar_app.gui.main_window import system_zone


@pytest.mark.parametrize("value", ["America/Chicago", ":America/Chicago"])
def test_the_tz_variable_names_the_zone(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TZ", value)
    assert system_zone() == ZoneInfo("America/Chicago")


def test_an_unknown_tz_falls_back_to_the_system_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TZ", raising=False)
    expected = system_zone()
    monkeypatch.setenv("TZ", "Nowhere/Atlantis")
    assert system_zone() == expected
