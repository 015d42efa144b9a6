"""Errors of the Key Vault emulator.

``ApiError`` is an answer the emulator gives over HTTP, in the service's error shape (spec §2.4, KVE-10), so the
handlers can raise it from any depth and the server renders it once. ``VaultError`` is for the devstack's own
commands: a one-line message the CLI prints as ``Error: <message>``.
"""

from __future__ import annotations

from typing import Any


class VaultError(Exception):
    """A devstack ``vault`` command or the emulator's Python API failed; the message is user-facing."""


class ApiError(Exception):
    """An error response: HTTP status, service error code, message and optional inner error code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        inner: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.inner = inner
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.inner:
            error["innererror"] = {"code": self.inner}
        return {"error": error}


def bad_parameter(message: str) -> ApiError:
    return ApiError(400, "BadParameter", message)


_NOT_FOUND_CODES = {"certificate": "CertificateNotFound", "key": "KeyNotFound", "secret": "SecretNotFound"}


def not_found(kind: str, name: str, version: str | None = None) -> ApiError:
    """404 with the service's wording (§2.4): ``(name/id) <name>[/versions/<version>]``."""
    ident = f"{name}/versions/{version}" if version else name
    return ApiError(
        404,
        _NOT_FOUND_CODES[kind],
        f"A {kind} with (name/id) {ident} was not found in this key vault. If you recently deleted this {kind} "
        "you may be able to recover it using the correct recovery command. For help resolving this issue, "
        "please see https://go.microsoft.com/fwlink/?linkid=2125182",
    )
