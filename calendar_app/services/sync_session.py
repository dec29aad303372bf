"""One rep's sync, composed: settings + keyring + keystore → ExchangeCalendar + SyncEngine (+ the
streaming notifier). Used by the CLI (`calendar-app sync`, `status`) and by the GUI's sync
controller, which owns the thread the session runs on. Qt-free.

API::

    paths = AppPaths.for_current_user()
    session = SyncSession.open(paths)           # raises SessionError (one actionable sentence)
    report = session.run_once(cancel_event)     # push + pull; never raises; status file updated
    session.run_live(cancel_event, local_change=event, on_report=callback)   # until cancel_event
    notifier = session.open_notifier()          # a ChangeNotifier on its own connection
    session.close()                             # connections and database (idempotent)

    read_status(paths) -> SyncStatus            # what the last run said, plus counts from the database
    secret_store_for(paths) -> SecretStore      # the keyring entries of this profile

Everything runs on the calling thread: create the session on the sync thread and use it there
(its SQLite connection belongs to that thread). The server version is pinned into the settings
after the first successful contact, so later sessions skip the version probe.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from calendar_app.exchange.account_factory import AdapterFactory, close_account, make_account
from calendar_app.exchange.connection_settings import AuthType, ConnectionSettings, SignInMode
from calendar_app.exchange.exchange_calendar import ExchangeCalendar
from calendar_app.exchange.streaming_notifier import StreamingChangeNotifier
from calendar_app.security.keystore import KeystoreError
from calendar_app.security.pinned_transport import PinnedTlsAdapter
from calendar_app.security.secret_store import EXCHANGE_PASSWORD, SERVICE_NAME, SecretStore, SecretStoreError
from calendar_app.security.security_profile import load_installed_keystore
from calendar_app.store.app_paths import AppPaths, user_config_dir
from calendar_app.store.database import Database
from calendar_app.store.errors import StoreError
from calendar_app.store.outbox import Outbox
from calendar_app.store.settings_file import Settings, load_settings, save_settings
from calendar_app.store.sync_ledger import SyncLedger
from calendar_app.store.sync_records import SyncRecords
from calendar_app.sync.change_notifier import ChangeNotifier
from calendar_app.sync.engine import SyncEngine
from calendar_app.sync.live_sync import ReportCallback, run_live
from calendar_app.sync.report import SyncReport

log = logging.getLogger(__name__)

STATUS_FILE_NAME = "sync-status.json"


class SessionError(Exception):
    """The sync cannot start; `str()` says what to do."""


def secret_store_for(paths: AppPaths) -> SecretStore:
    """The default profile uses the keyring service `calendar-app`; a profile in other folders
    (XDG_CONFIG_HOME pointing elsewhere) gets its own, so profiles never share passwords."""
    if paths.config_dir == user_config_dir():
        return SecretStore()
    return SecretStore(service=f"{SERVICE_NAME} ({paths.config_dir})")


def local_zone_name() -> str:
    """The IANA name of this computer's time zone (used for new appointments and for items whose
    zone Exchange does not tell)."""
    zone = os.environ.get("TZ", "").lstrip(":")
    if zone and "/" in zone and not zone.startswith("/"):
        return zone
    with contextlib.suppress(OSError):
        link = Path("/etc/localtime").resolve()
        parts = link.parts
        if "zoneinfo" in parts:
            return "/".join(parts[parts.index("zoneinfo") + 1:])
    with contextlib.suppress(OSError):
        text = Path("/etc/timezone").read_text(encoding="utf-8").strip()
        if "/" in text:
            return text
    return "UTC"


def connection_settings(settings: Settings) -> ConnectionSettings:
    return ConnectionSettings(
        ews_url=settings.ews_url, mailbox=settings.mailbox, username=settings.username,
        sign_in_mode=SignInMode(settings.sign_in_mode), auth_type=AuthType(settings.auth_type),
        server_version=settings.server_version)


def load_configured_settings(paths: AppPaths) -> Settings:
    try:
        loaded = load_settings(paths.settings_file)
    except StoreError as error:
        raise SessionError(str(error)) from error
    if loaded.problem:
        raise SessionError(loaded.problem)
    settings = loaded.settings
    if not (settings.ews_url and settings.mailbox and settings.username):
        raise SessionError("Exchange is not configured yet. Run 'calendar-app configure --ews-url URL --mailbox "
                           "SMTP --user NAME --keystore FILE' (or the set-up wizard).")
    if not settings.integration_enabled:
        raise SessionError("The Exchange calendar integration is disabled. Enable it with "
                           "'calendar-app configure --enable' (or in Settings).")
    return settings


def adapter_factory_for(paths: AppPaths, secrets: SecretStore) -> AdapterFactory:
    """HTTPS that trusts exactly the uploaded keystore's certificates."""
    try:
        keystore = load_installed_keystore(paths.keystore_dir, secrets)
    except (KeystoreError, SecretStoreError) as error:
        raise SessionError(str(error)) from error
    trusted = keystore.trusted_certificates
    return lambda: PinnedTlsAdapter(trusted)


