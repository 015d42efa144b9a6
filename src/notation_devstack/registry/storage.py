"""Filesystem storage for the registry: content-addressed blobs, per-repository links, tags and referrers.

Layout under the root (repository names are spec-validated, so their components never start with ``_`` or
``.`` and cannot collide with our metadata directories or escape the root)::

    blobs/<alg>/<hex>                                     every blob and manifest, once, by digest
    repositories/<name>/_layers/<alg>/<hex>               blob linked into the repository (hard link or empty file)
    repositories/<name>/_manifests/revisions/<alg>/<hex>  manifest in the repository ({"mediaType": ...})
    repositories/<name>/_manifests/tags/<tag>             tag -> digest
    repositories/<name>/_referrers/<alg>/<hex>/<alg>-<hex> one referrer descriptor per file, by subject
    repositories/<name>/_lock                             flock serialising manifest writes and deletes
    uploads/<id>-<hash of the repository name>            upload session: what was sent so far
    tmp/                                                  temp files, renamed into place when complete

A process killed mid-write leaves its temp files behind (never under a digest name); :meth:`Storage.sweep` removes
them, and abandoned upload sessions, once they are old enough that no live writer can still own them.

Every stored write is a temp file, fsync and ``os.replace``, so readers never see half a file (upload sessions,
scratch state, and blob links, empty or hard links, need neither); one file per referrer means concurrent pushes
of referrers to one subject cannot lose each other's entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import os
import shutil
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
_READ = os.O_RDONLY | os.O_CLOEXEC
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
_FILE_MODE = 0o644
_BLOCK = 1 << 20

# The file I/O below is raw os.* calls, not open()/pathlib/tempfile: a buffered open() adds an fstat, an isatty
# ioctl and two lseeks to every file, mkstemp a getpid, and every syscall hands the GIL to another request thread
# (futex round trips); a signature push went from ~250 syscalls to ~100 (strace -f of the registry during sign).


def _hasher(algorithm: str) -> Any:
    return hashlib.new(algorithm)


def read_file(path: str | os.PathLike[str]) -> bytes:
    """A whole (small) file: open, read until EOF, close."""
    fd = os.open(path, _READ)
    try:
        parts = []
        while block := os.read(fd, _BLOCK):
            parts.append(block)
        return b"".join(parts)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


_temp_names = itertools.count()
_TEMP_PREFIX = uuid.uuid4().hex[:12]


def _temp_name() -> str:
    """Unique in this process (a counter) and, with O_EXCL and a per-process random prefix, across processes."""
    return f".tmp-{_TEMP_PREFIX}-{next(_temp_names)}"


def _create(directory: Path, name: str | None = None) -> tuple[int, Path]:
    """A new file in ``directory`` (made on first use), opened for writing: ``name`` or a fresh temp name."""
    while True:
        path = directory / (name or _temp_name())
        try:
            return os.open(path, _CREATE, _FILE_MODE), path
        except FileNotFoundError:
            directory.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            if name is not None:
                raise


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
    fd, tmp = _create(path.parent)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _touch(path: Path) -> None:
    """An empty marker file (a blob link): nothing in it can tear, so no temp file and no sync."""
    while True:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, _FILE_MODE))
            return
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)


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
            if session.is_symlink() or not old(session, upload_age):
                continue
            if session.is_dir():  # a session of the earlier layout, uploads/<id>/{data,repo}
                shutil.rmtree(session, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    session.unlink()
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

    def _upload_path(self, name: str, upload_id: str) -> Path:
        """One file per session, named by its id and its repository: a session asked for under another
        repository names a file that does not exist, so no other state is needed to refuse it."""
        if len(upload_id) != _UPLOAD_ID_LEN or not all(c in "0123456789abcdef" for c in upload_id):
            raise errors.blob_upload_unknown(upload_id[:64])
        owner = hashlib.sha256(grammar.check_name(name).encode()).hexdigest()[:32]
        return self.root / "uploads" / f"{upload_id}-{owner}"

    @contextlib.contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        """Serialise writers of one repository (threads and processes alike: flock per open file)."""
        lock = self._repo(name) / "_lock"
        while True:
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _FILE_MODE)
                break
            except FileNotFoundError:
                lock.parent.mkdir(parents=True, exist_ok=True)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # the only descriptor of this open file: closing it releases the lock

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
        fd, tmp = _create(self.root / "tmp")
        placed = False
        try:
            try:
                for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise errors.too_large("blob", limit)
                    hasher.update(chunk)
                    _write_all(fd, chunk)
                os.fsync(fd)
            finally:
                os.close(fd)
            actual = f"{algorithm}:{hasher.hexdigest()}"
            if actual != expected:
                raise errors.digest_invalid(f"provided digest did not match uploaded content (got {actual})",
                                            expected)
            self._place(tmp, expected)
            placed = True
        finally:
            if not placed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        return size

    def _place(self, tmp: Path, digest: str) -> None:
        dest = self._blob_path(digest)
        if os.path.exists(dest):  # same content: keep the stored file (repository links may share its inode)
            os.unlink(tmp)
            return
        try:
            os.replace(tmp, dest)
        except FileNotFoundError:
            if not os.path.exists(tmp):
                raise
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)

    def _link_blob(self, name: str, digest: str) -> None:
        """The blob's entry in the repository: a hard link to the stored blob, where the filesystem allows.

        Why a hard link: only its existence matters, and a link takes no new inode (an empty file does, and on
        ext4 a new inode costs a scan past the recently deleted ones); an empty file where links fail."""
        link = self._layer_link(name, digest)
        for _ in range(2):
            try:
                os.link(self._blob_path(digest), link)
                return
            except FileExistsError:
                return
            except FileNotFoundError:
                if not os.path.exists(self._blob_path(digest)):
                    break
                link.parent.mkdir(parents=True, exist_ok=True)
            except OSError:  # EMLINK, EPERM, ENOTSUP: no (more) hard links here
                break
        _touch(link)

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
            return info, open(info.path, "rb", buffering=0)  # unbuffered: no isatty ioctl, no lseek; reads are 1 MiB
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
        """A new session: an empty file under ``uploads/``, and nothing else.

        Why one file and no sync: on ext4 each new inode costs a scan past the recently deleted ones, and a
        session directory with a second file, both removed at the end, made pushes slow each other down; a
        session is scratch state (the client learns its id only from this answer and starts over after a crash),
        and what is acknowledged as stored is synced in :meth:`finish_upload`.
        """
        upload_id = uuid.uuid4().hex
        os.close(_create(self.root / "uploads", self._upload_path(name, upload_id).name)[0])
        return upload_id

    def upload_offset(self, name: str, upload_id: str) -> int:
        try:
            return os.stat(self._upload_path(name, upload_id)).st_size
        except FileNotFoundError:
            raise errors.blob_upload_unknown(upload_id) from None

    def _open_data(self, name: str, upload_id: str) -> int:
        """The session's file, opened for update and locked (one writer per session at a time)."""
        try:
            fd = os.open(self._upload_path(name, upload_id), os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            raise errors.blob_upload_unknown(upload_id) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _append(self, fd: int, chunks: Iterable[bytes], start: int | None, hasher: Any = None) -> int:
        """Append ``chunks`` at the end of the locked data file ``fd``; ``start`` (from Content-Range) must equal
        the current offset. A failed chunk leaves the upload where it was, as the client last saw it."""
        offset = os.lseek(fd, 0, os.SEEK_END)
        if start is not None and start != offset:
            raise errors.DistributionError(416, "BLOB_UPLOAD_INVALID",
                                           f"chunk starts at {start}, upload is at {offset}", {"offset": offset})
        begin = offset
        try:
            for chunk in chunks:
                offset += len(chunk)
                if offset > self.max_blob_size:
                    raise errors.too_large("blob", self.max_blob_size)
                if hasher is not None:
                    hasher.update(chunk)
                _write_all(fd, chunk)
            if offset != begin:
                os.fsync(fd)
        except BaseException:
            os.ftruncate(fd, begin)
            raise
        return offset

    def upload_append(self, name: str, upload_id: str, chunks: Iterable[bytes], start: int | None = None) -> int:
        """Append a chunk; ``start`` (from Content-Range) must equal the current offset. Returns the new size."""
        fd = self._open_data(name, upload_id)
        try:
            return self._append(fd, chunks, start)
        finally:
            os.close(fd)

    def finish_upload(self, name: str, upload_id: str, digest: str, chunks: Iterable[bytes]) -> int:
        """Append the last chunk, verify the whole upload against ``digest``, store and link it."""
        algorithm, _ = grammar.check_digest(digest)
        hasher = _hasher(algorithm)
        fd = self._open_data(name, upload_id)
        try:
            done = 0  # what earlier PATCHes sent: hashed from the file, then the last chunk as it is written
            while block := os.pread(fd, _BLOCK, done):
                hasher.update(block)
                done += len(block)
            size = self._append(fd, chunks, None, hasher)
            actual = f"{algorithm}:{hasher.hexdigest()}"
            if actual != digest:
                # The session stays, as the spec allows the client to retry; a wrong digest never lands.
                raise errors.digest_invalid(f"provided digest did not match uploaded content (got {actual})",
                                            digest)
            self._place(self._upload_path(name, upload_id), digest)  # the session ends: its file is the blob
        finally:
            os.close(fd)
        self._link_blob(name, digest)
        return size

    def cancel_upload(self, name: str, upload_id: str) -> None:
        try:
            os.unlink(self._upload_path(name, upload_id))
        except FileNotFoundError:
            raise errors.blob_upload_unknown(upload_id) from None

    # ----- manifests ---------------------------------------------------------------------------------------
    def resolve(self, name: str, reference: str) -> str:
        """Tag or digest -> digest of a manifest present in the repository."""
        if grammar.is_digest(reference):
            grammar.check_digest(reference)
            digest = reference
        else:
            digest = self._tag_target(name, reference)
        if not self._manifest_link(name, digest).exists():
            self.require_repo(name)
            raise errors.manifest_unknown(reference)
        return digest

    def _tag_target(self, name: str, tag: str) -> str:
        try:
            return read_file(self._tag_path(name, tag)).decode().strip()
        except (FileNotFoundError, UnicodeDecodeError):
            self.require_repo(name)
            raise errors.manifest_unknown(tag) from None

    def get_manifest(self, name: str, reference: str) -> StoredManifest:
        if grammar.is_digest(reference):
            grammar.check_digest(reference)
            digest = reference
        else:
            digest = self._tag_target(name, reference)
        try:
            meta = json.loads(read_file(self._manifest_link(name, digest)))  # the link says it is in this repo
        except FileNotFoundError:
            self.require_repo(name)
            raise errors.manifest_unknown(reference) from None
        except ValueError:
            raise errors.manifest_unknown(reference) from None
        try:
            body = read_file(self._blob_path(digest))
        except FileNotFoundError:
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
            digest = read_file(self._tag_path(name, reference)).decode().strip()
        except (FileNotFoundError, UnicodeDecodeError):
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
                    if read_file(path).decode(errors="replace").strip() == stored.digest:
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
                desc = json.loads(read_file(directory / entry))
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
