"""The library's blob API (``notation.sign_blob`` / ``verify_blob`` and the ``_stream`` variants, signature.md §15)
and its errors: typed, and one exception per failure (no internal exceptions chained to it)."""

from __future__ import annotations

import io
import json
import stat
import traceback
from pathlib import Path

import pytest

import notation
from notation.errors import BlobIntegrityError, SigningError, TrustPolicyError, VerificationError
from support import pki


@pytest.fixture
def material(tmp_path: Path) -> tuple[object, bytes, Path]:
    """A local signer, a blob trust policy (bytes) trusting it globally, and a trust store directory."""
    leaf = pki.self_signed_leaf("blob-signer")
    key, cert = leaf.write(tmp_path / "keys", "signer")
    store = tmp_path / "truststore"
    (store / "x509" / "ca" / "signers").mkdir(parents=True)
    (store / "x509" / "ca" / "signers" / "signer.crt").write_bytes(leaf.cert_pem())
    policy = {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "signers",
                "globalPolicy": True,
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:signers"],
                "trustedIdentities": ["*"],
            }
        ],
    }
    return notation.signer_from_files(key, cert), json.dumps(policy).encode(), store


@pytest.mark.parametrize("fmt", ["jws", "cose"])
def test_sign_blob_verify_blob_round_trip(material: tuple[object, bytes, Path], tmp_path: Path, fmt: str) -> None:
    signer, policy, store = material
    blob = tmp_path / "sbom.spdx.json"
    blob.write_bytes(b'{"spdxVersion": "SPDX-2.3"}\n' * 1000)
    result = notation.sign_blob(
        blob, signer, signature_format=fmt, media_type="application/spdx+json", user_metadata={"build": "42"}
    )
    assert result.signature_path == str(tmp_path / f"sbom.spdx.json.{fmt}.sig")
    assert stat.S_IMODE(Path(result.signature_path).stat().st_mode) == 0o600
    assert result.target.size == blob.stat().st_size and result.target.digest.startswith("sha256:")
    outcome = notation.verify_blob(
        blob, result.signature_path, trust_policy=policy, trust_store_dir=store, media_type="application/spdx+json"
    )
    assert outcome.level == "strict" and outcome.policy_name == "signers"
    assert outcome.verified is not None and outcome.verified.user_metadata == {"build": "42"}
    assert outcome.subject.digest == result.target.digest

    with pytest.raises(BlobIntegrityError, match="signature does not match the given blob"):
        notation.verify_blob(blob, result.signature_path, trust_policy=policy, trust_store_dir=store, media_type="a/b")
    with pytest.raises(VerificationError, match="unable to find specified metadata"):
        notation.verify_blob(
            blob, result.signature_path, trust_policy=policy, trust_store_dir=store, user_metadata={"build": "43"}
        )
    with pytest.raises(VerificationError, match='no applicable blob trust policy with name "x"'):
        notation.verify_blob(blob, result.signature_path, trust_policy=policy, trust_store_dir=store, policy_name="x")


def test_streaming_variants(material: tuple[object, bytes, Path]) -> None:
    signer, policy, store = material
    data = bytes(range(256)) * 5000
    result = notation.sign_blob_stream(io.BytesIO(data), signer, signature_format="cose")
    assert result.signature_path is None and result.envelope_media_type == "application/cose"
    outcome = notation.verify_blob_stream(
        io.BytesIO(data), result.envelope, signature_format="cose", trust_policy=policy, trust_store_dir=store
    )
    assert outcome.verified is not None
    with pytest.raises(BlobIntegrityError):
        notation.verify_blob_stream(
            io.BytesIO(data[:-1]), result.envelope, signature_format="cose", trust_policy=policy, trust_store_dir=store
        )
    with pytest.raises(VerificationError):  # the JWS reader cannot read a COSE envelope
        notation.verify_blob_stream(io.BytesIO(data), result.envelope, trust_policy=policy, trust_store_dir=store)
    with pytest.raises(TrustPolicyError, match="global blob trust policy statement cannot have verification level"):
        bad = json.loads(policy)
        bad["trustPolicies"][0] = {"name": "g", "globalPolicy": True, "signatureVerification": {"level": "skip"}}
        notation.verify_blob_stream(io.BytesIO(data), result.envelope, trust_policy=json.dumps(bad).encode())
    with pytest.raises(SigningError, match='signature format "pem" not supported'):
        notation.sign_blob_stream(io.BytesIO(data), signer, signature_format="pem")


def test_public_errors_are_one_exception(tmp_path: Path) -> None:
    """A plugin answering garbage: the caller sees one SigningError, not the chain it was built from."""
    plugin = tmp_path / "libexec" / "plugins" / "bad" / "notation-bad"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        'get-plugin-metadata) echo \'{"name":"bad","description":"d","version":"1.0.0","url":"u",'
        '"supportedContractVersions":["1.0"],"capabilities":["SIGNATURE_GENERATOR.RAW"]}\';;\n'
        'describe-key) echo \'{"keyId":"k","keySpec":"RSA-2048"}\';;\n'
        "*) echo 'not json';;\n"
        "esac\n"
    )
    plugin.chmod(0o755)
    signer = notation.signer_from_plugin("bad", "k", libexec_dir=tmp_path / "libexec")
    blob = tmp_path / "b.bin"
    blob.write_bytes(b"x")
    with pytest.raises(SigningError) as info:
        notation.sign_blob(blob, signer)
    assert str(info.value) == (
        "failed to sign with the plugin bad: failed to unmarshal the response of generate-signature command for "
        "plugin bad"
    )
    printed = "".join(traceback.format_exception(info.value))
    assert printed.count("Traceback (most recent call last)") == 1 and "direct cause" not in printed
    assert not (tmp_path / "b.bin.jws.sig").exists()
    with pytest.raises(notation.errors.KeyError_) as key_info:
        notation.signer_from_files(tmp_path / "absent.key", tmp_path / "absent.crt")
    assert "direct cause" not in "".join(traceback.format_exception(key_info.value))
