"""The set-up wizard: the integration guide's whole procedure as one guided flow."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget, QWizard

from calendar_app.gui.setup_wizard.authentication_page import AuthenticationPage
from calendar_app.gui.setup_wizard.background import shared_pool
from calendar_app.gui.setup_wizard.certificate_page import CertificatePage
from calendar_app.gui.setup_wizard.enable_page import EnablePage
from calendar_app.gui.setup_wizard.keystore_page import KeystorePage
from calendar_app.gui.setup_wizard.page_ids import PageId
from calendar_app.gui.setup_wizard.server_page import ServerPage
from calendar_app.gui.setup_wizard.state import WizardDefaults, WizardState
from calendar_app.gui.setup_wizard.test_page import TestPage
from calendar_app.gui.setup_wizard.welcome_page import WelcomePage
from calendar_app.security.secret_store import SecretStore
from calendar_app.store.app_paths import AppPaths
from calendar_app.store.settings_file import Settings


class SetupWizard(QWizard):
    def __init__(self, paths: AppPaths, secrets: SecretStore, defaults: WizardDefaults | None = None,
                 parent: QWidget | None = None, *, start_at: PageId = PageId.WELCOME) -> None:
        super().__init__(parent)
        defaults = defaults or WizardDefaults()
        self.state = WizardState()
        self.setWindowTitle("Connect to Microsoft Exchange")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.HaveHelpButton, False)
        self.welcome_page = WelcomePage()
        self.server_page = ServerPage()
        self.certificate_page = CertificatePage(self.state)
        self.keystore_page = KeystorePage(self.state)
        self.authentication_page = AuthenticationPage(defaults)
        self.test_page = TestPage(self.state)
        self.enable_page = EnablePage(self.state, paths, secrets)
        for page_id, page in ((PageId.WELCOME, self.welcome_page), (PageId.SERVER, self.server_page),
                              (PageId.CERTIFICATE, self.certificate_page), (PageId.KEYSTORE, self.keystore_page),
                              (PageId.AUTHENTICATION, self.authentication_page), (PageId.TEST, self.test_page),
                              (PageId.ENABLE, self.enable_page)):
            self.setPage(page_id, page)
        self.setStartId(start_at)  # a changed certificate starts at the certificate step
        self.server_page.url_edit.setText(defaults.ews_url)
        self.server_page.mailbox_edit.setText(defaults.mailbox)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Finish")
        self.rejected.connect(self.stop_jobs)
        self.accepted.connect(self.stop_jobs)

    def sizeHint(self) -> QSize:
        return QSize(860, 640)

    @property
    def saved_settings(self) -> Settings | None:
        return self.enable_page.saved

    def current_page_id(self) -> PageId:
        return PageId(self.currentId())

    def stop_jobs(self) -> None:
        self.certificate_page.cancel_capture()
        self.test_page.cancel_test(quiet=True)

    def wait_for_jobs(self, milliseconds: int = 30000) -> bool:
        """For shutdown and tests: let cancelled jobs finish so no thread outlives the wizard."""
        return shared_pool().waitForDone(milliseconds)
