"""RFC 3339 times for JWS headers (JWS-09): strict reading with any offset, UTC ``Z`` whole seconds when writing."""

from __future__ import annotations

import datetime as dt
import re

# ASCII digits only and matched in full: ``\d`` takes any Unicode digit and ``$`` a trailing newline, both of which
# Go's time.Parse refuses.
_RFC3339_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def parse_rfc3339(text: str) -> dt.datetime:
    """Parse an RFC 3339 date-time (fractions up to nanoseconds are truncated to microseconds)."""
    m = _RFC3339_RE.fullmatch(text)
    if not m:
        raise ValueError(f"invalid RFC 3339 time {text!r}")
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    micro = int(fraction.ljust(6, "0")[:6]) if fraction else 0
    if zone == "Z":
        tz = dt.UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"invalid RFC 3339 time zone in {text!r}")
        tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    return dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz)


def format_rfc3339(value: dt.datetime) -> str:
    """Whole seconds in UTC with ``Z`` (SIG-14, JWS-09)."""
    if value.tzinfo is None:
        raise ValueError("time must be timezone-aware")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
