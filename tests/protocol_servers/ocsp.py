"""An OCSP responder (RFC 6960) over HTTP: GET and POST, per-serial statuses, delegated signing, misbehaviour.

Responses are built with asn1crypto (cryptography's builder cannot put an invalidityDate in singleExtensions).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from asn1crypto import core, ocsp
from asn1crypto import x509 as ax509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from protocol_servers.http_base import LoopbackServer, Reply, Seen
from support.pki import Issued


@dataclass
class Entry:
    status: str = "good"
    """good, revoked or unknown"""
    revocation_time: dt.datetime | None = None
    invalidity_date: dt.datetime | None = None


@dataclass
class OCSPBehaviour:
    http_status: int = 200
    delay: float = 0.0
    oversize: int = 0
    garbage: bool = False
    response_status: str = "successful"
    next_update: dt.timedelta | None = dt.timedelta(hours=1)
    """None: omit nextUpdate (Go treats that as expired)."""
    this_update_offset: dt.timedelta = dt.timedelta(minutes=-1)
    signer: str = "issuer"
    """issuer | delegate (needs ``delegate``) | stranger (a key the issuer never certified)"""
    wrong_serial: bool = False
    tamper_signature: bool = False


@dataclass
class OCSPResponder:
    """Answers for certificates issued by any of ``issuers``; ``statuses`` by serial (default good)."""

    issuers: list[Issued]
    statuses: dict[int, Entry] = field(default_factory=dict)
    behaviour: OCSPBehaviour = field(default_factory=OCSPBehaviour)
    delegate: Issued | None = None
    stranger: Issued | None = None

    def __post_init__(self) -> None:
        self.server = LoopbackServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url + "/ocsp"

    @property
    def requests(self) -> list[Seen]:
        return self.server.requests

    def __enter__(self) -> OCSPResponder:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def _handle(self, seen: Seen) -> Reply:
        b = self.behaviour
        if b.oversize:
            return Reply(200, b"\x30" * b.oversize, "application/ocsp-response", b.delay, chunked_without_length=True)
        if b.http_status != 200:
            return Reply(b.http_status, b"", "text/plain", b.delay)
        if b.garbage:
            return Reply(200, b"not an ocsp response", "application/ocsp-response", b.delay)
        der = base64.b64decode(unquote(seen.path.rsplit("/", 1)[1])) if seen.method == "GET" else seen.body
        req = ocsp.OCSPRequest.load(der)
        return Reply(200, self.respond(req), "application/ocsp-response", b.delay)

    def respond(self, req: Any) -> bytes:
        b = self.behaviour
        if b.response_status != "successful":
            return ocsp.OCSPResponse({"response_status": b.response_status}).dump()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        singles = []
        issuer: Issued | None = None
        for item in req["tbs_request"]["request_list"]:
            cid = item["req_cert"]
            issuer = self._issuer_for(cid)
            serial = cid["serial_number"].native
            entry = self.statuses.get(serial, Entry())
            if entry.status == "good":
                status = ocsp.CertStatus(name="good", value=core.Null())
            elif entry.status == "revoked":
                status = ocsp.CertStatus(
                    name="revoked",
                    value={"revocation_time": entry.revocation_time or now, "revocation_reason": "key_compromise"},
                )
            else:
                status = ocsp.CertStatus(name="unknown", value=core.Null())
            out_cid = ocsp.CertId.load(cid.dump())
            if b.wrong_serial:
                out_cid = ocsp.CertId(
                    {
                        "hash_algorithm": cid["hash_algorithm"],
                        "issuer_name_hash": cid["issuer_name_hash"],
                        "issuer_key_hash": cid["issuer_key_hash"],
                        "serial_number": serial + 1,
                    }
                )
            single: dict[str, Any] = {
                "cert_id": out_cid,
                "cert_status": status,
                "this_update": now + b.this_update_offset,
            }
            if b.next_update is not None:
                single["next_update"] = now + b.next_update
            if entry.invalidity_date is not None:
                single["single_extensions"] = [
                    {"extn_id": "invalidity_date", "critical": False, "extn_value": entry.invalidity_date}
                ]
            singles.append(single)
        assert issuer is not None
        signer, certs = issuer, []
        if b.signer == "delegate":
            assert self.delegate is not None
            signer, certs = self.delegate, [self.delegate]
        elif b.signer == "stranger":
            assert self.stranger is not None
            signer, certs = self.stranger, [self.stranger]
        key_hash = hashlib.sha1(_spki_bits(signer)).digest()
        tbs = ocsp.ResponseData(
            {"responder_id": ocsp.ResponderId(name="by_key", value=key_hash), "produced_at": now, "responses": singles}
        )
        sig_algo, signature = _sign(signer, tbs.dump())
        if b.tamper_signature:
            signature = signature[:-1] + bytes([signature[-1] ^ 1])
        basic: dict[str, Any] = {
            "tbs_response_data": tbs,
            "signature_algorithm": {"algorithm": sig_algo},
            "signature": signature,
        }
        if certs:
            basic["certs"] = [ax509.Certificate.load(_der(c)) for c in certs]
        return ocsp.OCSPResponse(
            {
                "response_status": "successful",
                "response_bytes": {"response_type": "basic_ocsp_response", "response": ocsp.BasicOCSPResponse(basic)},
            }
        ).dump()

    def _issuer_for(self, cid: Any) -> Issued:
        for iss in self.issuers:
            if hashlib.sha1(_spki_bits(iss)).digest() == cid["issuer_key_hash"].native:
                return iss
        raise KeyError("unknown issuer")


def _der(issued: Issued) -> bytes:
    return issued.cert.public_bytes(serialization.Encoding.DER)


def _spki_bits(issued: Issued) -> bytes:
    a = ax509.Certificate.load(_der(issued))
    return bytes(a.public_key["public_key"].contents[1:])


def _sign(issued: Issued, data: bytes) -> tuple[str, bytes]:
    key = issued.key
    if isinstance(key, rsa.RSAPrivateKey):
        return "sha256_rsa", key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "sha256_ecdsa", key.sign(data, ec.ECDSA(hashes.SHA256()))
    raise TypeError("unsupported responder key")
