"""Issue 6 acceptance: RFC 3161 timestamps and OCSP/CRL revocation end to end through the `notation` CLI.

Every case runs ``python -m notation sign/verify`` as a subprocess on an OCI image layout, against real protocol
servers on loopback (tests/protocol_servers): a TSA, OCSP responders and a CRL server, switched between behaving and
misbehaving per case. Enforced checks must never pass on a bad answer; logged ones pass with Go's warning line.
Requirement ids: signature.md TSA-01..05; trust.md TSV-10..29, REV-01..25, OUT-01; cli.md CLI-40/42.

The servers and the PKI are module-scoped (the certificates name the servers' ports); each test gets fresh server
behaviour and an empty CRL cache. A slow-TSA signing runs in the background for the whole module, so its 15 s
client timeout costs no extra wall time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.layout import OCILayout, write_image
from notation._internal.trust.evaluate import rfc1123z
from protocol_servers.crl import CRLServer, Revoked, make_crl
from protocol_servers.http_base import Reply
from protocol_servers.ocsp import Entry, OCSPBehaviour, OCSPResponder
from protocol_servers.tsa import TSA, TSABehaviour
from support import pki

EXPERIMENTAL = (
    "Warning: This feature is experimental and may not be fully tested or completed and may be deprecated. "
    'Report any issues to "https://github/notaryproject/notation"\n'
)
ROOT_HINT = "Expecting single x509 root certificate in PEM or DER format from the file"
DN = "{cn},O=Notary,L=Seattle,ST=WA,C=US"
LEAF_DN = DN.format(cn="CN=Revocation Leaf")
INTER_DN = DN.format(cn="CN=Revocation Intermediate")
TSA_DN = DN.format(cn="CN=E2E TSA")


@dataclass
class Run:
    code: int
    out: str
    err: str


@dataclass
class World:
    """Servers, certificates, the notation config directory and the signed layout shared by the module."""

    base: Path
    tsa: TSA
    ocsp: OCSPResponder
    bad_ocsp: OCSPResponder
    """The only responder of the "OCSP Only Leaf" (misbehaviour cases that no CRL can rescue)."""
    crls: CRLServer
    dead: str
    """A loopback URL nothing listens on (connection refused): a server that is down."""
    certs: dict[str, pki.Issued] = field(default_factory=dict)
    keys: dict[str, pki.Issued] = field(default_factory=dict)
    crl_routes: dict[str, bytes] = field(default_factory=dict)
    cache: Path | None = None

    @property
    def config(self) -> Path:
        return self.base / "config"

    @property
    def tsa_root_file(self) -> Path:
        return self.base / "tsa-root.pem"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for var in ("NOTATION_VERIFY_CACHE", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env.pop(var, None)
        env.update(
            NOTATION_CONFIG=str(self.config),
            NOTATION_CACHE=str(self.cache or self.base / "cache"),
            NOTATION_EXPERIMENTAL="1",
            NO_PROXY="127.0.0.1,localhost",
        )
        return env

    def notation(self, *args: str) -> Run:
        proc = subprocess.run(
            [sys.executable, "-m", "notation", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def add_key(self, name: str, issued: pki.Issued) -> None:
        """Write the key and chain files and rewrite signingkeys.json with every key so far."""
        issued.write(self.base / "keys", name)
        self.keys[name] = issued
        doc = {
            "keys": [
                {
                    "name": n,
                    "keyPath": str(self.base / "keys" / f"{n}.key"),
                    "certPath": str(self.base / "keys" / f"{n}.crt"),
                }
                for n in self.keys
            ]
        }
        (self.config / "signingkeys.json").write_text(json.dumps(doc))

    def sign(self, ref: str, key: str, *extra: str, timestamp: bool = True, tsa_url: str | None = None) -> Run:
        ts = ["--timestamp-url", tsa_url or self.tsa.url, "--timestamp-root-cert", str(self.tsa_root_file)]
        return self.notation("sign", "--oci-layout", "--key", key, *(ts if timestamp else []), *extra, ref)

    def verify(self, ref: str, scope: str) -> Run:
        return self.verify_args(ref, "--scope", f"local/{scope}")

    def verify_args(self, ref: str, *args: str) -> Run:
        return self.notation("verify", "--oci-layout", *args, ref)

    def reject_reason(self, ref: str, scope: str) -> str:
        """Verify with a JSON report; assert the verification failed and return the signature's failure."""
        run = self.verify_args(ref, "--scope", f"local/{scope}", "-o", "json")
        assert run.code == 1, (run.out, run.err)
        report = json.loads(run.out)["references"][0]
        assert report["result"] == "failed"
        (signature,) = report["signatures"]
        assert signature["result"] == "failed"
        reason: str = signature["error"]
        return reason


