"""`calendar-app` command line: the GUI by default, sub-commands for admins and scripts.

Each sub-command lives in its own module with a `register(subparsers)` function. Errors the
user can fix end as one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from calendar_app import __version__
from calendar_app.cli import gui_command
from calendar_app.cli.errors import CliError


def command_modules() -> tuple[ModuleType, ...]:
    """Every sub-command's module. Imported only when a command line is to be parsed: opening the
    window (no arguments) skips them and their parsers, about a tenth of the window's start."""
    from calendar_app.cli import (
        appointments_command,
        cert_command,
        configure_command,
        keystore_command,
        paths_command,
        sandbox_command,
        status_command,
        sync_command,
        test_connection_command,
    )

    return (gui_command, paths_command, sandbox_command, cert_command, keystore_command, configure_command,
            appointments_command, sync_command, status_command, test_connection_command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calendar-app",
        description="A sales team's calendar in two-way, real-time sync with Microsoft Exchange. "
        "Without a command, opens the calendar window.",
    )
    from calendar_app.cli.self_test_command import add_self_test_option

    parser.add_argument("--version", action="version", version=f"calendar-app {__version__}")
    add_self_test_option(parser)
    gui_command.add_window_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in command_modules():
        module.register(subparsers)
    parser.set_defaults(func=gui_command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # Without arguments: the window, as a rep starts it, with nothing to parse.
    args = (build_parser().parse_args(arguments) if arguments
            else argparse.Namespace(func=gui_command.run, demo=False))
    try:
        return int(args.func(args) or 0)
    except CliError as error:
        print(f"calendar-app: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("calendar-app: interrupted", file=sys.stderr)
        return 130
