from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from calendar_app.store.settings_file import (
    Settings,
    SettingsError,
    load_settings,
    save_settings,
)


def test_round_trip_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "settings.json"
    settings = Settings(ews_url="https://mail.contoso.com/EWS/Exchange.asmx", mailbox="ann@contoso.com",
                        username="CONTOSO\\svc-calendar", pinned_sha256=("ab" * 32,), integration_enabled=True)
    save_settings(path, settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(path) == type(load_settings(path))(settings, None)
    assert json.loads(path.read_text())["version"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]  # no temp files left


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    loaded = load_settings(tmp_path / "none.json")
    assert loaded.settings == Settings() and loaded.problem is None


def test_damaged_file_is_kept_aside_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"version": 1, "ews_url": ')
    loaded = load_settings(path)
    assert loaded.settings == Settings()
    assert loaded.problem is not None and "could not be read" in loaded.problem
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("settings.json.damaged-")]
    assert len(kept) == 1 and kept[0].read_text() == '{"version": 1, "ews_url": '
    assert not path.exists()


def test_wrong_types_count_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "integration_enabled": "yes"}))
    assert "could not be read" in (load_settings(path).problem or "")


def test_unknown_version_is_kept_aside_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 99, "ews_url": "https://x"}))
    loaded = load_settings(path)
    assert "another version" in (loaded.problem or "")
    assert any(p.name.startswith("settings.json.unknown-version-") for p in tmp_path.iterdir())


def test_a_secret_can_never_be_written(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    with pytest.raises(SettingsError, match="keyring"):
        save_settings(path, Settings(extra={"keystore_password": "hunter2"}))
    assert not path.exists()


CRASH_BETWEEN_WRITE_AND_RENAME = """
import os, sys
from pathlib import Path
from calendar_app.store import settings_file
settings_file._replace = lambda source, target: os._exit(9)   # the process dies right here
settings_file.save_settings(Path(sys.argv[1]), settings_file.Settings(ews_url="https://new.example.com/EWS/Exchange.asmx"))
"""


def test_a_crash_between_write_and_rename_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(path, Settings(ews_url="https://old.example.com/EWS/Exchange.asmx"))
    result = subprocess.run([sys.executable, "-c", CRASH_BETWEEN_WRITE_AND_RENAME, str(path)], check=False)
    assert result.returncode == 9
    loaded = load_settings(path)
    assert loaded.problem is None
    assert loaded.settings.ews_url == "https://old.example.com/EWS/Exchange.asmx"
    # the abandoned temp file is never mistaken for the settings
    assert all(p.name == "settings.json" or p.name.startswith(".settings-") for p in tmp_path.iterdir())


def test_unwritable_folder_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(SettingsError, match="not writable"):
        save_settings(blocker / "settings.json", Settings())
    assert blocker.is_file()
