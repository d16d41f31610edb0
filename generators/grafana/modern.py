"""Turn grafanalib 0.7.1's JSON into a dashboard current Grafana imports as-is.

grafanalib emits ``schemaVersion: 12`` and keys from Grafana 5/6 (``rows``, ``span``, ``sharedCrosshair``,
``style``, Graphite-era target keys, ...). :func:`modernize` keeps only the keys of the current dashboard
model, drops ``null``s, writes datasource references as ``{type, uid}`` objects and sets
``schemaVersion`` to :data:`SCHEMA_VERSION` so Grafana runs no migration on import.

Targeted Grafana versions: 10.4 LTS, 11.x and 12.x (schemaVersion 39 is Grafana 10.4's dashboard model;
later versions import it and migrate it forward themselves on load).
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_VERSION = 39

_DASHBOARD_KEYS = ("annotations", "description", "editable", "fiscalYearStartMonth", "graphTooltip", "id", "links",
                   "liveNow", "panels", "refresh", "schemaVersion", "tags", "templating", "time", "timepicker",
                   "timezone", "title", "uid", "version", "weekStart")
_PANEL_KEYS = ("id", "type", "title", "description", "gridPos", "datasource", "targets", "fieldConfig", "options",
               "links", "transformations", "interval", "timeFrom", "timeShift", "repeat", "repeatDirection",
               "maxPerRow", "transparent", "collapsed", "panels", "pluginVersion")
_PROM_TARGET_KEYS = ("datasource", "refId", "expr", "legendFormat", "instant", "range", "format", "interval",
                     "hide", "editorMode")
_CW_TARGET_KEYS = ("datasource", "refId", "id", "queryMode", "namespace", "metricName", "dimensions", "statistic",
                   "period", "region", "expression", "alias", "matchExact", "hide", "label")
_VARIABLE_KEYS = ("name", "label", "type", "datasource", "query", "refresh", "regex", "current",
                  "options", "includeAll", "allValue", "multi", "sort", "hide", "description")
# Grafana's published types (@grafana/schema, every targeted version) have no ``definition`` on a variable
# and require ``text`` and ``value`` in ``current``: a variable without a current value has no ``current``.

PANEL_LINK_DEFAULTS = {"type": "link", "icon": "external link", "tooltip": "", "tags": [], "asDropdown": False,
                       "includeVars": False, "keepTime": False, "targetBlank": False}
"""Grafana's published types give panel ``links`` the dashboard-link type, every field required; Grafana
reads a panel link's ``title``, ``url`` and ``targetBlank`` and ignores the rest."""


def to_json(obj: Any) -> Any:
    """grafanalib object tree -> plain JSON data (dicts, lists, scalars)."""
    from grafanalib._gen import DashboardEncoder

    return json.loads(json.dumps(obj, cls=DashboardEncoder, sort_keys=False))


def _pick(d: dict, keys: tuple[str, ...]) -> dict:
    return {k: d[k] for k in keys if k in d and d[k] is not None}


def _drop_none(x: Any, keep_null: bool = False) -> Any:
    """Remove ``null`` values from mappings, except threshold steps' ``value`` (null = base step)."""
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            if v is None and not (keep_null and k == "value"):
                continue
            out[k] = _drop_none(v, keep_null=keep_null or k == "steps")
        return out
    if isinstance(x, list):
        return [_drop_none(v, keep_null) for v in x]
    return x


def datasource_ref(ds: Any, default: dict | None) -> dict | None:
    """Grafana >= 8.3 references a datasource as ``{type, uid}``; a bare string is a uid or variable."""
    if ds is None or ds == "":
        return default
    if isinstance(ds, dict):
        return ds
    if isinstance(ds, str) and ds.startswith("$") and default is not None:
        return {"type": default["type"], "uid": "${" + ds.strip("${}") + "}"}
    return {"uid": ds} if default is None else {"type": default["type"], "uid": ds}


