"""REV-02..04: the verify workflow skips importing the OCSP/CRL machinery only when it could not change the outcome.

A chain none of whose checked certificates (all but the root, REV-03) names an OCSP responder or a CRL passes
revocation as NonRevokable (REV-04) without the revocation package; any certificate naming one, a broken chain or
verbose logging takes the full check, which still fails closed.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from notation._internal.workflows.verify import _check_revocation, _revocation_outcome_is_trivially_pass
from support import pki


@pytest.fixture(autouse=True)
def quiet_revocation_log() -> Iterator[None]:
    """What the CLI sets up without -v/-d: the revocation logger below WARNING is silent."""
    rev_log = logging.getLogger("notation.revocation")
    old = rev_log.level
    rev_log.setLevel(logging.ERROR)
    yield
    rev_log.setLevel(old)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_rev04_chain_without_endpoints_takes_the_fast_path() -> None:
    root, inter, leaf = pki.chain3()
    chain = [leaf.cert, inter.cert, root.cert]
    assert _revocation_outcome_is_trivially_pass(chain)
    assert _check_revocation(chain, None) is None
    # only the root names a CRL: the check never looks at the root (REV-03), so the fast path still applies
    root2 = pki.root_ca("Root With CRL", extra_extensions=pki.revocation_urls(crl=["http://127.0.0.1:1/r.crl"]))
    inter2 = pki.issue("Inter", issuer=root2, ca=True, path_length=0)
    leaf2 = pki.issue("leaf", issuer=inter2)
    assert _revocation_outcome_is_trivially_pass([leaf2.cert, inter2.cert, root2.cert])


def test_rev04_any_endpoint_broken_chain_or_verbose_logging_takes_the_full_check() -> None:
    port = _closed_port()
    root = pki.root_ca("Test Root")
    inter = pki.issue(
        "Inter",
        issuer=root,
        ca=True,
        path_length=0,
        extra_extensions=pki.revocation_urls(crl=[f"http://127.0.0.1:{port}/i.crl"]),
    )
    leaf = pki.issue("leaf", issuer=inter, extra_extensions=pki.revocation_urls(ocsp=[f"http://127.0.0.1:{port}/"]))
    plain_leaf = pki.issue("plain", issuer=inter)
    assert not _revocation_outcome_is_trivially_pass([leaf.cert, inter.cert, root.cert])
    assert not _revocation_outcome_is_trivially_pass([plain_leaf.cert, inter.cert, root.cert])
    # fail closed: an unreachable responder is an "unknown" status, a failure, not a pass
    message = _check_revocation([leaf.cert, inter.cert, root.cert], None)
    assert message is not None and "revocation status is unknown" in message
    # a chain the check itself rejects (REV-02) keeps the full path's wording
    _r2, _i2, l2 = pki.chain3()
    broken = [l2.cert, inter.cert, root.cert]
    assert not _revocation_outcome_is_trivially_pass(broken)
    assert (_check_revocation(broken, None) or "").startswith("unable to check revocation status, err: invalid chain")
    logging.getLogger("notation.revocation").setLevel(logging.WARNING)  # -v: the full path logs per certificate
    r3, i3, l3 = pki.chain3()
    assert not _revocation_outcome_is_trivially_pass([l3.cert, i3.cert, r3.cert])
