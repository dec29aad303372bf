"""The public face of the sandbox: start, inspect, inject faults, stop. See the package docstring."""

from __future__ import annotations

import logging
import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from lxml import etree

from calendar_app.sandbox import soap, tls_material
from calendar_app.sandbox.config import SandboxConfig
from calendar_app.sandbox.directory_operations import display_name_for
from calendar_app.sandbox.faults import FaultInjector
from calendar_app.sandbox.http_server import SandboxHttpServer, TrafficListener
from calendar_app.sandbox.mailbox_store import Mailbox, MailboxStore, SentMessage
from calendar_app.sandbox.notifications import NotificationHub
from calendar_app.sandbox.ntlm_auth import NtlmAuthenticator
from calendar_app.sandbox.rights import Rights
from calendar_app.sandbox.stored_item import StoredItem, extended_key

log = logging.getLogger(__name__)
SAVE_INTERVAL_SECONDS = 2.0
_ITEM_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


class SandboxServer:
    def __init__(self, config: SandboxConfig, state_dir: Path | None) -> None:
        self.config = config
        self.state_dir = state_dir
        self.rights = Rights(config)
        self.store = MailboxStore(state_dir)
        self.hub = NotificationHub()
        self.faults = FaultInjector()
        for spec in config.faults:
            self.faults.add_spec(spec)
        self.faults.listeners.append(self._on_faults_changed)
        self._serving_replacement = self.faults.has("changed-certificate")
        self.traffic_listeners: list[TrafficListener] = []
        self.internal_errors: list[str] = []
        tls_dir = (state_dir / "tls") if state_dir is not None else None
        self._tls_dir = tls_dir
        self._material: tls_material.TlsMaterial | None = None
        self._replacement: tls_material.TlsMaterial | None = None
        self._contexts: dict[int, ssl.SSLContext] = {}
        self.authenticator: NtlmAuthenticator | None = None
        self._http: SandboxHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._saver: threading.Thread | None = None
        self._stopping = threading.Event()
        self._temporary_tls: Any = None

    # ---------------------------------------------------------------- life cycle
    def start(self) -> SandboxServer:
        if self._tls_dir is None:
            import tempfile

            self._temporary_tls = tempfile.TemporaryDirectory(prefix="ews-sandbox-tls-")
            self._tls_dir = Path(self._temporary_tls.name)
        self._material = tls_material.load_or_create(self._tls_dir, self.config.host)
        for address in self.config.mailboxes:
            mailbox = self.store.ensure(address, display_name_for(address))
            mailbox.listeners.append(self.hub.publish)
        self.authenticator = NtlmAuthenticator(self.rights, self.config.users, allow_basic=self.config.allow_basic,
                                               protection=self.config.extended_protection)
        self._http = SandboxHttpServer((self.config.host, self.config.port), self)
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="ews-sandbox", daemon=True)
        self._thread.start()
        if self.state_dir is not None:
            self._saver = threading.Thread(target=self._save_periodically, name="ews-sandbox-save", daemon=True)
            self._saver.start()
        log.info("EWS sandbox listening on %s", self.url)
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.hub.close()
        if self._http is not None:
            self._http.shutdown()
            self._http.close_all_connections()
            self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._saver is not None:
            self._saver.join(timeout=10)
        self.store.save()
        if self.authenticator is not None:
            self.authenticator.close()
        if self._temporary_tls is not None:
            self._temporary_tls.cleanup()
            self._temporary_tls = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def _save_periodically(self) -> None:
        while not self._stopping.wait(SAVE_INTERVAL_SECONDS):
            try:
                self.store.save()
            except OSError:
                log.exception("could not save the sandbox state")

    def _on_faults_changed(self) -> None:
        replacement = self.faults.has("changed-certificate")
        if replacement != self._serving_replacement:
            # A re-keyed server drops its connections; clients reconnect and see the other certificate.
            self._serving_replacement = replacement
            if self._http is not None:
                self._http.close_all_connections()

    # ---------------------------------------------------------------- addresses and trust
    @property
    def port(self) -> int:
        assert self._http is not None, "start() the sandbox first"
        return int(self._http.server_address[1])

    @property
    def url(self) -> str:
        host = self.config.host if self.config.host not in ("0.0.0.0", "") else "127.0.0.1"  # noqa: S104
        return f"https://{host}:{self.port}/EWS/Exchange.asmx"

    @property
    def tls(self) -> tls_material.TlsMaterial:
        assert self._material is not None, "start() the sandbox first"
        return self._material

    @property
    def certificate_sha256(self) -> str:
        return self.current_tls()[1].sha256_fingerprint

    @property
    def ca_pem(self) -> bytes:
        return self.tls.ca_pem

    @property
    def chain_pem(self) -> bytes:
        return self.tls.chain_pem

    def current_tls(self) -> tuple[ssl.SSLContext, tls_material.TlsMaterial]:
        material = self.tls
        if self.faults.has("changed-certificate"):
            if self._replacement is None:
                assert self._tls_dir is not None
                self._replacement = tls_material.generate_replacement(self._tls_dir / "replacement",
                                                                      self.config.host)
            material = self._replacement
        context = self._contexts.get(id(material))
        if context is None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(material.chain_file, material.key_file)
            self._contexts[id(material)] = context
        return context, material

    # ---------------------------------------------------------------- observation
    def observe(self, direction: str, operation: str, payload: bytes) -> None:
        for listener in list(self.traffic_listeners):
            listener(direction, operation, payload)

    # ---------------------------------------------------------------- mailboxes, for tests and the demo
    @property
    def mailboxes(self) -> dict[str, Mailbox]:
        return dict(self.store.mailboxes)

    def mailbox(self, address: str) -> Mailbox:
        mailbox = self.store.get(address)
        if mailbox is None:
            raise KeyError(f"the sandbox has no mailbox {address}")
        return mailbox

    def sent_messages(self, address: str, kind: str | None = None) -> list[SentMessage]:
        mailbox = self.mailbox(address)
        with mailbox.lock:
            return [message for message in mailbox.sent if kind is None or message.kind == kind]

    def calendar_items(self, address: str) -> list[StoredItem]:
        mailbox = self.mailbox(address)
        with mailbox.lock:
            return list(mailbox.folders["calendar"].items.values())

    def add_calendar_item(self, address: str, calendar_item_xml: str | bytes, *, notify: bool = True) -> str:
        """Put an item straight into a calendar, as another client would; returns its id. The XML is a
        `<t:CalendarItem xmlns:t="...types">` with the elements to store."""
        from calendar_app.sandbox.item_operations import _new_item  # the same rules as CreateItem

        element = etree.fromstring(calendar_item_xml, parser=_ITEM_PARSER)
        mailbox = self.mailbox(address)
        with mailbox.lock:
            item = _new_item(mailbox, "calendar", "CalendarItem", element)
            mailbox.add(item, notify=notify)
        return item.item_id

    def set_impersonation(self, account: str, address: str, *, allowed: bool) -> None:
        if allowed:
            self.rights.grant(account, address)
        else:
            self.rights.deny(account, address)


def extended_property_key(property_set_id: str, name: str, property_type: str) -> tuple[str, str, str, str]:
    """The key under which a named extended property is indexed (for tests that look items up directly)."""
    uri = etree.Element(soap.t("ExtendedFieldURI"), PropertySetId=property_set_id, PropertyName=name,
                        PropertyType=property_type)
    return extended_key(uri)
