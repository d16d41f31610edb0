"""What each monitor kind means, as plain Python over :mod:`promsem` (written from docs/catalog.md, not from the
generators): given a monitor of the catalog model and the series, the label sets whose condition holds at ``t``
and their values. :func:`condition` dispatches on the kind; a kind without a model here is not compared.

A new kind gets a function here and scenarios in tests/test_oracle.py.
"""

from __future__ import annotations

import math

from .promsem import World, histogram_quantile, key, project, sum_by

CMP = {"above": lambda v, t: v > t, "below": lambda v, t: v < t}


def _merge(svc, matchers):
    out = dict(svc.source.selector)
    out.update(matchers or {})
    return out


def threshold(w: World, svc, m, thr: float, t: int) -> dict:
    cmp = CMP[m.op]
    sm = m.smoothing
    out = {}
    if m.denominator is not None:
        win = sm.window if sm else 300
        by = tuple(m.by) if m.by is not None else tuple(svc.labels)
        num = {key(s.labels): r for s in w.select(m.metric, _merge(svc, m.matchers))
               if (r := w.rate(s, t, win)) is not None}
        n = sum_by(num, by)
        d: dict = {}
        for j, sel in enumerate(m.denominator):  # a sum of selectors: groups present in every term
            den = {key(s.labels): r for s in w.select(sel.metric, _merge(svc, sel.matchers))
                   if (r := w.rate(s, t, win)) is not None}
            part = sum_by(den, by)
            d = part if j == 0 else {g: d[g] + v for g, v in part.items() if g in d}
        guard = m.guard
        for g in n:
            if g in d and d[g] != 0:  # x/0 is +Inf or NaN: no traffic, nothing to judge
                ratio = n[g] / d[g]
                if cmp(ratio, thr) and (guard == 0 or d[g] * 60 >= guard):
                    out[g] = ratio
            elif g in d and d[g] == 0 and n[g] > 0 and cmp(math.inf, thr) and guard == 0:
                out[g] = math.inf
        return out
    for s in w.select(m.metric, _merge(svc, m.matchers)):
        if sm is None:
            v = w.instant(s, t)
        elif sm.function in ("rate", "increase"):
            v = w.increase(s, t, sm.window, is_rate=sm.function == "rate")
        else:
            v = w.over_time(sm.function, s, t, sm.window, sm.quantile)
        if v is not None and not math.isnan(v):
            out[key(s.labels)] = v
    if m.by:
        agg = {}
        for k, v in out.items():
            g = project(k, tuple(m.by))
            agg[g] = max(agg.get(g, v), v) if m.op == "above" else min(agg.get(g, v), v)
        out = agg
    return {k: v for k, v in out.items() if cmp(v, thr)}


def scraped(w: World, s, t: int) -> bool:
    """Whether the target that exports ``s`` (its job and instance) was scraped at ``t`` (its ``up`` series)."""
    job, inst = s.labels.get("job", ""), s.labels.get("instance", "")
    return any(w.instant(u, t) is not None for u in w.select("up")
               if u.labels.get("job", "") == job and u.labels.get("instance", "") == inst)


def new_counter(w: World, s, t: int, window: int) -> bool:
    """A counter new to its process: no sample a window ago although its target was scraped then."""
    return w.instant(s, t) is not None and w.instant(s, t - window) is None and scraped(w, s, t - window)


def failures(w: World, svc, m, thr: float, t: int) -> dict:
    """Failures within the window; a counter created within it on a target already scraped a window ago counts
    its whole value (a counter starts at zero with its process)."""
    out = {}
    for s in w.select(m.metric, _merge(svc, m.matchers)):
        now = w.instant(s, t)
        v = now if new_counter(w, s, t, m.window) else w.increase(s, t, m.window)
        if v is not None and v > thr:
            out[key(s.labels)] = v
    return out


def stalled(w: World, svc, m, thr: float, t: int) -> dict:
    """Per queue (backlog and progress paired on ``match_on``, default the service's labels and instance): backlog
    above the threshold now and throughout the tolerance, watched a whole window ago, and nothing processed
    within the window (a progress counter younger than the window counts from zero)."""
    on = tuple(m.match_on) if m.match_on is not None else tuple(svc.labels) + (
        () if "instance" in svc.labels else ("instance",))
    progressed = set()
    for p in w.select(m.progress.metric, _merge(svc, m.progress.matchers)):
        inc = w.instant(p, t) if new_counter(w, p, t, m.window) else w.increase(p, t, m.window)
        if inc is not None and inc > 0:
            progressed.add(project(key(p.labels), on))
    backlogs = w.select(m.backlog.metric, _merge(svc, m.backlog.matchers))
    watched = {project(key(b.labels), on) for b in backlogs
               if t - m.window >= 0 and w.instant(b, t - m.window) is not None}
    out = {}
    for b in backlogs:
        v = w.instant(b, t)
        if v is None or not v > thr:
            continue
        if m.tolerance:
            lows = [x for _, x in w.range(b, t, m.tolerance)]
            if not lows or min(lows) <= thr:
                continue
        k = project(key(b.labels), on)
        if k in watched and k not in progressed:
            out[key(b.labels)] = v
    return out


def latency(w: World, svc, m, thr: float, t: int, scale: float) -> dict:
    by = tuple(m.by) if m.by is not None else tuple(svc.labels)
    per = {}
    for s in w.select(m.histogram + "_bucket", _merge(svc, m.matchers)):
        r = w.rate(s, t, m.window)
        if r is not None:
            per[key(s.labels)] = r
    groups: dict[tuple, list] = {}
    for k, r in sum_by(per, by + ("le",)).items():
        le = float(dict(k)["le"].replace("+Inf", "inf"))
        groups.setdefault(tuple((a, b) for a, b in k if a != "le"), []).append((le, r))
    out = {}
    for g, buckets in groups.items():
        q = histogram_quantile(m.quantile, buckets)
        if not math.isnan(q) and CMP[m.op](q / scale, thr):
            out[g] = q / scale
    return out


def absent(w: World, svc, m, thr, t: int) -> dict:
    merged = _merge(svc, m.matchers)
    if any(w.instant(s, t) is not None for s in w.select(m.metric, merged)):
        return {}
    eq = tuple(sorted((k, v) for k, v in merged.items() if not v.startswith(("=~", "!~", "!="))))
    return {eq: 1.0}


def condition(w: World, svc, m, thr: float, t: int) -> dict | None:
    if m.kind == "threshold":
        return threshold(w, svc, m, thr, t)
    if m.kind == "failures":
        return failures(w, svc, m, thr, t)
    if m.kind == "stalled":
        return stalled(w, svc, m, thr, t)
    if m.kind == "latency":
        decl = svc.metrics.get(m.histogram)
        return latency(w, svc, m, thr, t, 1000.0 if decl and decl.unit == "milliseconds" else 1.0)
    if m.kind == "absent":
        return absent(w, svc, m, thr, t)
    return None
