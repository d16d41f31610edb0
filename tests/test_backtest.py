"""``mlmon backtest`` without a Prometheus: the state machine against a transliteration of Prometheus'
``AlertingRule.Eval``, chunking, inlining and the signal parser on the fixture catalog's rendered rules, rule
selection, reports, and bad input (no traceback, clear message, non-zero exit). The real-Prometheus and
promtool checks are in ``test_backtest_prometheus.py`` (slow tier)."""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import requires_promtool, run_cli
from conftest_diff import init_repo, write

from generators.backtest import engine
from generators.backtest.client import MAX_POINTS, Prometheus, PrometheusError, chunks
from generators.backtest.promql import InlineError, inline, selector_texts, signal
from generators.backtest.rules import AlertRule, Recording, rules_from_artifacts, rules_from_file

ROOT = Path(__file__).resolve().parent.parent
KINDS = ROOT / "tests" / "fixtures" / "backtest" / "kinds"


# --- the state machine --------------------------------------------------------------------------------


def reference_firing(present: set[int], n: int, for_: int, kff: int, interval: int) -> list[int]:
    """Steps at which ONE label set's alert is firing: ``rules/alerting.go`` (``AlertingRule.Eval``) line by
    line, one evaluation at a time (written from the Go source, independently of ``engine``)."""
    alert = None  # {"state", "active_at", "keep_since"}
    out = []
    for i in range(n):
        ts = i * interval
        if i in present:
            if alert is not None and alert["state"] != "inactive":
                alert["keep_since"] = None  # "The alert is firing, reset keepFiringSince"
            else:
                alert = {"state": "pending", "active_at": ts, "keep_since": None}
            if alert["state"] == "pending" and ts - alert["active_at"] >= for_:
                alert["state"] = "firing"
        elif alert is not None:
            keep = False
            if alert["state"] == "firing" and kff > 0:
                if alert["keep_since"] is None:
                    alert["keep_since"] = ts
                keep = ts - alert["keep_since"] < kff
            if alert["state"] == "pending":
                alert = None  # deleted
            elif not keep:
                alert["state"] = "inactive"
        if alert is not None and alert["state"] == "firing":
            out.append(i)
    return out


def engine_firing(present: set[int], n: int, for_: int, kff: int, interval: int) -> list[int]:
    iv = engine.steps_for
    spans = engine.firing_intervals(sorted(present), n, iv(for_, interval), iv(kff, interval))
    return [s for a, b in spans for s in range(a, b)]


CASES = {
    "for 0 fires at the first evaluation": ({3, 4}, 8, 0, 0, [3, 4]),
    "for 2m fires at the third consecutive evaluation": ({1, 2, 3, 4}, 8, 120, 0, [3, 4]),
    "a run shorter than for stays pending": ({1, 2}, 8, 180, 0, []),
    "a gap resets the pending state": ({1, 2, 4, 5}, 8, 120, 0, []),
    "for between two evaluations rounds up": ({0, 1, 2, 3}, 6, 90, 0, [2, 3]),
    "keep_firing_for 3m holds the alert three evaluations": ({1, 2, 3, 4}, 12, 120, 180, [3, 4, 5, 6, 7]),
    "a comeback inside keep_firing_for is the same episode": ({1, 2, 3, 6, 7}, 12, 60, 180, [2, 3, 4, 5, 6, 7, 8, 9, 10]),
    "a comeback right after keep_firing_for ends is the same episode": ({0, 1, 5}, 8, 0, 180, list(range(0, 8))),
    "keep_firing_for never holds a pending alert": ({1, 2}, 8, 180, 600, []),
    "still firing at the end of the range": ({5, 6, 7}, 8, 0, 0, [5, 6, 7]),
}


@pytest.mark.parametrize("present,n,for_,kff,expected", CASES.values(), ids=CASES.keys())
def test_state_machine_cases(present, n, for_, kff, expected):
    assert reference_firing(present, n, for_, kff, 60) == expected
    assert engine_firing(present, n, for_, kff, 60) == expected


