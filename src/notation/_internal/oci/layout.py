"""An OCI image layout directory as an ArtifactStore (signature.md §11.2, MAN-11, MAN-20, MAN-21).

The layout is untrusted input: ``oci-layout`` and ``index.json`` are validated strictly, every blob path is built
from a validated digest only (no path traversal), reads are bounded before they start, and content is checked
against its descriptor. Writes are atomic (temp file + ``os.replace``) so a crash never leaves a torn index.json;
index.json is re-read for every operation, so two processes appending signatures see each other's entries.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from notation._internal.oci.descriptor import Descriptor, compute_digest, is_valid_digest
from notation._internal.oci.mediatypes import (
    ANNOTATION_REF_NAME,
    EMPTY_JSON,
    EMPTY_JSON_DIGEST,
    MAX_MANIFEST_SIZE,
    NOTARY_SIGNATURE,
    OCI_ARTIFACT_MANIFEST,
    OCI_EMPTY,
    OCI_IMAGE_CONFIG,
    OCI_IMAGE_INDEX,
    OCI_IMAGE_MANIFEST,
    OCI_LAYER_TAR,
)
from notation._internal.oci.signature_manifest import marshal_go_json, parse_signature_manifest
from notation.errors import InvalidReferenceError, LayoutError, NotFoundError, StoreError

IMAGE_LAYOUT_VERSION = "1.0.0"
OCI_LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
MAX_LAYOUT_FILE_SIZE = 64 * 1024
MAX_INDEX_SIZE = 32 * 1024 * 1024
MAX_NESTED_INDEX_DEPTH = 8
MAX_NESTED_INDEXES = 1000

_SIGNATURE_CANDIDATE_TYPES = (OCI_IMAGE_MANIFEST, OCI_ARTIFACT_MANIFEST)


def parse_layout_reference(ref: str) -> tuple[str, str]:
    """Split ``<path>@<digest>`` or ``<path>:<tag>`` as Go's ``parseOCILayoutReference`` does (MAN-20).

    The last ``@`` wins; otherwise the last ``:``, except that ``C:\\...`` (a Windows drive) is no tag separator.
    """
    at = ref.rfind("@")
    if at != -1:
        path, reference = ref[:at], ref[at + 1 :]
    else:
        colon = ref.rfind(":")
        is_drive = colon == 1 and len(ref) > 2 and ref[0].isalpha() and ref[2] == "\\"
        if colon == -1 or is_drive:
            raise InvalidReferenceError("reference is missing either digest or tag")
        path, reference = ref[:colon], ref[colon + 1 :]
    if not path:
        raise InvalidReferenceError(f'found empty file path in "{ref}"')
    if not reference:
        raise InvalidReferenceError("reference is missing either digest or tag")
    return path, reference


def _atomic_write(path: Path, data: bytes) -> None:
    """Layout files are world-readable like any OCI layout's; never half-written (temp file + os.replace)."""
    from notation._internal.config.fileio import atomic_write  # writers only: not on the way of a verify

    atomic_write(path, data, mode=0o644, dir_mode=0o755)


