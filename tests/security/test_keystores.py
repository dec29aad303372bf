"""Keystores: interop with the real keytool both ways, and every bad keystore the issue lists."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from calendar_app.security.certificate_details import sha256_fingerprint
from calendar_app.security.keystore import (
    EntryKind,
    KeystoreError,
    KeystoreType,
    TrustedCertificate,
    WrongKeystorePasswordError,
    create_truststore,
    read_keystore,
)
from calendar_app.security.security_profile import read_keystore_file, validate_for_trust
from tests.security.pki import Pki, issue

PASSWORD = "changeit-42"


def keytool_run(keytool: str, *args: str) -> str:
    result = subprocess.run([keytool, *args], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def keytool_import(keytool: str, keystore: Path, certificate: Path, alias: str, *extra: str) -> None:
    keytool_run(keytool, "-importcert", "-noprompt", "-file", str(certificate), "-alias", alias,
                "-keystore", str(keystore), "-storepass", PASSWORD, *extra)


def keytool_list(keytool: str, keystore: Path, password: str = PASSWORD) -> dict[str, tuple[str, str]]:
    """alias -> (entry type, SHA-256) as `keytool -list` prints them."""
    out = keytool_run(keytool, "-list", "-keystore", str(keystore), "-storepass", password)
    entries = re.findall(r"^(\S+), .+, (\w+Entry), ?\n.*\(SHA-256\): ([0-9A-F:]+)$", out, re.MULTILINE)
    return {alias: (kind, fp) for alias, kind, fp in entries}


@pytest.fixture(scope="module")
def keytool_stores(keytool: str, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Keystores made by the real keytool: its default type (PKCS#12), JKS, and ones with a private key."""
    folder = tmp_path_factory.mktemp("keytool")
    leaf = folder / "server.cer"
    leaf.write_bytes(pki.leaf.pem)
    stores = {"pkcs12": folder / "default.jks", "jks": folder / "real.jks",
              "key-only": folder / "key-only.p12", "mixed": folder / "mixed.p12", "key-only-jks": folder / "key.jks"}
    keytool_import(keytool, stores["pkcs12"], leaf, "exchange")  # the documented command: .jks, PKCS#12 inside
    keytool_import(keytool, stores["jks"], leaf, "exchange", "-storetype", "JKS")
    keytool_run(keytool, "-genkeypair", "-alias", "mykey", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=crm-server", "-validity", "30", "-keystore", str(stores["key-only"]),
                "-storepass", PASSWORD)
    keytool_run(keytool, "-genkeypair", "-alias", "mykey", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=crm-server", "-validity", "30", "-keystore", str(stores["key-only-jks"]),
                "-storepass", PASSWORD, "-storetype", "JKS")
    shutil.copy(stores["key-only"], stores["mixed"])
    keytool_import(keytool, stores["mixed"], leaf, "exchange")
    return stores


@pytest.mark.parametrize(("name", "store_type"), [("pkcs12", KeystoreType.PKCS12), ("jks", KeystoreType.JKS)])
def test_keytool_truststores_open_with_the_right_password(keytool_stores: dict[str, Path], pki: Pki, name: str,
                                                          store_type: KeystoreType) -> None:
    keystore = read_keystore_file(keytool_stores[name], PASSWORD)
    assert keystore.store_type is store_type
    assert [entry.row()[:3] for entry in keystore.entries] == [
        ("exchange", "trustedCertEntry", sha256_fingerprint(pki.leaf.certificate))]
    assert keystore.trusted_certificates == (pki.leaf.certificate,)
    assert keystore.entries[0].row()[3] == f"{pki.leaf.certificate.not_valid_after_utc:%Y-%m-%d}"
    assert validate_for_trust(keystore) == []


@pytest.mark.parametrize("name", ["pkcs12", "jks"])
def test_keytool_truststores_refuse_a_wrong_password(keytool_stores: dict[str, Path], name: str) -> None:
    with pytest.raises(WrongKeystorePasswordError, match="Wrong keystore password"):
        read_keystore_file(keytool_stores[name], "not-the-password")