def _free_dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _statement(name: str, level: str, stores: list[str], **verification: Any) -> dict[str, Any]:
    return {
        "name": name,
        "registryScopes": [f"local/{name}"],
        "signatureVerification": {"level": level, **verification},
        "trustStores": stores,
        "trustedIdentities": ["*"],
    }


POLICY = {
    "version": "1.0",
    "trustPolicies": [
        _statement("strict", "strict", ["ca:rev", "tsa:tsa"]),
        _statement("permissive", "permissive", ["ca:rev", "tsa:tsa"]),
        _statement("audit", "audit", ["ca:rev", "tsa:tsa"]),
        _statement("after", "strict", ["ca:rev", "tsa:tsa"], verifyTimestamp="afterCertExpiry"),
        _statement("notsa", "strict", ["ca:rev"]),
        _statement("othertsa", "strict", ["ca:rev", "tsa:other"]),
        _statement("othertsa-log", "permissive", ["ca:rev", "tsa:other"]),
        _statement("nostore", "strict", ["ca:rev", "tsa:nostore"]),
    ],
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("e2e-ts-rev")
    with ExitStack() as stack:
        ocsp = stack.enter_context(OCSPResponder(issuers=[]))
        bad_ocsp = stack.enter_context(OCSPResponder(issuers=[]))
        crls = stack.enter_context(CRLServer())
        urls = pki.revocation_urls
        tsa_root = pki.root_ca("E2E TSA Root", key_kind="ec384", key_usage=pki.CA_KU_WITH_CRL)
        _, tsa_leaf = pki.tsa_chain(
            root=tsa_root, cn="E2E TSA", extra_extensions=urls([ocsp.url], [f"{crls.url}/tsaroot.crl"])
        )
        w = World(base, stack.enter_context(TSA(tsa_leaf)), ocsp, bad_ocsp, crls, _free_dead_url())
        root, inter, leaf = pki.revocable_chain3(ocsp=ocsp.url, crl=crls.url)

        def under_inter(cn: str, ocsp_urls: list[str] | None, crl_urls: list[str] | None, **kw: Any) -> pki.Issued:
            return pki.issue(cn, key_kind="ec256", issuer=inter, extra_extensions=urls(ocsp_urls, crl_urls), **kw)

        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        w.certs = {
            "root": root,
            "inter": inter,
            "leaf": leaf,
            "ocspdown": under_inter("OCSP Down Leaf", [f"{w.dead}/ocsp"], [f"{crls.url}/inter.crl"]),
            "bothdown": under_inter("Both Down Leaf", [f"{w.dead}/ocsp"], [f"{w.dead}/inter.crl"]),
            "ocsponly": under_inter("OCSP Only Leaf", [bad_ocsp.url], None),
            "crlonly": under_inter("CRL Only Leaf", None, [f"{crls.url}/c.crl"]),
            "late": under_inter(
                "Late Leaf", [ocsp.url], [f"{crls.url}/inter.crl"], not_after=now + dt.timedelta(hours=1)
            ),
            "tsa_root": tsa_root,
            "tsa_leaf": tsa_leaf,
            "expired_tsa": pki.tsa_chain(
                root=tsa_root,
                cn="Expired TSA",
                not_before=now - dt.timedelta(days=10),
                not_after=now - dt.timedelta(days=1),
            )[1],
            "other_tsa_root": pki.root_ca("Other TSA Root", key_kind="ec384"),
        }
        ocsp.issuers[:] = [inter, root, tsa_root]
        bad_ocsp.issuers[:] = [inter]
        ocsp.delegate = pki.issue(
            "OCSP Delegate", key_kind="ec256", issuer=inter, eku=[ExtendedKeyUsageOID.OCSP_SIGNING]
        )
        bad_ocsp.delegate = ocsp.delegate
        bad_ocsp.stranger = pki.issue("Stranger", key_kind="ec256")
        w.crl_routes = {
            "/root.crl": make_crl(root),
            "/inter.crl": make_crl(inter),
            "/c.crl": make_crl(inter),
            "/tsaroot.crl": make_crl(tsa_root),
        }
        crls.routes.update(w.crl_routes)

        w.config.mkdir()
        w.tsa_root_file.write_bytes(tsa_root.cert_pem())
        stores = w.config / "truststore" / "x509"
        for kind, store, cert in (
            ("ca", "rev", root),
            ("tsa", "tsa", tsa_root),
            ("tsa", "other", w.certs["other_tsa_root"]),
        ):
            (stores / kind / store).mkdir(parents=True)
            (stores / kind / store / "root.pem").write_bytes(cert.cert_pem())
        (w.config / "trustpolicy.json").write_text(json.dumps(POLICY))
        for name in ("leaf", "ocspdown", "bothdown", "ocsponly", "crlonly", "late"):
            w.add_key(name, w.certs[name])
        yield w


@pytest.fixture(autouse=True)
def _fresh(world: World, tmp_path: Path) -> None:
    """Well-behaved servers, every certificate good, and an empty CRL cache for each test."""
    for responder in (world.ocsp, world.bad_ocsp):
        responder.statuses.clear()
        responder.behaviour = OCSPBehaviour()
    world.crls.routes.clear()
    world.crls.routes.update(world.crl_routes)
    world.tsa.behaviour = TSABehaviour()
    world.tsa.signer = world.certs["tsa_leaf"]
    world.cache = tmp_path / "cache"


@dataclass
class Artifact:
    ref: str
    subject: Descriptor
    layout: Path


def _new_artifact(world: World, tag: str) -> Artifact:
    layout = world.base / "layout"
    desc = write_image(layout, tag, {"content.txt": tag.encode()})
    return Artifact(f"{layout}@{desc.digest}", desc, layout)


def _signature_count(artifact: Artifact) -> int:
    return sum(1 for _ in OCILayout.open(artifact.layout).list_signatures(artifact.subject))


@pytest.fixture(scope="module")
def signed(world: World) -> dict[str, str]:
    """One artifact per signer, each with exactly one timestamped signature (plus one without a timestamp)."""
    refs: dict[str, str] = {}
    for tag, key, extra, timestamp in (
        ("jws", "leaf", [], True),
        ("cose", "leaf", ["--signature-format", "cose"], True),
        ("plain", "leaf", [], False),
        ("ocspdown", "ocspdown", [], True),
        ("bothdown", "bothdown", [], True),
        ("ocsponly", "ocsponly", [], True),
        ("crlonly", "crlonly", [], True),
    ):
        artifact = _new_artifact(world, tag)
        run = world.sign(artifact.ref, key, *extra, timestamp=timestamp)
        assert (run.code, run.out) == (0, f"Successfully signed {artifact.ref}\n"), run.err
        refs[tag] = artifact.ref
    return refs


def _passes(run: Run, ref: str, *warnings: str) -> None:
    """OUT-01: success, and exactly these `Warning: <type> was set to "log" and failed with error: …` lines."""
    assert run.code == 0, run.err
    assert run.out == f"Successfully verified signature for {ref}\n"
    assert run.err == EXPERIMENTAL + "".join(f"Warning: {w}\n" for w in warnings)


def _logged(vtype: str, error: str) -> str:
    return f'{vtype} was set to "log" and failed with error: {error}'


# --- the slow TSA: started first, judged last -----------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _slow_tsa_sign(world: World) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """TSA-02: a TSA slower than the CLI's 15 s timeout; signing runs in the background while the module runs."""
    artifact = _new_artifact(world, "slow")
    with TSA(world.certs["tsa_leaf"], TSABehaviour(delay=16.5)) as slow:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "notation",
                "sign",
                "--oci-layout",
                "--key",
                "leaf",
                "--timestamp-url",
                slow.url,
                "--timestamp-root-cert",
                str(world.tsa_root_file),
                artifact.ref,
            ],
            env=world.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            yield proc, slow.url
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


