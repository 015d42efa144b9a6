"""``notation blob sign|verify|inspect|policy`` (cli.md Appendix A, signature.md §15 BLOB-01..06, trust.md TP-16,
TP-40..42): round trips in JWS and COSE with local keys, every refusal with Go main's words, a timestamp, and a
2 GiB sparse blob signed and verified with bounded memory."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from notation._internal.cli.main import main
from notation._internal.config import dirs
from support.cli import run

LINK = "https://notaryproject.dev/docs/quickstart/#create-a-trust-policy"


def statement(name: str, level: str = "strict", *, global_policy: bool = False, store: str = "ca:test") -> Any:
    s: dict[str, Any] = {"name": name, "signatureVerification": {"level": level}}
    if level != "skip":
        s["trustStores"] = [store]
        s["trustedIdentities"] = ["*"]
    if global_policy:
        s["globalPolicy"] = True
    return s


def write_policy(*statements: Any) -> None:
    path = dirs.config_dir() / "trustpolicy.blob.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": "1.0", "trustPolicies": list(statements)}))


@pytest.fixture
def blob(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A blob, a default generate-test key trusted in ca:test, and a global strict blob policy for it."""
    assert main(["cert", "generate-test", "--default", "test"]) == 0
    write_policy(statement("global", global_policy=True), statement("audit", "audit", store="ca:other"))
    capsys.readouterr()
    path = tmp_path / "data" / "release.tar.gz"
    path.parent.mkdir()
    path.write_bytes(b"release bytes\n" * 100)
    return path


@pytest.mark.parametrize("fmt", ["jws", "cose"])
def test_blob_sign_verify_round_trip_blob01_blob02_tp41(
    capsys: pytest.CaptureFixture[str], blob: Path, fmt: str
) -> None:
    code, out, err = run(capsys, "blob", "sign", "--signature-format", fmt, "-m", "k=v", str(blob))
    sig = blob.parent / f"release.tar.gz.{fmt}.sig"
    assert (code, out, err) == (0, f"Successfully signed {blob}\nSignature file written to {sig}\n", "")
    assert stat.S_IMODE(sig.stat().st_mode) == 0o600
    code, out, err = run(capsys, "blob", "verify", "-s", str(sig), str(blob))
    assert (code, err) == (0, "")
    assert out == (
        f"Successfully verified signature for {blob}\n\nThe artifact was signed with the following user metadata.\n\n"
        "KEY   VALUE   \nk     v       \n"
    )
    assert (
        run(
            capsys, "blob", "verify", "-m", "k=v", "--media-type", "application/octet-stream", "-s", str(sig), str(blob)
        )[0]
        == 0
    )
    code, _, err = run(capsys, "blob", "verify", "-m", "k=w", "-s", str(sig), str(blob))
    assert (code, err) == (
        1,
        "Error: signature verification failed: unable to find specified metadata in the signature\n",
    )


