"""Signing through plugins (plugins.md §5.2-5.4, §6: PLG-35..45, PLG-50..52), with real keys inside real test
plugins; every envelope made is checked with the envelope codec's integrity verification."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from notation._internal.envelope.codec import sign_envelope, verify_integrity
from notation._internal.envelope.model import SignRequest
from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.plugin import (
    PluginEnvelopeGenerator,
    PluginManager,
    PluginSigner,
    make_plugin_signer,
)
from notation.errors import PluginError, SigningError
from plugin_support import CAP_ENVELOPE, CAP_RAW, install_plugin, metadata, read_log
from support import pki

FORMATS = [mediatypes.JWS_ENVELOPE, mediatypes.COSE_ENVELOPE]
KEY_ID = "https://vault.example/keys/k/1"


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    directory = tmp_path_factory.mktemp("pki")
    _root, inter, leaf = pki.chain3("rsa2048", "rsa3072")
    ec_leaf = pki.issue("ec leaf", key_kind="ec384", issuer=inter)
    other = pki.issue("other", key_kind="ec256", issuer=inter)
    return {
        "rsa": leaf.write(directory, "rsa"),
        "ec": ec_leaf.write(directory, "ec"),
        "ec256": other.write(directory, "ec256"),
        "ec256b": pki.issue("other b", key_kind="ec256", issuer=inter).write(directory, "ec256b"),
    }


def _setup(tmp_path: Path, chains: dict[str, tuple[Path, Path]], caps: list[str], kind: str = "rsa", **config: Any):
    key, chain = chains[kind]
    libexec = tmp_path / "libexec"
    log = tmp_path / "log.jsonl"
    cfg: dict[str, Any] = {"key": str(key), "chain": str(chain), "log": str(log), **config}
    cfg.setdefault("metadata", metadata("signer", version="1.2.3", capabilities=caps))
    install_plugin(libexec, "signer", cfg)
    return PluginManager(libexec), log


def _request(payload: bytes = b'{"targetArtifact":{}}') -> SignRequest:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return SignRequest(payload=payload, payload_content_type=mediatypes.NOTARY_PAYLOAD, signing_time=now)


@pytest.mark.parametrize("media_type", FORMATS)
@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_plg51_raw_flow_signs_verifiable_envelopes(
    tmp_path: Path, chains: dict[str, tuple[Path, Path]], media_type: str, kind: str
) -> None:
    manager, log = _setup(tmp_path, chains, [CAP_RAW], kind)
    signer = make_plugin_signer(manager, "signer", KEY_ID, {"self_signed": "false"})
    assert isinstance(signer, PluginSigner)
    assert (signer.plugin_name, signer.plugin_version) == ("signer", "1.2.3")
    envelope = sign_envelope(media_type, _request(), signer)
    info = verify_integrity(media_type, envelope)
    assert info.certificate_chain[0].subject.rfc4514_string().startswith("CN=")
    calls = read_log(log)
    assert [c["cmd"] for c in calls] == ["get-plugin-metadata", "describe-key", "generate-signature"]
    assert calls[0]["request"] == {"pluginConfig": {"self_signed": "false"}}
    assert calls[1]["request"] == {"contractVersion": "1.0", "keyId": KEY_ID, "pluginConfig": {"self_signed": "false"}}
    gen = calls[2]["request"]
    expected_spec = {"rsa": ("RSA-2048", "SHA-256"), "ec": ("EC-384", "SHA-384")}[kind]
    assert list(gen) == ["contractVersion", "keyId", "keySpec", "hashAlgorithm", "payload", "pluginConfig"]
    assert (gen["keySpec"], gen["hashAlgorithm"]) == expected_spec


def test_plg50_raw_wins_over_envelope(tmp_path: Path, chains: dict[str, tuple[Path, Path]]) -> None:
    manager, _ = _setup(tmp_path, chains, [CAP_ENVELOPE, CAP_RAW])
    assert isinstance(make_plugin_signer(manager, "signer", KEY_ID), PluginSigner)


def test_plg50_no_signing_capability(tmp_path: Path, chains: dict[str, tuple[Path, Path]]) -> None:
    manager, _ = _setup(tmp_path, chains, ["SIGNATURE_VERIFIER.TRUSTED_IDENTITY"])
    with pytest.raises(PluginError, match=r"^plugin does not have signing capabilities$"):
        make_plugin_signer(manager, "signer", KEY_ID)


@pytest.mark.parametrize(
    ("command", "override", "message"),
    [
        (
            "describe-key",
            {"keyId": "other"},
            f'keyID in describeKey response "other" does not match request "{KEY_ID}"',
        ),
        ("describe-key", {"keySpec": "RSA-1024"}, 'unknown key spec "RSA-1024"'),
        (
            "generate-signature",
            {"keyId": "x"},
            f'keyID in generateSignature response "x" does not match request "{KEY_ID}"',
        ),
        (
            "generate-signature",
            {"signingAlgorithm": "RSASSA-PSS-SHA-512"},
            'signing algorithm "RSASSA-PSS-SHA-512" in generateSignature response does not match the key spec '
            '"RSA-2048"',
        ),
        (
            "generate-signature",
            {"signingAlgorithm": "RSASSA-PKCS1"},
            'signing algorithm "RSASSA-PKCS1" in generateSignature response is not supported',
        ),
        ("generate-signature", {"signature": "%%%"}, "signature is not valid base64"),
        ("generate-signature", {"certificateChain": []}, "certificate chain in generateSignature response is empty"),
        ("generate-signature", {"certificateChain": ["aGVsbG8="]}, "x509: malformed certificate at index 0"),
        ("generate-signature", {"certificateChain": "abc"}, "certificateChain is not a list"),
    ],
)
def test_plg36_plg39_response_checks(
    tmp_path: Path, chains: dict[str, tuple[Path, Path]], command: str, override: dict[str, Any], message: str
) -> None:
    manager, _ = _setup(tmp_path, chains, [CAP_RAW], override={command: override})
    signer = make_plugin_signer(manager, "signer", KEY_ID)
    with pytest.raises((PluginError, SigningError)) as err:
        sign_envelope(mediatypes.JWS_ENVELOPE, _request(), signer)  # type: ignore[arg-type]
    assert message in str(err.value)


def test_plg39_chain_for_another_key_fails_self_verification(
    tmp_path: Path, chains: dict[str, tuple[Path, Path]]
) -> None:
    """The plugin signs with one P-256 key but returns the chain of another P-256 key: the envelope must not verify."""
    key, _ = chains["ec256"]
    _, other_chain = chains["ec256b"]
    libexec = tmp_path / "libexec"
    install_plugin(libexec, "signer", {"key": str(key), "chain": str(other_chain)}, capabilities=[CAP_RAW])
    signer = make_plugin_signer(PluginManager(libexec), "signer", KEY_ID)
    for media_type in FORMATS:
        with pytest.raises(SigningError, match="signature is invalid"):
            sign_envelope(media_type, _request(), signer)  # type: ignore[arg-type]


def test_plugin_error_passes_message(tmp_path: Path, chains: dict[str, tuple[Path, Path]]) -> None:
    manager, _ = _setup(
        tmp_path,
        chains,
        [CAP_RAW],
        behaviour={"describe-key": {"kind": "error", "code": "ACCESS_DENIED", "message": "no sign permission"}},
    )
    signer = make_plugin_signer(manager, "signer", KEY_ID)
    with pytest.raises(PluginError, match=r"^no sign permission$"):
        signer.key_spec()  # type: ignore[union-attr]


# -- generate-envelope ----------------------------------------------------------------------------------------------


def _payload(media_type: str) -> tuple[bytes, Descriptor]:
    target = Descriptor(mediatypes.OCI_IMAGE_MANIFEST, "sha256:" + "a" * 64, 1234, {"org.example.keep": "v"})
    doc = {"targetArtifact": target.to_dict()}
    return json.dumps(doc, separators=(",", ":")).encode(), target


def _envelope_signer(
    tmp_path: Path, chains: dict[str, tuple[Path, Path]], **envelope: Any
) -> tuple[PluginEnvelopeGenerator, Path]:
    manager, log = _setup(tmp_path, chains, [CAP_ENVELOPE], envelope=envelope)
    signer = make_plugin_signer(manager, "signer", KEY_ID, {"k": "v"})
    assert isinstance(signer, PluginEnvelopeGenerator)
    return signer, log


@pytest.mark.parametrize("media_type", FORMATS)
def test_plg52_envelope_flow(tmp_path: Path, chains: dict[str, tuple[Path, Path]], media_type: str) -> None:
    signer, log = _envelope_signer(tmp_path, chains, annotations={"com.example.a": "b"})
    payload, _ = _payload(media_type)
    expiry = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    envelope, annotations = signer.generate_envelope(payload, mediatypes.NOTARY_PAYLOAD, media_type, expiry)
    assert annotations == {"com.example.a": "b"}  # PLG-44
    info = verify_integrity(media_type, envelope)
    signer.check_generated_envelope(info, payload)
    request = read_log(log)[-1]["request"]
    assert request["expiryDurationInSeconds"] == 86400
    assert request["pluginConfig"] == {"k": "v"}
    assert list(request)[:5] == ["contractVersion", "keyId", "payloadType", "signatureEnvelopeType", "payload"]


def test_plg42_no_expiry_member_without_expiry(tmp_path: Path, chains: dict[str, tuple[Path, Path]]) -> None:
    signer, log = _envelope_signer(tmp_path, chains)
    payload, _ = _payload(mediatypes.JWS_ENVELOPE)
    signer.generate_envelope(payload, mediatypes.NOTARY_PAYLOAD, mediatypes.JWS_ENVELOPE, None)
    assert "expiryDurationInSeconds" not in read_log(log)[-1]["request"]


@pytest.mark.parametrize(
    ("envelope_opts", "message"),
    [
        (
            {"type_override": "application/cose"},
            'signatureEnvelopeType in generateEnvelope response "application/cose" does not match request '
            '"application/jose+json"',
        ),
        ({"corrupt": True}, "generated signature failed verification: "),
    ],
)
def test_plg43_envelope_response_checks(
    tmp_path: Path, chains: dict[str, tuple[Path, Path]], envelope_opts: dict[str, Any], message: str
) -> None:
    signer, _ = _envelope_signer(tmp_path, chains, **envelope_opts)
    payload, _ = _payload(mediatypes.JWS_ENVELOPE)
    with pytest.raises(SigningError) as err:
        signer.generate_envelope(payload, mediatypes.NOTARY_PAYLOAD, mediatypes.JWS_ENVELOPE, None)
    assert str(err.value).startswith("failed to sign with the plugin signer: ")
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("envelope_opts", "message"),
    [
        ({"payload_override": {"digest": "sha256:" + "b" * 64}}, "during signing descriptor subject has changed from"),
        ({"payload_override": {"annotations": {"org.example.keep": "changed"}}}, "descriptor subject has changed"),
        (
            {"target_extra": {"zzz": 1, "urls": ["https://x"]}, "extra_top": {"extra": True}},
            'during signing, following unknown attributes were added to subject descriptor: ["zzz" "extra"]',
        ),
        ({"content_type": "application/json"}, 'payload content type "application/json" not supported'),
    ],
)
def test_plg43_subject_checks(
    tmp_path: Path, chains: dict[str, tuple[Path, Path]], envelope_opts: dict[str, Any], message: str
) -> None:
    signer, _ = _envelope_signer(tmp_path, chains, **envelope_opts)
    payload, _ = _payload(mediatypes.JWS_ENVELOPE)
    with pytest.raises(SigningError) as err:
        envelope, _ = signer.generate_envelope(payload, mediatypes.NOTARY_PAYLOAD, mediatypes.JWS_ENVELOPE, None)
        signer.check_generated_envelope(verify_integrity(mediatypes.JWS_ENVELOPE, envelope), payload)
    assert message in str(err.value)


def test_plg43_added_annotation_is_allowed(tmp_path: Path, chains: dict[str, tuple[Path, Path]]) -> None:
    signer, _ = _envelope_signer(
        tmp_path, chains, payload_override={"annotations": {"org.example.keep": "v", "new": "x"}}
    )
    payload, _ = _payload(mediatypes.COSE_ENVELOPE)
    envelope, _ = signer.generate_envelope(payload, mediatypes.NOTARY_PAYLOAD, mediatypes.COSE_ENVELOPE, None)
    signer.check_generated_envelope(verify_integrity(mediatypes.COSE_ENVELOPE, envelope), payload)


def test_plg52_command_error_wording(tmp_path: Path, chains: dict[str, tuple[Path, Path]]) -> None:
    manager, _ = _setup(
        tmp_path, chains, [CAP_ENVELOPE], behaviour={"generate-envelope": {"kind": "error", "message": "kms down"}}
    )
    signer = make_plugin_signer(manager, "signer", KEY_ID)
    payload, _ = _payload(mediatypes.JWS_ENVELOPE)
    with pytest.raises(SigningError) as err:
        signer.generate_envelope(payload, mediatypes.NOTARY_PAYLOAD, mediatypes.JWS_ENVELOPE, None)  # type: ignore[union-attr]
    assert (
        str(err.value) == "failed to sign with the plugin signer: plugin failed to sign with following error: kms down"
    )