# --- timestamps ------------------------------------------------------------------------------------------------


def test_timestamped_signatures_verify_tsa05_tsv25(world: World, signed: dict[str, str]) -> None:
    """TSA-05 / TSV-20..28: JWS and COSE signatures timestamped through the CLI verify at every level."""
    for tag in ("jws", "cose"):
        for scope in ("strict", "permissive", "audit", "after"):
            _passes(world.verify(signed[tag], scope), signed[tag])
    run = world.notation("inspect", "--oci-layout", "-o", "json", signed["cose"])
    stamp = json.loads(run.out)["Signatures"][0]["unsignedAttributes"]["timestampSignature"]
    assert stamp["certificates"][0]["issuedTo"] == TSA_DN


def test_signature_without_timestamp_tsv10_tsv20(world: World, signed: dict[str, str]) -> None:
    """TSV-10/20: a `tsa` store in the policy requires a timestamp (always), unless afterCertExpiry and unexpired."""
    ref = signed["plain"]
    missing = "no timestamp countersignature was found in the signature envelope"
    assert world.reject_reason(ref, "strict") == missing
    _passes(world.verify(ref, "permissive"), ref, _logged("authenticTimestamp", missing))
    _passes(world.verify(ref, "after"), ref)
    _passes(world.verify(ref, "notsa"), ref)


