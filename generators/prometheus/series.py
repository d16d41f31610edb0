"""Building blocks of the promtool test series the kinds design (``scenario`` facet of each kind).

promtool's expanding notation (:class:`Values`), label values that satisfy or avoid matchers, the
:class:`Scenario` a kind returns, and counter arithmetic that keeps every expected value exact.
:mod:`.unittests` turns a scenario and an alert's ``for`` into test groups.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .. import re2
from ..promql import escape, inclusive, matcher_op, opposite, side
from ..resolve import ResolvedService

# ---------------------------------------------------------------------------------------------
# series notation


def fmt(x: float) -> str:
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.12f}".rstrip("0").rstrip(".")


class Values:
    """Builds promtool's expanding notation one segment at a time (each segment = ``n`` samples)."""

    def __init__(self):
        self.parts: list[str] = []
        self.last: float | None = None

    def const(self, v: float, n: int) -> "Values":
        if n > 0:
            self.parts.append(f"{fmt(v)}+0x{n - 1}" if n > 1 else fmt(v))
            self.last = v
        return self

    def ramp(self, step: float, n: int, start: float | None = None) -> "Values":
        """``n`` samples, each ``step`` above the previous (continuing from the last value)."""
        if n <= 0:
            return self
        first = start if start is not None else (self.last or 0) + step
        sign = "+" if step >= 0 else "-"
        self.parts.append(f"{fmt(first)}{sign}{fmt(abs(step))}x{n - 1}" if n > 1 else fmt(first))
        self.last = first + step * (n - 1)
        return self

    def stale(self) -> "Values":
        self.parts.append("stale")
        return self

    def gap(self, n: int) -> "Values":
        if n > 0:
            self.parts.append(f"_x{n}")
        return self

    def __str__(self) -> str:
        return " ".join(self.parts)


def series_name(metric: str, labels: dict[str, str]) -> str:
    if not labels:
        return metric
    inner = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


# ---------------------------------------------------------------------------------------------
# label values that satisfy (or avoid) matchers


class Unmatchable(ValueError):
    """A matcher no label value satisfies (or, asked to avoid it, one every value satisfies). The catalog check
    ``matchers`` reports such a matcher with its file and path before any generator runs."""


def example_value(op: str, pattern: str, want_match: bool) -> str:
    """A label value that satisfies the matcher ``op pattern`` (``want_match``) or fails it. Regex matchers
    follow Prometheus: RE2 syntax, anchored at both ends (:mod:`generators.re2`); an empty value is a
    missing label, as in Prometheus."""
    if op == "=":
        return pattern if want_match else f"{pattern}-other"
    if op == "!=":
        return f"{pattern}-other" if want_match else pattern
    if (op == "=~") == want_match:
        value = re2.example(pattern)
        if value is None:
            raise Unmatchable(f"no label value matches /{pattern}/")
        return value
    value = re2.counter_example(pattern)
    if value is None:
        raise Unmatchable(f"every label value matches /{pattern}/")
    return value


def base_labels(rs: ResolvedService, metric: str, matchers: dict[str, str]) -> dict[str, str]:
    """Labels of one synthetic series of ``metric`` that the monitor's selector matches."""
    labels: dict[str, str] = {}
    decl = rs.service.metrics.get(metric)
    for label in (decl.labels if decl else ()) + tuple(rs.service.labels):
        labels[label] = "a"
    merged = dict(rs.service.source.selector)
    merged.update(matchers)
    for label, value in merged.items():
        labels[label] = example_value(*matcher_op(value), want_match=True)
    return labels


def avoidable(matchers: dict[str, str]) -> list[str]:
    """The labels (sorted) of ``matchers`` that some label value fails: the ones a series can avoid."""
    out = []
    for label, value in sorted(matchers.items()):
        op, pattern = matcher_op(value)
        if op in ("=", "!="):
            out.append(label)
        elif (re2.counter_example(pattern) if op == "=~" else re2.example(pattern)) is not None:
            out.append(label)
    return out


def complement_labels(rs: ResolvedService, metric: str, matchers: dict[str, str],
                      keep: dict[str, str] | None = None) -> dict[str, str] | None:
    """Labels of a series of ``metric`` that the selector ``keep`` (the total's matchers) matches but
    ``keep`` + ``matchers`` (the part's) does not: it satisfies every matcher of ``keep`` and fails the first
    avoidable one of ``matchers``. None when there is none (every series of the total is in the part)."""
    keep = dict(keep or {})
    extra = {k: v for k, v in matchers.items() if k not in keep}
    labels_to_fail = avoidable(extra)
    if not labels_to_fail:
        return None
    labels = base_labels(rs, metric, {**keep, **extra})
    label = labels_to_fail[0]
    labels[label] = example_value(*matcher_op(extra[label]), want_match=False)
    return labels


# ---------------------------------------------------------------------------------------------
# scenarios


