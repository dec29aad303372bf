"""`calendar-app paths`: where the calendar, settings and logs live for this user."""

from __future__ import annotations

import argparse
from typing import Any

from calendar_app.store.app_paths import AppPaths


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("paths", help="show where data, settings and logs are kept")
    parser.set_defaults(func=run)


def run(_args: argparse.Namespace) -> int:
    paths = AppPaths.for_current_user()
    print(f"settings: {paths.settings_file}")
    print(f"calendar: {paths.database_file}")
    print(f"keystore: {paths.keystore_dir}")
    print(f"log:      {paths.log_file}")
    return 0
