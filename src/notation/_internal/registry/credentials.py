"""Registry credentials: flags and env (CLI-35), config-file stores and docker credential helpers (CLI-36, CLI-37).

Secrets live only in :class:`Credential` objects (whose ``repr`` hides them) and in the helper's stdin; they are
never put into an error message or a log line.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
from pathlib import Path
from typing import Any, Protocol

from notation._internal.config import dirs
from notation._internal.config.config_file import CLIConfig, load_config
from notation._internal.config.fileio import atomic_write, go_json, read_regular_file
from notation._internal.log import logger as log
from notation._internal.records import dataclass, field
from notation.errors import ConfigError, RegistryError

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
TOKEN_USERNAME = "<token>"  # noqa: S105 - the protocol's marker, not a secret
NOT_FOUND_MESSAGE = "credentials not found in native keychain"
HELPER_TIMEOUT = 60.0
MAX_HELPER_OUTPUT = 1024 * 1024


@dataclass(frozen=True)
class Credential:
    """Username/password, or an identity (refresh) token; empty means anonymous."""

    username: str = ""
    password: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)

    @property
    def is_empty(self) -> bool:
        return not (self.username or self.password or self.refresh_token)


EMPTY = Credential()


def server_key(registry: str) -> str:
    """The store key for a registry (CLI-36): Docker Hub's legacy URL, else ``host[:port]``."""
    if registry in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        return DOCKER_HUB_KEY
    return registry


class CredentialStore(Protocol):
    """Where credentials are read from and saved to."""

    def get(self, server: str) -> Credential: ...

    def put(self, server: str, credential: Credential) -> None: ...

    def delete(self, server: str) -> None: ...

    @property
    def saves_plaintext(self) -> bool:
        """True when ``put`` would write the secret in plain text (CLI-104 refuses that)."""
        ...


class HelperStore:
    """A ``docker-credential-<suffix>`` executable speaking the docker-credential-helpers protocol (CLI-37)."""

    saves_plaintext = False

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.program = f"docker-credential-{suffix}"

    def _run(self, action: str, stdin: bytes) -> tuple[int, bytes]:
        import shutil
        import subprocess

        exe = shutil.which(self.program)
        if exe is None:
            raise RegistryError(f'credential helper "{self.program}" not found in PATH')
        env = {k: v for k, v in os.environ.items() if k not in ("NOTATION_USERNAME", "NOTATION_PASSWORD")}
        log.debug("Executing credential helper %s %s", exe, action)  # CLI-06; never its stdin or stdout
        try:
            proc = subprocess.run(
                [exe, action], input=stdin, capture_output=True, timeout=HELPER_TIMEOUT, env=env, check=False
            )
        except subprocess.TimeoutExpired:
            raise RegistryError(f"credential helper {self.program} {action}: timed out") from None
        except OSError as exc:
            raise RegistryError(f"credential helper {self.program} {action}: {exc.strerror or exc}") from None
        log.debug("Credential helper %s %s exited with status %d", self.program, action, proc.returncode)
        return proc.returncode, proc.stdout[:MAX_HELPER_OUTPUT]

    def _fail(self, action: str, out: bytes) -> RegistryError:
        # The helper's stdout on failure is its error text (never the secret: that is only sent on success).
        text = " ".join(out.decode("utf-8", "replace").split())[:300]
        return RegistryError(f"credential helper {self.program} {action} failed: {text or 'no output'}")

    def get(self, server: str) -> Credential:
        code, out = self._run("get", server.encode())
        if code != 0:
            if NOT_FOUND_MESSAGE in out.decode("utf-8", "replace"):
                return EMPTY
            raise self._fail("get", out)
        try:
            doc = json.loads(out)
        except (ValueError, UnicodeDecodeError):
            raise RegistryError(f"credential helper {self.program} get: malformed output") from None
        if not isinstance(doc, dict):
            raise RegistryError(f"credential helper {self.program} get: malformed output")
        username, secret = doc.get("Username", ""), doc.get("Secret", "")
        if not isinstance(username, str) or not isinstance(secret, str):
            raise RegistryError(f"credential helper {self.program} get: malformed output")
        if username == TOKEN_USERNAME:
            return Credential(refresh_token=secret)
        return Credential(username=username, password=secret)

    def put(self, server: str, credential: Credential) -> None:
        if credential.refresh_token:
            body = {"ServerURL": server, "Username": TOKEN_USERNAME, "Secret": credential.refresh_token}
        else:
            body = {"ServerURL": server, "Username": credential.username, "Secret": credential.password}
        code, out = self._run("store", json.dumps(body).encode())
        if code != 0:
            raise self._fail("store", out)

    def delete(self, server: str) -> None:
        code, out = self._run("erase", server.encode())
        if code != 0 and NOT_FOUND_MESSAGE not in out.decode("utf-8", "replace"):
            raise self._fail("erase", out)