@dataclass
class Scenario:
    """Series for one alert: ``fires(r, total)`` breaks the threshold for ``r`` samples then recovers;
    ``inside(total)`` stays just inside it. ``t_true``: first second the condition holds under ``fires``;
    ``clear``: seconds after recovery by which it no longer holds; ``value(t)``: what Prometheus computes
    for the alert at second ``t`` of ``fires`` (the ``$value`` of its annotations)."""

    fires: object
    inside: object
    t_true: int
    clear: int
    labels: dict[str, str]
    value: object = None  # value(t): the alert's $value at second t of the `fires` series (before recovery)
    extra_groups: list = field(default_factory=list)
    boundary: "Boundary | None" = None
    """Series whose compared value sits exactly at the threshold (kinds whose arithmetic is exact there)."""


@dataclass
class Boundary:
    """Series whose compared value is exactly the threshold from ``t_true`` of the scenario on: an inclusive
    ``op`` (``above_or_equal``/``below_or_equal``) fires on them, a strict one stays quiet."""

    build: object  # build(total) -> series
    fires: bool
    value: float  # the alert's $value while it holds (the threshold, in the compared unit)


def boundary(build, op: str, value: float) -> Boundary:
    return Boundary(build, inclusive(op), value)


@dataclass(frozen=True)
class CatalogCases:
    """A kind whose cases the catalog states: the alert's (``tests``: fires/silent) and, for each recording rule
    it brings, ``(record, labels, case)`` — the series and the samples the recording must hold."""

    tests: object  # model.RawTests
    recordings: tuple = ()


def margin(threshold: float, op: str, rng, frac: float) -> float:
    """A value on the bad side of the threshold, ``frac`` of the way to the metric's range limit."""
    sign = 1 if side(op) == "above" else -1
    step = abs(threshold) * 0.2 or 1.0
    v = threshold + sign * step * frac
    if rng is not None:
        lo, hi = rng
        limit = hi if side(op) == "above" else lo
        if (v - limit) * sign > 0:
            v = threshold + (limit - threshold) * min(frac, 0.5)
    return v


def gauge_scenario(rs, a, metric, matchers, op, window, rng, by=None) -> Scenario:
    labels = base_labels(rs, metric, matchers)
    name = series_name(metric, labels)
    bad = margin(a.threshold, op, rng, 1.0)
    good = margin(a.threshold, opposite(op), rng, 1.0)
    inside = margin(a.threshold, opposite(op), rng, 0.05)
    out = {k: v for k, v in labels.items() if by is None or k in by}
    return Scenario(
        fires=lambda r, total: [(name, Values().const(bad, r).const(good, total - r))],
        inside=lambda total: [(name, Values().const(inside, total))],
        t_true=0, clear=window, labels=out, value=lambda t: bad,
        boundary=boundary(lambda total: [(name, Values().const(a.threshold, total))], op, a.threshold))


COUNTER_BASE = 1000.0
DYADIC = 1024


def dyadic(x: float, rounding=round) -> float:
    """``x`` as a multiple of 1/1024. promtool expands ``a+bxn`` by repeated addition while the next segment
    starts from a value computed here; with steps and starts that are multiples of 1/1024 both are exact, so a
    counter never dips by a rounding error at a segment boundary (Prometheus would read that as a reset)."""
    return rounding(x * DYADIC) / DYADIC


def counter_base(*steps: float) -> float:
    """A starting value for synthetic counters. Prometheus' rate() stops extrapolating at the point where a
    counter would have been zero; starting well above zero keeps that rule out of play, so every counter
    extrapolates alike and the values below are exact."""
    return float(max([int(COUNTER_BASE)] + [math.ceil(10 * abs(k)) for k in steps]))


def increase_at(k: float, t: int, window: int, interval: int) -> float:
    """``increase(c[window])`` at second ``t`` for a counter growing by ``k`` per sample from t=0.

    While the window reaches before the first sample, Prometheus extrapolates half a sample interval
    beyond it; once the window is (nearly) covered, the result is exact."""
    if window - t >= 1.1 * interval:
        return k * (t / interval + 0.5)
    return k * window / interval


def counter_rate_scenario(rs, a, metric, matchers, op, fn, window, interval) -> Scenario:
    """``rate``/``increase`` of a counter against the threshold."""
    labels = base_labels(rs, metric, matchers)
    name = series_name(metric, labels)
    t = a.threshold
    scale = 1.0 if fn == "increase" else 1.0 / window  # rate = increase / window
    early = 1.5 * scale  # value at t=interval per unit of per-sample increment
    full = window / interval * scale
    # per-sample increments, rounded away from the threshold (see dyadic())
    if side(op) == "above":
        k_bad = dyadic(1.2 * t / early, math.ceil) if t > 0 else 1.0  # 1.2x the threshold at the second sample
        k_good = 0.0
        k_inside = dyadic(0.95 * t / full, math.floor) if t > 0 else 0.0
    else:
        k_bad = 0.0
        k_good = dyadic(2 * t / early, math.ceil)
        k_inside = dyadic(1.05 * t / early, math.ceil)
    base = counter_base(k_bad, k_good, k_inside)
    return Scenario(
        fires=lambda r, total: [(name, Values().ramp(k_bad, r, start=base).ramp(k_good, total - r))],
        inside=lambda total: [(name, Values().ramp(k_inside, total, start=base))],
        t_true=interval, clear=window, labels=labels,
        value=lambda at: increase_at(k_bad, at, window, interval) * scale)


