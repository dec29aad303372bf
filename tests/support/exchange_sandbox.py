"""The Exchange adapter against a running sandbox: real TLS (the security branch's pinned adapter,
trusting only the sandbox's own root), real NTLM, both sign-in modes.

`SandboxRemote` is an `ExchangeCalendar` plus what a test does beside the app (another client
editing the calendar, the sandbox's count of sent invitations), so the RemoteCalendar contract
suite and the sync tests can run against it exactly as they run against the in-memory fake.
"""

from __future__ import annotations

import contextlib
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from calendar_app.domain.appointment import SYNCED_FIELDS, Appointment
from calendar_app.domain.remote_errors import ItemGone
from calendar_app.domain.remote_items import RemoteItem, SendTo
from calendar_app.exchange.account_factory import close_account, make_account
from calendar_app.exchange.connection_settings import ConnectionSettings, SignInMode
from calendar_app.exchange.exchange_calendar import ExchangeCalendar
from calendar_app.sandbox import SandboxConfig, SandboxServer, SandboxUser
from calendar_app.sandbox.tls_material import load_or_create
from calendar_app.security.pinned_transport import PinnedTlsAdapter

SERVICE = SandboxUser("CONTOSO", "svc-calendar", "Svc-Pass-1")
REP = SandboxUser("CONTOSO", "rep", "Rep-Pass-1")
REP_MAILBOX = "rep@contoso.com"
LOCAL_ZONE = "Europe/Berlin"

_seeded_tls: Path | None = None


def sandbox_config(**overrides: Any) -> SandboxConfig:
    values: dict[str, Any] = {"users": (SERVICE, REP), "mailboxes": (REP_MAILBOX,), "streaming_heartbeat_seconds": 5.0}
    values.update(overrides)
    return SandboxConfig(**values)


def start_sandbox(state_dir: Path, config: SandboxConfig | None = None) -> SandboxServer:
    """A started sandbox keeping its state in `state_dir`; the TLS chain is made once per process
    (RSA key generation is the slow part) and copied in."""
    global _seeded_tls
    if not (state_dir / "tls").exists():
        if _seeded_tls is None or not _seeded_tls.exists():
            import tempfile

            _seeded_tls = Path(tempfile.mkdtemp(prefix="exchange-tests-tls-"))
            load_or_create(_seeded_tls, "127.0.0.1")
        shutil.copytree(_seeded_tls, state_dir / "tls")
    return SandboxServer(config or sandbox_config(), state_dir).start()


def trusted_certificates(server: SandboxServer) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate(server.ca_pem)]


def connection_settings(server: SandboxServer, mode: SignInMode, **overrides: Any) -> ConnectionSettings:
    user = SERVICE if mode is SignInMode.IMPERSONATION else REP
    values: dict[str, Any] = {"ews_url": server.url, "mailbox": REP_MAILBOX, "username": user.account,
                              "sign_in_mode": mode, "timeout_seconds": 10.0}
    values.update(overrides)
    return ConnectionSettings(**values)


def password_for(mode: SignInMode) -> str:
    return SERVICE.password if mode is SignInMode.IMPERSONATION else REP.password


def open_calendar(server: SandboxServer, mode: SignInMode, **overrides: Any) -> ExchangeCalendar:
    trusted = trusted_certificates(server)
    account = make_account(connection_settings(server, mode, **overrides), password_for(mode),
                           lambda: PinnedTlsAdapter(trusted), timezone=LOCAL_ZONE)
    return ExchangeCalendar(account, local_zone=LOCAL_ZONE)


class SandboxRemote(ExchangeCalendar):
    """The app's adapter, plus a second client (the rep in Outlook) and the sandbox's outbox."""

    def __init__(self, server: SandboxServer, mode: SignInMode) -> None:
        app = open_calendar(server, mode)
        super().__init__(app.account, local_zone=LOCAL_ZONE)
        self.server = server
        # "Outlook": the rep's own account; its items carry no local UUID.
        self.outlook = open_calendar(server, SignInMode.OWN_ACCOUNT)

    def close(self) -> None:
        for calendar in (self, self.outlook):
            with contextlib.suppress(Exception):
                close_account(calendar.account)

    # ------------------------------------------------------------------ another client
    # Sandbox faults hit every client; the test's own look-ups and the other client's edits set
    # the faults aside while they run, as the fake's faults only ever hit the app.
    @contextlib.contextmanager
    def _faults_aside(self) -> Iterator[None]:
        pending = [fault.describe() for fault in self.server.faults.active]
        self.server.faults.clear()
        try:
            yield
        finally:
            for spec in pending:
                self.server.faults.add_spec(spec)

    def external_create(self, appointment: Appointment, *, with_local_uuid: bool = False) -> str:
        from exchangelib.items import SEND_TO_NONE

        from calendar_app.exchange.item_mapping import LOCAL_UUID_FIELD, new_calendar_item

        with self._faults_aside():
            item = new_calendar_item(self.outlook.account, appointment)
            if not with_local_uuid:
                setattr(item, LOCAL_UUID_FIELD, None)
            item.save(send_meeting_invitations=SEND_TO_NONE)
        return str(item.id)

    def external_update(self, item_id: str, **changes: Any) -> str:
        with self._faults_aside():
            current = self.outlook.get(item_id)
            wanted = current.appointment.with_changes(**changes)
            fields = [name for name in SYNCED_FIELDS if getattr(wanted, name) != getattr(current.appointment, name)]
            version = self.outlook.update(item_id, current.change_key, wanted, fields or ["subject"],
                                          send_to=SendTo.NOBODY)
        return version.change_key

    def external_delete(self, item_id: str) -> None:
        with self._faults_aside():
            self.outlook.move_to_deleted_items(item_id)

    # ------------------------------------------------------------------ what the server holds and sent
    def peek(self, item_id: str) -> RemoteItem:
        with self._faults_aside():
            return self.outlook.get(item_id)

    def clear_faults(self) -> None:
        self.server.faults.clear()

    def items(self) -> list[RemoteItem]:
        ids = [stored.item_id for stored in self.server.calendar_items(REP_MAILBOX)]
        found: list[RemoteItem] = []
        with self._faults_aside():
            for item_id in ids:
                # the app's sync thread may delete an item between the listing and the read
                with contextlib.suppress(ItemGone):
                    found.append(self.outlook.get(item_id))
        return found

    def invitation_counts(self) -> dict[str, int]:
        sent = self.server.sent_messages(REP_MAILBOX)
        return dict(Counter(m.recipient.lower() for m in sent if m.kind in ("invitation", "update")))

    def cancellation_counts(self) -> dict[str, int]:
        sent = self.server.sent_messages(REP_MAILBOX, kind="cancellation")
        return dict(Counter(m.recipient.lower() for m in sent))


@dataclass
class RunningSandbox:
    server: SandboxServer
    remotes: list[SandboxRemote]

    def remote(self, mode: SignInMode) -> SandboxRemote:
        remote = SandboxRemote(self.server, mode)
        self.remotes.append(remote)
        return remote


@contextlib.contextmanager
def running_sandbox(state_dir: Path, config: SandboxConfig | None = None) -> Iterator[RunningSandbox]:
    server = start_sandbox(state_dir, config)
    running = RunningSandbox(server, [])
    try:
        yield running
    finally:
        for remote in running.remotes:
            remote.close()
        server.stop()
        assert not server.internal_errors, f"the sandbox crashed on: {server.internal_errors}"

