"""`calendar-app keystore create|show|upload`: keytool's truststore steps, scriptable."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from calendar_app.cli.errors import CliError
from calendar_app.logging_setup import register_secret

# The keystore libraries load only when a keystore command runs (see cert_command).
# Must equal the values of security.keystore.KeystoreType.
STORE_TYPES = ("pkcs12", "jks")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("keystore", help="create, inspect and upload Java-compatible keystores")
    commands = parser.add_subparsers(dest="keystore_command", metavar="ACTION", required=True)

    create = commands.add_parser("create", help="make a truststore from certificate files (like keytool -importcert)")
    create.add_argument("--cert", type=Path, action="append", required=True, metavar="FILE",
                        help="certificate file (PEM/.cer, DER, bundle or .p7b); repeat for more")
    create.add_argument("--alias", required=True, metavar="NAME", help="the entry's name, e.g. exchange-server")
    create.add_argument("--out", type=Path, required=True, metavar="FILE", help="the keystore to write (new file)")
    create.add_argument("--storetype", choices=STORE_TYPES, default=STORE_TYPES[0],
                        help="pkcs12 (keytool's default since Java 9) or jks")
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input (not asked twice)")
    create.add_argument("--noprompt", action="store_true", help="do not ask 'Trust this certificate?'")
    create.set_defaults(func=run_create)

    show = commands.add_parser("show", help="list a keystore's entries (checks the password)")
    show.add_argument("file", type=Path, metavar="FILE")
    show.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    show.set_defaults(func=run_show)

    upload = commands.add_parser("upload", help="use a keystore for the Exchange connection (the security profile)")
    upload.add_argument("file", type=Path, metavar="FILE")
    upload.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    upload.set_defaults(func=run_upload)


def run_create(args: argparse.Namespace) -> int:
    from calendar_app.security.certificate_details import describe_certificate
    from calendar_app.security.certificate_files import CertificateFileError
    from calendar_app.security.keystore import KeystoreError, KeystoreType, check_new_password
    from calendar_app.services.keystores import plan_truststore, write_truststore

    try:
        plan = plan_truststore(args.cert, args.alias)
    except (CertificateFileError, KeystoreError) as error:
        raise CliError(str(error)) from error
    password = read_password(args.password_stdin, "Enter keystore password:  ", confirm=True)
    try:
        check_new_password(password)
    except KeystoreError as error:
        raise CliError(str(error)) from error
    for note in plan.notes:
        print(f"Note: {note}")
    for entry in plan.entries:
        details = describe_certificate(entry.certificate)
        rows = dict(details.rows())
        print(f"\nAlias: {entry.alias}")
        print(f"Owner: {details.subject}")
        print(f"Issuer: {details.issuer}")
        print(f"Serial number: {details.serial_number}")
        print(f"Valid from: {rows['Valid from']} until: {rows['Valid until']} ({details.validity_text()})")
        print("Certificate fingerprints:")
        print(f"\t SHA1: {details.sha1}")
        print(f"\t SHA256: {details.sha256}")
        if not args.noprompt and not ask_yes("Trust this certificate? [no]:  "):
            raise CliError(f"Certificate '{entry.alias}' was not trusted; no keystore was written.")
    try:
        out = write_truststore(plan, password, args.out, KeystoreType(args.storetype))
    except KeystoreError as error:
        raise CliError(str(error)) from error
    except OSError as error:
        raise CliError(f"cannot write {args.out}: {error.strerror or error}") from error
    print(f"\nCertificate{'s were' if len(plan.entries) > 1 else ' was'} added to keystore {out} "
          f"({args.storetype.upper()}, {len(plan.entries)} trusted entr{'ies' if len(plan.entries) > 1 else 'y'})")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from calendar_app.security.keystore import KeystoreError
    from calendar_app.services.keystores import open_keystore

    password = read_password(args.password_stdin, "Enter keystore password:  ", confirm=False)
    try:
        keystore = open_keystore(args.file, password)
    except KeystoreError as error:
        raise CliError(str(error)) from error
    print(f"Keystore type: {keystore.store_type.name}")
    print(f"Your keystore contains {len(keystore.entries)} entr{'y' if len(keystore.entries) == 1 else 'ies'}\n")
    for alias, kind, fingerprint, expiry in (entry.row() for entry in keystore.entries):
        print(f"{alias}, {kind}, expires {expiry or 'n/a'}")
        print(f"Certificate fingerprint (SHA-256): {fingerprint or 'n/a'}")
    for warning in keystore.warnings():
        print(f"Warning: {warning}")
    return 0


def run_upload(args: argparse.Namespace) -> int:
    from calendar_app.security.keystore import KeystoreError
    from calendar_app.security.secret_store import SecretStoreError
    from calendar_app.services.keystores import upload_keystore

    password = read_password(args.password_stdin, "Enter keystore password:  ", confirm=False)
    try:
        installed = upload_keystore(args.file, password)
    except (KeystoreError, SecretStoreError) as error:
        raise CliError(str(error)) from error
    except OSError as error:
        raise CliError(f"cannot copy the keystore: {error.strerror or error}") from error
    trusted = len(installed.keystore.trusted_certificates)
    print(f"Uploaded {args.file} as {installed.path} ({trusted} trusted certificate(s)); "
          "its password is in the system keyring.")
    for warning in installed.warnings:
        print(f"Warning: {warning}")
    return 0


def read_password(from_stdin: bool, prompt: str, *, confirm: bool) -> str:
    """Like keytool: from the terminal when there is one (asked twice for a new keystore),
    otherwise line by line from standard input."""
    if from_stdin:
        password = _read_line("the password on standard input")
    elif sys.stdin.isatty():
        password = getpass.getpass(prompt)
        if confirm and getpass.getpass("Re-enter new password: ") != password:
            raise CliError("The passwords do not match; nothing was written. Try again.")
    else:
        print(prompt, end="", file=sys.stderr, flush=True)
        password = _read_line("a password (or use --password-stdin)")
        if confirm:
            print("Re-enter new password: ", end="", file=sys.stderr, flush=True)
            if _read_line("the password a second time") != password:
                raise CliError("The passwords do not match; nothing was written. Try again.")
    if not password:
        raise CliError("No password given. Type the keystore password, or pipe it in with --password-stdin.")
    register_secret(password)
    return password


def ask_yes(prompt: str) -> bool:
    print(prompt, end="", file=sys.stderr, flush=True)
    line = sys.stdin.readline()
    if not line:
        raise CliError("No answer to 'Trust this certificate?' (standard input ended); nothing was written. "
                       "Answer 'yes', or use --noprompt.")
    return line.strip().lower() in {"y", "yes"}


def _read_line(what: str) -> str:
    line = sys.stdin.readline()
    if not line:
        raise CliError(f"Expected {what}, but standard input ended; nothing was changed.")
    return line.rstrip("\r\n")
