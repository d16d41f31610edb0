"""Prometheus-style durations (``30s``, ``5m``, ``1h30m``, ``7d``) as whole seconds."""

from __future__ import annotations

import re

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_RE = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str | int) -> int:
    """Parse a duration into seconds. Bare integers are seconds; ``0`` is allowed."""
    if isinstance(text, bool):
        raise ValueError("expected a duration like 30s, 5m, 1h or 7d")
    if isinstance(text, int):
        if text < 0:
            raise ValueError("expected a non-negative duration")
        return text
    if not isinstance(text, str):
        raise ValueError("expected a duration like 30s, 5m, 1h or 7d")
    s = text.strip()
    if s == "0":
        return 0
    m = _RE.match(s)
    if not s or not m or not any(m.groups()):
        raise ValueError(f"{text!r} is not a duration; expected e.g. 30s, 5m, 1h30m or 7d")
    values = [int(g) if g else 0 for g in m.groups()]
    return sum(v * u for v, u in zip(values, _UNITS.values()))


def format_duration(seconds: int) -> str:
    """Canonical Prometheus form: largest units first, ``0s`` for zero (``5400`` -> ``1h30m``)."""
    if seconds == 0:
        return "0s"
    out = []
    rest = seconds
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out)
