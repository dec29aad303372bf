"""packaging/linux/make-deb.sh on a small bundle (one real ELF executable, so dpkg-shlibdeps has
something to resolve): where files land, the control fields, the Depends computed from the ELF.
The full bundle is built, installed, upgraded and purged by packaging/ci-smoke.sh in CI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.system import require_program

PROJECT = Path(__file__).resolve().parents[2]
MAKE_DEB = PROJECT / "packaging" / "linux" / "make-deb.sh"


@pytest.fixture
def small_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "bundle" / "calendar-app"
    (bundle / "_internal").mkdir(parents=True)
    true_program = shutil.which("true")
    assert true_program is not None
    shutil.copy(true_program, bundle / "calendar-app")
    (bundle / "_internal" / "base_library.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    return bundle


def make_deb(bundle: Path, version: str, out: Path) -> subprocess.CompletedProcess[str]:
    require_program("dpkg-deb", "dpkg")
    require_program("dpkg-shlibdeps", "dpkg-dev")
    return subprocess.run([str(MAKE_DEB), str(bundle), version, str(out)], capture_output=True, text=True,
                          timeout=120, check=False)


def field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "--field", str(deb), name], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_deb_installs_into_opt_with_a_command_menu_entry_and_icons(small_bundle: Path, tmp_path: Path) -> None:
    result = make_deb(small_bundle, "1.2.3~rc1", tmp_path / "dist")
    assert result.returncode == 0, result.stderr
    deb = Path(result.stdout.strip())
    assert deb.name.startswith("calendar-app_1.2.3~rc1_") and deb.is_file()

    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True,
                             check=True).stdout.splitlines()
    entries = {line.split()[5]: line for line in listing}
    assert "./opt/calendar-app/calendar-app" in entries
    assert "./opt/calendar-app/_internal/base_library.zip" in entries
    assert entries["./usr/bin/calendar-app"].split()[-1] == "/opt/calendar-app/calendar-app"
    assert "./usr/share/applications/com.example.CalendarApp.desktop" in entries
    assert "./usr/share/metainfo/com.example.CalendarApp.metainfo.xml" in entries
    assert "./usr/share/icons/hicolor/scalable/apps/calendar-app.svg" in entries
    for size in (16, 32, 48, 128, 256, 512):
        assert f"./usr/share/icons/hicolor/{size}x{size}/apps/calendar-app.png" in entries
    assert all(line.split()[1] == "root/root" for line in listing)
    assert entries["./opt/calendar-app/calendar-app"].startswith("-rwxr-xr-x")
    assert not any(name.startswith(("./home", "./root", "./etc")) for name in entries)

    assert field(deb, "Package") == "calendar-app"
    assert field(deb, "Version") == "1.2.3~rc1"
    # The one ELF file links the C library, which the bundle does not carry: libc6 is a dependency.
    assert field(deb, "Depends").startswith("libc6 (>= ")
    assert int(field(deb, "Installed-Size")) > 0


def test_a_version_dpkg_cannot_order_is_refused_in_one_line(small_bundle: Path, tmp_path: Path) -> None:
    result = make_deb(small_bundle, "not a version", tmp_path / "dist")
    assert result.returncode == 2
    assert result.stderr.strip() == "make-deb: 'not a version' is not a Debian version"
    assert not (tmp_path / "dist").exists()


def test_a_folder_without_the_program_is_not_packed(tmp_path: Path) -> None:
    result = make_deb(tmp_path, "1.0", tmp_path / "dist")
    assert result.returncode == 2
    assert "is not a built bundle" in result.stderr
