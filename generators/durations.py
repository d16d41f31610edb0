"""Prometheus-style durations (``30s``, ``5m``, ``1h30m``, ``7d``) as whole seconds.

The catalog's rule (docs/catalog.md, "Durations"): a duration is written with its unit(s), largest first
(``w``, ``d``, ``h``, ``m``, ``s``), as Prometheus writes them; ``0`` alone needs none. A bare number
(``for: 10``) is an error, as it is in Prometheus: mlmon would otherwise have to guess seconds. So is YAML
1.1's base-60 ``1:30`` (refused when the file is read, :mod:`generators.yamlio`), a fraction, a negative
duration, and anything longer than :data:`MAX_SECONDS` (a year and a day).
"""

from __future__ import annotations

import re

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_RE = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
MAX_SECONDS = 366 * 86400
"""The longest duration the catalog accepts (366d): any window, period or deadline beyond is a typo."""
EXAMPLE = "expected a duration with a unit, e.g. 30s, 5m, 1h30m or 7d"


def parse_duration(text: str | int) -> int:
    """Parse a duration into seconds (see the module docstring for the rule). Raises ValueError."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise ValueError(EXAMPLE + (f", got {type(text).__name__}" if not isinstance(text, bool) else ", got a boolean"))
    if isinstance(text, int):
        if text == 0:
            return 0
        raise ValueError(f"{text} has no unit: write {text}s (or {text}m, {text}h ...); a bare number is not a "
                         "duration (Prometheus rejects it too)")
    s = text.strip()
    if s == "0":
        return 0
    if re.fullmatch(r"[-+]?\d+(\.\d*)?", s):
        raise ValueError(f"{text!r} has no unit; {EXAMPLE}")
    m = _RE.fullmatch(s)
    if not s or not m or not any(m.groups()):
        raise ValueError(f"{text!r} is not a duration; {EXAMPLE} (whole units, largest first)")
    values = [int(g) if g else 0 for g in m.groups()]
    seconds = sum(v * u for v, u in zip(values, _UNITS.values()))
    if seconds > MAX_SECONDS:
        raise ValueError(f"{text!r} is longer than {format_duration(MAX_SECONDS)}, the longest duration the catalog "
                         "accepts")
    return seconds


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
