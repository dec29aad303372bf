"""Page 1: what will be configured and what to have at hand."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout

from calendar_app.gui.setup_wizard.common import KeepingPage, wrapped

WELCOME_TEXT = (
    "This assistant connects the calendar to Microsoft Exchange, step by step, the way the integration "
    "guide describes it — without Java, a browser or a command prompt:\n\n"
    "  1. the Exchange server's EWS address and the sales rep's mailbox,\n"
    "  2. the server's TLS certificate, captured and shown for you to check,\n"
    "  3. a keystore that trusts exactly that certificate,\n"
    "  4. how this computer signs in (NTLM),\n"
    "  5. a connection test, one line per step,\n"
    "  6. switching the calendar integration on.\n\n"
    "From your Exchange administrator you need:\n"
    "  • the EWS URL, e.g. https://mail.contoso.com/EWS/Exchange.asmx\n"
    "  • an account holding the ApplicationImpersonation role (or the rep's own account), and its password\n"
    "  • the rep's e-mail address\n\n"
    "Nothing is saved until you press Finish on the last page. Passwords go to this computer's keyring, "
    "never to a file. Help: see the README section \"Setting up the Exchange connection\"."
)


class WelcomePage(KeepingPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Connect the calendar to Microsoft Exchange")
        layout = QVBoxLayout(self)
        self.text = wrapped(WELCOME_TEXT)
        layout.addWidget(self.text)
        layout.addStretch(1)
