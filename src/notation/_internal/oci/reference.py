"""Registry references ``registry/repository:tag`` and ``registry/repository@digest`` (cli.md CLI-30).

The grammar and the error messages follow oras-go v2.5 ``registry.ParseReference`` as wrapped by Go notation 1.3.2:
every error reads ``"<ref>": invalid reference: <reason>. Expecting <registry>/<repository>:<tag> or
<registry>/<repository>@<digest>``. There is no Docker Hub defaulting: the registry part is mandatory.
"""

from __future__ import annotations

import re

from notation._internal.records import dataclass
from notation.errors import InvalidReferenceError

_EXPECTING = "Expecting <registry>/<repository>:<tag> or <registry>/<repository>@<digest>"

# Go's separator is ``[-]*``; an empty separator only joins two alphanumeric runs, so ``[-]+`` accepts the same
# names without the ambiguity that makes a backtracking engine exponential on ``a/aaaa...a!`` (found by fuzzing).
_REPOSITORY_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$")
_TAG = r"^[\w][\w.-]{0,127}$"  # with re.ASCII; re.match compiles and caches on first use (start-up)
# What Go's url.ParseRequestURI("dummy://" + registry) accepts as a host that round-trips unchanged.
_REGISTRY_RE = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?$")
_DIGEST_ANY = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_HEX_RE = re.compile(r"^[a-f0-9]+$")

DOCKER_HUB = "docker.io"
DOCKER_HUB_HOST = "registry-1.docker.io"


def digest_error(digest: str) -> str | None:
    """The go-digest ``Digest.Validate`` error text for ``digest``, or None when it is valid."""
    i = digest.find(":")
    if i <= 0 or i + 1 == len(digest):
        return "invalid checksum digest format"
    algorithm, encoded = digest[:i], digest[i + 1 :]
    length = _DIGEST_HEX_LENGTHS.get(algorithm)
    if length is None:
        if not re.match(_DIGEST_ANY, digest):
            return "invalid checksum digest format"
        return "unsupported digest algorithm"
    if len(encoded) != length:
        return "invalid checksum digest length"
    if not _HEX_RE.match(encoded):
        return "invalid checksum digest format"
    return None


@dataclass(frozen=True)
class Reference:
    """A parsed registry reference. ``digest`` wins over ``tag`` when both were written (``repo:tag@digest``)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """The digest if there is one, else the tag (empty when neither: only a repository was named)."""
        return self.digest or self.tag or ""

    @property
    def host(self) -> str:
        """The host[:port] that requests go to (``docker.io`` is served by ``registry-1.docker.io``, CLI-32)."""
        return DOCKER_HUB_HOST if self.registry == DOCKER_HUB else self.registry

    @property
    def repository_name(self) -> str:
        """``registry/repository``: how the CLI names the repository (and the trust policy scope)."""
        return f"{self.registry}/{self.repository}"

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.registry, self.repository, None, digest)

    def __str__(self) -> str:
        if self.digest:
            return f"{self.registry}/{self.repository}@{self.digest}"
        if self.tag:
            return f"{self.registry}/{self.repository}:{self.tag}"
        return f"{self.registry}/{self.repository}"


def _invalid(ref: str, reason: str) -> InvalidReferenceError:
    return InvalidReferenceError(f'"{ref}": invalid reference: {reason}. {_EXPECTING}')


def parse_repository_reference(ref: str) -> Reference:
    """Parse a reference that may lack a tag or digest (oras-go ParseReference form D)."""
    parts = ref.split("/", 1)
    if len(parts) == 1:
        raise _invalid(ref, "missing registry or repository")
    registry, path = parts
    tag: str | None = None
    digest: str | None = None
    is_tag = False
    if "@" in path:
        repository, reference = path.split("@", 1)
        if ":" in repository:  # repo:tag@digest: the tag is dropped unvalidated, as in oras-go
            repository = repository.split(":", 1)[0]
    elif ":" in path:
        is_tag = True
        repository, reference = path.split(":", 1)
    else:
        repository, reference = path, ""

    if not _REGISTRY_RE.match(registry):
        raise _invalid(ref, f'invalid registry "{registry}"')
    if not _REPOSITORY_RE.match(repository):
        raise _invalid(ref, f'invalid repository "{repository}"')
    if reference:
        if is_tag:
            if not re.match(_TAG, reference, re.ASCII):
                raise _invalid(ref, f'invalid tag "{reference}"')
            tag = reference
        else:
            problem = digest_error(reference)
            if problem is not None:
                raise _invalid(ref, f'invalid digest "{reference}": {problem}')
            digest = reference
    return Reference(registry=registry, repository=repository, tag=tag, digest=digest)


def parse_reference(ref: str) -> Reference:
    """Parse a full artifact reference; a tag or a digest is required (CLI-30)."""
    parsed = parse_repository_reference(ref)
    if not parsed.reference:
        raise _invalid(ref, "no tag or digest")
    return parsed


def is_valid_tag(tag: str) -> bool:
    return bool(re.match(_TAG, tag, re.ASCII))
