"""``notation login`` / ``notation logout`` as plain functions (CLI-103..106); the CLI layer prompts and prints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from notation._internal.records import dataclass, field
from notation._internal.registry.credentials import (
    Credential,
    CredentialStore,
    FileStore,
    open_credential_store,
    server_key,
)
from notation.errors import ConfigError, NotationError, RegistryError

if TYPE_CHECKING:
    from notation._internal.registry.httpclient import Session
    from notation._internal.registry.transport import TransportOptions

STORE_NOT_SET_UP_WARNING = (
    "The credentials store is not set up. It is recommended to configure the credentials store to securely store "
    "your credentials. See https://notaryproject.dev/docs/how-to/registry-authentication/."
)


@dataclass(frozen=True)
class LoginResult:
    message: str
    """What to print on stdout: ``Login Succeeded`` or ``Authenticated with existing credentials``."""
    warnings: list[str] = field(default_factory=list)
    """To print on stderr as ``Warning: <text>``."""


def login(
    registry: str,
    username: str,
    password: str,
    *,
    insecure: bool = False,
    config_dir: Path | None = None,
    session: Session | None = None,
    options: TransportOptions | None = None,
    store: CredentialStore | None = None,
) -> LoginResult:
    """Check the credential against ``GET /v2/`` and save it in the credentials store (CLI-103, CLI-104).

    An empty ``username`` makes ``password`` an identity token. Errors carry Go's full message, ready for
    ``Error: <message>``.
    """
    from notation._internal.registry.client import RegistryClient

    if not registry:
        raise RegistryError("no hostname specified")
    credential = Credential(username=username, password=password) if username else Credential(refresh_token=password)
    try:
        chosen = store or open_credential_store(config_dir)
    except ConfigError as exc:
        raise ConfigError(
            str(exc)
            if str(exc).startswith("failed to get credentials store")
            else f"failed to get credentials store: {exc}"
        ) from exc
    client = RegistryClient(
        username=username,
        password=password,
        insecure=insecure,
        config_dir=config_dir,
        session=session,
        options=options,
        credential_store=chosen,
    )
    try:
        client.ping(registry)
    except NotationError as exc:
        raise type(exc)(
            f"failed to log in to {registry}: failed to validate the credentials for {registry}: {exc}"
        ) from exc
    finally:
        client.close()
    key = server_key(registry)
    plaintext = chosen.saves_plaintext_for(key) if isinstance(chosen, FileStore) else chosen.saves_plaintext
    if plaintext:
        try:
            existing = chosen.get(key)
        except NotationError:
            existing = None
        if existing == credential:
            return LoginResult("Authenticated with existing credentials", [STORE_NOT_SET_UP_WARNING])
        raise RegistryError(
            f"failed to log in to {registry}: the credential could not be saved because a credentials store is "
            "required to securely store the password. See https://notaryproject.dev/docs/how-to/registry-authentication/"
        )
    try:
        chosen.put(key, credential)
    except NotationError as exc:
        raise type(exc)(f"failed to log in to {registry}: {exc}") from exc
    return LoginResult("Login Succeeded")


def logout(registry: str, *, config_dir: Path | None = None, store: CredentialStore | None = None) -> str:
    """Erase the stored credential for ``registry`` (CLI-106); returns ``Logout Succeeded``."""
    if not registry:
        raise RegistryError("no hostname specified")
    try:
        chosen = store or open_credential_store(config_dir)
        chosen.delete(server_key(registry))
    except NotationError as exc:
        raise type(exc)(f"failed to log out of {registry}: {exc}") from exc
    return "Logout Succeeded"
