"""`calendar-app --self-test`: check an installation (Qt, TLS, exchangelib, keyring, database).

A top-level option rather than a sub-command, like `--version`: it runs as soon as it is parsed
and exits with the self-test's status.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any


class _RunSelfTest(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        # Imported here so that other commands start without loading Qt, exchangelib or keyring.
        from calendar_app.app import run_self_test

        parser.exit(run_self_test())


def add_self_test_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--self-test", action=_RunSelfTest,
                        help="check this installation (Qt window offscreen, TLS, exchangelib, keyring, "
                             "database in a temp folder); one line per check, non-zero exit on any failure")
