"""The catalog's typed, immutable model.

One file per service under ``alerts/`` parses into :class:`Service`; ``alerts/_defaults.yaml``
(optional) into :class:`Defaults`. Every field is documented here and in ``docs/catalog.md``.
Unknown keys are errors everywhere (``extra="forbid"``): a typo must never be silently ignored.

Generators never read this module's raw classes directly for per-environment values; they read the
resolved view from :mod:`generators.resolve`, where overrides are already applied.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .alertmanager.model import AlertmanagerSettings, Inhibits
from .runbook_settings import RunbookSettings
from .jobs.model import Hosts, JobDefaults, Remediation, ScheduledJob

from .cloudwatch.model import DashboardName, MetricOptions as CloudWatchMetricOptions
from .cloudwatch.model import MonitorOptions as CloudWatchMonitorOptions
from .types import (SEVERITIES, AlertName, DnsName, EnvName, K8sAnnotationKey, K8sLabelKey,  # noqa: F401
                    K8sLabelValue, LabelName, LabelValue, MetricName, PositiveSeconds, Seconds, Severity, Strict,
                    TemplateText)


# ---------------------------------------------------------------------------------------------
# catalog-wide defaults (alerts/_defaults.yaml)


class EnvironmentSettings(Strict):
    """``environment_settings.<env>``: the deployment settings that differ in one environment; each given field
    replaces the catalog-wide value of the same name (``mlmon render --env <env>`` writes them everywhere)."""

    rule_labels: dict[K8sLabelKey, K8sLabelValue] | None = None
    dashboard_labels: dict[K8sLabelKey, K8sLabelValue] | None = None
    dashboard_folder_annotation: K8sAnnotationKey | None = None
    dashboard_folder: str | None = None
    dashboard_namespace: DnsName | None = None
    namespaces: dict[DnsName, DnsName] | None = None


class Defaults(Strict):
    """Catalog-wide settings; every field can be set in ``alerts/_defaults.yaml``."""

    environments: tuple[EnvName, ...] = ("dev", "staging", "prod")
    """Environments the catalog renders for; overrides may only name these."""
    evaluation_interval: PositiveSeconds = 60
    """Rule group evaluation interval (also the promtool test interval)."""
    runbook_base: TemplateText = "https://runbooks.example.com"
    """Base URL of runbook pages; a rule's runbook_url is ``<base>/<service>/<AlertName><runbooks.url_suffix>``."""
    runbooks: RunbookSettings = Field(default_factory=RunbookSettings)
    """Runbook page URLs and the hand-written runbooks directory (see ``generators/runbook_settings.py``)."""
    grafana_url: TemplateText = "https://grafana.example.com"
    """Base URL of Grafana; a service's dashboard_url defaults to ``<grafana_url>/d/<uid>``."""
    rule_labels: dict[K8sLabelKey, K8sLabelValue] = Field(default_factory=dict)
    """Labels put on every PrometheusRule object: what the cluster's prometheus-operator selects rules by (its
    ``ruleSelector``; kube-prometheus-stack: ``release: <release name>``)."""
    common_labels: dict[LabelName, LabelValue] = Field(default_factory=dict)
    """Labels added to every alert."""
    jobs: JobDefaults = Field(default_factory=JobDefaults)
    """Scheduled jobs and remediation templates: kubectl image, default resources, deadlines (docs/remediations.md)."""
    dashboard_labels: dict[K8sLabelKey, K8sLabelValue] = Field(default_factory=lambda: {"grafana_dashboard": "1"})
    """Labels on every dashboard ConfigMap: what the Grafana sidecar selects (kube-prometheus-stack
    ``grafana.sidecar.dashboards.label``/``labelValue``)."""
    dashboard_folder_annotation: K8sAnnotationKey = "grafana_folder"
    """Annotation key the sidecar reads the Grafana folder from (``grafana.sidecar.dashboards.folderAnnotation``)."""
    dashboard_folder: str = "{team}"
    """Grafana folder (title) of every dashboard, for the sidecar and for API delivery alike; ``{team}`` and
    ``{service}`` are replaced."""
    dashboard_namespace: DnsName = "monitoring"
    """Namespace of the dashboard ConfigMaps (the sidecar watches Grafana's own namespace by default)."""
    namespaces: dict[DnsName, DnsName] = Field(default_factory=dict)
    """Namespace as the catalog names it -> the namespace its objects are rendered into (every object,
    RoleBinding subject, ``kubectl -n`` of a remediation and runbook command follows)."""
    alertmanager: AlertmanagerSettings | None = None
    """Receivers, routing defaults per severity, time intervals and inhibition defaults; with it, mlmon renders
    the Alertmanager configuration and every ``routing`` entry must name a declared receiver (docs/catalog.md)."""
    environment_settings: dict[EnvName, EnvironmentSettings] = Field(default_factory=dict)
    """Per environment: the settings above that differ there (``rule_labels``, ``dashboard_labels``,
    ``dashboard_folder_annotation``, ``dashboard_folder``, ``dashboard_namespace``, ``namespaces``)."""

    @model_validator(mode="after")
    def _settings_name_environments(self):
        unknown = sorted(set(self.environment_settings) - set(self.environments))
        if unknown:
            raise ValueError(f"environment_settings names unknown environment(s) {', '.join(unknown)}; "
                             f"expected one of {', '.join(self.environments)}")
        return self