@pytest.mark.parametrize("store_type", list(KeystoreType))
def test_keytool_lists_the_truststores_we_write(keytool: str, pki: Pki, tmp_path: Path,
                                               store_type: KeystoreType) -> None:
    data = create_truststore([TrustedCertificate("Exchange-Server", pki.leaf.certificate),
                              TrustedCertificate("contoso-root", pki.root.certificate)], PASSWORD, store_type)
    path = tmp_path / f"ours{store_type.suffix}"
    path.write_bytes(data)
    assert keytool_list(keytool, path) == {
        "exchange-server": ("trustedCertEntry", sha256_fingerprint(pki.leaf.certificate)),
        "contoso-root": ("trustedCertEntry", sha256_fingerprint(pki.root.certificate)),
    }
    again = read_keystore(data, PASSWORD)
    assert again.store_type is store_type
    assert sorted(e.alias for e in again.entries) == ["contoso-root", "exchange-server"]
    with pytest.raises(WrongKeystorePasswordError):
        read_keystore(data, "wrong-password")
    failed = subprocess.run([keytool, "-list", "-keystore", str(path), "-storepass", "wrong-password"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert failed.returncode != 0  # keytool checks the same integrity protection


def test_private_key_entries_are_listed_but_never_trusted(keytool_stores: dict[str, Path], pki: Pki) -> None:
    keystore = read_keystore_file(keytool_stores["mixed"], PASSWORD)
    kinds = {entry.alias: entry.kind for entry in keystore.entries}
    assert kinds == {"mykey": EntryKind.PRIVATE_KEY, "exchange": EntryKind.TRUSTED_CERTIFICATE}
    assert keystore.trusted_certificates == (pki.leaf.certificate,)
    warnings = validate_for_trust(keystore)
    assert warnings == ["'mykey' is a PrivateKeyEntry: listed, but not used to trust servers."]


@pytest.mark.parametrize("name", ["key-only", "key-only-jks"])
def test_a_keystore_with_zero_trusted_entries_is_refused_for_trust(keytool_stores: dict[str, Path],
                                                                   name: str) -> None:
    keystore = read_keystore_file(keytool_stores[name], PASSWORD)
    assert [e.alias for e in keystore.entries] == ["mykey"]
    assert [e.kind for e in keystore.entries] == [EntryKind.PRIVATE_KEY]
    with pytest.raises(KeystoreError, match="holds no trusted certificate"):
        validate_for_trust(keystore)


def test_expired_and_expiring_entries_are_warned_about(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    expiring = issue("soon", not_after=now + timedelta(days=12))
    expired = issue("gone", not_before=now - timedelta(days=90), not_after=now - timedelta(days=1))
    data = create_truststore([TrustedCertificate("soon", expiring.certificate),
                              TrustedCertificate("gone", expired.certificate)], PASSWORD)
    warnings = validate_for_trust(read_keystore(data, PASSWORD), now)
    assert any(w.startswith("'soon' expires in 11 days") or w.startswith("'soon' expires in 12 days")
               for w in warnings), warnings
    assert any(w.startswith("'gone' expired on") for w in warnings), warnings


@pytest.mark.parametrize("name", ["pkcs12", "jks"])
def test_a_truncated_keystore_is_refused(keytool_stores: dict[str, Path], tmp_path: Path, name: str) -> None:
    data = keytool_stores[name].read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(KeystoreError, match="truncated") as caught:
        read_keystore_file(cut, PASSWORD)
    assert not isinstance(caught.value, WrongKeystorePasswordError)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty"),
    (b"\x00\x01junk\xff" * 50, "Unknown keystore type"),
    (b"\xce\xce\xce\xce" + b"\x00" * 40, "JCEKS"),
    (b"-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----\n", "PEM text file"),
    (b"0" * (1024 * 1024 + 1), "larger than 1 MB"),
])
def test_files_that_are_not_keystores_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "store.p12"
    path.write_bytes(content)
    with pytest.raises(KeystoreError, match=message):
        read_keystore_file(path, PASSWORD)


@pytest.mark.parametrize(("alias", "ok"), [("Exchange", True), ("a b", False), ("", False), ("-x", False)])
def test_aliases_are_checked(pki: Pki, alias: str, ok: bool) -> None:
    if ok:
        assert read_keystore(create_truststore([TrustedCertificate(alias, pki.leaf.certificate)], PASSWORD),
                             PASSWORD).entries[0].alias == alias.lower()
    else:
        with pytest.raises(KeystoreError, match="Alias"):
            create_truststore([TrustedCertificate(alias, pki.leaf.certificate)], PASSWORD)


def test_short_passwords_are_refused_like_keytool_does(pki: Pki) -> None:
    with pytest.raises(KeystoreError, match="at least 6 characters"):
        create_truststore([TrustedCertificate("x", pki.leaf.certificate)], "12345")