class SyncSession:
    def __init__(self, *, paths: AppPaths, settings: Settings, database: Database, remote: ExchangeCalendar,
                 engine: SyncEngine, make_notifier_account: Callable[[], Any]) -> None:
        self.paths = paths
        self.settings = settings
        self.database = database
        self.remote = remote
        self.engine = engine
        self._make_notifier_account = make_notifier_account
        self._notifier: StreamingChangeNotifier | None = None
        self._closed = False

    @classmethod
    def open(cls, paths: AppPaths, *, secrets: SecretStore | None = None, database: Database | None = None,
             local_zone: str | None = None) -> SyncSession:
        settings = load_configured_settings(paths)
        store = secrets or secret_store_for(paths)
        try:
            password = store.get(EXCHANGE_PASSWORD)
        except SecretStoreError as error:
            raise SessionError(str(error)) from error
        if not password:
            raise SessionError("The Exchange password is missing from the system keyring. Enter it again with "
                               "'calendar-app configure' (or in Settings, Authentication).")
        adapter_factory = adapter_factory_for(paths, store)
        zone = local_zone or local_zone_name()
        connection = connection_settings(settings)

        def new_account() -> Any:
            return make_account(connection, password, adapter_factory, timezone=zone)

        try:
            opened = database or Database.open(paths.database_file)
        except StoreError as error:
            raise SessionError(str(error)) from error
        remote = ExchangeCalendar(new_account(), local_zone=zone)
        engine = SyncEngine(opened, remote, conflict_policy=settings.conflict_policy)
        return cls(paths=paths, settings=settings, database=opened, remote=remote, engine=engine,
                   make_notifier_account=new_account)

    # ------------------------------------------------------------------ running
    def run_once(self, cancel_event: threading.Event | None = None) -> SyncReport:
        report = self.engine.run_once(cancel_event)
        self._after_run(report)
        return report

    def open_notifier(self) -> ChangeNotifier:
        if self._notifier is None:
            self._notifier = StreamingChangeNotifier(self._make_notifier_account)
        return self._notifier

    def run_live(self, cancel_event: threading.Event, *, local_change: threading.Event | None = None,
                 on_report: ReportCallback | None = None, catch_up_seconds: float = 300.0) -> int:
        """Push and pull in real time until `cancel_event` is set. Returns the number of runs.
        Edits saved by other processes (the CLI) are noticed by polling the database; the GUI
        sets `local_change` after each save instead."""
        last_seen = [self._local_signature()]

        def new_local_work() -> bool:
            # Any write to the calendar or the outbox since the last look, including the engine's
            # own (which costs one extra, empty run) — never an operation that merely waits, such
            # as one held by a conflict, which would otherwise make every poll a run.
            current = self._local_signature()
            if current == last_seen[0]:
                return False
            last_seen[0] = current
            return True

        def report(result: SyncReport) -> None:
            self._after_run(result)
            if on_report is not None:
                on_report(result)

        return run_live(self.engine, self.open_notifier(), cancel_event, local_change=local_change,
                        has_local_work=new_local_work, on_report=report, catch_up_seconds=catch_up_seconds)

    def _local_signature(self) -> tuple[object, ...]:
        with self.database.reading() as c:
            row = c.execute("SELECT (SELECT MAX(updated_at) FROM appointments), (SELECT COUNT(*) FROM appointments), "
                            "(SELECT MAX(id) FROM outbox), (SELECT COUNT(*) FROM outbox)").fetchone()
        return tuple(row)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._notifier is not None:
            self._notifier.close()
        with contextlib.suppress(Exception):
            close_account(self.remote.account)
        self.database.close()

    def _after_run(self, report: SyncReport) -> None:
        if report.fatal_error is None and report.retry_after_seconds is None and not self.settings.server_version:
            self._pin_server_version()
        try:
            write_status(self.paths, report)
        except OSError as error:
            log.warning("could not write the sync status: %s", error)

    def _pin_server_version(self) -> None:
        try:
            version = self.remote.server_version()
        except Exception as error:  # only an optimisation: never let it fail a sync
            log.info("server version not pinned: %s", error)
            return
        try:
            current = load_settings(self.paths.settings_file).settings
            save_settings(self.paths.settings_file, current.with_changes(server_version=version))
            self.settings = self.settings.with_changes(server_version=version)
        except StoreError as error:
            log.warning("could not pin the server version: %s", error)