# ---------------------------------------------------------------------------------------------
# service metadata


class PrometheusSource(Strict):
    type: Literal["prometheus"] = "prometheus"
    selector: dict[LabelName, str] = Field(default_factory=dict)
    """Label matchers added to every selector of this service (e.g. ``{namespace: crew}``)."""


class CloudWatchSource(Strict):
    type: Literal["cloudwatch"]
    namespace: str
    region: str
    dimensions: dict[str, str] = Field(default_factory=dict)
    dashboard: DashboardName | None = None
    """CloudWatch dashboard name (default: the title with spaces as '-', e.g. ``BoltIT-Pilot``)."""
    env_suffix: bool = False
    """Append ``-<env>`` to alarm, topic and dashboard names (several environments in one AWS account)."""
    composite_severity: Severity | None = None
    """Severity whose SNS topic the service's composite alarm notifies (default: none, the roll-up only)."""


Source = Annotated[Union[PrometheusSource, CloudWatchSource], Field(discriminator="type")]


class Workload(Strict):
    kind: Literal["Deployment", "StatefulSet", "DaemonSet"] = "Deployment"
    name: DnsName


class Links(Strict):
    runbook_base: TemplateText | None = None
    """Overrides ``Defaults.runbook_base`` for this service."""
    dashboard: TemplateText | None = None
    """URL of the service's main dashboard (defaults to the generated one in Grafana)."""


class MetricDecl(Strict):
    """A metric the service exposes. Monitors may only name declared metrics."""

    type: Literal["gauge", "counter", "histogram"] = "gauge"
    help: str = ""
    unit: Literal["", "seconds", "milliseconds", "ratio", "bytes", "count"] = ""
    range: tuple[float, float] | None = None
    """Closed interval of values the metric can take (e.g. ``[0, 1]`` for a score). Used to catch
    thresholds and slopes that can never be reached."""
    labels: tuple[LabelName, ...] = ()
    """Labels that identify its series (beyond job/instance)."""
    buckets: tuple[float, ...] | None = None
    """Histograms: the bucket boundaries (``le``) it is exported with, when an expression reads one bucket
    (e.g. ``rag_hhem_score_bucket{le="0.85"}``, the share of answers under 0.85)."""
    cloudwatch: CloudWatchMetricOptions | None = None
    """CloudWatch name, dimensions, statistic, unit and resolution (cloudwatch-sourced services only)."""

    @model_validator(mode="after")
    def _range_ordered(self):
        if self.range is not None and self.range[0] >= self.range[1]:
            raise ValueError(f"range must be [min, max] with min < max, got {list(self.range)}")
        if self.buckets is not None:
            if self.type != "histogram":
                raise ValueError("`buckets` are the boundaries of a histogram; this metric is a " + self.type)
            if list(self.buckets) != sorted(set(self.buckets)) or not self.buckets:
                raise ValueError(f"buckets must be increasing boundaries, got {list(self.buckets)}")
        return self


