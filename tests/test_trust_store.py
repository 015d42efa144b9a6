"""Trust store loading (TS-01..10) and the `notation certificate` operations (TS-11, CLI-120..123)."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from notation._internal.trust.store import (
    TrustStore,
    TrustStoreLoadError,
    parse_certificate_data,
)
from notation.errors import TrustStoreError
from support import pki

HINT = ". Use command 'notation cert add' to create and add trusted certificates to the trust store"


def der(issued: pki.Issued) -> bytes:
    return issued.cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def chain() -> tuple[pki.Issued, pki.Issued, pki.Issued]:
    return pki.chain3()


@pytest.fixture
def store(tmp_path: Path) -> TrustStore:
    return TrustStore(tmp_path / "truststore")


def put(store: TrustStore, store_type: str, name: str, file: str, data: bytes) -> Path:
    d = store.store_dir(store_type, name)
    d.mkdir(parents=True, exist_ok=True)
    (d / file).write_bytes(data)
    return d / file


# ----------------------------------------------------------------------------------------------------- TS-04 parsing


def test_ts04_pem_der_and_concatenations(chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    root, inter, leaf = chain
    assert [c.serial_number for c in parse_certificate_data(leaf.chain_pem())] == [
        leaf.cert.serial_number,
        inter.cert.serial_number,
        root.cert.serial_number,
    ]
    assert len(parse_certificate_data(der(root) + der(inter))) == 2
    assert parse_certificate_data(b"") == []
    noisy = b"junk before\n" + root.cert_pem() + b"junk between\n" + inter.cert_pem()
    assert len(parse_certificate_data(noisy)) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a certificate", "x509: malformed certificate"),
        (b"\x30\x03\x02\x01\x01", "x509: malformed certificate"),
    ],
)
def test_ts04_parse_errors(data: bytes, message: str) -> None:
    with pytest.raises(TrustStoreError, match=message):
        parse_certificate_data(data)


def test_ts04_non_certificate_pem_block(chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    with pytest.raises(TrustStoreError, match=r"unexpected PEM block type: PRIVATE KEY"):
        parse_certificate_data(chain[0].cert_pem() + chain[0].key_pem())


# ----------------------------------------------------------------------------------------------------- loading


def test_ts10_loads_every_file_in_name_order(
    store: TrustStore, chain: tuple[pki.Issued, pki.Issued, pki.Issued]
) -> None:
    root, inter, _ = chain
    put(store, "ca", "acme", "b.der", der(root))
    put(store, "ca", "acme", "a.pem", inter.cert_pem())  # TS-08: an intermediate CA is allowed (pinning)
    put(store, "ca", "acme", "no-extension", root.cert_pem())  # DISC-T10: every file, any extension
    certs = store.certificates("ca", "acme")
    assert [c.serial_number for c in certs] == [
        inter.cert.serial_number,
        root.cert.serial_number,
        root.cert.serial_number,
    ]


def test_ts08_self_signed_leaf_allowed(store: TrustStore) -> None:
    leaf = pki.self_signed_leaf("test")
    put(store, "signingAuthority", "sa", "leaf.crt", leaf.cert_pem())
    assert len(store.certificates("signingAuthority", "sa")) == 1


def err(store: TrustStore, store_type: str, name: str) -> TrustStoreLoadError:
    with pytest.raises(TrustStoreLoadError) as exc:
        store.certificates(store_type, name)
    return exc.value


def test_ts07_missing_store(store: TrustStore) -> None:
    e = err(store, "ca", "nostore")
    assert e.detail == 'the trust store "nostore" of type "ca" does not exist'
    assert e.not_exist
    assert str(e) == 'the trust store "nostore" of type "ca" does not exist' + HINT  # AUTH-05 verbatim


def test_ts02_bad_name_and_type(store: TrustStore) -> None:
    assert err(store, "ca", "a/b").detail == "trust store name needs to follow [a-zA-Z0-9_.-]+ format, a/b is invalid"
    assert err(store, "CA", "x").detail == "unsupported trust store type: CA"


def test_ts05_symlinked_store(
    store: TrustStore, tmp_path: Path, chain: tuple[pki.Issued, pki.Issued, pki.Issued]
) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir()
    (real / "root.pem").write_bytes(chain[0].cert_pem())
    (store.x509_dir / "ca").mkdir(parents=True)
    (store.x509_dir / "ca" / "linked").symlink_to(real)
    e = err(store, "ca", "linked")
    assert e.detail == (
        f"the trust store linked of type ca with path {store.x509_dir / 'ca' / 'linked'} is not a regular directory "
        "(symlinks are not supported)"
    )


@pytest.mark.parametrize("kind", ["dir", "symlink"])
def test_ts06_subdirectory_or_symlink_inside(
    store: TrustStore, chain: tuple[pki.Issued, pki.Issued, pki.Issued], kind: str
) -> None:
    p = put(store, "ca", "acme", "root.pem", chain[0].cert_pem())
    if kind == "dir":
        (p.parent / "sub").mkdir()
        entry = "sub"
    else:
        (p.parent / "link.pem").symlink_to(p)
        entry = "link.pem"
    assert err(store, "ca", "acme").detail == (
        f"trusted certificate {entry} in trust store acme of type ca is not a regular file (directories or symlinks "
        "are not supported)"
    )


def test_ts07_unparsable_file(store: TrustStore) -> None:
    put(store, "ca", "acme", "bad.pem", b"garbage")
    e = err(store, "ca", "acme")
    assert e.detail == "failed to read the trusted certificate bad.pem in trust store acme of type ca"
    assert str(e) == e.detail + ". x509: malformed certificate"


def test_ts07_empty_file_and_empty_store(store: TrustStore) -> None:
    put(store, "ca", "acme", "empty.pem", b"")
    e = err(store, "ca", "acme")
    assert e.detail == "failed to validate the trusted certificate empty.pem in trust store acme of type ca"
    assert e.inner == "input certs cannot be empty"
    store.store_dir("ca", "empty").mkdir(parents=True)
    e = err(store, "ca", "empty")
    assert e.detail == 'no x509 certificates were found in trust store "empty" of type "ca"'
    assert e.not_exist and str(e).endswith(HINT)


def test_ts08_leaf_issued_by_ca_rejected(store: TrustStore, chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    put(store, "ca", "acme", "leaf.pem", chain[2].cert_pem())
    e = err(store, "ca", "acme")
    assert e.detail == "failed to validate the trusted certificate leaf.pem in trust store acme of type ca"
    assert e.inner == (
        'certificate with subject "CN=leaf,O=Notary,L=Seattle,ST=WA,C=US" is not a CA certificate or self-signed '
        "signing certificate"
    )


def test_ts09_tsa_requires_root(store: TrustStore, chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    root, inter, _ = chain
    put(store, "tsa", "ok", "root.pem", root.cert_pem())
    assert len(store.certificates("tsa", "ok")) == 1
    put(store, "tsa", "inter", "inter.pem", inter.cert_pem())
    e = err(store, "tsa", "inter")
    assert e.detail.startswith(
        "trusted certificate inter.pem in trust store inter of type tsa is invalid: certificate with subject "
        '"CN=Test Intermediate,O=Notary,L=Seattle,ST=WA,C=US" is not a root CA certificate: '
    )
    # a self-signed non-CA is fine for ca stores but not a TSA root
    put(
        store,
        "tsa",
        "leaf",
        "leaf.pem",
        pki.self_signed_leaf("tsa-leaf", eku=[ExtendedKeyUsageOID.TIME_STAMPING]).cert_pem(),
    )
    assert "parent certificate cannot sign this kind of certificate" in err(store, "tsa", "leaf").detail


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads anything")
def test_ts07_unreadable_store(store: TrustStore, chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    p = put(store, "ca", "acme", "root.pem", chain[0].cert_pem())
    p.parent.chmod(0)
    try:
        assert err(store, "ca", "acme").detail == 'failed to access the trust store "acme" of type "ca"'
    finally:
        p.parent.chmod(0o700)


# ----------------------------------------------------------------------------------------------------- add


def test_ts11_add_copies_unchanged(
    store: TrustStore, tmp_path: Path, chain: tuple[pki.Issued, pki.Issued, pki.Issued]
) -> None:
    src = tmp_path / "root.crt"
    src.write_bytes(b"comment line\n" + chain[0].cert_pem())
    dest = store.add("ca", "acme", src)
    assert dest == store.store_dir("ca", "acme") / "root.crt"
    assert dest.read_bytes() == src.read_bytes()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert stat.S_IMODE(dest.parent.stat().st_mode) == 0o700
    assert os.listdir(dest.parent) == ["root.crt"]  # no temp file left behind
    with pytest.raises(TrustStoreError, match=r"^certificate already exists in the Trust Store$"):
        store.add("ca", "acme", src)
    assert store.certificates("ca", "acme")[0] == chain[0].cert


@pytest.mark.parametrize(
    ("store_type", "name", "message"),
    [
        ("", "x", "store type cannot be empty"),
        ("ca2", "x", "unsupported store type: ca2"),
        ("ca", "a b", "named store name needs to follow [a-zA-Z0-9_.-]+ format"),
    ],
)
def test_cli120_argument_checks(store: TrustStore, tmp_path: Path, store_type: str, name: str, message: str) -> None:
    with pytest.raises(TrustStoreError) as exc:
        store.add(store_type, name, tmp_path / "x.pem")
    assert str(exc.value) == message


def test_ts11_add_rejects(store: TrustStore, tmp_path: Path, chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"")
    with pytest.raises(TrustStoreError, match=r"^no valid certificate found in the file$"):
        store.add("ca", "acme", empty)
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"junk")
    with pytest.raises(TrustStoreError, match=r"^x509: malformed certificate$"):
        store.add("ca", "acme", junk)
    with pytest.raises(TrustStoreError, match=r"^open .*missing.pem: no such file or directory$"):
        store.add("ca", "acme", tmp_path / "missing.pem")
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(chain[2].cert_pem())
    with pytest.raises(TrustStoreError, match=r"is not a CA certificate or self-signed signing certificate"):  # DISC-C7
        store.add("ca", "acme", leaf)
    inter = tmp_path / "inter.pem"
    inter.write_bytes(chain[1].cert_pem())
    with pytest.raises(TrustStoreError, match=r"is not a root CA certificate"):
        store.add("tsa", "tsa", inter)
    assert not store.store_dir("ca", "acme").exists()


def test_ts11_add_refuses_symlinked_store(
    store: TrustStore, tmp_path: Path, chain: tuple[pki.Issued, pki.Issued, pki.Issued]
) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (store.x509_dir / "ca").mkdir(parents=True)
    (store.x509_dir / "ca" / "acme").symlink_to(target)
    src = tmp_path / "root.pem"
    src.write_bytes(chain[0].cert_pem())
    with pytest.raises(TrustStoreError, match=r"symlinks are not supported"):
        store.add("ca", "acme", src)
    assert os.listdir(target) == [] or all(n.startswith(".notation-") is False for n in os.listdir(target))


# ------------------------------------------------------------------------------------------- list / show / delete


def test_cli121_list_order_and_filters(store: TrustStore, chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    root = chain[0].cert_pem()
    put(store, "tsa", "t", "r.pem", root)
    put(store, "ca", "zeta", "r.pem", root)
    put(store, "ca", "alpha", "b.pem", root)
    put(store, "ca", "alpha", "a.pem", root)
    put(store, "ca", "alpha", "empty.pem", b"")  # no certificate: not listed
    put(store, "signingAuthority", "alpha", "s.pem", root)
    (store.store_dir("ca", "alpha") / "subdir").mkdir()  # not a regular file: not listed
    rows = [(t, n, p.name) for t, n, p in store.list()]
    assert rows == [
        ("ca", "alpha", "a.pem"),
        ("ca", "alpha", "b.pem"),
        ("ca", "zeta", "r.pem"),
        ("signingAuthority", "alpha", "s.pem"),
        ("tsa", "t", "r.pem"),
    ]
    assert [(t, n) for t, n, _ in store.list(store_type="ca")] == [("ca", "alpha"), ("ca", "alpha"), ("ca", "zeta")]
    assert [(t, n) for t, n, _ in store.list(name="alpha")] == [
        ("ca", "alpha"),
        ("ca", "alpha"),
        ("signingAuthority", "alpha"),
    ]
    assert [p.name for _, _, p in store.list("ca", "zeta")] == ["r.pem"]
    assert store.list(store_type="bogus") == []
    assert TrustStore(store.root / "nothing").list() == []


def test_cli121_list_error(store: TrustStore) -> None:
    put(store, "ca", "acme", "bad.pem", b"junk")
    with pytest.raises(TrustStoreError) as exc:
        store.list()
    assert (
        str(exc.value)
        == "failed to list all certificates stored in the trust store, with error: x509: malformed certificate"
    )
    with pytest.raises(
        TrustStoreError, match=r"^failed to list all certificates stored in the named store acme of type ca, "
    ):
        store.list("ca", "acme")
    with pytest.raises(TrustStoreError, match=r"^failed to list all certificates stored of type ca, "):
        store.list("ca")
    with pytest.raises(TrustStoreError, match=r"^failed to list all certificates stored in the named store acme, "):
        store.list(name="acme")


def test_cli122_show(store: TrustStore, chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    _, inter, leaf = chain
    put(store, "ca", "acme", "chain.pem", inter.cert_pem() + leaf.cert_pem())
    assert store.show("ca", "acme", "chain.pem") == [inter.cert, leaf.cert]
    put(store, "ca", "acme", "empty.pem", b"")
    with pytest.raises(TrustStoreError) as exc:
        store.show("ca", "acme", "empty.pem")
    assert (
        str(exc.value)
        == "failed to show details of certificate empty.pem, with error: no valid certificate found in the file"
    )
    with pytest.raises(
        TrustStoreError, match=r"^failed to show details of certificate nope.pem, with error: open .*: no such file"
    ):
        store.show("ca", "acme", "nope.pem")
    with pytest.raises(TrustStoreError, match=r"invalid certificate file name"):
        store.show("ca", "acme", "../acme/chain.pem")


def test_cli123_delete(store: TrustStore, chain: tuple[pki.Issued, pki.Issued, pki.Issued]) -> None:
    p = put(store, "ca", "acme", "root.pem", chain[0].cert_pem())
    assert store.delete("ca", "acme", "root.pem", confirm=lambda: False) is None
    assert p.exists()
    assert store.delete("ca", "acme", "root.pem", confirm=lambda: True) == p
    assert not p.exists()
    with pytest.raises(TrustStoreError) as exc:
        store.delete("ca", "acme", "root.pem")
    assert str(exc.value) == f"failed to delete the certificate file: stat {p}: no such file or directory"


def test_cli123_delete_store(
    store: TrustStore, tmp_path: Path, chain: tuple[pki.Issued, pki.Issued, pki.Issued]
) -> None:
    p = put(store, "ca", "acme", "root.pem", chain[0].cert_pem())
    assert store.delete_store("ca", "acme", confirm=lambda: False) is None
    removed = store.delete_store("ca", "acme")
    assert removed == p.parent and removed.is_absolute() and not removed.exists()
    with pytest.raises(TrustStoreError) as exc:
        store.delete_store("ca", "acme")
    assert str(exc.value) == f"failed to delete the named trust store: stat {p.parent}: no such file or directory"
    # a symlinked store: the link goes, the target stays
    target = tmp_path / "keep"
    target.mkdir()
    (target / "x.pem").write_bytes(b"x")
    p.parent.symlink_to(target)
    store.delete_store("ca", "acme")
    assert (target / "x.pem").exists() and not os.path.lexists(p.parent)


def test_expired_anchor_still_loads(store: TrustStore) -> None:
    """Validity is the evaluation's business (TSV-*), not the store's."""
    now = dt.datetime.now(dt.UTC)
    old = pki.root_ca("Old Root", not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1))
    put(store, "ca", "old", "old.pem", old.cert_pem())
    assert store.certificates("ca", "old") == [old.cert]
