"""An RFC 3161 Time-Stamp Authority over HTTP (asn1crypto structures, cryptography signatures)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as ax509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as apadding

from protocol_servers.http_base import LoopbackServer, Reply, Seen
from support.pki import Issued


@dataclass
class TSABehaviour:
    """What the TSA does; every field is a way to misbehave (defaults: a correct TSA)."""

    http_status: int = 200
    content_type: str = "application/timestamp-reply"
    delay: float = 0.0
    oversize: int = 0
    """Answer with this many junk bytes instead of a response."""
    status: str = "granted"
    wrong_nonce: bool = False
    wrong_imprint: bool = False
    no_nonce: bool = False
    gen_time: dt.datetime | None = None
    accuracy_seconds: int | None = 1
    policy: str = "1.2.3.4.1"
    include_certs: bool = True
    include_root: bool = False
    ess: str = "v2"
    """v2 (signing-certificate-v2), none, or wrong-hash."""
    tamper_signature: bool = False
    tamper_content: bool = False
    """The message-digest attribute does not match the TSTInfo."""
    unsigned_attrs: bool = False
    """Add an (ignorable) unsigned attribute to the SignerInfo."""
    signer_info_version: str = "v1"
    digest: str = "sha256"


@dataclass
class TSA:
    """``with TSA(tsa_leaf) as tsa: request_timestamp(tsa.url, ...)``; change ``tsa.behaviour`` between requests."""

    signer: Issued
    behaviour: TSABehaviour = field(default_factory=TSABehaviour)
    serial: int = 1000

    def __post_init__(self) -> None:
        self.server = LoopbackServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url + "/tsa"

    def __enter__(self) -> TSA:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def _handle(self, seen: Seen) -> Reply:
        b = self.behaviour
        if b.oversize:
            return Reply(200, b"\0" * b.oversize, b.content_type, b.delay, chunked_without_length=True)
        if b.http_status != 200:
            return Reply(b.http_status, b"nope", "text/plain", b.delay)
        req = tsp.TimeStampReq.load(seen.body)
        return Reply(200, self.respond(req), b.content_type, b.delay)

    def respond(self, req: Any) -> bytes:
        b = self.behaviour
        if b.status != "granted":
            info = tsp.PKIStatusInfo(
                {"status": b.status, "status_string": ["policy says no"], "fail_info": {"bad_alg"}}
            ).dump()
            return core.Sequence.load(b"\x30" + _der_length(len(info)) + info).dump()
        self.serial += 1
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": self.token(req)}).dump()

    def token(self, req: Any) -> Any:
        """A TimeStampToken (asn1crypto ContentInfo) answering ``req``."""
        b = self.behaviour
        imprint = req["message_imprint"]
        hashed = imprint["hashed_message"].native
        if b.wrong_imprint:
            hashed = bytes([hashed[0] ^ 1]) + hashed[1:]
        tst: dict[str, Any] = {
            "version": "v1",
            "policy": b.policy,
            "message_imprint": {"hash_algorithm": imprint["hash_algorithm"], "hashed_message": hashed},
            "serial_number": self.serial,
            "gen_time": (b.gen_time or dt.datetime.now(dt.UTC)).replace(microsecond=0),
        }
        if b.accuracy_seconds is not None:
            tst["accuracy"] = {"seconds": b.accuracy_seconds}
        nonce = req["nonce"].native
        if nonce is not None and not b.no_nonce:
            tst["nonce"] = nonce + 1 if b.wrong_nonce else nonce
        tst_der = tsp.TSTInfo(tst).dump()
        return build_signed_data(self.signer, tst_der, b)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der(cert: Any) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def build_signed_data(signer: Issued, tst_der: bytes, b: TSABehaviour) -> Any:
    """CMS SignedData over ``tst_der`` signed by ``signer`` (its chain in ``certificates``)."""
    leaf_der = _der(signer.cert)
    leaf_a = ax509.Certificate.load(leaf_der)
    attrs: list[dict[str, Any]] = [
        {"type": "content_type", "values": ["tst_info"]},
        {
            "type": "message_digest",
            "values": [hashlib.new(b.digest, tst_der + (b"!" if b.tamper_content else b"")).digest()],
        },
    ]
    if b.ess != "none":
        cert_hash = hashlib.sha256(leaf_der).digest()
        if b.ess == "wrong-hash":
            cert_hash = bytes(32)
        attrs.append(
            {
                "type": "signing_certificate_v2",
                "values": [
                    {
                        "certs": [
                            {
                                "cert_hash": cert_hash,
                                "issuer_serial": {
                                    "issuer": [ax509.GeneralName(name="directory_name", value=leaf_a.issuer)],
                                    "serial_number": leaf_a.serial_number,
                                },
                            }
                        ]
                    }
                ],
            }
        )
    signed_attrs = cms.CMSAttributes(attrs)
    to_sign = signed_attrs.dump()
    key = signer.key
    hash_alg = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[b.digest]
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(to_sign, apadding.PKCS1v15(), hash_alg)
        sig_algo = "rsassa_pkcs1v15"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(to_sign, ec.ECDSA(hash_alg))
        sig_algo = f"{b.digest}_ecdsa"
    else:
        raise TypeError("unsupported TSA key")
    if b.tamper_signature:
        signature = signature[:-1] + bytes([signature[-1] ^ 1])
    signer_info: dict[str, Any] = {
        "version": b.signer_info_version,
        "sid": cms.SignerIdentifier(
            {"issuer_and_serial_number": {"issuer": leaf_a.issuer, "serial_number": leaf_a.serial_number}}
        ),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": b.digest}),
        "signed_attrs": signed_attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": sig_algo}),
        "signature": signature,
    }
    if b.unsigned_attrs:
        signer_info["unsigned_attrs"] = cms.CMSAttributes(
            [{"type": "signing_time", "values": [cms.Time({"utc_time": dt.datetime.now(dt.UTC)})]}]
        )
    certs = []
    if b.include_certs:
        chain = signer.chain if b.include_root else signer.chain[:-1]
        certs = [ax509.Certificate.load(_der(c)) for c in chain]
    content = tst_der
    signed = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": b.digest})],
            "encap_content_info": {"content_type": "tst_info", "content": core.ParsableOctetString(content)},
            "certificates": certs or None,
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed})
