"""The GUI thread keeps running while the certificate capture and the connection test wait on a slow server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from calendar_app.gui.setup_wizard import PageId
from calendar_app.sandbox import SandboxServer
from calendar_app.services.connection_test import Outcome, StepId
from tests.wizard.conftest import REP_MAILBOX, SERVICE, WizardDriver

HEARTBEAT_MS = 10
MAX_STALL_SECONDS = 0.100


class Heartbeat:
    """A 10 ms timer on the GUI thread; the longest gap between two ticks is the longest stall."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.ticks = 0
        self._last = time.monotonic()
        self.timer = QTimer()
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        self.longest = max(self.longest, now - self._last)
        self._last = now
        self.ticks += 1

    def start(self) -> None:
        self._last = time.monotonic()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture
def slow_sandbox_url(tmp_path: Path, seeded_tls: Path) -> Iterator[str]:
    """`calendar-app sandbox` in its own process with 2 s added to every answer: an in-process server would
    share the interpreter lock with the GUI thread and blur what is measured."""
    state = tmp_path / "slow-sandbox"
    shutil.copytree(seeded_tls, state / "tls")
    server = subprocess.Popen(
        [sys.executable, "-m", "calendar_app", "sandbox", "--port", "0", "--state", str(state),
         "--user", f"{SERVICE.account}:{SERVICE.password}", "--mailbox", REP_MAILBOX, "--fault", "latency:2000"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert server.stdout is not None
        url = ""
        for line in server.stdout:
            if "EWS URL:" in line:
                url = line.split("EWS URL:", 1)[1].strip()
                break
        assert url, "the sandbox did not start"
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_gui_thread_never_blocks_during_capture_and_test_with_2s_latency(qtbot: QtBot, make_wizard,
                                                                         slow_sandbox_url: str) -> None:
    driver = WizardDriver(qtbot, make_wizard())
    heartbeat = Heartbeat()
    heartbeat.start()
    driver.to_server(slow_sandbox_url)
    driver.wait_capture()
    capture_stall = heartbeat.longest
    driver.next()
    driver.create_keystore()
    driver.wizard.test_page.skip_write_probe.setChecked(True)  # two fewer slow round trips
    heartbeat.longest = 0.0
    driver.sign_in()
    driver.wait_test()
    heartbeat.stop()
    test_stall = heartbeat.longest
    outcomes = {r.step: r.outcome for r in driver.wizard.state.test_results}
    assert outcomes[StepId.STREAMING] is Outcome.PASSED, driver.wizard.test_page.message.text()
    assert outcomes[StepId.WRITE_PROBE] is Outcome.SKIPPED
    slowest = max(r.seconds for r in driver.wizard.state.test_results)
    assert slowest >= 2.0, "the latency fault did not apply: this test would prove nothing"
    print(f"longest GUI stall: capture {capture_stall * 1000:.0f} ms, test {test_stall * 1000:.0f} ms; "
          f"{heartbeat.ticks} heartbeats")
    assert capture_stall < MAX_STALL_SECONDS
    assert test_stall < MAX_STALL_SECONDS
    assert driver.page is PageId.TEST


def test_cancel_returns_control_at_once_and_the_test_can_run_again(qtbot: QtBot, make_wizard,
                                                                   sandbox: SandboxServer) -> None:
    driver = WizardDriver(qtbot, make_wizard())
    driver.to_server(sandbox.url)
    driver.wait_capture()
    driver.next()
    driver.create_keystore()
    sandbox.faults.add("latency", value=3000, operation="ConvertId", times=1)
    driver.sign_in()
    page = driver.wizard.test_page
    qtbot.waitUntil(lambda: any(r.step is StepId.CERTIFICATE for r in driver.wizard.state.test_results),
                    timeout=30000)
    assert page.running
    page.busy.cancel_button.click()
    assert not page.running and "cancelled" in page.message.text()
    assert not driver.can_go_next()
    page.run_button.click()
    driver.wait_test()
    assert page.isComplete(), page.message.text()


def test_cancel_a_capture_that_hangs_in_the_tls_handshake(qtbot: QtBot, make_wizard) -> None:
    """A port that accepts the connection but never speaks TLS: Cancel gives control back at once."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        driver = WizardDriver(qtbot, make_wizard())
        driver.to_server(f"https://127.0.0.1:{silent.getsockname()[1]}/EWS/Exchange.asmx")
        page = driver.wizard.certificate_page
        assert page.capturing and not page.busy.isHidden()
        page.busy.cancel_button.click()
        assert not page.capturing and page.busy.isHidden()
        assert "Capture cancelled" in page.message.text()
        assert not driver.can_go_next()
        driver.wizard.wait_for_jobs()  # the abandoned handshake ends at its own timeout
        qtbot.wait(100)  # deliver anything it may still have sent
        assert "Capture cancelled" in page.message.text(), "a late result must not overwrite the cancel"
