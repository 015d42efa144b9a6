"""The log formatters of :mod:`notation._internal.log` (split out so that ``logging`` loads only with them).

- :class:`GoTextFormatter` is logrus' ``TextFormatter`` as notation's internal/trace configures it
  (``DisableQuote``; full RFC 3339 timestamps at debug level, none at info): ``level=info msg=...``;
- :class:`JSONFormatter` writes the same records as one JSON object per line, for services.

Both pass every line through :func:`notation._internal.log.redact`.
"""

from __future__ import annotations

import logging
from typing import Any

from notation._internal.log import redact

_GO_LEVELS = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "fatal",
}


def _rfc3339(created: float) -> str:
    """Go's ``time.RFC3339`` in local time (``Z`` for UTC), as logrus' FullTimestamp prints it."""
    import datetime as dt

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
