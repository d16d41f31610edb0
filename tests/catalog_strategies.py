"""Hypothesis strategies for schema-valid catalogs (tests/test_properties.py, bench/property_catalogs.py).

A service draws its labels, an optional service-wide selector and a few monitors; each monitor kind is one entry of
:data:`KIND_STRATEGIES` (``draw, names -> (monitor dict, {metric: declaration})``), so a new kind adds one function
and one entry. Matchers mix equality, ``!=``, and RE2 regexes with groups, alternation, classes and repetition
(``=~``/``!~``); thresholds, windows, levels and per-environment overrides are drawn within what the schema takes.
A catalog the catalog checks reject is allowed: loading must then fail with a clear CatalogError, never crash.
"""

from __future__ import annotations

from hypothesis import strategies as st

ENVS = ("dev", "staging", "prod")
SEVERITIES = ("info", "ticket", "warning", "critical", "page")
WINDOWS = ("1m", "2m", "5m", "10m", "15m", "30m", "1h")
FORS = ("0s", "1m", "2m", "5m", "10m")
LABELS = ("tenant", "model", "region")

_ATOMS = ["a", "b", "5", "0", "x", ".", r"\d", r"\w", "[a-c]", "[^a]", "[0-9x]", r"\.", "-", "_"]


def regex():
    def extend(inner):
        return st.one_of(
            st.tuples(inner, inner).map("".join),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}|{t[1]}"),
            inner.map(lambda r: f"({r})"),
            st.tuples(inner, st.sampled_from(["*", "+", "?", "{2}", "{1,3}"])).map(lambda t: f"(?:{t[0]}){t[1]}"),
        )
    return st.one_of(st.sampled_from(["5..", "(5..|429)", "2..|3..", "api|web-.*", ".+-canary", "[a-z]+"]),
                     st.recursive(st.sampled_from(_ATOMS), extend, max_leaves=6))


VALUE = st.sampled_from(["api", "web", "prod", "a", "x-1", "500"])


def matcher_value():
    return st.one_of(VALUE, VALUE.map(lambda v: "!=" + v), regex().map(lambda r: "=~" + r),
                     regex().map(lambda r: "!~" + r))


def matchers(labels=("code", "job", "route")):
    return st.dictionaries(st.sampled_from(labels), matcher_value(), max_size=2)


def _common(draw, name: str, threshold=None, allow_levels=True, default_for=True) -> dict:
    """name, severity/for/threshold (or levels), overrides."""
    out = {"name": name}
    thr = threshold
    if allow_levels and thr is not None and draw(st.booleans()) and draw(st.booleans()):
        lv = []
        for j in range(draw(st.integers(1, 2))):
            level = {"alert": f"{name}L{j}", "threshold": thr(draw), "for": draw(st.sampled_from(FORS)),
                     "severity": draw(st.sampled_from(SEVERITIES))}
            if draw(st.booleans()):
                level["overrides"] = {draw(st.sampled_from(ENVS)): _override(draw, thr)}
            lv.append(level)
        out["levels"] = lv
        return out
    if thr is not None:
        out["threshold"] = thr(draw)
    if draw(st.booleans()) or not default_for:
        out["for"] = draw(st.sampled_from(FORS))
    out["severity"] = draw(st.sampled_from(SEVERITIES))
    if draw(st.booleans()):
        out["overrides"] = {env: _override(draw, thr) for env in draw(st.sets(st.sampled_from(ENVS), max_size=2))}
    return out


def _override(draw, thr) -> dict:
    o = {}
    if thr is not None and draw(st.booleans()):
        o["threshold"] = thr(draw)
    if draw(st.booleans()):
        o["for"] = draw(st.sampled_from(FORS))
    if draw(st.booleans()):
        o["severity"] = draw(st.sampled_from(SEVERITIES))
    if draw(st.integers(0, 5)) == 0:
        o["enabled"] = False
    return o


def _num(lo, hi):
    return lambda draw: draw(st.sampled_from([lo, hi, (lo + hi) / 2, round(lo + (hi - lo) * 0.37, 3)]))