# ---------------------------------------------------------------------- status
@dataclass(frozen=True)
class SyncStatus:
    configured: bool
    enabled: bool
    ews_url: str
    mailbox: str
    sign_in_mode: str
    connection: str  # never-synced / connected / retrying / stopped
    last_sync: str | None
    last_message: str | None
    pending: int
    failed: int
    conflicting: int
    failures: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["failures"] = [{"uuid": u, "error": e} for u, e in self.failures]
        return data


def write_status(paths: AppPaths, report: SyncReport) -> None:
    message: str | None
    if report.fatal_error:
        connection, message = "stopped", report.fatal_error
    elif report.retry_after_seconds is not None:
        connection, message = "retrying", report.retry_reason
    else:
        connection, message = "connected", report.summary()
    document = {"connection": connection, "message": message, "finished_at": report.finished_at.isoformat()}
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    target = paths.data_dir / STATUS_FILE_NAME
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(document), encoding="utf-8")
    temporary.replace(target)


def read_status(paths: AppPaths, database: Database | None = None) -> SyncStatus:
    try:
        settings = load_settings(paths.settings_file).settings
    except StoreError:
        settings = Settings()
    last: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        last = json.loads((paths.data_dir / STATUS_FILE_NAME).read_text(encoding="utf-8"))
    pending = failed = conflicting = 0
    failures: tuple[tuple[str, str], ...] = ()
    opened = database
    if opened is None and paths.database_file.exists():
        opened = Database.open(paths.database_file)
    if opened is not None:
        try:
            counts = SyncRecords(opened).counts()
            pending = Outbox(opened).pending_count()
            failed, conflicting = counts.get("failed", 0), counts.get("conflict", 0)
            failures = tuple(SyncLedger(opened).failed_items())
        finally:
            if database is None:
                opened.close()
    return SyncStatus(
        configured=bool(settings.ews_url and settings.mailbox and settings.username),
        enabled=settings.integration_enabled, ews_url=settings.ews_url, mailbox=settings.mailbox,
        sign_in_mode=settings.sign_in_mode, connection=str(last.get("connection", "never-synced")),
        last_sync=last.get("finished_at"), last_message=last.get("message"), pending=pending, failed=failed,
        conflicting=conflicting, failures=failures)