def test_blob_sign_directory_prompt_and_force(capsys: pytest.CaptureFixture[str], blob: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "sigs" / "new"
    code, out, _ = run(capsys, "blob", "sign", "--signature-directory", str(out_dir), str(blob))
    sig = out_dir / "release.tar.gz.jws.sig"
    assert (code, out) == (0, f"Successfully signed {blob}\nSignature file written to {sig}\n")
    before = sig.read_bytes()
    prompt = "The signature file already exists, do you want to overwrite it? [y/N] "
    # end of input: only the prompt, as Go's scanner finds no line; "n": Go's "Operation cancelled."
    assert run(capsys, "blob", "sign", "--signature-directory", str(out_dir), str(blob), stdin="") == (0, prompt, "")
    assert run(capsys, "blob", "sign", "--signature-directory", str(out_dir), str(blob), stdin="n\n") == (
        0,
        prompt + "Operation cancelled.\n",
        "",
    )
    assert sig.read_bytes() == before
    code, out, _ = run(capsys, "blob", "sign", "--signature-directory", str(out_dir), str(blob), stdin="y\n")
    assert code == 0 and out.startswith(prompt + "Successfully signed") and sig.read_bytes() != before
    code, out, err = run(capsys, "blob", "sign", "--force", "--signature-directory", str(out_dir), str(blob))
    assert (code, err) == (0, "Warning: existing signature file will be overwritten\n")
    # relative blob path: the signature goes next to it, with Go's cleaned path
    os.chdir(blob.parent)
    assert run(capsys, "blob", "sign", "--force", "release.tar.gz")[1].endswith(
        "Signature file written to release.tar.gz.jws.sig\n"
    )


def _flip_payload(sig: Path) -> None:
    doc = json.loads(sig.read_text())
    payload = json.loads(base64.urlsafe_b64decode(doc["payload"] + "=="))
    payload["targetArtifact"]["size"] += 1
    doc["payload"] = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    sig.write_text(json.dumps(doc))


def test_blob_verify_refusals_blob03_blob05_tp40_tp41(
    capsys: pytest.CaptureFixture[str], blob: Path, tmp_path: Path
) -> None:
    assert run(capsys, "blob", "sign", "--media-type", "application/x-tar", str(blob))[0] == 0
    sig = blob.parent / "release.tar.gz.jws.sig"

    def verify(*extra: str, signature: Path = sig, target: Path = blob) -> tuple[int, str, str]:
        return run(capsys, "blob", "verify", *extra, "-s", str(signature), str(target))

    assert verify("--media-type", "application/x-tar")[0] == 0
    mismatch = "Error: signature verification failed: integrity check failed. signature does not match the given blob\n"
    assert verify("--media-type", "application/octet-stream") == (1, "", mismatch)  # wrong media type
    tampered = tmp_path / "tampered.tar.gz"
    tampered.write_bytes(blob.read_bytes()[:-1] + b"X")
    assert verify(target=tampered) == (1, "", mismatch)  # same size, other bytes
    longer = tmp_path / "longer.tar.gz"
    longer.write_bytes(blob.read_bytes() + b"\n")
    assert verify(target=longer) == (1, "", mismatch)
    # a tampered signature fails integrity
    bad = tmp_path / "bad.jws.sig"
    bad.write_bytes(sig.read_bytes())
    _flip_payload(bad)
    code, _, err = verify(signature=bad)
    assert code == 1 and err.startswith("Error: signature verification failed: ") and err.count("\n") == 1
    assert "signature" in err and "integrity check failed. signature does not match" not in err
    # TP-40/41
    assert verify("--policy-name", "nope") == (
        1,
        "",
        'Error: signature verification failed: no applicable blob trust policy with name "nope"\n',
    )
    assert verify("--policy-name", "  ")[2] == "Error: signature verification failed: policy name cannot be empty\n"
    write_policy(statement("named"))
    assert verify() == (1, "", "Error: signature verification failed: no global blob trust policy\n")
    assert verify("--policy-name", "named")[0] == 0
    # BLOB-03: the envelope format comes from the file name
    for name, message in (
        ("sig.jws", "invalid signature filename sig.jws. The file extension must be .sig"),
        (
            "blob.sig",
            "invalid signature filename blob.sig. A valid signature file name must contain signature format and .sig "
            "file extension",
        ),
        (
            "blob.pem.sig",
            'signature format "pem" not supported\nSupported signature envelope formats are "jws" and "cose"',
        ),
    ):
        other = tmp_path / name
        other.write_bytes(sig.read_bytes())
        assert verify("--policy-name", "named", signature=other) == (1, "", f"Error: {message}\n")
    upper = tmp_path / "blob.JWS.SIG"
    upper.write_bytes(sig.read_bytes())
    assert verify("--policy-name", "named", signature=upper)[0] == 0
    cose_named = tmp_path / "blob.cose.sig"
    cose_named.write_bytes(sig.read_bytes())
    code, _, err = verify("--policy-name", "named", signature=cose_named)
    assert code == 1 and err.startswith("Error: signature verification failed: ")
    # missing files and policy
    assert verify(target=tmp_path / "absent") == (
        1,
        "",
        f"Error: open {tmp_path / 'absent'}: no such file or directory\n",
    )
    assert verify(signature=tmp_path / "absent.jws.sig")[2] == (
        f"Error: open {tmp_path / 'absent.jws.sig'}: no such file or directory\n"
    )
    (dirs.config_dir() / "trustpolicy.blob.json").unlink()
    assert verify() == (1, "", f"Error: trust policy is not present. To create a trust policy, see: {LINK}\n")
    (dirs.config_dir() / "trustpolicy.blob.json").write_text("{")
    assert verify() == (1, "", f"Error: malformed trust policy. To create a trust policy, see: {LINK}\n")
    write_policy(statement("a", global_policy=True), statement("a"))
    assert verify()[2] == (
        'Error: multiple blob trust policy statements use the same name "a", statement names must be unique\n'
    )
    write_policy(statement("g", global_policy=True, store="ca:absent"))
    assert verify() == (  # AUTH-05: a trust store error keeps its own text
        1,
        "",
        'Error: the trust store "absent" of type "ca" does not exist. Use command \'notation cert add\' to create and '
        "add trusted certificates to the trust store\n",
    )


def test_blob_verify_levels_skip_audit_expired_tp42_lvl01(
    capsys: pytest.CaptureFixture[str], blob: Path, tmp_path: Path
) -> None:
    from notation._internal.workflows.blob import sign_blob_stream
    from notation._internal.x509.keys import load_local_signer
    from support import pki

    # an expired signature: signed half an hour ago with a one-minute expiry, by a signer valid since an hour ago
    leaf = pki.self_signed_leaf("old-signer")
    key_file, cert_file = leaf.write(tmp_path, "old")
    assert run(capsys, "cert", "add", "-t", "ca", "-s", "old", str(cert_file))[0] == 0
    with blob.open("rb") as fh:
        result = sign_blob_stream(
            fh,
            load_local_signer(key_file, cert_file),
            expiry=dt.timedelta(minutes=1),
            now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30),
        )
    sig = tmp_path / "old.jws.sig"
    sig.write_bytes(result.envelope)
    write_policy(
        statement("strict", global_policy=True, store="ca:old"),
        statement("permissive", "permissive", store="ca:old"),
        {
            **statement("override", store="ca:old"),
            "signatureVerification": {"level": "strict", "override": {"expiry": "log"}},
        },
        statement("untrusted-audit", "audit", store="ca:test"),
        statement("untrusted-strict", store="ca:test"),
        statement("skipped", "skip"),
    )

    def verify(*extra: str) -> tuple[int, str, str]:
        return run(capsys, "blob", "verify", *extra, "-s", str(sig), str(blob))

    code, out, err = verify()
    assert (code, out) == (1, "")
    assert (
        err.startswith('Error: signature verification failed: digital signature has expired on "')
        and err.count("\n") == 1
    )
    for name in ("permissive", "override"):
        code, out, err = verify("--policy-name", name)
        assert (code, out) == (0, f"\nSuccessfully verified signature for {blob}\n")
        assert err.startswith(
            'Warning: expiry was set to "log" and failed with error: digital signature has expired on '
        )
    code, out, err = verify("--policy-name", "untrusted-audit")
    assert (code, out) == (0, f"\nSuccessfully verified signature for {blob}\n")
    assert err.startswith('Warning: authenticity was set to "log" and failed with error: ')
    code, _, err = verify("--policy-name", "untrusted-strict")
    assert code == 1 and err == (
        "Error: signature verification failed: the signature's certificate chain does not contain any trusted "
        "certificate\n"
    )
    # skip: no check at all, not even of the blob (TP-42)
    other = tmp_path / "anything"
    other.write_bytes(b"x")
    assert run(capsys, "blob", "verify", "--policy-name", "skipped", "-s", str(sig), str(other)) == (
        0,
        f"Trust policy is configured to skip signature verification for {other}\n",
        "",
    )