def test_expired_leaf_with_timestamp_inside_validity_tsv27(world: World) -> None:
    """TSV-27 / TSV-10/11: a leaf that expired after signing passes on its timestamp, and only on it."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    short = pki.issue(
        "Short Leaf",
        key_kind="ec256",
        issuer=world.certs["inter"],
        not_after=now + dt.timedelta(seconds=3),
        extra_extensions=pki.revocation_urls([world.ocsp.url], [f"{world.crls.url}/inter.crl"]),
    )
    world.add_key("short", short)
    world.tsa.behaviour = TSABehaviour(accuracy_seconds=None)  # range = [genTime, genTime]
    stamped, plain = _new_artifact(world, "short-ts"), _new_artifact(world, "short-plain")
    run = world.sign(stamped.ref, "short")
    assert run.code == 0, run.err
    assert world.sign(plain.ref, "short", timestamp=False).code == 0
    expired_at = short.cert.not_valid_after_utc
    time.sleep(max(0.0, (expired_at - dt.datetime.now(dt.UTC)).total_seconds()) + 1.05)

    _passes(world.verify(stamped.ref, "strict"), stamped.ref)
    _passes(world.verify(stamped.ref, "after"), stamped.ref)
    after = (
        f'verification time is after certificate "{DN.format(cn="CN=Short Leaf")}" validity period, '
        f'it was expired at "{rfc1123z(expired_at)}"'
    )
    assert world.reject_reason(stamped.ref, "notsa") == after
    missing = "no timestamp countersignature was found in the signature envelope"
    assert world.reject_reason(plain.ref, "strict") == missing
    assert world.reject_reason(plain.ref, "after") == missing


def test_timestamp_after_leaf_expiry_fails_tsv27(world: World) -> None:
    """TSV-27: a timestamp later than the leaf's notAfter fails where enforced; afterCertExpiry does not look."""
    late = world.certs["late"]
    world.tsa.behaviour = TSABehaviour(gen_time=late.cert.not_valid_after_utc + dt.timedelta(hours=1))
    artifact = _new_artifact(world, "late")
    assert world.sign(artifact.ref, "late").code == 0
    error = (
        f'timestamp can be after certificate "{DN.format(cn="CN=Late Leaf")}" validity period, it was expired at '
        f'"{rfc1123z(late.cert.not_valid_after_utc)}"'
    )
    assert world.reject_reason(artifact.ref, "strict") == error
    _passes(world.verify(artifact.ref, "permissive"), artifact.ref, _logged("authenticTimestamp", error))
    _passes(world.verify(artifact.ref, "after"), artifact.ref)  # the leaf has not expired: TSV-10 item 4


def test_tsa_root_missing_from_trust_store_tsv24_tsv25(world: World, signed: dict[str, str]) -> None:
    """TSV-24/25/29: a `tsa` store without the TSA's root fails the timestamp: enforced under strict, logged else."""
    ref = signed["jws"]
    error = world.reject_reason(ref, "othertsa")
    assert error.startswith("failed to verify the timestamp countersignature with error: "), error
    _passes(world.verify(ref, "othertsa-log"), ref, _logged("authenticTimestamp", error))
    assert world.reject_reason(ref, "nostore") == (
        'failed to load tsa trust store with error: the trust store "nostore" of type "tsa" does not exist'
    )


# --- revocation statuses ---------------------------------------------------------------------------------------

_WHO = {
    # who: (certificate key in world.certs, CRL route that could rescue an OCSP "unknown", the check it fails, role, DN)
    "leaf": ("leaf", "/inter.crl", "revocation", "signing", LEAF_DN),
    "intermediate": ("inter", "/root.crl", "revocation", "signing", INTER_DN),
    "tsa": ("tsa_leaf", "/tsaroot.crl", "authenticTimestamp", "timestamping", TSA_DN),
}