def _decode_auths_entry(entry: Any, server: str) -> Credential:
    """A config.json ``auths`` entry: base64 ``auth`` (user:password), ``identitytoken``, or legacy fields."""
    if not isinstance(entry, dict):
        raise ConfigError(f"malformed credentials for {server} in config file: not a JSON object")
    token = entry.get("identitytoken") or ""
    auth = entry.get("auth") or ""
    username = entry.get("username") or ""
    password = entry.get("password") or ""
    if not all(isinstance(v, str) for v in (token, auth, username, password)):
        raise ConfigError(f"malformed credentials for {server} in config file: values must be strings")
    if auth:
        try:
            decoded = base64.b64decode(auth, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ConfigError(f"malformed credentials for {server} in config file: invalid auth value") from None
        if ":" not in decoded:
            raise ConfigError(f"malformed credentials for {server} in config file: invalid auth value")
        username, password = decoded.split(":", 1)
    if token:
        return Credential(username=username, refresh_token=token)
    return Credential(username=username, password=password)


class FileStore:
    """One config.json (notation's or Docker's): ``credHelpers[server]`` -> ``credsStore`` -> plaintext ``auths``."""

    def __init__(self, config: CLIConfig) -> None:
        self.config = config

    def _helper(self, server: str) -> HelperStore | None:
        suffix = self.config.cred_helpers.get(server) or self.config.creds_store
        return HelperStore(suffix) if suffix else None

    @property
    def saves_plaintext(self) -> bool:
        return not (self.config.creds_store or self.config.cred_helpers)

    def saves_plaintext_for(self, server: str) -> bool:
        return self._helper(server) is None

    def get(self, server: str) -> Credential:
        helper = self._helper(server)
        if helper is not None:
            return helper.get(server)
        entry = self.config.auths.get(server)
        if entry is None:
            return EMPTY
        return _decode_auths_entry(entry, server)

    def put(self, server: str, credential: Credential) -> None:
        helper = self._helper(server)
        if helper is None:
            raise RegistryError(
                "the credential could not be saved because a credentials store is required to securely store the "
                "password. See https://notaryproject.dev/docs/how-to/registry-authentication/"
            )
        helper.put(server, credential)

    def delete(self, server: str) -> None:
        helper = self._helper(server)
        if helper is None:
            if server in self.config.auths:
                raise RegistryError(
                    f"the credential for {server} is stored in plain text in {self.config.path} and is not removed "
                    "by notation; edit that file"
                )
            return
        helper.delete(server)


class NativeStore(HelperStore):
    """The platform default helper (CLI-36 step 3); after a first save it is recorded as notation's ``credsStore``."""

    def __init__(self, suffix: str, config_dir: Path) -> None:
        super().__init__(suffix)
        self.config_dir = config_dir

    def put(self, server: str, credential: Credential) -> None:
        super().put(server, credential)
        _record_creds_store(self.config_dir, self.suffix)


def _record_creds_store(config_dir: Path, suffix: str) -> None:
    """Set ``credsStore`` in {CONFIG}/config.json, keeping every other member (oras DynamicStore behaviour)."""
    path = config_dir / dirs.CONFIG_FILE
    data = read_regular_file(path)
    doc: dict[str, Any] = {}
    if data:
        try:
            loaded = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return
        if not isinstance(loaded, dict):
            return
        doc = loaded
    if doc.get("credsStore"):
        return
    doc["credsStore"] = suffix
    atomic_write(path, go_json(doc).encode())


def docker_config_dir() -> Path:
    override = os.environ.get("DOCKER_CONFIG")
    if override:
        return Path(override)
    return Path.home() / ".docker"


def default_native_helper() -> str | None:
    """CLI-36 step 3: the platform's helper suffix, if its executable is on PATH."""
    import shutil

    if sys.platform == "darwin":
        suffix = "osxkeychain"
    elif sys.platform == "win32":
        suffix = "wincred"
    else:
        suffix = "pass" if shutil.which("pass") else "secretservice"
    return suffix if shutil.which(f"docker-credential-{suffix}") else None


def open_credential_store(config_dir: Path | None = None) -> CredentialStore:
    """Pick the credentials store as Go notation does (CLI-36); a malformed config file is an error (CLI-20)."""
    cfg_dir = config_dir or dirs.config_dir()
    try:
        notation_cfg = load_config(cfg_dir)
        if notation_cfg.configures_auth:
            return FileStore(notation_cfg)
        docker_cfg = load_config(docker_config_dir())
        if docker_cfg.configures_auth:
            return FileStore(docker_cfg)
    except ConfigError as exc:
        raise ConfigError(
            f"failed to get credentials store: failed to create credential store from config file: {exc}"
        ) from exc
    native = default_native_helper()
    if native is not None:
        return NativeStore(native, cfg_dir)
    return FileStore(notation_cfg)


def explicit_credential(username: str | None, password: str | None) -> Credential | None:
    """CLI-35 step 1: ``-u/-p`` (or their env defaults); an empty username makes the password an identity token."""
    if username is None:
        username = os.environ.get("NOTATION_USERNAME", "")
    if password is None:
        password = os.environ.get("NOTATION_PASSWORD", "")
    if not username and not password:
        return None
    if not username:
        return Credential(refresh_token=password)
    return Credential(username=username, password=password)


class CredentialResolver:
    """Credentials for a command: explicit ones first, then the store, looked up once per registry (CLI-35)."""

    def __init__(
        self,
        username: str | None = None,
        password: str | None = None,
        *,
        config_dir: Path | None = None,
        store: CredentialStore | None = None,
    ) -> None:
        self._explicit = explicit_credential(username, password)
        self._config_dir = config_dir
        self._store = store
        self._cache: dict[str, Credential] = {}

    def __call__(self, registry: str) -> Credential:
        if self._explicit is not None:
            return self._explicit
        key = server_key(registry)
        if key not in self._cache:
            store = self._store or open_credential_store(self._config_dir)
            self._store = store
            self._cache[key] = store.get(key)
        return self._cache[key]
