"""``notation-admission serve``: the admission webhook / Gatekeeper provider / verify service.

Bad arguments and unreadable trust material give one line on stderr and exit 2 / 1, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("notation_admission")

API_SERVER_TIMEOUT = 10.0


@dataclass
class Options:
    config_dir: Path
    host: str = "127.0.0.1"
    port: int = 8443
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    plain_http: bool = False
    registry_config: Path | None = None
    insecure_registries: list[str] = field(default_factory=list)
    redis_url: str | None = None
    redis_secret_file: Path | None = None
    budget: float = 8.0
    max_body_bytes: int = 3 * 1024 * 1024
    max_images: int = 64
    cache_ttl: float = 300.0
    tag_ttl: float = 10.0
    reload_interval: float = 2.0
    max_workers: int = 16
    registry_timeout: float | None = None
    state_dir: Path | None = None
    decision_log: str = "-"
    akv_certificates: list[str] = field(default_factory=list)
    akv_refresh_interval: float = 300.0
    graceful_shutdown: float = 5.0
    """Seconds open connections get to finish after SIGTERM (keep-alive clients would hold the exit forever)."""


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="notation-admission", description="Kubernetes admission on notation")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve /validate /mutate /provider /verify over HTTPS")
    s.add_argument("--config-dir", required=True, type=Path, help="notation config dir (trust policy, truststore/)")
    s.add_argument("--host", default="0.0.0.0", help="address to listen on (default 0.0.0.0)")  # noqa: S104
    s.add_argument("--port", type=int, default=8443, help="port (0: any free port; the chosen one is printed)")
    s.add_argument("--tls-cert", type=Path)
    s.add_argument("--tls-key", type=Path)
    s.add_argument("--client-ca", type=Path, help="require client certificates issued by these CAs (mTLS)")
    s.add_argument("--plain-http", action="store_true", help="no TLS (loopback addresses only, for tests)")
    s.add_argument("--registry-config", type=Path, help="docker config.json (an imagePullSecret's .dockerconfigjson)")
    s.add_argument("--insecure-registry", action="append", default=[], metavar="HOST", help="plain HTTP registry")
    s.add_argument("--redis-url", help="shared verified-digest cache, e.g. redis://redis:6379/0")
    s.add_argument("--redis-secret-file", type=Path,
                   help="HMAC key shared by the replicas: Redis entries without a valid seal are ignored")
    s.add_argument("--budget", type=float, default=8.0, help="seconds a review may take (< 10, the API server's)")
    s.add_argument("--max-body-bytes", type=int, default=3 * 1024 * 1024)
    s.add_argument("--max-images", type=int, default=64, help="distinct images per review")
    s.add_argument("--cache-ttl", type=float, default=300.0, help="seconds a verified digest stays cached")
    s.add_argument("--tag-ttl", type=float, default=10.0, help="seconds a tag's digest stays cached (0: never)")
    s.add_argument("--reload-interval", type=float, default=2.0, help="seconds between trust material checks")
    s.add_argument("--max-workers", type=int, default=16, help="concurrent verifications")
    s.add_argument("--registry-timeout", type=float, help="seconds per registry request")
    s.add_argument("--state-dir", type=Path, help="where trust snapshots are written (default: a temp dir)")
    s.add_argument("--akv-certificate", action="append", default=[], metavar="STORE_TYPE:STORE_NAME=URL",
                   help="trust a certificate from Azure Key Vault (DefaultAzureCredential), e.g. "
                   "ca:wabbit-networks.io=https://myvault.vault.azure.net/certificates/wabbit-networks-io")
    s.add_argument("--akv-refresh-interval", type=float, default=300.0, help="seconds between Key Vault reads")
    s.add_argument("--decision-log", default="-", help="file for the JSON-lines decision log ('-': stderr)")
    return p


def parse_options(argv: Sequence[str]) -> Options:
    ns = _parser().parse_args(list(argv))
    opts = Options(
        config_dir=ns.config_dir,
        host=ns.host,
        port=ns.port,
        tls_cert=ns.tls_cert,
        tls_key=ns.tls_key,
        client_ca=ns.client_ca,
        plain_http=ns.plain_http,
        registry_config=ns.registry_config,
        insecure_registries=list(ns.insecure_registry),
        redis_url=ns.redis_url,
        redis_secret_file=ns.redis_secret_file,
        budget=ns.budget,
        max_body_bytes=ns.max_body_bytes,
        max_images=ns.max_images,
        cache_ttl=ns.cache_ttl,
        tag_ttl=ns.tag_ttl,
        reload_interval=ns.reload_interval,
        max_workers=ns.max_workers,
        registry_timeout=ns.registry_timeout,
        state_dir=ns.state_dir,
        decision_log=ns.decision_log,
        akv_certificates=list(ns.akv_certificate),
        akv_refresh_interval=ns.akv_refresh_interval,
    )
    check_options(opts)
    return opts


def check_options(o: Options) -> None:
    if o.plain_http:
        if not _is_loopback(o.host):
            raise UsageError(f"--plain-http is refused on {o.host}: only loopback addresses may serve without TLS")
        if o.tls_cert or o.client_ca:
            raise UsageError("--plain-http cannot be combined with --tls-cert or --client-ca")
    elif not (o.tls_cert and o.tls_key):
        raise UsageError("--tls-cert and --tls-key are required (or --plain-http on a loopback address)")
    if not 0 < o.budget < API_SERVER_TIMEOUT:
        raise UsageError(f"--budget must be between 0 and {API_SERVER_TIMEOUT:g} seconds (the API server's timeout)")
    if o.max_images < 1 or o.max_body_bytes < 1024 or o.max_workers < 1 or not 0 <= o.port <= 65535:
        raise UsageError("--max-images, --max-workers must be >= 1, --max-body-bytes >= 1024, --port 0..65535")
    if o.cache_ttl < 0 or o.tag_ttl < 0 or o.reload_interval <= 0 or o.akv_refresh_interval <= 0:
        raise UsageError("--cache-ttl and --tag-ttl must be >= 0, --reload-interval and --akv-refresh-interval > 0")
    from notation_admission.akv import parse_spec

    for spec in o.akv_certificates:
        try:
            parse_spec(spec)
        except ValueError as exc:
            raise UsageError(str(exc)) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Running:
    """A built service: the uvicorn server, its bound socket and the pieces tests look at."""

    def __init__(self, opts: Options, decision_stream: Any = None) -> None:
        import uvicorn

        from notation_admission.app import DecisionLog, Limits, Service, build_app
        from notation_admission.core import Core
        from notation_admission.metrics import Metrics
        from notation_admission.verifier import TrustVerifier, VerifierSettings

        self.opts = opts
        if not opts.plain_http:  # a missing or mismatched pair is a one-line error now, not a traceback at serve
            assert opts.tls_cert is not None and opts.tls_key is not None
            probe = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            for path in (opts.tls_cert, opts.tls_key, *([opts.client_ca] if opts.client_ca else [])):
                if not Path(path).is_file():
                    raise OSError(f"TLS certificate, key or client CA: {path}: no such file")
            try:
                probe.load_cert_chain(opts.tls_cert, opts.tls_key)
                if opts.client_ca:
                    probe.load_verify_locations(cafile=str(opts.client_ca))
            except (OSError, ssl.SSLError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise OSError(f"TLS certificate, key or client CA: {reason}") from exc
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        state_dir = opts.state_dir
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="notation-admission-")
            state_dir = Path(self._tmp.name)
        self.akv = None
        if opts.akv_certificates:
            from notation_admission.akv import AkvSource, parse_spec

            self.akv = AkvSource([parse_spec(s) for s in opts.akv_certificates], opts.akv_refresh_interval)
        self.verifier = TrustVerifier(
            VerifierSettings(
                config_dir=opts.config_dir,
                state_dir=state_dir,
                registry_config=opts.registry_config,
                insecure_registries=opts.insecure_registries,
                max_workers=opts.max_workers,
                timeout=opts.registry_timeout,
                extra_files=self.akv.files if self.akv is not None else None,
            )
        )
        self.metrics = Metrics(lambda: self.verifier.request_count)
        self.core = Core(
            self.verifier,
            self.metrics,
            budget=opts.budget,
            cache_ttl=opts.cache_ttl,
            tag_ttl=opts.tag_ttl,
            max_workers=opts.max_workers,
            redis_url=opts.redis_url,
            redis_secret=_read_secret(opts.redis_secret_file),
        )
        self.reload_error: str | None = None
        self.reloaded_at = time.time()
        stream = decision_stream
        if stream is None:
            stream = sys.stderr if opts.decision_log == "-" else open(opts.decision_log, "a", encoding="utf-8")  # noqa: SIM115
        limits = Limits(opts.max_body_bytes, opts.max_images)
        self.service = Service(self.core, limits, DecisionLog(stream), self.status)
        self.app = build_app(self.service, on_start=self._watch)
        self.sock = _bind(opts.host, opts.port)
        kwargs: dict[str, Any] = {}
        if not opts.plain_http:
            kwargs.update(ssl_certfile=str(opts.tls_cert), ssl_keyfile=str(opts.tls_key))
            if opts.client_ca:
                kwargs.update(ssl_ca_certs=str(opts.client_ca), ssl_cert_reqs=ssl.CERT_REQUIRED)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            http="httptools",
            loop="uvloop",
            timeout_keep_alive=30,
            timeout_graceful_shutdown=max(1, round(opts.graceful_shutdown)),
            **kwargs,
        )
        self.server = uvicorn.Server(config)
        self._tls_loaded = self._tls_state()
        self._tls_error: str | None = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def status(self) -> dict[str, Any]:
        return {
            "ready": True,
            "trustFingerprint": self.verifier.fingerprint,
            "trustLoadedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.reloaded_at)),
            "lastReloadError": self.reload_error,
        }

    async def _watch(self) -> None:
        """Poll the mounted trust material and serving certificate; a change becomes live, a refused one keeps the
        last good."""
        while True:
            await asyncio.sleep(self.opts.reload_interval)
            await self.core.run_blocking(self.check_trust)
            await self.core.run_blocking(self.check_tls)

    def _tls_state(self) -> tuple[bytes, bytes] | None:
        if self.opts.plain_http or self.opts.tls_cert is None or self.opts.tls_key is None:
            return None
        try:
            return self.opts.tls_cert.read_bytes(), self.opts.tls_key.read_bytes()
        except OSError:
            return None

    def check_tls(self) -> None:
        """cert-manager renews the Secret in place (the kubelet swaps ..data): new handshakes get the new
        certificate. A pair that does not load (half-written, key and certificate not matching) is refused and the
        running one kept: it is tried on a scratch context first, so the live one is never left half-updated."""
        state = self._tls_state()
        if state is None or state == self._tls_loaded:
            return
        assert self.opts.tls_cert is not None and self.opts.tls_key is not None
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(self.opts.tls_cert, self.opts.tls_key)
            live = self.server.config.ssl
            if live is None:
                return
            live.load_cert_chain(self.opts.tls_cert, self.opts.tls_key)
        except (OSError, ssl.SSLError) as exc:
            if self._tls_error != str(exc):
                log.error("serving certificate update refused, keeping the current one: %s", exc)
                self._tls_error = str(exc)
            return
        self._tls_loaded, self._tls_error = state, None
        log.warning("serving certificate reloaded")

    def check_trust(self) -> None:
        from notation_admission.core import error_text

        try:
            changed = self.verifier.refresh()
        except Exception as exc:
            message = error_text(exc)
            if message != self.reload_error:
                log.error("trust material update refused, keeping the last good one: %s", message)
                self.metrics.reloads.labels("refused").inc()
            self.reload_error = message
            self.metrics.trust_ok.set(0)
            return
        if changed or self.reload_error is not None:
            if changed:
                log.warning("trust material reloaded (fingerprint %s)", self.verifier.fingerprint[:16])
                self.metrics.reloads.labels("ok").inc()
                self.reloaded_at = time.time()
            self.reload_error = None
            self.metrics.trust_ok.set(1)

    def run(self) -> None:
        self.server.run(sockets=[self.sock])

    def close(self) -> None:
        self.verifier.close()
        if self.akv is not None:
            self.akv.close()
        self.sock.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def _read_secret(path: Path | None) -> bytes | None:
    if path is None:
        return None
    secret = path.read_bytes().strip()
    if len(secret) < 16:
        raise OSError(f"--redis-secret-file {path}: the secret must have at least 16 bytes")
    return secret


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def main(argv: Sequence[str] | None = None) -> int:
    from notation._internal.logformat import JSONFormatter

    # One JSON object per line, from the same layer (and with the same redaction) as the CLI's -v/-d lines: the
    # service's own records and the library's ("notation": verifier steps, revocation, HTTP) alike.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    try:
        opts = parse_options(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"notation-admission: error: {exc}", file=sys.stderr)
        return 2
    from notation_admission.core import error_text

    try:
        running = Running(opts)
    except OSError as exc:
        print(f"notation-admission: error: {exc.strerror or exc}", file=sys.stderr)
        return 1  # (an OSError of ours has no strerror: its text is the message)
    except Exception as exc:
        print(f"notation-admission: error: {error_text(exc)}", file=sys.stderr)
        return 1
    scheme = "http" if opts.plain_http else "https"
    print(f"notation-admission listening on {scheme}://{opts.host}:{running.port}", file=sys.stderr, flush=True)
    try:
        running.run()
    finally:
        running.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
