"""The API of hand-written dashboards (``dashboards/*.dashboard.py``): every threshold and every monitored
expression comes from the catalog through these functions, for the environment being rendered.

    from generators.grafana.helpers import monitor_panel, templates, thresholds_for, prom_target
    service = "rl-feedback-loop"
    dashboard = Dashboard(title="RL Feedback Loop", uid="rl-feedback-loop", templating=templates(service),
                          panels=[monitor_panel(service, "RLFeedbackQueueDepth", (0, 0, 12, 8))])

``env`` defaults to the environment ``mlmon render`` is rendering. Outside a render (e.g. grafanalib's own
``generate-dashboard``), the catalog is loaded from ``$MLMON_CATALOG`` (default ``alerts``) and the
environment is ``$MLMON_ENV`` (default: the catalog's first environment).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from dataclasses import dataclass

from grafanalib.core import GridPos, Target, TimeSeries  # noqa: F401  (re-exported for dashboard modules)

from .. import alertmeta
from ..promql import selector as _selector
from ..resolve import ResolvedService, alert_names, resolve_service
from . import build
from . import thresholds as th
from .build import CLOUDWATCH, PROMETHEUS, prom_target, row, table  # noqa: F401
from .queries import PanelSpec, Query, alerts_selector as _alerts_selector, monitor_panels, with_variables


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


def _context() -> _Context:
    ctx = _CTX.get()
    if ctx is None:
        from ..loader import load_catalog

        catalog = load_catalog(os.environ.get("MLMON_CATALOG", "alerts"))
        ctx = _Context(catalog, os.environ.get("MLMON_ENV") or catalog.defaults.environments[0])
        _CTX.set(ctx)
    return ctx


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
    return monitor_panels(rs, mon)[0].queries[0].expr


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
    """Success ratio of ratio SLO ``slo`` over its alert windows (from the SLO recording rules) against
    its objective."""
    from ..durations import format_duration
    from ..prometheus.expressions import SLO_ERROR_RATIO, burn_windows, ratio_by, slo_recorded
    from .queries import legend, variable_matchers

    rs = resolved(service, env)
    mon, _ = th.find_monitor(rs, slo)
    if mon.kind != "ratio":
        raise LookupError(f"{slo!r} of {service!r} is a {mon.kind} monitor, not a ratio SLO")
    labels = ratio_by(rs, mon)
    extra = variable_matchers(rs, labels)
    shorts = sorted({bw.short for rows in burn_windows().values() for bw in rows})[:2]
    queries = tuple(Query(f"1 - {slo_recorded(rs, mon, SLO_ERROR_RATIO, w, extra)}",
                          f"{format_duration(w)} {legend(labels)}".strip()) for w in shorts)
    objective = mon.threshold
    sev = [a.severity for a in rs.alerts if a.monitor is mon][:1] or [mon.ticket_severity]
    spec = PanelSpec(title or f"{slo}: success ratio", queries, "percentunit",
                     th.steps("below", [(objective, sev[0])]),
                     f"Objective {objective:.4g} over {format_duration(mon.period)}.")
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
    from .cloudwatch import CwQuery, targets

    rs = resolved(service, env)
    qs = tuple(CwQuery(q.get("id", f"q{i}"), q.get("metric", ""), q.get("stat", ""), int(q.get("period", 300)),
                       bool(q.get("hidden", False)), q.get("expression", ""), q.get("legend", ""))
               for i, q in enumerate(queries))
    spec = PanelSpec(title, qs, unit, steps or th.steps("above", []), description, "stat" if stat else "timeseries")
    return build.panel(spec, grid, datasource=CLOUDWATCH, targets=targets(rs, spec))


def cloudwatch_monitor_panel(service: str, monitor: str, grid: tuple[int, int, int, int], title: str | None = None,
                             stat: bool = False, env: str | None = None):
    """The generated CloudWatch panel of ``monitor`` (its alarms' metric, statistic, period and thresholds)."""
    from . import cloudwatch

    rs = resolved(service, env)
    mon, only = th.find_monitor(rs, monitor)
    spec = [s for s in cloudwatch.monitor_panels(rs, mon) if (s.kind == "stat") == stat][0]
    steps = th.monitor_steps(rs, mon, only)
    spec = PanelSpec(title or spec.title, spec.queries, spec.unit, steps, spec.description, spec.kind)
    return build.panel(spec, grid, runbook_links(service, monitor, env), datasource=CLOUDWATCH,
                       targets=cloudwatch.targets(rs, spec))


def dashboard_link(service: str, env: str | None = None):
    """A link to ``service``'s generated dashboard (the one alert annotations point to)."""
    from grafanalib.core import DashboardLink

    rs = resolved(service, env)
    return DashboardLink(type="link", title="Generated monitors dashboard", uri=f"/d/{alertmeta.dashboard_uid(rs.name)}",
                         keepTime=True, includeVars=True, icon="dashboard")
