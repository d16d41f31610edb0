"""Run each promtool test group against only the rules it can observe (what ``mlmon check`` hands promtool).

promtool 2.42 evaluates every rule of a test file's rule files at every evaluation step of every test group.
A group checking one alert over a day (``for: 1d``: 1,444 steps) therefore pays for every other rule of the
service too, although none of them can change that alert: an alerting rule's result depends only on the
series its expression selects, and a recording rule only writes the series it records. So the rules a group
can observe are its alerts' rules (and the expressions of its ``promql_expr_test``), the recording rules
writing a metric they select, and so on through the recordings those read (the closure).

:func:`split` cuts a rendered test file into parts, one per distinct closure, each with a rule file holding
the closure's rules in their original groups, order, names and intervals (every other rule dropped), and the
test groups unchanged. Where the closure cannot be known, the group keeps every rule: an expression with a
selector not pinned to a literal metric name, or one reading ``ALERTS``/``ALERTS_FOR_STATE`` (written by
every alerting rule), or a tested alert no rule defines (promtool then reports what it reports today).

A mistake here cannot pass silently: dropping a rule an alert needs leaves it without its series, so its
"fires at ``for``" check fails (and an ``absent()`` alert fires where the test expects silence).
``tests/test_promtool_subsets.py`` checks that every part gives promtool's verdict on the whole file.
"""

from __future__ import annotations

from functools import lru_cache

_ANY = ("ALERTS", "ALERTS_FOR_STATE")


@lru_cache(maxsize=65536)
def _reads(expr: str) -> frozenset[str] | None:
    from ..promql import selected_metrics

    try:
        names = selected_metrics(expr)
    except Exception:  # noqa: BLE001 - unparsable: promtool check rules reports it; keep every rule here
        return None
    if names is None or any(n in _ANY for n in names):
        return None
    return frozenset(names)


def closure(rule_docs: list[dict], alerts: set[str], exprs: list[str]) -> frozenset[tuple[int, int, int]] | None:
    """Positions ``(file, group, rule)`` of the rules that alerts ``alerts`` and expressions ``exprs`` can
    observe in ``rule_docs`` (parsed rule files), or ``None`` when that cannot be known (keep every rule)."""
    writers: dict[str, list[tuple[int, int, int]]] = {}
    alert_rules: dict[str, list[tuple[int, int, int]]] = {}
    rules: dict[tuple[int, int, int], dict] = {}
    for f, doc in enumerate(rule_docs):
        for g, group in enumerate((doc or {}).get("groups") or []):
            for r, rule in enumerate(group.get("rules") or []):
                pos = (f, g, r)
                rules[pos] = rule
                if "record" in rule:
                    writers.setdefault(rule["record"], []).append(pos)
                elif "alert" in rule:
                    alert_rules.setdefault(rule["alert"], []).append(pos)
    keep: set[tuple[int, int, int]] = set()
    todo: list[str] = []

    def follow(expr) -> bool:
        """Queue the metrics ``expr`` reads; ``False`` when it may read any series."""
        reads = _reads(str(expr))
        if reads is not None:
            todo.extend(reads)
        return reads is not None

    for name in sorted(alerts):
        if name not in alert_rules:
            return None
        keep.update(alert_rules[name])
    if not all(follow(rules[pos].get("expr", "")) for pos in sorted(keep)) or not all(map(follow, exprs)):
        return None
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for pos in writers.get(name, ()):
            if pos not in keep:
                keep.add(pos)
                if not follow(rules[pos].get("expr", "")):
                    return None
    return frozenset(keep)


def count_rules(rule_docs: list[dict]) -> int:
    """How many rules the parsed rule files ``rule_docs`` hold."""
    return sum(len(g.get("rules") or []) for doc in rule_docs for g in (doc or {}).get("groups") or [])


def subset(rule_docs: list[dict], keep: frozenset[tuple[int, int, int]]) -> dict:
    """One rule file of the rules at ``keep``: their groups (every key but the dropped rules), in order."""
    groups = []
    for f, doc in enumerate(rule_docs):
        for g, group in enumerate((doc or {}).get("groups") or []):
            mine = [rule for r, rule in enumerate(group.get("rules") or []) if (f, g, r) in keep]
            if mine:
                groups.append({**group, "rules": mine})
    return {"groups": groups}


def split(test_doc: dict, rule_docs: list[dict]) -> list[tuple[dict, dict | None, int]] | None:
    """The parts of a test file: ``[(test file, its rule file, number of rules)]`` (the test file's
    ``rule_files`` to be set by the caller to where the rule file is written), or ``None`` when no group can
    drop a rule (run the file as rendered). Groups keep their order within each part."""
    total = count_rules(rule_docs)
    parts: dict[frozenset | None, list[dict]] = {}
    for group in test_doc.get("tests") or []:
        alerts = {t.get("alertname") for t in group.get("alert_rule_test") or []}
        exprs = [t.get("expr", "") for t in group.get("promql_expr_test") or []]
        keep = closure(rule_docs, {a for a in alerts if a}, exprs) if None not in alerts else None
        if keep is not None and len(keep) == total:
            keep = None
        parts.setdefault(keep, []).append(group)
    if list(parts) == [None]:
        return None
    out = []
    for keep, groups in parts.items():
        doc = {k: v for k, v in test_doc.items() if k != "tests"}
        doc["tests"] = groups
        if keep is None:
            out.append((doc, None, total))
        else:
            out.append((doc, subset(rule_docs, keep), len(keep)))
    return out