class Selector(Strict):
    """A metric and optional label matchers. A matcher value may start with ``=~``, ``!~`` or ``!=``."""

    metric: MetricName
    matchers: dict[LabelName, str] = Field(default_factory=dict)


def _selector(v):
    return {"metric": v} if isinstance(v, str) else v


SelectorIn = Annotated[Selector, BeforeValidator(_selector)]
"""A selector written either as a bare metric name or as ``{metric, matchers}``."""


def _selectors(v):
    return [v] if isinstance(v, (str, dict)) else v


SelectorsIn = Annotated[tuple[SelectorIn, ...], BeforeValidator(_selectors)]
"""One selector or a list of selectors whose rates are summed (e.g. processed + failed)."""


# ---------------------------------------------------------------------------------------------
# thresholds, levels and per-environment overrides


class Override(Strict):
    """Per-environment override of one alert. Only these four fields can differ per environment."""

    threshold: float | None = None
    for_: Seconds | None = Field(default=None, alias="for")
    severity: Severity | None = None
    enabled: bool | None = None


class Level(Strict):
    """One alert from a monitor: several levels make several alerts (e.g. ticket at 25, page at 100)."""

    alert: AlertName
    threshold: float
    for_: Seconds = Field(alias="for")
    severity: Severity
    overrides: dict[EnvName, Override] = Field(default_factory=dict)
    summary: TemplateText | None = None
    """This level's own summary (default: the monitor's), e.g. "above 10 %" on the critical level."""
    remediations: tuple[DnsName, ...] | None = None
    """Remediations of this level's alert, instead of the monitor's (e.g. the heuristic fallback only on the
    critical level). Default: the monitor's ``remediations``."""


class MonitorBase(Strict):
    name: AlertName
    """Alert name (single level) or the monitor's name (several ``levels``, each naming its alert)."""
    summary: TemplateText | None = None
    description: TemplateText | None = None
    runbook: TemplateText | None = None
    """Runbook URL for this monitor's alerts (default: generated page under the runbook base)."""
    enabled: bool = True
    labels: dict[LabelName, LabelValue] = Field(default_factory=dict)
    """Extra labels for this monitor's alerts."""
    # single-level shorthand
    threshold: float | None = None
    for_: Seconds | None = Field(default=None, alias="for")
    severity: Severity | None = None
    overrides: dict[EnvName, Override] = Field(default_factory=dict)
    levels: tuple[Level, ...] = ()
    cloudwatch: CloudWatchMonitorOptions | None = None
    """CloudWatch-only settings (cloudwatch-sourced services only): missing-data handling, anomaly band."""
    remediations: tuple[DnsName, ...] = ()
    """Names of the service's remediations to run when this monitor's alerts fire (annotated on each alert).
    A level's own ``remediations`` replaces this list for that level's alert."""
    inhibits: Inhibits | None = None
    """Alerts of the same service this monitor's alerts silence while firing (Alertmanager inhibition), e.g. an
    outage or ``absent`` alert silencing the symptoms it explains."""
    notes: str | None = None
    """Reviewer notes shown on the alert's runbook page, not in the notification: e.g. why the monitor
    differs from the seed runbook's literal text."""

    # per-kind defaults, overridden by subclasses: `for` (seconds) and the threshold when none is given
    DEFAULT_FOR: ClassVar[int] = 300
    DEFAULT_THRESHOLD: ClassVar[float | None] = None

    def alert_variants(self) -> tuple[tuple[str, str, str], ...]:
        """``(name suffix, severity, variant)`` of each alert this monitor derives from one threshold, or ``()``
        when its alerts are its levels (or the monitor itself)."""
        return ()

    def variant_for(self, variant: str, for_: int) -> int:
        """The ``for`` of one of :meth:`alert_variants` (default: the monitor's)."""
        return for_

    @model_validator(mode="after")
    def _levels_or_shorthand(self):
        if self.levels:
            clash = [f for f in ("threshold", "for_", "severity") if getattr(self, f) is not None]
            if clash:
                names = ", ".join("for" if c == "for_" else c for c in clash)
                raise ValueError(f"give either `levels` or {names} at the top of the monitor, not both")
            bad = [env for env, o in self.overrides.items() if (o.threshold, o.for_, o.severity) != (None,) * 3]
            if bad:
                raise ValueError("with `levels`, monitor-level overrides may only set `enabled`; "
                                 "put threshold/for/severity overrides inside each level")
        return self