def k_threshold(draw, name, labels):
    variant = draw(st.sampled_from(["plain", "avg", "min", "max", "quantile", "rate", "increase", "ratio", "by"]))
    op = draw(st.sampled_from(["above", "below"]))
    if variant == "ratio":
        m = {"kind": "threshold", "metric": "req_total", "matchers": {"code": "=~" + draw(st.sampled_from(
             ["5..", "(5..|429)", "4..|5.."]))}, "denominator": draw(st.sampled_from(
             ["req_total", {"metric": "req_total", "matchers": {"route": "!=health"}}])), "op": "above"}
        if isinstance(m["denominator"], dict):
            m["matchers"]["route"] = "!=health"
        if draw(st.booleans()):
            m["smoothing"] = {"function": "rate", "window": draw(st.sampled_from(WINDOWS[1:5]))}
        if draw(st.booleans()):
            m["min_events"] = draw(st.sampled_from([0, 0.5, 2]))
        m.update(_common(draw, name, _num(0.01, 0.5)))
        return m, {"req_total": {"type": "counter", "labels": list(labels) + ["code", "route"]}}
    if variant in ("rate", "increase"):
        m = {"kind": "threshold", "metric": "events_total", "op": op,
             "smoothing": {"function": variant, "window": draw(st.sampled_from(WINDOWS[1:6]))}}
        m.update(_common(draw, name, _num(0.5, 20)))
        return m, {"events_total": {"type": "counter", "labels": list(labels)}}
    unit = draw(st.sampled_from(["", "seconds", "ratio", "bytes", "milliseconds"]))
    rng = [0, 1] if unit == "ratio" else [0, 1000]
    m = {"kind": "threshold", "metric": "level", "op": op, "matchers": draw(matchers(("job", "route")))}
    if variant in ("avg", "min", "max"):
        m["smoothing"] = {"function": variant, "window": draw(st.sampled_from(WINDOWS[1:6]))}
    elif variant == "quantile":
        m["smoothing"] = {"function": "quantile", "quantile": draw(st.sampled_from([0.5, 0.9, 0.95])),
                          "window": draw(st.sampled_from(WINDOWS[2:6]))}
    elif variant == "by" and labels:
        m["by"] = [labels[0]]
    lo, hi = (0.05, 0.95) if unit == "ratio" else (1, 900)
    m.update(_common(draw, name, _num(lo, hi)))
    return m, {"level": {"type": "gauge", "unit": unit, "range": rng, "labels": list(labels) + ["route"]}}


def k_flag(draw, name, labels):
    m = {"kind": "flag", "metric": "flagged", "matchers": draw(matchers(("job",)))}
    m.update(_common(draw, name, None, allow_levels=False))
    return m, {"flagged": {"type": "gauge", "range": [0, 1], "labels": list(labels)}}


def k_trend(draw, name, labels):
    per = draw(st.sampled_from(["minute", "hour", "day"]))
    op = draw(st.sampled_from(["above", "below"]))
    m = {"kind": "trend", "metric": "score", "window": draw(st.sampled_from(["10m", "30m", "1h"])), "per": per,
         "op": op}
    mag = {"minute": 0.01, "hour": 0.05, "day": 0.2}[per]
    m.update(_common(draw, name, lambda d: mag if op == "above" else -mag))
    return m, {"score": {"type": "gauge", "range": [0, 1], "labels": list(labels)}}


def k_failures(draw, name, labels):
    m = {"kind": "failures", "metric": "failed_total", "matchers": draw(matchers(("job", "route"))),
         "window": draw(st.sampled_from(WINDOWS[2:6]))}
    m.update(_common(draw, name, _num(0, 10)))
    return m, {"failed_total": {"type": "counter", "labels": list(labels)}}


def k_stalled(draw, name, labels):
    window = draw(st.sampled_from(["10m", "15m", "30m"]))
    m = {"kind": "stalled", "backlog": draw(st.sampled_from(["queue", {"metric": "queue", "matchers": {"job": "api"}}])),
         "progress": draw(st.sampled_from(["done_total", {"metric": "done_total", "matchers": {"job": "api"}}])),
         "window": window, "tolerance": draw(st.sampled_from(["0s", "1m", "5m"]))}
    if draw(st.booleans()):
        m["match_on"] = list(labels)
    m.update(_common(draw, name, _num(0, 20)))
    return m, {"queue": {"type": "gauge", "labels": list(labels)}, "done_total": {"type": "counter",
                                                                                    "labels": list(labels)}}


