"""`calendar-app sync --once | --watch`: push local edits to Exchange and pull its changes.

`--once` makes one run and prints its report. Exit codes: 0 done; 1 Exchange could not be reached
or asked us to wait (the edits stay queued: run again later); 2 a person must act (e.g. a wrong
password, a changed certificate). `--watch` keeps the calendar in sync in real time (streaming
notifications, local edits noticed within a quarter second) until Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import threading
from datetime import datetime
from typing import Any

from calendar_app.cli.errors import CliError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sync", help="synchronise with Exchange once, or keep watching")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="one push and pull, then exit")
    mode.add_argument("--watch", action="store_true", help="sync in real time until interrupted")
    parser.add_argument("--catch-up", type=float, default=300.0, metavar="SECONDS",
                        help="with --watch: pull this often even without notifications (default 300)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calendar_app.logging_setup import configure_logging
    from calendar_app.services.sync_session import SessionError, SyncSession
    from calendar_app.store.app_paths import AppPaths

    paths = AppPaths.for_current_user()
    configure_logging(paths.log_file)
    try:
        session = SyncSession.open(paths)
    except SessionError as error:
        raise CliError(str(error)) from error
    try:
        if args.once:
            report = session.run_once()
            print(report.summary(), flush=True)
            _print_details(report)
            if report.fatal_error:
                raise CliError(report.fatal_error)
            # 1: Exchange could not be reached or asked us to wait; nothing is lost, try again later
            return 1 if report.retry_after_seconds is not None else 0
        return _watch(session, args.catch_up)
    finally:
        session.close()


def _watch(session: Any, catch_up: float) -> int:
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(f"watching {session.settings.mailbox}; Ctrl+C to stop", flush=True)
    fatal: list[str] = []

    def report(result: Any) -> None:
        print(f"{datetime.now():%H:%M:%S} {result.summary()}", flush=True)
        _print_details(result)
        if result.fatal_error:
            fatal.append(result.fatal_error)
            stop.set()

    try:
        session.run_live(stop, on_report=report, catch_up_seconds=catch_up)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if fatal:
        raise CliError(fatal[-1])
    print("stopped", flush=True)
    return 0


def _print_details(report: Any) -> None:
    """What the one-line summary only counts: each failed appointment and each notice."""
    for failure in report.failures:
        print(f"  failed: {failure.uuid}: {failure.message}", flush=True)
    for note in report.notes:
        print(f"  note: {note}", flush=True)
