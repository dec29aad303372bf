"""Shared test set-up. Qt runs offscreen unless a test starts Xvfb itself; every test gets its
own config, data and log folders so nothing touches the developer's real calendar."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Must happen before anything imports Qt: without a display Qt would abort the whole run.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from calendar_app.store.app_paths import AppPaths


@pytest.fixture
def app_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppPaths]:
    """Point the app's per-user folders into tmp_path (the app reads XDG_* through platformdirs).
    XDG_DATA_HOME is left alone when a test keyring runs: the keyring daemon lives there."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    paths = AppPaths(
        config_dir=tmp_path / "config" / "calendar-app",
        data_dir=tmp_path / "data" / "calendar-app",
        log_dir=tmp_path / "state" / "calendar-app" / "log",
    )
    monkeypatch.setattr(AppPaths, "for_current_user", classmethod(lambda cls: paths))
    yield paths
