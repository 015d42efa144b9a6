"""Distribution-spec errors: one exception type carrying the HTTP status and the spec's error code.

Every bad request ends in one of these, so the HTTP layer has a single place that turns failures into the
``{"errors": [{"code": ..., "message": ..., "detail": ...}]}`` body the OCI distribution spec prescribes.
"""

from __future__ import annotations

import json
from typing import Any


class DistributionError(Exception):
    """A request the registry refuses, with the HTTP status and the distribution-spec error code."""

    def __init__(self, status: int, code: str, message: str, detail: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = dict(headers or {})
        """Extra response headers, e.g. the ``WWW-Authenticate`` challenge of a 401."""

    def body(self) -> bytes:
        entry: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            entry["detail"] = self.detail
        return json.dumps({"errors": [entry]}).encode()


def blob_unknown(digest: str) -> DistributionError:
    return DistributionError(404, "BLOB_UNKNOWN", "blob unknown to registry", {"digest": digest})


def blob_upload_unknown(upload_id: str) -> DistributionError:
    return DistributionError(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", {"id": upload_id})


def blob_upload_invalid(message: str) -> DistributionError:
    return DistributionError(400, "BLOB_UPLOAD_INVALID", message)


def digest_invalid(message: str, digest: str | None = None) -> DistributionError:
    return DistributionError(400, "DIGEST_INVALID", message, {"digest": digest} if digest else None)


def manifest_unknown(reference: str) -> DistributionError:
    return DistributionError(404, "MANIFEST_UNKNOWN", "manifest unknown", {"reference": reference})


def manifest_invalid(message: str) -> DistributionError:
    return DistributionError(400, "MANIFEST_INVALID", f"manifest invalid: {message}")


def manifest_blob_unknown(digest: str) -> DistributionError:
    return DistributionError(400, "MANIFEST_BLOB_UNKNOWN", "manifest references a blob unknown to the repository",
                             {"digest": digest})


def name_invalid(name: str) -> DistributionError:
    return DistributionError(400, "NAME_INVALID", "invalid repository name", {"name": name[:300]})


def name_unknown(name: str) -> DistributionError:
    return DistributionError(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name})


def tag_invalid(tag: str) -> DistributionError:
    return DistributionError(400, "TAG_INVALID", "invalid tag", {"tag": tag[:300]})


def size_invalid(message: str, status: int = 400) -> DistributionError:
    return DistributionError(status, "SIZE_INVALID", message)


def too_large(what: str, limit: int) -> DistributionError:
    return DistributionError(413, "SIZE_INVALID", f"{what} exceeds the registry's limit of {limit} bytes")


def precondition_failed(reference: str) -> DistributionError:
    """A conditional request (``If-Match``/``If-None-Match``) whose condition does not hold (RFC 9110)."""
    return DistributionError(412, "PRECONDITION_FAILED", "precondition failed: the manifest reference has changed",
                             {"reference": reference})


def unsupported(message: str) -> DistributionError:
    return DistributionError(405, "UNSUPPORTED", message)


def unauthorized(challenge: str, message: str = "authentication required") -> DistributionError:
    return DistributionError(401, "UNAUTHORIZED", message, headers={"WWW-Authenticate": challenge})


def denied(message: str = "requested access to the resource is denied") -> DistributionError:
    return DistributionError(403, "DENIED", message)
