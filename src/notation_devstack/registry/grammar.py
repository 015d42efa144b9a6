"""The distribution-spec grammars for repository names, tags and digests, enforced before any path is built.

Names, tags and digests become directory and file names in the storage, so they are validated against the
spec's grammars first: none of them can then contain ``..``, ``/`` (tags, digests), a leading ``_`` component
(reserved for our own metadata directories) or anything else that could step outside the storage root.
"""

from __future__ import annotations

import re

from notation_devstack.registry import errors

# OCI distribution spec v1.1, "Pulling manifests": <name> and <reference> grammars.
_NAME_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_NAME_RE = re.compile(rf"{_NAME_COMPONENT}(?:/{_NAME_COMPONENT})*")
_TAG_RE = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
_DIGEST_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
MAX_NAME_LENGTH = 255

# Registered algorithms we can verify, with the exact encoded form each requires (lowercase hex).
DIGEST_ALGORITHMS = {"sha256": 64, "sha512": 128}
_HEX_RE = re.compile(r"[a-f0-9]+")


def check_name(name: str) -> str:
    if len(name) > MAX_NAME_LENGTH or not _NAME_RE.fullmatch(name):
        raise errors.name_invalid(name)
    return name


def check_tag(tag: str) -> str:
    if not _TAG_RE.fullmatch(tag):
        raise errors.tag_invalid(tag)
    return tag


def check_digest(digest: str) -> tuple[str, str]:
    """Return (algorithm, hex) of a well-formed digest with an algorithm we support."""
    if len(digest) > 200 or not _DIGEST_RE.fullmatch(digest):
        raise errors.digest_invalid("invalid digest", digest[:200])
    algorithm, encoded = digest.split(":", 1)
    if algorithm not in DIGEST_ALGORITHMS:
        raise errors.digest_invalid(f"unsupported digest algorithm {algorithm!r}", digest)
    if len(encoded) != DIGEST_ALGORITHMS[algorithm] or not _HEX_RE.fullmatch(encoded):
        raise errors.digest_invalid("invalid digest", digest)
    return algorithm, encoded


def is_digest(reference: str) -> bool:
    """A manifest reference is a digest when it contains ``:`` (tags cannot)."""
    return ":" in reference
