"""A CONNECT proxy that only reaches loopback: ``localhost``, ``*.localhost`` (RFC 6761) and loopback addresses.

``az keyvault ... --vault-name V`` builds ``https://V<keyvault DNS suffix>``. The devstack cloud's suffix is
``.localhost:<vault port>``, and the Key Vault emulator picks the vault from the ``Host`` (KVE-02). Python resolves
``*.localhost`` through the system resolver, which here knows only ``localhost`` itself, so clients that honour
``HTTPS_PROXY`` (requests, hence az, MSAL and the Azure SDK) tunnel through this proxy, which maps every such name
to 127.0.0.1. Anything else is refused with 403 at once: the proxy never opens a connection off loopback.
"""

from __future__ import annotations

import contextlib
import ipaddress
import select
import socket
import socketserver

from notation_devstack.serving import BackgroundServer

MAX_HEADER = 16 * 1024
IDLE_TIMEOUT = 120.0


def loopback_target(authority: str, port_443: dict[str, int] | None = None) -> tuple[str, int] | None:
    """``name.localhost:8443`` -> (``127.0.0.1``, 8443); None for anything that is not loopback.

    ``port_443`` maps a domain (and its subdomains) to the loopback port that stands in for its port 443: MSAL
    builds some authority URLs from the host name alone (``https://<host>/common/userrealm/...``).
    """
    host, sep, port_text = authority.rpartition(":")
    if not sep or not port_text.isdigit():
        return None
    port = int(port_text)
    if not 0 < port < 65536:
        return None
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        if port == 443:
            for domain, mapped in (port_443 or {}).items():
                if host == domain or host.endswith("." + domain):
                    return "127.0.0.1", mapped
        return "127.0.0.1", port
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return (str(address), port) if address.is_loopback else None


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(30)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
            if len(data) > MAX_HEADER:
                self._answer(431, "Request Header Fields Too Large")
                return
        head, _, rest = data.partition(b"\r\n\r\n")
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(parts) != 3 or parts[0].upper() != "CONNECT":
            self._answer(405, "notation-devstack proxy: only CONNECT to loopback names is served")
            return
        target = loopback_target(parts[1], getattr(self.server, "port_443", None))
        if target is None:
            self._answer(403, f"notation-devstack proxy: {parts[1]} is not a loopback name; nothing leaves loopback")
            return
        try:
            upstream = socket.create_connection(target, timeout=10)
        except OSError as exc:
            self._answer(502, f"notation-devstack proxy: cannot connect to {parts[1]}: {exc.strerror or exc}")
            return
        with upstream:
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            _pipe(conn, upstream)

    def _answer(self, status: int, text: str) -> None:
        body = (text + "\n").encode()
        head = f"HTTP/1.1 {status} {text.split(':')[0]}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
        with contextlib.suppress(OSError):
            self.request.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    a.setblocking(False)
    b.setblocking(False)
    peers = {a: b, b: a}
    while True:
        readable, _, _ = select.select(list(peers), [], [], IDLE_TIMEOUT)
        if not readable:
            return
        for sock in readable:
            try:
                chunk = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                return
            if not chunk:
                return
            other = peers[sock]
            other.setblocking(True)
            try:
                other.sendall(chunk)
            except OSError:
                return
            finally:
                other.setblocking(False)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class LoopbackProxy(BackgroundServer):
    """``with LoopbackProxy() as p: p.url`` -> ``http://127.0.0.1:<port>``."""

    scheme = "http"
    thread_name = "loopback-proxy"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, port_443: dict[str, int] | None = None) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.port_443 = dict(port_443 or {})  # type: ignore[attr-defined]
