"""`calendar-app --self-test` run as a user would run it: a separate process, one line per check,
exit status 0 only when everything passed."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.system import require

CHECK_NAMES = ["qt-window", "tls", "exchangelib", "keyring", "database"]


def run_self_test(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "calendar_app", "--self-test"], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def verdicts(stdout: str) -> dict[str, str]:
    lines = stdout.splitlines()
    assert [line.split(":", 1)[0].split()[-1] for line in lines] == CHECK_NAMES, stdout
    return {line.split(":", 1)[0].split()[-1]: line.split()[0] for line in lines}


def test_every_check_passes_with_a_real_secret_service() -> None:
    require(os.environ.get("CALENDAR_APP_TEST_KEYRING") == "1", "Secret Service (gnome-keyring under dbus)",
            "run through tests/run-with-keyring.sh: apt-get install dbus gnome-keyring")
    result = run_self_test(dict(os.environ))
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(verdicts(result.stdout).values()) == {"ok"}
    assert "Traceback" not in result.stderr
    assert "SecretService" in result.stdout
    assert "TLSv1." in result.stdout and "W. Europe Standard Time" in result.stdout


def test_without_a_session_bus_the_keyring_check_fails_and_the_others_still_run() -> None:
    env = {key: value for key, value in os.environ.items() if key != "DBUS_SESSION_BUS_ADDRESS"}
    result = run_self_test(env)
    assert result.returncode == 1
    outcome = verdicts(result.stdout)
    assert outcome["keyring"] == "FAIL"
    assert [name for name, verdict in outcome.items() if verdict != "ok"] == ["keyring"]
    assert "gnome-keyring" in result.stdout  # the failure says what to install
    assert result.stderr.strip().endswith("self-test failed: keyring")
    assert "Traceback" not in result.stderr

