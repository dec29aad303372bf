"""`calendar-app [gui]`: open the calendar window."""

from __future__ import annotations

import argparse
from typing import Any


def add_window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demo", action="store_true",
                        help="start the built-in sandbox Exchange and connect to it (no real server needed)")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("gui", help="open the calendar window (the default)")
    add_window_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that the other commands start without loading Qt.
    from calendar_app.app import run_gui

    return run_gui(demo=bool(getattr(args, "demo", False)))