DEFAULT_WINDOW = 300
"""Seconds: the window of `smoothing`, of a threshold ratio (`denominator`) without smoothing, and of latency."""


class Smoothing(Strict):
    """Aggregate the metric over a window before comparing: ``<function>_over_time(m[window])``,
    or ``rate``/``increase`` for counters."""

    function: Literal["avg", "min", "max", "quantile", "rate", "increase"] = "avg"
    window: PositiveSeconds = DEFAULT_WINDOW
    quantile: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _quantile(self):
        if (self.function == "quantile") != (self.quantile is not None):
            raise ValueError("`quantile` is required with function quantile and only then")
        return self


Op = Literal["above", "below", "above_or_equal", "below_or_equal"]
"""Which side of the threshold is bad: ``above`` (``>``), ``below`` (``<``), or with the threshold itself
``above_or_equal`` (``>=``), ``below_or_equal`` (``<=``)."""


class ThresholdMonitor(MonitorBase):
    """A gauge or score (or ratio of two counters' rates) above/below a bound."""

    kind: Literal["threshold"]
    metric: MetricName
    matchers: dict[LabelName, str] = Field(default_factory=dict)
    op: Op = "above"
    smoothing: Smoothing | None = None
    denominator: SelectorsIn | None = None
    """Divide by this selector, or by the sum of several (``[processed_total, failed_total]``): counters divide
    their rates (over ``smoothing.window``, default 5m), gauges their values (smoothed alike when ``smoothing``
    is given), e.g. available / desired replicas."""
    by: tuple[LabelName, ...] | None = None
    """Aggregate per these labels (ratios default to the service's labels)."""
    without: tuple[LabelName, ...] | None = None
    """Aggregate away only these labels (``sum without (instance, pod)``), keeping every other; instead of ``by``."""
    min_events: float | None = Field(default=None, ge=0)
    """Low-traffic guard for ratios of counters (with ``denominator`` only): judge the ratio only while at least
    this many events per minute arrive in the denominator over the window. Default 1; 0 turns the guard off."""

    @model_validator(mode="after")
    def _guard_needs_ratio(self):
        if self.min_events is not None and self.denominator is None:
            raise ValueError("`min_events` guards a ratio: it needs a `denominator`")
        if self.by is not None and self.without is not None:
            raise ValueError("give either `by` (labels to keep) or `without` (labels to drop), not both")
        return self

    @property
    def guard(self) -> float:
        """Events per minute the denominator needs before the ratio is judged (0 = no guard)."""
        if self.denominator is None:
            return 0.0
        return 1.0 if self.min_events is None else self.min_events


class FlagMonitor(MonitorBase):
    """A 0/1 gauge equal to ``threshold`` (default 1), e.g. ``degradation_detected == 1``."""

    kind: Literal["flag"]
    metric: MetricName
    matchers: dict[LabelName, str] = Field(default_factory=dict)
    DEFAULT_THRESHOLD: ClassVar[float | None] = 1.0


class TrendMonitor(MonitorBase):
    """Least-squares slope over ``window``, in units of the metric per ``per``, compared to ``threshold``.

    ``deriv()`` is per second; mlmon scales it, so ``threshold: -0.01, per: hour`` means "falls by more
    than 0.01 per hour"."""

    kind: Literal["trend"]
    metric: MetricName
    matchers: dict[LabelName, str] = Field(default_factory=dict)
    window: PositiveSeconds
    per: Literal["second", "minute", "hour", "day"]
    op: Op = "below"


class FailuresMonitor(MonitorBase):
    """A counter increased by more than ``threshold`` (default 0) within ``window``."""

    kind: Literal["failures"]
    metric: MetricName
    matchers: dict[LabelName, str] = Field(default_factory=dict)
    window: PositiveSeconds = 900
    DEFAULT_FOR: ClassVar[int] = 0
    DEFAULT_THRESHOLD: ClassVar[float | None] = 0.0