def test_blob_sign_refusals(capsys: pytest.CaptureFixture[str], blob: Path, tmp_path: Path) -> None:
    def sign(*argv: str) -> tuple[int, str, str]:
        return run(capsys, "blob", "sign", *argv)

    assert sign() == (
        1,
        "",
        "Error: missing file path to the blob artifact: use `notation blob sign --help` to see what parameters are "
        "required\n",
    )
    assert sign("") == (1, "", "Error: blob path cannot be empty\n")
    assert sign("--signature-directory", "", str(blob)) == (1, "", "Error: signature directory cannot be empty\n")
    assert sign("--timestamp-url", "", str(blob))[2] == "Error: timestamping: tsa url cannot be empty\n"
    assert sign("--timestamp-url", "http://x", str(blob))[2] == (
        "Error: if any flags in the group [timestamp-url timestamp-root-cert] are set they must all be set; missing "
        "[timestamp-root-cert]\n"
    )
    assert sign("--key", "k", "--id", "i", str(blob))[2].startswith("Error: if any flags in the group [id plugin]")
    assert sign("--signature-format", "COSE", str(blob))[2] == (
        'Error: signature format "COSE" not supported\nSupported signature envelope formats are "jws" and "cose"\n'
    )
    assert sign("--media-type", "", str(blob))[2] == "Error: content media-type cannot be empty\n"
    for media_type, reason in (
        ("text", None),
        ("/x", "mime: no media type"),
        ("a b", "mime: expected slash after first token"),
        ("a/", "mime: expected token after slash"),
        ("a/b c", "mime: unexpected content after media subtype"),
        ("a/b; c", "mime: invalid media parameter"),
        ("a/b; c=d;", None),
        ("a/b; c=d; C=e", "mime: duplicate parameter name"),
    ):
        code, _, err = sign("--force", "--media-type", media_type, str(blob))
        if reason is None:
            assert code == 0, (media_type, err)
        else:
            assert err == f'Error: invalid content media-type "{media_type}": {reason}\n'
    assert sign("-e", "-1s", str(blob))[2] == "Error: expiry duration cannot be a negative value\n"
    assert sign("-m", "io.cncf.notary.x=1", str(blob))[2] == (
        "Error: error adding user metadata: metadata key io.cncf.notary.x has reserved prefix io.cncf.notary\n"
    )
    assert sign("-k", "nope", str(blob))[2].startswith("Error: signing key nope not found")
    assert sign(str(tmp_path / "absent")) == (1, "", f"Error: open {tmp_path / 'absent'}: no such file or directory\n")
    assert sign(str(tmp_path)) == (1, "", f"Error: read {tmp_path}: is a directory\n")


