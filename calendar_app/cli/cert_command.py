"""`calendar-app cert fetch|show`: the server certificate, without Chrome's developer tools."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calendar_app.cli.errors import CliError

if TYPE_CHECKING:
    from calendar_app.security.certificate_details import CertificateDetails

# The TLS and keystore libraries load only when a certificate command runs, so that the window
# and the other commands start without them. Must equal certificate_capture.DEFAULT_TIMEOUT_SECONDS.
DEFAULT_TIMEOUT_SECONDS = 10.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("cert", help="capture, inspect and save the Exchange server's TLS certificate")
    commands = parser.add_subparsers(dest="cert_command", metavar="ACTION", required=True)

    fetch = commands.add_parser("fetch", help="connect to the server and show (and save) the certificate it presents",
                                description="Connects without trusting anything yet, shows every certificate "
                                "the server presents and whether it matches the host, is trusted by this "
                                "computer and is still valid.")
    fetch.add_argument("url", metavar="URL", help="the EWS URL, e.g. https://mail.example.com/EWS/Exchange.asmx")
    fetch.add_argument("--out", type=Path, metavar="FILE", help="save the certificate here (like 'Copy to File')")
    fetch.add_argument("--chain", action="store_true", help="save the whole chain, not only the server certificate")
    fetch.add_argument("--der", action="store_true", help="save DER (binary) instead of Base-64 (PEM)")
    fetch.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS, metavar="SECONDS",
                       help=f"give up after this long (default {DEFAULT_TIMEOUT_SECONDS:g})")
    fetch.set_defaults(func=run_fetch)

    show = commands.add_parser("show", help="show the certificates in a file (PEM, DER, bundle or .p7b)")
    show.add_argument("file", type=Path, metavar="FILE")
    show.set_defaults(func=run_show)


def run_fetch(args: argparse.Namespace) -> int:
    from calendar_app.security.certificate_capture import CaptureError
    from calendar_app.security.certificate_files import CertificateFileError
    from calendar_app.security.ews_url import InvalidEwsUrlError
    from calendar_app.services.certificates import fetch_server_certificates, save_certificates

    if args.timeout <= 0:
        raise CliError("--timeout must be a positive number of seconds")
    try:
        result = fetch_server_certificates(args.url, args.timeout)
    except (InvalidEwsUrlError, CaptureError) as error:
        raise CliError(str(error)) from error
    for note in result.notes:
        print(f"Note: {note}")
    captured = result.captured
    print(f"Connected to {captured.endpoint.address} ({captured.tls_version}, {captured.cipher}); "
          f"the server presented {len(captured.certificates)} certificate(s). Nothing has been trusted.")
    print_certificates(result.assessment.certificates)
    print("\nChain")
    print_rows(result.assessment.rows())
    warnings = result.assessment.warnings()
    if warnings:
        print("\nBefore trusting this server, note:")
        for warning in warnings:
            print(f"  - {warning}")
    if args.out is not None:
        try:
            what = save_certificates(captured.certificates, args.out, der=args.der, whole_chain=args.chain)
        except CertificateFileError as error:
            raise CliError(str(error)) from error
        except OSError as error:
            raise CliError(f"cannot write {args.out}: {error.strerror or error}") from error
        print(f"\nSaved {what} to {args.out}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from calendar_app.security.certificate_files import CertificateFileError
    from calendar_app.services.certificates import open_certificate_file

    try:
        details = open_certificate_file(args.file)
    except CertificateFileError as error:
        raise CliError(str(error)) from error
    print(f"{args.file}: {len(details)} certificate(s)")
    print_certificates(details)
    return 0


def print_certificates(details: Sequence[CertificateDetails]) -> None:
    for index, certificate in enumerate(details, start=1):
        role = " (server)" if index == 1 and len(details) > 1 else ""
        print(f"\nCertificate {index} of {len(details)}{role}: {certificate.subject_common_name}")
        print_rows(certificate.rows())


def print_rows(rows: Sequence[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label + ':':<{width + 1}} {value}")
