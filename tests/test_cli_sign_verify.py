"""sign, list, inspect and verify on OCI layouts through the CLI (cli.md §6..9, CLI-40..75)."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import pytest

from notation._internal.cli.main import main
from notation._internal.config import dirs
from notation._internal.oci.layout import write_image

EXPERIMENTAL_WARNING = (
    "Warning: This feature is experimental and may not be fully tested or completed and may be deprecated. "
    'Report any issues to "https://github/notaryproject/notation"\n'
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """A layout with one image tagged v1, a default test key, and a policy trusting it for scope local/app."""
    monkeypatch.setenv("NOTATION_EXPERIMENTAL", "1")
    path = str(tmp_path / "app")
    desc = write_image(path, "v1", {"hello.txt": b"hello"})
    assert main(["cert", "generate-test", "--default", "test"]) == 0
    policy = {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "app",
                "registryScopes": ["local/app"],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:test"],
                "trustedIdentities": ["*"],
            },
            {
                "name": "skipped",
                "registryScopes": ["local/skip"],
                "signatureVerification": {"level": "skip"},
            },
        ],
    }
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(policy))
    assert main(["policy", "import", str(policy_file)]) == 0
    capsys.readouterr()
    return path, desc.digest


def test_sign_list_verify_round_trip_cli43_cli52_cli61(
    capsys: pytest.CaptureFixture[str], layout: tuple[str, str]
) -> None:
    path, digest = layout
    ref = f"{path}@{digest}"
    code, out, err = run(capsys, "sign", "--oci-layout", f"{path}:v1")
    assert (code, out) == (0, f"Successfully signed {ref}\n")
    assert err == EXPERIMENTAL_WARNING + (
        "Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:v1) because tags are mutable "
        "and a tag reference can point to a different artifact than the one signed.\n"
    )
    code, out, err = run(capsys, "sign", "--oci-layout", "--signature-format", "cose", "-m", "k=v", "-m", "a=b=c", ref)
    assert (code, out, err) == (0, f"Successfully signed {ref}\n", EXPERIMENTAL_WARNING)

    code, out, err = run(capsys, "ls", "--oci-layout", ref)
    lines = out.splitlines()
    assert code == 0 and err == EXPERIMENTAL_WARNING
    assert lines[0] == ref
    assert lines[1] == "└── application/vnd.cncf.notary.signature"
    assert lines[2].startswith("    ├── sha256:") and lines[3].startswith("    └── sha256:") and len(lines) == 4
    code, out, _ = run(capsys, "list", "--oci-layout", "--max-signatures", "1", ref)
    assert code == 0
    assert out.splitlines()[2].startswith("    └── sha256:")
    assert out.endswith("Warning: exceeded configured limit of max signatures 1 to examine\n")

    code, out, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", ref)
    assert (code, err) == (0, EXPERIMENTAL_WARNING)
    assert out == f"Successfully verified signature for {ref}\n"  # the first signature (JWS) has no metadata
    code, out, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", "-m", "k=v", ref)
    assert (code, err) == (0, EXPERIMENTAL_WARNING)
    assert out == (
        f"Successfully verified signature for {ref}\n\n"
        "The artifact was signed with the following user metadata.\n\n"
        "KEY   VALUE   \n"
        "a     b=c     \n"
        "k     v       \n"
    )
    code, out, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", "-m", "k=other", ref)
    assert (code, out) == (1, "")
    assert (
        err
        == EXPERIMENTAL_WARNING + f"Error: signature verification failed for all the signatures associated with {ref}\n"
    )


def test_verify_errors_cli50_cli51_cli53(capsys: pytest.CaptureFixture[str], layout: tuple[str, str]) -> None:
    path, digest = layout
    ref = f"{path}@{digest}"
    code, _, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", ref)
    assert code == 1
    assert err.endswith(
        f'Error: signature verification failed: no signature is associated with "{ref}", make sure the artifact '
        "was signed successfully\n"
    )
    code, out, _ = run(capsys, "verify", "--oci-layout", "--scope", "local/skip", ref)
    assert (code, out) == (0, f"Trust policy is configured to skip signature verification for {ref}\n")
    code, _, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", "-m", "novalue", ref)
    assert err.endswith('Error: could not parse flag user-metadata: key-value pair requires "=" as separator\n')
    (dirs.config_dir() / "trustpolicy.json").unlink()
    code, _, err = run(capsys, "verify", "--oci-layout", "--scope", "local/app", ref)
    assert err.endswith(
        "Error: trust policy is not present. To create a trust policy, see: "
        "https://notaryproject.dev/docs/quickstart/#create-a-trust-policy\n"
    )


@pytest.mark.parametrize(
    ("expiry", "message"),
    [
        ("-1s", "expiry duration cannot be a negative value"),
        ("1500ms", "expiry duration supports minimum granularity of seconds"),
        ("1h1ns", "expiry duration supports minimum granularity of seconds"),
    ],
)
def test_sign_expiry_rules_cli44(
    capsys: pytest.CaptureFixture[str], layout: tuple[str, str], expiry: str, message: str
) -> None:
    path, digest = layout
    code, out, err = run(capsys, "sign", "--oci-layout", "-e", expiry, f"{path}@{digest}")
    assert (code, out) == (1, "")
    assert err.endswith(f"Error: {message}\n")


def test_sign_option_errors_cli42(capsys: pytest.CaptureFixture[str], layout: tuple[str, str]) -> None:
    path, digest = layout
    ref = f"{path}@{digest}"
    code, _, err = run(capsys, "sign", "--oci-layout", "--signature-format", "xml", ref)
    assert err.endswith(
        'Error: signature format "xml" not supported\nSupported signature envelope formats are "jws" and "cose"\n'
    )
    code, _, err = run(capsys, "sign", "--oci-layout", "-m", "=v", ref)
    assert err.endswith('Error: could not parse flag user-metadata: key-value pair requires "=" as separator\n')
    code, _, err = run(capsys, "sign", "--oci-layout", "-k", "other", ref)
    assert err.endswith("Error: signing key other not found\n")
    code, _, err = run(capsys, "sign", "--oci-layout", "--timestamp-url", "", "--timestamp-root-cert", "x", ref)
    assert code == 1 and err.endswith("Error: timestamping: tsa url cannot be empty\n")
    assert run(capsys, "sign", "--oci-layout", "--force-referrers-tag=false", ref)[0] == 1  # CLI-40 exclusive group


def test_signature_format_default_from_config_cli20(
    capsys: pytest.CaptureFixture[str], layout: tuple[str, str]
) -> None:
    path, digest = layout
    (dirs.config_dir() / "config.json").write_text('{"signatureFormat": "COSE"}')
    assert run(capsys, "sign", "--oci-layout", f"{path}@{digest}")[0] == 0
    out = run(capsys, "inspect", "--oci-layout", "-o", "json", f"{path}@{digest}")[1]
    assert json.loads(out)["Signatures"][0]["mediaType"] == "application/cose"


def _ansic(t: dt.datetime) -> str:
    return f"{t:%a %b} {t.day:>2} {t:%H:%M:%S %Y}"


def test_inspect_text_and_json_cli72_cli74(capsys: pytest.CaptureFixture[str], layout: tuple[str, str]) -> None:
    from cryptography import x509

    from notation._internal.x509.keys import thumbprint_sha256

    path, digest = layout
    ref = f"{path}@{digest}"
    assert run(capsys, "inspect", "--oci-layout", ref)[1] == f"{ref} has no associated signature\n"
    assert json.loads(run(capsys, "inspect", "--oci-layout", "-o", "json", ref)[1]) == {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "Signatures": [],
    }
    assert run(capsys, "sign", "--oci-layout", "--signature-format", "cose", "-e", "2h", "-m", "k=v", ref)[0] == 0
    cert = x509.load_pem_x509_certificate((dirs.config_dir() / "localkeys" / "test.crt").read_bytes())
    fingerprint = thumbprint_sha256(cert)

    code, out, err = run(capsys, "inspect", "--oci-layout", "-o", "json", ref)
    assert (code, err) == (0, EXPERIMENTAL_WARNING)
    doc = json.loads(out)
    assert list(doc) == ["mediaType", "Signatures"]
    sig = doc["Signatures"][0]
    assert list(sig) == [
        "mediaType",
        "digest",
        "signatureAlgorithm",
        "signedAttributes",
        "userDefinedAttributes",
        "unsignedAttributes",
        "certificates",
        "signedArtifact",
    ]
    assert sig["mediaType"] == "application/cose"
    assert sig["signatureAlgorithm"] == "RSASSA-PSS-SHA-256"
    signed = sig["signedAttributes"]
    assert list(signed) == ["expiry", "signingScheme", "signingTime"]  # Go sorts map keys
    signing_time = dt.datetime.strptime(signed["signingTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    expiry = dt.datetime.strptime(signed["expiry"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert expiry - signing_time == dt.timedelta(hours=2)
    assert sig["userDefinedAttributes"] == {"k": "v"}
    assert sig["unsignedAttributes"] == {"signingAgent": "notation-py/0.1.0"}
    assert sig["certificates"] == [
        {
            "SHA256Fingerprint": fingerprint,
            "issuedTo": "CN=test,O=Notary,L=Seattle,ST=WA,C=US",
            "issuedBy": "CN=test,O=Notary,L=Seattle,ST=WA,C=US",
            "expiry": f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}",
        }
    ]
    manifest = sig["signedArtifact"]
    assert manifest["digest"] == digest and list(manifest) == ["mediaType", "digest", "size"]
    assert out.endswith("\n    ]\n}\n")

    code, out, err = run(capsys, "inspect", "--oci-layout", ref)
    assert (code, err) == (0, EXPERIMENTAL_WARNING)
    assert out == (
        "Inspecting all signatures for signed artifact\n"
        f"{ref}\n"
        "└── application/vnd.cncf.notary.signature\n"
        f"    └── {sig['digest']}\n"
        "        ├── media type: application/cose\n"
        "        ├── signature algorithm: RSASSA-PSS-SHA-256\n"
        "        ├── signed attributes\n"
        "        │   ├── signingScheme: notary.x509\n"
        f"        │   ├── signingTime: {_ansic(signing_time)}\n"
        f"        │   └── expiry: {_ansic(expiry)}\n"
        "        ├── user defined attributes\n"
        "        │   └── k: v\n"
        "        ├── unsigned attributes\n"
        "        │   └── signingAgent: notation-py/0.1.0\n"
        "        ├── certificates\n"
        f"        │   └── SHA256 fingerprint: {fingerprint}\n"
        "        │       ├── issued to: CN=test,O=Notary,L=Seattle,ST=WA,C=US\n"
        "        │       ├── issued by: CN=test,O=Notary,L=Seattle,ST=WA,C=US\n"
        f"        │       └── expiry: {_ansic(cert.not_valid_after_utc)}\n"
        "        └── signed artifact\n"
        "            ├── media type: application/vnd.oci.image.manifest.v1+json\n"
        f"            ├── digest: {digest}\n"
        f"            └── size: {manifest['size']}\n"
    )


def test_inspect_skips_broken_signature_cli71(capsys: pytest.CaptureFixture[str], layout: tuple[str, str]) -> None:
    path, digest = layout
    ref = f"{path}@{digest}"
    assert run(capsys, "sign", "--oci-layout", ref)[0] == 0
    assert run(capsys, "sign", "--oci-layout", ref)[0] == 0
    sigs = json.loads(run(capsys, "inspect", "--oci-layout", "-o", "json", ref)[1])["Signatures"]
    broken = sigs[0]["digest"]
    blobs = Path(path) / "blobs" / "sha256"
    manifest = json.loads((blobs / broken.split(":", 1)[1]).read_bytes())
    envelope = blobs / manifest["layers"][0]["digest"].split(":", 1)[1]
    envelope.write_bytes(envelope.read_bytes()[:-1] + b" ")  # same size, wrong digest
    code, out, err = run(capsys, "inspect", "--oci-layout", ref)
    assert code == 1
    assert out.count("SHA256 fingerprint") == 1  # the good one is still printed
    assert f"Warning: unable to fetch signature {broken} due to error: " in err
    assert err.count("Warning: ") == 2  # the experimental warning and the one skipped signature
    assert err.endswith("Error: at least one signature was skipped and not displayed\n")


def test_interrupt_and_unknown_layout_are_one_line(capsys: pytest.CaptureFixture[str], layout: tuple[str, str]) -> None:
    code, out, err = run(capsys, "ls", "--oci-layout", "/definitely/not/here:v1")
    assert (code, out) == (1, "")
    assert err.startswith(EXPERIMENTAL_WARNING) and err.count("\n") == 2 and "Error: " in err


def test_prompt_reads_stdin_eof_as_no_cli85(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert run(capsys, "plugin", "rm", "x")[0] == 1  # plugin must exist before the prompt (PLG-90)


def test_sign_with_timestamp_then_inspect_and_verify_cli42_cli72(
    capsys: pytest.CaptureFixture[str], layout: tuple[str, str], tmp_path: Path
) -> None:
    from protocol_servers.tsa import TSA
    from support import pki

    path, digest = layout
    ref = f"{path}@{digest}"
    tsa_root, tsa_leaf = pki.tsa_chain()
    root_file = tmp_path / "tsa-root.pem"
    root_file.write_bytes(tsa_root.cert_pem())
    two = tmp_path / "two.pem"
    two.write_bytes(tsa_root.cert_pem() + tsa_leaf.cert_pem())

    code, _, err = run(
        capsys, "sign", "--oci-layout", "--timestamp-url", "ftp://x", "--timestamp-root-cert", str(root_file), ref
    )
    assert code == 1 and err.endswith(
        'Error: cannot get http timestamper for timestamping: endpoint "ftp://x": '
        'scheme must be http or https, but got "ftp"\n'
    )
    code, _, err = run(
        capsys, "sign", "--oci-layout", "--timestamp-url", "http://x", "--timestamp-root-cert", str(two), ref
    )
    assert code == 1 and err.endswith(
        f'Error: found more than one certificates from "{two}". Expecting single x509 root certificate in PEM or DER '
        "format from the file\n"
    )
    # A signer valid since an hour ago: generate-test's certificate starts "now", and a timestamp's lower bound
    # (genTime - accuracy) may then fall before it, which verification rightly rejects (TSV).
    from notation._internal.config.signingkeys import KeySuite, load_signing_keys, save_signing_keys

    signer = pki.self_signed_leaf("ts-signer")
    key_file, chain_file = signer.write(tmp_path, "ts-signer")
    save_signing_keys(load_signing_keys().add(KeySuite("ts", key_path=str(key_file), cert_path=str(chain_file))))
    assert run(capsys, "cert", "add", "-t", "ca", "-s", "test", str(chain_file))[0] == 0
    with TSA(tsa_leaf) as tsa:
        code, out, _ = run(
            capsys,
            "sign",
            "--oci-layout",
            "-k",
            "ts",
            "--timestamp-url",
            tsa.url,
            "--timestamp-root-cert",
            str(root_file),
            ref,
        )
    assert (code, out) == (0, f"Successfully signed {ref}\n")

    code, out, _ = run(capsys, "inspect", "--oci-layout", "-o", "json", ref)
    stamp = json.loads(out)["Signatures"][0]["unsignedAttributes"]["timestampSignature"]
    assert list(stamp) == ["timestamp", "certificates"]
    assert stamp["timestamp"].startswith("[") and ", " in stamp["timestamp"]
    assert stamp["certificates"][0]["issuedTo"] == "CN=Test TSA,O=Notary,L=Seattle,ST=WA,C=US"
    text = run(capsys, "inspect", "--oci-layout", ref)[1]
    assert "        ├── unsigned attributes\n        │   ├── signingAgent: notation-py/0.1.0\n" in text
    assert "        │   └── timestamp signature\n        │       ├── timestamp: [" in text
    assert "        │       └── certificates\n" in text

    # the timestamp is verified against a tsa trust store named in the policy
    assert run(capsys, "cert", "add", "-t", "tsa", "-s", "ts", str(root_file))[0] == 0
    policy = json.loads((dirs.config_dir() / "trustpolicy.json").read_text())
    policy["trustPolicies"][0]["trustStores"].append("tsa:ts")
    (dirs.config_dir() / "trustpolicy.json").write_text(json.dumps(policy))
    result = run(capsys, "verify", "--oci-layout", "--scope", "local/app", ref)
    assert result == (0, f"Successfully verified signature for {ref}\n", EXPERIMENTAL_WARNING)
