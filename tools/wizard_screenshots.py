"""Screenshots of every set-up wizard page for the README: `make screenshots` runs this under Xvfb,
once at 100 % and once with QT_SCALE_FACTOR=2.

Starts a sandbox Exchange in this process, walks the wizard like an admin (really capturing the
certificate, creating the keystore and running the test) and saves one PNG per page, plus the Test
page with a wrong password. Nothing is saved: Finish is never pressed.

    python tools/wizard_screenshots.py OUT_DIR [--suffix @2x]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QDeadlineTimer, QLocale, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from calendar_app.gui.setup_wizard import SetupWizard, WizardDefaults
from calendar_app.sandbox import DEMO_MAILBOX, DEMO_SERVICE_ACCOUNT, SandboxConfig, SandboxServer
from calendar_app.security.secret_store import SecretStore
from calendar_app.store.app_paths import AppPaths

PAGES = ("welcome", "server", "certificate", "keystore", "authentication", "test", "enable")


def wait_until(app: QApplication, condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = QDeadlineTimer(int(seconds * 1000))
    while not condition():
        if deadline.hasExpired():
            raise TimeoutError("the wizard did not get there in time")
        app.processEvents()
        QApplication.instance().thread().msleep(20)


def settle(app: QApplication) -> None:
    for _ in range(10):
        app.processEvents()


def save(app: QApplication, widget: QWidget, out: Path, name: str) -> None:
    settle(app)
    path = out / f"wizard-{name}.png"
    widget.grab().save(str(path))
    print(path)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--suffix", default="")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        paths = AppPaths(config_dir=root / "config", data_dir=root / "data", log_dir=root / "log")
        with SandboxServer(SandboxConfig.demo(), root / "sandbox") as sandbox:
            note = (f"Demo: the built-in sandbox Exchange runs inside this app. Its service account is "
                    f"{DEMO_SERVICE_ACCOUNT.account} with the password {DEMO_SERVICE_ACCOUNT.password}; it may "
                    f"impersonate {DEMO_MAILBOX}. Nothing leaves this computer.")
            wizard = SetupWizard(paths, SecretStore(), WizardDefaults(
                ews_url=sandbox.url, mailbox=DEMO_MAILBOX, username=DEMO_SERVICE_ACCOUNT.account,
                password=DEMO_SERVICE_ACCOUNT.password, demo_note=note))
            wizard.resize(900, 680)
            wizard.show()
            shots = iter(PAGES)
            save(app, wizard, args.out, next(shots) + args.suffix)
            wizard.next()
            save(app, wizard, args.out, next(shots) + args.suffix)
            wizard.next()
            wait_until(app, lambda: not wizard.certificate_page.capturing)
            save(app, wizard, args.out, next(shots) + args.suffix)
            wizard.next()
            page = wizard.keystore_page
            page.password_edit.setText("Keystore-Pass-9")
            page.confirm_edit.setText("Keystore-Pass-9")
            save(app, wizard, args.out, next(shots) + args.suffix)

            def answer() -> None:
                box = page.trust_question
                if box is None:
                    QTimer.singleShot(20, answer)
                    return
                box.grab().save(str(args.out / f"wizard-trust-question{args.suffix}.png"))
                box.button(QMessageBox.StandardButton.Yes).click()

            QTimer.singleShot(200, answer)
            wizard.next()
            save(app, wizard, args.out, next(shots) + args.suffix)
            wizard.next()
            wait_until(app, lambda: not wizard.test_page.running)
            save(app, wizard, args.out, next(shots) + args.suffix)
            wizard.next()
            save(app, wizard, args.out, next(shots) + args.suffix)
            # the same test with a wrong password, to show what a failure looks like
            wizard.back()
            wizard.back()
            wizard.authentication_page.password_edit.setText("not-the-password")
            wizard.next()
            wait_until(app, lambda: not wizard.test_page.running)
            save(app, wizard, args.out, f"test-failed{args.suffix}")
            wizard.stop_jobs()
            wizard.wait_for_jobs()
            wizard.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
