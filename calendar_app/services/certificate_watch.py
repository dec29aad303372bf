"""Warnings about the trusted certificate for the main window: it expires within 30 days, or the server
has started presenting a different one (old and new SHA-256 fingerprints; re-trusting is the admin's call)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from calendar_app.security.certificate_capture import CaptureError, capture_chain
from calendar_app.security.certificate_details import EXPIRY_WARNING_DAYS, sha256_fingerprint
from calendar_app.security.ews_url import InvalidEwsUrlError, parse_ews_url
from calendar_app.security.keystore import Keystore


class NoticeKind(enum.Enum):
    EXPIRING = "expiring"
    EXPIRED = "expired"
    CHANGED = "changed"


@dataclass(frozen=True)
class CertificateNotice:
    kind: NoticeKind
    message: str
    old_fingerprints: tuple[str, ...] = ()
    new_fingerprint: str = ""


def expiry_notices(keystore: Keystore, now: datetime | None = None) -> list[CertificateNotice]:
    moment = now or datetime.now(UTC)
    notices = []
    for entry in keystore.entries:
        not_after = entry.not_after
        if entry.certificate is None or not_after is None:
            continue
        days = (not_after - moment).days
        if not_after < moment:
            notices.append(CertificateNotice(NoticeKind.EXPIRED, (
                f"The trusted certificate '{entry.alias}' expired on {not_after:%Y-%m-%d}: the calendar cannot "
                "connect to Exchange. Capture the server's renewed certificate and create a new keystore "
                "(Exchange → Set up the Exchange connection…)."), (entry.sha256,)))
        elif days <= EXPIRY_WARNING_DAYS:
            notices.append(CertificateNotice(NoticeKind.EXPIRING, (
                f"The trusted certificate '{entry.alias}' expires in {days} days ({not_after:%Y-%m-%d}). Ask "
                "your Exchange admin for the renewed certificate and trust it before then."), (entry.sha256,)))
    return notices


def presented_certificate_notice(ews_url: str, pinned: tuple[str, ...],
                                 timeout: float = 10.0) -> CertificateNotice | None:
    """Compare what the server presents now with what the keystore pins. Network: call off the GUI thread.
    An unreachable server is no notice here (the sync reports it)."""
    if not ews_url or not pinned:
        return None
    try:
        chain = capture_chain(parse_ews_url(ews_url), timeout)
    except (CaptureError, InvalidEwsUrlError):
        return None
    presented = [sha256_fingerprint(c) for c in chain.certificates]
    if any(fingerprint in pinned for fingerprint in presented):
        return None
    return CertificateNotice(NoticeKind.CHANGED, (
        f"The Exchange server now presents a different certificate. Trusted: SHA-256 {', '.join(pinned)}. "
        f"Presented now: SHA-256 {presented[0]}. The calendar will not connect until you trust the new one — "
        "confirm the change with your Exchange admin first; if nobody changed it, someone may be "
        "intercepting the connection."), pinned, presented[0])
