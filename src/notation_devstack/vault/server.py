"""The emulator's HTTP side: one HTTPS listener for the Key Vault data plane, the AAD-like authority and the admin
API, plus a plain-HTTP loopback listener for the managed identity endpoint.

Order of work per data-plane request (KVE-05, KVA-05): bearer challenge (401) before anything else, then token
validation, api-version, vault by ``Host``, authorization, existence, request validation.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import re
import ssl
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from notation_devstack.serving import TlsThreadingHTTPServer, server_tls_context
from notation_devstack.vault import identity
from notation_devstack.vault.dataplane import DataPlane, Request, Response
from notation_devstack.vault.errors import ApiError, bad_parameter
from notation_devstack.vault.store import DEFAULT_APPID, StateStore, atomic_write, check_vault_name
from notation_devstack.vault.tokens import VAULT_RESOURCE, InvalidToken, TokenIssuer

MAX_BODY = 4 * 1024 * 1024
KEYVAULT_APP_ID = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"
# The versions the current SDKs (Python/.NET/Java/JS/Go) and az send, with their previews; others are refused
# with the service's text. NOTATION_DEVSTACK_VAULT_API_VERSIONS (comma separated) adds more, so a new SDK
# default never needs a new emulator release (the lowkey-vault#873 failure mode).
API_VERSIONS = frozenset({
    "2015-06-01", "2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01",
    "7.0-preview", "7.1-preview", "7.2-preview", "7.3-preview", "7.4-preview.1", "7.5-preview.1",
    "7.6-preview.1", "7.6-preview.2", "2025-06-01-preview",
})
LATEST_API_VERSION = "2026-04-01"
_DATA_COLLECTIONS = {
    "certificates", "keys", "secrets", "deletedcertificates", "deletedkeys", "deletedsecrets", "rng",
}


def api_version_ok(value: str) -> bool:
    extra = {v.strip().lower() for v in os.environ.get("NOTATION_DEVSTACK_VAULT_API_VERSIONS", "").split(",")}
    return value.lower() in API_VERSIONS or value.lower() in extra - {""}


def split_host(host: str) -> tuple[str, str]:
    """``name.localhost:8443`` -> (``name.localhost``, ``:8443``); IPv6 literals keep their brackets."""
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1], host[end + 1 :]
    name, sep, port = host.partition(":")
    return name, (sep + port)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
        return True
    except ValueError:
        return False


class EmulatorCore:
    """Everything a request handler needs: state, token issuer and the per-Host vault rules."""

    def __init__(self, store: StateStore, lenient: bool) -> None:
        self.store = store
        self.lenient = lenient
        self.issuer = TokenIssuer(store.root / "identity", store.tenant_id)

    def vault_for_host(self, host: str) -> str:
        """KVE-02: the first label of a DNS name picks the vault; IPs and bare ``localhost`` are the default."""
        name, _port = split_host(host)
        if _is_ip(name) or "." not in name:
            return self.store.default_vault
        label = name.split(".", 1)[0]
        try:
            return check_vault_name(label)
        except Exception as exc:
            raise bad_parameter(f"Invalid vault host name: {name}") from exc

    def resource_for_host(self, host: str) -> str:
        """KVE-06: the Host minus its first label, port kept, so that the SDKs' default challenge verification
        (the vault's netloc must end with ``"." + netloc(resource)``) passes for every reachable URL:
        ``kv1.localhost:8443`` -> ``https://localhost:8443``, and for the IP form ``127.0.0.1:8443`` ->
        ``https://0.0.1:8443`` (never a host anyone connects to: it is only the token audience). A host without
        a dot (``localhost:8443``, ``[::1]:8443``) cannot pass; it gets ``https://vault.azure.net``."""
        name, port = split_host(host)
        if name.startswith("[") or "." not in name.strip("."):
            return VAULT_RESOURCE
        return f"https://{name.split('.', 1)[1]}{port}"

    def challenge(self, host: str) -> str:
        return (
            f'Bearer authorization="https://{host}/{self.store.tenant_id}", '
            f'resource="{self.resource_for_host(host)}"'
        )


def vault_view(props: dict[str, Any]) -> dict[str, Any]:
    """The ARM-like view of a vault the admin API answers with."""
    return {
        "id": props["id"],
        "name": props["name"],
        "type": "Microsoft.KeyVault/vaults",
        "location": props.get("location"),
        "tags": props.get("tags") or {},
        "properties": {
            "tenantId": props["tenantId"],
            "sku": props.get("sku"),
            "enableRbacAuthorization": bool(props.get("enableRbacAuthorization")),
            "enableSoftDelete": props.get("enableSoftDelete", True),
            "softDeleteRetentionInDays": props.get("softDeleteRetentionInDays"),
            "enablePurgeProtection": props.get("enablePurgeProtection"),
            "accessPolicies": props.get("accessPolicies", []),
        },
    }


def admin_vaults(store: StateStore, method: str, segments: list[str], doc: dict[str, Any]) -> tuple[int, Any]:
    """``/_emulator/vaults[/<name>[/accessPolicies/<add|replace|remove>]]`` over the :class:`VaultRegistry`."""
    from notation_devstack.vault.errors import VaultError
    from notation_devstack.vault.registry import VaultRegistry

    reg = VaultRegistry(store.root)
    try:
        if not segments and method == "GET":
            return 200, {"value": [vault_view(p) for p in reg.list_vaults()]}
        name = check_vault_name(segments[0]) if segments else ""
        if len(segments) == 1 and method == "GET":
            props = store.properties(name)
            if props is None:
                raise ApiError(404, "VaultNotFound", f"The vault '{name}' was not found.")
            return 200, vault_view(props)
        if len(segments) == 1 and method == "PUT":
            p = doc.get("properties") or {}
            created = reg.create_vault(
                name,
                enable_rbac_authorization=bool(p.get("enableRbacAuthorization", False)),
                enable_soft_delete=bool(p.get("enableSoftDelete", True)),
                soft_delete_retention_days=int(p.get("softDeleteRetentionInDays") or 90),
                enable_purge_protection=p.get("enablePurgeProtection"),
                access_policies=p.get("accessPolicies"),
            )
            return 200, vault_view(created)
        if len(segments) == 1 and method == "PATCH":
            p = doc.get("properties") or {}
            updated = reg.update_vault(
                name,
                enable_rbac_authorization=p.get("enableRbacAuthorization"),
                enable_purge_protection=p.get("enablePurgeProtection"),
                soft_delete_retention_days=p.get("softDeleteRetentionInDays"),
            )
            return 200, vault_view(updated)
        if len(segments) == 1 and method == "DELETE":
            reg.delete_vault(name)
            return 200, None
        if len(segments) == 2 and segments[1] == "export" and method == "GET":
            from notation_devstack.vault.seed import export_vault

            return 200, export_vault(store, name)
        if len(segments) == 2 and segments[1] == "import" and method == "POST":
            from notation_devstack.vault.seed import import_vault

            return 200, import_vault(store, doc.get("export"), name, replace=bool(doc.get("replace")))
        if len(segments) == 3 and segments[1] == "accessPolicies" and method == "PUT":
            entries = (doc.get("properties") or {}).get("accessPolicies") or []
            if not isinstance(entries, list):
                raise bad_parameter("properties.accessPolicies must be a list")
            if store.properties(name) is None:
                raise ApiError(404, "VaultNotFound", f"The vault '{name}' was not found.")
            return 200, vault_view(reg.change_access_policies(name, segments[2], entries))
    except (VaultError, ValueError) as exc:
        raise bad_parameter(str(exc)) from exc
    raise ApiError(404, "NotFound", "Unknown admin endpoint.")


def admin_role_assignments(
    store: StateStore, method: str, segments: list[str], doc: dict[str, Any]
) -> tuple[int, Any]:
    """``GET|POST /_emulator/roleAssignments``, ``DELETE /_emulator/roleAssignments/<name>``."""
    from notation_devstack.vault.errors import VaultError
    from notation_devstack.vault.registry import VaultRegistry

    ra = VaultRegistry(store.root).role_assignments
    try:
        if not segments and method == "GET":
            return 200, {"value": ra.list()}
        if not segments and method == "POST":
            return 201, ra.create(
                str(doc.get("scope") or ""), str(doc.get("role") or doc.get("roleDefinitionId") or ""),
                str(doc.get("principalId") or ""), principal_type=str(doc.get("principalType") or "User"),
                name=doc.get("name"), description=doc.get("description"),
            )
        if len(segments) == 1 and method == "DELETE":
            gone = ra.delete(segments[0])
            if not gone:
                raise ApiError(404, "RoleAssignmentNotFound", "The role assignment was not found.")
            return 200, gone[0]
    except (VaultError, ValueError) as exc:
        raise bad_parameter(str(exc)) from exc
    raise ApiError(404, "NotFound", "Unknown admin endpoint.")


class _Server(TlsThreadingHTTPServer):
    log_env = "NOTATION_DEVSTACK_VAULT_LOG"


class _Handler(BaseHTTPRequestHandler):
    server_version = "notation-devstack-vault/1"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds a connection may sit idle or stalled mid-request before it is dropped
    core: EmulatorCore  # set on the subclass made per server
    plain_http: bool = False

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("NOTATION_DEVSTACK_VAULT_LOG"):
            super().log_message(format, *args)

    # one entry point for every verb
    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        client_id = self.headers.get("x-ms-client-request-id")
        if client_id and self.headers.get("x-ms-return-client-request-id", "").lower() == "true":
            self.send_header("x-ms-client-request-id", client_id)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _read_body(self) -> bytes:
        # A body we refuse to read leaves the connection mid-request: it must close after the answer, or the
        # unread bytes would be parsed as the next request.
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise ApiError(411, "BadParameter", "Chunked request bodies are not supported.",
                           headers={"Connection": "close"})
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            self.close_connection = True
            raise ApiError(400, "BadParameter", "Invalid Content-Length.", headers={"Connection": "close"}) from exc
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "BadParameter", f"Request body larger than {MAX_BODY} bytes.",
                           headers={"Connection": "close"})
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
            parsed = urllib.parse.urlsplit(self.path)
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
            segments = parsed.path.split("/")[1:]
            address: Any = self.server.server_address
            host = self.headers.get("Host") or f"{address[0]}:{address[1]}"
            first = segments[0].lower() if segments else ""
            if parsed.path.rstrip("/") == "/metadata/identity/oauth2/token" and self.command == "GET":
                headers = {k.lower(): v for k, v in self.headers.items()}
                self._send(200, identity.managed_identity_token(self.core.issuer, query, headers))
                return
            if self.plain_http:
                raise ApiError(404, "NotFound", "Only the managed identity endpoint is served over HTTP.")
            if first == "_emulator":
                self._admin(segments[1:], body, host)
                return
            if first not in _DATA_COLLECTIONS and len(segments) >= 2 and self._authority(segments, body, host):
                return
            self._data_plane(segments, body, host, query)
        except ApiError as exc:
            if exc.headers.pop("x-oauth-error", None):
                self._send(exc.status, identity.oauth_error_body(exc), exc.headers)
            else:
                self._send(exc.status, exc.body(), exc.headers)
        except Exception as exc:  # never let a bug drop the connection without an answer
            self._send(500, {"error": {"code": "InternalError", "message": f"{type(exc).__name__}: {exc}"}})

    # --- AAD-like authority -----------------------------------------------------------------------------

    def _authority(self, segments: list[str], body: bytes, host: str) -> bool:
        tenant, rest = segments[0], "/".join(segments[1:]).lower()
        base = f"https://{host}"
        if self.command == "POST" and rest in ("oauth2/v2.0/token", "oauth2/token"):
            self._send(200, identity.client_credentials_token(self.core.issuer, tenant, body))
            return True
        oidc = ("v2.0/.well-known/openid-configuration", ".well-known/openid-configuration")
        if self.command == "GET" and rest in oidc:
            self._send(200, identity.openid_configuration(base, tenant))
            return True
        if self.command == "GET" and rest in ("discovery/v2.0/keys", "discovery/keys"):
            self._send(200, self.core.issuer.jwks())
            return True
        if self.command == "GET" and tenant.lower() == "common" and rest == "discovery/instance":
            tdisc = f"{base}/{self.core.store.tenant_id}/v2.0/.well-known/openid-configuration"
            self._send(200, {"tenant_discovery_endpoint": tdisc, "api-version": "1.1", "metadata": []})
            return True
        return False

    # --- admin API ------------------------------------------------------------------------------------------

    def _admin(self, segments: list[str], body: bytes, host: str) -> None:
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(token.encode(), self.core.store.admin_token.encode()):
            raise ApiError(401, "Unauthorized", "The admin API needs the admin token from the state directory.")
        try:
            doc = json.loads(body) if body else {}
        except ValueError as exc:
            raise bad_parameter(f"Invalid JSON body: {exc}") from exc
        store = self.core.store
        if segments == ["tokens"] and self.command == "POST":
            token_str, expires = self.core.issuer.issue(
                str(doc.get("objectId") or store.default_principal),
                audience=str(doc.get("audience") or VAULT_RESOURCE),
                app_id=str(doc.get("appId") or DEFAULT_APPID),
            )
            self._send(200, {"accessToken": token_str, "expiresOn": expires})
            return
        if segments == ["info"] and self.command == "GET":
            self._send(200, {"tenantId": store.tenant_id, "defaultVault": store.default_vault,
                             "defaultPrincipal": store.default_principal})
            return
        if segments and segments[0] == "vaults":
            self._send(*admin_vaults(store, self.command, segments[1:], doc))
            return
        if segments and segments[0] == "roleAssignments":
            self._send(*admin_role_assignments(store, self.command, segments[1:], doc))
            return
        raise ApiError(404, "NotFound", "Unknown admin endpoint.")

    # --- Key Vault data plane -------------------------------------------------------------------------------

    def _data_plane(self, segments: list[str], body: bytes, host: str, query: dict[str, str]) -> None:
        core = self.core
        auth = self.headers.get("Authorization", "")
        challenge = {"WWW-Authenticate": core.challenge(host)}
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise ApiError(
                401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.", headers=challenge
            )
        audiences = {VAULT_RESOURCE, KEYVAULT_APP_ID, core.resource_for_host(host)}
        try:
            principal = core.issuer.validate(
                auth[7:].strip(), audiences, lenient=core.lenient, default_principal=core.store.default_principal
            )
        except InvalidToken as exc:
            raise ApiError(401, "Unauthorized", str(exc), headers=challenge) from exc
        api_version = query.get("api-version")
        if not api_version:
            raise bad_parameter("The api-version query parameter (?api-version=) is required for all requests.")
        if not api_version_ok(api_version):
            raise bad_parameter(f"The specified version ({api_version}) is not recognized. Consider using the "
                                f"latest supported version ({LATEST_API_VERSION}).")
        if not segments or segments[0].lower() not in _DATA_COLLECTIONS:
            raise ApiError(404, "NotFound", "The requested resource was not found.")
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError as exc:
                raise bad_parameter(f"The request body is not valid JSON: {exc}") from exc
        vault_name = core.vault_for_host(host)
        with core.store.lock:
            plane = DataPlane(core.store, vault_name)
            result: Response = plane.handle(
                Request(self.command, segments, host, principal, parsed, query)
            )
        self._send(result.status, result.body, result.headers)


