"""Backtest both versions of a set of alerting rules over a time range against one Prometheus.

For every selected alert and version: inline the recording rules it reads (:mod:`.promql`), check that the
metrics it reads have series in the range (an alert without data is reported as ``no_data``, never as
"never fires"), evaluate the expression with ``query_range`` at the rule group's interval on an aligned
grid (timestamps that are multiples of the interval; identical expressions are queried once), replay the
alerting state machine (:mod:`.engine`) per label set and compare the firing episodes of the two versions.

Evaluation starts ``for + keep_firing_for`` before the range (a warm-up, not reported), so an alert that
was already pending or firing when the range begins is firing at its start as it would have been. That is
exact for rules without ``keep_firing_for`` (whether a label set fires at ``t`` depends on the last ``for``
only); with it, a chain of episodes held together by ``keep_firing_for`` from before the warm-up can start
later than it did.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .client import Prometheus, PrometheusError, chunks
from .engine import Episode, Grid, Labels, episodes, only_in, steps_for
from .promql import InlineError, Signal, inline, selector_texts, signal
from .rules import AlertRule

PLOT_POINTS = 1500
"""Points per series at most in a plot: the signal is queried at a coarser step for long ranges."""


GUARDS = {"up"}
"""Selectors an expression reads only as a guard, whose absence is no reason to call the alert ``no_data``: ``up``
(Prometheus' own per-target series; the failures and stalled kinds count a new counter only on a target already
scraped a window before, and a history imported without ``up`` still replays)."""


@dataclass
class Side:
    """One version of one alert and what it did."""

    rule: AlertRule
    expr: str = ""  # what is evaluated (recordings inlined)
    recordings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signal: Signal | None = None  # as written (display)
    signal_query: str = ""  # evaluable (recordings inlined)
    grid: Grid | None = None
    status: str = "ok"  # ok | no_data | error
    missing: list[str] = field(default_factory=list)
    error: str = ""
    episodes: list[Episode] | None = None
    signal_series: list[dict] | None = None
    signal_step: int = 0

    @property
    def threshold(self) -> float | None:
        return self.signal.threshold if self.signal else None


@dataclass
class AlertBacktest:
    alert: str
    service: str
    env: str
    changes: list[str]
    base: Side | None
    head: Side | None
    only_base: list[Episode] = field(default_factory=list)
    only_head: list[Episode] = field(default_factory=list)
    plot: str | None = None

    def sides(self):
        return [s for s in (self.base, self.head) if s is not None]


@dataclass
class Backtest:
    prometheus: str
    env: str
    base: str | None
    head: str
    start: int
    end: int
    alerts: list[AlertBacktest]
    queries: int = 0
    seconds: float = 0.0

    @property
    def no_data(self) -> bool:
        """Every version of every alert lacks data."""
        sides = [s for a in self.alerts for s in a.sides()]
        return bool(sides) and all(s.status == "no_data" for s in sides)

    @property
    def judged(self) -> bool:
        """At least one version of one alert was evaluated (or there was nothing to evaluate)."""
        sides = [s for a in self.alerts for s in a.sides()]
        return not sides or any(s.status == "ok" for s in sides)


def _fingerprint(rule: AlertRule | None):
    if rule is None:
        return None
    try:
        expr = inline(rule).expr
    except InlineError as exc:
        expr = f"{rule.expr} ({exc})"
    return expr, rule.for_, rule.keep_firing_for, rule.interval


def select(base: dict[str, AlertRule] | None, head: dict[str, AlertRule],
           names: list[str] | None = None) -> list[tuple[str, AlertRule | None, AlertRule | None]]:
    """The alerts to backtest: ``names`` (whatever changed), else those whose firing behaviour can differ
    between ``base`` and ``head`` (expression with its recordings, for, keep_firing_for, interval; added and
    removed alerts too), else (no base) every alert of ``head``. Sorted by service, then name."""
    if names:
        picked = list(dict.fromkeys(names))
    elif base is None:
        picked = list(head)
    else:
        picked = [n for n in dict.fromkeys([*base, *head])
                  if _fingerprint(base.get(n)) != _fingerprint(head.get(n))]
    out = []
    for n in picked:
        b = base.get(n) if base is not None else None
        h = head.get(n)
        out.append((n, b, h))
    return sorted(out, key=lambda t: ((t[2] or t[1]).service, t[0]))


def describe_changes(b: AlertRule | None, h: AlertRule | None) -> list[str]:
    if b is None:
        return ["added"] if h is not None else []
    if h is None:
        return ["removed"]
    from ..durations import format_duration as fd

    out = []
    sb, sh = _signal_or_none(b.expr), _signal_or_none(h.expr)
    tb, th = (sb.threshold if sb else None), (sh.threshold if sh else None)
    if tb != th:
        out.append(f"threshold {_num(tb)} -> {_num(th)}")
    if b.for_ != h.for_:
        out.append(f"for {fd(b.for_)} -> {fd(h.for_)}")
    if b.keep_firing_for != h.keep_firing_for:
        out.append(f"keep_firing_for {fd(b.keep_firing_for)} -> {fd(h.keep_firing_for)}")
    if b.interval != h.interval:
        out.append(f"interval {fd(b.interval)} -> {fd(h.interval)}")
    if (sb and sh and sb.expr != sh.expr) or (sb is None) != (sh is None):
        out.append("signal")
    elif _fingerprint(b)[0] != _fingerprint(h)[0] and tb == th:
        out.append("expression")
    return out


def _signal_or_none(expr: str) -> Signal | None:
    try:
        return signal(expr)
    except ValueError:
        return None


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    from ..promql import num

    return num(x)


def align_up(t: int, step: int) -> int:
    return -(-t // step) * step


def _prepare(rule: AlertRule, start: int, end: int, warm_steps: int) -> Side:
    side = Side(rule)
    iv = rule.interval
    first, last = align_up(start, iv), end // iv * iv
    n_report = (last - first) // iv + 1
    side.grid = Grid(first - warm_steps * iv, iv, max(1, n_report) + warm_steps, warm_steps)
    if n_report < 1:
        side.status, side.error = "error", f"the range holds no evaluation at the rule's interval ({rule.interval}s)"
        return side
    try:
        inl = inline(rule)
        side.expr, side.recordings, side.notes = inl.expr, inl.recordings, inl.notes
        side.signal = signal(rule.expr)
        side.signal_query = signal(inl.expr).expr if inl.recordings else side.signal.expr
    except (InlineError, ValueError) as exc:
        side.status, side.error = "error", str(exc)
    return side


def presence(result: list[dict], grid: Grid, rule_labels: dict[str, str]) -> tuple[dict[Labels, list[int]], int]:
    """Per alert label set (series labels without ``__name__`` and without labels the rule sets), the grid
    steps at which it is in the result; and how many evaluations saw the same label set twice (Prometheus
    fails such an evaluation: "vector contains metrics with the same labelset after applying alert labels")."""
    sets: dict[Labels, set[int]] = {}
    dupes = 0
    for series in result:
        metric = series.get("metric", {})
        key = tuple(sorted((k, v) for k, v in metric.items() if k != "__name__" and k not in rule_labels))
        steps = sets.setdefault(key, set())
        for ts, _v in series.get("values", []):
            s = grid.step(float(ts))
            if 0 <= s < grid.n:
                if s in steps:
                    dupes += 1
                steps.add(s)
    return {k: sorted(v) for k, v in sets.items()}, dupes


class _Progress:
    def __init__(self, progress, total: int):
        self.p = progress
        if self.p is not None:
            self.p.start(total)

    def tick(self, label: str = ""):
        if self.p is not None:
            self.p.advance(1, label)


def backtest(client: Prometheus, selected: list[tuple[str, AlertRule | None, AlertRule | None]], *, env: str,
             start: int, end: int, base_ref: str | None, head_ref: str, plots: bool = False, jobs: int = 4,
             progress=None, warmup: bool = True) -> Backtest:
    """Run the backtest (see the module doc). ``progress``: an object with ``start(total)``, ``advance(n,
    label)`` and ``finish()`` (``generators.backtest.progress.Progress``), or None. ``warmup=False``
    evaluates from ``start`` only, as if nothing was evaluated before (what ``promtool test rules`` does)."""
    t0 = time.monotonic()
    queries_before = client.queries
    results: list[AlertBacktest] = []
    for name, b, h in selected:
        warm = max(steps_for(r.for_, r.interval) + steps_for(r.keep_firing_for, r.interval)
                   for r in (b, h) if r is not None) if warmup else 0
        sides = [_prepare(r, start, end, warm) if r is not None else None for r in (b, h)]
        rule = h or b
        changes = describe_changes(b, h) if base_ref is not None else []
        results.append(AlertBacktest(name, rule.service, env, changes, sides[0], sides[1]))
    live = [s for a in results for s in a.sides() if s.status == "ok"]

    # 1. do the metrics exist in the range? (series API, each selector once)
    lookups = {}
    for s in live:
        for sel in selector_texts(s.expr):
            lookups.setdefault((sel, s.grid.start, s.grid.end), None)
    # 2. the expressions (each distinct expression and grid once, chunk by chunk)
    def expr_key(s: Side):
        return s.expr, s.grid.start, s.grid.end, s.grid.interval
    exprs = {}
    for s in live:
        exprs.setdefault(expr_key(s), None)
    signals = {}
    if plots:
        for a in results:
            for s in a.sides():
                if s.status == "ok" and s.signal_query:
                    s.signal_step = plot_step(s.grid, start, end)
                    signals.setdefault((s.signal_query, align_up(start, s.signal_step), s.grid.end,
                                        s.signal_step), None)
    tasks = [("series", k) for k in lookups]
    expr_chunks = {k: chunks(k[1], k[2], k[3], client.max_points) for k in exprs}
    tasks += [("query", k, c) for k, cs in expr_chunks.items() for c in cs]
    sig_chunks = {k: chunks(k[1], k[2], k[3], client.max_points) for k in signals}
    tasks += [("signal", k, c) for k, cs in sig_chunks.items() for c in cs]
    bar = _Progress(progress, len(tasks))

    def run_task(task):
        kind = task[0]
        if kind == "series":
            sel, s0, s1 = task[1]
            out = client.series(sel, s0, s1)
            bar.tick("series")
            return out
        expr, _s0, _s1, step = task[1]
        c0, c1 = task[2]
        out = client.query_range_chunk(expr, c0, c1, step)
        bar.tick(kind)
        return out

    try:
        # the lookups decide which expressions are worth querying at all
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            found = dict(zip(lookups, pool.map(run_task, [t for t in tasks if t[0] == "series"])))
            for s in live:
                s.missing = [sel for sel in selector_texts(s.expr)
                             if sel not in GUARDS and not found[(sel, s.grid.start, s.grid.end)]]
                if s.missing:
                    s.status = "no_data"
            needed = {expr_key(s) for s in live if s.status == "ok"}
            needed_sig = {k for k in signals
                          if any(s.status == "ok" and s.signal_query == k[0] for s in live)}
            rest = [t for t in tasks if (t[0] == "query" and t[1] in needed) or
                    (t[0] == "signal" and t[1] in needed_sig)]
            skipped = len(tasks) - len(lookups) - len(rest)
            if skipped and progress is not None:
                progress.advance(skipped, "skipped (no data)")
            outputs = list(pool.map(run_task, rest))
    finally:
        if progress is not None:
            progress.finish()
    merged: dict[tuple, list[dict]] = {}
    for task, out in zip(rest, outputs):
        bucket = merged.setdefault((task[0], task[1]), [])
        bucket.append(out)

    for a in results:
        for s in a.sides():
            if s.status != "ok":
                continue
            series = _merge_chunks(merged.get(("query", expr_key(s)), []))
            pres, dupes = presence(series, s.grid, s.rule.label_dict)
            if dupes:
                s.notes.append(f"{dupes} evaluations returned the same label set twice (Prometheus would fail "
                               "them); counted as present")
            s.episodes = episodes(pres, s.grid, s.rule.for_, s.rule.keep_firing_for)
            if plots and s.signal_query:
                key = (s.signal_query, align_up(start, s.signal_step), s.grid.end, s.signal_step)
                s.signal_series = _merge_chunks(merged.get(("signal", key), []))
        if a.base and a.head and a.base.episodes is not None and a.head.episodes is not None:
            a.only_base = only_in(a.base.episodes, a.head.episodes)
            a.only_head = only_in(a.head.episodes, a.base.episodes)
    return Backtest(client.url, env, base_ref, head_ref, start, end, results,
                    queries=client.queries - queries_before, seconds=time.monotonic() - t0)


def plot_step(grid: Grid, start: int, end: int) -> int:
    iv = grid.interval
    return max(iv, math.ceil((end - start) / PLOT_POINTS / iv) * iv)


def _merge_chunks(parts: list[list[dict]]) -> list[dict]:
    merged: dict[tuple, dict] = {}
    for part in parts:
        for series in part:
            key = tuple(sorted(series.get("metric", {}).items()))
            if key in merged:
                merged[key]["values"].extend(series.get("values", []))
            else:
                merged[key] = {"metric": series.get("metric", {}), "values": list(series.get("values", []))}
    for m in merged.values():
        m["values"].sort(key=lambda v: float(v[0]))
    return list(merged.values())


__all__ = ["Backtest", "AlertBacktest", "Side", "backtest", "select", "PrometheusError"]