@pytest.mark.parametrize("who", list(_WHO))
@pytest.mark.parametrize("status", ["good", "revoked", "unknown"])
def test_revocation_status_matrix_rev05_rev06_tsv28(
    world: World, signed: dict[str, str], who: str, status: str
) -> None:
    """REV-03..07, REV-14, TSV-28: OCSP good / revoked / unknown (CRL unavailable) for the leaf, the intermediate and
    the TSA certificate: enforced under strict, Go's warning under permissive; the TSA chain's revocation is part of
    the authentic timestamp (TSV-29)."""
    cert, crl_route, vtype, role, dn = _WHO[who]
    world.ocsp.statuses[world.certs[cert].cert.serial_number] = Entry(status)
    if status == "unknown":
        world.crls.routes[crl_route] = Reply(503, b"", "text/plain")
    ref = signed["jws"]
    if status == "good":
        _passes(world.verify(ref, "strict"), ref)
        return
    error = f'{role} certificate with subject "{dn}" ' + (
        "is revoked" if status == "revoked" else "revocation status is unknown"
    )
    assert world.reject_reason(ref, "strict") == error
    _passes(world.verify(ref, "permissive"), ref, _logged(vtype, error))


def test_ocsp_unknown_falls_back_to_crl_rev04(world: World, signed: dict[str, str]) -> None:
    """REV-04/23: an OCSP `unknown` is settled by the CRL: good there passes, listed there is revoked."""
    ref, leaf = signed["jws"], world.certs["leaf"]
    world.ocsp.statuses[leaf.cert.serial_number] = Entry("unknown")
    _passes(world.verify(ref, "strict"), ref)
    world.cache = world.base / "cache-fallback-revoked"
    world.crls.routes["/inter.crl"] = make_crl(world.certs["inter"], [Revoked(leaf.cert.serial_number)])
    assert world.reject_reason(ref, "strict") == f'signing certificate with subject "{LEAF_DN}" is revoked'


def test_revoked_with_invalidity_date_after_signing_stays_revoked_rev08(world: World, signed: dict[str, str]) -> None:
    """REV-08/14: for `notary.x509` no signing time is used, so an invalidity date after signing changes nothing."""
    leaf = world.certs["leaf"]
    later = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    world.ocsp.statuses[leaf.cert.serial_number] = Entry("revoked", invalidity_date=later)
    assert world.reject_reason(signed["jws"], "strict") == f'signing certificate with subject "{LEAF_DN}" is revoked'


def test_ocsp_down_crl_up_passes_and_caches_rev04_rev25(world: World, signed: dict[str, str]) -> None:
    """REV-04/15/25: OCSP refused → CRL decides (and is cached under {CACHE}/crl); revoked there fails."""
    ref, leaf = signed["ocspdown"], world.certs["ocspdown"]
    _passes(world.verify(ref, "strict"), ref)
    assert world.cache is not None
    url = f"{world.crls.url}/inter.crl"
    entry = world.cache / "crl" / hashlib.sha256(url.encode()).hexdigest()
    assert set(json.loads(entry.read_text())) == {"baseCRL"}
    hits = world.crls.hits.get("/inter.crl", 0)
    _passes(world.verify(ref, "strict"), ref)  # warm cache: no download
    assert world.crls.hits.get("/inter.crl", 0) == hits

    entry.write_text("{ not json")  # a corrupt entry is ignored and replaced, never a crash
    discarded = "Warning: CRL cache error discarded. Enable debug log through '-d' for error details."
    run = world.verify(ref, "strict")
    assert run.code == 0 and run.err == EXPERIMENTAL + discarded + "\n", run.err
    assert set(json.loads(entry.read_text())) == {"baseCRL"}

    world.cache = world.base / "cache-ocspdown-revoked"
    world.crls.routes["/inter.crl"] = make_crl(world.certs["inter"], [Revoked(leaf.cert.serial_number)])
    error = f'signing certificate with subject "{DN.format(cn="CN=OCSP Down Leaf")}" is revoked'
    assert world.reject_reason(ref, "strict") == error


