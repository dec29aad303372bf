"""Where the app keeps its files (per user, per platform; honours XDG_* on Linux)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

APP_DIR_NAME = "calendar-app"
# Linux resolves the XDG folders itself (see _xdg_base); Windows and macOS ask platformdirs.
FOLLOWS_XDG: bool = sys.platform.startswith("linux")


def user_config_dir() -> Path:
    """The app's per-user settings folder; also what tells the default profile from any other."""
    if FOLLOWS_XDG:
        return _xdg_base("XDG_CONFIG_HOME", ".config") / APP_DIR_NAME
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False))


def _xdg_base(variable: str, default_under_home: str) -> Path:
    # The XDG Base Directory rules, which platformdirs follows on Linux too: a relative or empty value
    # is ignored. Resolved here because platformdirs' import (tempfile, shutil, random) cost ~4 ms of
    # every start, a tenth of what our code adds before Qt.
    value = Path(os.environ.get(variable, ""))
    return value if value.is_absolute() else Path.home() / default_under_home


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @classmethod
    def for_current_user(cls) -> AppPaths:
        if FOLLOWS_XDG:
            return cls(
                config_dir=user_config_dir(),
                data_dir=_xdg_base("XDG_DATA_HOME", ".local/share") / APP_DIR_NAME,
                log_dir=_xdg_base("XDG_STATE_HOME", ".local/state") / APP_DIR_NAME / "log",
            )
        import platformdirs

        return cls(
            config_dir=user_config_dir(),
            data_dir=Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False)),
            log_dir=Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False)),
        )

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "calendar.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "calendar-app.log"

    @property
    def keystore_dir(self) -> Path:
        return self.data_dir / "keystore"
