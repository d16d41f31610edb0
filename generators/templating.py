"""The subset of Prometheus alert templating mlmon renders itself (for generated unit tests and previews):
``{{ $value }}``, ``{{ $value | humanize }}``, ``{{ $value | humanizePercentage }}``, ``{{ $labels.NAME }}``.
"""

from __future__ import annotations

import math
import re

_TOKEN = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
"""A Go template action; it may span lines (``{{ printf\n"%s" }}`` is one action to Go), hence DOTALL."""
_LABEL = re.compile(r"^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$")
_VALUE = re.compile(r"^\$value(?:\s*\|\s*(humanize|humanizePercentage))?$")


SUPPORTED = "{{ $value }}, {{ $value | humanize }}, {{ $value | humanizePercentage }} or {{ $labels.NAME }}"
"""The template actions mlmon renders (and so tests), for messages."""


def unsupported(text: str) -> list[str]:
    """Template actions mlmon cannot render (and so cannot test), and an unclosed ``{{`` (Go refuses it)."""
    bad = [m.group(0) for m in _TOKEN.finditer(text)
           if not (_LABEL.fullmatch(m.group(1)) or _VALUE.fullmatch(m.group(1)))]
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


def render(text: str, value: float, labels: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        expr = m.group(1)
        lm = _LABEL.fullmatch(expr)
        if lm:
            return labels.get(lm.group(1), "")
        vm = _VALUE.fullmatch(expr)
        if vm:
            fn = vm.group(1)
            if fn == "humanize":
                return humanize(value)
            if fn == "humanizePercentage":
                return humanize(value * 100) + "%"
            return go_float(value)
        raise ValueError(f"unsupported template action {m.group(0)}")

    return _TOKEN.sub(sub, text)
