"""The one logging layer (CLI-06): library events, the CLI's ``-v``/``-d`` lines and the admission service's JSON logs.

Every module logs through Python's ``logging`` under the ``notation`` logger with %-style arguments, so nothing is
formatted unless a handler is enabled for that level (a disabled call costs one ``isEnabledFor`` check). The
messages are the Go notation's own (notation-go's verifier, plugin and crl packages, notation's internal/trace), so
the CLI prints what scripts written against Go look for:

- :class:`GoTextFormatter` is logrus' ``TextFormatter`` as notation's internal/trace configures it
  (``DisableQuote``; full RFC 3339 timestamps at debug level, none at info): ``level=info msg=...``;
- :class:`JSONFormatter` writes the same records as one JSON object per line, for services.

Both formatters pass every line through :func:`redact` so no bearer token, password, refresh token or client
secret reaches a log, whichever call site produced it; HTTP headers are scrubbed before they are formatted
(:func:`http_request`), as Go scrubs ``Authorization`` and ``Set-Cookie``.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterable, Mapping
from typing import IO, Any

LOGGER_NAME = "notation"
logger = logging.getLogger(LOGGER_NAME)

_GO_LEVELS = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "fatal",
}

SCRUBBED = "*****"
_SCRUB_HEADERS = frozenset({"authorization", "proxy-authorization", "set-cookie", "cookie"})
_SECRET_KEYS = "|".join(  # names of the fields whose values are redacted
    (
        "password",
        "passwd",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "identitytoken",
        "registrytoken",
        "client_secret",
        "client_assertion",
        "secret",
        "accesstoken",
        "refreshtoken",
        "clientsecret",
        "assertion",
        "api[_-]?key",
        "auth",
    )
)
_JSON_SECRET = re.compile(rf'("(?:{_SECRET_KEYS})"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE)
_FORM_SECRET = re.compile(rf"(?<![A-Za-z0-9_])((?:{_SECRET_KEYS})=)[^&\s\"']+", re.IGNORECASE)
_AUTH_SCHEME = re.compile(r"\b(Bearer|Basic|bearer|basic) +([A-Za-z0-9._~+/=-]{6,})")
_PLAIN_WORD = re.compile(r"[a-z]+=?")  # "Bearer realm=...", "basic constraints": words, not credentials


def _scrub_credential(match: re.Match[str]) -> str:
    return match.group(0) if _PLAIN_WORD.fullmatch(match.group(2)) else f"{match.group(1)} {SCRUBBED}"


_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


def redact(text: str) -> str:
    """``text`` with secret values replaced by ``*****``: JSON members and form/query fields whose name says
    token, password or secret, credentials after ``Bearer``/``Basic``, and anything shaped like a JWT."""
    text = _JSON_SECRET.sub(rf'\1"{SCRUBBED}"', text)
    text = _FORM_SECRET.sub(rf"\1{SCRUBBED}", text)
    text = _AUTH_SCHEME.sub(_scrub_credential, text)
    return _JWT.sub(SCRUBBED, text)


def _rfc3339(created: float) -> str:
    """Go's ``time.RFC3339`` in local time (``Z`` for UTC), as logrus' FullTimestamp prints it."""
    import datetime as dt  # lazily: the CLI imports this module on every start, logging or not
    stamp = dt.datetime.fromtimestamp(created).astimezone().isoformat(timespec="seconds")
    return stamp[:-6] + "Z" if stamp.endswith("+00:00") else stamp


class GoTextFormatter(logging.Formatter):
    """logrus ``TextFormatter{DisableQuote: true}``: ``time=... level=debug msg=...`` (no quoting, no traceback)."""

    def __init__(self, *, timestamps: bool) -> None:
        super().__init__()
        self.timestamps = timestamps

    def format(self, record: logging.LogRecord) -> str:
        level = _GO_LEVELS.get(record.levelno, record.levelname.lower())
        line = f"level={level} msg={redact(record.getMessage())}"
        return f"time={_rfc3339(record.created)} {line}" if self.timestamps else line


class JSONFormatter(logging.Formatter):
    """One JSON object per record (``time``, ``level``, ``logger``, ``msg`` and any ``extra`` fields), redacted."""

    _STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        import json

        doc: dict[str, Any] = {
            "time": _rfc3339(record.created),
            "level": _GO_LEVELS.get(record.levelno, record.levelname.lower()),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in self._STANDARD and not key.startswith("_"):
                doc[key] = redact(value) if isinstance(value, str) else value
        return json.dumps(doc, default=str, ensure_ascii=False)


def configure(stream: IO[str], *, level: int, json_lines: bool = False) -> logging.Handler:
    """Send the ``notation`` logger's records at ``level`` and above to ``stream``; replaces earlier handlers."""
    handler = logging.StreamHandler(stream)
    if json_lines:
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(GoTextFormatter(timestamps=level <= logging.DEBUG))
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    return handler


def configure_cli(stream: IO[str], *, debug: bool, verbose: bool) -> None:
    """CLI-06: ``-d`` debug (wins over ``-v``), ``-v`` info, otherwise nothing at all."""
    if debug or verbose:
        configure(stream, level=logging.DEBUG if debug else logging.INFO)
    else:
        quiet()


def quiet() -> None:
    """No output (and no formatting work): Python's last-resort handler would print warnings otherwise."""
    logger.handlers[:] = [logging.NullHandler()]  # also drops a handler left by an earlier in-process run
    logger.setLevel(logging.CRITICAL + 1)  # not even a record is made
    logger.propagate = False


def debug_enabled() -> bool:
    return logger.isEnabledFor(logging.DEBUG)


# -- HTTP tracing (notation internal/trace/transport.go) ------------------------------------------------------------

_request_ids = itertools.count()


def _headers(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> str:
    items = list(headers.items() if isinstance(headers, Mapping) else headers or [])
    if not items:
        return "   Empty header"
    lines = []
    for key, value in items:
        shown = SCRUBBED if key.lower() in _SCRUB_HEADERS else str(value)
        lines.append(f"   {_go_quote(key)}: {_go_quote(shown)}")
    return "\n".join(lines)


def _go_quote(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def http_request(method: str, url: str, headers: Mapping[str, Any] | None) -> int | None:
    """Log ``Request #n`` with its (scrubbed) headers at debug level; the id pairs it with its response."""
    if not logger.isEnabledFor(logging.DEBUG):
        return None
    rid = next(_request_ids)
    logger.debug(
        "Request #%d\n> Request: %s %s\n> Request headers:\n%s",
        rid,
        _go_quote(method),
        _go_quote(url),
        _headers(headers),
    )
    return rid


def http_response(rid: int | None, status: int, reason: str, headers: Mapping[str, Any] | None) -> None:
    if rid is None or not logger.isEnabledFor(logging.DEBUG):
        return
    status_line = f"{status} {reason}".strip()
    logger.debug(
        "Response #%d\n< Response status: %s\n< Response headers:\n%s", rid, _go_quote(status_line), _headers(headers)
    )


def http_error(rid: int | None, message: str) -> None:
    """Go logs a failed round trip at error level: ``Error in getting response: <err>``."""
    if rid is not None:
        logger.error("Error in getting response: %s", message)
