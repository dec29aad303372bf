"""Why a server that presents the *trusted* certificate still fails verification, in words an admin
can act on: the certificate expired, is not valid yet, or names other hosts than the URL's.

Used by the connection test's certificate step and by the pinned transport, so the wizard, the CLI
and the sync say the same thing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509

from calendar_app.security.certificate_details import dns_names_and_addresses, sha256_fingerprint

# OpenSSL's X509_V_ERR_* codes, as `ssl.SSLCertVerificationError.verify_code` carries them.
CERT_NOT_YET_VALID = 9
CERT_HAS_EXPIRED = 10
HOSTNAME_MISMATCH = 62
IP_ADDRESS_MISMATCH = 64


def explain_trusted_certificate_failure(certificate: x509.Certificate, host: str, verify_code: int,
                                        verify_message: str, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    fingerprint = sha256_fingerprint(certificate)
    if verify_code == CERT_HAS_EXPIRED or certificate.not_valid_after_utc < moment:
        days = (moment - certificate.not_valid_after_utc).days
        return (f"The server presents the trusted certificate, but it expired on "
                f"{certificate.not_valid_after_utc:%Y-%m-%d} ({days} day(s) ago; SHA-256 {fingerprint[:23]}…). "
                "Ask the Exchange admin to renew the server's certificate, then capture the new one and create "
                "or upload the keystore again.")
    if verify_code == CERT_NOT_YET_VALID or certificate.not_valid_before_utc > moment:
        return (f"The server presents the trusted certificate, but it is not valid until "
                f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC. Check this computer's date and time; if "
                "they are right, ask the Exchange admin why the server uses a certificate from the future.")
    if verify_code in (HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH):
        names, addresses = dns_names_and_addresses(certificate)
        return (f"The server presents the trusted certificate, but it is issued for "
                f"{', '.join(names + addresses) or 'no host name'}, not for {host} ({verify_message}). "
                "Use a host name from the certificate in the EWS URL, or ask the Exchange admin for a "
                "certificate that names this one.")
    return (f"The server presents the trusted certificate, but it does not pass verification "
            f"({verify_message}). Ask the Exchange admin to check the server's certificate.")