def split_counters(rs, part_sels, total_sels):
    """Series for a part/total pair of counter selectors (errors/requests, failed/processed+failed).

    Returns ``(series, part_in_total)``: ``series`` is ``[(name, role)]`` with role "part" for the
    numerator's series and "rest" for series that only the total counts; ``part_in_total`` says whether
    the total's selectors already count the part's series (so the rest carries ``1 - ratio`` of the
    traffic) or not (a separate total counter carries all of it)."""
    out = []
    part_keys = []
    for metric, matchers in part_sels:
        out.append((series_name(metric, base_labels(rs, metric, matchers)), "part"))
        part_keys.append((metric, matchers))
    part_in_total = False
    for metric, matchers in total_sels:
        if (metric, matchers) in part_keys:
            part_in_total = True
            continue
        covering = [pm for pm in part_keys if pm[0] == metric and all(pm[1].get(k) == v for k, v in matchers.items())]
        if covering:
            part_in_total = True
            for pm, pmatch in covering:
                comp = complement_labels(rs, metric, pmatch, keep=matchers)
                if comp is not None:
                    out.append((series_name(metric, comp), "rest"))
        else:  # a separate total counter: the labels it shares with the part's series take the part's values
            # (the ratio divides series with equal labels), unless the total's own matchers decide them
            labels = base_labels(rs, metric, matchers)
            if part_sels:
                first = base_labels(rs, *part_sels[0])
                for k in labels:
                    if k in first and k not in matchers and k not in rs.service.source.selector:
                        labels[k] = first[k]
            out.append((series_name(metric, labels), "rest"))
    return out, part_in_total


def total_has_rest(part_sels, total_sels) -> bool:
    """Whether the total selects some series the part does not (what :func:`split_counters` writes as "rest").
    Without one the ratio is constant (1 for a bad part, 0 for a good one): a catalog error of the kind."""
    for metric, matchers in total_sels:
        if (metric, matchers) in part_sels:
            continue
        covering = [pm for pm in part_sels if pm[0] == metric and all(pm[1].get(k) == v for k, v in matchers.items())]
        if not covering or any(avoidable({k: v for k, v in pm[1].items() if k not in matchers}) for pm in covering):
            return True
    return False


def phase_steps(split, ratio: float, per_step: float) -> tuple[float, float]:
    """Per-sample increments of each part series and each rest series for a part/total ``ratio``."""
    series, part_in_total = split
    n_parts = sum(1 for _, role in series if role == "part")
    n_rests = sum(1 for _, role in series if role == "rest")
    rest_share = 1 - ratio if part_in_total else 1.0
    return dyadic(per_step * ratio / n_parts), dyadic(per_step * rest_share / n_rests) if n_rests else 0.0


def realized_ratio(split, ratio: float, per_step: float) -> float:
    """The part/total ratio the rounded increments of :func:`phase_steps` really produce."""
    series, part_in_total = split
    part, rest = phase_steps(split, ratio, per_step)
    part_total = part * sum(1 for _, role in series if role == "part")
    rest_total = rest * sum(1 for _, role in series if role == "rest")
    total = part_total + rest_total if part_in_total else rest_total
    return part_total / total


def gauge_phases(split, phases, level):
    """Gauges whose part/total ratio follows ``phases`` = [(ratio, samples), ...]: each phase holds the values
    :func:`phase_steps` gives for a total of ``level`` (a ratio of gauges divides their values)."""
    series, _ = split
    out = []
    for name, role in series:
        v = Values()
        for ratio, n in phases:
            v.const(phase_steps(split, ratio, level)[0 if role == "part" else 1], n)
        out.append((name, v))
    return out


def counter_phases(split, phases, per_step):
    """Counters whose part/total ratio follows ``phases`` = [(ratio, samples), ...]; a phase may carry its own
    traffic per sample as a third element, ``(ratio, samples, per_step)``."""
    series, _ = split
    base = counter_base(*[ph[2] if len(ph) > 2 else per_step for ph in phases], per_step)
    out = []
    for name, role in series:
        v = Values()
        for ratio, n, *own in phases:
            step = phase_steps(split, ratio, own[0] if own else per_step)[0 if role == "part" else 1]
            v.ramp(step, n, start=base if not v.parts else None)
        out.append((name, v))
    return out


