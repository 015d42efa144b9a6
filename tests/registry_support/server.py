"""A small in-memory OCI distribution registry for client tests, with switches for honest and malicious behaviour.

Not the devstack registry (that one is a product); this one exists to be bent: referrers API on/off, Basic or
Bearer auth with its own token endpoint, and a ``hook`` that can answer any request in its own (wrong) way.
Every request is recorded (method, path, Authorization scheme) so tests can count traffic.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

INDEX = "application/vnd.oci.image.index.v1+json"
NOTARY = "application/vnd.cncf.notary.signature"

_ROUTE = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs|referrers|blobs/uploads)/(?P<ref>[^/]*)$")


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Recorded:
    method: str
    path: str
    auth: str
    """Authorization scheme sent (``basic``, ``bearer`` or ``""``)."""


Hook = Callable[["Handler", str, str, str, str], bool]
"""(handler, method, repository, kind, ref) -> True when the hook answered the request itself."""


@dataclass
class State:
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    tags: dict[tuple[str, str], str] = field(default_factory=dict)
    uploads: dict[str, bytearray] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    referrers_api: bool = True
    page_size: int = 0
    """Referrers per page (0: all on one page)."""
    auth: str = "none"
    """none | basic | bearer"""
    users: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    """identity token -> user, for the OAuth2 refresh_token grant."""
    tokens: dict[str, set[str]] = field(default_factory=dict)
    """issued bearer token -> granted scopes"""
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    anonymous_pull: bool = False
    hook: Hook | None = None
    fail_delete: bool = False
    head_supported: bool = True


class Handler(BaseHTTPRequestHandler):
    server: RegistryServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's delayed ACK (~40 ms a
    # response on Linux), which turns a 200-request test into an 8 s one. Real registries (Go) set TCP_NODELAY too.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- helpers --------------------------------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self.server.state

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        hdrs = {"Content-Length": str(len(body)), **(headers or {})}
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def error(self, status: int, code: str, message: str = "") -> None:
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        self.send(status, body, {"Content-Type": "application/json"})

    # -- auth -----------------------------------------------------------------------------------------------------
    def _check_auth(self, name: str, action: str) -> bool:
        st = self.state
        header = self.headers.get("Authorization", "")
        if st.auth == "none":
            return True
        if st.auth == "basic":
            if header.startswith("Basic "):
                user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
                if st.users.get(user) == pw:
                    return True
            self.send(401, b"", {"WWW-Authenticate": 'Basic realm="test"'})
            return False
        if header.startswith("Bearer "):
            granted = st.tokens.get(header[7:], set())
            if not name and granted is not None and header[7:] in st.tokens:
                return True
            if f"repository:{name}:{action}" in granted:
                return True
        scope = f' ,scope="repository:{name}:{action}"'.replace(" ,", ",") if name else ""
        realm = f"{self.server.base_url}/token"
        self.send(401, b"", {"WWW-Authenticate": f'Bearer realm="{realm}",service="test-registry"{scope}'})
        return False

    def _token(self) -> None:
        st = self.state
        parsed = urlsplit(self.path)
        if self.command == "POST":
            form = {k: v[0] for k, v in parse_qs(self.body().decode()).items()}
            st.token_requests.append({"method": "POST", **form})
            user = st.refresh_tokens.get(form.get("refresh_token", ""))
            if form.get("grant_type") != "refresh_token" or user is None:
                self.send(401, b'{"error":"invalid_grant"}', {"Content-Type": "application/json"})
                return
            scopes = form.get("scope", "").split(" ")
            member = "access_token"
        else:
            query = parse_qs(parsed.query)
            header = self.headers.get("Authorization", "")
            st.token_requests.append({"method": "GET", "query": query, "basic": header.startswith("Basic ")})
            user = None
            if header.startswith("Basic "):
                u, _, pw = base64.b64decode(header[6:]).decode().partition(":")
                if st.users.get(u) != pw:
                    self.send(401, b'{"details":"bad creds"}', {"Content-Type": "application/json"})
                    return
                user = u
            scopes = query.get("scope", [])
            member = "token"
        granted: set[str] = set()
        for scope in scopes:
            for one in scope.split(" "):
                resource, _, actions = one.rpartition(":")
                if not resource:
                    continue
                if user is None and any(a != "pull" for a in actions.split(",")):
                    continue  # anonymous: pull only
                if user is None and not st.anonymous_pull:
                    continue
                for action in actions.split(","):
                    granted.add(f"{resource}:{action}")
        token = secrets.token_hex(16)
        st.tokens[token] = granted
        self.send(200, json.dumps({member: token}).encode(), {"Content-Type": "application/json"})

    # -- dispatch -------------------------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        st = self.state
        parsed = urlsplit(self.path)
        auth = self.headers.get("Authorization", "").split(" ", 1)[0].lower()
        with st.lock:
            st.requests.append(Recorded(self.command, self.path, auth))
        if parsed.path == "/token":
            self._token()
            return
        if parsed.path == "/v2/":
            if self._check_auth("", "pull"):
                self.send(200, b"{}", {"Content-Type": "application/json"})
            return
        match = _ROUTE.match(parsed.path)
        if match is None:
            self.error(404, "NOT_FOUND", "no route")
            return
        name, kind, ref = match["name"], match["kind"], match["ref"]
        action = {"GET": "pull", "HEAD": "pull", "DELETE": "delete"}.get(self.command, "push")
        if not self._check_auth(name, action):
            return
        if st.hook is not None and st.hook(self, self.command, name, kind, ref):
            return
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        getattr(self, f"_{kind.replace('/', '_')}")(name, ref, query)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _dispatch

    # -- content --------------------------------------------------------------------------------------------------
    def _manifests(self, name: str, ref: str, query: dict[str, str]) -> None:
        st = self.state
        if self.command in ("GET", "HEAD"):
            if self.command == "HEAD" and not st.head_supported:
                self.send(405)
                return
            digest = ref if ":" in ref else st.tags.get((name, ref))
            if digest is None or digest not in st.manifests:
                self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
                return
            media_type, data = st.manifests[digest]
            self.send(200, data, {"Content-Type": media_type, "Docker-Content-Digest": digest})
        elif self.command == "PUT":
            data = self.body()
            digest = digest_of(data)
            if ":" in ref and ref != digest:
                self.error(400, "DIGEST_INVALID", "digest mismatch")
                return
            media_type = self.headers.get("Content-Type", "")
            headers = {"Docker-Content-Digest": digest, "Location": f"/v2/{name}/manifests/{digest}"}
            with st.lock:
                if ":" not in ref:
                    if_match = self.headers.get("If-Match")
                    current = st.tags.get((name, ref))
                    if self.server.honour_if_match and if_match and current and if_match.strip('"') != current:
                        self.error(412, "PRECONDITION_FAILED", "tag moved")
                        return
                    st.tags[(name, ref)] = digest
                st.manifests[digest] = (media_type, data)
            doc = json.loads(data)
            if st.referrers_api and isinstance(doc.get("subject"), dict):
                headers["OCI-Subject"] = doc["subject"]["digest"]
            self.send(201, b"", headers)
        elif self.command == "DELETE":
            if st.fail_delete:
                self.error(405, "UNSUPPORTED", "deletes disabled")
                return
            with st.lock:
                if ref not in st.manifests:
                    self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
                    return
                del st.manifests[ref]
                for key in [k for k, v in st.tags.items() if v == ref]:
                    del st.tags[key]
            self.send(202)
        else:
            self.error(405, "UNSUPPORTED", "")

    def _blobs(self, name: str, ref: str, query: dict[str, str]) -> None:
        st = self.state
        if self.command not in ("GET", "HEAD"):
            self.error(405, "UNSUPPORTED", "")
            return
        data = st.blobs.get(ref)
        if data is None:
            self.error(404, "BLOB_UNKNOWN", "blob unknown")
            return
        self.send(200, data, {"Content-Type": "application/octet-stream", "Docker-Content-Digest": ref})

    def _blobs_uploads(self, name: str, ref: str, query: dict[str, str]) -> None:
        st = self.state
        if self.command == "POST":
            mount, source = query.get("mount"), query.get("from")
            if mount and source and mount in st.blobs:
                self.send(201, b"", {"Location": f"/v2/{name}/blobs/{mount}", "Docker-Content-Digest": mount})
                return
            upload = secrets.token_hex(8)
            st.uploads[upload] = bytearray()
            self.send(202, b"", {"Location": f"/v2/{name}/blobs/uploads/{upload}?state=x", "Range": "0-0"})
            return
        buf = st.uploads.get(ref)
        if buf is None:
            self.error(404, "BLOB_UPLOAD_UNKNOWN", "")
            return
        if self.command == "PATCH":
            buf.extend(self.body())
            self.send(202, b"", {"Location": f"/v2/{name}/blobs/uploads/{ref}", "Range": f"0-{len(buf) - 1}"})
        elif self.command == "PUT":
            buf.extend(self.body())
            digest = query.get("digest", "")
            if digest_of(bytes(buf)) != digest:
                self.error(400, "DIGEST_INVALID", "digest mismatch")
                return
            st.blobs[digest] = bytes(buf)
            del st.uploads[ref]
            self.send(201, b"", {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})
        else:
            self.error(405, "UNSUPPORTED", "")

    def _referrers(self, name: str, ref: str, query: dict[str, str]) -> None:
        st = self.state
        if not st.referrers_api:
            self.send(404, b"404 page not found\n", {"Content-Type": "text/plain"})
            return
        if not any(n == name for n, _ in st.tags) and not st.manifests:
            self.error(404, "NAME_UNKNOWN", "repository name not known to registry")
            return
        entries = []
        for digest, (media_type, data) in list(st.manifests.items()):
            try:
                doc = json.loads(data)
            except ValueError:
                continue
            subject = doc.get("subject") if isinstance(doc, dict) else None
            if not isinstance(subject, dict) or subject.get("digest") != ref:
                continue
            artifact_type = doc.get("artifactType") or (doc.get("config") or {}).get("mediaType")
            entry: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": len(data)}
            if doc.get("annotations"):
                entry["annotations"] = doc["annotations"]
            entry["artifactType"] = artifact_type
            entries.append(entry)
        self.send_index(entries, query, f"/v2/{name}/referrers/{ref}")

    def send_index(self, entries: list[dict[str, Any]], query: dict[str, str], path: str) -> None:
        st = self.state
        wanted = query.get("artifactType")
        headers = {"Content-Type": INDEX}
        if wanted:
            entries = [e for e in entries if e.get("artifactType") == wanted]
            headers["OCI-Filters-Applied"] = "artifactType"
        start = int(query.get("last", 0) or 0)
        if st.page_size:
            page = entries[start : start + st.page_size]
            if start + st.page_size < len(entries):
                nxt = f"{path}?last={start + st.page_size}" + (f"&artifactType={wanted}" if wanted else "")
                headers["Link"] = f'<{nxt}>; rel="next"'
        else:
            page = entries
        body = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": page}).encode()
        self.send(200, body, headers)

    # -- misbehaviour helpers for hooks ---------------------------------------------------------------------------
    def drip(self, headers: dict[str, str], interval: float = 0.05, total: int | None = None) -> None:
        """Send headers, then one byte every ``interval`` seconds (forever when ``total`` is None)."""
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        sent = 0
        try:
            while total is None or sent < total:
                self.wfile.write(b"x")
                self.wfile.flush()
                sent += 1
                time.sleep(interval)
        except OSError:
            pass
        self.close_connection = True

    def endless(self, headers: dict[str, str]) -> None:
        """Send headers (no Content-Length: close-delimited) and then bytes as fast as possible, forever."""
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"y" * 65536
        try:
            while True:
                self.wfile.write(chunk)
        except OSError:
            pass
        self.close_connection = True


class RegistryServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: State, ssl_context: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), Handler)
        self.state = state
        self.honour_if_match = False
        self.scheme = "https" if ssl_context else "http"
        if ssl_context is not None:
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``: the registry name clients use."""
        return f"127.0.0.1:{self.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.address}"

    def start(self) -> RegistryServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    # -- seeding --------------------------------------------------------------------------------------------------
    def put_blob(self, data: bytes) -> str:
        digest = digest_of(data)
        self.state.blobs[digest] = data
        return digest

    def put_manifest(self, name: str, data: bytes, media_type: str, tag: str | None = None) -> str:
        digest = digest_of(data)
        self.state.manifests[digest] = (media_type, data)
        if tag:
            self.state.tags[(name, tag)] = digest
        return digest