@settings(max_examples=400, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=80), st.integers(0, 7), st.integers(0, 7),
       st.sampled_from([30, 60]), st.sampled_from([0, 1, 29, 30, 31]))
def test_state_machine_equals_prometheus_eval_loop(bits, for_steps, kff_steps, interval, jitter):
    present = {i for i, b in enumerate(bits) if b}
    for_ = max(0, for_steps * interval - (jitter if for_steps else 0))
    kff = max(0, kff_steps * interval - (jitter if kff_steps else 0))
    assert engine_firing(present, len(bits), for_, kff, interval) == reference_firing(present, len(bits), for_,
                                                                                     kff, interval)


def test_episodes_are_clipped_to_the_reported_range_and_flagged():
    grid = engine.Grid(start=1000, interval=60, n=10, report_from=3)
    eps = engine.episodes({(("t", "a"),): [0, 1, 2, 3, 4], (("t", "b"),): [8, 9]}, grid, for_=60, keep_firing_for=0)
    assert eps == [engine.Episode((("t", "a"),), 1000 + 3 * 60, 1000 + 5 * 60, ongoing=False, before=True),
                   engine.Episode((("t", "b"),), 1000 + 9 * 60, 1000 + 10 * 60, ongoing=True, before=False)]
    base = [engine.Episode((("t", "a"),), 0, 100), engine.Episode((("t", "a"),), 200, 300)]
    head = [engine.Episode((("t", "a"),), 250, 400), engine.Episode((("t", "b"),), 0, 100)]
    assert engine.only_in(base, head) == [base[0]]
    assert engine.only_in(head, base) == [head[1]]


# --- chunking ------------------------------------------------------------------------------------------


