"""``mlmon check`` step for dashboards: what Grafana and Prometheus would trip over, found before deploying.

For every rendered ``grafana/*.json``: schema version and uid, unique uids and titles, unique panel ids,
grid positions inside the 24-column grid and not overlapping, template variables defined before use, every
Prometheus target parses with promql-parser (variables substituted) and names only metrics the catalog
declares (``metrics``/``external_metrics``, histogram ``_bucket/_sum/_count`` series, recording rules of the
rendered rule files, ``ALERTS``), CloudWatch targets only in the service's namespace with declared metrics;
and every dashboard ConfigMap in ``kubernetes/`` holds exactly its ``grafana/<uid>.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..promql import metric_names, parse_error
from .modern import SCHEMA_VERSION

CONFIGMAP_LIMIT = 1024 * 1024  # bytes of data a ConfigMap can hold (etcd's object size limit)
BUILTIN_METRICS = {"ALERTS", "ALERTS_FOR_STATE", "up", "scrape_duration_seconds", "scrape_samples_scraped"}
# Grafana's global variables, replaced by real durations/values for parsing
GLOBALS = {"__rate_interval": "1m", "__interval": "1m", "__range": "1h", "__range_s": "3600", "__range_ms": "3600000",
           "__interval_ms": "60000", "__all": ".*", "__dashboard": "x", "__org": "1", "__user": "x"}
_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]")
_LABEL_ONLY = re.compile(r"^\s*label_values\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", re.S)


@dataclass
class Known:
    """What dashboards may name: metrics per service (any service's declared metric is accepted) and the
    CloudWatch namespaces with their metrics."""

    metrics: set[str] = field(default_factory=set)
    histograms: set[str] = field(default_factory=set)
    cloudwatch: dict[str, set[str]] = field(default_factory=dict)  # namespace -> metric names

    @classmethod
    def from_catalog(cls, catalog, recorded: set[str] = frozenset()) -> "Known":
        k = cls(metrics=set(BUILTIN_METRICS) | set(recorded))
        for s in catalog.services:
            if s.source.type == "cloudwatch":  # each metric under its CloudWatch namespace and name
                k.cloudwatch.setdefault(s.source.namespace, set())
                for name, decl in s.metrics.items():
                    o = decl.cloudwatch
                    k.cloudwatch.setdefault(o.namespace if o and o.namespace else s.source.namespace,
                                            set()).add(o.name if o and o.name else name)
                continue
            k.metrics.update(s.metrics)
            k.metrics.update(s.external_metrics)
            k.histograms.update(n for n, d in s.metrics.items() if d.type == "histogram")
        return k

    def resolves(self, name: str) -> bool:
        if name in self.metrics:
            return True
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[: -len(suffix)] in self.histograms:
                return True
        return False


def substitute(expr: str, variables: set[str]) -> tuple[str, list[str]]:
    """Replace ``$var``/``${var}`` by values Prometheus accepts; return the text and the undefined names."""
    undefined: list[str] = []

    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in GLOBALS:
            return GLOBALS[name]
        if name not in variables:
            undefined.append(name)
        return ".*"

    return _VAR.sub(repl, expr), undefined


def iter_panels(panels):
    for p in panels:
        yield p
        yield from iter_panels(p.get("panels", []) if p.get("type") == "row" else [])


def _overlaps(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def _grid_problems(panels: list[dict], where: str) -> list[str]:
    out = []
    placed = []
    for p in panels:
        g = p.get("gridPos")
        label = f"{where}panel {p.get('id')} {p.get('title', '')!r}"
        if not isinstance(g, dict) or not all(isinstance(g.get(k), int) for k in "xywh"):
            out.append(f"{label}: gridPos must have integer x, y, w, h")
            continue
        if g["w"] < 1 or g["h"] < 1 or g["x"] < 0 or g["y"] < 0 or g["x"] + g["w"] > 24:
            out.append(f"{label}: gridPos {g} is outside the 24-column grid")
        for other, og in placed:
            if _overlaps(g, og):
                out.append(f"{label}: gridPos {g} overlaps panel {other.get('id')} {other.get('title', '')!r} {og}")
        placed.append((p, g))
    return out


def _promql_problems(expr: str, variables: set[str], known: Known, label: str) -> list[str]:
    text, undefined = substitute(expr, variables)
    out = [f"{label}: undefined variable ${n}" for n in sorted(set(undefined))]
    err = parse_error(text)
    if err:
        return out + [f"{label}: not valid PromQL ({err}): {expr}"]
    for name in sorted(metric_names(text)):
        if not known.resolves(name):
            out.append(f"{label}: metric {name!r} is not declared in the catalog (metrics or external_metrics)")
    return out


def dashboard_problems(d: dict, known: Known) -> list[str]:
    """Problems of one dashboard JSON (messages without the file name)."""
    out = []
    if d.get("schemaVersion") != SCHEMA_VERSION:
        out.append(f"schemaVersion is {d.get('schemaVersion')!r}, expected {SCHEMA_VERSION}")
    uid = d.get("uid")
    if not isinstance(uid, str) or not uid or len(uid) > 40:
        out.append(f"uid {uid!r} must be a non-empty string of at most 40 characters")
    if d.get("rows"):
        out.append("legacy `rows` present")
    variables = set()
    for v in (d.get("templating") or {}).get("list", []):
        name = v.get("name")
        q = v.get("query")
        if v.get("type") == "query" and isinstance(q, str):
            m = _LABEL_VALUES.fullmatch(q)
            if not _LABEL_ONLY.fullmatch(q):  # label_values(label) names no metric
                out += _promql_problems(m.group(1) if m else q, variables, known, f"variable ${name}")
        variables.add(name)
    ids: dict = {}
    for p in iter_panels(d.get("panels", [])):
        pid = p.get("id")
        label = f"panel {pid} {p.get('title', '')!r}"
        if not isinstance(pid, int):
            out.append(f"{label}: panel id must be an integer")
        elif pid in ids:
            out.append(f"{label}: panel id {pid} is also used by {ids[pid]!r}")
        else:
            ids[pid] = p.get("title", "")
        for t in p.get("targets", []) or []:
            tlabel = f"{label} target {t.get('refId')}"
            ds = t.get("datasource") or p.get("datasource") or {}
            if ds.get("type") == "prometheus" or "expr" in t:
                out += _promql_problems(t.get("expr", ""), variables, known, tlabel)
            elif ds.get("type") == "cloudwatch":
                ns = t.get("namespace")
                if ns not in known.cloudwatch:
                    out.append(f"{tlabel}: CloudWatch namespace {ns!r} is no service's source namespace")
                elif t.get("metricName") and t["metricName"] not in known.cloudwatch[ns]:
                    out.append(f"{tlabel}: CloudWatch metric {t['metricName']!r} is not declared for {ns}")
    out += _grid_problems(d.get("panels", []), "")
    for r in d.get("panels", []):
        if r.get("type") == "row" and r.get("panels"):
            out += _grid_problems(r["panels"], f"collapsed row {r.get('title')!r}: ")
    return out


def recorded_names(rendered) -> set[str]:
    """Every recording rule's name in the rendered rule files (a :class:`~generators.rendered.Rendered` or
    the ``prometheus/`` directory of a render)."""
    from ..rendered import as_rendered

    if isinstance(rendered, Path):  # a prometheus/ directory
        rendered = as_rendered(rendered.parent)
    out = set()
    for name in rendered.names("prometheus", ".rules.yaml"):
        data = rendered.yaml(f"prometheus/{name}")
        for g in (data or {}).get("groups", []):
            out.update(r["record"] for r in g.get("rules", []) if "record" in r)
    return out


def grafana_step(out, catalog, env: str) -> list[str]:
    """Dashboards: PromQL parses, metrics declared, uids/titles/panel ids unique, grids do not overlap, ConfigMaps match."""
    from ..rendered import as_rendered

    rendered = as_rendered(out, env)
    failures = []
    known = Known.from_catalog(catalog, recorded_names(rendered))
    uids: dict[str, str] = {}
    titles: dict[str, str] = {}
    texts: dict[str, bytes] = {}
    for fname in rendered.names("grafana", ".json"):
        rel = f"grafana/{fname}"
        try:
            d = rendered.json(rel)
        except ValueError as exc:
            failures.append(f"{rel} ({env}): not JSON: {exc}")
            continue
        failures += [f"{rel} ({env}): {p}" for p in dashboard_problems(d, known)]
        uid, title = d.get("uid"), d.get("title")
        if fname != f"{uid}.json":
            failures.append(f"{rel} ({env}): file name does not match uid {uid!r}")
        if uid in uids:
            failures.append(f"{rel} ({env}): uid {uid!r} also used by {uids[uid]}")
        uids[uid] = rel
        if title in titles:
            failures.append(f"{rel} ({env}): title {title!r} also used by {titles[title]}")
        titles[title] = rel
        texts[f"{uid}.json"] = rendered.bytes(rel)
    failures += _configmap_problems(rendered, texts, env)
    return failures


def _configmap_problems(rendered, texts: dict[str, bytes], env: str) -> list[str]:
    failures = []
    seen: dict[str, str] = {}
    for fname in rendered.names("kubernetes", ".yaml"):
        for doc in rendered.yaml_docs(f"kubernetes/{fname}"):
            if not isinstance(doc, dict) or doc.get("kind") != "ConfigMap":
                continue
            if doc.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/component") != "dashboard":
                continue
            for key, text in (doc.get("data") or {}).items():
                where = f"kubernetes/{fname} ConfigMap {doc['metadata'].get('name')} ({env})"
                if key in seen:
                    failures.append(f"{where}: {key} also shipped by {seen[key]}")
                seen[key] = where
                if key not in texts:
                    failures.append(f"{where}: {key} has no grafana/{key}")
                elif text.encode() != texts[key]:
                    failures.append(f"{where}: {key} differs from grafana/{key}")
                if len(text.encode()) > CONFIGMAP_LIMIT:
                    failures.append(f"{where}: {key} is {len(text.encode())} bytes; a ConfigMap holds at most "
                                    f"{CONFIGMAP_LIMIT} (split the dashboard)")
    for key in sorted(set(texts) - set(seen)):
        failures.append(f"grafana/{key} ({env}): no dashboard ConfigMap in kubernetes/")
    return failures