class VaultServer:
    """A running emulator: ``with VaultServer(state_dir) as vault: vault.url ...``.

    ``url`` is the default vault's URL (``https://127.0.0.1:<port>``); other vaults are reached with a Host of
    ``<vault>.localhost:<port>`` (see :meth:`vault_url`). ``ca_cert_path`` is the CA clients must trust
    (``REQUESTS_CA_BUNDLE`` or ``connection_verify``). Token sources for each credential type: see
    :mod:`notation_devstack.vault.identity`.
    """

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tenant_id: str | None = None,
        vault_name: str | None = None,
        lenient: bool = False,
        cert_file: str | os.PathLike[str] | None = None,
        key_file: str | os.PathLike[str] | None = None,
        managed_identity_port: int = 0,
    ) -> None:
        from notation_devstack.vault import pki

        self.state_dir = Path(state_dir)
        self.store = StateStore(self.state_dir, tenant_id=tenant_id, default_vault=vault_name)
        self.core = EmulatorCore(self.store, lenient)
        self.host = host
        if cert_file and key_file:
            self._cert, self._key = Path(cert_file), Path(key_file)
            self.ca_cert_path = self._cert
            ca_default = self.state_dir / "tls" / "ca.pem"
            if ca_default.exists():
                self.ca_cert_path = ca_default
        else:
            self.ca_cert_path, self._cert, self._key = pki.ensure_tls(self.state_dir / "tls", [host])
        handler = type("Handler", (_Handler,), {"core": self.core})
        self._https = _Server((host, port), handler)
        context = server_tls_context(str(self._cert), str(self._key))
        self._tls_dir = self.state_dir / "tls"
        self._host_contexts: dict[str, ssl.SSLContext] = {}
        self._sni_lock = threading.Lock()
        if (self._tls_dir / "ca-key.pem").exists():
            context.sni_callback = self._sni
        self._https.ssl_context = context
        mi_handler = type("MIHandler", (_Handler,), {"core": self.core, "plain_http": True})
        self._http = _Server((host, managed_identity_port), mi_handler)
        self._threads: list[threading.Thread] = []
        self.port = int(self._https.server_address[1])
        self.mi_port = int(self._http.server_address[1])

    def _sni(self, sock: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _ctx: ssl.SSLContext) -> None:
        """Named vaults: ``<vault>.localhost`` gets a certificate for exactly that name (issued on first use)."""
        if not server_name:
            return
        name = server_name.lower().rstrip(".")
        label, _, parent = name.partition(".")
        if parent != "localhost" or not re.fullmatch(r"[0-9a-z-]{1,127}", label):
            return
        with self._sni_lock:
            ctx = self._host_contexts.get(name)
            if ctx is None and len(self._host_contexts) < 1024:
                from notation_devstack.vault import pki

                cert, key = pki.leaf_for_host(self._tls_dir, name)
                ctx = server_tls_context(str(cert), str(key))
                self._host_contexts[name] = ctx
        if ctx is not None:
            sock.context = ctx

    # --- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> VaultServer:
        if self._threads:
            return self
        for srv in (self._https, self._http):
            thread = threading.Thread(target=srv.serve_forever, name=f"vault-{srv.server_address[1]}", daemon=True)
            thread.start()
            self._threads.append(thread)
        atomic_write(self.state_dir / "server.json", json.dumps(self.info(), indent=2).encode())
        return self

    def stop(self) -> None:
        for srv in (self._https, self._http):
            if self._threads:
                srv.shutdown()
            srv.server_close()
        self._threads = []
        try:
            info = json.loads((self.state_dir / "server.json").read_text())
            if info.get("pid") == os.getpid() and info.get("url") == self.url:
                (self.state_dir / "server.json").unlink()
        except (OSError, ValueError):
            pass

    def __enter__(self) -> VaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses ------------------------------------------------------------------------------------------

    @property
    def _netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"https://{self._netloc}"

    @property
    def authority_host(self) -> str:
        """``AZURE_AUTHORITY_HOST`` for workload identity and environment credentials."""
        return self.url

    @property
    def managed_identity_endpoint(self) -> str:
        """``IDENTITY_ENDPOINT`` (App Service style managed identity), plain HTTP on loopback."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.mi_port}/metadata/identity/oauth2/token"

    @property
    def imds_authority(self) -> str:
        """``AZURE_POD_IDENTITY_AUTHORITY_HOST`` (IMDS style managed identity)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.mi_port}"

    @property
    def tenant_id(self) -> str:
        return self.store.tenant_id

    @property
    def vault_name(self) -> str:
        return self.store.default_vault

    @property
    def default_principal(self) -> str:
        """Object id of the "signed-in user" (the fake ``az``'s identity; allowed everything in a new vault)."""
        return self.store.default_principal

    def vault_url(self, vault: str | None = None) -> str:
        if vault is None or vault.lower() == self.vault_name.lower():
            return self.url
        return f"https://{check_vault_name(vault)}.localhost:{self.port}"

    def info(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "pid": os.getpid(),
            "caCert": str(self.ca_cert_path),
            "tenantId": self.tenant_id,
            "defaultVault": self.vault_name,
            "defaultPrincipal": self.default_principal,
            "authorityHost": self.authority_host,
            "managedIdentityEndpoint": self.managed_identity_endpoint,
            "imdsAuthority": self.imds_authority,
        }

    # --- helpers for tests and `notation-devstack up` ---------------------------------------------------------

    def token(self, object_id: str | None = None, *, app_id: str | None = None, lifetime: int = 3600) -> str:
        tok, _exp = self.core.issuer.issue(
            object_id or self.default_principal,
            app_id=app_id or DEFAULT_APPID,
            lifetime=lifetime,
        )
        return tok

    def credential(self, object_id: str | None = None, *, app_id: str | None = None) -> Any:
        """An azure-core ``TokenCredential`` issuing this emulator's tokens for ``object_id`` (no network)."""
        from notation_devstack.vault.credential import StaticEmulatorCredential

        return StaticEmulatorCredential(self, object_id, app_id)

    @staticmethod
    def object_id_for_client(client_id: str) -> str:
        """The principal of environment / workload identity credentials using ``client_id``."""
        from notation_devstack.vault.tokens import object_id_for_client

        return object_id_for_client(client_id)

    @staticmethod
    def managed_identity_object_id(client_id: str | None = None) -> str:
        return identity.managed_identity_object_id(client_id)

    @property
    def registry(self) -> Any:
        """The :class:`~notation_devstack.vault.registry.VaultRegistry` of this emulator's state directory."""
        from notation_devstack.vault.registry import VaultRegistry

        return VaultRegistry(self.state_dir)

    def set_policy(
        self,
        object_id: str,
        *,
        keys: list[str] | None = None,
        secrets: list[str] | None = None,
        certificates: list[str] | None = None,
        storage: list[str] | None = None,
        application_id: str | None = None,
        vault: str | None = None,
        mode: str = "replace",
    ) -> None:
        """Change an access policy entry (``mode``: add | replace | remove, ARM semantics) and persist it."""
        name = vault or self.vault_name
        self.store.properties(name)  # the default vault exists on first use
        self.registry.set_access_policy(
            name, object_id, keys=keys, secrets=secrets, certificates=certificates, storage=storage,
            application_id=application_id, mode=mode,
        )

    def clear_policies(self, vault: str | None = None) -> None:
        """Remove every access policy entry (then nobody, not even the default principal, has access)."""
        name = vault or self.vault_name
        self.store.properties(name)
        self.registry.clear_access_policies(name)

    def create_certificate(
        self, name: str, policy: dict[str, Any], *, vault: str | None = None, az_format: bool | None = None
    ) -> dict[str, Any]:
        """Create a certificate directly (test setup); ``policy`` in wire or az form. Returns the bundle."""
        from notation_devstack.vault import certpolicy
        from notation_devstack.vault.access import Principal

        if az_format or (az_format is None and any(k[0].isupper() or k.endswith("Parameters") or
                                                   k.endswith("Properties") for k in policy)):
            policy = certpolicy.from_az(policy)
        vault_name = vault or self.vault_name
        host = f"{vault_name}.localhost:{self.port}" if vault_name.lower() != self.vault_name.lower() else self._netloc
        admin = Principal("__emulator_admin__", self.tenant_id)
        with self.store.lock:
            plane = DataPlane(self.store, vault_name)
            # Test setup bypasses access policies: call the handler directly, not through handle().
            plane.base = f"https://{host}"
            plane.req = Request("POST", ["certificates", name, "create"], host, admin, {"policy": policy}, {})
            plane.create_certificate(name, None)
            return plane.get_certificate(name, None).body  # type: ignore[no-any-return]

    def write_fake_az(self, directory: str | os.PathLike[str]) -> Path:
        """Write an ``az`` executable into ``directory`` answering ``az account get-access-token`` offline."""
        from notation_devstack.vault.fake_az import write_script

        return write_script(Path(directory), self.state_dir)
