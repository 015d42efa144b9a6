"""HTTP front of the registry: routing, request bodies, auth checks and responses for the distribution API.

All state lives in :class:`Storage`; this module only turns HTTP into storage calls and
:class:`DistributionError` into spec error bodies. Bodies are streamed with a hard limit, and a request whose
body was not read to the end closes its connection so the next request on it can never be misparsed.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import sys
import time
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from notation_devstack.registry import errors, grammar
from notation_devstack.registry.auth import ACR_USER, Scope, parse_basic

if TYPE_CHECKING:
    from notation_devstack.registry.server import _HTTPServer

API_VERSION = "registry/2.0"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_CHUNK = 64 * 1024
_DRAIN_LIMIT = 256 * 1024  # an unread request body up to this size is read and dropped: the connection stays usable
_DRAIN_TIMEOUT = 5.0
_LINGER_IDLE = 1.0  # lingering close: stop once the client has been silent this long ...
_LINGER_TOTAL = 10.0  # ... or after this long in all ...
_LINGER_BYTES = 256 * 1024 * 1024  # ... or after discarding this much
_CONTENT_RANGE = re.compile(r"(?:bytes[ =])?(\d+)-(\d+)(?:/(?:\d+|\*))?")
_BYTE_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
_HOST_RE = re.compile(r"[A-Za-z0-9.\-]+(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?")

_ROUTES = (
    ("ping", re.compile(r"/v2/?")),
    ("catalog", re.compile(r"/v2/_catalog")),
    ("token", re.compile(r"/token|/oauth2/token")),
    ("exchange", re.compile(r"/oauth2/exchange")),
    ("upload", re.compile(r"/v2/(?P<name>.+)/blobs/uploads(?:/(?P<id>[^/]*))?")),
    ("blob", re.compile(r"/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)")),
    ("manifest", re.compile(r"/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)")),
    ("tags", re.compile(r"/v2/(?P<name>.+)/tags/list")),
    ("referrers", re.compile(r"/v2/(?P<name>.+)/referrers/(?P<digest>[^/]+)")),
)
_METHODS = {
    "ping": {"GET", "HEAD"},
    "catalog": {"GET"},
    "token": {"GET", "POST"},
    "exchange": {"POST"},
    "upload": {"POST", "PATCH", "PUT", "GET", "DELETE"},
    "blob": {"GET", "HEAD", "DELETE"},
    "manifest": {"GET", "HEAD", "PUT", "DELETE"},
    "tags": {"GET"},
    "referrers": {"GET"},
}


class _NotFound(Exception):
    """No such endpoint: answered like Docker's registry does, with a plain-text 404."""