def _target(t: dict, ds: dict | None) -> dict:
    out = dict(t)
    out["datasource"] = datasource_ref(t.get("datasource"), ds)
    if ds and ds.get("type") == "prometheus":
        out = _pick(out, _PROM_TARGET_KEYS)
        if not out.get("interval"):
            out.pop("interval", None)
        if out.get("hide") is False:
            out.pop("hide")
        if out.get("instant"):
            out["range"] = False
        else:
            out.pop("instant", None)
            out["range"] = True
        out.setdefault("editorMode", "code")
        return out
    if ds and ds.get("type") == "cloudwatch":
        out = _pick(out, _CW_TARGET_KEYS)
        if out.get("alias"):
            out["label"] = out.pop("alias")
        out.pop("alias", None)
        if out.get("hide") is False:
            out.pop("hide")
        if not out.get("expression"):
            out.pop("expression", None)
        out.setdefault("queryMode", "Metrics")
        out.setdefault("metricQueryType", 0)  # metric search
        out.setdefault("metricEditorMode", 1 if out.get("expression") else 0)  # code / builder
        return out
    return _drop_none(out)


def _panel(p: dict, ds: dict | None) -> dict:
    out = _pick(p, _PANEL_KEYS)
    if out.get("type") == "row":
        out.pop("datasource", None)
        out.pop("targets", None)
        out.pop("fieldConfig", None)
        out.pop("options", None)
        out["panels"] = [_panel(c, ds) for c in out.get("panels", [])]
        out.setdefault("collapsed", False)
        for k in ("links", "transformations"):
            if not out.get(k):
                out.pop(k, None)
    else:
        pds = datasource_ref(p.get("datasource"), ds)
        if pds is not None:
            out["datasource"] = pds
        out["targets"] = [_target(t, pds) for t in p.get("targets", [])]
        out.pop("collapsed", None)
        out.pop("panels", None)
    if out.get("links"):
        out["links"] = [panel_link(link) for link in out["links"]]
    if not out.get("repeat"):
        for k in ("repeat", "repeatDirection", "maxPerRow"):
            out.pop(k, None)
    if out.get("transparent") is False:
        out.pop("transparent")
    for k in ("interval", "timeFrom", "timeShift", "description"):
        if out.get(k) in ("", None):
            out.pop(k, None)
    return _drop_none(out)


def panel_link(link: dict) -> dict:
    """A panel link (``{title, url, targetBlank}``) with every field of Grafana's link type."""
    link = _drop_none(link)
    return {**{k: link[k] for k in ("title", "url") if k in link}, **PANEL_LINK_DEFAULTS, **link}


def _variable(v: dict, ds: dict | None) -> dict:
    out = _pick(v, _VARIABLE_KEYS)
    if out.get("type") == "query":
        out["datasource"] = datasource_ref(v.get("datasource"), ds)
    else:
        out.pop("datasource", None)
    cur = out.get("current") or {}
    if cur.get("value") == "$__all":
        out["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    elif cur.get("text") is None or cur.get("value") is None:
        out.pop("current", None)
    out.setdefault("regex", "")
    if out.get("regex") is None:
        out["regex"] = ""
    return _drop_none(out)


BUILTIN_ANNOTATION = {
    "builtIn": 1,
    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
    "enable": True,
    "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)",
    "name": "Annotations & Alerts",
    "type": "dashboard",
}


def modernize(d: dict, default_datasource: dict | None = None) -> dict:
    """A grafanalib ``Dashboard.to_json_data()`` (as plain JSON) -> current dashboard JSON.

    ``default_datasource`` (e.g. ``{"type": "prometheus", "uid": "${datasource}"}``) is used for panels and
    targets that name none. Legacy ``rows`` are refused: build with ``RowPanel`` and ``gridPos``.
    """
    if d.get("rows"):
        raise ValueError("legacy `rows` are not supported: use RowPanel with gridPos in `panels`")
    out = _pick(d, _DASHBOARD_KEYS)
    out["id"] = None
    out["schemaVersion"] = SCHEMA_VERSION
    out["panels"] = [_panel(p, default_datasource) for p in d.get("panels", [])]
    out["templating"] = {"list": [_variable(v, default_datasource)
                                  for v in (d.get("templating") or {}).get("list", [])]}
    annotations = list((d.get("annotations") or {}).get("list", []))
    if not any(a.get("builtIn") for a in annotations):
        annotations.insert(0, dict(BUILTIN_ANNOTATION))
    out["annotations"] = {"list": annotations}
    out["links"] = [_drop_none(link) for link in d.get("links", [])]
    out.setdefault("fiscalYearStartMonth", 0)
    out.setdefault("liveNow", False)
    out.setdefault("weekStart", "")
    tp = d.get("timepicker") or {}
    out["timepicker"] = _pick(tp, ("refresh_intervals", "hidden"))
    result = {"id": None}
    result.update((k, out[k]) for k in sorted(out) if k != "id")
    return result
