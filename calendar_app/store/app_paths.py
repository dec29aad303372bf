"""Where the app keeps its files (per user, per platform; honours XDG_* on Linux)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_DIR_NAME = "calendar-app"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @classmethod
    def for_current_user(cls) -> AppPaths:
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False)),
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
