"""Revocation results with Go's semantics (trust.md REV-03..06): per certificate, per server, and the chain fold."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

from notation._internal.records import dataclass, field

if TYPE_CHECKING:
    from cryptography import x509


class Status(enum.StrEnum):
    """Go's revocation.Result: OK, NonRevokable, Unknown, Revoked."""

    OK = "OK"
    NON_REVOKABLE = "NonRevokable"
    UNKNOWN = "Unknown"
    REVOKED = "Revoked"


class Method(enum.StrEnum):
    NONE = "Unknown"
    OCSP = "OCSP"
    CRL = "CRL"
    OCSP_FALLBACK_CRL = "OCSPFallbackCRL"


@dataclass(frozen=True)
class ServerResult:
    """What one OCSP responder or CRL distribution point said (``error`` set when it failed)."""

    server: str
    status: Status
    error: str | None = None


@dataclass(frozen=True)
class CertRevocationResult:
    """The verdict for one chain certificate (leaf first), with the servers that produced it."""

    cert: x509.Certificate
    status: Status
    method: Method = Method.NONE
    servers: tuple[ServerResult, ...] = field(default_factory=tuple)

    @property
    def error(self) -> str | None:
        """The last server error, if any (what Go surfaces in debug logs)."""
        for srv in reversed(self.servers):
            if srv.error:
                return srv.error
        return None


def chain_status(results: Sequence[CertRevocationResult]) -> tuple[Status, CertRevocationResult | None]:
    """REV-05: OK unless some certificate is Revoked (closest to the leaf wins) or else not OK (closest to the leaf)."""
    for res in results:
        if res.status is Status.REVOKED:
            return Status.REVOKED, res
    for res in results:
        if res.status not in (Status.OK, Status.NON_REVOKABLE):
            return Status.UNKNOWN, res
    return Status.OK, None


def revocation_error(results: Sequence[CertRevocationResult], *, purpose: str = "codesigning") -> str | None:
    """The failure message Go prints for a chain result (REV-06 / TSV-28), or None when the chain passes.

    ``purpose``: ``codesigning`` (``signing certificate …``) or ``timestamping`` (``timestamping certificate …``).
    """
    from notation._internal.x509.chain import subject_dn

    status, culprit = chain_status(results)
    if culprit is None:
        return None
    role = "timestamping" if purpose == "timestamping" else "signing"
    dn = subject_dn(culprit.cert)
    if status is Status.REVOKED:
        return f'{role} certificate with subject "{dn}" is revoked'
    return f'{role} certificate with subject "{dn}" revocation status is unknown'
