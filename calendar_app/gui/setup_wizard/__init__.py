"""The set-up wizard (QWizard): Welcome, Exchange server, Server certificate, Keystore, Authentication,
Test, Enable. Network work runs on a thread pool; nothing is saved before Finish."""

from calendar_app.gui.setup_wizard.page_ids import PageId
from calendar_app.gui.setup_wizard.state import WizardDefaults
from calendar_app.gui.setup_wizard.wizard import SetupWizard

__all__ = ["PageId", "SetupWizard", "WizardDefaults"]
