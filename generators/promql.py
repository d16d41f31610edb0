"""Small PromQL building blocks shared by every generator (rules, tests, dashboards)."""

from __future__ import annotations

import math
import re
from functools import lru_cache

from .durations import format_duration
from .model import Selector, Service

_OPS = ("=~", "!~", "!=")


def matcher_op(value: str) -> tuple[str, str]:
    """``"=~5.."`` -> ``("=~", "5..")``; a bare value is an equality matcher."""
    for op in _OPS:
        if value.startswith(op):
            return op, value[len(op):]
    return "=", value


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def selector(service: Service, metric: str, matchers: dict[str, str] | None = None, suffix: str = "") -> str:
    """``metric{service selector..., matchers...}`` with matchers in a stable (sorted) order."""
    merged = dict(service.source.selector) if service.source.type == "prometheus" else {}
    merged.update(matchers or {})
    if not merged:
        return metric + suffix
    parts = []
    for label in sorted(merged):
        op, val = matcher_op(merged[label])
        parts.append(f'{label}{op}"{escape(val)}"')
    return f"{metric}{suffix}{{{','.join(parts)}}}"


def sel(service: Service, s: Selector, suffix: str = "") -> str:
    return selector(service, s.metric, s.matchers, suffix)


def num(x: float) -> str:
    """A number as PromQL writes it: ``0.7``, ``25``, ``1e-05``; never ``25.0``."""
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def dur(seconds: int) -> str:
    return format_duration(seconds)


def increase_since_birth(s: str, window: str) -> str:
    """``increase(s[window])``, counting a counter whose series was created within the window from zero.

    ``increase()`` needs two samples and never counts a series' first value, so a counter created by its first
    event (``failed_total`` born at 1 when the first item fails) reads 0. A series that did not exist ``window``
    ago (Prometheus' 5m lookback included) counts its whole value instead -- a counter starts from zero with its
    process -- provided its target was already scraped then (``up offset <window>`` on the same job and instance):
    a series is new to Prometheus, not to its process, after a Prometheus outage or when a target is first
    scraped, and must not page with its whole history. (A target whose first failure comes within its first
    window, or a series without job/instance labels, is counted by ``increase()`` alone.)"""
    young = f"({s} unless {s} offset {window}) and on (job, instance) up offset {window}"
    return f"({young}) or increase({s}[{window}])"


def tidy(expr: str) -> str:
    """``expr`` without the whitespace PromQL ignores and YAML cannot show in a block scalar: trailing spaces and
    tabs of each line, tabs between tokens (as spaces) and trailing blank lines. String literals are kept as
    written. The rule files then show every expression as a readable ``|`` block, never as a quoted string with
    ``\\n`` escapes."""
    out, i, n = [], 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            j = i + 1
            while j < n and expr[j] != c:
                j += 2 if expr[j] == "\\" and c != "`" else 1
            out.append(expr[i:j + 1])
            i = j + 1
            continue
        if c in " \t":
            j = i
            while j < n and expr[j] in " \t":
                j += 1
            if j < n and expr[j] not in "\r\n":
                out.append(" " * (j - i) if "\t" not in expr[i:j] else " ")
            i = j
            continue
        if c == "\r" and i + 1 < n and expr[i + 1] == "\n":
            i += 1
            continue
        out.append(c)
        i += 1
    text = "".join(out).rstrip("\n")
    return text + "\n" if expr.endswith("\n") and "\n" in text else text


def by_clause(labels: tuple[str, ...] | list[str]) -> str:
    return f"by ({', '.join(labels)}) " if labels else ""


CMP = {"above": ">", "below": "<", "above_or_equal": ">=", "below_or_equal": "<="}
"""A monitor's ``op`` as the PromQL comparison."""


def side(op: str) -> str:
    """Which side of the threshold is bad, ignoring whether the threshold itself is: ``above`` or ``below``."""
    return "below" if op.startswith("below") else "above"


def opposite(op: str) -> str:
    """The good side of ``op``'s threshold (``above``/``below``)."""
    return "above" if side(op) == "below" else "below"


def inclusive(op: str) -> bool:
    """``above_or_equal``/``below_or_equal``: a value exactly at the threshold is bad."""
    return op.endswith("_or_equal")


@lru_cache(maxsize=4096)
def parse_error(expr: str) -> str | None:
    """None when ``expr`` parses as PromQL, else the parser's message."""
    import promql_parser

    try:
        promql_parser.parse(expr)
    except Exception as exc:  # promql-parser raises ValueError with a clear message
        return str(exc) or exc.__class__.__name__
    return None


_IDENT = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`|\{[^}]*\}|\[[^\]]*\]|[a-zA-Z_:][a-zA-Z0-9_:]*')
_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
    "inf", "nan", "Inf", "NaN", "atan2",
}


PINNED_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def _vector_selectors(expr: str):
    """Every VectorSelector of ``expr``'s syntax tree, in source order."""
    import promql_parser

    def walk(node):
        if type(node).__name__ == "VectorSelector":
            yield node
            return
        for attr in ("expr", "lhs", "rhs", "vector_selector", "param"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (str, int, float)):
                yield from walk(child)
        for arg in getattr(node, "args", None) or []:
            yield from walk(arg)

    return walk(promql_parser.parse(expr))


def _name_matchers(node):
    return [m for m in getattr(node.matchers, "matchers", []) or [] if getattr(m, "name", None) == "__name__"]


def selected_metrics(expr: str) -> set[str] | None:
    """The metric names every selector of ``expr`` is pinned to, or ``None`` when one is not pinned to a
    literal name (no name, or ``__name__`` matched by a regex): then the expression may read any series."""
    names: set[str] = set()
    for node in _vector_selectors(expr):
        literal = [m.value for m in _name_matchers(node) if str(m.op) == "MatchOp.Equal"]
        name = node.name or (literal[0] if literal else None)
        if name is None or not PINNED_NAME.fullmatch(name):
            return None
        names.add(name)
    return names


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (function and aggregation names excluded)."""
    names: set[str] = set()
    for node in _vector_selectors(expr):
        if node.name:
            names.add(node.name)
        names.update(m.value for m in _name_matchers(node))
    return names
