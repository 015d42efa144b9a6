"""TLS trust roots of the registry transport (issue 15, CLI-32): the lazily read hashed system directory first, the
complete system bundle only when a handshake needs it. Real TLS against our registry on 127.0.0.1.

What must hold: the first context trusts a subset of the complete one, so a chain is accepted exactly when the
complete context accepts it; the second try happens only after a certificate verification failure, and an origin
that needed it goes straight to the complete context afterwards; a chain neither trusts is refused.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from notation._internal.registry import transport
from notation._internal.registry.httpclient import TLSError
from notation_devstack.registry import RegistryServer, TLSFiles, make_tls_files

_CA_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


@pytest.fixture()
def tls(tmp_path: Path) -> TLSFiles:
    return make_tls_files(tmp_path / "tls")


@pytest.fixture()
def server(tmp_path: Path, tls: TLSFiles) -> Iterator[RegistryServer]:
    with RegistryServer(tmp_path / "data", tls=(tls.cert, tls.key)) as srv:
        yield srv


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in _CA_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(transport, "_CONTEXTS", {})
    return monkeypatch


def _hashed_dir(path: Path, unrelated: TLSFiles) -> Path:
    """A root directory in OpenSSL's hashed layout holding one CA that signed nothing our server presents."""
    path.mkdir()
    (path / "0a1b2c3d.0").write_bytes(unrelated.ca_cert.read_bytes())
    return path


def _ping(server: RegistryServer) -> tuple[int, set[tuple[str, int]]]:
    session = transport.new_session()
    try:
        response = session.request("GET", f"https://{server.host}/v2/")
        while response.read1():
            pass
        return response.status_code, set(session._complete_trust)
    finally:
        session.close()


def test_hashed_directory_is_found_by_its_link_names(tmp_path: Path, tls: TLSFiles) -> None:
    hashed = _hashed_dir(tmp_path / "hashed", tls)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "ca.pem").write_bytes(tls.ca_cert.read_bytes())
    assert transport._hashed_system_roots(("", "", "", str(hashed))) == str(hashed)
    assert transport._hashed_system_roots(("", "", "", str(plain))) is None  # a bundle file only: the complete path
    assert transport._hashed_system_roots(("", "", "", str(tmp_path / "absent"))) is None


def test_roots_named_by_the_environment_are_in_the_first_context(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, tls: TLSFiles, server: RegistryServer
) -> None:
    """REQUESTS_CA_BUNDLE beside a hashed SSL_CERT_DIR: the first handshake verifies, no second try."""
    clean_env.setenv("SSL_CERT_DIR", str(_hashed_dir(tmp_path / "hashed", make_tls_files(tmp_path / "other"))))
    clean_env.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_cert))
    status, complete = _ping(server)
    assert status == 200 and complete == set()
    first = transport._ssl_context(complete=False)
    assert first.cert_store_stats()["x509_ca"] == 1  # the bundle only: the directory is read lazily


def test_a_root_only_in_the_system_bundle_is_found_by_the_second_try(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, tls: TLSFiles, server: RegistryServer
) -> None:
    """The server's CA is in the system bundle (SSL_CERT_FILE here stands for it) but not in the hashed directory:
    the first handshake fails verification, the complete context accepts the chain, and the origin is remembered."""
    clean_env.setenv("SSL_CERT_DIR", str(_hashed_dir(tmp_path / "hashed", make_tls_files(tmp_path / "other"))))
    clean_env.setenv("SSL_CERT_FILE", str(tls.ca_cert))
    real = ssl.get_default_verify_paths()
    as_system = real._replace(openssl_cafile=str(tls.ca_cert))  # the file is "the system bundle" for the first try
    clean_env.setattr(ssl, "get_default_verify_paths", lambda: as_system)
    status, complete = _ping(server)
    assert status == 200 and complete == {("127.0.0.1", server.port)}
    first = transport._ssl_context(complete=False)
    assert first.cert_store_stats()["x509_ca"] == 0  # it could not have verified the chain itself


def test_a_chain_no_context_trusts_is_refused(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, server: RegistryServer
) -> None:
    other = make_tls_files(tmp_path / "other")
    clean_env.setenv("SSL_CERT_DIR", str(_hashed_dir(tmp_path / "hashed", other)))
    clean_env.setenv("SSL_CERT_FILE", str(other.ca_cert))
    with pytest.raises(TLSError, match="certificate verify failed"):
        _ping(server)


def test_without_a_hashed_directory_the_complete_context_is_the_only_one(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, tls: TLSFiles, server: RegistryServer
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    clean_env.setenv("SSL_CERT_DIR", str(empty))
    clean_env.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_cert))
    assert transport._ssl_context(complete=False) is transport._ssl_context(complete=True)
    status, complete = _ping(server)
    assert status == 200 and complete == set()
