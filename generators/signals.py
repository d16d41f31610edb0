"""What a monitor's alerts compare with their thresholds, as data: its signals.

A :class:`Signal` is a series (PromQL for Prometheus services; the alarm's own CloudWatch metric queries for
CloudWatch services) in the unit it is plotted in, with the bound of every enabled alert of the environment
(:class:`Level`) and the side of the bound that is bad (``op``). Each kind builds its signals in
``generators/kinds/<kind>.py``; dashboards (both sources) draw their panels from them, so a panel always shows
the very series its alert or alarm evaluates, against the same numbers. Nothing here imports a generator.
"""

from __future__ import annotations

from dataclasses import dataclass

UNITS = {"seconds": "s", "milliseconds": "ms", "ratio": "percentunit", "bytes": "bytes", "count": "short", "": "short"}
"""Catalog metric unit -> Grafana unit id."""


@dataclass(frozen=True)
class Level:
    """One enabled alert's bound on a signal, in the signal's unit."""

    alert: str
    severity: str
    value: float


@dataclass(frozen=True)
class Query:
    """A PromQL query of a panel."""

    expr: str
    legend: str = ""
    instant: bool = False


CW_PERIOD = 300
"""Period (seconds) of a hand-written CloudWatch query that names none."""


@dataclass(frozen=True)
class CwQuery:
    """One CloudWatch metric query: a statistic of a metric, or metric math over other queries' ids."""

    ident: str
    metric: str = ""
    stat: str = ""
    period: int = CW_PERIOD
    hidden: bool = False
    expression: str = ""
    legend: str = ""
    namespace: str = ""
    dimensions: tuple[tuple[str, str], ...] = ()

    @property
    def expr(self) -> str:  # what checks and docs print
        return self.expression or f"{self.stat}({self.metric}) per {self.period}s"


@dataclass(frozen=True)
class Signal:
    """A series an alert condition compares (``queries``), in ``unit``, with the bounds of its alerts."""

    title: str
    queries: tuple
    unit: str = "short"
    op: str = "above"
    """Which side of each level is bad: ``above`` or ``below``, or ``above_or_equal``/``below_or_equal`` when a
    value exactly at the level is bad too."""
    levels: tuple[Level, ...] = ()
    min: float | None = None
    max: float | None = None
    note: str = ""
    """Extra words for the panel description (after the alert conditions)."""


@dataclass(frozen=True)
class Panel:
    """One panel of a monitor's dashboard row: a signal shown as a time series or a single stat."""

    signal: Signal
    kind: str = "timeseries"  # or "stat"
    title: str | None = None
    """Default: the signal's title."""
    description: str | None = None
    """Replaces the generated description (the alert conditions and the signal's note) when given."""


def series_and_now(signals: tuple[Signal, ...]) -> tuple[Panel, ...]:
    """The usual row: the main signal over time, and its current value."""
    return (Panel(signals[0]), Panel(signals[0], "stat", "Now"))


def operator_side(operator: str) -> str:
    """The ``op`` (``above``/``below``, ``_or_equal`` when inclusive) of a CloudWatch ComparisonOperator."""
    side = "below" if operator.startswith("Less") else "above"
    return side + "_or_equal" if "OrEqual" in operator else side