def test_ocsp_and_crl_down_enforced_fails_logged_warns_rev06_out01(world: World, signed: dict[str, str]) -> None:
    """REV-06/07, OUT-01: nothing answers → unknown: strict fails (Go's CLI line), permissive and audit pass with
    `Warning: revocation was set to "log" and failed with error: …`."""
    ref = signed["bothdown"]
    error = f'signing certificate with subject "{DN.format(cn="CN=Both Down Leaf")}" revocation status is unknown'
    run = world.verify(ref, "strict")
    assert (run.code, run.out) == (1, "")
    assert (
        run.err == EXPERIMENTAL + f"Error: signature verification failed for all the signatures associated with {ref}\n"
    )
    assert world.reject_reason(ref, "strict") == error
    for scope in ("permissive", "audit"):
        _passes(world.verify(ref, scope), ref, _logged("revocation", error))


# --- misbehaving OCSP responder and CRL server: never a pass where revocation is enforced -----------------------

_OCSP_ONLY_UNKNOWN = (
    f'signing certificate with subject "{DN.format(cn="CN=OCSP Only Leaf")}" revocation status is unknown'
)


@pytest.mark.parametrize(
    "behaviour",
    [
        pytest.param(OCSPBehaviour(http_status=500), id="non-200"),
        pytest.param(OCSPBehaviour(delay=2.2), id="slow"),
        pytest.param(OCSPBehaviour(oversize=30_000), id="oversized"),
        pytest.param(OCSPBehaviour(garbage=True), id="garbage"),
        pytest.param(OCSPBehaviour(response_status="try_later"), id="try-later"),
        pytest.param(OCSPBehaviour(response_status="unauthorized"), id="unauthorized"),
        pytest.param(OCSPBehaviour(next_update=None), id="no-next-update"),
        pytest.param(
            OCSPBehaviour(next_update=dt.timedelta(minutes=-1), this_update_offset=dt.timedelta(hours=-1)),
            id="expired",
        ),
        pytest.param(OCSPBehaviour(signer="stranger"), id="stranger-signed"),
        pytest.param(OCSPBehaviour(wrong_serial=True), id="wrong-serial"),
        pytest.param(OCSPBehaviour(tamper_signature=True), id="bad-signature"),
        pytest.param(None, id="unknown-status"),
    ],
)
def test_misbehaving_ocsp_never_passes_rev12_rev15(
    world: World, signed: dict[str, str], behaviour: OCSPBehaviour | None
) -> None:
    """REV-11..15: every bad OCSP answer is `unknown` (no CRL to fall back to): enforced → fail."""
    if behaviour is None:
        world.bad_ocsp.statuses[world.certs["ocsponly"].cert.serial_number] = Entry("unknown")
    else:
        world.bad_ocsp.behaviour = behaviour
    assert world.reject_reason(signed["ocsponly"], "strict") == _OCSP_ONLY_UNKNOWN


def test_delegated_ocsp_responder_rev12(world: World, signed: dict[str, str]) -> None:
    """REV-12: a response signed by a responder certificate the issuer delegated (id-kp-OCSPSigning) is accepted,
    for good and for revoked (a certificate nobody delegated: `stranger-signed` above)."""
    ref = signed["ocsponly"]
    world.bad_ocsp.behaviour = OCSPBehaviour(signer="delegate")
    _passes(world.verify(ref, "strict"), ref)
    world.bad_ocsp.statuses[world.certs["ocsponly"].cert.serial_number] = Entry("revoked")
    error = f'signing certificate with subject "{DN.format(cn="CN=OCSP Only Leaf")}" is revoked'
    assert world.reject_reason(ref, "strict") == error


_CRL_LIMIT = 32 * 1024 * 1024


def _crl_case(world: World, case: str) -> bytes | Reply:
    inter = world.certs["inter"]
    serial = world.certs["crlonly"].cert.serial_number
    hold = x509.ReasonFlags.certificate_hold
    cases: dict[str, Callable[[], bytes | Reply]] = {
        "non-200": lambda: Reply(500, b"", "text/plain"),
        "not-found": lambda: Reply(404, b"", "text/plain"),
        "oversized": lambda: Reply(
            200, b"\x30" * (_CRL_LIMIT + 1), "application/pkix-crl", chunked_without_length=True
        ),
        "garbage": lambda: Reply(200, b"not a crl", "application/pkix-crl"),
        "expired": lambda: make_crl(inter, next_update=dt.timedelta(minutes=-1), last_update=dt.timedelta(hours=-1)),
        "wrong-signer": lambda: make_crl(inter, signer=world.certs["other_tsa_root"]),
        "critical-extension": lambda: make_crl(inter, critical_unknown_extension=True),
        "revoked": lambda: make_crl(inter, [Revoked(serial)]),
        "on-hold": lambda: make_crl(inter, [Revoked(serial, reason=hold)]),
    }
    return cases[case]()