@given(st.integers(0, 10**6), st.integers(0, 50_000), st.sampled_from([15, 30, 60, 300]), st.integers(2, 12_000))
def test_chunks_cover_the_grid_once_and_stay_under_the_limit(start, n, step, max_points):
    end = start + n * step
    parts = chunks(start, end, step, max_points)
    points = [t for s, e in parts for t in range(s, e + 1, step)]
    assert points == list(range(start, end + 1, step))
    assert all((e - s) // step + 1 <= max_points for s, e in parts)
    assert all((e - s) / step <= 11_000 for s, e in chunks(start, end, step))  # Prometheus' own check
    assert MAX_POINTS == 11_000


# --- rules, inlining and the signal -------------------------------------------------------------------


@pytest.fixture(scope="module")
def kinds_rules():
    from generators.loader import load_catalog
    from generators.render import render

    return rules_from_artifacts(render(load_catalog(KINDS), "prod"))


def test_rules_come_from_the_rendered_rule_file(kinds_rules):
    r = kinds_rules["BtQueueDepthHigh"]
    assert (r.service, r.group, r.interval, r.for_, r.keep_firing_for) == ("bt-app", "bt-app.alerts", 60, 180, 0)
    assert r.expr == "bt_queue_depth > 25" and r.label_dict["severity"] == "ticket"
    fast = kinds_rules["BtAvailabilityFastBurn"]
    assert fast.group == "bt-app.slo.BtAvailability"
    assert {rec.record for rec in fast.recordings} >= {"mlmon_slo:error_ratio:rate5m", "mlmon_slo:events:rate1h"}
    kff = rules_from_file("x.rules.yaml", {"groups": [{"name": "g", "rules": [
        {"alert": "A", "expr": "up == 0", "for": "90s", "keep_firing_for": "5m"}]}]}, default_interval=30)
    assert (kff[0].interval, kff[0].for_, kff[0].keep_firing_for) == (30, 90, 300)


def test_slo_alerts_read_their_recordings_inlined(kinds_rules):
    import promql_parser

    inl = inline(kinds_rules["BtAvailabilityFastBurn"])
    assert not any(name.startswith("mlmon_slo:") for name in _names(inl.expr)), inl.expr
    assert set(_names(inl.expr)) == {"bt_errors_total", "bt_requests_total"}
    assert 'label_replace(' in inl.expr and '"slo", "BtAvailability"' in inl.expr
    assert inl.recordings == ["mlmon_slo:error_ratio:rate1h", "mlmon_slo:error_ratio:rate5m",
                              "mlmon_slo:events:rate5m", "mlmon_slo:error_ratio:rate6h",
                              "mlmon_slo:error_ratio:rate30m", "mlmon_slo:events:rate30m"]
    assert inl.notes == []
    promql_parser.parse(inl.expr)
    # an alert without recordings is evaluated verbatim
    plain = kinds_rules["BtQualityLow"]
    assert inline(plain).expr == plain.expr


def _names(expr):
    return [s.split("{")[0] for s in selector_texts(expr)]


def _rule(expr, recordings, **kw):
    recs = tuple(Recording(r, e, tuple(sorted(labels.items())), kw.pop("rec_group", "g"), i)
                 for i, (r, e, labels) in enumerate(recordings))
    return AlertRule(alert="A", service="s", file="f", group="g", interval=60, expr=expr, recordings=recs,
                     index=len(recs) + 1, **kw)


def test_inlining_range_selectors_become_subqueries_and_matchers_pick_the_recording():
    rule = _rule('avg_over_time(r:x{k="1"}[10m] offset 5m) > 3 and r:x{k="2"} > 1',
                 [("r:x", "sum(a)", {"k": "1"}), ("r:x", "sum(b)", {"k": "2"})])
    expr = inline(rule).expr
    assert "[10m:1m] offset 5m" in expr and "sum(a)" in expr and "sum(b)" in expr
    assert expr.index("sum(a)") < expr.index("sum(b)")
    both = inline(_rule("r:x > 1", [("r:x", "sum(a)", {"k": "1"}), ("r:x", "sum(b)", {"k": "2"})])).expr
    assert "sum(a)" in both and "sum(b)" in both and ") or (" in both
    nested = inline(_rule("r:y > 1", [("r:x", "sum(a)", {}), ("r:y", "r:x * 2", {})])).expr
    assert "sum(a)" in nested and "r:x" not in nested.replace('"r:x"', "")


CANNOT = {
    "a matcher on a label the recording does not set": ('r:x{tenant="a"} > 1', [("r:x", "sum by (tenant) (a)", {})]),
    "an offset on an instant selector of a recording": ("r:x offset 5m > 1", [("r:x", "sum(a)", {})]),
    "recordings that read each other": ("r:x > 1", [("r:x", "r:y", {}), ("r:y", "r:x", {})]),
}


@pytest.mark.parametrize("expr,recs", CANNOT.values(), ids=CANNOT.keys())
def test_what_cannot_be_inlined_exactly_is_an_error(expr, recs):
    with pytest.raises(InlineError):
        inline(_rule(expr, recs))


def test_a_recording_of_another_group_is_inlined_with_a_note():
    inl = inline(_rule("r:x > 1", [("r:x", "sum(a)", {})], rec_group="other"))
    assert "sum(a)" in inl.expr and inl.notes and "one interval" in inl.notes[0]


@requires_promtool
def test_inlined_expressions_are_valid_for_prometheus(kinds_rules, tmp_path):
    rules = [{"alert": f"A{i}", "expr": inline(r).expr} for i, r in enumerate(kinds_rules.values())]
    rules += [{"record": f"s:{i}", "expr": signal(inline(r).expr).expr} for i, r in enumerate(kinds_rules.values())]
    (tmp_path / "r.yaml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": rules}]}))
    r = subprocess.run(["promtool", "check", "rules", str(tmp_path / "r.yaml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


SIGNALS = {
    "a smoothed threshold compares its average": ("BtQualityLow", "avg_over_time(bt_quality_score[5m])", "<", 0.7),
    "a plain threshold compares the gauge": ("BtQueueDepthHigh", "bt_queue_depth", ">", 25),
    "a guarded ratio compares the ratio, not the guard": ("BtErrorRatioHigh", None, ">", 0.1),
    "a flag compares the gauge": ("BtDegraded", "bt_degraded", "==", 1),
    "a trend compares the scaled slope": ("BtAccuracyDeclining", "deriv(bt_accuracy[30m]) * 3600", "<", -0.5),
    "failures compare the increase (a new counter from zero)":
        ("BtFailures", "((bt_failed_total unless bt_failed_total offset 10m) and on (job, instance) up offset 10m) "
                       "or increase(bt_failed_total[10m])", ">", 0),
    "stalled compares the backlog": ("BtStalled", "bt_backlog", ">", 0),
    "a burn alert compares its first long window with factor x budget":
        ("BtAvailabilityFastBurn", 'mlmon_slo:error_ratio:rate1h{service="bt-app",slo="BtAvailability"}', ">", 0.144),
    "latency compares the quantile": ("BtLatencyHigh", None, ">", 0.5),
    "absent plots how many series there are": ("BtHeartbeatMissing", "count(bt_heartbeat) or vector(0)", None, None),
    "a raw composition compares its first comparison": ("BtQueueWhileHealthy", "max by (tenant) (bt_queue_depth)", ">", 50),
}


@pytest.mark.parametrize("alert,expr,op,threshold", SIGNALS.values(), ids=SIGNALS.keys())
def test_the_signal_is_the_compared_side(kinds_rules, alert, expr, op, threshold):
    s = signal(kinds_rules[alert].expr)
    if expr is not None:
        assert " ".join(s.expr.split()) == expr
    assert s.op == op and s.threshold == (pytest.approx(threshold) if threshold is not None else None)


def test_signal_flips_a_number_on_the_left_and_ignores_bool():
    assert signal("0.7 > avg_over_time(x[5m])") == signal("avg_over_time(x[5m]) < 0.7")
    assert signal("x > bool 1").threshold is None
    assert signal("x > y").expr == "x" and signal("x > y").threshold is None


# --- selection, reports ---------------------------------------------------------------------------------


def test_select_picks_what_can_fire_differently():
    from generators.backtest.run import describe_changes, select

    def r(expr="x > 1", **kw):
        return AlertRule(alert=kw.pop("alert", "A"), service="s", file="f", group="g", interval=60, expr=expr, **kw)

    base = {"A": r(), "B": r(alert="B"), "C": r(alert="C"), "D": r(alert="D", labels=(("severity", "x"),))}
    head = {"A": r("x > 2"), "B": r(alert="B", for_=300), "D": r(alert="D", labels=(("severity", "y"),)),
            "E": r(alert="E")}
    picked = {n: (b, h) for n, b, h in select(base, head)}
    assert sorted(picked) == ["A", "B", "C", "E"]  # D only changed a label
    assert describe_changes(*picked["A"]) == ["threshold 1 -> 2"]
    assert describe_changes(*picked["B"]) == ["for 0s -> 5m"]
    assert describe_changes(*picked["C"]) == ["removed"] and describe_changes(*picked["E"]) == ["added"]
    assert [n for n, _, _ in select(base, head, ["D"])] == ["D"]
    assert sorted(n for n, _, _ in select(None, head)) == ["A", "B", "D", "E"]


def _fake_backtest():
    from generators.backtest.engine import Episode, Grid
    from generators.backtest.run import AlertBacktest, Backtest, Side

    rule = AlertRule(alert="A", service="s", file="f", group="g", interval=60, expr="x > 1", for_=120)
    grid = Grid(0, 60, 100)
    ok = Side(rule, expr="x > 1", signal=signal("x > 1"), grid=grid,
              episodes=[Episode((("t", "a"),), 600, 900), Episode((("t", "b"),), 1200, 1260)])
    quiet = Side(rule, expr="x > 1", signal=signal("x > 1"), grid=grid, episodes=[])
    nodata = Side(rule, expr="y > 1", signal=signal("y > 1"), grid=grid, status="no_data", missing=["y"])
    alerts = [AlertBacktest("A", "s", "prod", ["threshold 1 -> 2"], ok, quiet, only_base=ok.episodes),
              AlertBacktest("B", "s", "prod", ["added"], None, nodata)]
    return Backtest("http://prom:9090", "prod", "origin/main", "working tree", 0, 5940, alerts, queries=3)


def test_json_is_one_object_with_the_keys_the_issue_names():
    from generators.backtest.report import format_json

    data = json.loads(format_json(_fake_backtest()))  # exactly one JSON document
    a, b = data["alerts"]
    assert {"alert", "env", "base", "head"} <= set(a)
    for side in (a["base"], a["head"], b["head"]):
        assert {"episodes", "firing_seconds", "first", "last"} <= set(side)
    assert {k: a["base"][k] for k in ("episodes", "firing_seconds", "first", "last")} == {
        "episodes": 2, "firing_seconds": 360, "first": "1970-01-01T00:10:00Z", "last": "1970-01-01T00:20:00Z"}
    assert a["head"]["episodes"] == 0 and a["head"]["first"] is None
    assert b["base"] is None and b["head"]["status"] == "no_data" and b["head"]["episodes"] is None
    assert a["only_base"][0] == {"labels": {"t": "a"}, "start": "1970-01-01T00:10:00Z",
                                 "end": "1970-01-01T00:15:00Z", "seconds": 300, "ongoing": False, "before": False}


def test_text_and_markdown_tell_no_data_from_never_fires():
    from generators.backtest.report import format_markdown, format_text

    text = format_text(_fake_backtest())
    assert "  head  never fires" in text
    assert "  head  no data: y has no series between" in text and "(not judged)" in text
    assert "  base  not in the base revision" in text
    md = format_markdown(_fake_backtest())
    assert md.startswith("<!-- mlmon-backtest -->")
    assert "| `A` | threshold 1 -> 2 | 2 / 6m | never fires | 2 | 0 |  |" in md
    assert "| `B` | added | — | **no data** | — | — |  |" in md


def test_progress_bar_only_on_a_terminal():
    import io

    from generators.backtest.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    quiet = io.StringIO()
    p = Progress(stream=quiet)
    p.start(3), p.advance(1), p.finish()
    assert quiet.getvalue() == ""
    tty = Tty()
    p = Progress(stream=tty)
    p.start(4)
    p.advance(4, "query")
    assert "[" in tty.getvalue() and "4/4 queries" in tty.getvalue()


def test_matplotlib_is_not_imported_without_plots():
    code = ("import sys, generators.cli.backtest, generators.backtest.run, generators.backtest.report; "
            "sys.exit('matplotlib' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


# --- bad input ---------------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """A web server on 127.0.0.1 that is not Prometheus."""

    def __init__(self, body: bytes, ctype: str, status: int = 200):
        class H(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def shop_repo(tmp_path, monkeypatch):
    from test_backtest_prometheus import DEFAULTS, SHOP_V1, SHOP_V2

    repo, _ = init_repo(tmp_path / "repo", {"alerts/_defaults.yaml": DEFAULTS, "alerts/shop.yaml": SHOP_V1})
    write(repo, {"alerts/shop.yaml": SHOP_V2})
    monkeypatch.chdir(repo)
    return repo


def _no_traceback(r):
    assert "Traceback" not in r.out + r.err and "internal error" not in r.err


@pytest.mark.parametrize("server", [
    (b"<html><body>Grafana</body></html>", "text/html", 200),
    (b"404 page not found", "text/plain", 404),
    (b'{"hello": "world"}', "application/json", 200),
    (b'{"status": "success", "data": {"resultType": "vector", "result": []}}', "application/json", 200),
], ids=["html", "404", "other-json", "no-scalar"])
def test_a_url_that_is_not_prometheus(shop_repo, server):
    srv = _Server(*server)
    try:
        r = run_cli("backtest", "--prometheus", srv.url, "--base", "HEAD")
    finally:
        srv.close()
    assert r.code == 1 and "does not answer like a Prometheus API" in r.err, r.err
    _no_traceback(r)


def test_an_unreachable_prometheus(shop_repo):
    r = run_cli("backtest", "--prometheus", f"http://127.0.0.1:{_closed_port()}", "--base", "HEAD")
    assert r.code == 1 and "cannot reach Prometheus at http://127.0.0.1:" in r.err
    _no_traceback(r)


BAD_USAGE = {
    "no URL": ((), "--prometheus URL is required"),
    "not an http URL": (("--prometheus", "prometheus:9090"), "is not an http(s) URL"),
    "a bad range": (("--range", "a week"), "--range:"),
    "start after end": (("--start", "2024-05-02", "--end", "2024-05-01"), "the range is empty"),
    "a bad time": (("--start", "yesterday"), "--start 'yesterday': expected RFC 3339"),
    "an unknown alert": (("--alert", "NoSuchAlert"), "unknown alert NoSuchAlert in prod"),
    "an unknown environment": (("--env", "qa"), "unknown environment 'qa'"),
    "an unknown revision": (("--base", "no-such-rev"), "unknown revision 'no-such-rev'"),
    "plots-url without plots": (("--plots-url", "https://x"), "--plots-url needs --plots"),
}


@pytest.mark.parametrize("args,message", BAD_USAGE.values(), ids=BAD_USAGE.keys())
def test_bad_usage_is_exit_2_with_a_message(shop_repo, monkeypatch, args, message):
    monkeypatch.delenv("MLMON_PROMETHEUS_URL", raising=False)
    url = () if args == () or args[0] == "--prometheus" else ("--prometheus", f"http://127.0.0.1:{_closed_port()}")
    r = run_cli("backtest", *url, *args)
    assert r.code == 2 and message in r.err, r.err
    _no_traceback(r)


def test_a_base_revision_without_the_catalog(tmp_path, monkeypatch):
    from test_backtest_prometheus import DEFAULTS, SHOP_V1

    repo, first = init_repo(tmp_path / "repo", {"README.md": "no catalog yet\n"})
    write(repo, {"alerts/_defaults.yaml": DEFAULTS, "alerts/shop.yaml": SHOP_V1})
    monkeypatch.chdir(repo)
    r = run_cli("backtest", "--prometheus", f"http://127.0.0.1:{_closed_port()}", "--base", first)
    assert r.code == 2 and f"the catalog directory alerts/ does not exist at {first}" in r.err
    _no_traceback(r)


def test_basic_auth_from_the_url_and_a_bearer_token(monkeypatch):
    p = Prometheus("https://user:s%40cret@prom.example:9443/prefix/")
    assert p.url == "https://prom.example:9443/prefix" and p.headers["Authorization"].startswith("Basic ")
    monkeypatch.setenv("MLMON_PROMETHEUS_TOKEN", "tok")
    assert Prometheus("http://prom:9090").headers["Authorization"] == "Bearer tok"
    with pytest.raises(PrometheusError):
        Prometheus("prom:9090")


def test_cli_is_registered():
    r = run_cli("backtest", "--help")
    assert r.code == 0 and "--prometheus" in r.out and "keep_firing_for" in r.out
    assert shutil.which("git")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 50), st.integers(1, 10)), max_size=12),
       st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 50), st.integers(1, 10)), max_size=12))
def test_only_in_is_no_overlapping_episode_with_the_same_labels(mine, theirs):
    def eps(items):
        return [engine.Episode((("t", t),), s, s + n) for t, s, n in items]

    m, o = eps(mine), eps(theirs)
    assert engine.only_in(m, o) == [e for e in m if not any(e.overlaps(x) for x in o)]
