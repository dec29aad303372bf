"""What the wizard has found out so far that is not a plain field: the certificates, the keystore, the test."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509

from calendar_app.security.chain_assessment import ChainAssessment
from calendar_app.services.connection_test import StepResult


@dataclass(frozen=True)
class WizardDefaults:
    """Pre-filled answers (``--demo`` fills them from the sandbox; a re-run from the saved settings)."""

    ews_url: str = ""
    mailbox: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    sign_in_mode: str = "impersonation"
    auth_type: str = "NTLM"
    demo_note: str = ""  # shown on the Authentication page in demo mode


@dataclass
class WizardState:
    certificates: tuple[x509.Certificate, ...] = ()
    certificate_source: str = ""  # "captured from host:port" or the file's path
    certificate_url: str = ""  # the URL the certificates belong to (a changed URL captures again)
    assessment: ChainAssessment | None = None
    keystore_data: bytes = field(default=b"", repr=False)
    keystore_password: str = field(default="", repr=False)
    keystore_summary: str = ""
    trusted: tuple[x509.Certificate, ...] = ()
    test_results: list[StepResult] = field(default_factory=list)
    test_passed: bool = False
    server_version: str = ""
