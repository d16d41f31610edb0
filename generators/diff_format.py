"""Formats of a catalog :class:`~generators.diff.Diff`: text (terminal), Markdown (the pull-request comment)
and JSON."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from .diff import Diff
from .promql import num

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
