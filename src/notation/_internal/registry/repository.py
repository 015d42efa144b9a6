"""One registry repository as an ArtifactStore (CLI-31, MAN-09, MAN-10, REF-01..08).

Registry answers are untrusted: every manifest and blob is read with a cap checked before and during the download
and then checked against the digest and size it was asked for; referrer listings are paged lazily with bounded
pages, so a registry with 10,000 referrers costs one page of memory at a time; pagination links must stay on the
registry's origin, so tokens are never sent elsewhere.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor, compute_digest, is_valid_digest
from notation._internal.oci.reference import Reference
from notation._internal.registry.auth import repository_scope
from notation._internal.registry.client import RegistryClient, error_codes, response_error
from notation._internal.registry.transport import read_bounded, release
from notation.errors import NotFoundError, RegistryError, StoreError

if TYPE_CHECKING:
    from notation._internal.registry.httpclient import Response, Session

MANIFEST_ACCEPT = ", ".join(mediatypes.MANIFEST_MEDIA_TYPES)
REFERRERS_PAGE_LIMIT = mediatypes.MAX_MANIFEST_SIZE
"""Bytes per referrers page or tag-schema index (oras-go reads both with the 4 MiB manifest limit)."""
MAX_REFERRERS_PAGES = 1000
MAX_INDEX_UPDATE_ATTEMPTS = 20
GC_WARNING = "Removal of outdated referrers index from remote registry failed. Garbage collection may be required."


def referrers_tag(digest: str) -> str:
    """REF-03: ``sha256:<hex>`` -> ``sha256-<hex>``."""
    return digest.replace(":", "-", 1)


def _media_type(response: Response) -> str:
    return response.headers.get("Content-Type", "").split(";", 1)[0].strip()


class RegistryRepository:
    """``registry/repository`` over the OCI distribution API; see the module docstring for the safety rules."""

    def __init__(
        self,
        reference: Reference,
        *,
        username: str | None = None,
        password: str | None = None,
        insecure: bool = False,
        force_referrers_tag: bool = True,
        config_dir: Path | None = None,
        session: Session | None = None,
        client: RegistryClient | None = None,
    ) -> None:
        self.reference = reference
        self.force_referrers_tag = force_referrers_tag
        self._owns_client = client is None
        self.client = client or RegistryClient(
            username=username, password=password, insecure=insecure, config_dir=config_dir, session=session
        )
        self._registry = reference.registry
        self._repo = reference.repository
        self._path = f"/v2/{reference.repository}"

    @property
    def display_name(self) -> str:
        return f"{self._registry}/{self._repo}"

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> RegistryRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------------------------------

    def _scopes(self, *actions: str) -> list[str]:
        return [repository_scope(self._repo, actions or ("pull",))]

    def _send(
        self,
        method: str,
        path_or_url: str,
        *,
        actions: tuple[str, ...] = ("pull",),
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> Response:
        return self.client.send(
            method, self._registry, path_or_url, scopes=self._scopes(*actions), headers=headers, data=data
        )

    def _read(self, response: Response, cap: int, *, what: str, too_large: str) -> bytes:
        deadline = self.client.transport.options.body_deadline
        return read_bounded(response, cap, what=what, deadline=deadline, too_large=too_large)

    def _same_origin(self, url: str, base: str) -> str:
        """Resolve ``url`` against ``base``; a URL on another origin is refused (credentials would follow it)."""
        try:
            absolute = urljoin(base, url)
            want, got = urlsplit(base), urlsplit(absolute)
        except ValueError as exc:  # a Link or Location header is untrusted input ("Invalid IPv6 URL")
            raise RegistryError(f"registry {self._registry} sent an invalid URL {url!r}: {exc}") from None
        if (want.scheme, want.netloc) != (got.scheme, got.netloc):
            raise RegistryError(f"registry {self._registry} redirected to another origin: {got.scheme}://{got.netloc}")
        return absolute

    # -- resolve -----------------------------------------------------------------------------------------------------

    def resolve(self, reference: str) -> Descriptor:
        """HEAD (then GET) the manifest; a digest reference must equal the digest the registry reports (CLI-31)."""
        if not reference:
            raise StoreError("reference is missing either digest or tag")
        is_digest = ":" in reference
        if is_digest and not is_valid_digest(reference):
            raise StoreError(f"invalid digest {reference!r}")
        name = f"{self.display_name}{'@' if is_digest else ':'}{reference}"
        url = f"{self._path}/manifests/{quote(reference, safe=':')}"
        response = self._send("HEAD", url, headers={"Accept": MANIFEST_ACCEPT})
        if response.status_code == 404:
            release(response)
            raise NotFoundError(f"{name}: not found")
        desc: Descriptor | None = None
        if response.status_code == 200:
            desc = self._descriptor_from_head(response, reference if is_digest else None)
        elif response.status_code == 401:
            raise response_error(response, "HEAD")
        release(response)
        if desc is None:
            desc = self._resolve_by_get(url, name, reference if is_digest else None)
        if is_digest and desc.digest != reference:
            raise StoreError(f"user input digest {reference} does not match the resolved digest {desc.digest}")
        return desc

    @staticmethod
    def _descriptor_from_head(response: Response, digest: str | None) -> Descriptor | None:
        media_type = _media_type(response)
        header_digest = response.headers.get("Docker-Content-Digest", "")
        length = response.headers.get("Content-Length", "")
        if not media_type or not length.isdigit():
            return None
        if header_digest and not is_valid_digest(header_digest):
            raise StoreError(f"registry answered with an invalid digest {header_digest!r}")
        resolved = header_digest or digest
        if not resolved:
            return None
        return Descriptor(media_type=media_type, digest=resolved, size=int(length))

    def _resolve_by_get(self, url: str, name: str, digest: str | None) -> Descriptor:
        response = self._send("GET", url, headers={"Accept": MANIFEST_ACCEPT})
        if response.status_code == 404:
            release(response)
            raise NotFoundError(f"{name}: not found")
        if response.status_code != 200:
            raise response_error(response, "GET")
        media_type = _media_type(response)
        header_digest = response.headers.get("Docker-Content-Digest", "")
        data = self._read(
            response,
            mediatypes.MAX_MANIFEST_SIZE,
            what=f"manifest {name}",
            too_large=f"manifest {name} too large: exceeds {mediatypes.MAX_MANIFEST_SIZE} bytes",
        )
        algorithm = (digest or header_digest or "sha256:").split(":", 1)[0]
        if algorithm not in ("sha256", "sha384", "sha512"):
            algorithm = "sha256"
        computed = compute_digest(data, algorithm)
        if header_digest and header_digest != computed and header_digest.split(":", 1)[0] == algorithm:
            raise StoreError(
                f"manifest {name}: content digest {computed} does not match the registry's {header_digest}"
            )
        if not media_type:
            declared: Any = None
            try:
                doc = json.loads(data)
                declared = doc.get("mediaType") if isinstance(doc, dict) else None
            except (ValueError, UnicodeDecodeError):
                pass
            if not isinstance(declared, str) or not declared:
                raise StoreError(f"manifest {name}: registry did not say its media type")
            media_type = declared
        return Descriptor(media_type=media_type, digest=computed, size=len(data))

    # -- fetch ------------------------------------------------------------------------------------------------------

    def fetch(self, descriptor: Descriptor, max_size: int) -> bytes:
        """GET a manifest or blob by digest, refusing before download when too large; bytes checked (MAN-10)."""
        if not is_valid_digest(descriptor.digest):
            raise StoreError(f"invalid digest {descriptor.digest!r}")
        if descriptor.size > max_size:
            raise StoreError(f"content {descriptor.digest} too large: {descriptor.size} bytes exceeds {max_size} bytes")
        if descriptor.media_type in mediatypes.MANIFEST_MEDIA_TYPES:
            url = f"{self._path}/manifests/{descriptor.digest}"
            headers = {"Accept": f"{descriptor.media_type}, {MANIFEST_ACCEPT}"}
        else:
            url = f"{self._path}/blobs/{descriptor.digest}"
            headers = {}
        response = self._send("GET", url, headers=headers)
        if response.status_code == 404:
            release(response)
            raise NotFoundError(f"{self.display_name}@{descriptor.digest}: not found")
        if response.status_code != 200:
            raise response_error(response, "GET")
        data = self._read(
            response,
            descriptor.size,
            what=f"content {descriptor.digest}",
            too_large=f"content size mismatch for {descriptor.digest}: registry sent more than {descriptor.size} bytes",
        )
        return descriptor.check(data)

    # -- referrers ----------------------------------------------------------------------------------------------------

    def list_signatures(self, subject: Descriptor) -> Iterator[Descriptor]:
        """REF-01 referrers API first; REF-02 fallback to the REF-03 tag schema. Lazy: one page in memory."""
        if not is_valid_digest(subject.digest):
            raise StoreError(f"invalid digest {subject.digest!r}")
        seen: set[str] = set()
        if not self.client.referrers_unsupported(self._registry):
            supported = False
            for page in self._referrers_pages(subject):  # yields nothing when the API is unsupported (REF-02)
                supported = True
                yield from self._signature_entries(page, seen)
            if supported:
                return
        _, entries = self._read_tag_index(subject.digest)
        yield from self._signature_entries(entries, seen)

    @staticmethod
    def _signature_entries(entries: list[Descriptor], seen: set[str]) -> Iterator[Descriptor]:
        for desc in entries:
            if desc.artifact_type != mediatypes.NOTARY_SIGNATURE or desc.digest in seen:
                continue
            seen.add(desc.digest)
            yield desc

    def _referrers_pages(self, subject: Descriptor) -> Iterator[list[Descriptor]]:
        """Yield referrer pages; yields nothing (and marks the registry) when the API is unsupported (REF-02)."""
        base = self.client.base_url(self._registry)
        url = (
            f"{base}{self._path}/referrers/{subject.digest}?artifactType={quote(mediatypes.NOTARY_SIGNATURE, safe='')}"
        )
        visited: set[str] = set()
        for page_number in range(MAX_REFERRERS_PAGES + 1):
            if page_number == MAX_REFERRERS_PAGES:
                raise StoreError(f"referrers of {subject.digest}: more than {MAX_REFERRERS_PAGES} pages")
            if url in visited:
                raise StoreError(f"referrers of {subject.digest}: pagination loops back to {urlsplit(url).path}")
            visited.add(url)
            response = self._send("GET", url, headers={"Accept": mediatypes.OCI_IMAGE_INDEX})
            if response.status_code == 404:
                codes = error_codes(response)
                if "NAME_UNKNOWN" in codes:
                    raise NotFoundError(f"{self.display_name}: repository name not known to registry")
                if page_number == 0:
                    self.client.mark_referrers_unsupported(self._registry)
                    return
                raise StoreError(f"referrers of {subject.digest}: next page not found")
            if response.status_code != 200:
                raise response_error(response, "GET")
            if _media_type(response) != mediatypes.OCI_IMAGE_INDEX:
                release(response)
                if page_number == 0:
                    self.client.mark_referrers_unsupported(self._registry)
                    return
                raise StoreError(f"referrers of {subject.digest}: page with unexpected media type")
            link = response.headers.get("Link", "")
            data = self._read(
                response,
                REFERRERS_PAGE_LIMIT,
                what=f"referrers of {subject.digest}",
                too_large=f"referrers of {subject.digest}: page larger than {REFERRERS_PAGE_LIMIT} bytes",
            )
            yield _parse_index(data, f"referrers of {subject.digest}")
            next_url = _next_link(link)
            if next_url is None:
                return
            url = self._same_origin(next_url, url)

    def _read_tag_index(self, digest: str) -> tuple[Descriptor | None, list[Descriptor]]:
        """REF-03: the index tagged ``<alg>-<hex>``; (None, []) when there is none."""
        tag = referrers_tag(digest)
        what = f"referrers index {self.display_name}:{tag}"
        response = self._send("GET", f"{self._path}/manifests/{tag}", headers={"Accept": mediatypes.OCI_IMAGE_INDEX})
        if response.status_code == 404:
            release(response)
            return None, []
        if response.status_code != 200:
            raise response_error(response, "GET")
        data = self._read(
            response, REFERRERS_PAGE_LIMIT, what=what, too_large=f"{what} larger than {REFERRERS_PAGE_LIMIT} bytes"
        )
        return Descriptor.for_content(mediatypes.OCI_IMAGE_INDEX, data), _parse_index(data, what)

    # -- push ----------------------------------------------------------------------------------------------------------

    def blob_exists(self, digest: str) -> bool:
        response = self._send("HEAD", f"{self._path}/blobs/{digest}", actions=("pull", "push"))
        release(response)
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        raise response_error(response, "HEAD")

    def push_blob(
        self,
        descriptor: Descriptor,
        data: bytes,
        *,
        chunk_size: int | None = None,
        mount_from: str | None = None,
        check_exists: bool = True,
    ) -> None:
        """Upload a blob unless present: POST then PUT (monolithic) or PATCH chunks then PUT; optional mount.

        ``check_exists=False`` skips the HEAD for content just made (a new signature envelope is never there yet, as
        oras-go's PushBytes assumes too): uploading a blob the registry already has is harmless, the HEAD is a round
        trip per signature."""
        descriptor.check(data)
        if self.client.blob_known(self._registry, self._path, descriptor.digest):
            return
        if check_exists and self.blob_exists(descriptor.digest):
            self.client.learn_blob(self._registry, self._path, descriptor.digest)
            return
        uploads = f"{self._path}/blobs/uploads/"
        if mount_from:
            uploads += f"?mount={descriptor.digest}&from={quote(mount_from, safe='/')}"
        response = self._send("POST", uploads, actions=("pull", "push"))
        if response.status_code == 201 and mount_from:
            release(response)
            self.client.learn_blob(self._registry, self._path, descriptor.digest)
            return
        if response.status_code != 202:
            raise response_error(response, "POST")
        location = response.headers.get("Location", "")
        release(response)
        if not location:
            raise RegistryError(f"registry {self._registry} started an upload without a Location")
        base = self.client.base_url(self._registry) + uploads
        location = self._same_origin(location, base)
        if chunk_size is not None and chunk_size > 0:
            offset = 0
            while offset < len(data):
                chunk = data[offset : offset + chunk_size]
                response = self._send(
                    "PATCH",
                    location,
                    actions=("pull", "push"),
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                    },
                    data=chunk,
                )
                if response.status_code != 202:
                    raise response_error(response, "PATCH")
                next_location = response.headers.get("Location", "") or location
                release(response)
                location = self._same_origin(next_location, location)
                offset += len(chunk)
            body = b""
        else:
            body = data
        sep = "&" if "?" in location else "?"
        response = self._send(
            "PUT",
            f"{location}{sep}digest={quote(descriptor.digest, safe=':')}",
            actions=("pull", "push"),
            headers={"Content-Type": "application/octet-stream"},
            data=body,
        )
        if response.status_code != 201:
            raise response_error(response, "PUT")
        release(response)
        if check_exists:  # shared content (the ``{}`` config): the next signature need not ask again
            self.client.learn_blob(self._registry, self._path, descriptor.digest)

    def push_manifest(
        self, reference: str, media_type: str, data: bytes, *, extra_headers: dict[str, str] | None = None
    ) -> Response:
        """PUT a manifest by digest or tag; returns the (closed) response for its headers."""
        headers = {"Content-Type": media_type, **(extra_headers or {})}
        response = self._send(
            "PUT",
            f"{self._path}/manifests/{quote(reference, safe=':')}",
            actions=("pull", "push"),
            headers=headers,
            data=data,
        )
        if response.status_code != 201:
            raise response_error(response, "PUT")
        release(response)
        return response

    def delete_manifest(self, digest: str) -> None:
        response = self._send("DELETE", f"{self._path}/manifests/{digest}", actions=("pull", "push", "delete"))
        if response.status_code not in (200, 202):
            raise response_error(response, "DELETE")
        release(response)

    def push_signature_manifest(self, subject: Descriptor, descriptor: Descriptor, data: bytes) -> list[str]:
        """MAN-09 then REF-07: PUT by digest; then the registry indexes it (OCI-Subject) or we keep the tag index."""
        descriptor.check(data)
        for attempt in range(4):
            try:
                response = self.push_manifest(descriptor.digest, descriptor.media_type, data)
                break
            except RegistryError as exc:
                # distribution 2.x: while another client commits the same blob (the shared ``{}`` config of
                # concurrent signers), it can briefly report it unknown; the blob was pushed, so try again.
                if "manifest blob unknown" not in str(exc) or attempt == 3:
                    raise
                self.client.pause(0.1 * 2**attempt)
        returned = response.headers.get("Docker-Content-Digest")
        if returned and returned != descriptor.digest:
            raise StoreError(f"registry stored the manifest as {returned}, expected {descriptor.digest}")
        if not self.force_referrers_tag:
            if response.headers.get("OCI-Subject") == subject.digest:
                return []
            self.client.mark_referrers_unsupported(self._registry)
        entry = _index_entry(descriptor, data)
        if self.client.conditional_puts(self._registry):
            if self.client.conditional_creates(self._registry) is None:
                self._probe_conditional_create(descriptor, data)
            if self.client.conditional_creates(self._registry) and self._create_tag_index(subject.digest, entry):
                return []
        return self._add_to_tag_index(subject.digest, entry)

    def _add_to_tag_index(self, subject_digest: str, entry: Descriptor) -> list[str]:
        """REF-05 as a read-modify-write that never loses a concurrent signer's entry.

        Each PUT of the index carries ``If-Match: "<digest read>"`` (or ``If-None-Match: *`` when there was none).
        A registry that honours these makes the update atomic: a 412 means someone else wrote first, so re-read and
        merge again, and a 201 means our merge is what is stored -- no waiting. Whether it honours them is learnt
        from the first PUT, sent with a condition that cannot hold (``If-Match`` of a digest nothing has): 412 =
        honoured, nothing written; 201 = ignored (distribution 2.x), the merged index was written as the plain PUT
        would have. Where conditions are ignored, we wait about one read-modify-write after our PUT and re-read; if
        a concurrent signer replaced the index without our entry, merge again.
        """
        tag = referrers_tag(subject_digest)
        warnings: list[str] = []
        settle = 0.05
        for _attempt in range(MAX_INDEX_UPDATE_ATTEMPTS):
            started = time.monotonic()
            old_desc, entries = self._read_tag_index(subject_digest)
            merged: list[Descriptor] = []
            digests: set[str] = set()
            for item in entries:
                if item.digest not in digests:
                    digests.add(item.digest)
                    merged.append(item)
            if entry.digest in digests and old_desc is not None and len(merged) == len(entries):
                return warnings  # REF-05: nothing changed, push nothing
            if entry.digest not in digests:
                merged.append(entry)
            body = _marshal_index(merged)
            honoured = self.client.conditional_puts(self._registry)
            written = False
            if honoured is None:
                written = self._probe_conditional_put(tag, body)
                honoured = not written
                self.client.learn_conditional_puts(self._registry, honoured)
            if not written:
                condition = {"If-Match": f'"{old_desc.digest}"'} if old_desc else {"If-None-Match": "*"}
                try:
                    self.push_manifest(tag, mediatypes.OCI_IMAGE_INDEX, body, extra_headers=condition)
                except RegistryError as exc:
                    if exc.status_code != 412:
                        raise
                    self.client.learn_conditional_puts(self._registry, True)
                    self.client.pause(random.uniform(0, settle))
                    continue
            new_digest = compute_digest(body)
            if honoured:
                current_digest: str | None = new_digest  # the conditional PUT made our merge the index, atomically
            else:
                # Anyone who read before our PUT and writes after it finishes within about one read-modify-write.
                elapsed = time.monotonic() - started
                settle = max(0.05, min(2.0, 3 * elapsed))
                self.client.pause(settle + random.uniform(0, settle))
                current, now = self._read_tag_index(subject_digest)
                if entry.digest not in {d.digest for d in now}:
                    continue  # a concurrent signer replaced the index without our entry: merge again
                current_digest = current.digest if current is not None else None
            if old_desc is not None and old_desc.digest != new_digest and current_digest != old_desc.digest:
                try:
                    self.delete_manifest(old_desc.digest)
                except (RegistryError, NotFoundError) as exc:
                    if not isinstance(exc, NotFoundError) and GC_WARNING not in warnings:
                        warnings.append(GC_WARNING)  # REF-06
            return warnings
        raise StoreError(
            f"failed to update the referrers index {self.display_name}:{tag}: it kept changing under concurrent writers"
        )

    def _create_tag_index(self, subject_digest: str, entry: Descriptor) -> bool:
        """On a registry known to honour ``If-None-Match: *``: create the index holding just ``entry`` without
        reading first. True if created; False (412) if there is one already, to merge with (REF-05 as usual).

        Why: the first signature of an image (every image of a CI build) finds no index, so the read is a 404 round
        trip that tells nothing the conditional create does not; the registry ends with the same index (REF-04)."""
        body = _marshal_index([entry])
        try:
            self.push_manifest(
                referrers_tag(subject_digest), mediatypes.OCI_IMAGE_INDEX, body, extra_headers={"If-None-Match": "*"}
            )
        except RegistryError as exc:
            if exc.status_code == 412:
                return False
            raise
        return True

    def _probe_conditional_create(self, descriptor: Descriptor, data: bytes) -> None:
        """Learn whether the registry honours ``If-None-Match: *``: PUT the signature manifest just stored once more
        with it. 412 = honoured; 201 = ignored, and the registry merely stored the same bytes again. Learnt apart
        from ``If-Match`` because a create that ignored the condition would replace an index, losing entries."""
        try:
            self.push_manifest(descriptor.digest, descriptor.media_type, data, extra_headers={"If-None-Match": "*"})
        except RegistryError as exc:
            if exc.status_code != 412:
                raise
            self.client.learn_conditional_creates(self._registry, True)
            return
        self.client.learn_conditional_creates(self._registry, False)

    def _probe_conditional_put(self, tag: str, body: bytes) -> bool:
        """PUT ``body`` under ``tag`` with an ``If-Match`` no manifest can satisfy; True if it was written (the
        registry ignores conditions), False on 412 (it honours them; nothing was written)."""
        impossible = {"If-Match": f'"sha256:{"0" * 64}"'}
        try:
            self.push_manifest(tag, mediatypes.OCI_IMAGE_INDEX, body, extra_headers=impossible)
        except RegistryError as exc:
            if exc.status_code == 412:
                return False
            raise
        return True


def _next_link(header: str) -> str | None:
    """The target of ``Link: <url>; rel="next"`` (RFC 8288), if any."""
    for part in header.split(","):
        part = part.strip()
        if not part.startswith("<") or ">" not in part:
            continue
        target, _, params = part[1:].partition(">")
        rels = [p.strip() for p in params.split(";") if p.strip().lower().startswith("rel=")]
        if any(r.split("=", 1)[1].strip().strip('"').lower() == "next" for r in rels):
            return target.strip()
    return None


def _parse_index(data: bytes, what: str) -> list[Descriptor]:
    """An image index's ``manifests`` (null entries dropped); anything malformed is a StoreError."""
    try:
        doc: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise StoreError(f"{what}: not valid JSON") from None
    if not isinstance(doc, dict):
        raise StoreError(f"{what}: not a JSON object")
    manifests = doc.get("manifests")
    if manifests is None:
        return []
    if not isinstance(manifests, list):
        raise StoreError(f"{what}: manifests must be an array")
    out = []
    for item in manifests:
        if item is None:
            continue
        try:
            out.append(Descriptor.from_dict(item))
        except StoreError as exc:
            raise StoreError(f"{what}: {exc}") from None
    return out


def _index_entry(descriptor: Descriptor, data: bytes) -> Descriptor:
    """REF-04: the manifest descriptor with the manifest's annotations and artifactType (or config mediaType)."""
    try:
        doc: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise StoreError(f"signature manifest {descriptor.digest}: not valid JSON") from None
    if not isinstance(doc, dict):
        raise StoreError(f"signature manifest {descriptor.digest}: not a JSON object")
    annotations = doc.get("annotations") or {}
    artifact_type = doc.get("artifactType")
    if not artifact_type:
        config = doc.get("config")
        artifact_type = config.get("mediaType") if isinstance(config, dict) else None
    return Descriptor(
        media_type=descriptor.media_type,
        digest=descriptor.digest,
        size=descriptor.size,
        annotations=dict(annotations) if isinstance(annotations, dict) else {},
        artifact_type=artifact_type if isinstance(artifact_type, str) else None,
    )


def _marshal_index(entries: list[Descriptor]) -> bytes:
    """REF-04 bytes, as Go marshals them (member order of ocispec, no spaces, HTML-safe escapes)."""
    from notation._internal.oci.signature_manifest import marshal_go_json

    return marshal_go_json(
        {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_IMAGE_INDEX,
            "manifests": [e.to_dict() for e in entries],
        }
    )
