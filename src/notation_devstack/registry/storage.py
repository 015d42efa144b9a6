"""Filesystem storage for the registry: content-addressed blobs, per-repository links, tags and referrers.

Layout under the root (repository names are spec-validated, so their components never start with ``_`` or
``.`` and cannot collide with our metadata directories or escape the root)::

    blobs/<alg>/<hex>                                     every blob and manifest, once, by digest
    repositories/<name>/_layers/<alg>/<hex>               blob linked into the repository (empty file)
    repositories/<name>/_manifests/revisions/<alg>/<hex>  manifest in the repository ({"mediaType": ...})
    repositories/<name>/_manifests/tags/<tag>             tag -> digest
    repositories/<name>/_referrers/<alg>/<hex>/<alg>-<hex> one referrer descriptor per file, by subject
    repositories/<name>/_lock                             flock serialising manifest writes and deletes
    uploads/<id>/{data,repo}                              upload sessions
    tmp/                                                  temp files, renamed into place when complete

A process killed mid-write leaves its temp files behind (never under a digest name); :meth:`Storage.sweep` removes
them, and abandoned upload sessions, once they are old enough that no live writer can still own them.

Every write is a temp file, fsync and ``os.replace``, so readers never see half a file; one file per referrer
means concurrent pushes of referrers to one subject cannot lose each other's entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from notation_devstack.registry import errors, grammar, manifests

MAX_MANIFEST_SIZE = 4 * 1024 * 1024
DEFAULT_MAX_BLOB_SIZE = 1024 * 1024 * 1024
TEMP_FILE_MAX_AGE = 3600.0
"""Seconds after which a temp file is a dead writer's leftover."""
UPLOAD_MAX_AGE = 7 * 24 * 3600.0
"""Seconds an untouched upload session is kept (the CNCF distribution registry's purge age, 168 h)."""
_UPLOAD_ID_LEN = 32


def _hasher(algorithm: str) -> Any:
    return hashlib.new(algorithm)


