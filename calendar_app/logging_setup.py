"""Logging to a rotating file, with secrets redacted before anything is written.

Two nets: patterns that catch credentials by shape (Authorization headers, password=...), and
the exact secrets this process has handled (the secret store registers each one), so a
password that slips into an exception message is still never written.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
from pathlib import Path

REDACTED = "«redacted»"

_PATTERNS = (
    # HTTP auth headers (NTLM/Negotiate/Basic tokens carry the credentials or can be replayed)
    re.compile(r"((?:Proxy-)?Authorization|WWW-Authenticate)(['\"]?\s*[:=]\s*['\"]?)([^'\"\r\n,}]+)", re.I),
    re.compile(r"\b(NTLM|Negotiate|Basic|Bearer)\s+([A-Za-z0-9+/=._-]{8,})"),
    # key = value / key: value / "key": "value" for anything that sounds secret
    re.compile(r"((?:pass(?:word|wd|phrase)?|secret|token|storepass|keypass|pwd)['\"]?\s*[:=]\s*['\"]?)"
               r"([^'\"\s,;}&]+)", re.I),
)

_known_secrets: set[str] = set()
_known_lock = threading.Lock()


def register_secret(secret: str) -> None:
    """Remember a secret so that it is redacted wherever it appears in a log record."""
    if secret and len(secret) >= 3:
        with _known_lock:
            _known_secrets.add(secret)


def redact(text: str) -> str:
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _PATTERNS[1].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _PATTERNS[2].sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    with _known_lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFormatter(logging.Formatter):
    """Redacts the fully formatted record, so arguments, exception text and tracebacks are
    all covered."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class SizeRotatingFileHandler(logging.FileHandler):
    """Appends to `path`; once it reaches `max_bytes`, it becomes `path.1` (`path.1` becomes `path.2`,
    and so on, keeping `backups` of them) and a new file is started. Files are created readable by
    the user alone.

    The standard library's RotatingFileHandler does the same, but importing `logging.handlers`
    loads socket, pickle and queue: about 4 ms of every start of the window, for nothing it uses.
    """

    def __init__(self, path: Path, *, max_bytes: int, backups: int) -> None:
        self.max_bytes = max_bytes
        self.backups = backups
        super().__init__(path, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(descriptor, "a", encoding=self.encoding, errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        try:
            if self.stream is not None and self.stream.tell() >= self.max_bytes:
                self._roll_over()
        except OSError:
            self.handleError(record)

    def _roll_over(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.stream = None  # reopened below; should that fail, the next emit() reopens it
        base = Path(self.baseFilename)
        for number in range(self.backups - 1, 0, -1):
            older = base.with_name(f"{base.name}.{number}")
            if older.exists():
                older.replace(base.with_name(f"{base.name}.{number + 1}"))
        if self.backups > 0:
            base.replace(base.with_name(f"{base.name}.1"))
        else:
            os.truncate(base, 0)
        self.stream = self._open()


LOG_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


def configure_logging(log_file: Path, *, level: int = logging.INFO, to_stderr: bool = False) -> Path:
    """Send the app's logs to a rotating file (5 × 2 MB). Returns the file's path."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_calendar_app", False):
            root.removeHandler(handler)
            handler.close()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    file_handler = SizeRotatingFileHandler(log_file, max_bytes=2 * 1024 * 1024, backups=5)
    file_handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    file_handler._calendar_app = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    if to_stderr:
        stream = logging.StreamHandler()
        stream.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
        stream._calendar_app = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    root.setLevel(level)
    # urllib3/requests_ntlm log headers at DEBUG: keep them quiet even when we debug.
    for noisy in ("urllib3", "requests_ntlm", "spnego", "exchangelib"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))
    # On a failed request exchangelib logs the whole SOAP request and response at ERROR: the
    # reps' appointments (subjects, attendees, notes) do not belong in a log file. Our exchange
    # layer logs each failure itself, as a typed error with its explanation.
    logging.getLogger("exchangelib.util").setLevel(logging.CRITICAL)
    log_file.chmod(0o600)
    return log_file
