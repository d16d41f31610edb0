"""Backtest reports: text (terminal), Markdown (a pull-request comment) and JSON (one object, for tools).

JSON::

    {"prometheus", "env", "base", "head", "start", "end",
     "alerts": [{"alert", "env", "service", "changes",
                 "base": {"status", "episodes", "firing_seconds", "first", "last", ...} | null,
                 "head": {...} | null,
                 "only_base": [episode], "only_head": [episode], "plot"}]}

``status`` is ``ok``, ``no_data`` (a metric the alert reads has no series in the range: ``missing`` lists
the selectors; ``episodes``, ``firing_seconds``, ``first`` and ``last`` are null, because "no data" is not
"never fires") or ``error``. ``first``/``last``: the first and the last evaluation at which the alert was
firing (RFC 3339, UTC). A version is null when the alert does not exist in it (added or removed).
An episode: ``{"labels", "start", "end", "seconds", "ongoing", "before"}`` (``end`` is the first evaluation
at which it no longer fired; ``ongoing``: still firing at the end of the range; ``before``: already firing
at its start).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from ..durations import format_duration
from .engine import Episode
from .run import Backtest, Side

MARKER = "<!-- mlmon-backtest -->"
LIST_LIMIT = 10


def iso(ts: int | float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def human(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return format_duration(int(seconds))


def labels_text(labels) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels) + "}"


def _stats(s: Side) -> dict:
    eps = s.episodes or []
    first = min((e.start for e in eps), default=None)
    last = max((e.end - s.grid.interval for e in eps), default=None)
    return {"episodes": len(eps), "firing_seconds": sum(e.seconds for e in eps), "first": iso(first),
            "last": iso(last)}


def episode_json(e: Episode) -> dict:
    return {"labels": dict(e.labels), "start": iso(e.start), "end": iso(e.end), "seconds": e.seconds,
            "ongoing": e.ongoing, "before": e.before}


def side_json(s: Side | None) -> dict | None:
    if s is None:
        return None
    r = s.rule
    out = {"status": s.status}
    if s.status == "ok":
        out.update(_stats(s))
    else:
        out.update({"episodes": None, "firing_seconds": None, "first": None, "last": None})
    out.update({
        "threshold": s.threshold, "op": s.signal.op if s.signal else None,
        "for": format_duration(r.for_), "keep_firing_for": format_duration(r.keep_firing_for),
        "interval": format_duration(r.interval), "expr": r.expr, "evaluated": s.expr,
        "signal": s.signal.expr if s.signal else None, "recordings": list(s.recordings),
        "missing": list(s.missing), "error": s.error or None, "notes": list(s.notes),
        "episode_list": [episode_json(e) for e in s.episodes or []],
    })
    return out


def as_json(bt: Backtest) -> dict:
    return {
        "prometheus": bt.prometheus, "env": bt.env, "base": bt.base, "head": bt.head,
        "start": iso(bt.start), "end": iso(bt.end),
        "alerts": [{
            "alert": a.alert, "env": a.env, "service": a.service, "changes": a.changes,
            "base": side_json(a.base), "head": side_json(a.head),
            "only_base": [episode_json(e) for e in a.only_base],
            "only_head": [episode_json(e) for e in a.only_head],
            "plot": a.plot,
        } for a in bt.alerts],
        "queries": bt.queries,
    }


def format_json(bt: Backtest) -> str:
    return json.dumps(as_json(bt), indent=2, ensure_ascii=False) + "\n"


# --- text ----------------------------------------------------------------------------------------


def _side_text(s: Side | None, which: str, bt: Backtest) -> str:
    if s is None:
        return f"not in the {'base revision' if which == 'base' else 'working tree' if bt.head == 'working tree' else bt.head}"
    if s.status == "no_data":
        return (f"no data: {', '.join(s.missing)} {'has' if len(s.missing) == 1 else 'have'} no series between "
                f"{iso(bt.start)} and {iso(bt.end)} (not judged)")
    if s.status == "error":
        return f"not evaluated: {s.error}"
    st = _stats(s)
    if not st["episodes"]:
        return "never fires"
    n = st["episodes"]
    sets = len({e.labels for e in s.episodes})
    where = f" on {sets} label sets" if sets > 1 else ""
    return (f"{n} episode{'s' if n != 1 else ''}{where}, firing {human(st['firing_seconds'])}"
            f"{' in total' if sets > 1 else ''}, first {st['first']}, last {st['last']}")


def _episode_text(e: Episode) -> str:
    flags = (" (ongoing)" if e.ongoing else "") + (" (already firing at the start)" if e.before else "")
    return f"{iso(e.start)} .. {iso(e.end)} ({human(e.seconds)}) {labels_text(e.labels)}{flags}"


def _headline(bt: Backtest) -> str:
    versions = f"{bt.base} -> {bt.head}" if bt.base else bt.head
    return (f"mlmon backtest {versions}, env {bt.env}: {len(bt.alerts)} alert{'s' if len(bt.alerts) != 1 else ''}, "
            f"{iso(bt.start)} .. {iso(bt.end)} ({human(bt.end - bt.start)}) on {bt.prometheus}")


def format_text(bt: Backtest) -> str:
    lines = [_headline(bt)]
    if not bt.alerts:
        lines.append("no alert differs in what it would fire on (use --alert NAME to backtest one anyway)")
    for a in bt.alerts:
        lines.append("")
        lines.append(f"{a.alert} ({a.service})" + (f": {', '.join(a.changes)}" if a.changes else ""))
        for which in ("base", "head") if bt.base else ("head",):
            s = getattr(a, which)
            lines.append(f"  {which}  {_side_text(s, which, bt)}")
            for note in (s.notes if s else []):
                lines.append(f"        note: {note}")
        if a.base and a.head and a.base.status == a.head.status == "ok":
            for which, eps in (("base", a.only_base), ("head", a.only_head)):
                lines.append(f"  only {which}: {len(eps) or 'none'}")
                for e in eps[:LIST_LIMIT]:
                    lines.append(f"    {_episode_text(e)}")
                if len(eps) > LIST_LIMIT:
                    lines.append(f"    ... {len(eps) - LIST_LIMIT} more (--format json lists all)")
        if a.plot:
            lines.append(f"  plot: {a.plot}")
    return "\n".join(lines) + "\n"


# --- markdown ------------------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _side_cell(s: Side | None) -> str:
    if s is None:
        return "—"
    if s.status == "no_data":
        return "**no data**"
    if s.status == "error":
        return "not evaluated"
    st = _stats(s)
    return f"{st['episodes']} / {human(st['firing_seconds'])}" if st["episodes"] else "never fires"


def format_markdown(bt: Backtest, plots_url: str | None = None) -> str:
    versions = f"`{bt.base}` → {bt.head}" if bt.base else bt.head
    out = [MARKER, f"### mlmon backtest: {versions}, env `{bt.env}`", "",
           f"What each version would have fired on between {iso(bt.start)} and {iso(bt.end)} "
           f"({human(bt.end - bt.start)}) on this Prometheus, with Prometheus' own alerting semantics.", ""]
    if not bt.alerts:
        out.append("No alert differs in what it would fire on.")
        return "\n".join(out) + "\n"
    out += ["| alert | change | base: episodes / firing | head: episodes / firing | only in base | only in head | plot |",
            "|---|---|---|---|---|---|---|"]
    for a in bt.alerts:
        both = a.base and a.head and a.base.status == a.head.status == "ok"
        plot = ""
        if a.plot:
            name = a.plot.rsplit("/", 1)[-1]
            plot = f"[{name}]({plots_url.rstrip('/') + '/' + name if plots_url else a.plot})"
        out.append(f"| `{a.alert}` | {_md(', '.join(a.changes)) or '—'} | {_side_cell(a.base)} | "
                   f"{_side_cell(a.head)} | {len(a.only_base) if both else '—'} | "
                   f"{len(a.only_head) if both else '—'} | {plot} |")
    details = []
    for a in bt.alerts:
        for which in ("base", "head"):
            s = getattr(a, which)
            if s is not None and s.status != "ok":
                details.append(f"- `{a.alert}` ({which}): {_md(_side_text(s, which, bt))}")
        for which, eps in (("base", a.only_base), ("head", a.only_head)):
            for e in eps[:LIST_LIMIT]:
                details.append(f"- `{a.alert}` only in {which}: {_md(_episode_text(e))}")
            if len(eps) > LIST_LIMIT:
                details.append(f"- `{a.alert}` only in {which}: {len(eps) - LIST_LIMIT} more")
    if details:
        out += ["", "<details><summary>Episodes only one version has, and alerts not judged</summary>", "",
                *details, "", "</details>"]
    return "\n".join(out) + "\n"


FORMATS = {"text": format_text, "markdown": format_markdown, "json": format_json}
