"""`calendar-app cert …` and `calendar-app keystore …` as admins use them: through main() and as a process."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from calendar_app.cli import main
from calendar_app.security.certificate_details import sha256_fingerprint
from calendar_app.security.keystore import KeystoreType, read_keystore
from tests.security.pki import Pki, RunningServer, closed_port

PASSWORD = "s3cret-pass"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
            stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, fragment: str) -> None:
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("calendar-app: ") and fragment in err, err
    assert "Traceback" not in err


def test_cert_fetch_prints_details_and_saves_the_server_certificate(
        chain_server: RunningServer, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    out_file = tmp_path / "exchange.cer"
    code, out, err = run_cli(["cert", "fetch", chain_server.url, "--out", str(out_file)], capsys, monkeypatch)
    assert code == 0, err
    assert "Certificate 1 of 2 (server): localhost" in out
    assert "Certificate 2 of 2: Contoso Issuing CA" in out
    assert f"SHA-256 fingerprint:       {sha256_fingerprint(pki.leaf.certificate)}" in out
    assert "Trusted by this computer: no" in out and "Host name:                matches" in out
    assert "Base-64 encoded X.509 (PEM), the server certificate" in out
    assert out_file.read_bytes() == pki.leaf.pem


@pytest.mark.parametrize(("options", "expected"), [
    (["--chain"], "pem-chain"), (["--der"], "der-leaf")])
def test_cert_fetch_saves_chain_or_der(chain_server: RunningServer, pki: Pki, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                       options: list[str], expected: str) -> None:
    out_file = tmp_path / "saved"
    code, _, err = run_cli(["cert", "fetch", chain_server.url, "--out", str(out_file), *options], capsys, monkeypatch)
    assert code == 0, err
    if expected == "pem-chain":
        assert out_file.read_bytes() == pki.leaf.pem + pki.intermediate.pem
    else:
        assert out_file.read_bytes() == pki.leaf.certificate.public_bytes(serialization.Encoding.DER)


def test_cert_fetch_der_chain_is_refused_and_writes_nothing(chain_server: RunningServer, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    out_file = tmp_path / "chain.der"
    code, _, err = run_cli(["cert", "fetch", chain_server.url, "--out", str(out_file), "--chain", "--der"],
                           capsys, monkeypatch)
    assert_one_line_error(code, err, "DER holds exactly one certificate")
    assert not out_file.exists()


def test_cert_fetch_explains_the_documented_typo(chain_server: RunningServer, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run_cli(["cert", "fetch", f"https//127.0.0.1:{chain_server.port}/ews/Exchange.asmx"],
                           capsys, monkeypatch)
    assert code == 0
    assert out.startswith("Note: Corrected 'https//' to 'https://'")


@pytest.mark.parametrize(("url", "fragment"), [
    ("not a url", "Not a URL"),
    ("mail.contoso.com", "Did you mean https://mail.contoso.com?"),
    ("http://mail.contoso.com/EWS/Exchange.asmx", "plain http://"),
    ("https://mail.contoso.com:99999/EWS/Exchange.asmx", "port"),
    ("https://bad_host!/EWS", "not a valid server name"),
])
def test_cert_fetch_bad_urls(url: str, fragment: str, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(["cert", "fetch", url], capsys, monkeypatch)
    assert_one_line_error(code, err, fragment)


def test_cert_fetch_refused_port(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(["cert", "fetch", f"https://127.0.0.1:{closed_port()}/EWS/Exchange.asmx"],
                           capsys, monkeypatch)
    assert_one_line_error(code, err, "refused the connection")


def bad_files(pki: Pki) -> dict[str, bytes]:
    key_der = pki.leaf.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    return {
        "empty": b"",
        "junk": bytes(range(256)) * 4,
        "pem-key": pki.leaf.key_pem,
        "der-key": key_der,
        "huge": pki.leaf.pem + b"#" * (1024 * 1024),
        "keystore-jks": b"\xfe\xed\xfe\xed" + b"\x00" * 64,
        "text": b"hello, this is not a certificate\n",
    }


@pytest.mark.parametrize(("name", "fragment"), [
    ("empty", "empty"), ("junk", "not a certificate"), ("pem-key", "PRIVATE KEY"), ("der-key", "PRIVATE KEY"),
    ("huge", "larger than the 1 MB"), ("keystore-jks", "Java keystore"), ("text", "not a certificate"),
    ("missing", "no such file"),
])
def test_cert_show_bad_files(name: str, fragment: str, pki: Pki, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / f"{name}.cer"
    if name != "missing":
        path.write_bytes(bad_files(pki)[name])
    code, _, err = run_cli(["cert", "show", str(path)], capsys, monkeypatch)
    assert_one_line_error(code, err, fragment)
    assert str(path) in err


@pytest.mark.parametrize("kind", ["pem", "der", "bundle", "p7b-der", "p7b-pem"])
def test_cert_show_reads_every_usual_format(kind: str, pki: Pki, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    chain = [pki.leaf.certificate, pki.intermediate.certificate, pki.root.certificate]
    data = {
        "pem": pki.leaf.pem,
        "der": pki.leaf.certificate.public_bytes(serialization.Encoding.DER),
        "bundle": pki.leaf.pem + pki.intermediate.pem + pki.root.pem,
        "p7b-der": pkcs7.serialize_certificates(chain, serialization.Encoding.DER),
        "p7b-pem": pkcs7.serialize_certificates(chain, serialization.Encoding.PEM),
    }[kind]
    path = tmp_path / f"input.{kind}"
    path.write_bytes(data)
    code, out, err = run_cli(["cert", "show", str(path)], capsys, monkeypatch)
    assert code == 0, err
    count = 1 if kind in {"pem", "der"} else 3
    assert f"{count} certificate(s)" in out
    assert sha256_fingerprint(pki.leaf.certificate) in out


@pytest.fixture
def leaf_file(pki: Pki, tmp_path: Path) -> Path:
    path = tmp_path / "exchange.cer"
    path.write_bytes(pki.leaf.pem)
    return path


def test_keystore_create_asks_like_keytool(leaf_file: Path, pki: Pki, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    out_file = tmp_path / "exchange.p12"
    code, out, err = run_cli(["keystore", "create", "--cert", str(leaf_file), "--alias", "exchange",
                              "--out", str(out_file)], capsys, monkeypatch, stdin=f"{PASSWORD}\n{PASSWORD}\nyes\n")
    assert code == 0, err
    assert "Enter keystore password:" in err and "Re-enter new password:" in err
    assert "Trust this certificate? [no]:" in err
    assert f"SHA256: {sha256_fingerprint(pki.leaf.certificate)}" in out
    assert "added to keystore" in out
    assert read_keystore(out_file.read_bytes(), PASSWORD).trusted_certificates == (pki.leaf.certificate,)
    assert out_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(("stdin", "fragment"), [
    (f"{PASSWORD}\n{PASSWORD}\n\n", "was not trusted"),  # [no] is the default, as in keytool
    (f"{PASSWORD}\n{PASSWORD}\nno\n", "was not trusted"),
    (f"{PASSWORD}\nother-pass\n", "do not match"),
    ("short\nshort\n", "at least 6 characters"),
    (f"{PASSWORD}\n{PASSWORD}\n", "No answer"),
    ("", "standard input ended"),
])
def test_keystore_create_refusals_write_nothing(stdin: str, fragment: str, leaf_file: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out_file = tmp_path / "exchange.p12"
    code, _, err = run_cli(["keystore", "create", "--cert", str(leaf_file), "--alias", "exchange",
                            "--out", str(out_file)], capsys, monkeypatch, stdin=stdin)
    assert code == 2
    assert fragment in err.strip().splitlines()[-1]
    assert not out_file.exists()


def test_keystore_create_never_overwrites(leaf_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    out_file = tmp_path / "existing.jks"
    out_file.write_bytes(b"precious")
    code, _, err = run_cli(["keystore", "create", "--cert", str(leaf_file), "--alias", "exchange", "--out",
                            str(out_file), "--password-stdin", "--noprompt"], capsys, monkeypatch, stdin=PASSWORD)
    assert_one_line_error(code, err, "already exists")
    assert out_file.read_bytes() == b"precious"


def test_keystore_show_with_a_wrong_password(leaf_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    out_file = tmp_path / "exchange.jks"
    assert run_cli(["keystore", "create", "--cert", str(leaf_file), "--alias", "exchange", "--out", str(out_file),
                    "--storetype", "jks", "--password-stdin", "--noprompt"], capsys, monkeypatch,
                   stdin=f"{PASSWORD}\n")[0] == 0
    code, _, err = run_cli(["keystore", "show", str(out_file), "--password-stdin"], capsys, monkeypatch,
                           stdin="wrong-password\n")
    assert_one_line_error(code, err, "Wrong keystore password")


def test_cli_as_a_process_builds_and_lists_a_keystore(leaf_file: Path, pki: Pki, tmp_path: Path) -> None:
    out_file = tmp_path / "exchange.p12"
    created = subprocess.run(
        [sys.executable, "-m", "calendar_app", "keystore", "create", "--cert", str(leaf_file), "--cert",
         str(leaf_file), "--alias", "Exchange", "--out", str(out_file), "--password-stdin", "--noprompt"],
        input=f"{PASSWORD}\n", capture_output=True, text=True, timeout=60, check=False)
    assert created.returncode == 0, created.stderr
    assert "stored as 'exchange'" in created.stdout and "skipped a certificate already added" in created.stdout
    shown = subprocess.run([sys.executable, "-m", "calendar_app", "keystore", "show", str(out_file),
                            "--password-stdin"], input=f"{PASSWORD}\n", capture_output=True, text=True,
                           timeout=60, check=False)
    assert shown.returncode == 0, shown.stderr
    assert "Keystore type: PKCS12" in shown.stdout
    assert f"exchange, trustedCertEntry, expires {pki.leaf.certificate.not_valid_after_utc:%Y-%m-%d}" in shown.stdout
    assert f"(SHA-256): {sha256_fingerprint(pki.leaf.certificate)}" in shown.stdout
    assert KeystoreType.PKCS12 is read_keystore(out_file.read_bytes(), PASSWORD).store_type

    refused = subprocess.run([sys.executable, "-m", "calendar_app", "cert", "fetch", "http://mail.contoso.com/"],
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1 and "plain http://" in refused.stderr


def test_cli_constants_match_the_library() -> None:
    """The CLI repeats two constants so that it can start without the TLS and keystore libraries."""
    from calendar_app.cli import cert_command, keystore_command
    from calendar_app.security.certificate_capture import DEFAULT_TIMEOUT_SECONDS

    assert cert_command.DEFAULT_TIMEOUT_SECONDS == DEFAULT_TIMEOUT_SECONDS
    assert tuple(t.value for t in KeystoreType) == keystore_command.STORE_TYPES


def test_the_documented_workflow_with_keytool_in_the_middle(
        chain_server: RunningServer, pki: Pki, keytool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """cert fetch → the guide's own `keytool -importcert` → keystore show: each tool reads the other's files."""
    certificate = tmp_path / "exchange.cer"
    assert run_cli(["cert", "fetch", chain_server.url, "--out", str(certificate), "--der"], capsys, monkeypatch)[0] == 0
    keystore = tmp_path / "exchange.jks"
    subprocess.run([keytool, "-importcert", "-noprompt", "-file", str(certificate), "-alias", "ews",
                    "-keystore", str(keystore), "-storepass", PASSWORD], capture_output=True, check=True, timeout=60)
    code, out, err = run_cli(["keystore", "show", str(keystore), "--password-stdin"], capsys, monkeypatch,
                             stdin=f"{PASSWORD}\n")
    assert code == 0, err
    assert "Keystore type: PKCS12" in out and "ews, trustedCertEntry" in out
    assert sha256_fingerprint(pki.leaf.certificate) in out


def test_cert_fetch_of_an_expired_self_signed_server_still_captures_and_says_so(
        openssl: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.security.pki import issue, openssl_server

    now = datetime.now(UTC)
    leaf = issue("old.contoso.test", dns_names=("old.contoso.test",), ip_addresses=(),
                 not_before=now - timedelta(days=500), not_after=now - timedelta(days=10))
    with openssl_server(openssl, tmp_path / "server", leaf, []) as server:
        code, out, err = run_cli(["cert", "fetch", server.url, "--out", str(tmp_path / "old.cer")], capsys,
                                 monkeypatch)
    assert code == 0, err
    notes = out.split("Before trusting this server, note:")[1]
    assert "does not match the host name" in notes and "Expired: 'old.contoso.test'" in notes
    assert "Self-signed" in notes
    assert (tmp_path / "old.cer").read_bytes() == leaf.pem
