"""`calendar-app status [--json]`: the connection and what is waiting (pending, failed, in conflict)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from calendar_app.cli.errors import CliError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("status", help="show the Exchange connection and what is waiting to sync")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calendar_app.services.sync_session import read_status
    from calendar_app.store.app_paths import AppPaths
    from calendar_app.store.errors import StoreError

    try:
        status = read_status(AppPaths.for_current_user())
    except StoreError as error:
        raise CliError(str(error)) from error
    if args.json:
        print(json.dumps(status.to_json(), indent=2))
        return 0
    if not status.configured:
        print("Exchange: not configured (run 'calendar-app configure')")
    else:
        state = "enabled" if status.enabled else "disabled"
        print(f"Exchange:    {status.ews_url} ({status.mailbox}, {status.sign_in_mode}, {state})")
    print(f"Connection:  {status.connection}" + (f" — {status.last_message}" if status.last_message else ""))
    print(f"Last sync:   {status.last_sync or 'never'}")
    print(f"Pending:     {status.pending}")
    print(f"Failed:      {status.failed}")
    print(f"Conflicting: {status.conflicting}")
    for uuid, problem in status.failures:
        print(f"  failed {uuid}: {problem}")
    return 0