class StalledMonitor(MonitorBase):
    """A backlog gauge above ``threshold`` (default 0) for at least ``tolerance`` while a progress counter has not
    increased in ``window``, judged per process (``match_on``)."""

    kind: Literal["stalled"]
    backlog: SelectorIn
    progress: SelectorIn
    window: PositiveSeconds = 1800
    tolerance: Seconds = 300
    """How long the backlog must have stayed above the threshold before a stall is judged: the oldest waiting item
    has waited at least this long. An idle queue that just received an item is not stalled (the loop has not had
    its chance yet). 0 judges the backlog's current value alone."""
    match_on: tuple[LabelName, ...] | None = None
    """Labels that pair a backlog series with the progress counter of the same queue. Default: the service's
    labels and ``instance`` (a queue per process: one replica that keeps processing must not hide another's
    stall)."""
    DEFAULT_FOR: ClassVar[int] = 0
    DEFAULT_THRESHOLD: ClassVar[float | None] = 0.0

    @model_validator(mode="after")
    def _tolerance_within_window(self):
        if self.tolerance > self.window:
            raise ValueError(f"tolerance ({self.tolerance}s) must not exceed the window ({self.window}s): "
                             "nothing processed in the window is what the tolerance waits for")
        return self


class SloAbsent(Strict):
    """The SLO's automatic absent alert (``absent: true`` takes these defaults)."""

    for_: Seconds = Field(default=600, alias="for")
    severity: Severity = "ticket"


def _absent_option(v):
    return {} if v is True else None if v is False else v


class RatioMonitor(MonitorBase):
    """A ratio SLO: ``threshold`` is the objective (e.g. 0.99) over ``period``.

    Rendered as multiwindow, multi-burn-rate alerts (``<name>FastBurn`` pages, ``<name>SlowBurn`` tickets)
    over recording rules per window; the windows are data (``generators/data/burn_rates.yaml``)."""

    kind: Literal["ratio"]
    good: SelectorsIn | None = None
    bad: SelectorsIn | None = None
    total: SelectorsIn
    period: PositiveSeconds = 30 * 86400
    by: tuple[LabelName, ...] | None = None
    page_severity: Severity = "page"
    ticket_severity: Severity = "ticket"
    page: bool = True
    """Render the fast-burn alert (``<name>FastBurn``, ``page_severity``); ``false``: this SLO never pages
    (Sloth's ``page_alert.disable``)."""
    ticket: bool = True
    """Render the slow-burn alert (``<name>SlowBurn``, ``ticket_severity``); ``false``: no ticket."""
    absent: Annotated[SloAbsent | None, BeforeValidator(_absent_option)] = None
    """``true`` (or ``{for, severity}``, default 10m, ticket): an extra alert ``<name>MetricsAbsent`` while a
    ``total`` selector has no series, so an SLO whose metrics vanished (renamed, scrape broken) does not sit
    silently at "no errors"."""
    expected_events: float | None = Field(default=None, ge=0)
    """Events per minute the service receives when it is quietest (e.g. at night; per ``by`` group). ``mlmon
    check`` warns when that is below ``min_events``: the low-traffic guard would then keep every burn alert
    off, even at 100 % errors."""
    min_events: float = Field(default=1, ge=0)
    """Low-traffic guard: a window pair only alerts while at least this many events per minute arrived
    over its short window (a handful of requests must not page)."""
    DEFAULT_FOR: ClassVar[int] = 120

    def alert_variants(self) -> tuple[tuple[str, str, str], ...]:
        """A fast burn that pages and a slow burn that tickets (``generators/data/burn_rates.yaml``), each unless
        switched off (``page``/``ticket``)."""
        out = []
        if self.page:
            out.append(("FastBurn", self.page_severity, "fast"))
        if self.ticket:
            out.append(("SlowBurn", self.ticket_severity, "slow"))
        if self.absent is not None:
            out.append(("MetricsAbsent", self.absent.severity, "absent"))
        return tuple(out)

    def variant_for(self, variant: str, for_: int) -> int:
        return self.absent.for_ if variant == "absent" else for_

    @model_validator(mode="after")
    def _good_xor_bad(self):
        if (self.good is None) == (self.bad is None):
            raise ValueError("give exactly one of `good` or `bad` (with `total`)")
        if self.levels:
            raise ValueError("ratio monitors derive their page/ticket alerts; `levels` is not allowed")
        if self.threshold is not None and not 0 < self.threshold < 1:
            raise ValueError(f"the objective (threshold) must be between 0 and 1 exclusive, got {self.threshold}")
        if not self.page and not self.ticket:
            raise ValueError("`page: false` and `ticket: false` leave the SLO no alert; keep one (or `enabled: false`)")
        return self