def test_blob_digest_follows_the_key_alg03_blob04(
    capsys: pytest.CaptureFixture[str], blob: Path, tmp_path: Path
) -> None:
    from notation._internal.config.signingkeys import KeySuite, load_signing_keys, save_signing_keys
    from support import pki

    leaf = pki.self_signed_leaf("ec384", key_kind="ec384")
    key_file, cert_file = leaf.write(tmp_path, "ec384")
    save_signing_keys(load_signing_keys().add(KeySuite("ec384", key_path=str(key_file), cert_path=str(cert_file))))
    assert run(capsys, "cert", "add", "-t", "ca", "-s", "test", str(cert_file))[0] == 0
    assert run(capsys, "blob", "sign", "-k", "ec384", "--signature-format", "cose", str(blob))[0] == 0
    sig = blob.parent / "release.tar.gz.cose.sig"
    doc = json.loads(run(capsys, "blob", "inspect", "-o", "json", str(sig))[1])
    assert doc["signedArtifact"]["digest"].startswith("sha384:") and doc["signatureAlgorithm"] == "ECDSA-SHA-384"
    assert run(capsys, "blob", "verify", "-s", str(sig), str(blob))[0] == 0


def test_blob_inspect_tree_and_json(capsys: pytest.CaptureFixture[str], blob: Path, tmp_path: Path) -> None:
    assert run(capsys, "blob", "sign", "-e", "2h", "-m", "b=2", "-m", "a=1", str(blob))[0] == 0
    sig = blob.parent / "release.tar.gz.jws.sig"
    code, out, err = run(capsys, "blob", "inspect", str(sig))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:5] == [
        str(sig),
        "├── signature algorithm: RSASSA-PSS-SHA-256",
        "├── signature envelope type: application/jose+json",
        "├── signed attributes",
        "│   ├── content type: application/vnd.cncf.notary.payload.v1+json",
    ]
    assert "│   ├── a: 1" in lines and "│   └── b: 2" in lines
    assert "│   └── signing agent: notation-py/0.1.0" in lines
    assert lines[-4:-1] == ["└── signed artifact", "    ├── media type: application/octet-stream", lines[-2]]
    assert lines[-1] == f"    └── size: {blob.stat().st_size}"
    doc = json.loads(run(capsys, "blob", "inspect", "-o", "json", str(sig))[1])
    assert list(doc) == [
        "signatureAlgorithm",
        "signatureEnvelopeType",
        "signedAttributes",
        "userDefinedAttributes",
        "unsignedAttributes",
        "certificates",
        "signedArtifact",
    ]
    assert list(doc["signedAttributes"]) == ["contentType", "expiry", "signingScheme", "signingTime"]
    assert doc["userDefinedAttributes"] == {"a": "1", "b": "2"}
    assert doc["signedArtifact"]["size"] == blob.stat().st_size
    assert run(capsys, "blob", "inspect", "-o", "text", str(sig)) == (1, "", "Error: unrecognized output format text\n")
    assert run(capsys, "blob", "inspect")[2] == (
        "Error: missing signature path: use `notation blob inspect --help` to see what parameters are required\n"
    )
    garbage = tmp_path / "x.cose.sig"
    garbage.write_bytes(b"not cbor")
    code, _, err = run(capsys, "blob", "inspect", str(garbage))
    assert code == 1 and err.startswith("Error: failed to parse signature: ") and err.count("\n") == 1
    assert run(capsys, "blob", "inspect", str(tmp_path / "no.jws.sig"))[2] == (
        f"Error: failed to read signature file: open {tmp_path / 'no.jws.sig'}: no such file or directory\n"
    )