def _paginate(items: list[str], query: dict[str, list[str]]) -> tuple[list[str], int | None]:
    """Apply ``last`` and ``n``; return the page and the ``n`` to put in a next link (None: no more)."""
    last = query.get("last", [None])[0]
    if last:
        items = [i for i in items if i > last]
    n_text = query.get("n", [None])[0]
    if n_text is None:
        return items, None
    if not n_text.isdigit():
        raise errors.DistributionError(400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested")
    n = int(n_text)
    if len(items) > n:
        return items[:n], n
    return items, None


class RegistryHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "notation-devstack-registry"
    server: _HTTPServer

    def setup(self) -> None:
        self.connection = self.request
        self.connection.settimeout(self.server.request_timeout)  # slow or stalled clients are cut off
        super().setup()

    # ----- plumbing ----------------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:
        if self.server.debug:
            sys.stderr.write(f"registry: {self.address_string()} {format % args}\n")

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if getattr(self, "_linger", False):
                self._lingering_close()

    def _discard_body(self) -> None:
        """Before answering a request whose body we never read (a 401, a 404, a refused push): drop the body.

        Clients such as ``requests`` send the whole body before they read the answer. Closing a socket with unread
        data in its receive buffer makes the kernel send a RST, and the RST can destroy our answer in flight (the
        client then fails with ``IncompleteRead`` or a reset instead of seeing the 401). A small body is read and
        dropped, so the connection stays usable; a larger or partly read one is left to a lingering close.
        """
        if not self._body_started:
            self.connection.settimeout(min(self.server.request_timeout, _DRAIN_TIMEOUT))
            try:
                for _ in self._body(_DRAIN_LIMIT):
                    pass
            except (errors.DistributionError, ConnectionError, TimeoutError, OSError):
                pass
            finally:
                self.connection.settimeout(self.server.request_timeout)
        if not self._body_done:
            self.close_connection = True
            self._linger = True

    def _lingering_close(self) -> None:
        """Half-close and read (and drop) what the client still sends, so our answer reaches it before any RST.

        Bounded in time and bytes, as Apache and Go's net/http do; for TLS the rest of the stream is dropped as
        raw records (``shutdown`` detaches the TLS layer), which is fine as nothing more will be answered.
        """
        sock = self.connection
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return
        deadline = time.monotonic() + _LINGER_TOTAL
        dropped = 0
        while dropped < _LINGER_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                sock.settimeout(min(left, _LINGER_IDLE))
                data = sock.recv(_CHUNK)
            except OSError:  # includes timeouts and resets
                break
            if not data:
                break
            dropped += len(data)

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str | None = "application/json", length: int | None = None) -> None:
        if not self._body_done:
            self._discard_body()
        self.send_response(status)
        self.send_header("Docker-Distribution-API-Version", API_VERSION)
        if content_type and (body or length):
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _send_error(self, exc: errors.DistributionError) -> None:
        self._send(exc.status, exc.body() if self.command != "HEAD" else b"", exc.headers,
                   length=None if self.command != "HEAD" else len(exc.body()))

    def _base_url(self) -> str:
        host = self.headers.get("Host", "")
        if not _HOST_RE.fullmatch(host):
            return self.server.base_url
        return f"{self.server.scheme}://{host}"

    def _body(self, limit: int) -> Iterator[bytes]:
        """The request body in chunks (Content-Length or chunked transfer coding), never more than ``limit``."""
        self._body_started = True
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            yield from self._chunked(limit)
        else:
            length_text = self.headers.get("Content-Length", "0").strip() or "0"
            if not length_text.isdigit():
                raise errors.DistributionError(400, "SIZE_INVALID", "invalid Content-Length")
            remaining = int(length_text)
            if remaining > limit:
                raise errors.too_large("request body", limit)
            while remaining:
                data = self.rfile.read(min(remaining, _CHUNK))
                if not data:
                    raise ConnectionError("client closed the connection mid-body")
                remaining -= len(data)
                yield data
        self._body_done = True

    def _chunked(self, limit: int) -> Iterator[bytes]:
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise errors.DistributionError(400, "BLOB_UPLOAD_INVALID", "malformed chunked body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise errors.DistributionError(400, "BLOB_UPLOAD_INVALID", "malformed chunked body") from None
            if size == 0:
                for _ in range(100):  # trailers, bounded
                    if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                        return
                raise errors.DistributionError(400, "BLOB_UPLOAD_INVALID", "too many trailers")
            total += size
            if total > limit:
                raise errors.too_large("request body", limit)
            remaining = size
            while remaining:
                data = self.rfile.read(min(remaining, _CHUNK))
                if not data:
                    raise ConnectionError("client closed the connection mid-body")
                remaining -= len(data)
                yield data
            self.rfile.readline(8)

    def _read_all(self, limit: int) -> bytes:
        return b"".join(self._body(limit))

    # ----- dispatch ----------------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        self._body_started = False
        self._linger = False
        self._body_done = not (self.headers.get("Content-Length", "0").strip() not in ("", "0")
                               or self.headers.get("Transfer-Encoding"))
        try:
            self._route()
        except errors.DistributionError as exc:
            self._send_error(exc)
        except _NotFound:
            self._send(404, b"404 page not found\n", content_type="text/plain; charset=utf-8")
        except (ConnectionError, TimeoutError, ssl.SSLError) as exc:  # the client went away: nobody to answer
            self.close_connection = True
            self.log_message("connection error: %s", exc)
        except Exception:  # a bug must still answer a clean 500, never leak a traceback to the client
            if self.server.debug:
                traceback.print_exc()
            self._send_error(errors.DistributionError(500, "UNKNOWN", "internal server error"))

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _dispatch

    def _route(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        for kind, pattern in _ROUTES:  # noqa: B007 - kind is used after the loop
            match = pattern.fullmatch(url.path)
            if match:
                break
        else:
            raise _NotFound
        if kind == "referrers" and not self.server.referrers_enabled:
            raise _NotFound
        if self.command not in _METHODS[kind]:
            raise errors.unsupported(f"method {self.command} not allowed")
        params = {k: v for k, v in match.groupdict().items() if v is not None}
        if kind == "token":
            self._token(query)
            return
        if kind == "exchange":
            self._exchange()
            return
        name = grammar.check_name(params["name"]) if "name" in params else None
        scope = None
        if name is not None:
            action = {"GET": ("pull",), "HEAD": ("pull",), "DELETE": ("delete",)}.get(self.command, ("pull", "push"))
            scope = Scope("repository", name, action)
        elif kind == "catalog":
            scope = Scope("registry", "catalog", ("*",))
        self.server.authorizer.authorize(self.headers.get("Authorization"), scope, self._base_url())
        getattr(self, f"_{kind}")(name, params, query)

    # ----- endpoints ---------------------------------------------------------------------------------------
    def _token(self, query: dict[str, list[str]]) -> None:
        creds = parse_basic(self.headers.get("Authorization"))
        scopes = query.get("scope", [])
        service = query.get("service", [None])[0]
        if self.command == "POST":  # OAuth2 password grant (oras-go with ForceAttemptOAuth2)
            form = parse_qs(self._read_all(64 * 1024).decode("utf-8", "replace"), keep_blank_values=True)
            grant = form.get("grant_type", [""])[0]
            if grant == "refresh_token" and self.server.authorizer.acr is not None:  # ACR: docker, az acr
                creds = (ACR_USER, form.get("refresh_token", [""])[0])
            elif grant != "password":
                raise errors.DistributionError(400, "UNSUPPORTED", "only the password grant is supported")
            else:
                creds = (form.get("username", [""])[0], form.get("password", [""])[0])
            scopes = form.get("scope", [])
            service = form.get("service", [None])[0]
        user, password = creds if creds else (None, None)
        answer = self.server.authorizer.issue_token(user, password, service, scopes)
        self._send(200, json.dumps(answer).encode())

    def _exchange(self) -> None:
        acr = self.server.authorizer.acr
        if acr is None:
            raise _NotFound
        form = parse_qs(self._read_all(64 * 1024).decode("utf-8", "replace"), keep_blank_values=True)
        tokens = self.server.authorizer.tokens
        assert tokens is not None  # the ACR exchange implies token mode
        answer = acr.exchange({k: v[0] for k, v in form.items() if v}, tokens.service)
        self._send(200, json.dumps(answer).encode())

    def _ping(self, _name: str | None, _p: dict[str, str], _q: dict[str, list[str]]) -> None:
        self._send(200, b"{}")

    def _catalog(self, _name: str | None, _p: dict[str, str], query: dict[str, list[str]]) -> None:
        repos, n = _paginate(self.server.storage.catalog(), query)
        headers = {}
        if n is not None and repos:
            headers["Link"] = f'</v2/_catalog?{urlencode({"n": n, "last": repos[-1]})}>; rel="next"'
        self._send(200, json.dumps({"repositories": repos}).encode(), headers)

    def _tags(self, name: str, _p: dict[str, str], query: dict[str, list[str]]) -> None:
        tags, n = _paginate(self.server.storage.tags(name), query)
        headers = {}
        if n is not None and tags:
            headers["Link"] = f'</v2/{name}/tags/list?{urlencode({"n": n, "last": tags[-1]})}>; rel="next"'
        self._send(200, json.dumps({"name": name, "tags": tags}).encode(), headers)

    def _manifest(self, name: str, params: dict[str, str], query: dict[str, list[str]]) -> None:
        storage, ref = self.server.storage, params["ref"]
        if not grammar.is_digest(ref):
            grammar.check_tag(ref)
        if self.command in ("GET", "HEAD"):
            stored = storage.get_manifest(name, ref)
            self._send(200, stored.body, {"Docker-Content-Digest": stored.digest, "ETag": f'"{stored.digest}"'},
                       content_type=stored.media_type)
        elif self.command == "PUT":
            extra = query.get("tag", []) if grammar.is_digest(ref) else []
            body = self._read_all(storage.max_manifest_size)
            digest, subject = storage.put_manifest(name, ref, body, self.headers.get("Content-Type"), extra,
                                                   index_referrers=self.server.referrers_enabled,
                                                   if_match=self.headers.get("If-Match"),
                                                   if_none_match=self.headers.get("If-None-Match"))
            headers = {"Location": f"/v2/{name}/manifests/{digest}", "Docker-Content-Digest": digest,
                       "ETag": f'"{digest}"'}
            if subject is not None:
                headers["OCI-Subject"] = subject
            self._send(201, b"", headers)
        else:
            storage.delete_manifest(name, ref)
            self._send(202)

    def _blob(self, name: str, params: dict[str, str], _q: dict[str, list[str]]) -> None:
        storage, digest = self.server.storage, params["digest"]
        grammar.check_digest(digest)
        if self.command == "DELETE":
            storage.delete_blob(name, digest)
            self._send(202)
            return
        if self.command == "HEAD":  # the size is all a HEAD needs: no file to open
            info = storage.stat_blob(name, digest)
            self._send(200, b"", {"Docker-Content-Digest": digest, "Accept-Ranges": "bytes"},
                       content_type="application/octet-stream", length=info.size)
            return
        info, fh = storage.open_blob(name, digest)
        with fh:
            start, end = 0, info.size - 1
            headers = {"Docker-Content-Digest": digest, "Accept-Ranges": "bytes"}
            status = 200
            wanted = _BYTE_RANGE.fullmatch(self.headers.get("Range", "").strip())
            if wanted:  # resumed pulls (containers/image) ask for the rest of a blob
                first = int(wanted.group(1))
                last = min(int(wanted.group(2)), end) if wanted.group(2) else end
                if first > last:
                    raise errors.DistributionError(416, "BLOB_UNKNOWN", "requested range not satisfiable",
                                                   headers={"Content-Range": f"bytes */{info.size}"})
                start, end, status = first, last, 206
                headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
            self._send(status, b"", headers, content_type="application/octet-stream", length=end - start + 1)
            fh.seek(start)
            remaining = end - start + 1
            while remaining > 0 and (block := fh.read(min(remaining, 1 << 20))):
                self.wfile.write(block)
                remaining -= len(block)

    def _upload_headers(self, name: str, upload_id: str, offset: int) -> dict[str, str]:
        return {
            "Location": f"/v2/{name}/blobs/uploads/{upload_id}",
            "Range": f"0-{max(offset - 1, 0)}",
            "Docker-Upload-UUID": upload_id,
        }

    def _content_range(self) -> int | None:
        text = self.headers.get("Content-Range")
        if text is None:
            return None
        match = _CONTENT_RANGE.fullmatch(text.strip())
        if not match or int(match.group(2)) < int(match.group(1)):
            raise errors.DistributionError(416, "BLOB_UPLOAD_INVALID", "invalid Content-Range")
        start, end = int(match.group(1)), int(match.group(2))
        length = self.headers.get("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) != end - start + 1:
            raise errors.DistributionError(416, "BLOB_UPLOAD_INVALID", "Content-Range does not match Content-Length")
        return start

    def _upload(self, name: str, params: dict[str, str], query: dict[str, list[str]]) -> None:
        storage = self.server.storage
        upload_id = params.get("id", "")
        digest = query.get("digest", [None])[0]
        if self.command == "POST":
            if upload_id:
                raise errors.unsupported("POST is only allowed on /blobs/uploads/")
            mount, source = query.get("mount", [None])[0], query.get("from", [None])[0]
            if mount and source:
                grammar.check_digest(mount)
                grammar.check_name(source)
                pull = Scope("repository", source, ("pull",))
                if self.server.authorizer.can(self.headers.get("Authorization"), pull) and \
                        storage.mount_blob(name, source, mount):
                    self._send(201, b"", {"Location": f"/v2/{name}/blobs/{mount}", "Docker-Content-Digest": mount})
                    return
            if digest:
                storage.put_blob(name, digest, self._body(storage.max_blob_size))
                self._send(201, b"", {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})
                return
            new_id = storage.start_upload(name)
            self._send(202, b"", self._upload_headers(name, new_id, 0))
            return
        if not upload_id:
            raise errors.blob_upload_unknown("")
        if self.command == "GET":
            self._send(204, b"", self._upload_headers(name, upload_id, storage.upload_offset(name, upload_id)))
        elif self.command == "DELETE":
            storage.cancel_upload(name, upload_id)
            self._send(204)
        elif self.command == "PATCH":
            start = self._content_range()
            offset = storage.upload_append(name, upload_id, self._body(storage.max_blob_size), start)
            self._send(202, b"", self._upload_headers(name, upload_id, offset))
        else:  # PUT: close the upload, optionally with a last chunk
            if not digest:
                raise errors.digest_invalid("digest query parameter is required to complete an upload")
            grammar.check_digest(digest)
            start = self._content_range()
            if start is not None and start != storage.upload_offset(name, upload_id):
                raise errors.DistributionError(416, "BLOB_UPLOAD_INVALID", "chunk does not start at the upload offset")
            storage.finish_upload(name, upload_id, digest, self._body(storage.max_blob_size))
            self._send(201, b"", {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})

    def _referrers(self, name: str, params: dict[str, str], query: dict[str, list[str]]) -> None:
        subject = params["digest"]
        grammar.check_digest(subject)
        artifact_type = query.get("artifactType", [None])[0] or None
        found = self.server.storage.referrers(name, subject, artifact_type)
        headers = {}
        if artifact_type is not None:
            headers["OCI-Filters-Applied"] = "artifactType"
        page = self.server.referrers_page_size
        n_text = query.get("n", [None])[0]
        if n_text is not None and n_text.isdigit() and int(n_text) > 0:
            page = min(page, int(n_text)) if page else int(n_text)
        last = query.get("last", [None])[0]
        if last:
            found = [d for d in found if str(d.get("digest")) > last]
        if page and len(found) > page:
            found = found[:page]
            nxt: dict[str, str | int] = {"n": page, "last": str(found[-1]["digest"])}
            if artifact_type is not None:
                nxt["artifactType"] = artifact_type
            headers["Link"] = f'</v2/{name}/referrers/{subject}?{urlencode(nxt)}>; rel="next"'
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": found}
        self._send(200, json.dumps(index).encode(), headers, content_type=OCI_INDEX)
