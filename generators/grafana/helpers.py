"""The API of hand-written dashboards (``dashboards/*.dashboard.py``): every threshold and every monitored
expression comes from the catalog through these functions, for the environment being rendered.

    from generators.grafana.helpers import monitor_panel, templates, thresholds_for, prom_target
    service = "rl-feedback-loop"
    dashboard = Dashboard(title="RL Feedback Loop", uid="rl-feedback-loop", templating=templates(service),
                          panels=[monitor_panel(service, "RLFeedbackQueueDepth", (0, 0, 12, 8))])

``env`` defaults to the environment ``mlmon render`` is rendering: during a render the helpers answer from the
catalog and environment of that render (:func:`rendering`, set for the duration of the module only). Outside a
render (e.g. grafanalib's own ``generate-dashboard``) they answer from the catalog named by ``$MLMON_CATALOG``
(default ``alerts``) in ``$MLMON_ENV`` (default: its first environment), read when a helper is called, never
remembered as the answer of a later render.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from dataclasses import dataclass
from pathlib import Path

from grafanalib.core import GridPos, Target, TimeSeries  # noqa: F401  (re-exported for dashboard modules)

from .. import alertmeta
from ..cloudwatch.plans import metric_ref
from ..kinds import ratio, signals
from ..names import dashboard_uid
from ..promql import selector as _selector
from ..resolve import ResolvedService, alert_names, resolve_service
from . import build
from . import thresholds as th
from .build import CLOUDWATCH, PROMETHEUS, prom_target, row, table  # noqa: F401
from ..signals import CW_PERIOD, Panel
from .queries import CwQuery, PanelSpec, Query, alerts_selector as _alerts_selector, monitor_panels, panel_spec, \
    with_variables


@dataclass(frozen=True)
class _Context:
    catalog: object
    env: str


_CTX: contextvars.ContextVar[_Context | None] = contextvars.ContextVar("mlmon_grafana_ctx", default=None)


@contextlib.contextmanager
def rendering(catalog, env: str):
    """Answer helper calls from ``catalog`` in ``env`` while dashboard modules run."""
    token = _CTX.set(_Context(catalog, env))
    try:
        yield
    finally:
        _CTX.reset(token)


_STANDALONE: dict[str, object] = {}
"""Catalogs loaded for helper calls outside a render, by absolute catalog path (one process of grafanalib's
``generate-dashboard`` calls many helpers; a render never reads this)."""


def _context() -> _Context:
    ctx = _CTX.get()
    if ctx is not None:
        return ctx
    from ..loader import load_catalog

    root = str(Path(os.environ.get("MLMON_CATALOG", "alerts")).resolve())
    if root not in _STANDALONE:
        _STANDALONE[root] = load_catalog(root)
    catalog = _STANDALONE[root]
    return _Context(catalog, os.environ.get("MLMON_ENV") or catalog.defaults.environments[0])


def resolved(service: str, env: str | None = None) -> ResolvedService:
    """The per-environment view of ``service`` (overrides applied)."""
    ctx = _context()
    env = env or ctx.env
    try:
        svc = ctx.catalog.service(service)
    except KeyError:
        known = ", ".join(s.service for s in ctx.catalog.services)
        raise LookupError(f"unknown service {service!r} (the catalog has {known})") from None
    if env not in ctx.catalog.defaults.environments:
        raise LookupError(f"unknown environment {env!r}")
    return resolve_service(svc, env, ctx.catalog.defaults, ctx.catalog.files.get(service, ""))


def thresholds_for(service: str, name: str, env: str | None = None) -> list[dict]:
    """Grafana threshold steps of monitor (all its levels) or alert ``name`` of ``service`` in ``env``,
    in the unit of its monitored expression; just the base step when it is disabled there."""
    return th.thresholds_of(resolved(service, env), name)


def threshold(service: str, alert: str, env: str | None = None) -> float | None:
    """The threshold of one alert (a monitor name: its first level) in plotted units; None when disabled."""
    return th.threshold_value(resolved(service, env), alert)


def monitored_expr(service: str, monitor: str, env: str | None = None) -> str:
    """The expression ``monitor``'s alerts compare with their thresholds, with the dashboard variables."""
    rs = resolved(service, env)
    mon, _ = th.find_monitor(rs, monitor)
    return signals(mon, with_variables(rs))[0].queries[0].expr


