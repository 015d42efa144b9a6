"""``notation-devstack cloud serve``: the Azure control plane on one loopback TLS port (metadata, Entra ID,
Resource Manager, Graph) plus the loopback CONNECT proxy on another.

It signs tokens with the Key Vault emulator's key (``<vault state>/identity/signing-key.pem``), so the vault, ARM,
Graph and the registry's ACR token exchange all accept the same tokens; the emulator must have started once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

CLOUD_DOMAIN = "devstack.localhost"


def register(sub: Any) -> None:
    group = sub.add_parser("cloud", help="the Azure control-plane stand-ins (Entra ID, ARM, Graph) for the real az")
    cmds = group.add_subparsers(dest="cloud_command", metavar="COMMAND")
    serve = cmds.add_parser("serve", help="serve metadata, Entra ID, ARM and Graph on loopback TLS")
    serve.add_argument("--state-dir", type=Path, required=True)
    serve.add_argument("--vault-state-dir", type=Path, required=True)
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--proxy-port", type=int, default=0)
    serve.add_argument("--tls-cert", required=True)
    serve.add_argument("--tls-key", required=True)
    serve.add_argument("--ca-bundle", help="CA bundle for its own calls (ACR Tasks pushing to the registry)")
    serve.add_argument("--config", type=Path, required=True,
                       help="JSON: user (upn, password), registry (name, host, username, password), vault_port")
    serve.set_defaults(handler=_serve)
    group.set_defaults(handler=lambda _a: group.print_help())


def build_routes(state: Path, vault_state: Path, config: dict[str, Any], base_port_holder: list[int]) -> list[Any]:
    from notation_devstack.arm.service import Arm, ArmConfig
    from notation_devstack.arm.store import ArmStore
    from notation_devstack.arm.vaults import RegistryVaults
    from notation_devstack.cloud.metadata import ARM_AUDIENCE, Metadata
    from notation_devstack.entra.authority import Authority, Directory, User
    from notation_devstack.graph.service import Graph
    from notation_devstack.vault.registry import DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION
    from notation_devstack.vault.store import read_json
    from notation_devstack.vault.tokens import TokenIssuer

    settings = read_json(vault_state / "emulator.json")
    tenant = str(settings["tenantId"])
    identity = vault_state / "identity"
    issuer = TokenIssuer(identity, tenant)
    user = config["user"]
    directory = Directory(tenant, [User(user["upn"], user["objectId"], user["password"], user.get("displayName",
                                                                                               "Devstack User"))])
    reg = config["registry"]
    vault_port = int(config["vault_port"])
    arm_config = ArmConfig(
        tenant_id=tenant, subscription_id=DEFAULT_SUBSCRIPTION,
        audience=ARM_AUDIENCE, resource_group=DEFAULT_RESOURCE_GROUP,
        vault_uri_template=f"https://{{name}}.localhost:{vault_port}/",
        registry_name=reg["name"], registry_login_server=reg["host"], registry_username=reg["username"],
        registry_password=reg["password"],
    )
    arm = Arm(arm_config, ArmStore(state / "arm"), issuer, RegistryVaults(vault_state))
    for name in config.get("vaults", []):
        arm.ensure_vault(name)

    graph = Graph(directory, issuer, "")
    authority = Authority(directory, issuer, identity / "signing-key.pem")
    metadata = Metadata(vault_port, tenant)

    def graph_route(request: Any) -> Any:
        graph.audience = request.base.rstrip("/")
        return graph.route(request)

    return [metadata.route, authority.route, graph_route, arm.route]


def _serve(args: argparse.Namespace) -> int:
    import os

    from notation_devstack.cloud.http import CloudHttpServer
    from notation_devstack.cloud.proxy import LoopbackProxy

    config = json.loads(args.config.read_text())
    if args.ca_bundle:
        os.environ["REQUESTS_CA_BUNDLE"] = args.ca_bundle
    os.environ["NO_PROXY"] = "127.0.0.1,::1"
    args.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    holder = [0]
    routes = build_routes(args.state_dir, args.vault_state_dir, config, holder)
    log_path = args.state_dir / "requests.log"
    log_lock = threading.Lock()

    def log(line: str) -> None:
        import time

        with log_lock, open(log_path, "a") as out:
            out.write(f"{time.time():.3f} {line}\n")

    server = CloudHttpServer(routes, args.tls_cert, args.tls_key, port=args.port, log=log).start()
    holder[0] = server.port
    proxy = LoopbackProxy(port=args.proxy_port, port_443={CLOUD_DOMAIN: server.port}).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    from notation_devstack.vault.store import atomic_write

    url = f"https://login.{CLOUD_DOMAIN}:{server.port}"
    atomic_write(args.state_dir / "server.json", json.dumps({"url": url, "proxy": proxy.url}).encode())
    print(f"Azure control plane on {url} (loopback proxy {proxy.url})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    proxy.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(1)