def k_ratio(draw, name, labels):
    form = draw(st.sampled_from(["bad", "good", "sloth", "sum"]))
    if form == "bad":
        m = {"bad": {"metric": "http_total", "matchers": {"code": "=~" + draw(regex())}}, "total": "http_total"}
    elif form == "good":
        m = {"good": {"metric": "http_total", "matchers": {"code": "!~" + draw(regex())}}, "total": "http_total"}
    elif form == "sloth":
        job = draw(st.sampled_from(["api", "myservice"]))
        m = {"bad": {"metric": "http_total", "matchers": {"job": job, "code": "=~(5..|429)"}},
             "total": {"metric": "http_total", "matchers": {"job": job}}}
    else:
        m = {"bad": "fail_total", "total": ["ok_total", "fail_total"]}
    m.update({"kind": "ratio", "threshold": draw(st.sampled_from([0.95, 0.99, 0.995, 0.999])),
              "min_events": draw(st.sampled_from([0, 1, 5]))})
    m["name"] = name
    if draw(st.booleans()):
        m["overrides"] = {draw(st.sampled_from(ENVS)): {"threshold": draw(st.sampled_from([0.95, 0.999]))}}
    decl = {"type": "counter", "labels": list(labels) + ["code"]}
    return m, {"http_total": decl, "ok_total": decl, "fail_total": decl}


def k_latency(draw, name, labels):
    unit = draw(st.sampled_from(["seconds", "milliseconds", ""]))
    m = {"kind": "latency", "histogram": "lat", "matchers": draw(matchers(("job", "route"))),
         "quantile": draw(st.sampled_from([0.5, 0.9, 0.99])), "window": draw(st.sampled_from(WINDOWS[1:5])),
         "op": draw(st.sampled_from(["above", "below"]))}
    m.update(_common(draw, name, _num(0.1, 5)))
    return m, {"lat": {"type": "histogram", "unit": unit, "labels": list(labels)}}


def k_absent(draw, name, labels):
    m = {"kind": "absent", "metric": "heartbeat", "matchers": draw(matchers(("job",)))}
    m.update(_common(draw, name, None, allow_levels=False))
    return m, {"heartbeat": {"type": "gauge", "labels": list(labels)}}


def k_forecast(draw, name, labels):
    op = draw(st.sampled_from(["below", "above", "above_or_equal"]))
    m = {"kind": "forecast", "metric": "free", "matchers": draw(matchers(("job",))),
         "window": draw(st.sampled_from(["30m", "1h"])), "horizon": draw(st.sampled_from(["1h", "4h"])), "op": op}
    m.update(_common(draw, name, _num(0, 100) if op != "below" else (lambda d: 0.0)))
    return m, {"free": {"type": "gauge", "labels": list(labels)}}


def k_changes(draw, name, labels):
    fn = draw(st.sampled_from(["changes", "resets"]))
    m = {"kind": "changes", "metric": "started_total" if fn == "resets" else "started", "function": fn,
         "window": draw(st.sampled_from(["30m", "1h"])), "op": draw(st.sampled_from(["above", "above_or_equal"]))}
    m.update(_common(draw, name, lambda d: float(draw(st.integers(1, 3)))))
    return m, {m["metric"]: {"type": "counter" if fn == "resets" else "gauge", "labels": list(labels)}}


KIND_STRATEGIES = {
    "threshold": k_threshold, "flag": k_flag, "trend": k_trend, "failures": k_failures, "stalled": k_stalled,
    "ratio": k_ratio, "latency": k_latency, "absent": k_absent, "forecast": k_forecast, "changes": k_changes,
}
"""kind -> ``(draw, monitor name, service labels) -> (monitor, metric declarations)``; one entry per kind."""


@st.composite
def service(draw, kinds=tuple(KIND_STRATEGIES), max_monitors=4, name="svc"):
    labels = tuple(draw(st.lists(st.sampled_from(LABELS), unique=True, max_size=2)))
    svc = {"service": name, "team": "sre", "labels": list(labels), "metrics": {}, "monitors": []}
    if draw(st.booleans()):
        svc["source"] = {"type": "prometheus", "selector": draw(st.sampled_from(
            [{"namespace": "crew"}, {"job": "=~api|web"}, {"cluster": "!=dev"}]))}
    used = set()
    for i in range(draw(st.integers(1, max_monitors))):
        kind = draw(st.sampled_from(sorted(kinds)))
        if kind in used:  # one monitor per kind and service: metric declarations stay consistent
            continue
        used.add(kind)
        prefix = "".join(w.capitalize() for w in name.split("-") if w.isalnum())
        mon, metrics = KIND_STRATEGIES[kind](draw, f"{prefix}M{i}{kind.capitalize()}", labels)
        svc["monitors"].append(mon)
        svc["metrics"].update(metrics)
    return svc


@st.composite
def catalog(draw, kinds=tuple(KIND_STRATEGIES), max_monitors=4):
    """``{file name: service dict}`` of one or two services."""
    n = draw(st.integers(1, 2))
    return {f"svc{j}.yaml": draw(service(kinds=kinds, max_monitors=max_monitors, name=f"svc{j}")) for j in range(n)}
