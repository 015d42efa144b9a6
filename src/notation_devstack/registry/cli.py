"""``notation-devstack registry serve``: run the registry in the foreground until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("registry", help="our own OCI distribution v1.1 registry")
    sub = group.add_subparsers(dest="registry_command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="serve an OCI registry from a directory")
    serve.add_argument("--root", required=True, help="storage directory (created if missing)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    serve.add_argument("--tls-cert", help="PEM certificate chain (serve HTTPS)")
    serve.add_argument("--tls-key", help="PEM private key for --tls-cert")
    serve.add_argument("--htpasswd", help="bcrypt htpasswd file: require basic auth")
    serve.add_argument("--token-auth", action="store_true",
                       help="bearer-token auth with a /token endpoint on this server (needs --htpasswd)")
    serve.add_argument("--acr-jwks", help="ACR token exchange (/oauth2/exchange): the Entra ID authority's JWKS file")
    serve.add_argument("--acr-tenant", help="the tenant whose Entra ID tokens the exchange accepts")
    serve.add_argument("--no-referrers", action="store_true",
                       help="disable the referrers API (clients must use the referrers tag schema)")
    serve.add_argument("--referrers-page-size", type=int, default=None,
                       help="paginate referrers responses with this many entries per page")
    serve.add_argument("--max-blob-size", type=int, default=None, help="largest accepted blob, in bytes")
    serve.add_argument("-d", "--debug", action="store_true", help="log requests to stderr")
    serve.set_defaults(handler=_serve)
    group.set_defaults(handler=lambda _args: group.print_help() or 0)


def _serve(args: argparse.Namespace) -> int:
    from notation_devstack.registry.auth import AuthConfigError
    from notation_devstack.registry.server import RegistryServer
    from notation_devstack.registry.storage import DEFAULT_MAX_BLOB_SIZE

    if bool(args.tls_cert) != bool(args.tls_key):
        print("Error: --tls-cert and --tls-key go together", file=sys.stderr)
        return 1
    if args.token_auth and not args.htpasswd:
        print("Error: --token-auth needs --htpasswd", file=sys.stderr)
        return 1
    try:
        server = RegistryServer(
            args.root,
            host=args.host,
            port=args.port,
            htpasswd=args.htpasswd,
            token_auth=args.token_auth,
            tls=(args.tls_cert, args.tls_key) if args.tls_cert else None,
            referrers=not args.no_referrers,
            referrers_page_size=args.referrers_page_size,
            max_blob_size=args.max_blob_size or DEFAULT_MAX_BLOB_SIZE,
            debug=args.debug,
            acr_jwks=args.acr_jwks,
            acr_tenant=args.acr_tenant,
        )
        server.start()
    except (AuthConfigError, OSError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    print(f"Listening on {server.url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    print("Registry stopped", file=sys.stderr, flush=True)
    return 0
