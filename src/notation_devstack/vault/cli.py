"""``notation-devstack vault``: run the Key Vault emulator and the tutorial's ``az keyvault`` steps against it.

Commands mirror az's flags where they make sense (spec §2.10, §3.4)::

    notation-devstack vault serve --state-dir DIR [--host 127.0.0.1] [--port 0]
    notation-devstack vault set-policy -n VAULT --object-id OID --certificate-permissions get create \\
        --key-permissions sign
    notation-devstack vault certificate create --vault-name VAULT -n CERT -p @policy.json
    notation-devstack vault certificate show --vault-name VAULT -n CERT --query kid -o tsv
    notation-devstack vault certificate download --vault-name VAULT -n CERT --file cert.pem [--encoding DER]
    notation-devstack vault fake-az --dir BIN        # an `az` for AzureCliCredential, put BIN on PATH

The az-like commands find the running emulator through ``--state-dir`` or ``DEVSTACK_VAULT_STATE_DIR`` and act as
the signed-in user (the emulator's default principal).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from notation_devstack.vault.errors import VaultError


def register(subparsers: Any) -> None:
    vault = subparsers.add_parser("vault", help="Azure Key Vault emulator", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = vault.add_subparsers(dest="vault_command", metavar="COMMAND")
    vault.set_defaults(handler=lambda _a: (vault.print_help(), 0)[1])

    serve = sub.add_parser("serve", help="run the emulator until SIGTERM")
    serve.add_argument("--state-dir", help="where state lives (default: $DEVSTACK_VAULT_STATE_DIR)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 = a free port")
    serve.add_argument("--managed-identity-port", type=int, default=0)
    serve.add_argument("--tenant", help="tenant id of the emulated directory")
    serve.add_argument("--vault-name", help="vault served on the plain loopback address")
    serve.add_argument("--cert", help="TLS certificate (PEM); default: generated from a local CA in the state dir")
    serve.add_argument("--key", help="TLS private key (PEM) for --cert")
    serve.add_argument("--lenient", action="store_true", help="accept any bearer token (no signature check)")
    serve.set_defaults(handler=_serve)

    def state(p: argparse.ArgumentParser) -> None:
        p.add_argument("--state-dir", help="emulator state directory (default: $DEVSTACK_VAULT_STATE_DIR)")

    sp = sub.add_parser("set-policy", help="az keyvault set-policy")
    sp.add_argument("--name", "-n", required=True, help="vault name")
    sp.add_argument("--object-id")
    sp.add_argument("--upn")
    sp.add_argument("--spn")
    sp.add_argument("--application-id")
    for flag in ("key", "secret", "certificate", "storage"):
        sp.add_argument(f"--{flag}-permissions", nargs="+", metavar="PERM")
    state(sp)
    sp.set_defaults(handler=_set_policy)

    dp = sub.add_parser("delete-policy", help="az keyvault delete-policy")
    dp.add_argument("--name", "-n", required=True)
    dp.add_argument("--object-id")
    dp.add_argument("--upn")
    dp.add_argument("--spn")
    dp.add_argument("--application-id")
    state(dp)
    dp.set_defaults(handler=_delete_policy)

    _register_control(sub, state)

    cert = sub.add_parser("certificate", help="az keyvault certificate")
    csub = cert.add_subparsers(dest="certificate_command", metavar="COMMAND")
    cert.set_defaults(handler=lambda _a: (cert.print_help(), 0)[1])

    create = csub.add_parser("create", help="create a certificate from a policy file")
    create.add_argument("--vault-name", required=True)
    create.add_argument("--name", "-n", required=True)
    create.add_argument("--policy", "-p", required=True, help="JSON or @file")
    create.add_argument("--disabled", action="store_true")
    create.add_argument("--tags", nargs="*", default=[])
    _output(create)
    state(create)
    create.set_defaults(handler=_cert_create)

    show = csub.add_parser("show", help="show a certificate")
    show.add_argument("--vault-name", required=True)
    show.add_argument("--name", "-n", required=True)
    show.add_argument("--version", "-v", default="")
    _output(show)
    state(show)
    show.set_defaults(handler=_cert_show)

    versions = csub.add_parser("list-versions", help="list a certificate's versions")
    versions.add_argument("--vault-name", required=True)
    versions.add_argument("--name", "-n", required=True)
    _output(versions)
    state(versions)
    versions.set_defaults(handler=_cert_versions)

    dl = csub.add_parser("download", help="write a certificate to a file")
    dl.add_argument("--vault-name", required=True)
    dl.add_argument("--name", "-n", required=True)
    dl.add_argument("--version", "-v", default="")
    dl.add_argument("--file", "-f", required=True)
    dl.add_argument("--encoding", "-e", choices=["PEM", "DER"], default="PEM")
    state(dl)
    dl.set_defaults(handler=_cert_download)

    fake = sub.add_parser("fake-az", help="write an `az` executable for AzureCliCredential")
    fake.add_argument("--dir", required=True)
    state(fake)
    fake.set_defaults(handler=_fake_az)


def _output(p: argparse.ArgumentParser) -> None:
    p.add_argument("--query", help="a dotted field path (a small JMESPath subset), e.g. kid")
    p.add_argument("--output", "-o", choices=["json", "tsv", "none"], default="json")


# --- serve ----------------------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    from notation_devstack.vault.client import resolve_state_dir
    from notation_devstack.vault.server import VaultServer

    state_dir = resolve_state_dir(args.state_dir)
    if bool(args.cert) != bool(args.key):
        raise VaultError("--cert and --key go together")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = VaultServer(
        state_dir, args.host, args.port, tenant_id=args.tenant, vault_name=args.vault_name,
        lenient=args.lenient, cert_file=args.cert, key_file=args.key, managed_identity_port=args.managed_identity_port,
    )
    with server:
        print(server.url, flush=True)
        print(
            f"vault {server.vault_name} at {server.url}; CA {server.ca_cert_path}; managed identity "
            f"{server.managed_identity_endpoint}; tenant {server.tenant_id}",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    return 0


# --- vaults, hosts and role assignments (the control plane, straight on the state directory) ---------------------


def _register_control(sub: Any, state: Any) -> None:
    create = sub.add_parser("create", help="az keyvault create (a named vault)")
    create.add_argument("--name", "-n", required=True)
    create.add_argument("--enable-rbac-authorization", choices=("true", "false"), default="false")
    create.add_argument("--retention-days", type=int, default=90, help="soft delete retention, 7-90")
    create.add_argument("--enable-purge-protection", choices=("true", "false"), default=None)
    state(create)
    create.set_defaults(handler=_vault_create)
    for verb, text in (("show", "az keyvault show"), ("delete", "az keyvault delete"),
                       ("purge", "az keyvault purge"), ("recover", "az keyvault recover")):
        p = sub.add_parser(verb, help=text)
        p.add_argument("--name", "-n", required=True)
        state(p)
        p.set_defaults(handler=_vault_simple, verb=verb)
    lst = sub.add_parser("list", help="az keyvault list")
    state(lst)
    lst.set_defaults(handler=_vault_list)
    exp = sub.add_parser("export", help="write a vault's contents (with private keys) as JSON, for seeding CI")
    exp.add_argument("--name", "-n", required=True)
    exp.add_argument("--file", "-f", required=True, help="output file (mode 0600), - for stdout")
    state(exp)
    exp.set_defaults(handler=_vault_export)
    imp = sub.add_parser("import", help="load a vault export (creates the vault when missing)")
    imp.add_argument("--file", "-f", required=True)
    imp.add_argument("--name", "-n", help="target vault (default: the exported name)")
    imp.add_argument("--replace", action="store_true", help="overwrite a vault that is not empty")
    state(imp)
    imp.set_defaults(handler=_vault_import)
    hosts = sub.add_parser("hosts", help="the /etc/hosts lines named vaults need (--apply adds them, as root)")
    hosts.add_argument("--apply", action="store_true")
    hosts.add_argument("--hosts-file", default="/etc/hosts")
    state(hosts)
    hosts.set_defaults(handler=_vault_hosts)

    role = sub.add_parser("role", help="az role (assignments for RBAC vaults)")
    rsub = role.add_subparsers(dest="role_command", metavar="COMMAND")
    role.set_defaults(handler=lambda _a: (role.print_help(), 0)[1])
    ra = rsub.add_parser("assignment", help="az role assignment")
    rasub = ra.add_subparsers(dest="assignment_command", metavar="COMMAND")
    ra.set_defaults(handler=lambda _a: (ra.print_help(), 0)[1])
    for verb in ("create", "list", "delete"):
        p = rasub.add_parser(verb, help=f"az role assignment {verb}")
        p.add_argument("--role", help="role name, GUID or definition id")
        p.add_argument("--assignee", help="object id, user principal name or service principal (client) id")
        p.add_argument("--assignee-object-id")
        p.add_argument("--assignee-principal-type", default="User",
                       choices=("User", "Group", "ServicePrincipal", "ForeignGroup", "Device"))
        p.add_argument("--scope", help="ARM scope; default: the vault given by --vault-name, else /")
        p.add_argument("--vault-name", help="shorthand for --scope <that vault's id>")
        if verb == "create":
            p.add_argument("--name", help="the assignment's GUID (default: a new one)")
            p.add_argument("--description")
        if verb == "list":
            p.add_argument("--all", action="store_true", help="every assignment")
            p.add_argument("--include-inherited", action="store_true")
        if verb == "delete":
            p.add_argument("--ids", nargs="+")
        state(p)
        p.set_defaults(handler=_role_assignment, verb=verb)


def _registry(args: argparse.Namespace) -> Any:
    from notation_devstack.vault.client import resolve_state_dir
    from notation_devstack.vault.registry import VaultRegistry

    return VaultRegistry(resolve_state_dir(args.state_dir))


def _print(doc: Any) -> None:
    print(json.dumps(doc, indent=2))


def _vault_create(args: argparse.Namespace) -> int:
    from notation_devstack.vault.server import vault_view

    reg = _registry(args)
    props = reg.create_vault(
        args.name, enable_rbac_authorization=args.enable_rbac_authorization == "true",
        soft_delete_retention_days=args.retention_days,
        enable_purge_protection=None if args.enable_purge_protection is None
        else args.enable_purge_protection == "true",
    )
    _print(vault_view(props))
    return 0


def _vault_simple(args: argparse.Namespace) -> int:
    from notation_devstack.vault.server import vault_view

    reg = _registry(args)
    if args.verb == "show":
        props = reg.get_vault(args.name)
        if props is None:
            raise VaultError(f"The Vault '{args.name}' not found within subscription.")
        _print(vault_view(props))
    elif args.verb == "delete":
        reg.delete_vault(args.name)
    elif args.verb == "purge":
        reg.purge_deleted_vault(args.name)
    else:
        _print(vault_view(reg.recover_vault(args.name)))
    return 0


def _vault_list(args: argparse.Namespace) -> int:
    from notation_devstack.vault.server import vault_view

    _print([vault_view(p) for p in _registry(args).list_vaults()])
    return 0


def _running_client(args: argparse.Namespace) -> Any:
    """The running emulator of the state directory, or None (then the state directory is used directly)."""
    from notation_devstack.vault.client import EmulatorClient, resolve_state_dir

    state_dir = resolve_state_dir(args.state_dir)
    if not (state_dir / "server.json").exists():
        return None
    return EmulatorClient(state_dir)


def _vault_export(args: argparse.Namespace) -> int:
    from notation_devstack.vault.client import resolve_state_dir
    from notation_devstack.vault.store import StateStore, atomic_write

    client = _running_client(args)
    if client is not None:
        doc = client.admin("GET", f"vaults/{args.name}/export")
    else:
        from notation_devstack.vault.seed import export_vault

        doc = export_vault(StateStore(resolve_state_dir(args.state_dir)), args.name)
    text = json.dumps(doc, indent=1)
    if args.file == "-":
        print(text)
    else:
        atomic_write(Path(args.file), text.encode(), mode=0o600)
    return 0


def _vault_import(args: argparse.Namespace) -> int:
    from notation_devstack.vault.client import resolve_state_dir
    from notation_devstack.vault.store import StateStore, read_json

    data = read_json(Path(args.file))
    if not isinstance(data, dict):
        raise VaultError(f"{args.file} is not a vault export (a JSON object)")
    client = _running_client(args)
    if client is not None:
        counts = client.admin("POST", f"vaults/{args.name or (data.get('vault') or {}).get('name')}/import",
                              {"export": data, "replace": args.replace})
    else:
        from notation_devstack.vault.seed import import_vault

        counts = import_vault(StateStore(resolve_state_dir(args.state_dir)), data, args.name, replace=args.replace)
    _print(counts)
    return 0


def _vault_hosts(args: argparse.Namespace) -> int:
    from notation_devstack.vault import hosts

    names = [str(p["name"]) for p in _registry(args).list_vaults()]
    path = Path(args.hosts_file)
    if not args.apply:
        for line in hosts.missing_lines(names, path):
            print(line)
        return 0
    try:
        added = hosts.ensure_entries(names, path)
    except PermissionError as exc:
        raise VaultError(f"cannot write {path}: run as root, or add the lines `vault hosts` prints") from exc
    for line in added:
        print(f"added: {line}", file=sys.stderr)
    return 0


def _assignee(value: str | None) -> str | None:
    import uuid

    from notation_devstack.vault.tokens import object_id_for_client, object_id_for_upn

    if not value:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return object_id_for_upn(value) if "@" in value else object_id_for_client(value)


def _role_assignment(args: argparse.Namespace) -> int:
    reg = _registry(args)
    ra = reg.role_assignments
    principal = args.assignee_object_id or _assignee(args.assignee)
    scope = args.scope or (reg.vault_id(args.vault_name) if args.vault_name else None)
    if args.verb == "create":
        if not args.role or not principal:
            raise VaultError("usage error: --role and --assignee (or --assignee-object-id) are required")
        try:
            _print(ra.create(scope or "/", args.role, principal, principal_type=args.assignee_principal_type,
                             name=args.name, description=args.description))
        except ValueError as exc:
            raise VaultError(str(exc)) from exc
        return 0
    if args.verb == "list":
        _print(ra.list(scope=None if args.all else scope, assignee=principal, role=args.role,
                       include_inherited=args.include_inherited))
        return 0
    gone: list[Any] = []
    for ident in args.ids or [None]:
        gone += ra.delete(ident, scope=scope, assignee=principal, role=args.role)
    if not gone:
        print("No matched assignments were found to delete", file=sys.stderr)
    return 0


# --- set-policy -------------------------------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> Any:
    from notation_devstack.vault.client import EmulatorClient, resolve_state_dir

    return EmulatorClient(resolve_state_dir(args.state_dir))


def _principal(args: argparse.Namespace, client: Any) -> str:
    from notation_devstack.vault.fake_az import USER
    from notation_devstack.vault.tokens import object_id_for_client, object_id_for_upn

    given = [x for x in (args.object_id, args.spn, args.upn) if x]
    if len(given) != 1:
        raise VaultError("specify exactly one: --object-id, --spn, --upn")
    if args.object_id:
        return str(args.object_id)
    if args.spn:
        return object_id_for_client(args.spn)
    if args.upn.lower() == USER:
        return str(client.info["defaultPrincipal"])
    return object_id_for_upn(args.upn)


def _set_policy(args: argparse.Namespace) -> int:
    from notation_devstack.vault.access import normalize_permissions

    client = _client(args)
    oid = _principal(args, client)
    given = {
        "keys": args.key_permissions,
        "secrets": args.secret_permissions,
        "certificates": args.certificate_permissions,
        "storage": args.storage_permissions,
    }
    if all(v is None for v in given.values()):
        raise VaultError(
            "specify at least one: --key-permissions, --secret-permissions, --certificate-permissions "
            "--storage-permissions"
        )
    try:
        changes = {k: normalize_permissions(k, v) for k, v in given.items() if v is not None}
    except ValueError as exc:
        raise VaultError(str(exc)) from exc
    view = client.admin("GET", f"vaults/{args.name}")
    tenant = view["properties"]["tenantId"]
    entry = next(
        (
            e
            for e in view["properties"]["accessPolicies"]
            if e["objectId"].lower() == oid.lower()
            and e["tenantId"].lower() == tenant.lower()
            and (e.get("applicationId") or None) == (args.application_id or None)
        ),
        None,
    )
    perms: dict[str, list[str]] = dict((entry or {}).get("permissions") or {})
    perms.update(changes)  # az replaces only the lists that were given, keeps the others
    new_entry: dict[str, Any] = {"tenantId": tenant, "objectId": oid, "permissions": perms}
    if args.application_id:
        new_entry["applicationId"] = args.application_id
    result = client.admin(
        "PUT", f"vaults/{args.name}/accessPolicies/replace", {"properties": {"accessPolicies": [new_entry]}}
    )
    print(json.dumps(result, indent=2))
    return 0


def _delete_policy(args: argparse.Namespace) -> int:
    client = _client(args)
    oid = _principal(args, client)
    entry: dict[str, Any] = {"objectId": oid, "permissions": {}}
    if args.application_id:
        entry["applicationId"] = args.application_id
    result = client.admin(
        "PUT", f"vaults/{args.name}/accessPolicies/remove", {"properties": {"accessPolicies": [entry]}}
    )
    print(json.dumps(result, indent=2))
    return 0


# --- certificates -----------------------------------------------------------------------------------------------


def _iso(ts: Any) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).isoformat()


def _query(value: Any, query: str | None) -> Any:
    if not query:
        return value
    for part in query.strip().strip("'\"").split("."):
        if part.startswith("[") or not isinstance(value, dict):
            raise VaultError(f"unsupported --query {query!r}: only dotted field paths are emulated")
        value = value.get(part)
    return value


def _emit(args: argparse.Namespace, value: Any) -> None:
    value = _query(value, args.query)
    if args.output == "none":
        return
    if args.output == "tsv":
        rows = value if isinstance(value, list) else [value]
        for row in rows:
            if isinstance(row, dict):
                print("\t".join("" if v is None else str(v) for v in row.values() if not isinstance(v, dict | list)))
            else:
                print("" if row is None else row)
        return
    print(json.dumps(value, indent=2))


def _operation_view(op: dict[str, Any], name: str) -> dict[str, Any]:
    issuer = op.get("issuer") or {}
    return {
        "cancellationRequested": op.get("cancellation_requested", False),
        "csr": op.get("csr"),
        "error": op.get("error"),
        "id": op.get("id"),
        "issuerParameters": {
            "certificateTransparency": issuer.get("cert_transparency"),
            "certificateType": issuer.get("cty"),
            "name": issuer.get("name"),
        },
        "name": name,
        "requestId": op.get("request_id"),
        "status": op.get("status"),
        "statusDetails": op.get("status_details"),
        "target": op.get("target"),
    }


def _certificate_view(bundle: dict[str, Any], name: str) -> dict[str, Any]:
    from notation_devstack.vault.certpolicy import to_az

    der = base64.b64decode(bundle["cer"])
    sha1 = hashlib.sha1(der).digest()  # noqa: S324 - thumbprints are SHA-1 by definition
    attrs = bundle.get("attributes") or {}
    policy = bundle.get("policy") or {}
    return {
        "attributes": {
            "created": _iso(attrs.get("created")),
            "enabled": attrs.get("enabled"),
            "expires": _iso(attrs.get("exp")),
            "notBefore": _iso(attrs.get("nbf")),
            "recoveryLevel": attrs.get("recoveryLevel"),
            "updated": _iso(attrs.get("updated")),
        },
        "cer": bundle["cer"],
        "contentType": (policy.get("secret_props") or {}).get("contentType"),
        "id": bundle["id"],
        "kid": bundle["kid"],
        "name": name,
        "policy": to_az(policy, _iso) if policy else None,
        "sid": bundle["sid"],
        "tags": bundle.get("tags") or {},
        "x509Thumbprint": base64.b64encode(sha1).decode(),
        "x509ThumbprintHex": sha1.hex().upper(),
    }


def _load_policy(text: str) -> Any:
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            with path.open("rb") as fh:
                raw = fh.read(1024 * 1024 + 1)
        except OSError as exc:
            raise VaultError(f"cannot read policy file {path}: {exc.strerror}") from exc
        if len(raw) > 1024 * 1024:
            raise VaultError(f"policy file {path} is larger than 1 MiB")
        text = raw.decode("utf-8-sig", "replace")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise VaultError(f"the policy is not valid JSON: {exc}") from exc


def _cert_create(args: argparse.Namespace) -> int:
    from notation_devstack.vault.certpolicy import from_az

    client = _client(args)
    try:
        policy = from_az(_load_policy(args.policy))
    except ValueError as exc:
        raise VaultError(str(exc)) from exc
    tags = dict(t.split("=", 1) if "=" in t else (t, "") for t in args.tags)
    body = {"policy": policy, "attributes": {"enabled": not args.disabled}, "tags": tags}
    op = client.data("POST", args.vault_name, f"certificates/{args.name}/create", body)
    if (policy.get("issuer") or {}).get("name") != "Unknown":
        deadline = time.monotonic() + 60
        while op.get("status", "").lower() == "inprogress" and time.monotonic() < deadline:
            op = client.data("GET", args.vault_name, f"certificates/{args.name}/pending")
            if op.get("status", "").lower() == "inprogress":
                time.sleep(0.5)
        if op.get("status", "").lower() == "completed":
            client.data("GET", args.vault_name, f"certificates/{args.name}/")
            op = client.data("GET", args.vault_name, f"certificates/{args.name}/pending")
    _emit(args, _operation_view(op, args.name))
    return 0


def _cert_show(args: argparse.Namespace) -> int:
    client = _client(args)
    bundle = client.data("GET", args.vault_name, f"certificates/{args.name}/{args.version}")
    _emit(args, _certificate_view(bundle, args.name))
    return 0


def _cert_versions(args: argparse.Namespace) -> int:
    client = _client(args)
    items = client.data("GET", args.vault_name, f"certificates/{args.name}/versions")["value"]
    out = []
    for item in items:
        thumb = base64.urlsafe_b64decode(item["x5t"] + "=" * (-len(item["x5t"]) % 4))
        attrs = item.get("attributes") or {}
        out.append({
            "attributes": {"created": _iso(attrs.get("created")), "enabled": attrs.get("enabled"),
                           "expires": _iso(attrs.get("exp")), "notBefore": _iso(attrs.get("nbf")),
                           "recoveryLevel": attrs.get("recoveryLevel"), "updated": _iso(attrs.get("updated"))},
            "id": item["id"],
            "name": args.name,
            "subject": "",
            "tags": item.get("tags") or {},
            "x509Thumbprint": base64.b64encode(thumb).decode(),
            "x509ThumbprintHex": thumb.hex().upper(),
        })
    _emit(args, out)
    return 0


def _cert_download(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if path.exists():
        raise VaultError(f"File {args.file} already exists.")
    client = _client(args)
    bundle = client.data("GET", args.vault_name, f"certificates/{args.name}/{args.version}")
    der = base64.b64decode(bundle["cer"])
    if args.encoding == "DER":
        data = der
    else:
        b64 = base64.b64encode(der).decode()
        lines = [b64[i : i + 76] for i in range(0, len(b64), 76)]
        data = ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n").encode()
    # O_EXCL: never overwrite a file that appeared meanwhile (az refuses existing files too).
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError as exc:
        raise VaultError(f"File {args.file} already exists.") from exc
    except OSError as exc:
        raise VaultError(f"cannot write {args.file}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return 0


def _fake_az(args: argparse.Namespace) -> int:
    from notation_devstack.vault.client import resolve_state_dir
    from notation_devstack.vault.fake_az import write_script

    path = write_script(Path(args.dir), resolve_state_dir(args.state_dir))
    print(path)
    return 0
