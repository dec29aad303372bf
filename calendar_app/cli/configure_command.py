"""`calendar-app configure`: set up the Exchange connection without the wizard (scripted deployments).

Passwords come from CALENDAR_APP_PASSWORD and CALENDAR_APP_KEYSTORE_PASSWORD, or are asked for on
the terminal; they go to the system keyring, never to a file.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from calendar_app.cli.errors import CliError
from calendar_app.logging_setup import register_secret

PASSWORD_VARIABLE = "CALENDAR_APP_PASSWORD"  # noqa: S105 - the name of a variable, not a password
KEYSTORE_PASSWORD_VARIABLE = "CALENDAR_APP_KEYSTORE_PASSWORD"  # noqa: S105 - the name of a variable


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "configure", help="set up the Exchange connection (URL, mailbox, account, keystore)",
        description="Set up or change the Exchange connection. Passwords are read from "
                    f"{PASSWORD_VARIABLE} and {KEYSTORE_PASSWORD_VARIABLE}, or asked for.")
    parser.add_argument("--ews-url", help="the EWS address, e.g. https://mail.contoso.com/EWS/Exchange.asmx")
    parser.add_argument("--mailbox", help="the rep's SMTP address")
    parser.add_argument("--user", help=r"the account that signs in: DOMAIN\name or a UPN")
    parser.add_argument("--keystore", type=Path, help="a keystore (.p12/.jks) holding the server's certificate")
    parser.add_argument("--sign-in", choices=("impersonation", "own-account"),
                        help="impersonation (the documented service account, the default) or the rep's own account")
    toggle = parser.add_mutually_exclusive_group()
    toggle.add_argument("--enable", dest="enabled", action="store_true", default=None,
                        help="turn the Exchange calendar integration on")
    toggle.add_argument("--disable", dest="enabled", action="store_false", help="turn it off")
    parser.add_argument("--no-check", action="store_true",
                        help="save without testing the connection (e.g. while the server is unreachable)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calendar_app.security.ews_url import InvalidEwsUrlError, parse_ews_url
    from calendar_app.services.account_names import user_name_problem
    from calendar_app.services.exchange_setup import SetupRequest, apply_setup
    from calendar_app.services.setup import SetupError
    from calendar_app.services.sync_session import secret_store_for
    from calendar_app.store.app_paths import AppPaths

    # The URL, then the user name, before any password is asked for (the set-up checks the rest).
    try:
        if args.ews_url is not None:
            parse_ews_url(args.ews_url)
    except InvalidEwsUrlError as error:
        raise CliError(str(error)) from error
    user_problem = user_name_problem(args.user) if args.user is not None else None
    if user_problem is not None:
        raise CliError(f"--user {user_problem}")
    paths = AppPaths.for_current_user()
    secrets = secret_store_for(paths)
    asks_password = args.user is not None or os.environ.get(PASSWORD_VARIABLE) is not None
    password = _secret(PASSWORD_VARIABLE, "Exchange password: ") if asks_password else None
    keystore_password = _secret(KEYSTORE_PASSWORD_VARIABLE, "Keystore password: ") if args.keystore else None
    request = SetupRequest(ews_url=args.ews_url, mailbox=args.mailbox, username=args.user, sign_in_mode=args.sign_in,
                           keystore_file=args.keystore, keystore_password=keystore_password, password=password,
                           enabled=args.enabled, check_connection=not args.no_check)
    try:
        result = apply_setup(paths, request, secrets)
    except SetupError as error:
        raise CliError(str(error)) from error
    for note in result.notes:
        print(f"note: {note}")
    settings = result.settings
    state = "enabled" if settings.integration_enabled else "disabled"
    checked = " (connection tested)" if result.connection_checked else ""
    print(f"Saved: {settings.ews_url} as {settings.username} for {settings.mailbox} "
          f"({settings.sign_in_mode}); integration {state}{checked}.")
    return 0


def _secret(variable: str, prompt: str) -> str:
    value = os.environ.get(variable)
    if value is None:
        if not sys.stdin.isatty():
            raise CliError(f"{prompt.rstrip(': ')} needed: set {variable} or run in a terminal to be asked.")
        value = getpass.getpass(prompt)
    if not value:
        raise CliError(f"{prompt.rstrip(': ')} is empty: set {variable} or type it when asked.")
    register_secret(value)
    return value
