"""Parsers for the two small languages in CloudWatch alarm bodies.

- Metric math (``Metrics[].Expression``): numbers, metric/expression ids, ``+ - * / ^``, comparisons
  (``== != < <= > >=``), ``AND``/``&&``, ``OR``/``||``, parentheses and the functions listed in
  :data:`FUNCTIONS` with their arity. This is the subset mlmon emits (and a little more); anything else is
  reported rather than guessed at.
- Composite alarm rules (``AlarmRule``): ``ALARM("name")``, ``OK("name")``, ``INSUFFICIENT_DATA("name")``,
  ``TRUE``, ``FALSE``, ``AND``, ``OR``, ``NOT`` and parentheses.

Both raise :class:`ExprError` with the character position of the problem.
"""

from __future__ import annotations

import re

# name -> (min args, max args) (CloudWatch "Metric math syntax and functions")
FUNCTIONS = {
    "ABS": (1, 1), "ANOMALY_DETECTION_BAND": (1, 2), "AVG": (1, 1), "CEIL": (1, 1), "DATAPOINT_COUNT": (1, 1),
    "DIFF": (1, 1), "DIFF_TIME": (1, 1), "FILL": (2, 2), "FIRST": (1, 1), "FLOOR": (1, 1), "IF": (2, 3),
    "LAST": (1, 1), "LOG": (1, 1), "LOG10": (1, 1), "MAX": (1, 1), "MIN": (1, 1), "PERIOD": (1, 1),
    "RATE": (1, 1), "REMOVE_EMPTY": (1, 1), "RUNNING_SUM": (1, 1), "STDDEV": (1, 1), "SUM": (1, 1),
    "TIME_SERIES": (1, 1),
}
ID_RE = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
FILL_MODES = ("REPEAT", "LINEAR")

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/^<>(),])
""", re.VERBOSE)


class ExprError(ValueError):
    def __init__(self, message: str, pos: int):
        super().__init__(f"{message} (at character {pos + 1})")
        self.pos = pos


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExprError(f"unexpected character {text[pos]!r}", pos)
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(), pos))
        pos = m.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    @property
    def tok(self):
        return self.toks[self.i]

    def take(self, value: str | None = None, kind: str | None = None):
        k, v, pos = self.tok
        if (value is not None and v != value) or (kind is not None and k != kind):
            want = repr(value) if value is not None else kind
            raise ExprError(f"expected {want}, got {v!r}" if v else f"expected {want}, got the end", pos)
        self.i += 1
        return self.toks[self.i - 1]

    def peek(self, *values: str) -> bool:
        return self.tok[1] in values and self.tok[0] in ("op", "name")


class _MathParser(_Parser):
    """Returns the ids an expression references."""

    def __init__(self, text: str):
        super().__init__(text)
        self.ids: list[str] = []

    def parse(self) -> list[str]:
        if self.tok[0] == "end":
            raise ExprError("empty expression", 0)
        self.or_()
        if self.tok[0] != "end":
            raise ExprError(f"unexpected {self.tok[1]!r}", self.tok[2])
        return self.ids

    def or_(self):
        self.and_()
        while self.peek("OR", "||"):
            self.i += 1
            self.and_()

    def and_(self):
        self.cmp()
        while self.peek("AND", "&&"):
            self.i += 1
            self.cmp()

    def cmp(self):
        self.add()
        if self.peek("==", "!=", "<", "<=", ">", ">="):
            self.i += 1
            self.add()

    def add(self):
        self.mul()
        while self.peek("+", "-"):
            self.i += 1
            self.mul()

    def mul(self):
        self.unary()
        while self.peek("*", "/"):
            self.i += 1
            self.unary()

    def unary(self):
        if self.peek("-"):
            self.i += 1
            self.unary()
            return
        self.primary()
        if self.peek("^"):
            self.i += 1
            self.unary()

    def primary(self):
        kind, value, pos = self.tok
        if kind == "num":
            self.i += 1
            return "num"
        if value == "(" and kind == "op":
            self.i += 1
            self.or_()
            self.take(")")
            return "group"
        if kind == "name":
            self.i += 1
            if self.peek("("):
                return self.call(value, pos)
            if value in ("AND", "OR"):
                raise ExprError(f"{value} needs an operand before it", pos)
            if not ID_RE.fullmatch(value):
                raise ExprError(f"{value!r} is neither a function call nor a metric id (ids start with a "
                                "lower-case letter)", pos)
            self.ids.append(value)
            return "id"
        raise ExprError(f"unexpected {value!r}" if value else "unexpected end of expression", pos)

    def call(self, name: str, pos: int):
        if name not in FUNCTIONS:
            raise ExprError(f"unknown function {name}", pos)
        self.take("(")
        args: list[tuple[str, str, int]] = []
        if not self.peek(")"):
            while True:
                start = self.tok
                if name == "FILL" and len(args) == 1 and start[0] == "name" and start[1] in FILL_MODES:
                    self.i += 1
                    args.append(("mode", start[1], start[2]))
                else:
                    k = self.or_arg()
                    args.append((k, start[1], start[2]))
                if not self.peek(","):
                    break
                self.i += 1
        self.take(")")
        lo, hi = FUNCTIONS[name]
        if not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise ExprError(f"{name} takes {want} argument{'s' if hi != 1 else ''}, got {len(args)}", pos)
        if name == "ANOMALY_DETECTION_BAND":
            if args[0][0] != "id":
                raise ExprError("ANOMALY_DETECTION_BAND's first argument must be a metric id", args[0][2])
            if len(args) == 2 and args[1][0] != "num":
                raise ExprError("ANOMALY_DETECTION_BAND's band width must be a number", args[1][2])
        return "call"

    def or_arg(self) -> str:
        start = self.i
        self.or_()
        if self.i != start + 1:
            return "expr"
        return {"name": "id", "num": "num"}.get(self.toks[start][0], "expr")


def parse_math(expression: str) -> list[str]:
    """Parse a metric math expression; return the ids it references (in order, with repeats)."""
    return _MathParser(expression).parse()


def math_error(expression: str, known_ids: set[str] | None = None) -> str | None:
    """None if the expression parses (and only references ``known_ids``, when given), else the problem."""
    try:
        ids = parse_math(expression)
    except ExprError as exc:
        return str(exc)
    if known_ids is not None:
        unknown = sorted(set(ids) - known_ids)
        if unknown:
            return f"references unknown id{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
    return None


# --- composite alarm rules ----------------------------------------------------------------------------

STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")


class _RuleParser(_Parser):
    def __init__(self, text: str):
        super().__init__(text)
        self.names: list[str] = []

    def parse(self) -> list[str]:
        if self.tok[0] == "end":
            raise ExprError("empty alarm rule", 0)
        self.or_()
        if self.tok[0] != "end":
            raise ExprError(f"unexpected {self.tok[1]!r}", self.tok[2])
        return self.names

    def or_(self):
        self.and_()
        while self.tok[0] == "name" and self.tok[1] == "OR":
            self.i += 1
            self.and_()

    def and_(self):
        self.not_()
        while self.tok[0] == "name" and self.tok[1] == "AND":
            self.i += 1
            self.not_()

    def not_(self):
        if self.tok[0] == "name" and self.tok[1] == "NOT":
            self.i += 1
            self.not_()
            return
        kind, value, pos = self.tok
        if kind == "op" and value == "(":
            self.i += 1
            self.or_()
            self.take(")")
        elif kind == "name" and value in ("TRUE", "FALSE"):
            self.i += 1
        elif kind == "name" and value in STATES:
            self.i += 1
            self.take("(")
            if self.tok[0] != "str":
                raise ExprError(f'{value}(...) takes a quoted alarm name or ARN, e.g. {value}("my-alarm"), '
                                f'got {self.tok[1]!r}', self.tok[2])
            k, s, p = self.take(kind="str")
            name = s[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            if not name:
                raise ExprError("empty alarm name", p)
            self.names.append(name)
            self.take(")")
        else:
            raise ExprError(f"expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '(', "
                            f"got {value!r}" if value else "unexpected end of rule", pos)


def parse_rule(rule: str) -> list[str]:
    """Parse a composite ``AlarmRule``; return the alarm names (or ARNs) it references."""
    return _RuleParser(rule).parse()