def _read_bounded(path: Path, limit: int, what: str) -> bytes:
    """Read a regular file of at most ``limit`` bytes; refuse before reading if it is larger or not a file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise NotFoundError(f"{what} not found") from None
    except OSError as exc:
        raise LayoutError(f"cannot read {what}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise LayoutError(f"{what} is not a regular file")
    if st.st_size > limit:
        raise LayoutError(f"{what} too large: {st.st_size} bytes exceeds the limit of {limit} bytes")
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise LayoutError(f"cannot read {what}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise LayoutError(f"{what} too large: exceeds the limit of {limit} bytes")
    return data


def _validate_index(doc: Any, where: str) -> list[tuple[dict[str, Any], Descriptor]]:
    """Check an image index document; return its manifests as (raw JSON entry, parsed descriptor) pairs."""
    if not isinstance(doc, dict):
        raise LayoutError(f"invalid {where}: not a JSON object")
    version = doc.get("schemaVersion")
    if version != 2 or isinstance(version, bool):
        raise LayoutError(f"invalid {where}: schemaVersion must be 2, got {version!r}")
    media_type = doc.get("mediaType")
    if media_type is not None and media_type != OCI_IMAGE_INDEX:
        raise LayoutError(f'invalid {where}: mediaType must be "{OCI_IMAGE_INDEX}", got {media_type!r}')
    manifests = doc.get("manifests")
    if manifests is None:  # Go writes a nil slice as null
        return []
    if not isinstance(manifests, list):
        raise LayoutError(f"invalid {where}: manifests must be an array")
    out: list[tuple[dict[str, Any], Descriptor]] = []
    for i, entry in enumerate(manifests):
        try:
            desc = Descriptor.from_dict(entry)
        except StoreError as exc:
            raise LayoutError(f"invalid {where}: manifests[{i}]: {exc}") from None
        out.append((entry, desc))
    return out


def _plain(desc: Descriptor) -> Descriptor:
    """mediaType, digest and size only: what resolution returns (oras ``descriptor.Plain``)."""
    return Descriptor(desc.media_type, desc.digest, desc.size)


def _manifest_media_type(doc: Any) -> str | None:
    """The media type a manifest blob declares, or infers from its members when ``mediaType`` is absent."""
    if not isinstance(doc, dict):
        return None
    media_type = doc.get("mediaType")
    if isinstance(media_type, str):
        return media_type
    if "manifests" in doc:
        return OCI_IMAGE_INDEX
    if "config" in doc and "layers" in doc:
        return OCI_IMAGE_MANIFEST
    return None


class OCILayout:
    """One OCI image layout directory (``oci-layout``, ``index.json``, ``blobs/<alg>/<hex>``)."""

    def __init__(self, root: Path, display_name: str) -> None:
        """Use :meth:`open`, which validates the layout; this constructor does not."""
        self._root = root
        self._display_name = display_name

    @classmethod
    def open(cls, path: str | Path, *, create: bool = False) -> OCILayout:
        """Open (and with ``create`` make) the layout at ``path``; malformed layouts raise LayoutError."""
        display = str(path)
        root = Path(path)
        if create:
            try:
                root.mkdir(parents=True, exist_ok=True)
                (root / "blobs").mkdir(exist_ok=True)
            except OSError as exc:
                raise LayoutError(f"cannot create OCI image layout {display}: {exc.strerror or exc}") from None
        if not root.exists():
            raise LayoutError(f"OCI image layout {display} does not exist")
        if not root.is_dir():
            raise LayoutError(f"invalid OCI image layout {display}: not a directory")
        layout = cls(root, display)
        if create and not (root / OCI_LAYOUT_FILE).exists():
            _atomic_write(root / OCI_LAYOUT_FILE, marshal_go_json({"imageLayoutVersion": IMAGE_LAYOUT_VERSION}))
        if create and not (root / INDEX_FILE).exists():
            layout._write_index({"schemaVersion": 2, "mediaType": OCI_IMAGE_INDEX, "manifests": []})
        layout._check_layout_file()
        layout._load_index()
        return layout

    @property
    def display_name(self) -> str:
        return self._display_name

    @property
    def root(self) -> Path:
        return self._root

    # -- validation -----------------------------------------------------------------------------------------------

    def _check_layout_file(self) -> None:
        where = f"OCI image layout {self._display_name}"
        try:
            data = _read_bounded(self._root / OCI_LAYOUT_FILE, MAX_LAYOUT_FILE_SIZE, f"{OCI_LAYOUT_FILE} file")
        except NotFoundError:
            raise LayoutError(f"invalid {where}: missing {OCI_LAYOUT_FILE} file") from None
        except LayoutError as exc:
            raise LayoutError(f"invalid {where}: {exc}") from None
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise LayoutError(f"invalid {where}: {OCI_LAYOUT_FILE} is not valid JSON") from None
        version = doc.get("imageLayoutVersion") if isinstance(doc, dict) else None
        if version != IMAGE_LAYOUT_VERSION:
            raise LayoutError(
                f"invalid {where}: unsupported imageLayoutVersion {version!r} (expected {IMAGE_LAYOUT_VERSION!r})"
            )

    def _load_index(self) -> tuple[dict[str, Any], list[tuple[dict[str, Any], Descriptor]]]:
        """Read and validate index.json afresh (it may have been changed by another process)."""
        where = f"{INDEX_FILE} in OCI image layout {self._display_name}"
        try:
            data = _read_bounded(self._root / INDEX_FILE, MAX_INDEX_SIZE, INDEX_FILE)
        except NotFoundError:
            raise LayoutError(f"invalid OCI image layout {self._display_name}: missing {INDEX_FILE}") from None
        except LayoutError as exc:
            raise LayoutError(f"invalid OCI image layout {self._display_name}: {exc}") from None
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise LayoutError(f"invalid {where}: not valid JSON ({exc})") from None
        return doc, _validate_index(doc, where)

    def _write_index(self, doc: dict[str, Any]) -> None:
        try:
            _atomic_write(self._root / INDEX_FILE, marshal_go_json(doc))
        except OSError as exc:
            raise LayoutError(f"cannot write {INDEX_FILE} in {self._display_name}: {exc.strerror or exc}") from None

    def _blob_path(self, digest: str) -> Path:
        """The blob path of a digest; only validated digests (``alg:lowercase-hex``) ever become paths."""
        if not is_valid_digest(digest):
            raise StoreError(f"invalid digest {digest!r}")
        algorithm, hex_ = digest.split(":", 1)
        return self._root / "blobs" / algorithm / hex_

    def has_blob(self, digest: str) -> bool:
        return self._blob_path(digest).is_file()

    # -- ArtifactStore --------------------------------------------------------------------------------------------

    def resolve(self, reference: str) -> Descriptor:
        """Resolve a tag (index.json ``ref.name``) or a digest (index.json, nested indexes, then blobs)."""
        if not reference:
            raise InvalidReferenceError("reference is missing either digest or tag")
        _, entries = self._load_index()
        if ":" not in reference:
            found = [desc for _, desc in entries if desc.annotations.get(ANNOTATION_REF_NAME) == reference]
            if not found:
                raise NotFoundError(f"{self._display_name}:{reference}: not found")
            return _plain(found[-1])  # oras: the last entry with a tag wins
        if not is_valid_digest(reference):
            raise InvalidReferenceError(f"invalid digest {reference!r} in reference to {self._display_name}")
        for _, desc in entries:
            if desc.digest == reference:
                return _plain(desc)
        nested = self._find_nested(entries, reference)
        if nested is not None:
            return _plain(nested)
        return self._resolve_blob(reference)

    def _find_nested(self, entries: list[tuple[dict[str, Any], Descriptor]], digest: str) -> Descriptor | None:
        """Breadth-first search of the image indexes index.json lists, bounded in depth and count."""
        queue = [(desc, 1) for _, desc in entries if desc.media_type == OCI_IMAGE_INDEX]
        seen: set[str] = set()
        while queue:
            index_desc, depth = queue.pop(0)
            if index_desc.digest in seen or depth > MAX_NESTED_INDEX_DEPTH or len(seen) >= MAX_NESTED_INDEXES:
                continue
            seen.add(index_desc.digest)
            try:
                data = self.fetch(index_desc, MAX_MANIFEST_SIZE)
            except NotFoundError:
                continue
            try:
                doc = json.loads(data)
            except (UnicodeDecodeError, ValueError, RecursionError):
                raise LayoutError(f"invalid image index {index_desc.digest}: not valid JSON") from None
            for _, child in _validate_index(doc, f"image index {index_desc.digest}"):
                if child.digest == digest:
                    return child
                if child.media_type == OCI_IMAGE_INDEX:
                    queue.append((child, depth + 1))
        return None

    def _resolve_blob(self, digest: str) -> Descriptor:
        """A manifest stored as a blob but listed nowhere: accept it if its content declares a manifest type."""
        path = self._blob_path(digest)
        try:
            data = _read_bounded(path, MAX_MANIFEST_SIZE, f"blob {digest}")
        except NotFoundError:
            raise NotFoundError(f"{self._display_name}@{digest}: not found") from None
        except LayoutError:
            raise NotFoundError(f"{self._display_name}@{digest}: not found (not a manifest)") from None
        desc = Descriptor(OCI_IMAGE_MANIFEST, digest, len(data))
        desc.check(data)
        try:
            media_type = _manifest_media_type(json.loads(data))
        except (UnicodeDecodeError, ValueError, RecursionError):
            media_type = None
        if media_type is None:
            raise NotFoundError(f"{self._display_name}@{digest}: not found (not a manifest)")
        return Descriptor(media_type, digest, len(data))

    def fetch(self, descriptor: Descriptor, max_size: int) -> bytes:
        """Read a blob: refused before reading if the descriptor or the file exceeds ``max_size``; digest checked."""
        if descriptor.size > max_size:
            raise StoreError(
                f"content {descriptor.digest} too large: {descriptor.size} bytes exceeds the limit of {max_size} bytes"
            )
        path = self._blob_path(descriptor.digest)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise NotFoundError(f"{self._display_name}@{descriptor.digest}: not found") from None
        except OSError as exc:
            raise LayoutError(f"cannot read blob {descriptor.digest}: {exc.strerror or exc}") from None
        if not stat.S_ISREG(st.st_mode):
            raise LayoutError(f"blob {descriptor.digest} is not a regular file")
        if st.st_size != descriptor.size:
            raise StoreError(
                f"content size mismatch for {descriptor.digest}: expected {descriptor.size} bytes, "
                f"found {st.st_size} bytes in the layout"
            )
        try:
            with open(path, "rb") as f:
                data = f.read(descriptor.size + 1)
        except OSError as exc:
            raise LayoutError(f"cannot read blob {descriptor.digest}: {exc.strerror or exc}") from None
        return descriptor.check(data)

    def list_signatures(self, subject: Descriptor) -> Iterator[Descriptor]:
        """Yield the signature manifests in index.json whose subject is ``subject`` (MAN-11), in index order.

        Form A (notary config type, no artifactType), Form B (notary artifactType, empty config) and the withdrawn
        artifact manifest count; everything else is ignored. Each candidate is read with the 4 MiB bound.
        """
        _, entries = self._load_index()
        seen: set[str] = set()
        for _, desc in entries:
            if desc.media_type not in _SIGNATURE_CANDIDATE_TYPES or desc.digest in seen:
                continue
            if desc.digest == subject.digest or desc.size > MAX_MANIFEST_SIZE:
                continue
            seen.add(desc.digest)
            try:
                data = self.fetch(desc, MAX_MANIFEST_SIZE)
            except NotFoundError:
                raise LayoutError(
                    f"invalid OCI image layout {self._display_name}: {INDEX_FILE} refers to missing blob {desc.digest}"
                ) from None
            listed = self._as_signature(data, desc, subject)
            if listed is not None:
                yield listed

    @staticmethod
    def _as_signature(data: bytes, desc: Descriptor, subject: Descriptor) -> Descriptor | None:
        """The REF-04 descriptor of ``data`` if it is a notary signature of ``subject``, else None."""
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise LayoutError(f"invalid manifest {desc.digest}: not valid JSON") from None
        if not isinstance(doc, dict):
            raise LayoutError(f"invalid manifest {desc.digest}: not a JSON object")
        raw_subject = doc.get("subject")
        if not isinstance(raw_subject, dict):
            return None
        try:
            if not Descriptor.from_dict(raw_subject).same_content(subject):
                return None
        except StoreError:
            return None
        artifact_type = doc.get("artifactType")
        config = doc.get("config")
        config_type = config.get("mediaType") if isinstance(config, dict) else None
        if desc.media_type == OCI_IMAGE_MANIFEST:
            form_a = artifact_type is None and config_type == NOTARY_SIGNATURE
            form_b = artifact_type == NOTARY_SIGNATURE and config_type == OCI_EMPTY
            if not (form_a or form_b):
                return None
        elif artifact_type != NOTARY_SIGNATURE:
            return None
        # Listing only locates signatures (REF-09): a malformed one is listed and rejected when it is read.
        annotations = doc.get("annotations")
        if not isinstance(annotations, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()
        ):
            annotations = {}
        return Descriptor(desc.media_type, desc.digest, desc.size, annotations, NOTARY_SIGNATURE)

    def push_blob(self, descriptor: Descriptor, data: bytes, *, check_exists: bool = True) -> None:
        """Store a blob atomically; a no-op if a file of the right size already exists at its digest (a local
        check costs nothing, so it is made whatever ``check_exists`` says)."""
        path = self._blob_path(descriptor.digest)
        descriptor.check(data)
        try:
            if path.is_file() and path.stat().st_size == descriptor.size:
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, data)
        except OSError as exc:
            raise LayoutError(
                f"cannot write blob {descriptor.digest} to {self._display_name}: {exc.strerror or exc}"
            ) from None

    def push_signature_manifest(self, subject: Descriptor, descriptor: Descriptor, data: bytes) -> list[str]:
        """MAN-21: write the manifest blob and append its descriptor to index.json (no ref.name, as Go writes it).

        The manifest must be a signature of ``subject`` whose envelope is already in the layout; the empty config
        blob is added if missing (MAN-02).
        """
        descriptor.check(data)
        manifest = parse_signature_manifest(data, descriptor)
        if manifest.subject is None or not manifest.subject.same_content(subject):
            raise StoreError(f"signature manifest {descriptor.digest} does not refer to {subject.digest}")
        if not self.has_blob(manifest.envelope.digest):
            raise StoreError(f"signature envelope blob {manifest.envelope.digest} is not in {self._display_name}")
        if not self.has_blob(EMPTY_JSON_DIGEST):
            self.push_blob(Descriptor.for_content(OCI_EMPTY, EMPTY_JSON), EMPTY_JSON)
        self.push_blob(descriptor, data)
        entry: dict[str, Any] = {
            "mediaType": descriptor.media_type,
            "digest": descriptor.digest,
            "size": descriptor.size,
        }
        if manifest.annotations:
            entry["annotations"] = dict(sorted(manifest.annotations.items()))
        self._append_index_entry(entry)
        return []

    def push_manifest(self, descriptor: Descriptor, data: bytes, *, tag: str | None = None) -> None:
        """Store any manifest and list it in index.json, tagged with ``tag`` (moved off other entries) if given."""
        self.push_blob(descriptor, data)
        entry: dict[str, Any] = {
            "mediaType": descriptor.media_type,
            "digest": descriptor.digest,
            "size": descriptor.size,
        }
        if tag is not None:
            if not tag or ":" in tag or "@" in tag:
                raise InvalidReferenceError(f"invalid tag {tag!r}")
            entry["annotations"] = {ANNOTATION_REF_NAME: tag}
        self._append_index_entry(entry, tag=tag)

    def _append_index_entry(self, entry: dict[str, Any], *, tag: str | None = None) -> None:
        """Read-modify-write index.json: append ``entry`` unless its digest is already listed (with ``tag``).

        With a tag, other entries carrying the same tag lose it (a tag names one manifest, as in oras).
        """
        with self._index_lock():
            self._append_index_entry_locked(entry, tag)

    @contextlib.contextmanager
    def _index_lock(self) -> Iterator[None]:
        """Serialize index.json read-modify-write among notation-py processes (advisory ``flock`` on the layout
        directory itself, so no lock file is left in the layout). Where flock is unavailable, writes are still
        atomic; only concurrent appends could lose one another.
        """
        try:
            import fcntl
        except ImportError:  # Windows
            yield
            return
        try:
            fd = os.open(self._root, os.O_RDONLY)
        except OSError:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _append_index_entry_locked(self, entry: dict[str, Any], tag: str | None) -> None:
        doc, parsed = self._load_index()
        kept: list[dict[str, Any]] = []
        present = False
        for raw, desc in parsed:
            ref_name = desc.annotations.get(ANNOTATION_REF_NAME)
            if desc.digest == entry["digest"] and ref_name == tag:
                present = True
            elif tag is not None and ref_name == tag:
                continue  # the tag moves to the new entry
            kept.append(raw)
        if not present:
            kept.append(entry)
        if present and len(kept) == len(parsed):
            return
        doc["manifests"] = kept
        self._write_index(doc)

    def close(self) -> None:
        """Nothing to release: every operation opens and closes its own files."""


def _tar_files(files: Mapping[str, bytes]) -> bytes:
    """A deterministic tar (sorted names, zero times, root owner) so the same files give the same digest."""
    import tarfile  # only the image writer needs it; keep it off the CLI start-up path

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            content = files[name]
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size = len(content)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def write_image(layout_path: str | Path, tag: str, files: Mapping[str, bytes]) -> Descriptor:
    """Write a minimal OCI image (config, one uncompressed tar layer, manifest) into a layout and tag it.

    For tests and the devstack: gives a signable artifact without a registry. Returns the manifest descriptor.
    """
    layout = OCILayout.open(layout_path, create=True)
    layer = _tar_files(files)
    layer_desc = Descriptor.for_content(OCI_LAYER_TAR, layer)
    config = marshal_go_json(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [compute_digest(layer)]},
        }
    )
    config_desc = Descriptor.for_content(OCI_IMAGE_CONFIG, config)
    manifest = marshal_go_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_IMAGE_MANIFEST,
            "config": config_desc.to_dict(),
            "layers": [layer_desc.to_dict()],
        }
    )
    manifest_desc = Descriptor.for_content(OCI_IMAGE_MANIFEST, manifest)
    layout.push_blob(layer_desc, layer)
    layout.push_blob(config_desc, config)
    layout.push_manifest(manifest_desc, manifest, tag=tag)
    return manifest_desc