class LatencyMonitor(MonitorBase):
    """``histogram_quantile(quantile, ...)`` of a histogram over ``window`` above (or below) ``threshold``.

    ``threshold`` is in seconds when the histogram's unit is seconds or milliseconds (mlmon converts);
    otherwise in the histogram's own unit."""

    kind: Literal["latency"]
    histogram: MetricName
    matchers: dict[LabelName, str] = Field(default_factory=dict)
    quantile: float = Field(default=0.95, gt=0, lt=1)
    window: PositiveSeconds = DEFAULT_WINDOW
    op: Op = "above"
    by: tuple[LabelName, ...] | None = None
    without: tuple[LabelName, ...] | None = None
    """Aggregate away only these labels (``le`` is always kept); instead of ``by``."""

    @model_validator(mode="after")
    def _by_or_without(self):
        if self.by is not None and self.without is not None:
            raise ValueError("give either `by` (labels to keep) or `without` (labels to drop), not both")
        if self.without is not None and "le" in self.without:
            raise ValueError("`le` is the histogram's bucket label: histogram_quantile needs it, it cannot go in `without`")
        return self


class AbsentMonitor(MonitorBase):
    """No samples of ``metric`` for ``for`` (default 10m)."""

    kind: Literal["absent"]
    metric: MetricName
    matchers: dict[LabelName, str] = Field(default_factory=dict)
    DEFAULT_FOR: ClassVar[int] = 600


class ForecastMonitor(MonitorBase):
    """Where the metric is heading: ``predict_linear(metric[window], horizon)`` (a least-squares line over
    ``window``, extended ``horizon`` ahead) compared with ``threshold`` (default 0), e.g. free disk below 0 in 4h,
    or a queue above its capacity in 2h."""

    kind: Literal["forecast"]
    metric: MetricName
    matchers: dict[LabelName, str] = Field(default_factory=dict)
    window: PositiveSeconds = 6 * 3600
    """The history the line is fitted to."""
    horizon: PositiveSeconds
    """How far ahead the line is extended (e.g. ``4h``: "full within four hours")."""
    op: Op = "below"
    DEFAULT_FOR: ClassVar[int] = 3600
    DEFAULT_THRESHOLD: ClassVar[float | None] = 0.0


class ChangesMonitor(MonitorBase):
    """How often a series changed value within ``window`` (``changes``: restarts seen in a start-time gauge,
    config reloads, leader changes), or how often a counter reset (``resets``: its process restarted), compared
    with ``threshold`` (default 0: any change)."""

    kind: Literal["changes"]
    metric: MetricName
    matchers: dict[LabelName, str] = Field(default_factory=dict)
    function: Literal["changes", "resets"] = "changes"
    window: PositiveSeconds = 3600
    op: Literal["above", "above_or_equal"] = "above"
    DEFAULT_FOR: ClassVar[int] = 0
    DEFAULT_THRESHOLD: ClassVar[float | None] = 0.0


class RawSeries(Strict):
    series: str
    values: str


class RawCase(Strict):
    input: tuple[RawSeries, ...]
    at: Seconds
    labels: dict[str, str] = Field(default_factory=dict)
    """Series labels the alert carries when it fires (rule labels are added by mlmon)."""
    value: float = 1.0
    """The expression's value at ``at`` (what ``{{ $value }}`` prints in the annotations)."""


class RawTests(Strict):
    fires: RawCase
    silent: RawCase