def atomic_write(path: Path, data: bytes) -> None:
    """Write a file so readers see either the old or the new content, never a torn one."""
    tmp = stage(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def stage(path: Path, data: bytes) -> Path:
    """The slow half of :func:`atomic_write`: ``data`` in a synced temp file beside ``path`` (hidden: a dot name),
    for the caller to ``os.replace`` onto ``path`` (or unlink)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


@dataclass(frozen=True)
class BlobInfo:
    digest: str
    size: int
    path: Path


@dataclass(frozen=True)
class StoredManifest:
    digest: str
    media_type: str
    body: bytes


class Storage:
    """The registry's state on disk; every method validates its names, so callers may pass raw URL parts."""

    def __init__(self, root: str | os.PathLike[str], *, max_blob_size: int = DEFAULT_MAX_BLOB_SIZE,
                 max_manifest_size: int = MAX_MANIFEST_SIZE) -> None:
        self.root = Path(root).resolve()
        self.max_blob_size = max_blob_size
        self.max_manifest_size = max_manifest_size
        for sub in ("blobs", "repositories", "uploads", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def sweep(self, *, temp_age: float = TEMP_FILE_MAX_AGE, upload_age: float = UPLOAD_MAX_AGE) -> int:
        """Remove temp files older than ``temp_age`` and upload sessions untouched for ``upload_age`` seconds.

        Run at start-up: a temp file is written and renamed within one request, so an hour-old one belongs to a
        process that died; ages (not "everything") keep a second server on the same root safe. Returns the count.
        """
        now = time.time()
        removed = 0

        def old(path: Path, age: float) -> bool:
            try:
                return now - path.lstat().st_mtime > age
            except OSError:
                return False

        temps = [*(self.root / "tmp").iterdir()]
        for top in ("blobs", "repositories"):
            temps += (self.root / top).rglob(".tmp-*")
        for path in temps:
            if path.is_file() and not path.is_symlink() and old(path, temp_age):
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
        for session in (self.root / "uploads").iterdir():
            data = session / "data"
            if session.is_dir() and not session.is_symlink() and old(data if data.exists() else session, upload_age):
                shutil.rmtree(session, ignore_errors=True)
                removed += 1
        return removed

    # ----- paths -------------------------------------------------------------------------------------------
    def _repo(self, name: str) -> Path:
        return self.root / "repositories" / grammar.check_name(name)

    def _blob_path(self, digest: str) -> Path:
        algorithm, encoded = grammar.check_digest(digest)
        return self.root / "blobs" / algorithm / encoded

    def _layer_link(self, name: str, digest: str) -> Path:
        algorithm, encoded = grammar.check_digest(digest)
        return self._repo(name) / "_layers" / algorithm / encoded

    def _manifest_link(self, name: str, digest: str) -> Path:
        algorithm, encoded = grammar.check_digest(digest)
        return self._repo(name) / "_manifests" / "revisions" / algorithm / encoded

    def _tag_path(self, name: str, tag: str) -> Path:
        return self._repo(name) / "_manifests" / "tags" / grammar.check_tag(tag)

    def _referrers_dir(self, name: str, subject: str) -> Path:
        algorithm, encoded = grammar.check_digest(subject)
        return self._repo(name) / "_referrers" / algorithm / encoded

    def _upload_dir(self, upload_id: str) -> Path:
        if len(upload_id) != _UPLOAD_ID_LEN or not all(c in "0123456789abcdef" for c in upload_id):
            raise errors.blob_upload_unknown(upload_id[:64])
        return self.root / "uploads" / upload_id

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        """Serialise writers of one repository (threads and processes alike: flock per open file)."""
        repo = self._repo(name)
        repo.mkdir(parents=True, exist_ok=True)
        with open(repo / "_lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # ----- repositories ------------------------------------------------------------------------------------
    def repo_exists(self, name: str) -> bool:
        repo = self._repo(name)
        return (repo / "_manifests").is_dir() or (repo / "_layers").is_dir()

    def require_repo(self, name: str) -> None:
        if not self.repo_exists(name):
            raise errors.name_unknown(name)

    def catalog(self) -> list[str]:
        base = self.root / "repositories"
        found: list[str] = []
        for dirpath, dirnames, _files in os.walk(base):
            rel = os.path.relpath(dirpath, base)
            if rel != "." and ("_manifests" in dirnames or "_layers" in dirnames):
                found.append(rel.replace(os.sep, "/"))
            dirnames[:] = [d for d in dirnames if not d.startswith(("_", "."))]
        return sorted(found)

    def tags(self, name: str) -> list[str]:
        self.require_repo(name)
        tag_dir = self._repo(name) / "_manifests" / "tags"
        if not tag_dir.is_dir():
            return []
        return sorted(t for t in os.listdir(tag_dir) if not t.startswith("."))

    # ----- blobs -------------------------------------------------------------------------------------------
    def _ingest(self, chunks: Iterable[bytes], expected: str, limit: int) -> int:
        """Stream content to a temp file, verify it hashes to ``expected``, move it into the blob store."""
        algorithm, _ = grammar.check_digest(expected)
        hasher = _hasher(algorithm)
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp", prefix="blob-")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise errors.too_large("blob", limit)
                    hasher.update(chunk)
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            actual = f"{algorithm}:{hasher.hexdigest()}"
            if actual != expected:
                raise errors.digest_invalid(f"provided digest did not match uploaded content (got {actual})",
                                            expected)
            self._place(Path(tmp), expected)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return size

    def _place(self, tmp: Path, digest: str) -> None:
        dest = self._blob_path(digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dest)  # same content if it already existed: replacing is harmless

    def _link_blob(self, name: str, digest: str) -> None:
        link = self._layer_link(name, digest)
        if not link.exists():
            atomic_write(link, b"")

    def put_blob(self, name: str, digest: str, chunks: Iterable[bytes]) -> int:
        """Monolithic upload: store and link the blob if it hashes to ``digest``; return its size."""
        grammar.check_name(name)
        size = self._ingest(chunks, digest, self.max_blob_size)
        self._link_blob(name, digest)
        return size

    def stat_blob(self, name: str, digest: str) -> BlobInfo:
        link, path = self._layer_link(name, digest), self._blob_path(digest)
        if not link.exists() and not self._manifest_link(name, digest).exists():
            if not self.repo_exists(name):
                raise errors.name_unknown(name)
            raise errors.blob_unknown(digest)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise errors.blob_unknown(digest) from None
        return BlobInfo(digest=digest, size=size, path=path)

    def open_blob(self, name: str, digest: str) -> tuple[BlobInfo, BinaryIO]:
        info = self.stat_blob(name, digest)
        try:
            return info, open(info.path, "rb")
        except FileNotFoundError:
            raise errors.blob_unknown(digest) from None

    def delete_blob(self, name: str, digest: str) -> None:
        link = self._layer_link(name, digest)
        self.require_repo(name)
        try:
            link.unlink()
        except FileNotFoundError:
            raise errors.blob_unknown(digest) from None

    def mount_blob(self, name: str, source: str, digest: str) -> bool:
        """Link a blob of ``source`` into ``name`` without copying; False if ``source`` does not hold it."""
        grammar.check_name(name)
        if not self._layer_link(source, digest).exists() or not self._blob_path(digest).exists():
            return False
        self._link_blob(name, digest)
        return True

    # ----- uploads -----------------------------------------------------------------------------------------
    def start_upload(self, name: str) -> str:
        grammar.check_name(name)
        upload_id = uuid.uuid4().hex
        directory = self._upload_dir(upload_id)
        directory.mkdir()
        (directory / "data").touch()
        atomic_write(directory / "repo", name.encode())
        return upload_id

    def _session(self, name: str, upload_id: str) -> Path:
        directory = self._upload_dir(upload_id)
        try:
            owner = (directory / "repo").read_text()
        except FileNotFoundError:
            raise errors.blob_upload_unknown(upload_id) from None
        if owner != grammar.check_name(name):
            raise errors.blob_upload_unknown(upload_id)
        return directory

    def upload_offset(self, name: str, upload_id: str) -> int:
        try:
            return (self._session(name, upload_id) / "data").stat().st_size
        except FileNotFoundError:
            raise errors.blob_upload_unknown(upload_id) from None

    def upload_append(self, name: str, upload_id: str, chunks: Iterable[bytes], start: int | None = None) -> int:
        """Append a chunk; ``start`` (from Content-Range) must equal the current offset. Returns the new size."""
        directory = self._session(name, upload_id)
        try:
            fh = open(directory / "data", "r+b")  # noqa: SIM115
        except FileNotFoundError:
            raise errors.blob_upload_unknown(upload_id) from None
        with fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            offset = fh.seek(0, os.SEEK_END)
            if start is not None and start != offset:
                raise errors.DistributionError(416, "BLOB_UPLOAD_INVALID",
                                               f"chunk starts at {start}, upload is at {offset}",
                                               {"offset": offset})
            begin = offset
            try:
                for chunk in chunks:
                    offset += len(chunk)
                    if offset > self.max_blob_size:
                        raise errors.too_large("blob", self.max_blob_size)
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            except BaseException:
                fh.truncate(begin)  # a failed chunk leaves the upload where it was, as the client last saw it
                raise
            return offset

    def finish_upload(self, name: str, upload_id: str, digest: str, chunks: Iterable[bytes]) -> int:
        """Append the last chunk, verify the whole upload against ``digest``, store and link it."""
        grammar.check_digest(digest)
        self.upload_append(name, upload_id, chunks)
        directory = self._session(name, upload_id)
        algorithm, _ = grammar.check_digest(digest)
        hasher = _hasher(algorithm)
        data = directory / "data"
        with open(data, "rb") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            size = 0
            while block := fh.read(1 << 20):
                hasher.update(block)
                size += len(block)
            actual = f"{algorithm}:{hasher.hexdigest()}"
            if actual != digest:
                # The session stays, as the spec allows the client to retry; a wrong digest never lands.
                raise errors.digest_invalid(f"provided digest did not match uploaded content (got {actual})",
                                            digest)
            self._place(data, digest)
        self._link_blob(name, digest)
        shutil.rmtree(directory, ignore_errors=True)
        return size

    def cancel_upload(self, name: str, upload_id: str) -> None:
        shutil.rmtree(self._session(name, upload_id), ignore_errors=True)

    # ----- manifests ---------------------------------------------------------------------------------------
    def resolve(self, name: str, reference: str) -> str:
        """Tag or digest -> digest of a manifest present in the repository."""
        if grammar.is_digest(reference):
            grammar.check_digest(reference)
            digest = reference
        else:
            try:
                digest = self._tag_path(name, reference).read_text().strip()
            except FileNotFoundError:
                self.require_repo(name)
                raise errors.manifest_unknown(reference) from None
        if not self._manifest_link(name, digest).exists():
            self.require_repo(name)
            raise errors.manifest_unknown(reference)
        return digest

    def get_manifest(self, name: str, reference: str) -> StoredManifest:
        digest = self.resolve(name, reference)
        try:
            meta = json.loads(self._manifest_link(name, digest).read_bytes())
            body = self._blob_path(digest).read_bytes()
        except (FileNotFoundError, ValueError):
            raise errors.manifest_unknown(reference) from None
        return StoredManifest(digest=digest, media_type=str(meta["mediaType"]), body=body)

    def put_manifest(self, name: str, reference: str, body: bytes, content_type: str | None,
                     extra_tags: Iterable[str] = (), *, index_referrers: bool = True,
                     if_match: str | None = None, if_none_match: str | None = None) -> tuple[str, str | None]:
        """Store a manifest under a tag or digest; return (digest, subject digest if indexed as a referrer).

        ``if_match``/``if_none_match`` are the request's RFC 9110 preconditions on what ``reference`` names now
        (ETag = ``"<digest>"``); they are checked under the repository lock, so read-modify-write clients such as
        concurrent signers updating a referrers tag index never overwrite each other (412 instead).
        """
        grammar.check_name(name)
        if len(body) > self.max_manifest_size:
            raise errors.too_large("manifest", self.max_manifest_size)
        tags = [grammar.check_tag(t) for t in extra_tags]
        if grammar.is_digest(reference):
            algorithm, _ = grammar.check_digest(reference)
        else:
            algorithm = "sha256"
            tags.insert(0, grammar.check_tag(reference))
        digest = f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"
        if grammar.is_digest(reference) and digest != reference:
            raise errors.digest_invalid("manifest digest does not match the reference", reference)
        parsed = manifests.parse(body, content_type)
        # Writes and fsyncs (most of a PUT) happen outside the repository lock, so concurrent pushes to one
        # repository do not queue behind each other's disk syncs: the body goes to the content-addressed store
        # (never removed: deletes drop links) and the link, referrer entry and tags are staged as synced temp files;
        # under the lock the checks are made again and the staged files renamed into place. Refusals are checked
        # first, so that they cost no write; a PUT refused by the second check leaves at most an unlinked blob,
        # invisible in every repository.
        with self._locked(name):
            self._check_manifest_put(name, reference, parsed, if_match, if_none_match)
        if not self._blob_path(digest).exists():
            self._ingest([body], digest, self.max_manifest_size)
        subject = str(parsed.subject["digest"]) if parsed.subject is not None and index_referrers else None
        writes = [(self._manifest_link(name, digest), json.dumps({"mediaType": parsed.media_type}).encode())]
        if subject is not None:
            entry = self._referrers_dir(name, subject) / digest.replace(":", "-")
            if not entry.exists():
                writes.append((entry, json.dumps(parsed.referrer_descriptor(digest, len(body))).encode()))
        writes += [(self._tag_path(name, tag), digest.encode()) for tag in tags]
        staged: list[tuple[Path, Path]] = []
        try:
            for path, data in writes:
                staged.append((stage(path, data), path))
            with self._locked(name):
                self._check_manifest_put(name, reference, parsed, if_match, if_none_match)
                while staged:
                    tmp, path = staged.pop(0)
                    os.replace(tmp, path)
        finally:
            for tmp, _ in staged:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        return digest, subject

    def _check_manifest_put(self, name: str, reference: str, parsed: manifests.ParsedManifest, if_match: str | None,
                            if_none_match: str | None) -> None:
        """Under the repository lock: the preconditions hold and every blob and child manifest is in the repository."""
        if if_match is not None or if_none_match is not None:
            self._check_preconditions(name, reference, if_match, if_none_match)
        for blob in parsed.blobs:
            if not self._layer_link(name, blob).exists() and not self._manifest_link(name, blob).exists():
                raise errors.manifest_blob_unknown(blob)
        for child in parsed.children:
            if not self._manifest_link(name, child).exists():
                raise errors.manifest_blob_unknown(child)

    def _current_digest(self, name: str, reference: str) -> str | None:
        """The digest ``reference`` names right now, or None (caller holds the lock)."""
        if grammar.is_digest(reference):
            return reference if self._manifest_link(name, reference).exists() else None
        try:
            digest = self._tag_path(name, reference).read_text().strip()
        except FileNotFoundError:
            return None
        return digest if self._manifest_link(name, digest).exists() else None

    def _check_preconditions(self, name: str, reference: str, if_match: str | None,
                             if_none_match: str | None) -> None:
        """RFC 9110 §13.1.1/§13.1.2 (strong comparison, as for a PUT): a failed one is a 412."""
        current = self._current_digest(name, reference)
        if if_match is not None:
            wanted = _etags(if_match)
            if current is None or ("*" not in wanted and current not in wanted):
                raise errors.precondition_failed(reference)
        if if_none_match is not None and current is not None:
            wanted = _etags(if_none_match)
            if "*" in wanted or current in wanted:
                raise errors.precondition_failed(reference)

    def delete_manifest(self, name: str, reference: str) -> None:
        """Delete a tag (reference is a tag) or a manifest with its tags and referrer entry (a digest)."""
        with self._locked(name):
            if not grammar.is_digest(reference):
                try:
                    self._tag_path(name, reference).unlink()
                except FileNotFoundError:
                    self.require_repo(name)
                    raise errors.manifest_unknown(reference) from None
                return
            stored = self.get_manifest(name, reference)
            for tag in self.tags(name):
                path = self._tag_path(name, tag)
                with contextlib.suppress(FileNotFoundError):
                    if path.read_text().strip() == stored.digest:
                        path.unlink()
            try:
                parsed = manifests.parse(stored.body, stored.media_type)
            except errors.DistributionError:
                parsed = None
            if parsed is not None and parsed.subject is not None:
                entry = self._referrers_dir(name, str(parsed.subject["digest"])) / stored.digest.replace(":", "-")
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
            with contextlib.suppress(FileNotFoundError):
                self._manifest_link(name, stored.digest).unlink()

    # ----- referrers ---------------------------------------------------------------------------------------
    def referrers(self, name: str, subject: str, artifact_type: str | None = None) -> list[dict[str, Any]]:
        """Descriptors of the manifests whose ``subject`` is ``subject``, sorted by digest."""
        directory = self._referrers_dir(name, subject)
        self.require_repo(name)
        try:
            entries = sorted(e for e in os.listdir(directory) if not e.startswith("."))
        except FileNotFoundError:
            return []
        found: list[dict[str, Any]] = []
        for entry in entries:
            try:
                desc = json.loads((directory / entry).read_bytes())
            except (FileNotFoundError, ValueError):
                continue  # deleted meanwhile
            if artifact_type is None or desc.get("artifactType") == artifact_type:
                found.append(desc)
        return found


def _etags(header: str) -> set[str]:
    """The entity tags of an ``If-Match``/``If-None-Match`` value: ``*`` or digests (quotes and ``W/`` dropped)."""
    tags = set()
    for item in header.split(",")[:100]:
        tag = item.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tags.add(tag.strip('"'))
    tags.discard("")
    return tags
