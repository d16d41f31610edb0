"""Semantic diff of two catalogs: what changes for each alert in each environment.

Pure: two :class:`~generators.model.Catalog` objects in, a :class:`Diff` out (then text, Markdown or JSON).
Alerts are compared in their RESOLVED form per environment (overrides applied), so an override that only
touches ``dev`` shows up in ``dev`` only. Fields compared per alert: threshold, for, severity, the exact
expression (PromQL for Prometheus services, the condition for CloudWatch alarms), receiver (routing),
labels, remediations (``alertmeta.remediations``), summary, description, runbook and dashboard links.
Everything else a service declares (jobs, remediations, dashboards, metrics, routing, links ...) is compared
generically, field by field, with lists of named items matched by name.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from . import alertmeta
from .durations import format_duration
from .model import Catalog
from .promql import num
from .resolve import Alert, ResolvedService, resolve

ALERT_FIELDS = ("threshold", "for", "severity", "expression", "receiver", "labels", "remediations",
                "summary", "description", "runbook_url", "dashboard_url")
# labels shown as their own fields (severity, receiver) or identical by construction (env)
_LABELS_SHOWN_ELSEWHERE = ("severity", "receiver", "env")


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass
class AlertChange:
    env: str
    service: str
    alert: str
    source: str
    status: str  # added | removed | changed
    changes: list[FieldChange] = field(default_factory=list)
    old: dict | None = None
    new: dict | None = None


@dataclass(frozen=True)
class ServiceChange:
    service: str  # "" for catalog-wide settings (alerts/_defaults.yaml)
    status: str  # added | removed | changed
    field: str
    old: Any
    new: Any


@dataclass
class Diff:
    base: str
    head: str
    catalog: str
    environments: list[str]
    alerts: list[AlertChange]
    services: list[ServiceChange]
    files: list[dict] = field(default_factory=list)
    """Changed files next to the catalog that mlmon renders too (hand-written dashboards): ``{status, path}``."""

    @property
    def changed(self) -> bool:
        return bool(self.alerts or self.services or self.files)

    def counts(self) -> dict[str, int]:
        """Distinct alerts added/removed/changed (in at least one environment), and other changes."""
        out = {}
        for status in ("added", "removed", "changed"):
            out[status] = len({(a.service, a.alert) for a in self.alerts if a.status == status})
        out["service_changes"] = len(self.services)
        return out


# ---------------------------------------------------------------------------------------------------
# the resolved view of one alert


def expression(a: Alert, rs: ResolvedService) -> str:
    if rs.is_prometheus:
        from .prometheus.expressions import alert_expr

        return alert_expr(a, rs)
    return alertmeta.condition(a, rs)


def alert_view(a: Alert, rs: ResolvedService) -> dict:
    labels = {k: v for k, v in alertmeta.labels(a, rs).items() if k not in _LABELS_SHOWN_ELSEWHERE}
    return {
        "threshold": a.threshold,
        "for": format_duration(a.for_),
        "severity": a.severity,
        "expression": expression(a, rs),
        "receiver": rs.service.routing.get(a.severity),
        "labels": labels,
        "remediations": {name: cmd for name, cmd in alertmeta.remediations(a, rs)},
        "summary": a.summary or a.monitor.summary,
        "description": a.monitor.description,
        "runbook_url": alertmeta.runbook_url(a, rs),
        "dashboard_url": alertmeta.dashboard_url(rs),
    }


def _alerts(catalog: Catalog | None, env: str) -> dict[str, tuple[Alert, ResolvedService]]:
    if catalog is None or env not in catalog.defaults.environments:
        return {}
    return {a.name: (a, rs) for rs in resolve(catalog, env) for a in rs.alerts}


def _alert_changes(old: tuple[Alert, ResolvedService], new: tuple[Alert, ResolvedService],
                   ov: dict, nv: dict) -> list[FieldChange]:
    out: list[FieldChange] = []
    for f in ALERT_FIELDS:
        a, b = ov[f], nv[f]
        if a == b:
            continue
        if f in ("labels", "remediations"):
            for key in list(a) + [k for k in b if k not in a]:
                if a.get(key) != b.get(key):
                    out.append(FieldChange(f"{f}.{key}", a.get(key), b.get(key)))
            continue
        if f == "expression" and ov["threshold"] != nv["threshold"]:
            # only report the expression when it changed for more than the threshold
            na, nrs = new
            if expression(dataclasses.replace(na, threshold=old[0].threshold), nrs) == a:
                continue
        out.append(FieldChange(f, a, b))
    return out


# ---------------------------------------------------------------------------------------------------
# generic comparison of everything else a service (or the defaults) declares


def _named(items: Any) -> dict | None:
    """A list of mappings that each carry a unique ``name`` (or ``alert``/``uid``) -> {name: item}."""
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in ("name", "alert", "uid", "title"):
        names = [i.get(key) for i in items]
        if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
            return {n: i for n, i in zip(names, items)}
    return None


def deep_diff(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Leaf differences ``(path, old, new)``; dicts by key, lists of named items by name."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in list(old) + [k for k in new if k not in old]:
            out.extend(deep_diff(old.get(k), new.get(k), f"{path}.{k}" if path else str(k)))
        return out
    on, nn = _named(old), _named(new)
    if on is not None and nn is not None:
        out = []
        for k in list(on) + [k for k in nn if k not in on]:
            out.extend(deep_diff(on.get(k), nn.get(k), f"{path}[{k}]"))
        return out
    return [(path, old, new)]


def _dump(model) -> dict:
    return model.model_dump(mode="json", by_alias=True)


def _service_changes(old: Catalog | None, new: Catalog | None) -> list[ServiceChange]:
    out: list[ServiceChange] = []
    od = _dump(old.defaults) if old else {}
    nd = _dump(new.defaults) if new else {}
    for path, a, b in deep_diff(od, nd):
        out.append(ServiceChange("", "changed", path, a, b))
    osv = {s.service: s for s in old.services} if old else {}
    nsv = {s.service: s for s in new.services} if new else {}
    for name in sorted(set(osv) | set(nsv)):
        if name not in nsv:
            out.append(ServiceChange(name, "removed", "", _summary(osv[name]), None))
            continue
        if name not in osv:
            out.append(ServiceChange(name, "added", "", None, _summary(nsv[name])))
            continue
        a = {k: v for k, v in _dump(osv[name]).items() if k != "monitors"}
        b = {k: v for k, v in _dump(nsv[name]).items() if k != "monitors"}
        for path, x, y in deep_diff(a, b):
            status = "added" if x is None else "removed" if y is None else "changed"
            out.append(ServiceChange(name, status, path, x, y))
    return out


def _summary(svc) -> str:
    return f"{svc.title or svc.service} (team {svc.team}, {len(svc.monitors)} monitors)"


def diff_catalogs(old: Catalog | None, new: Catalog | None, envs: list[str] | None = None, *,
                  base: str = "", head: str = "", catalog: str = "") -> Diff:
    """Compare ``old`` (base) with ``new`` (head) in ``envs`` (default: every environment of either)."""
    all_envs = list(new.defaults.environments if new else ())
    all_envs += [e for e in (old.defaults.environments if old else ()) if e not in all_envs]
    envs = [e for e in all_envs if envs is None or e in envs]
    changes: list[AlertChange] = []
    for env in envs:
        before, after = _alerts(old, env), _alerts(new, env)
        for name in list(after) + [n for n in before if n not in after]:
            if name not in before:
                a, rs = after[name]
                changes.append(AlertChange(env, rs.name, name, rs.service.source.type, "added",
                                           new=alert_view(a, rs)))
            elif name not in after:
                a, rs = before[name]
                changes.append(AlertChange(env, rs.name, name, rs.service.source.type, "removed",
                                           old=alert_view(a, rs)))
            else:
                ov, nv = alert_view(*before[name]), alert_view(*after[name])
                fc = _alert_changes(before[name], after[name], ov, nv)
                if fc:
                    rs = after[name][1]
                    changes.append(AlertChange(env, rs.name, name, rs.service.source.type, "changed", fc, ov, nv))
    order = {e: i for i, e in enumerate(envs)}
    changes.sort(key=lambda c: (c.service, c.alert, order[c.env]))
    return Diff(base, head, catalog, envs, changes, _service_changes(old, new))


# ---------------------------------------------------------------------------------------------------
# output


def show(field_name: str, value: Any) -> str:
    """A value as a reviewer reads it (one line)."""
    if value is None:
        return "(none)"
    if field_name == "threshold" and isinstance(value, (int, float)):
        return num(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=False, ensure_ascii=False)
    return " ".join(str(value).split())


def describe_alert(view: dict) -> str:
    when = f" for {view['for']}" if view["for"] != "0s" else ""
    receiver = f" -> {view['receiver']}" if view["receiver"] else ""
    return f"{view['severity']}: {' '.join(view['expression'].split())}{when}{receiver}"


@dataclass
class Row:
    service: str
    alert: str
    status: str
    field: str
    old: str
    new: str
    envs: list[str]
    view: dict | None = None  # the whole alert, for added/removed rows


def rows(d: Diff) -> list[Row]:
    """Alert changes with identical content across environments merged into one row."""
    out: list[Row] = []
    index: dict[tuple, Row] = {}
    for c in d.alerts:
        if c.status == "added":
            items = [("", "", describe_alert(c.new))]
        elif c.status == "removed":
            items = [("", describe_alert(c.old), "")]
        else:
            items = [(f.field, show(f.field, f.old), show(f.field, f.new)) for f in c.changes]
        for fname, old, new in items:
            key = (c.service, c.alert, c.status, fname, old, new)
            if key in index:
                index[key].envs.append(c.env)
            else:
                index[key] = Row(c.service, c.alert, c.status, fname, old, new, [c.env], c.new or c.old)
                out.append(index[key])
    return out


def _envs_text(d: Diff, envs: list[str]) -> str:
    return "all environments" if envs == d.environments and len(envs) > 1 else ", ".join(envs)


SYMBOL = {"added": "+", "removed": "-", "changed": "~"}


def _headline(d: Diff) -> str:
    c = d.counts()
    alerts = sorted({(a.service, a.alert) for a in d.alerts})
    parts = [f"{n} {k}" for k, n in (("added", c["added"]), ("removed", c["removed"]), ("changed", c["changed"]))
             if n]
    head = (f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} differ{'s' if len(alerts) == 1 else ''} "
            f"in {', '.join(d.environments)} ({', '.join(parts)})") if alerts else "no alert differs"
    if c["service_changes"]:
        head += f"; {c['service_changes']} service/setting change{'s' if c['service_changes'] != 1 else ''}"
    if d.files:
        head += f"; {len(d.files)} dashboard file{'s' if len(d.files) != 1 else ''} changed"
    return head


def format_text(d: Diff) -> str:
    lines = [f"mlmon diff {d.base} -> {d.head} (catalog {d.catalog}): {_headline(d)}"]
    by_service: dict[str, list[str]] = {}
    for r in rows(d):
        envs = _envs_text(d, r.envs)
        if r.status == "changed":
            text = f"  ~ {r.alert} {r.field}: {r.old} -> {r.new}  [{envs}]"
        elif r.status == "added":
            text = f"  + {r.alert} added: {r.new}  [{envs}]"
        else:
            text = f"  - {r.alert} removed (was {r.old})  [{envs}]"
        by_service.setdefault(r.service, []).append(text)
    for s in d.services:
        name = s.service or "settings (_defaults.yaml)"
        if not s.field:
            text = f"  {SYMBOL[s.status]} service {s.status}: {show('', s.new if s.status == 'added' else s.old)}"
        else:
            text = f"  {SYMBOL[s.status]} {s.field}: {show(s.field, s.old)} -> {show(s.field, s.new)}"
        by_service.setdefault(name, []).append(text)
    for name in sorted(by_service, key=lambda n: (n.startswith("settings"), n)):
        lines += ["", name] + by_service[name]
    if d.files:
        lines += ["", "files (hand-written dashboards)"] + [f"  {f['status']}: {f['path']}" for f in d.files]
    return "\n".join(lines) + "\n"


MARKER = "<!-- mlmon-diff -->"


def _md(value: str) -> str:
    if not value:
        return ""
    value = value.replace("|", "\\|")
    fence = "``" if "`" in value else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _md_alert(view: dict) -> str:
    when = f" for {view['for']}" if view["for"] != "0s" else ""
    receiver = f" -> {view['receiver']}" if view["receiver"] else ""
    return f"{view['severity']}{when}{receiver}: {_md(' '.join(view['expression'].split()))}"


MAX_COMMENT_CHARS = 60000


def format_markdown(d: Diff, max_chars: int = MAX_COMMENT_CHARS) -> str:
    lines = [MARKER, f"### mlmon diff: {_headline(d)}", "",
             f"Catalog `{d.catalog}` at `{d.base}` compared with `{d.head}`, resolved per environment.", ""]
    alert_rows = rows(d)
    if alert_rows:
        lines += ["| | Service | Alert | Environments | Change | Before | After |", "|---|---|---|---|---|---|---|"]
        for r in alert_rows:
            change = r.field if r.status == "changed" else f"**{r.status}**"
            old, new = _md(r.old), _md(r.new)
            if r.status != "changed":
                whole = _md_alert(r.view)
                old, new = ("", whole) if r.status == "added" else (whole, "")
            lines.append(f"| {SYMBOL[r.status]} | {r.service} | `{r.alert}` | {_envs_text(d, r.envs)} | {change} | "
                         f"{old} | {new} |")
        lines.append("")
    if d.services:
        lines += ["Service settings, jobs and dashboards (every environment):", "",
                  "| | Service | Field | Before | After |", "|---|---|---|---|---|"]
        for s in d.services:
            name = s.service or "_defaults.yaml"
            fname = s.field or f"**service {s.status}**"
            lines.append(f"| {SYMBOL[s.status]} | {name} | {fname} | {_md(show(s.field, s.old) if s.old is not None else '')} "
                         f"| {_md(show(s.field, s.new) if s.new is not None else '')} |")
        lines.append("")
    if d.files:
        lines += ["Hand-written dashboards:", ""] + [f"- {f['status']}: `{f['path']}`" for f in d.files] + [""]
    if not d.changed:
        lines += ["No alert, alarm, job or dashboard changes.", ""]
    return _fit("\n".join(lines), max_chars)


def _fit(text: str, max_chars: int) -> str:
    """Cut a Markdown diff to ``max_chars`` at a line boundary, saying so (GitHub comments hold 65536)."""
    if len(text) <= max_chars:
        return text
    note = ("\n\n_Diff truncated: {n} more lines. Run `mlmon diff` locally (or `--format text`) for "
            "the whole diff._\n")
    all_lines = text.split("\n")
    kept: list[str] = []
    size = len(note) + 20
    for line in all_lines:
        if size + len(line) + 1 > max_chars:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept) + note.format(n=len(all_lines) - len(kept))


def as_json(d: Diff) -> dict:
    return {
        "base": d.base,
        "head": d.head,
        "catalog": d.catalog,
        "environments": d.environments,
        "changed": d.changed,
        "summary": d.counts(),
        "alerts": [
            {"env": c.env, "service": c.service, "alert": c.alert, "source": c.source, "status": c.status,
             "changes": [{"field": f.field, "old": f.old, "new": f.new} for f in c.changes],
             "old": c.old, "new": c.new}
            for c in d.alerts
        ],
        "services": [dataclasses.asdict(s) for s in d.services],
        "files": d.files,
    }


def format_json(d: Diff) -> str:
    return json.dumps(as_json(d), indent=2, ensure_ascii=False) + "\n"


FORMATS = {"text": format_text, "markdown": format_markdown, "json": format_json}
