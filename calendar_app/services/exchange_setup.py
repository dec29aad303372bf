"""Set up (or change) the Exchange connection of one profile: the use case behind
`calendar-app configure` and the same checks as the wizard.

Order matters: everything is validated first — the URL, the mailbox, the keystore with its
password, and (when the integration is enabled) a real connection through the pinned transport —
and only then is the set-up saved, by the wizard's own all-or-nothing `services.setup.apply_setup`
(keystore, keyring, settings file; earlier parts put back if a later one fails). A failed step
leaves the profile exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from calendar_app.domain.appointment import is_valid_email
from calendar_app.domain.remote_errors import RemoteError
from calendar_app.exchange.account_factory import close_account, make_account
from calendar_app.exchange.connection_settings import AuthType, SignInMode
from calendar_app.exchange.exchange_calendar import ExchangeCalendar
from calendar_app.security.certificate_details import sha256_fingerprint
from calendar_app.security.ews_url import InvalidEwsUrlError, parse_ews_url
from calendar_app.security.keystore import KeystoreError
from calendar_app.security.pinned_transport import PinnedTlsAdapter
from calendar_app.security.secret_store import EXCHANGE_PASSWORD, SecretStore, SecretStoreError
from calendar_app.security.security_profile import (
    load_installed_keystore,
    read_keystore_file,
    validate_for_trust,
)
from calendar_app.services.setup import SetupError, SetupPlan, load_current_setup
from calendar_app.services.setup import apply_setup as save_setup
from calendar_app.services.sync_session import connection_settings, local_zone_name
from calendar_app.store.app_paths import AppPaths
from calendar_app.store.errors import StoreError
from calendar_app.store.settings_file import Settings, load_settings


@dataclass(frozen=True)
class SetupRequest:
    ews_url: str | None = None
    mailbox: str | None = None
    username: str | None = None
    sign_in_mode: str | None = None
    keystore_file: Path | None = None
    keystore_password: str | None = None
    password: str | None = None  # None: keep the one in the keyring
    enabled: bool | None = None  # None: keep as it is
    check_connection: bool = True


@dataclass(frozen=True)
class SetupResult:
    settings: Settings
    notes: tuple[str, ...]
    connection_checked: bool


def apply_setup(paths: AppPaths, request: SetupRequest, secrets: SecretStore) -> SetupResult:
    try:
        current = load_settings(paths.settings_file).settings
    except StoreError as error:
        raise SetupError(str(error)) from error
    notes: list[str] = []
    url = request.ews_url if request.ews_url is not None else current.ews_url
    if not url:
        raise SetupError("No EWS URL: give --ews-url https://mail.example.com/EWS/Exchange.asmx")
    try:
        endpoint = parse_ews_url(url)
    except InvalidEwsUrlError as error:
        raise SetupError(str(error)) from error
    notes.extend(endpoint.notes)
    mailbox = (request.mailbox if request.mailbox is not None else current.mailbox).strip()
    if not is_valid_email(mailbox):
        raise SetupError(f"--mailbox {mailbox!r} is not an SMTP address; give the rep's address, e.g. "
                         "rep@contoso.com")
    username = (request.username if request.username is not None else current.username).strip()
    if not username:
        raise SetupError(r"No user name: give --user DOMAIN\name (or the UPN, name@contoso.com)")
    mode = request.sign_in_mode or current.sign_in_mode
    if mode not in {m.value for m in SignInMode}:
        raise SetupError(f"--sign-in {mode!r}: choose impersonation or own-account")
    enabled = current.integration_enabled if request.enabled is None else request.enabled

    try:
        if request.keystore_file is not None:
            if not request.keystore_password:
                raise SetupError("The keystore password is missing: set CALENDAR_APP_KEYSTORE_PASSWORD or enter it "
                                 "when asked.")
            keystore = read_keystore_file(request.keystore_file, request.keystore_password)
            notes.extend(validate_for_trust(keystore))
        else:
            keystore = load_installed_keystore(paths.keystore_dir, secrets)
        password = request.password or secrets.get(EXCHANGE_PASSWORD)
    except KeystoreError as error:
        raise SetupError(str(error)) from error
    except SecretStoreError as error:
        raise SetupError(str(error)) from error
    if not password:
        raise SetupError("The Exchange password is missing: set CALENDAR_APP_PASSWORD or enter it when asked.")

    settings = current.with_changes(
        ews_url=endpoint.url, mailbox=mailbox, username=username, sign_in_mode=mode, integration_enabled=enabled,
        pinned_sha256=tuple(sha256_fingerprint(c) for c in keystore.trusted_certificates))
    if (settings.ews_url, settings.username, settings.mailbox, settings.sign_in_mode) != (
            current.ews_url, current.username, current.mailbox, current.sign_in_mode):
        settings = settings.with_changes(server_version="")  # another server or account: probe once more
    checked = False
    if enabled and request.check_connection:
        settings = settings.with_changes(server_version=_check(settings, password, keystore.trusted_certificates))
        checked = True

    try:
        if request.keystore_file is not None:
            assert request.keystore_password is not None
            keystore_data, keystore_password = request.keystore_file.read_bytes(), request.keystore_password
        else:
            current_setup = load_current_setup(paths, secrets)
            keystore_data, keystore_password = current_setup.keystore_data, current_setup.keystore_password
    except OSError as error:
        raise SetupError(f"The keystore {request.keystore_file} cannot be read ({error.strerror}).") from error
    saved = save_setup(SetupPlan(
        ews_url=settings.ews_url, mailbox=mailbox, username=username, password=password,
        keystore_data=keystore_data, keystore_password=keystore_password, sign_in_mode=SignInMode(mode),
        auth_type=AuthType(settings.auth_type), server_version=settings.server_version,
        integration_enabled=enabled), paths, secrets)
    return SetupResult(saved, tuple(notes), checked)


def _check(settings: Settings, password: str, trusted: tuple[x509.Certificate, ...]) -> str:
    """Sign in, open the rep's calendar, read the server version — through the pinned transport."""
    account = make_account(connection_settings(settings), password,
                           lambda: PinnedTlsAdapter(trusted),
                           timezone=local_zone_name())
    try:
        calendar = ExchangeCalendar(account, local_zone=local_zone_name())
        calendar.check_connection()
        return calendar.server_version()
    except RemoteError as error:
        raise SetupError(f"The connection test failed: {error} Nothing was changed.") from error
    finally:
        close_account(account)