def test_blob_verify_flag_checks(capsys: pytest.CaptureFixture[str], blob: Path) -> None:
    assert run(capsys, "blob", "verify")[2] == (
        "Error: missing path to the blob artifact: use `notation blob verify --help` to see what parameters are "
        "required\n"
    )
    # Go's PreRunE runs before cobra's required-flag check, so a missing --signature reads like an empty one
    assert run(capsys, "blob", "verify", str(blob))[2] == "Error: filepath of the signature cannot be empty\n"
    assert run(capsys, "blob", "verify", "--media-type", "", "-s", "x.jws.sig", str(blob))[2] == (
        "Error: --media-type is set but with empty value\n"
    )


def test_blob_sign_verify_with_timestamp(capsys: pytest.CaptureFixture[str], blob: Path, tmp_path: Path) -> None:
    from notation._internal.config.signingkeys import KeySuite, load_signing_keys, save_signing_keys
    from protocol_servers.tsa import TSA
    from support import pki

    tsa_root, tsa_leaf = pki.tsa_chain()
    root_file = tmp_path / "tsa-root.pem"
    root_file.write_bytes(tsa_root.cert_pem())
    signer = pki.self_signed_leaf("ts-signer")
    key_file, chain_file = signer.write(tmp_path, "ts-signer")
    save_signing_keys(load_signing_keys().add(KeySuite("ts", key_path=str(key_file), cert_path=str(chain_file))))
    assert run(capsys, "cert", "add", "-t", "ca", "-s", "ts", str(chain_file))[0] == 0
    assert run(capsys, "cert", "add", "-t", "tsa", "-s", "tsa", str(root_file))[0] == 0
    with TSA(tsa_leaf) as tsa:
        code, _, err = run(
            capsys,
            "blob",
            "sign",
            "-k",
            "ts",
            "--timestamp-url",
            tsa.url,
            "--timestamp-root-cert",
            str(root_file),
            str(blob),
        )
    assert (code, err) == (0, "")
    sig = blob.parent / "release.tar.gz.jws.sig"
    tree = run(capsys, "blob", "inspect", str(sig))[1]
    assert "│   └── timestamp signature\n│       ├── timestamp: [" in tree
    ts_policy = {**statement("ts", store="ca:ts"), "trustStores": ["ca:ts", "tsa:tsa"]}
    write_policy({**ts_policy, "globalPolicy": True})
    assert run(capsys, "blob", "verify", "-s", str(sig), str(blob)) == (
        0,
        f"Successfully verified signature for {blob}\n",
        "",
    )
    # a tsa store holding another root: the countersignature is not trusted, strict fails
    other_root, _ = pki.tsa_chain()
    other_file = tmp_path / "other-root.pem"
    other_file.write_bytes(other_root.cert_pem())
    assert run(capsys, "cert", "add", "-t", "tsa", "-s", "other", str(other_file))[0] == 0
    write_policy({**ts_policy, "trustStores": ["ca:ts", "tsa:other"], "globalPolicy": True})
    code, _, err = run(capsys, "blob", "verify", "-s", str(sig), str(blob))
    assert code == 1 and err.startswith("Error: signature verification failed: ") and err.count("\n") == 1


