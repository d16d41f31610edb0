"""PromQL work for the backtest: inline recording rules, find the signal a threshold compares, list selectors.

Inlining (not evaluating recordings first): a user's Prometheus cannot be asked to evaluate a recording
rule that is not deployed, and the base or head version of a recording usually is not. So every selector
that reads a recording rule of the same rule file is replaced by the rule's own expression, labelled the
way Prometheus labels a recorded series (``__name__`` is the record, the rule's static labels are set or,
when empty, removed):

    mlmon_slo:error_ratio:rate1h{service="shop",slo="Availability"}
    ->  label_replace(label_replace(label_replace((<expr of the rule>),
            "__name__", "mlmon_slo:error_ratio:rate1h", "", ""), "service", "shop", "", ""), "slo", ...)

A range selector over a recording becomes a subquery at the group's interval, ``(<expr>)[1h:1m]``.

Exact when (as mlmon renders them) the recording is evaluated before the alert in the same group: Prometheus
then reads, at each evaluation, the value the recording wrote at that very timestamp, which is the value of
the inlined expression at that timestamp (and nothing when it wrote nothing: a recording that disappears is
marked stale). Limits, reported as notes or errors, never silently: a recording in another group is read
one evaluation late by Prometheus (a note); a selector whose matchers name labels that the recording's
static labels do not decide, and ``offset``/``@`` on an instant selector of a recording, cannot be inlined
(an error for that alert).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta

import promql_parser as pp

from ..durations import format_duration
from .rules import AlertRule, Recording

COMPARISONS = {">", "<", ">=", "<=", "==", "!="}
_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
_SET_OPS = {"and", "or", "unless"}


class InlineError(ValueError):
    """A recording rule the alert reads cannot be inlined exactly."""


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _td(seconds: float) -> str:
    return format_duration(int(seconds)) if float(seconds).is_integer() else f"{int(seconds * 1000)}ms"


def _seconds(td: timedelta | None) -> float:
    return td.total_seconds() if td is not None else 0.0


def _selector_name(vs) -> str | None:
    if vs.name:
        return vs.name
    for m in vs.matchers.matchers:
        if m.name == "__name__" and m.op == pp.MatchOp.Equal:
            return m.value
    return None


def _matches(op, pattern: str, value: str) -> bool:
    if op == pp.MatchOp.Equal:
        return value == pattern
    if op == pp.MatchOp.NotEqual:
        return value != pattern
    hit = re.fullmatch(pattern, value, flags=re.DOTALL) is not None
    return hit if op == pp.MatchOp.Re else not hit


def _matching_recordings(vs, candidates: list[Recording], alert: str) -> list[Recording]:
    """The recordings whose output this selector reads; InlineError when their static labels cannot decide."""
    out = []
    for rec in candidates:
        static = dict(rec.labels)
        ok = True
        for m in vs.matchers.matchers:
            if m.name == "__name__":
                continue
            if m.name not in static:
                raise InlineError(
                    f"{alert} reads the recording {rec.record} with a matcher on label {m.name!r}, which the "
                    f"recording's static labels ({', '.join(sorted(static)) or 'none'}) do not decide; "
                    "the backtest cannot inline it")
            ok = ok and _matches(m.op, m.value, static[m.name])
        if ok:
            out.append(rec)
    return out


def _labelled(expr: str, rec: Recording) -> str:
    out = f"label_replace(({expr}), \"__name__\", {_q(rec.record)}, \"\", \"\")"
    for k, v in rec.labels:
        out = f"label_replace({out}, {_q(k)}, {_q(v)}, \"\", \"\")"
    return out


@dataclass
class Inlined:
    expr: str
    recordings: list[str]
    notes: list[str]


def inline(rule: AlertRule) -> Inlined:
    """The alert's expression with every recording of its rule file that it reads inlined."""
    by_name: dict[str, list[Recording]] = {}
    for rec in rule.recordings:
        by_name.setdefault(rec.record, []).append(rec)
    used: list[str] = []
    notes: list[str] = []
    if not by_name or not _reads_any(rule.expr, by_name):
        return Inlined(rule.expr, used, notes)

    def expand(expr: str, stack: tuple[str, ...], reader_index: int) -> str:
        if not _reads_any(expr, by_name):
            return expr
        def recorded(vs) -> str | None:
            name = _selector_name(vs)
            if name not in by_name:
                return None
            recs = _matching_recordings(vs, by_name[name], rule.alert)
            if not recs:
                return None
            parts = []
            for rec in recs:
                if rec.record in stack:
                    raise InlineError(f"{rule.alert}: recording rules read each other in a cycle: "
                                      f"{' -> '.join(stack + (rec.record,))}")
                if rec.group != rule.group or rec.index > reader_index:
                    note = (f"{rec.record} is evaluated {'in group ' + rec.group if rec.group != rule.group else 'after the rule reading it'}:"
                            " Prometheus reads its previous evaluation, the inlined value is up to one interval newer")
                    if note not in notes:
                        notes.append(note)
                if rec.record not in used:
                    used.append(rec.record)
                parts.append(_labelled(expand(rec.expr, stack + (rec.record,), rec.index), rec))
            return " or ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]

        def pre(node):
            if isinstance(node, pp.MatrixSelector):
                vs = node.vector_selector
                inner = recorded(vs)
                if inner is None:
                    return None
                if vs.at is not None:
                    raise InlineError(f"{rule.alert}: `@` on a range selector of a recording cannot be inlined")
                text = f"({inner})[{_td(_seconds(node.range))}:{_td(rule.interval)}]"
                off = _seconds(vs.offset)
                if off:
                    text += f" offset {'-' if off < 0 else ''}{_td(abs(off))}"
                return pp.parse(text)
            return None

        def post(node):
            if isinstance(node, pp.VectorSelector):
                inner = recorded(node)
                if inner is None:
                    return None
                if node.offset is not None or node.at is not None:
                    raise InlineError(f"{rule.alert}: `offset`/`@` on a recording ({_selector_name(node)}) cannot be "
                                      "inlined exactly")
                return pp.parse(f"({inner})")
            return None

        return unparse(pp.transform(pp.parse(expr), pre_visit=pre, post_visit=post))

    return Inlined(expand(rule.expr, (), rule.index), used, notes)


