"""Tests that need a system component (keyring daemon, keytool, openssl, Xvfb) call `require`.
Locally a missing component skips the test with what to install; in CI (CI is set) it fails,
because CI installs every one of them and a silent skip would hide a broken set-up."""

from __future__ import annotations

import os
import shutil

import pytest


def require(available: bool, component: str, install_hint: str) -> None:
    if available:
        return
    message = f"missing system component: {component} ({install_hint})"
    if os.environ.get("CI"):
        pytest.fail(f"{message} — CI must install it", pytrace=False)
    pytest.skip(message)


def require_program(program: str, package: str) -> str:
    path = shutil.which(program)
    require(path is not None, program, f"apt-get install {package}")
    assert path is not None
    return path
