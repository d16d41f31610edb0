"""The contract of a monitor kind: :class:`KindSpec`, and the small helpers kinds share.

A kind is one module, ``generators/kinds/<kind>.py``, defining ``KIND = KindSpec(...)`` with every facet
(``docs/architecture.md``, "How to add a kind"). Facets take the same arguments by what they describe:

- per alert (one resolved alert of one environment): ``fn(a: Alert, rs: ResolvedService)``;
- per monitor in one environment: ``fn(m, rs: ResolvedService)``;
- per monitor in the catalog (checks, before any environment is resolved): ``fn(m, svc: Service)``.

A facet a kind cannot provide is a :class:`NotSupported` with the reason (calling it raises
:class:`~generators.cloudwatch.plans.Unsupported`, which the catalog checks report with file and path).
Kinds import only from outside ``generators.kinds`` (this module, the model, the building blocks of each
output), so the package's explicit list (``generators/kinds/__init__.py``) cannot form an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, NamedTuple

from .cloudwatch.plans import Unsupported
from .model import DEFAULT_WINDOW
from .promql import by_clause, matcher_op, num
from .resolve import Alert, ResolvedService
from .signals import UNITS, Level, series_and_now

PER_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
"""``per:`` of a trend monitor in seconds (``deriv()`` is per second)."""
UNIT_SCALE = {"milliseconds": 1000.0, "seconds": 1.0}
"""Latency thresholds are written in seconds; a histogram in these units is that many times larger."""
RATIO_WINDOW = DEFAULT_WINDOW
"""Window of a threshold ratio (``denominator``) without ``smoothing`` (seconds)."""


class MetricUse(NamedTuple):
    """A metric a monitor reads: where in the monitor, its name, and the metric types that fit."""

    path: tuple
    metric: str
    types: tuple[str, ...]


@dataclass(frozen=True)
class NotSupported:
    """A facet the kind cannot provide, with the reason the user reads."""

    reason: str
    path: tuple = ("kind",)

    def __call__(self, subject, *_):
        raise Unsupported(getattr(subject, "monitor", subject), self.path, self.reason)


@dataclass(frozen=True)
class KindSpec:
    """Every facet of one monitor kind. Every field is required: a kind states each facet or says why not."""

    name: str
    """The ``kind:`` value in the catalog."""
    model: type
    """Its pydantic model class (``generators.model``): fields, defaults (``DEFAULT_FOR``,
    ``DEFAULT_THRESHOLD``) and field validation."""
    requires_threshold: bool
    """A monitor of this kind without ``levels`` must state ``threshold``."""
    expr: Callable[[Alert, ResolvedService], str]
    """The PromQL alert expression."""
    recording_rules: Callable[[Any, ResolvedService], list[dict]]
    """Recording rules the alert expressions read (rendered before them in the monitor's own rule group)."""
    signals: Callable[[Any, ResolvedService], tuple]
    """What the alerts compare, as :class:`~generators.signals.Signal` (the first is the main one), on the
    service's source: PromQL, or the alarm plan's CloudWatch queries. Dashboards plot them."""
    panels: Callable[[Any, ResolvedService], tuple]
    """The monitor's dashboard row (:class:`~generators.signals.Panel`), from its signals."""
    scenario: Callable[[Alert, ResolvedService], Any]
    """promtool test series: a :class:`~generators.prometheus.series.Scenario` (or the catalog's own cases)."""
    cloudwatch: Callable[[Alert, ResolvedService], Any] | NotSupported
    """The CloudWatch alarm plan (:class:`~generators.cloudwatch.plans.Plan` or ``BurnPlan``)."""
    condition: Callable[[Alert, ResolvedService], str]
    """The condition in words (``mlmon thresholds``, runbooks, summaries, descriptions), with units."""
    value: Callable[[Alert, ResolvedService], str]
    """How the alert's ``$value`` reads in the unit of its threshold: a Prometheus template (descriptions), e.g.
    ``{{ $value | humanizePercentage }}`` for a ratio, ``{{ $value | humanizeDuration }}`` for seconds (helpers:
    :func:`value_is`, :func:`metric_value`)."""
    metrics: Callable[[Any], Iterable[MetricUse]]
    """The metrics it reads and the types that fit (checked against ``metrics:``)."""
    check: Callable[[Any, Any], Iterable[tuple[tuple, str]]]
    """Its own catalog checks: ``(path inside the monitor, message)`` for each problem."""
    warnings: Callable[[Any, Any], Iterable[tuple[tuple, str]]]
    """``(path, message)`` for what is valid but likely not what the author meant (``mlmon check`` prints them
    and still passes), e.g. an SLO whose low-traffic guard can never let it alert."""


FACETS = ("expr", "recording_rules", "signals", "panels", "scenario", "cloudwatch", "condition", "value", "metrics",
          "check", "warnings")


def panels_of(signals):
    """The usual ``panels`` facet: the main signal over time, and its current value."""
    def panels(m, rs: ResolvedService) -> tuple:
        return series_and_now(signals(m, rs))

    return panels


def no_recording_rules(m, rs: ResolvedService) -> list[dict]:
    return []


def no_checks(m, svc) -> Iterable[tuple[tuple, str]]:
    return ()


no_warnings = no_checks
"""The ``warnings`` facet of a kind that has none."""


# --- $value in the threshold's unit ------------------------------------------------------------------

COUNT = "{{ $value | humanize }}"
PERCENT = "{{ $value | humanizePercentage }}"
DURATION = "{{ $value | humanizeDuration }}"
NUMBER = '{{ printf "%.4g" $value }}'


def value_is(template: str):
    """A ``value`` facet that always reads ``template`` (e.g. ``value_is(COUNT)``)."""
    def value(a, rs: ResolvedService) -> str:
        return template

    return value


def metric_value(rs: ResolvedService, metric: str) -> str:
    """``$value`` of a quantity in the metric's own unit: durations for seconds, percentages for ratios (and
    scores declared in [0, 1] as plain numbers: 0.736, not 736m), binary prefixes for bytes, counts otherwise."""
    decl = rs.service.metrics.get(metric)
    unit = decl.unit if decl else ""
    if unit == "seconds":
        return DURATION
    if unit == "milliseconds":
        return NUMBER + "ms"
    if unit == "ratio":
        return PERCENT
    if unit == "bytes":
        return "{{ $value | humanize1024 }}B"
    if decl and decl.range and decl.range[0] >= -1 and decl.range[1] <= 1:
        return NUMBER
    return COUNT


# --- shared helpers ----------------------------------------------------------------------------------


def alerts_of(rs: ResolvedService, m) -> list[Alert]:
    """The enabled alerts of ``m`` in this environment."""
    return [a for a in rs.alerts if a.monitor is m]


def levels(rs: ResolvedService, m, value=lambda a: a.threshold) -> tuple[Level, ...]:
    """One level per enabled alert of ``m`` with a threshold (``value(a)``: in the signal's unit)."""
    return tuple(Level(a.name, a.severity, value(a)) for a in alerts_of(rs, m) if a.threshold is not None)


def ratio_by(rs: ResolvedService, m) -> tuple[str, ...]:
    """Labels a ratio or latency aggregates by: the monitor's ``by``, else the service's labels."""
    return tuple(m.by) if m.by is not None else tuple(rs.service.labels)


def aggregation(rs: ResolvedService, m) -> str:
    """The grouping clause of a ratio or latency: ``without (...)`` when the monitor names labels to drop,
    else ``by (...)`` of :func:`ratio_by` (empty when there are none)."""
    if getattr(m, "without", None) is not None:
        return f"without ({', '.join(m.without)}) "
    return by_clause(ratio_by(rs, m))


def kept(rs: ResolvedService, m, labels: dict[str, str]) -> dict[str, str]:
    """Of a synthetic series' ``labels``, those the monitor's aggregation keeps (what its alert carries)."""
    if getattr(m, "without", None) is not None:
        return {k: v for k, v in labels.items() if k not in m.without}
    by = ratio_by(rs, m)
    return {k: v for k, v in labels.items() if k in by}


def threshold_in_metric_units(rs: ResolvedService, metric: str, value: float) -> float:
    """Latency thresholds are written in seconds; histograms in milliseconds need scaling."""
    decl = rs.service.metrics.get(metric)
    scale = UNIT_SCALE.get(decl.unit, 1.0) if decl else 1.0
    return value * scale


def grafana_unit(rs: ResolvedService, metric: str) -> str:
    decl = rs.service.metrics.get(metric)
    return UNITS.get(decl.unit, "short") if decl else "short"


def unit_range(rs: ResolvedService, metric: str) -> tuple[float | None, float | None]:
    """The metric's declared range as a panel's min/max when it lies within [0, 1] (scores)."""
    decl = rs.service.metrics.get(metric)
    if decl and decl.range and decl.range[0] >= 0 and decl.range[1] <= 1:
        return decl.range
    return None, None


def series_labels(rs: ResolvedService, metric: str) -> list[str]:
    """The labels that tell the metric's series apart: the service's, then the metric's own."""
    decl = rs.service.metrics.get(metric)
    out = list(rs.service.labels)
    out += [lbl for lbl in (decl.labels if decl else ()) if lbl not in out]
    return out


def legend(labels) -> str:
    return " ".join("{{" + lbl + "}}" for lbl in labels)


def as_written(metric: str, matchers: dict[str, str]) -> str:
    """A selector as the catalog states it (without the service-wide selector), for conditions in words."""
    if not matchers:
        return metric
    parts = []
    for label in sorted(matchers):
        op, val = matcher_op(matchers[label])
        parts.append(f'{label}{op}"{val}"')
    return f"{metric}{{{','.join(parts)}}}"


def metric_range(svc, metric: str | None):
    decl = svc.metrics.get(metric or "")
    return decl.range if decl else None


def thresholds(m) -> Iterable[tuple[tuple, float]]:
    """(path, value) for the monitor's base threshold(s) and every override of them."""
    if m.levels:
        for j, lvl in enumerate(m.levels):
            yield ("levels", j, "threshold"), lvl.threshold
            for env, o in lvl.overrides.items():
                if o.threshold is not None:
                    yield ("levels", j, "overrides", env, "threshold"), o.threshold
    else:
        if m.threshold is not None:
            yield ("threshold",), m.threshold
        for env, o in m.overrides.items():
            if o.threshold is not None:
                yield ("overrides", env, "threshold"), o.threshold


def unreachable(m, rng, op: str) -> Iterable[tuple[tuple, str]]:
    """Thresholds the declared range ``rng`` of the compared value can never cross on the ``op`` side."""
    if rng is None:
        return
    lo, hi = rng
    words = {"above": "above", "below": "below", "above_or_equal": "at or above", "below_or_equal": "at or below"}
    for path, t in thresholds(m):
        if ((op == "below" and t <= lo) or (op == "above" and t >= hi) or (op == "below_or_equal" and t < lo)
                or (op == "above_or_equal" and t > hi)):
            yield path, (f"{words[op]} {num(t)} can never happen: the metric ranges over [{num(lo)}, {num(hi)}]")
        elif ((op == "below_or_equal" and t >= hi) or (op == "above_or_equal" and t <= lo)
              or (op == "below" and t > hi) or (op == "above" and t < lo)):
            yield path, (f"{words[op]} {num(t)} always holds: the metric ranges over [{num(lo)}, {num(hi)}], "
                         "so the alert would always fire")


def no_threshold_overrides(m, why: str) -> Iterable[tuple[tuple, str]]:
    for env, o in m.overrides.items():
        if o.threshold is not None:
            yield ("overrides", env, "threshold"), why
