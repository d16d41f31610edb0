"""grafanalib building blocks shared by generated and hand-written dashboards.

Everything here returns grafanalib objects (``TimeSeries``, ``Stat``, ``Table``, ``RowPanel``, ``Target``,
``Template``); :func:`generators.grafana.modern.modernize` turns the finished dashboard into current JSON.
"""

from __future__ import annotations

from grafanalib.core import (GridPos, RowPanel, Stat, Table, Target, Template, TimeSeries)

from .queries import PanelSpec

PROMETHEUS = {"type": "prometheus", "uid": "${datasource}"}
CLOUDWATCH = {"type": "cloudwatch", "uid": "${datasource}"}
REFIDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def prom_target(expr: str, legend: str = "", ref: str = "A", instant: bool = False, table: bool = False) -> Target:
    return Target(expr=expr, legendFormat=legend, refId=ref, instant=instant,
                  format="table" if table else "time_series", datasource=PROMETHEUS)


def _field_extras(spec: PanelSpec) -> dict:
    defaults: dict = {}
    if spec.min is not None:
        defaults["min"] = spec.min
    if spec.max is not None:
        defaults["max"] = spec.max
    return {"fieldConfig": {"defaults": defaults}} if defaults else {}


def links(urls: list[tuple[str, str]]) -> list[dict]:
    return [{"title": t, "url": u, "targetBlank": True} for t, u in urls]


def panel(spec: PanelSpec, grid: tuple[int, int, int, int], links_: list[dict] | None = None,
          datasource: dict = PROMETHEUS, targets: list | None = None):
    """A TimeSeries or Stat panel for ``spec`` at ``grid`` = (x, y, w, h)."""
    x, y, w, h = grid
    if targets is None:
        targets = [prom_target(q.expr, q.legend, REFIDS[i], q.instant) for i, q in enumerate(spec.queries)]
    common = dict(title=spec.title, description=spec.description or None, dataSource=datasource,
                  targets=targets, gridPos=GridPos(h=h, w=w, x=x, y=y), links=links_ or [],
                  thresholds=spec.steps, thresholdType="absolute", extraJson=_field_extras(spec) or None)
    if spec.kind == "stat":
        return Stat(format=spec.unit, reduceCalc="lastNotNull", colorMode="value", graphMode="area",
                    textMode="auto", noValue=None, **common)
    return TimeSeries(unit=spec.unit, thresholdsStyleMode="line+area" if len(spec.steps) > 1 else "off",
                      legendDisplayMode="list", tooltipMode="multi", fillOpacity=10,
                      stacking={"mode": "none", "group": "A"}, **common)


def table(title: str, expr: str, grid: tuple[int, int, int, int], hide: tuple[str, ...] = ("Time", "Value"),
          description: str | None = None, datasource: dict = PROMETHEUS) -> Table:
    x, y, w, h = grid
    return Table(title=title, description=description, dataSource=datasource,
                 targets=[prom_target(expr, ref="A", instant=True, table=True)],
                 gridPos=GridPos(h=h, w=w, x=x, y=y),
                 transformations=[{"id": "organize", "options": {"excludeByName": {k: True for k in hide}}}])


def row(title: str, y: int) -> RowPanel:
    return RowPanel(title=title, gridPos=GridPos(h=1, w=24, x=0, y=y))


def datasource_variable(plugin: str = "prometheus") -> Template:
    return Template(name="datasource", label="Data source", query=plugin, type="datasource", default=None)


def label_variable(label: str, query: str) -> Template:
    """A multi-value label filter with an ``All`` that matches series without the label too (``.*``)."""
    return Template(name=label, label=label, query=query, dataSource="${datasource}", includeAll=True, multi=True,
                    allValue=".*", refresh=2, sort=1, default="$__all")
