"""Page 2: the EWS URL (checked and normalised) and the rep's mailbox."""

from __future__ import annotations

import re

from PySide6.QtWidgets import QFormLayout, QLineEdit, QVBoxLayout

from calendar_app.gui.setup_wizard.common import MessageLine, RequiredTextPage, wrapped
from calendar_app.security.ews_url import EXAMPLE_URL, InvalidEwsUrlError, parse_ews_url

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ServerPage(RequiredTextPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Exchange server")
        self.setSubTitle("The address of Exchange Web Services (EWS) and the mailbox whose calendar is synced.")
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText(EXAMPLE_URL)
        self.mailbox_edit = QLineEdit()
        self.mailbox_edit.setPlaceholderText("rep@contoso.com")
        self.message = MessageLine()
        form = QFormLayout()
        form.addRow("EWS URL:", self.url_edit)
        form.addRow("Rep's mailbox:", self.mailbox_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(wrapped("The EWS URL usually ends in /EWS/Exchange.asmx. The rep's mailbox is the "
                                 "e-mail address of the sales rep whose calendar this computer shows; with an "
                                 "impersonation account, that is the mailbox being impersonated."))
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.required_edits = (self.url_edit, self.mailbox_edit)
        self.registerField("ewsUrl*", self.url_edit)
        self.registerField("mailbox*", self.mailbox_edit)

    def validatePage(self) -> bool:
        try:
            endpoint = parse_ews_url(self.url_edit.text())
        except InvalidEwsUrlError as error:
            self.message.show_error(str(error))
            self.url_edit.setFocus()
            return False
        self.url_edit.setText(endpoint.url)
        mailbox = self.mailbox_edit.text().strip()
        if not _ADDRESS.match(mailbox):
            self.message.show_error(f"{mailbox!r} is not an e-mail address. Enter the rep's address, "
                                    "e.g. rep@contoso.com.")
            self.mailbox_edit.setFocus()
            return False
        self.mailbox_edit.setText(mailbox.lower())
        if endpoint.notes:
            self.message.show_warning(" ".join(endpoint.notes))
        else:
            self.message.clear_message()
        return True