def selector(service: str, metric: str, matchers: dict[str, str] | None = None, suffix: str = "",
             env: str | None = None) -> str:
    """``metric{...}`` with the service's selector, the dashboard variables and ``matchers``."""
    rs = resolved(service, env)
    declared = set(rs.service.metrics) | set(rs.service.external_metrics)
    if metric not in declared:
        raise LookupError(f"metric {metric!r} is not declared by service {service!r} (declared: "
                          f"{', '.join(sorted(declared)) or 'none'}; add it under `metrics:` or `external_metrics:`)")
    return _selector(with_variables(rs).service, metric, matchers, suffix)


def alerts_selector(service: str, state: str | None = None, alertname: str | None = None,
                    env: str | None = None) -> str:
    """``ALERTS{service="...", ...}``: the service's pending/firing alerts (of one monitor or alert:
    ``alertname``, checked against the catalog)."""
    rs = resolved(service, env)
    sel = _alerts_selector(rs, state)
    if alertname is None:
        return sel
    mon, only = th.find_monitor(rs, alertname)
    names = [only] if only else alert_names(mon)
    match = f'alertname="{names[0]}"' if len(names) == 1 else f'alertname=~"{"|".join(names)}"'
    return sel[:-1] + "," + match + "}"


def slo_panel(service: str, slo: str, grid: tuple[int, int, int, int], title: str | None = None,
              env: str | None = None):
    """Success ratio of ratio SLO ``slo`` over its two shortest alert windows (from the SLO recording rules)
    against its objective in this environment (overrides applied)."""
    from ..durations import format_duration

    rs = resolved(service, env)
    mon, _ = th.find_monitor(rs, slo)
    if mon.kind != "ratio":
        raise LookupError(f"{slo!r} of {service!r} is a {mon.kind} monitor, not a ratio SLO")
    shorts = sorted({bw.short for rows in ratio.burn_windows().values() for bw in rows})[:2]
    goal = ratio.objective(rs, mon)
    sig = ratio.success(with_variables(rs), mon, shorts, title or f"{slo}: success ratio")
    spec = panel_spec(rs, mon, Panel(sig, description=f"Objective {goal:.4g} over {format_duration(mon.period)}."))
    return build.panel(spec, grid, runbook_links(service, slo, env))


def templates(service: str, env: str | None = None):
    """The generated dashboard's variables: datasource, then one per service label."""
    from grafanalib.core import Templating

    from .service import templates as _templates

    return Templating(_templates(resolved(service, env)))


def runbook_links(service: str, monitor: str, env: str | None = None) -> list[dict]:
    rs = resolved(service, env)
    mon, only = th.find_monitor(rs, monitor)
    return build.links([(f"Runbook: {a.name}", alertmeta.runbook_url(a, rs))
                        for a in rs.alerts if a.monitor is mon and (only is None or a.name == only)])


def monitor_panel(service: str, monitor: str, grid: tuple[int, int, int, int], title: str | None = None,
                  stat: bool = False, env: str | None = None):
    """The generated panel of ``monitor`` (its monitored expression against its thresholds, with its
    conditions as description and runbook links) at ``grid`` = (x, y, w, h)."""
    rs = resolved(service, env)
    mon, only = th.find_monitor(rs, monitor)
    specs = [s for s in monitor_panels(rs, mon) if (s.kind == "stat") == stat]
    if not specs:
        raise LookupError(f"a {mon.kind} monitor ({monitor}) has no {'stat' if stat else 'time series'} panel")
    spec = specs[0]
    if only is not None:
        spec = PanelSpec(spec.title, spec.queries, spec.unit, th.monitor_steps(rs, mon, only), spec.description,
                         spec.kind, spec.min, spec.max)
    if title:
        spec = PanelSpec(title, spec.queries, spec.unit, spec.steps, spec.description, spec.kind, spec.min, spec.max)
    return build.panel(spec, grid, runbook_links(service, monitor, env))


