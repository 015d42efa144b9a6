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

Start-up (issue 15): ``logging`` (with ``threading``, ``traceback``, ``string``) is not imported until a record
could be emitted. :data:`logger` stands in for ``logging.getLogger("notation")``: without ``logging`` imported
nobody can have configured it, so a record below WARNING would be dropped anyway (the default threshold) and is
dropped without the import; a WARNING or above, or any record once ``logging`` is loaded (``-v``/``-d``, an
application that set up logging, the admission service), goes to the real logger. :func:`quiet` (the CLI without
``-v``/``-d``) silences every record either way. The formatters live in :mod:`notation._internal.logformat`.
"""

from __future__ import annotations

import itertools
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    import re
    from collections.abc import Iterable, Mapping
    from typing import IO, Any


LOGGER_NAME = "notation"
DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50  # logging's levels, without importing it

_silenced = False
"""Set by :func:`quiet` before ``logging`` was imported: every record of the ``notation`` loggers is dropped."""


class LazyLogger:
    """``logging.getLogger(name)`` for a ``notation`` logger, with ``logging`` imported only when a record could be
    emitted (see the module docstring); the methods the library calls, with the same arguments."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def _target(self, level: int) -> logging.Logger | None:
        if _silenced or (level < WARNING and "logging" not in sys.modules):
            return None
        import logging

        return logging.getLogger(self.name)

    def isEnabledFor(self, level: int) -> bool:
        target = self._target(level)
        return target is not None and target.isEnabledFor(level)

    def _emit(self, level: int, msg: object, args: tuple[object, ...], kwargs: dict[str, Any]) -> None:
        target = self._target(level)
        if target is not None:  # stacklevel 3: the record names the library's call site, not this shim
            target.log(level, msg, *args, stacklevel=3, **kwargs)

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        self._emit(level, msg, args, kwargs)

    def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._emit(DEBUG, msg, args, kwargs)

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._emit(INFO, msg, args, kwargs)

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._emit(WARNING, msg, args, kwargs)

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._emit(ERROR, msg, args, kwargs)


logger = LazyLogger(LOGGER_NAME)


def get_logger(suffix: str) -> LazyLogger:
    """The ``notation.<suffix>`` logger (a child: :func:`quiet` and :func:`configure` apply to it too)."""
    return LazyLogger(f"{LOGGER_NAME}.{suffix}")


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
_patterns: list[re.Pattern[str]] = []


def _redaction_patterns() -> list[re.Pattern[str]]:
    """Compiled on first use: only a formatted log line or a plugin's error output is redacted, and compiling
    these at import cost every command its start-up."""
    if not _patterns:
        import re

        _patterns.extend(
            (
                re.compile(rf'("(?:{_SECRET_KEYS})"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE),  # JSON member
                re.compile(rf"(?<![A-Za-z0-9_])((?:{_SECRET_KEYS})=)[^&\s\"']+", re.IGNORECASE),  # form field
                re.compile(r"\b(Bearer|Basic|bearer|basic) +([A-Za-z0-9._~+/=-]{6,})"),  # auth scheme
                re.compile(r"[a-z]+=?"),  # "Bearer realm=...", "basic constraints": words, not credentials
                re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),  # JWT
            )
        )
    return _patterns


def redact(text: str) -> str:
    """``text`` with secret values replaced by ``*****``: JSON members and form/query fields whose name says
    token, password or secret, credentials after ``Bearer``/``Basic``, and anything shaped like a JWT."""
    json_secret, form_secret, auth_scheme, plain_word, jwt = _redaction_patterns()

    def scrub_credential(match: re.Match[str]) -> str:
        return match.group(0) if plain_word.fullmatch(match.group(2)) else f"{match.group(1)} {SCRUBBED}"

    text = json_secret.sub(rf'\1"{SCRUBBED}"', text)
    text = form_secret.sub(rf"\1{SCRUBBED}", text)
    text = auth_scheme.sub(scrub_credential, text)
    return jwt.sub(SCRUBBED, text)


def __getattr__(name: str) -> Any:
    """``GoTextFormatter`` and ``JSONFormatter``, from :mod:`notation._internal.logformat` (imports logging)."""
    if name in ("GoTextFormatter", "JSONFormatter"):
        from notation._internal import logformat

        return getattr(logformat, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def configure(stream: IO[str], *, level: int, json_lines: bool = False) -> logging.Handler:
    """Send the ``notation`` logger's records at ``level`` and above to ``stream``; replaces earlier handlers."""
    global _silenced
    import logging

    from notation._internal.logformat import GoTextFormatter, JSONFormatter

    handler = logging.StreamHandler(stream)
    if json_lines:
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(GoTextFormatter(timestamps=level <= logging.DEBUG))
    real = logging.getLogger(LOGGER_NAME)
    real.handlers[:] = [handler]
    real.setLevel(level)
    real.propagate = False
    _silenced = False
    return handler


def configure_cli(stream: IO[str], *, debug: bool, verbose: bool) -> None:
    """CLI-06: ``-d`` debug (wins over ``-v``), ``-v`` info, otherwise nothing at all."""
    if debug or verbose:
        configure(stream, level=DEBUG if debug else INFO)
    else:
        quiet()


def quiet() -> None:
    """No output (and no formatting work): Python's last-resort handler would print warnings otherwise. Before
    ``logging`` is imported only a flag is set (every ``notation`` logger drops its records); after, the real
    logger is silenced too (it may hold a handler left by an earlier in-process run)."""
    global _silenced
    if "logging" not in sys.modules:
        _silenced = True
        return
    import logging

    real = logging.getLogger(LOGGER_NAME)
    real.handlers[:] = [logging.NullHandler()]
    real.setLevel(CRITICAL + 1)  # not even a record is made
    real.propagate = False
    _silenced = False  # the real logger is silent now, and an application's later configure() takes effect


def debug_enabled() -> bool:
    return logger.isEnabledFor(DEBUG)


# -- HTTP tracing (notation internal/trace/transport.go) ------------------------------------------------------------

_request_ids = itertools.count()


def _headers(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> str:
    from collections.abc import Mapping

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
    if not logger.isEnabledFor(DEBUG):
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
    if rid is None or not logger.isEnabledFor(DEBUG):
        return
    status_line = f"{status} {reason}".strip()
    logger.debug(
        "Response #%d\n< Response status: %s\n< Response headers:\n%s", rid, _go_quote(status_line), _headers(headers)
    )


def http_error(rid: int | None, message: str) -> None:
    """Go logs a failed round trip at error level: ``Error in getting response: <err>``."""
    if rid is not None:
        logger.error("Error in getting response: %s", message)