class RawSample(Strict):
    """One sample a recording rule must produce: its labels (besides the recording's name) and value."""

    labels: dict[str, str] = Field(default_factory=dict)
    value: float


class RawRecordingCase(Strict):
    """Input series, and every sample the recording holds at second ``at`` (none: it records nothing)."""

    input: tuple[RawSeries, ...]
    at: Seconds
    samples: tuple[RawSample, ...] = ()


class RawRecording(Strict):
    """A recording rule of a raw monitor: evaluated in the monitor's own rule group, before its alert, so the
    alert can read it (e.g. kubernetes-mixin's per-namespace CPU requests). It states its own test cases."""

    record: MetricName
    """The recorded series' name, by convention ``level:metric:operations`` (``namespace:cpu_requests:sum``)."""
    expr: str
    labels: dict[LabelName, str] = Field(default_factory=dict)
    tests: tuple[RawRecordingCase, ...] = Field(min_length=1)
    """At least one case: input series and the samples the recording must hold (promtool ``promql_expr_test``)."""


class RawMonitor(MonitorBase):
    """Escape hatch: a full PromQL alert expression, optionally over recording rules of its own. Still parsed,
    its metrics still checked, and it must bring its own test cases (a series where it fires, one where it
    stays silent; the samples each recording holds)."""

    kind: Literal["raw"]
    expr: str
    plot: str | None = None
    """What the dashboard panel plots (e.g. the ratio the expression compares); default: ``expr`` itself,
    which only has data while the condition holds."""
    tests: RawTests
    recordings: tuple[RawRecording, ...] = ()
    """Recording rules the expression reads (rendered in the monitor's own group, before the alert)."""
    threshold: None = None  # the threshold is inside expr

    @model_validator(mode="after")
    def _recordings_unique(self):
        names = [r.record for r in self.recordings]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"recording {', '.join(twice)} is defined twice")
        return self


Monitor = Annotated[
    Union[ThresholdMonitor, FlagMonitor, TrendMonitor, FailuresMonitor, StalledMonitor, RatioMonitor,
          LatencyMonitor, AbsentMonitor, ForecastMonitor, ChangesMonitor, RawMonitor],
    Field(discriminator="kind"),
]

KINDS = ("threshold", "flag", "trend", "failures", "stalled", "ratio", "latency", "absent", "forecast", "changes", "raw")


class Service(Strict):
    """One monitored service: the content of ``alerts/<service>.yaml``."""

    service: DnsName
    title: TemplateText | None = None
    team: DnsName
    namespace: DnsName | None = None
    workload: Workload | None = None
    hosts: Hosts | None = None
    """EC2 instances the service runs on (no Kubernetes): where its ``ssm-command`` remediations run."""
    source: Source = Field(default_factory=PrometheusSource)
    labels: tuple[LabelName, ...] = ()
    """Labels that tell instances of the service apart (e.g. ``specialist_type``, ``tenant``)."""
    links: Links = Field(default_factory=Links)
    routing: dict[Severity, LabelValue] = Field(default_factory=dict)
    """Alertmanager receiver per severity, added to alerts as the ``receiver`` label."""
    metrics: dict[MetricName, MetricDecl] = Field(default_factory=dict)
    external_metrics: tuple[MetricName, ...] = ()
    """Metrics used in raw expressions or dashboards that this service does not declare."""
    monitors: tuple[Monitor, ...] = ()
    jobs: tuple[ScheduledJob, ...] = ()
    """Scheduled monitors, evaluations and retraining, rendered as CronJobs (docs/remediations.md)."""
    remediations: tuple[Remediation, ...] = ()
    """Typed remediation actions, rendered as suspended CronJob templates with least-privilege RBAC."""


class Catalog(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    root: str
    defaults: Defaults
    services: tuple[Service, ...]
    files: dict[str, str]
    """service name -> catalog file (relative path) it came from."""
    dashboards: tuple[Any, ...] = ()
    """Hand-written dashboard modules (``dashboards/*.dashboard.py``), read and compiled with the catalog
    (:class:`generators.grafana.sources.DashboardSource`); rendering runs them per environment."""

    def service(self, name: str) -> Service:
        for s in self.services:
            if s.service == name:
                return s
        raise KeyError(name)
