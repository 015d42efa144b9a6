"""Certificate revocation: OCSP first, CRL as fallback, with a file cache for CRLs (trust.md §8, REV-*).

Entry points: :func:`check_chain` (per-certificate results), :func:`revocation_error` (Go's fold of those results
into one failure message) and :func:`revocation_failure` (both, plus the error wording, in one call).
"""

from __future__ import annotations

from notation._internal.revocation.check import (
    DEFAULT_CRL_TIMEOUT,
    DEFAULT_OCSP_TIMEOUT,
    check_chain,
    revocation_failure,
)
from notation._internal.revocation.model import (
    CertRevocationResult,
    Method,
    ServerResult,
    Status,
    chain_status,
    revocation_error,
)

__all__ = [
    "DEFAULT_CRL_TIMEOUT",
    "DEFAULT_OCSP_TIMEOUT",
    "CertRevocationResult",
    "Method",
    "ServerResult",
    "Status",
    "chain_status",
    "check_chain",
    "revocation_error",
    "revocation_failure",
]