@pytest.mark.parametrize(
    "case",
    [
        "non-200",
        "not-found",
        "oversized",
        "garbage",
        "expired",
        "wrong-signer",
        "critical-extension",
        "revoked",
        "on-hold",
    ],
)
def test_misbehaving_crl_server_never_passes_rev20_rev24(world: World, signed: dict[str, str], case: str) -> None:
    """REV-20..24: a CRL that cannot be fetched or trusted makes the status unknown; a listed serial (also on hold)
    is revoked; enforced → fail, logged → Go's warning."""
    world.crls.routes["/c.crl"] = _crl_case(world, case)
    dn = DN.format(cn="CN=CRL Only Leaf")
    revoked = case in ("revoked", "on-hold")
    error = f'signing certificate with subject "{dn}" ' + ("is revoked" if revoked else "revocation status is unknown")
    ref = signed["crlonly"]
    assert world.reject_reason(ref, "strict") == error
    if case in ("oversized", "revoked"):
        _passes(world.verify(ref, "audit"), ref, _logged("revocation", error))


def test_crl_only_good_passes_rev20(world: World, signed: dict[str, str]) -> None:
    ref = signed["crlonly"]
    _passes(world.verify(ref, "strict"), ref)


# --- misbehaving TSA at signing: signing fails, nothing is pushed ------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong-nonce", "mismatched nonce"),
        ("wrong-imprint", "mismatched message imprint"),
        ("non-200", "https response bad status: 500 Internal Server Error"),
        ("oversized", "exceeds the limit of 1048576 bytes"),
        ("rejection", "invalid timestamp response status: rejection"),
        ("waiting", "invalid timestamp response status: waiting"),
        ("content-type", "unexpected response content type"),
        ("no-ess", "signing certificate v2 attribute is missing"),
        ("bad-signature", "failed to verify signature"),
        ("expired-tsa-cert", "certificate has expired or is not yet valid"),
        ("revoked-tsa-cert", f'timestamping certificate with subject "{TSA_DN}" is revoked'),
        ("unknown-tsa-cert", f'timestamping certificate with subject "{TSA_DN}" revocation status is unknown'),
    ],
)
def test_misbehaving_tsa_fails_signing_tsa03_tsa04(world: World, case: str, message: str) -> None:
    """TSA-03/04: every bad TSA answer fails `notation sign` with `Error: timestamp: …` and pushes no signature."""
    behaviours = {
        "wrong-nonce": TSABehaviour(wrong_nonce=True),
        "wrong-imprint": TSABehaviour(wrong_imprint=True),
        "non-200": TSABehaviour(http_status=500),
        "oversized": TSABehaviour(oversize=2 * 1024 * 1024),
        "rejection": TSABehaviour(status="rejection"),
        "waiting": TSABehaviour(status="waiting"),
        "content-type": TSABehaviour(content_type="text/html"),
        "no-ess": TSABehaviour(ess="none"),
        "bad-signature": TSABehaviour(tamper_signature=True),
    }
    world.tsa.behaviour = behaviours.get(case, TSABehaviour())
    tsa_serial = world.certs["tsa_leaf"].cert.serial_number
    if case == "expired-tsa-cert":
        world.tsa.signer = world.certs["expired_tsa"]
    elif case == "revoked-tsa-cert":
        world.ocsp.statuses[tsa_serial] = Entry("revoked")
    elif case == "unknown-tsa-cert":
        world.ocsp.statuses[tsa_serial] = Entry("unknown")
        world.crls.routes["/tsaroot.crl"] = Reply(503, b"", "text/plain")
    artifact = _new_artifact(world, f"tsa-{case}")
    run = world.sign(artifact.ref, "leaf")
    assert (run.code, run.out) == (1, ""), run.err
    last = run.err.splitlines()[-1]
    assert last.startswith("Error: timestamp: ") and message in last, last
    assert _signature_count(artifact) == 0