def panel(title: str, exprs: list[tuple[str, str]] | str, grid: tuple[int, int, int, int], unit: str = "short",
          steps: list[dict] | None = None, description: str = "", stat: bool = False):
    """A Prometheus TimeSeries (or Stat) of ``exprs`` (``[(expr, legend)]`` or one expr); ``steps`` from
    :func:`thresholds_for` (never literal numbers)."""
    if isinstance(exprs, str):
        exprs = [(exprs, "")]
    spec = PanelSpec(title, tuple(Query(e, lg) for e, lg in exprs), unit, steps or th.steps("above", []),
                     description, "stat" if stat else "timeseries")
    return build.panel(spec, grid)


def cloudwatch_panel(service: str, title: str, queries: list[dict], grid: tuple[int, int, int, int],
                     unit: str = "short", steps: list[dict] | None = None, description: str = "",
                     stat: bool = False, env: str | None = None):
    """A panel on Grafana's CloudWatch datasource over ``service``'s namespace, region and dimensions.

    Each query: ``{"metric": ..., "stat": "Average"|"p95"|..., "period": seconds, "id": "m1", "hidden": bool}``
    or ``{"expression": "m1 / m2", "id": "e1", "legend": ...}``."""
    from .cloudwatch import targets

    rs = resolved(service, env)
    qs = tuple(_cw_query(rs, i, q) for i, q in enumerate(queries))
    spec = PanelSpec(title, qs, unit, steps or th.steps("above", []), description, "stat" if stat else "timeseries")
    return build.panel(spec, grid, datasource=CLOUDWATCH, targets=targets(rs, spec))


def _cw_query(rs: ResolvedService, i: int, q: dict) -> CwQuery:
    """A hand-written CloudWatch query; a declared metric is resolved like its alarms resolve it (its
    CloudWatch name, namespace and dimensions)."""
    ident, legend_ = q.get("id", f"q{i}"), q.get("legend", "")
    if q.get("expression"):
        return CwQuery(ident, expression=q["expression"], legend=legend_)
    metric = q.get("metric", "")
    if metric not in rs.service.metrics:
        declared = ", ".join(sorted(rs.service.metrics)) or "none"
        raise LookupError(f"metric {metric!r} is not declared by service {rs.name!r} (declared: {declared})")
    ref = metric_ref(rs, None, metric, q.get("dimensions") or {}, ())
    return CwQuery(ident, ref["MetricName"], q.get("stat", ""), int(q.get("period", CW_PERIOD)),
                   bool(q.get("hidden", False)),
                   legend=legend_, namespace=ref["Namespace"],
                   dimensions=tuple((d["Name"], d["Value"]) for d in ref["Dimensions"]))


def cloudwatch_monitor_panel(service: str, monitor: str, grid: tuple[int, int, int, int], title: str | None = None,
                             stat: bool = False, env: str | None = None):
    """The generated CloudWatch panel of ``monitor`` (its alarms' metric, statistic, period and thresholds)."""
    from . import cloudwatch

    rs = resolved(service, env)
    mon, only = th.find_monitor(rs, monitor)
    spec = [s for s in monitor_panels(rs, mon) if (s.kind == "stat") == stat][0]
    steps = th.monitor_steps(rs, mon, only)
    spec = PanelSpec(title or spec.title, spec.queries, spec.unit, steps, spec.description, spec.kind)
    return build.panel(spec, grid, runbook_links(service, monitor, env), datasource=CLOUDWATCH,
                       targets=cloudwatch.targets(rs, spec))


def dashboard_link(service: str, env: str | None = None):
    """A link to ``service``'s generated dashboard (the one alert annotations point to)."""
    from grafanalib.core import DashboardLink

    rs = resolved(service, env)
    return DashboardLink(type="link", title="Generated monitors dashboard", uri=f"/d/{dashboard_uid(rs.name)}",
                         keepTime=True, includeVars=True, icon="dashboard")
