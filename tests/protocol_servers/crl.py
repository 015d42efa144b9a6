"""A CRL distribution point over HTTP, serving CRLs built with cryptography's builder, plus misbehaviour."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from protocol_servers.http_base import LoopbackServer, Reply, Seen
from support.pki import Issued


@dataclass
class Revoked:
    serial: int
    reason: x509.ReasonFlags | None = x509.ReasonFlags.key_compromise
    invalidity_date: dt.datetime | None = None
    revocation_date: dt.datetime | None = None


def make_crl(
    issuer: Issued,
    revoked: list[Revoked] | None = None,
    *,
    number: int = 1,
    next_update: dt.timedelta = dt.timedelta(hours=1),
    last_update: dt.timedelta = dt.timedelta(minutes=-1),
    delta_of: int | None = None,
    freshest: list[str] | None = None,
    signer: Issued | None = None,
    critical_unknown_extension: bool = False,
) -> bytes:
    """A DER CRL from ``issuer`` (signed by ``signer`` to forge a bad signature)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(now + last_update)
        .next_update(now + next_update)
        .add_extension(x509.CRLNumber(number), False)
    )
    if delta_of is not None:
        b = b.add_extension(x509.DeltaCRLIndicator(delta_of), True)
    if freshest:
        b = b.add_extension(
            x509.FreshestCRL(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None) for u in freshest]
            ),
            False,
        )
    if critical_unknown_extension:
        b = b.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5.6"), b"\x05\x00"), True)
    for r in revoked or []:
        rb = (
            x509.RevokedCertificateBuilder()
            .serial_number(r.serial)
            .revocation_date(r.revocation_date or now - dt.timedelta(minutes=5))
        )
        if r.reason is not None:
            rb = rb.add_extension(x509.CRLReason(r.reason), False)
        if r.invalidity_date is not None:
            rb = rb.add_extension(x509.InvalidityDate(r.invalidity_date.replace(tzinfo=None)), False)
        b = b.add_revoked_certificate(rb.build())
    key = (signer or issuer).key
    crl = b.sign(key, hashes.SHA256())  # type: ignore[arg-type]
    return crl.public_bytes(serialization.Encoding.DER)


@dataclass
class CRLServer:
    """``srv.routes["/inter.crl"] = make_crl(...)`` (or a Reply to misbehave); hits are counted per path."""

    routes: dict[str, bytes | Reply] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.server = LoopbackServer(self._handle)

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> CRLServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    def _handle(self, seen: Seen) -> Reply:
        self.hits[seen.path] = self.hits.get(seen.path, 0) + 1
        route = self.routes.get(seen.path)
        if route is None:
            return Reply(404, b"", "text/plain")
        if isinstance(route, Reply):
            return route
        return Reply(200, route, "application/pkix-crl")
