"""CloudWatch-specific catalog schema: the ``cloudwatch:`` blocks of a declared metric and of a monitor.

Only services whose ``source.type`` is ``cloudwatch`` may use them (checked by
:mod:`generators.checks.cloudwatch`). Field reference: ``docs/cloudwatch.md``.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from ..types import AlertName, Seconds, Severity, Strict

STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
Statistic = Literal["SampleCount", "Average", "Sum", "Minimum", "Maximum"]

# botocore's StandardUnit enum (tests assert this list equals the service model's).
STANDARD_UNITS = (
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
)
StandardUnit = Literal[STANDARD_UNITS]  # type: ignore[valid-type]

TREAT_MISSING = ("breaching", "notBreaching", "ignore", "missing")
TreatMissingData = Literal["breaching", "notBreaching", "ignore", "missing"]

_DASHBOARD = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def _dashboard_name(v):
    if not isinstance(v, str) or not _DASHBOARD.fullmatch(v):
        raise ValueError(f"{v!r} is not a CloudWatch dashboard name (letters, digits, '-' and '_'; at most 255)")
    return v


def _name(v):
    if not isinstance(v, str) or not 1 <= len(v) <= 255:
        raise ValueError(f"{v!r} is not a CloudWatch name (1 to 255 characters)")
    return v


DashboardName = Annotated[str, BeforeValidator(_dashboard_name)]
CloudWatchName = Annotated[str, BeforeValidator(_name)]


STANDARD_RESOLUTION = 60
"""Seconds between datapoints of a standard-resolution metric (high resolution: 10, 20 or 30)."""


def valid_period(p) -> bool:
    """CloudWatch's rule for a period: 10, 20 or 30 seconds, or a multiple of 60."""
    return isinstance(p, int) and not isinstance(p, bool) and (p in (10, 20, 30) or (p > 0 and p % 60 == 0))


def _period(v):
    from ..durations import parse_duration

    s = parse_duration(v)
    if not valid_period(s):
        raise ValueError(f"{s}s is not a CloudWatch period: use 10s, 20s, 30s or a multiple of 60s")
    return s


Period = Annotated[int, BeforeValidator(_period)]
"""A duration that CloudWatch accepts as a period: 10, 20 or 30 seconds or a multiple of 60 seconds."""


class MetricOptions(Strict):
    """``metrics.<name>.cloudwatch``: where and how a declared metric lives in CloudWatch."""

    name: CloudWatchName | None = None
    """CloudWatch ``MetricName`` (default: the catalog's metric key, e.g. ``classification_accuracy_7d``)."""
    namespace: CloudWatchName | None = None
    """Namespace of this metric (default: ``source.namespace``)."""
    dimensions: dict[CloudWatchName, CloudWatchName] = Field(default_factory=dict)
    """Dimensions of this metric, added to ``source.dimensions`` (and to a monitor's equality matchers)."""
    statistic: Statistic | None = None
    """Statistic for monitors that read the metric without smoothing (default: Average; Maximum for flags)."""
    unit: StandardUnit | None = None
    """``Unit`` on the alarm. Only set it when the metric is published with exactly this unit: an alarm
    with a Unit ignores datapoints published with another (or no) unit."""
    period: Period = STANDARD_RESOLUTION
    """Resolution the metric is published at: 60s (standard) or 10s/20s/30s (high-resolution)."""


class AnomalyBand(Strict):
    """``monitors[i].cloudwatch.anomaly_band``: an extra alarm on CloudWatch's anomaly-detection band.

    The alarm fires when the metric leaves the band of ``width`` standard deviations that CloudWatch's
    model learns from the metric's history (``ANOMALY_DETECTION_BAND(m1, width)``)."""

    alert: AlertName
    """Name of the extra alarm's alert (unique across the catalog like every alert name)."""
    width: float = Field(default=2.0, gt=0, le=100)
    """Band width in standard deviations (CloudWatch's default is 2)."""
    direction: Literal["above", "below", "both"] | None = None
    """Which side of the band alarms (default: the monitor's ``op``)."""
    for_: Seconds = Field(default=900, alias="for")
    severity: Severity = "warning"


class MonitorOptions(Strict):
    """``monitors[i].cloudwatch``: CloudWatch-only settings of a monitor."""

    treat_missing_data: TreatMissingData | None = None
    """Override of the per-kind default (see docs/cloudwatch.md)."""
    anomaly_band: AnomalyBand | None = None
    """Opt-in anomaly-detection alarm beside the static thresholds (threshold and latency monitors that
    read one metric)."""
