"""``notation-devstack up|down|status|env-file``.

`up` starts the Key Vault emulator and the registry as background processes on loopback, with TLS from a local CA
and authentication on, waits until both answer, and writes an env file that a shell can `source` (vault URL,
registry host and credentials, CA bundle, Azure credential settings). Running `up` again while they run changes
nothing, so scripts can call it unconditionally.

Stable endpoints: the first `up` takes free ports and remembers them in ``ports.json``; every later `up` reuses
them (vault, registry, managed identity endpoint, the Azure control plane and its proxy), so stored KEY_IDs
(``notation key add``), trust-policy registry scopes, signatures' references, az's registered cloud and the env
file stay valid across `down` / `up`. ``--new-ports`` (or explicit ``--vault-port`` / ``--registry-port``) chooses
again. A remembered port that another process took is a clear error rather than a silent move. `down` marks the
env file stale (sourcing it then warns).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from notation_devstack.stack.passwords import new_password

SERVICES = ("vault", "registry", "cloud")
READY_TIMEOUT = 30.0


def default_state_dir() -> Path:
    explicit = os.environ.get("NOTATION_DEVSTACK_HOME")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "notation-devstack"


def register(sub: Any) -> None:
    for name, handler, text in (
        ("up", _up, "start the Key Vault emulator and the registry in the background"),
        ("down", _down, "stop them"),
        ("status", _status, "show what runs where"),
        ("env-file", _env_file, "print the path of the env file to `source`"),
    ):
        parser = sub.add_parser(name, help=text)
        parser.add_argument(
            "--state-dir",
            type=Path,
            default=None,
            help="default: $NOTATION_DEVSTACK_HOME or $XDG_STATE_HOME/notation-devstack",
        )
        if name == "up":
            parser.add_argument("--acr-name", default="notationdevstack", help="the ACR_NAME of the tutorial")
            parser.add_argument("--registry-port", type=int, default=0, help="0 = a free port")
            parser.add_argument("--vault-port", type=int, default=0, help="0 = a free port")
            parser.add_argument("--vault-name", default="notationdemo", help="the AKV_NAME of the tutorial")
            parser.add_argument("--new-ports", action="store_true",
                                help="forget the last run's ports (KEY_IDs and registry scopes then change)")
        parser.set_defaults(handler=handler)


def _state(args: argparse.Namespace) -> Path:
    return Path(args.state_dir) if args.state_dir else default_state_dir()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_info(state: Path) -> dict[str, Any]:
    path = state / "stack.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _running(info: dict[str, Any]) -> bool:
    return bool(info) and all(
        isinstance(info.get(s, {}).get("pid"), int) and _pid_alive(info[s]["pid"]) for s in SERVICES
    )


def _start(state: Path, name: str, argv: list[str]) -> tuple[int, str]:
    """Start one service detached; return (pid, URL it printed once listening)."""
    log = state / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "notation_devstack", *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        for line in text.splitlines():
            for word in line.split():
                if word.startswith(("https://", "http://")):
                    return proc.pid, word.rstrip(".,")
        if proc.poll() is not None:
            tail = text.strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"the {name} failed to start: {tail[0]} (log: {log})")
        time.sleep(0.05)
    proc.terminate()
    raise RuntimeError(f"the {name} did not become ready within {READY_TIMEOUT:.0f}s (log: {log})")


def _up(args: argparse.Namespace) -> int:
    from notation_devstack.stack.tls import ca_bundle, ensure_tls

    state = _state(args)
    info = _read_info(state)
    if _running(info):
        print(
            f"notation-devstack is already running (vault {info['vault']['url']}, registry "
            f"{info['registry']['host']}); env file: {state / 'env'}",
            file=sys.stderr,
        )
        return 0
    _stop(info)
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    print("Creating the local CA and server certificate ...", file=sys.stderr)
    ca, cert, key = ensure_tls(state / "tls")

    creds_path = state / "credentials.json"
    creds = json.loads(creds_path.read_text()) if creds_path.exists() else {}
    creds.setdefault("registry_username", "devstack")
    creds.setdefault("registry_password", new_password())
    _write_atomic(creds_path, json.dumps(creds, indent=2))
    htpasswd = state / "registry.htpasswd"
    import bcrypt

    hashed = bcrypt.hashpw(creds["registry_password"].encode(), bcrypt.gensalt(rounds=8)).decode()
    _write_atomic(htpasswd, f"{creds['registry_username']}:{hashed}\n")

    ports_path = state / "ports.json"
    last: dict[str, Any] = {}
    if ports_path.exists() and not args.new_ports:
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(ports_path.read_text())
            last = loaded if isinstance(loaded, dict) else {}
    vault_port = args.vault_port or int(last.get("vault") or 0)
    registry_port = args.registry_port or int(last.get("registry") or 0)
    mi_port = int(last.get("managedIdentity") or 0) if not args.vault_port else 0
    cloud_port = int(last.get("cloud") or 0)
    proxy_port = int(last.get("proxy") or 0)
    for label, port in (("vault", vault_port), ("registry", registry_port), ("managed identity", mi_port),
                        ("Azure control plane", cloud_port), ("Azure proxy", proxy_port)):
        if port and not _port_free(port):
            raise RuntimeError(
                f"port {port} of the {label} (remembered from the last run) is in use; free it, or run "
                "`notation-devstack up --new-ports` (stored KEY_IDs, trust-policy scopes and the env file change)"
            )
    print("Starting the Azure Key Vault emulator ...", file=sys.stderr)
    vault_pid, vault_url = _start(
        state,
        "vault",
        [
            "vault",
            "serve",
            "--state-dir",
            str(state / "vault"),
            "--port",
            str(vault_port),
            "--managed-identity-port",
            str(mi_port),
            "--vault-name",
            args.vault_name,
        ],
    )
    from notation_devstack.stack.azure import prepare_cloud

    cloud_args = prepare_cloud(state, creds, args.vault_name)
    _write_atomic(creds_path, json.dumps(creds, indent=2))
    print("Starting the OCI registry ...", file=sys.stderr)
    try:
        registry_pid, registry_url = _start(
            state,
            "registry",
            [
                "registry",
                "serve",
                "--root",
                str(state / "registry"),
                "--port",
                str(registry_port),
                "--tls-cert",
                str(cert),
                "--tls-key",
                str(key),
                "--htpasswd",
                str(htpasswd),
                *cloud_args.registry_argv,
            ],
        )
    except Exception:
        _kill(vault_pid)
        raise
    registry_host = registry_url.split("://", 1)[1].rstrip("/")
    vault_server = json.loads((state / "vault" / "server.json").read_text())
    vault_ca = Path(vault_server["caCert"])
    from urllib.parse import urlsplit

    ports = {
        "vault": urlsplit(vault_url).port,
        "registry": urlsplit(registry_url).port,
        "managedIdentity": urlsplit(vault_server["managedIdentityEndpoint"]).port,
    }
    _write_atomic(ports_path, json.dumps({**last, **ports}, indent=2))
    _hosts_entries(state, args.vault_name)
    bundle = ca_bundle(state / "tls", [ca, vault_ca])
    print("Starting the Azure control plane (Entra ID, Resource Manager, Graph) ...", file=sys.stderr)
    try:
        cloud_pid, cloud_line = _start(
            state, "cloud",
            [*cloud_args.cloud_argv(registry_host, args.acr_name, cert, key), "--ca-bundle", str(bundle),
             "--port", str(cloud_port), "--proxy-port", str(proxy_port)],
        )
    except Exception:
        _kill(vault_pid)
        _kill(registry_pid)
        raise
    with contextlib.suppress(OSError, ValueError, KeyError):  # the az cloud registration names these ports too
        cloud_server = json.loads((state / "cloud" / "server.json").read_text())
        ports.update(cloud=urlsplit(str(cloud_server["url"])).port, proxy=urlsplit(str(cloud_server["proxy"])).port)
        _write_atomic(ports_path, json.dumps(ports, indent=2))
    info = {
        "vault": {"pid": vault_pid, "url": vault_url.rstrip("/"), "name": args.vault_name},
        "registry": {"pid": registry_pid, "url": registry_url, "host": registry_host},
        "ca_bundle": str(bundle),
        "cloud": cloud_args.info(cloud_pid, cloud_line, state / "cloud.log", args.acr_name),
    }
    _write_atomic(state / "stack.json", json.dumps(info, indent=2))
    env = _env(state, info, creds)
    _write_atomic(state / "env", "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()))
    print(f"Key Vault emulator: {info['vault']['url']} (vault name {args.vault_name})", file=sys.stderr)
    print(f"OCI registry:       {registry_host} (user {creds['registry_username']})", file=sys.stderr)
    from notation_devstack.stack.azure import maybe_az_login

    maybe_az_login(state)
    print(f"Ready. Run: source {state / 'env'}", file=sys.stderr)
    return 0


def _port_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _hosts_entries(state: Path, vault_name: str) -> None:
    """Named vault URLs (https://<vault>.localhost:<port>) need a hosts line; add it when we may (root)."""
    from notation_devstack.vault import hosts
    from notation_devstack.vault.registry import VaultRegistry

    names = sorted({vault_name, *(str(p["name"]) for p in VaultRegistry(state / "vault").list_vaults())})
    if not hosts.missing_lines(names):
        return
    try:
        added = hosts.ensure_entries(names)
        if added:
            print(f"Added {len(added)} line(s) for <vault>.localhost to /etc/hosts.", file=sys.stderr)
    except OSError:
        print("Named vault URLs (https://<vault>.localhost:<port>) need /etc/hosts lines; see "
              "`notation-devstack vault hosts --state-dir <state>/vault` (add them as root).", file=sys.stderr)


def _env(state: Path, info: dict[str, Any], creds: dict[str, str]) -> dict[str, str]:
    from notation_devstack.stack.identity import credential_env

    env = {
        "DEVSTACK_STATE_DIR": str(state),
        "DEVSTACK_VAULT_URL": info["vault"]["url"],
        "DEVSTACK_VAULT_NAME": info["vault"]["name"],
        "DEVSTACK_REGISTRY": info["registry"]["host"],
        "DEVSTACK_REGISTRY_NAME": info["registry"]["host"].split(":")[0],
        "DEVSTACK_REGISTRY_USERNAME": creds["registry_username"],
        "DEVSTACK_REGISTRY_PASSWORD": creds["registry_password"],
        # Registry credentials for notation: `notation login` needs a credential helper to store them (as in Go).
        "NOTATION_USERNAME": creds["registry_username"],
        "NOTATION_PASSWORD": creds["registry_password"],
        "REQUESTS_CA_BUNDLE": info["ca_bundle"],
        "SSL_CERT_FILE": info["ca_bundle"],
    }
    from urllib.parse import urlsplit

    port = urlsplit(info["vault"]["url"]).port
    env["DEVSTACK_KEYVAULT_DNS_SUFFIX"] = f".localhost:{port}"  # az cloud register --suffix-keyvault-dns
    env["DEVSTACK_VAULT_NAMED_URL"] = f"https://{info['vault']['name'].lower()}.localhost:{port}"
    env.update(credential_env(state, info))
    if info.get("cloud"):
        from notation_devstack.stack.azure import cloud_env

        env.update(cloud_env(info))
    return env


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _pid_alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if _pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _stop(info: dict[str, Any]) -> bool:
    stopped = False
    for service in SERVICES:
        pid = info.get(service, {}).get("pid")
        if isinstance(pid, int) and _pid_alive(pid):
            _kill(pid)
            stopped = True
    return stopped


def _down(args: argparse.Namespace) -> int:
    state = _state(args)
    info = _read_info(state)
    if _stop(info):
        print("Stopped the Key Vault emulator and the registry.", file=sys.stderr)
    else:
        print("notation-devstack is not running.", file=sys.stderr)
    (state / "stack.json").unlink(missing_ok=True)
    _mark_env_stale(state / "env")
    return 0


STALE_MARK = "# STALE:"


def _mark_env_stale(path: Path) -> None:
    """After `down` the env file still holds the (stable) endpoints, but nothing listens: sourcing it says so."""
    if not path.exists():
        return
    text = path.read_text()
    if text.startswith(STALE_MARK):
        return
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    header = (
        f"{STALE_MARK} notation-devstack was stopped at {when}; run `notation-devstack up` (same ports) to use it\n"
        "echo 'notation-devstack: this env file is stale (the stack is down); run: notation-devstack up' >&2\n"
        "export DEVSTACK_STALE=1\n"
    )
    _write_atomic(path, header + text)


def _status(args: argparse.Namespace) -> int:
    state = _state(args)
    info = _read_info(state)
    if not info:
        print("notation-devstack is not running.")
        return 3
    for service in SERVICES:
        entry = info.get(service, {})
        alive = isinstance(entry.get("pid"), int) and _pid_alive(entry["pid"])
        where = entry.get("url", "")
        print(f"{service:9s} {'running' if alive else 'stopped':8s} pid {entry.get('pid', '-')!s:8s} {where}")
    return 0 if _running(info) else 3


def _env_file(args: argparse.Namespace) -> int:
    path = _state(args) / "env"
    if not path.exists():
        raise RuntimeError("no env file: run `notation-devstack up` first")
    print(path)
    return 0
