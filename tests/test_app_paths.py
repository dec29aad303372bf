"""The per-user folders: resolved by our own XDG rules on Linux, which must land exactly where
platformdirs (the rules used before, and still used on Windows and macOS) put them: a rep's
settings, calendar and keyring entry must be found again after an update."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from calendar_app.services.sync_session import secret_store_for
from calendar_app.store.app_paths import APP_DIR_NAME, AppPaths, user_config_dir

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rules are Linux's")

XDG_VARIABLES = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")


def platformdirs_paths() -> AppPaths:
    return AppPaths(
        config_dir=Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False)),
        data_dir=Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False)),
    )


@pytest.mark.parametrize("setting", ["unset", "absolute", "empty"])
def test_the_folders_are_where_platformdirs_puts_them(setting: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for variable in XDG_VARIABLES:
        if setting == "unset":
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, str(tmp_path / variable.lower()) if setting == "absolute" else "")
    ours = AppPaths.for_current_user()
    assert ours == platformdirs_paths()
    if setting == "absolute":
        assert ours.config_dir == tmp_path / "xdg_config_home" / "calendar-app"
        assert ours.log_dir == tmp_path / "xdg_state_home" / "calendar-app" / "log"
    else:
        assert ours.data_dir == tmp_path / "home" / ".local" / "share" / "calendar-app"


def test_a_relative_xdg_value_is_ignored_as_the_spec_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for variable in XDG_VARIABLES:
        monkeypatch.setenv(variable, "relative/folder")
    paths = AppPaths.for_current_user()
    assert paths.config_dir == tmp_path / ".config" / "calendar-app"
    assert paths.data_dir == tmp_path / ".local" / "share" / "calendar-app"
    assert paths.log_dir == tmp_path / ".local" / "state" / "calendar-app" / "log"


def test_only_the_default_profile_uses_the_default_keyring_service(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    default = AppPaths(config_dir=user_config_dir(), data_dir=tmp_path / "data", log_dir=tmp_path / "log")
    other = AppPaths(config_dir=tmp_path / "elsewhere", data_dir=tmp_path / "data", log_dir=tmp_path / "log")
    assert secret_store_for(default).service == "calendar-app"
    assert secret_store_for(other).service == f"calendar-app ({tmp_path / 'elsewhere'})"
