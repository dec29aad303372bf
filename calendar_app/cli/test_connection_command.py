"""`calendar-app test-connection`: the wizard's step-by-step connection test on the command line.

Uses the saved set-up (settings file, keystore, passwords in the keyring); options replace parts of
it, e.g. to try a new password before saving it. Exit code 0 when every step passed, 1 when one failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calendar_app.cli.errors import CliError
from calendar_app.logging_setup import configure_logging, register_secret
from calendar_app.services.account_names import mailbox_problem, user_name_problem
from calendar_app.store.app_paths import AppPaths
from calendar_app.store.errors import StoreError
from calendar_app.store.settings_file import load_settings

if TYPE_CHECKING:
    from cryptography import x509

    from calendar_app.security.secret_store import SecretStore


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "test-connection", help="test the Exchange connection step by step (as the set-up wizard does)",
        description="Run the connection test: name, TCP, TLS, keystore match, sign-in, server version, "
        "impersonation (or own mailbox), calendar read, write probe, streaming. Uses the saved set-up; "
        "the options replace parts of it.")
    parser.add_argument("--url", help="EWS URL (default: the saved one)")
    parser.add_argument("--mailbox", help="the rep's mailbox (default: the saved one)")
    parser.add_argument("--user", help="DOMAIN\\user or UPN to sign in as (default: the saved one)")
    parser.add_argument("--own-account", action="store_true", help="sign in as the rep, without impersonation")
    parser.add_argument("--basic", action="store_true", help="use Basic instead of NTLM")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input instead of the keyring")
    parser.add_argument("--certificate", type=Path,
                        help="trust this certificate file (.cer/.pem/.der) instead of the saved keystore")
    parser.add_argument("--skip-write-probe", action="store_true",
                        help="do not create and delete a private test item")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for each step (default 20)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: every start of the app (the window too) builds this command's parser, and
    # exchangelib alone takes longer to load than the window takes to show.
    from calendar_app.exchange.connection_settings import AuthType, SignInMode
    from calendar_app.security.secret_store import SecretStore
    from calendar_app.services.connection_test import ConnectionTestRequest, Outcome, run_connection_test

    paths = AppPaths.for_current_user()
    # Into the app's log, not onto the terminal: the steps printed below are the output.
    configure_logging(paths.log_file)
    try:
        settings = load_settings(paths.settings_file).settings
    except StoreError as error:
        raise CliError(str(error)) from None
    url = args.url or settings.ews_url
    mailbox = args.mailbox or settings.mailbox
    user = args.user or settings.username
    if not (url and mailbox and user):
        raise CliError("No Exchange connection is set up: run the set-up wizard (calendar-app), or pass "
                       "--url, --mailbox and --user.")
    for problem in (mailbox_problem(mailbox), user_name_problem(user)):
        if problem is not None:
            raise CliError(problem)
    secrets = SecretStore()
    request = ConnectionTestRequest(
        ews_url=url, mailbox=mailbox, username=user, password=_password(args, secrets),
        trusted_certificates=_trusted(args, paths, secrets),
        sign_in_mode=SignInMode.OWN_ACCOUNT if args.own_account else SignInMode(settings.sign_in_mode),
        auth_type=AuthType.BASIC if args.basic else AuthType(settings.auth_type),
        write_probe=not args.skip_write_probe, timeout_seconds=args.timeout)
    print(f"Testing {url} for {mailbox} as {user}")
    passed = True
    for result in run_connection_test(request):
        print(result.line(), flush=True)
        passed = passed and result.outcome in (Outcome.PASSED, Outcome.SKIPPED)
    print("All steps passed." if passed else "The connection test failed; see the advice above.")
    return 0 if passed else 1


def _password(args: argparse.Namespace, secrets: SecretStore) -> str:
    from calendar_app.security.secret_store import EXCHANGE_PASSWORD, SecretStoreError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CliError("--password-stdin: no password on standard input.")
        register_secret(password)
        return password
    try:
        password = secrets.get(EXCHANGE_PASSWORD)
    except SecretStoreError as error:
        raise CliError(str(error)) from None
    if not password:
        raise CliError("No Exchange password in the system keyring: run the set-up wizard, or pass "
                       "--password-stdin.")
    return password


def _trusted(args: argparse.Namespace, paths: AppPaths, secrets: SecretStore) -> tuple[x509.Certificate, ...]:
    from calendar_app.security.certificate_files import CertificateFileError, read_certificate_file
    from calendar_app.security.keystore import KeystoreError
    from calendar_app.security.secret_store import SecretStoreError
    from calendar_app.security.security_profile import load_installed_keystore

    if args.certificate is not None:
        try:
            return tuple(read_certificate_file(args.certificate)[:1])
        except CertificateFileError as error:
            raise CliError(str(error)) from None
    try:
        return load_installed_keystore(paths.keystore_dir, secrets).trusted_certificates
    except (KeystoreError, SecretStoreError) as error:
        raise CliError(f"{error} (or pass --certificate FILE)") from None