def test_tsa_unsigned_attributes_are_ignored_tsa04(world: World) -> None:
    """TSA-04: unsigned attributes in the TSA's SignerInfo (and the root carried in the token) do not matter."""
    world.tsa.behaviour = TSABehaviour(unsigned_attrs=True, include_root=True)
    artifact = _new_artifact(world, "tsa-unsigned-attrs")
    assert world.sign(artifact.ref, "leaf").code == 0
    _passes(world.verify(artifact.ref, "strict"), artifact.ref)


# --- --timestamp-url / --timestamp-root-cert CLI errors ----------------------------------------------------------


def test_timestamp_flag_errors_cli40_cli42(world: World) -> None:
    """CLI-40/42: empty flags, a flag without its partner, and root files with 0 or 2 certificates or not a root."""
    artifact = _new_artifact(world, "flags")
    root_file = str(world.tsa_root_file)

    def sign_error(*flags: str) -> str:
        run = world.notation("sign", "--oci-layout", "--key", "leaf", *flags, artifact.ref)
        assert (run.code, run.out) == (1, ""), run.err
        return run.err.removeprefix(EXPERIMENTAL)

    assert sign_error("--timestamp-url", "", "--timestamp-root-cert", root_file) == (
        "Error: timestamping: tsa url cannot be empty\n"
    )
    assert sign_error("--timestamp-url", world.tsa.url, "--timestamp-root-cert", "") == (
        "Error: timestamping: tsa root certificate path cannot be empty\n"
    )
    assert sign_error("--timestamp-url", world.tsa.url) == (
        "Error: if any flags in the group [timestamp-url timestamp-root-cert] are set they must all be set; "
        "missing [timestamp-root-cert]\n"
    )
    files = world.base / "root-files"
    files.mkdir(exist_ok=True)
    empty, two, leaf, garbage = files / "empty.pem", files / "two.pem", files / "leaf.pem", files / "garbage.crt"
    empty.write_bytes(b"")
    two.write_bytes(world.certs["tsa_root"].cert_pem() + world.certs["other_tsa_root"].cert_pem())
    leaf.write_bytes(world.certs["tsa_leaf"].cert_pem())
    garbage.write_bytes(b"not a certificate")
    url = ["--timestamp-url", world.tsa.url, "--timestamp-root-cert"]
    assert sign_error(*url, str(empty)) == f'Error: cannot find any certificate from "{empty}". {ROOT_HINT}\n'
    assert sign_error(*url, str(two)) == f'Error: found more than one certificates from "{two}". {ROOT_HINT}\n'
    assert sign_error(*url, str(leaf)) == (
        "Error: failed to check root certificate with error: x509: invalid signature: parent certificate cannot sign "
        "this kind of certificate\n"
    )
    inter_file = files / "inter.pem"
    inter_file.write_bytes(world.certs["inter"].cert_pem())
    assert sign_error(*url, str(inter_file)) == (
        "Error: failed to check root certificate with error: x509: ECDSA verification failure\n"
    )
    assert sign_error(*url, str(garbage)) == "Error: x509: malformed certificate\n"
    assert _signature_count(artifact) == 0


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://tsa.example", 'endpoint "ftp://tsa.example": scheme must be http or https, but got "ftp"'),
        ("tsa.example/x", 'endpoint "tsa.example/x": scheme cannot be empty'),
        ("http://", 'endpoint "http://": host cannot be empty'),
    ],
)
def test_timestamp_url_errors_cli42(world: World, url: str, error: str) -> None:
    """CLI-42: a bad TSA URL, worded as notation 1.3.2 wraps tspclient-go's error."""
    artifact = _new_artifact(world, "bad-url")
    run = world.notation(
        "sign", "--oci-layout", "--key", "leaf", "--timestamp-url", url, "--timestamp-root-cert",
        str(world.tsa_root_file), artifact.ref,
    )  # fmt: skip
    assert (run.code, run.out) == (1, "")
    assert run.err == EXPERIMENTAL + f"Error: cannot get http timestamper for timestamping: {error}\n"


# --- last: the slow TSA signing started at module start -----------------------------------------------------------


def test_slow_tsa_times_out_signing_tsa02(_slow_tsa_sign: tuple[subprocess.Popen[str], str]) -> None:
    """TSA-02: the CLI gives the TSA 15 s; a slower one fails signing (`timestamp: Post "<url>": …`)."""
    proc, url = _slow_tsa_sign
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out) == (1, "")
    assert err.splitlines()[-1].startswith(f'Error: timestamp: Post "{url}": context deadline exceeded'), err
