"""The subset of Prometheus alert templating mlmon renders itself (for generated unit tests and previews):
``{{ $value }}``, ``{{ $value | F }}`` for F in ``humanize``, ``humanize1024``, ``humanizePercentage``,
``humanizeDuration``, ``{{ printf "%.4g" $value }}`` and ``{{ $labels.NAME }}``. The functions follow Prometheus'
``template`` package; the generated promtool tests compare them with Prometheus' own rendering.
"""

from __future__ import annotations

import math
import re

_TOKEN = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
"""A Go template action; it may span lines (``{{ printf\n"%s" }}`` is one action to Go), hence DOTALL."""
_LABEL = re.compile(r"^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$")
_VALUE = re.compile(r"^\$value(?:\s*\|\s*(humanize|humanize1024|humanizePercentage|humanizeDuration))?$")
_PRINTF = re.compile(r'^printf\s+"%\.(\d)g"\s+\$value$')


SUPPORTED = ("{{ $value }}, {{ $value | humanize }} (or humanize1024, humanizePercentage, humanizeDuration), "
             '{{ printf "%.4g" $value }} or {{ $labels.NAME }}')
"""The template actions mlmon renders (and so tests), for messages."""


def unsupported(text: str) -> list[str]:
    """Template actions mlmon cannot render (and so cannot test), and an unclosed ``{{`` (Go refuses it)."""
    bad = [m.group(0) for m in _TOKEN.finditer(text)
           if not (_LABEL.fullmatch(m.group(1)) or _VALUE.fullmatch(m.group(1)) or _PRINTF.fullmatch(m.group(1)))]
    rest = _TOKEN.sub("", text)
    if "{{" in rest:
        i = rest.index("{{")
        bad.append(rest[i:i + 30] + ("..." if len(rest) > i + 30 else "") + " (never closed with }})")
    return bad


def has_action(text: str) -> bool:
    """``text`` holds a Go template delimiter (``{{``): Prometheus would execute it."""
    return "{{" in text


def go_float(v: float) -> str:
    """Go's ``fmt.Sprint(float64)`` (shortest representation, exponent from 1e21)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v.is_integer() and abs(v) < 1e21:
        return str(int(v))
    r = repr(v)
    if "e" in r:
        mant, exp = r.split("e")
        sign = "-" if exp.startswith("-") else "+"
        return f"{mant}e{sign}{exp.lstrip('+-').zfill(2)}"
    return r


def _g4(v: float) -> str:
    s = "%.4g" % v
    return s


def humanize(v: float) -> str:
    """Prometheus' ``humanize`` template function."""
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix = p
            v /= 1000
        return _g4(v) + prefix
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return _g4(v) + prefix


def humanize1024(v: float) -> str:
    """Prometheus' ``humanize1024`` (binary prefixes)."""
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix = p
        v /= 1024
    return _g4(v) + prefix


def humanize_duration(v: float) -> str:
    """Prometheus' ``humanizeDuration`` (seconds in; ``1m 30s``, ``5.475s``, ``250ms``)."""
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        whole = int(v)
        seconds, minutes, hours, days = whole % 60, (whole // 60) % 60, (whole // 3600) % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}s"


VALUE_FUNCTIONS = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizePercentage": lambda v: humanize(v * 100) + "%",
    "humanizeDuration": humanize_duration,
}


def render(text: str, value: float, labels: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        expr = m.group(1)
        lm = _LABEL.fullmatch(expr)
        if lm:
            return labels.get(lm.group(1), "")
        vm = _VALUE.fullmatch(expr)
        if vm:
            fn = vm.group(1)
            return VALUE_FUNCTIONS[fn](value) if fn else go_float(value)
        pm = _PRINTF.fullmatch(expr)
        if pm:
            return f"%.{pm.group(1)}g" % value
        raise ValueError(f"unsupported template action {m.group(0)}")

    return _TOKEN.sub(sub, text)