def compact(text: str) -> str:
    """PromQL on one line: whitespace runs outside string literals become one space (none just inside
    parentheses); what is quoted is kept byte for byte."""
    out: list[str] = []
    i, n = 0, len(text)
    pending_space = False
    while i < n:
        c = text[i]
        if c in "\"'`":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" and c != "`" else 1
            if pending_space and out and out[-1] != "(":
                out.append(" ")
            pending_space = False
            out.append(text[i:j + 1])
            i = j + 1
            continue
        if c.isspace():
            pending_space = True
        else:
            if pending_space and out and out[-1] != "(" and c != ")":
                out.append(" ")
            pending_space = False
            out.append(c)
        i += 1
    return "".join(out)


def unparse(node) -> str:
    return compact(node.prettify())


def _reads_any(expr: str, names) -> bool:
    return any(_selector_name(vs) in names for vs in vector_selectors(expr))


def vector_selectors(expr: str) -> list:
    """Every vector selector (also those inside range selectors and subqueries) of ``expr``."""
    found = []

    def visit(node):
        if isinstance(node, pp.VectorSelector):
            found.append(node)
        return True

    pp.walk(pp.parse(expr), pre_visit=visit)
    return found


def selector_texts(expr: str) -> list[str]:
    """The distinct selectors of ``expr`` as ``name{matchers}`` (offsets and ranges dropped), for the
    series API and for messages."""
    out = []
    for vs in vector_selectors(expr):
        parts = [f"{m.name}{_op_text(m.op)}{_q(m.value)}" for m in vs.matchers.matchers
                 if not (vs.name and m.name == "__name__")]
        text = (vs.name or "") + ("{" + ",".join(parts) + "}" if parts or not vs.name else "")
        if text not in out:
            out.append(text)
    return out


def _op_text(op) -> str:
    for candidate, text in ((pp.MatchOp.Equal, "="), (pp.MatchOp.NotEqual, "!="), (pp.MatchOp.Re, "=~"),
                            (pp.MatchOp.NotRe, "!~")):
        if op == candidate:
            return text
    raise ValueError(f"unknown label matcher {op}")


# --- the signal --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """What the alert compares: ``expr`` (PromQL), ``op`` with the signal on its left, and the threshold
    when the other side is a number (``None`` when it is a vector, or when there is no comparison)."""

    expr: str
    op: str | None = None
    threshold: float | None = None
    label: str = ""


def scalar_value(node) -> float | None:
    """The value of a number-only expression (``(14.4 * 0.001)``), else None."""
    if isinstance(node, pp.NumberLiteral):
        return float(node.val)
    if isinstance(node, pp.ParenExpr):
        return scalar_value(node.expr)
    if isinstance(node, pp.UnaryExpr):
        v = scalar_value(node.expr)
        return None if v is None else -v
    if isinstance(node, pp.BinaryExpr) and str(node.op) in {"+", "-", "*", "/", "%", "^"}:
        a, b = scalar_value(node.lhs), scalar_value(node.rhs)
        if a is None or b is None:
            return None
        op = str(node.op)
        try:
            return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                    "/": lambda: a / b if b else math.copysign(math.inf, a) if a else math.nan,
                    "%": lambda: math.fmod(a, b) if b else math.nan, "^": lambda: a ** b}[op]()
        except (OverflowError, ZeroDivisionError, ValueError):
            return None
    return None


def _primary(node):
    """The comparison that decides the alert: ``(lhs node, op, threshold)``, or None."""
    if isinstance(node, pp.ParenExpr):
        return _primary(node.expr)
    if isinstance(node, pp.BinaryExpr):
        op = str(node.op)
        if op in _SET_OPS:
            found = _primary(node.lhs)
            if found is None and op == "and":
                found = _primary(node.rhs)
            return found
        if op in COMPARISONS and not (node.modifier is not None and node.modifier.return_bool):
            rv, lv = scalar_value(node.rhs), scalar_value(node.lhs)
            if rv is not None and lv is None:
                return node.lhs, op, rv
            if lv is not None and rv is None:
                return node.rhs, _FLIP[op], lv
            if lv is None and rv is None:
                return node.lhs, op, None
    return None


def signal(expr: str) -> Signal:
    """The expression's left-hand side: for ``a > 0.7`` the signal ``a`` and threshold 0.7; for compositions
    with ``and``/``unless``/``or`` the first comparison (``x > t and guard`` -> ``x``); ``absent(s)`` plots
    how many series ``s`` selects; any other expression is its own signal."""
    root = pp.parse(expr)
    found = _primary(root)
    if found is not None:
        lhs, op, threshold = found
        return Signal(unparse(_unparen(lhs)), op, threshold)
    node = _unparen(root)
    if isinstance(node, pp.Call) and node.func.name in ("absent", "absent_over_time"):
        arg = node.args[0]
        inner = arg.vector_selector if isinstance(arg, pp.MatrixSelector) else arg
        return Signal(f"count({unparse(inner)}) or vector(0)", None, None, "series present")
    return Signal(unparse(node))


def _unparen(node):
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node
