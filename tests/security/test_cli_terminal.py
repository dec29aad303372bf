"""`keystore create` at a real terminal (a pseudo-terminal): the password is asked twice without
echo, then "Trust this certificate? [no]:", as keytool does."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from calendar_app.security.keystore import read_keystore
from tests.security.pki import Pki

PASSWORD = "terminal-pass-9"


def read_until(master: int, marker: str, seen: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while marker not in "".join(seen):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} in {''.join(seen)!r}"
        ready, _, _ = select.select([master], [], [], remaining)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            assert chunk, f"terminal closed before {marker!r}: {''.join(seen)!r}"
            seen.append(chunk.decode(errors="replace"))


def test_keystore_create_at_a_terminal(pki: Pki, tmp_path: Path) -> None:
    certificate = tmp_path / "exchange.cer"
    certificate.write_bytes(pki.leaf.pem)
    out_file = tmp_path / "exchange.jks"
    master, slave = pty.openpty()
    # A new session has no controlling terminal, so getpass uses this pseudo-terminal (stdin).
    process = subprocess.Popen(
        [sys.executable, "-m", "calendar_app", "keystore", "create", "--cert", str(certificate), "--alias",
         "exchange", "--out", str(out_file), "--storetype", "jks"],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    seen: list[str] = []
    try:
        read_until(master, "Enter keystore password:", seen)
        os.write(master, f"{PASSWORD}\n".encode())
        read_until(master, "Re-enter new password:", seen)
        os.write(master, f"{PASSWORD}\n".encode())
        read_until(master, "Trust this certificate? [no]:", seen)
        os.write(master, b"yes\n")
        read_until(master, "added to keystore", seen)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        os.close(master)
    transcript = "".join(seen)
    assert PASSWORD not in transcript  # not echoed
    assert read_keystore(out_file.read_bytes(), PASSWORD).entries[0].alias == "exchange"
