"""The sync branch's state machine of random local and remote edits, syncs and faults, run against the
Exchange adapter and the sandbox (real TLS + NTLM) instead of the in-memory fake. Faults are the
sandbox's own: ErrorServerBusy, HTTP 503, a connection dropped before or after the server acted.

Examples: EXCHANGE_MACHINE_EXAMPLES (default 3; each starts a sandbox)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

from calendar_app.exchange.connection_settings import SignInMode
from tests.support.calendar_sync import LocalCalendar
from tests.support.exchange_sandbox import SandboxRemote, start_sandbox
from tests.test_sync_state_machine import OPERATIONS, CalendarSync

EWS_OPERATION = {"create": "CreateItem", "update": "UpdateItem", "cancel_meeting": "CreateItem",
                 "move_to_deleted_items": "DeleteItem", "sync_changes": "SyncFolderItems", "get": "GetItem",
                 "find_by_local_uuid": "FindItem"}
SANDBOX_FAULT = {"throttled": ("busy", 10), "transient": ("http503", 0), "lost-after-commit": ("drop-after", 0),
                 "lost-before-commit": ("drop-before", 0)}


class ExchangeCalendarSync(CalendarSync):
    def __init__(self) -> None:
        super().__init__()  # builds the fake-based set-up, replaced here
        self.local.database.close()
        self.sandbox_folder = tempfile.TemporaryDirectory()
        self.server = start_sandbox(Path(self.sandbox_folder.name))
        self.remote = SandboxRemote(self.server, SignInMode.IMPERSONATION)  # type: ignore[assignment]
        self.local = LocalCalendar.open(Path(self.folder.name) / "exchange.sqlite3", self.remote,
                                        policy=self.policy, page_size=3, mass_delete_min_items=10**6)

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            self.remote.close()  # type: ignore[attr-defined]
            self.server.stop()
            self.sandbox_folder.cleanup()
            assert not self.server.internal_errors, self.server.internal_errors

    @rule(kind=st.sampled_from(sorted(SANDBOX_FAULT)), operation=st.sampled_from(OPERATIONS),
          times=st.integers(1, 2))
    def fault(self, kind: str, operation: str | None, times: int) -> None:
        name, value = SANDBOX_FAULT[kind]
        self.server.faults.add(name, value=value, operation=EWS_OPERATION.get(operation or ""), times=times)


ExchangeCalendarSync.TestCase.settings = settings(
    max_examples=int(os.environ.get("EXCHANGE_MACHINE_EXAMPLES", "3")), stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestExchangeCalendarSync = ExchangeCalendarSync.TestCase
