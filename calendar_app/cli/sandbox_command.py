"""`calendar-app sandbox`: run the local Exchange stand-in until interrupted.

With no options it serves a demo service account that may impersonate a demo mailbox. Every --user may
impersonate every --mailbox unless denied with --deny-impersonation; a mailbox whose local part equals a
user's name (alice@… for CONTOSO\\alice) is that user's own."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from calendar_app.cli.errors import CliError
from calendar_app.logging_setup import register_secret
from calendar_app.sandbox.config import DEMO_MAILBOX, ConfigError, SandboxConfig
from calendar_app.sandbox.faults import FAULT_KINDS, parse_fault
from calendar_app.store.app_paths import AppPaths

if TYPE_CHECKING:
    from calendar_app.sandbox.server import SandboxServer

DEFAULT_PORT = 8443


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sandbox", help="run a local Exchange (EWS) stand-in with TLS, NTLM and impersonation",
        description="Serve a local Exchange Web Services stand-in over HTTPS with NTLM until Ctrl+C. "
        "Prints the EWS URL, the certificate's SHA-256 fingerprint and the credentials.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--state", type=Path, default=None,
                        help="folder for items, sync states and the certificate (default: the app's data "
                        "folder/sandbox)")
    parser.add_argument("--user", action="append", default=[], metavar="'DOMAIN\\name:password'",
                        help="an account that may sign in with NTLM (repeatable)")
    parser.add_argument("--mailbox", action="append", default=[], metavar="SMTP",
                        help="a mailbox to serve (repeatable)")
    parser.add_argument("--deny-impersonation", action="append", default=[], metavar="'DOMAIN\\name:SMTP'",
                        help="forbid that account to impersonate that mailbox (repeatable)")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC",
                        help="inject a fault: KIND[:VALUE][@OPERATION][*TIMES], KIND one of "
                        + ", ".join(FAULT_KINDS) + " (repeatable)")
    parser.add_argument("--basic", action="store_true", help="also accept HTTP Basic authentication")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: every start of the app (the window too) builds this command's parser.
    from calendar_app.sandbox.demo_content import seed_demo_week
    from calendar_app.sandbox.server import SandboxServer

    try:
        config = SandboxConfig.from_cli_values(
            host=args.host, port=args.port, users=args.user, mailboxes=args.mailbox,
            denials=args.deny_impersonation, faults=args.fault, allow_basic=args.basic)
        for spec in config.faults:
            parse_fault(spec)
    except ConfigError as error:
        raise CliError(str(error)) from None
    for user in config.users:
        register_secret(user.password)
    state = args.state if args.state is not None else AppPaths.for_current_user().data_dir / "sandbox"
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CliError(f"cannot use {state} for the sandbox's state ({error.strerror}); pass --state DIR") from None
    server = SandboxServer(config, state)
    try:
        server.start()
    except OSError as error:
        raise CliError(f"cannot listen on {config.host}:{config.port} ({error.strerror}); "
                       "pass another --port, or --port 0 for any free one") from None
    except ValueError as error:
        raise CliError(str(error)) from None
    if not (args.user or args.mailbox or args.deny_impersonation):
        # The demo mailbox starts with a week of appointments, once; later starts keep what is there.
        demo_calendar = server.calendar_items(DEMO_MAILBOX)
        if not demo_calendar and server.mailbox(DEMO_MAILBOX).sequence == 0:
            seed_demo_week(server, DEMO_MAILBOX, dt.date.today())
    stop = threading.Event()

    def request_stop(signal_number: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _print_banner(server, config, state)
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
    print(f"sandbox stopped; state kept in {state}", flush=True)
    return 0


def _print_banner(server: SandboxServer, config: SandboxConfig, state: Path) -> None:
    lines = [
        "Exchange sandbox (EWS) is running.",
        f"  EWS URL:            {server.url}",
        f"  certificate SHA-256 {server.certificate_sha256}",
        f"  root CA (PEM):      {server.tls.chain_file.parent / 'sandbox-root-ca.pem'}",
        f"  state:              {state}",
        "  credentials (NTLM):",
    ]
    for user in config.users:
        own = server.rights.own_mailbox(user)
        may = [address for address in config.mailboxes if server.rights.may_impersonate(user, address)]
        lines.append(f"    {user.account} / {user.password}"
                     + (f"  own mailbox {own}" if own else "")
                     + (f"  may impersonate {', '.join(may)}" if may else "  may impersonate nobody"))
    lines.append(f"  mailboxes:          {', '.join(config.mailboxes)}")
    if config.faults:
        lines.append(f"  faults:             {', '.join(config.faults)}")
    lines.append("Press Ctrl+C to stop.")
    print("\n".join(lines), flush=True)
