"""Every label matcher is one Prometheus accepts and some series can satisfy: a regex (`=~`, `!~`) is valid RE2
as Prometheus compiles it (anchored, e.g. `=~(5..|429)`), `=~` matches some label value and `!~` rejects one.

A selector with an unsatisfiable matcher selects nothing, so its alert could never fire (and its generated tests
would have no series to write); a regex only RE2 rejects (`a**`) would fail when Prometheus loads the rules.
"""

from __future__ import annotations

from pydantic import BaseModel

from .. import re2
from ..promql import matcher_op


def problems(matchers: dict[str, str]):
    """``(label, message)`` for each matcher of ``matchers`` that Prometheus rejects or nothing satisfies."""
    for label, value in matchers.items():
        op, pattern = matcher_op(value)
        if op not in ("=~", "!~"):
            continue
        try:
            re2.parse(pattern)
        except re2.RegexError as exc:
            yield label, f"{value!r} is not a regex Prometheus accepts (RE2 syntax): {exc}"
            continue
        if op == "=~" and re2.example(pattern) is None:
            yield label, f"{value!r} matches no label value: the selector can never select a series"
        elif op == "!~" and re2.counter_example(pattern) is None:
            yield label, f"{value!r} rejects every label value: the selector can never select a series"


def _walk(node, path=()):
    """``(path, matchers dict)`` of every selector inside a monitor (any field named ``matchers``)."""
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            value = getattr(node, name)
            if name == "matchers" and isinstance(value, dict):
                yield path + (name,), value
            else:
                yield from _walk(value, path + (name.rstrip("_"),))
    elif isinstance(node, (tuple, list)):
        for j, item in enumerate(node):  # a one-item list may be written as the item itself
            yield from _walk(item, path + (j,) if len(node) > 1 else path)


def check(ctx):
    for src, svc in ctx.services:
        if svc.source.type == "prometheus":
            for label, message in problems(svc.source.selector):
                yield src.problem(("source", "selector", label), message)
    for src, svc, i, mon in ctx.monitors():
        for path, matchers in _walk(mon):
            if path and path[0] in ("overrides", "levels", "cloudwatch"):
                continue
            for label, message in problems(matchers):
                yield src.problem(("monitors", i) + path + (label,), message)