def test_blob_sparse_2gib_bounded_memory(capsys: pytest.CaptureFixture[str], blob: Path, tmp_path: Path) -> None:
    """A 2 GiB sparse file signed and verified by the CLI in a child process whose peak RSS is measured."""
    import subprocess

    big = tmp_path / "model.bin"
    with big.open("wb") as fh:
        fh.truncate(2 * 1024**3)
    env = dict(os.environ)
    script = (
        "import resource, sys\n"
        "from notation._internal.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "print('maxrss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    peaks = []
    for argv in (["blob", "sign", str(big)], ["blob", "verify", "-s", f"{big}.jws.sig", str(big)]):
        proc = subprocess.run(
            [sys.executable, "-c", script, *argv], env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stderr
        peaks.append(int(proc.stderr.rsplit("maxrss_kib ", 1)[1]))
    doc = json.loads(run(capsys, "blob", "inspect", "-o", "json", f"{big}.jws.sig")[1])
    assert doc["signedArtifact"]["size"] == 2 * 1024**3
    print("blob 2 GiB peak RSS (KiB) sign, verify:", peaks)
    assert max(peaks) < 200 * 1024, peaks  # KiB: the interpreter and crypto, never the 2 GiB


def test_blob_policy_import_show_init_tp16(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = dirs.config_dir() / "trustpolicy.blob.json"
    missing = (
        "Error: failed to show blob trust policy as the configuration does not exist.\n"
        "You can import one using `notation blob policy import <path-to-policy.json>`\n"
    )
    assert run(capsys, "blob", "policy", "show") == (1, "", missing)
    assert run(capsys, "blob", "policy", "show", "x") == (1, "", "Error: accepts 0 arg(s), received 1\n")
    assert run(capsys, "blob", "policy", "import")[2] == (
        "Error: requires 1 argument but received 0.\nUsage: notation blob policy import <path-to-policy.json>\n"
        "Please specify a trust policy configuration location as the argument\n"
    )
    source = tmp_path / "p.json"

    def imp(doc: Any, *extra: str, stdin: str | None = None) -> tuple[int, str, str]:
        source.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        return run(capsys, "blob", "policy", "import", *extra, str(source), stdin=stdin)

    def doc(*statements: Any, version: str = "1.0") -> Any:
        return {"version": version, "trustPolicies": list(statements)}

    validate = "Error: failed to validate blob trust policy configuration: "
    cases: list[tuple[Any, str]] = [
        ("{", "Error: failed to parse blob trust policy configuration: unexpected end of JSON input\n"),
        (
            '{"version":"1.0","trustPolicies":[{"name":"a","globalPolicy":"yes"}]}',
            "Error: failed to parse blob trust policy configuration: json: cannot unmarshal string into Go struct "
            "field BlobTrustPolicy.trustPolicies.globalPolicy of type bool\n",
        ),
        (
            doc(statement("a"), version=""),
            validate + "blob trust policy document has empty version, version must be specified\n",
        ),
        (doc(statement("a"), version="2.0"), validate + 'blob trust policy document uses unsupported version "2.0"\n'),
        (doc(), validate + "blob trust policy document can not have zero trust policy statements\n"),
        (
            doc(statement("a"), statement("a")),
            validate + 'multiple blob trust policy statements use the same name "a", statement names must be unique\n',
        ),
        (
            doc(statement("")),
            validate
            + "blob trust policy: a trust policy statement is missing a name, every statement requires a name\n",
        ),
        (
            doc({"name": "a", "signatureVerification": {"level": "hard"}}),
            validate + 'blob trust policy: trust policy statement "a" has invalid signatureVerification: invalid '
            'signature verification level "hard"\n',
        ),
        (
            doc({**statement("a"), "trustStores": []}),
            validate + 'blob trust policy: trust policy statement "a" is either missing trust stores or trusted '
            "identities, both must be specified\n",
        ),
        (
            doc({**statement("a"), "trustStores": ["nope"]}),
            validate + 'blob trust policy: trust policy statement "a" has malformed trust store value "nope". The '
            "required format is <TrustStoreType>:<TrustStoreName>\n",
        ),
        (
            doc({**statement("a", "skip"), "trustStores": ["ca:x"]}),
            validate + 'blob trust policy: trust policy statement "a" is set to skip signature verification but '
            "configured with trust stores and/or trusted identities, remove them if signature verification needs to "
            "be skipped\n",
        ),
        (
            doc(statement("a", global_policy=True), statement("b", global_policy=True)),
            validate + "multiple blob trust policy statements have globalPolicy set to true. Only one trust policy "
            "statement can be marked as global policy\n",
        ),
        (
            doc(statement("a", "skip", global_policy=True)),
            validate + "global blob trust policy statement cannot have verification level set to skip\n",
        ),
    ]
    for document, error in cases:
        assert imp(document) == (1, "", error), document
    assert not target.exists()
    good = doc(statement("a", global_policy=True), statement("b", "skip"))
    assert imp(good) == (0, f"Successfully imported blob trust policy configuration to {target}.\n", "")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert run(capsys, "blob", "policy", "show") == (0, json.dumps(good), "")
    prompt = "The blob trust policy configuration already exists, do you want to overwrite it? [y/N] "
    assert imp(good, stdin="") == (0, prompt, "")
    assert imp(good, stdin="no\n") == (0, prompt + "Operation cancelled.\n", "")
    assert imp(good, "--force") == (
        0,
        f"Successfully imported blob trust policy configuration to {target}.\n",
        "Warning: existing blob trust policy configuration will be overwritten\n",
    )
    # show of an invalid document: the hint, the document, then the reason (exit 1, as Go main)
    target.write_text(json.dumps(doc(statement("a", "skip", global_policy=True))))
    code, out, err = run(capsys, "blob", "policy", "show")
    assert (code, out) == (1, target.read_text())
    assert err.startswith("Existing blob trust policy configuration is invalid, you may update or create a new one via")
    assert err.endswith("\nError: global blob trust policy statement cannot have verification level set to skip\n")

    init = ["blob", "policy", "init", "--name", "p", "--trust-store", "ca:s", "--trusted-identity"]
    assert run(capsys, "blob", "policy", "init")[2] == (
        'Error: required flag(s) "name", "trust-store", "trusted-identity" not set\n'
    )
    assert run(capsys, *init, "x509.subject: C=US, CN=a, CN=b")[2].startswith(
        'Error: invalid blob policy: blob trust policy: trust policy statement "p" has trusted identity '
    )
    assert run(capsys, *init, "*", "--global", stdin="") == (0, prompt, "")
    assert run(capsys, *init, "*", "--global", "--force") == (
        0,
        f"Successfully initialized blob trust policy file to {target}.\n",
        "Warning: existing blob trust policy configuration will be overwritten\n",
    )
    assert target.read_text() == (
        '{\n  "version": "1.0",\n  "trustPolicies": [\n    {\n      "name": "p",\n      "signatureVerification": {\n'
        '        "level": "strict"\n      },\n      "trustStores": [\n        "ca:s"\n      ],\n'
        '      "trustedIdentities": [\n        "*"\n      ],\n      "globalPolicy": true\n    }\n  ]\n}'
    )


def test_blob_verbose_logs_as_go(capsys: pytest.CaptureFixture[str], blob: Path) -> None:
    """CLI-06: the lines notation-go main logs for blob signing and verification."""
    code, _, err = run(capsys, "blob", "sign", "-v", str(blob))
    sig = blob.parent / "release.tar.gz.jws.sig"
    assert code == 0 and f"level=info msg=Writing signature to file {sig}\n" in err
    code, _, err = run(capsys, "blob", "verify", "-v", "-s", str(sig), str(blob))
    assert code == 0
    assert (
        "level=info msg=Trust policy configuration: &{Name:global SignatureVerification:{VerificationLevel:strict "
        "Override:map[] VerifyTimestamp:} TrustStores:[ca:test] TrustedIdentities:[*] GlobalPolicy:true}\n"
    ) in err
    code, _, err = run(capsys, "blob", "verify", "-d", "--media-type", "x/y", "-s", str(sig), str(blob))
    assert code == 1 and "level=debug msg=Verify signature of media type application/jose+json\n" in err
    assert "level=info msg=payload derived from the blob: {MediaType:x/y Digest:sha256:" in err


def test_blob_sign_refuses_envelope_only_plugin_blob06(
    capsys: pytest.CaptureFixture[str], blob: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Go signs blobs only with SIGNATURE_GENERATOR.RAW plugins (DISC-14): an envelope generator is refused by name."""
    plugin = tmp_path / "libexec" / "plugins" / "envgen" / "notation-envgen"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        'get-plugin-metadata) echo \'{"name":"envgen","description":"d","version":"1.0.0","url":"u",'
        '"supportedContractVersions":["1.0"],"capabilities":["SIGNATURE_GENERATOR.ENVELOPE"]}\';;\n'
        "*) exit 1;;\n"
        "esac\n"
    )
    plugin.chmod(0o755)
    monkeypatch.setenv("NOTATION_LIBEXEC", str(tmp_path / "libexec"))
    assert run(capsys, "blob", "sign", "--plugin", "envgen", "--id", "k", str(blob)) == (
        1,
        "",
        'Error: the plugin "envgen" lacks the signature generator capability required for blob signing\n',
    )
    assert not (blob.parent / "release.tar.gz.jws.sig").exists()
    # a directory as the blob: Go opens it, then fails reading it
    assert run(capsys, "blob", "sign", "--signature-directory", str(tmp_path), str(blob))[0] == 0
    sig = tmp_path / "release.tar.gz.jws.sig"
    code, _, err = run(capsys, "blob", "verify", "-s", str(sig), str(tmp_path))
    assert (code, err) == (
        1,
        "Error: signature verification failed: failed to generate descriptor for given artifact. Error: read "
        f"{tmp_path}: is a directory\n",
    )


def test_blob_verify_runs_the_verification_plugin_ver12_ver18(
    capsys: pytest.CaptureFixture[str], blob: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blob signature naming a verification plugin: the plugin process is found and asked (verify-signature),
    with --plugin-config, and its failure rejects the signature, as for images."""
    import hashlib

    from notation._internal.envelope.codec import sign_envelope
    from notation._internal.envelope.local_signer import LocalSigner
    from notation._internal.envelope.model import HEADER_VERIFICATION_PLUGIN, ExtendedAttribute, SignRequest
    from notation._internal.envelope.payload import build_payload
    from notation._internal.oci import mediatypes
    from notation._internal.oci.descriptor import Descriptor
    from plugin_support import CAP_TRUSTED_IDENTITY, install_plugin, read_log
    from support import pki

    root, _, leaf = pki.chain3("ec256", "ec256")
    root_file = tmp_path / "root.pem"
    root_file.write_bytes(root.cert_pem())
    assert run(capsys, "cert", "add", "-t", "ca", "-s", "plug", str(root_file))[0] == 0
    data = blob.read_bytes()
    target = Descriptor("application/octet-stream", "sha256:" + hashlib.sha256(data).hexdigest(), len(data))
    request = SignRequest(
        payload=build_payload(target, mediatypes.JWS_ENVELOPE),
        payload_content_type=mediatypes.NOTARY_PAYLOAD,
        signing_time=dt.datetime.now(dt.UTC).replace(microsecond=0),
        extended=(ExtendedAttribute(HEADER_VERIFICATION_PLUGIN, "verifier", True),),
    )
    sig = tmp_path / "plugged.jws.sig"
    sig.write_bytes(sign_envelope(mediatypes.JWS_ENVELOPE, request, LocalSigner(leaf.key, leaf.chain)))
    write_policy(statement("plug", global_policy=True, store="ca:plug"))

    def verify() -> tuple[int, str, str]:
        return run(capsys, "blob", "verify", "--plugin-config", "k=v", "-s", str(sig), str(blob))

    code, _, err = verify()
    assert code == 1 and err.startswith(
        'Error: signature verification failed: error while locating the verification plugin "verifier"'
    )
    libexec = tmp_path / "libexec"
    monkeypatch.setenv("NOTATION_LIBEXEC", str(libexec))
    log = tmp_path / "plugin-log.jsonl"
    install_plugin(libexec, "verifier", {"log": str(log)}, capabilities=[CAP_TRUSTED_IDENTITY])
    assert verify() == (0, f"Successfully verified signature for {blob}\n", "")
    calls = read_log(log)
    assert [c["cmd"] for c in calls][-1] == "verify-signature"
    assert calls[-1]["request"]["pluginConfig"] == {"k": "v"}
    install_plugin(
        libexec,
        "verifier",
        {
            "log": str(log),
            "verify": {"results": {"SIGNATURE_VERIFIER.TRUSTED_IDENTITY": {"success": False, "reason": "not ours"}}},
        },
        capabilities=[CAP_TRUSTED_IDENTITY],
    )
    code, _, err = verify()
    assert code == 1 and err.startswith("Error: signature verification failed: ") and "not ours" in err


def test_blob_envelope_errors_have_go_words(capsys: pytest.CaptureFixture[str], blob: Path, tmp_path: Path) -> None:
    """No Python decoder text in error lines: JSON syntax errors read as Go's encoding/json."""
    for content, reason in (
        (b"", "unexpected end of JSON input"),
        (b"{", "unexpected end of JSON input"),
        (b"nope", "invalid character 'n' looking for beginning of value"),
        (b"\xa0", "invalid UTF-8 in JSON input"),
    ):
        sig = tmp_path / "g.jws.sig"
        sig.write_bytes(content)
        code, _, err = run(capsys, "blob", "inspect", str(sig))
        assert (code, err) == (1, f"Error: failed to parse signature: jws envelope is not valid JSON: {reason}\n")
