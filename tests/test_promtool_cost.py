"""The generated promtool tests are cheap (generators/prometheus/unittests.py ``pack``, the ratio scenario's
recovery) without changing what each alert's checks prove. promtool itself runs them in the slow tier
(tests/test_prometheus.py, tests/test_golden.py's renders, the mutation tests there)."""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import CATALOG
from generators.durations import parse_duration
from generators.loader import load_catalog
from generators.prometheus import unittests
from generators.resolve import resolve

KINDS = CATALOG.parent.parent / "kinds" / "alerts"


@pytest.fixture(scope="module", params=["seeds", "kinds"])
def services(request):
    cat = load_catalog(CATALOG if request.param == "seeds" else KINDS)
    return [rs for env in cat.defaults.environments for rs in resolve(cat, env) if rs.is_prometheus and rs.alerts]


def test_packing_keeps_every_check_and_its_own_series(services):
    for rs in services:
        per_alert = [(a.name, unittests.alert_tests(a, rs)) for a in rs.alerts]
        packed = unittests.test_file(rs)["tests"]
        alone = [g for _, gs in per_alert for g in gs]
        assert len(packed) <= len(alone)
        # the same checks, each once
        def checks(groups):
            return Counter(repr(sorted(t.items())) for g in groups
                           for t in [*g.get("alert_rule_test", ()), *g.get("promql_expr_test", ())])

        assert checks(packed) == checks(alone), rs.name
        # every original group is inside exactly one packed group, with all its series
        for g in alone:
            homes = [p for p in packed if g["name"] in p["name"].split(" | ")]
            assert len(homes) == 1, g["name"]
            assert all(s in homes[0]["input_series"] for s in g["input_series"])
            for kind in ("alert_rule_test", "promql_expr_test"):
                assert all(t in homes[0].get(kind, ()) for t in g.get(kind, ()))


def test_packed_groups_are_isolated(services):
    for rs in services:
        reads = unittests.reads(rs)
        for g in unittests.test_file(rs)["tests"]:
            members = g["name"].split(" | ")
            alerts = [m.split(": ", 1)[0] for m in members]
            assert len(alerts) == len(set(alerts)), g["name"]  # never two groups of one alert
            if len(alerts) == 1:
                continue
            for alert in alerts:
                assert reads[alert] is not None
            # no alert reads a metric of another member's series: each member sees only its own series
            own = {a: set() for a in alerts}
            for a, gs in [(a.name, unittests.alert_tests(a, rs)) for a in rs.alerts if a.name in own]:
                for sub in gs:
                    if sub["name"] in members:
                        own[a] |= {s["series"].split("{")[0] for s in sub["input_series"]}
            for a in alerts:
                others = set().union(*(own[b] for b in alerts if b != a))
                assert not (reads[a] & others), (a, g["name"])


def test_an_alert_that_may_read_any_series_is_tested_alone():
    groups = [("A", [{"name": "A: fires", "interval": "1m", "input_series": [{"series": "a", "values": "1"}],
                      "alert_rule_test": [{"eval_time": "1m", "alertname": "A", "exp_alerts": []}]}]),
              ("B", [{"name": "B: fires", "interval": "1m", "input_series": [{"series": "b", "values": "1"}],
                      "alert_rule_test": [{"eval_time": "2m", "alertname": "B", "exp_alerts": []}]}]),
              ("C", [{"name": "C: fires", "interval": "1m", "input_series": [{"series": "c", "values": "1"}],
                      "alert_rule_test": [{"eval_time": "2m", "alertname": "C", "exp_alerts": []}]}])]
    packed = unittests.pack(groups, {"A": {"a"}, "B": None, "C": {"c"}})
    assert [g["name"] for g in packed] == ["A: fires | C: fires", "B: fires"]
    # C reads A's metric: apart
    packed = unittests.pack(groups, {"A": {"a"}, "B": None, "C": {"c", "a"}})
    assert [g["name"] for g in packed] == ["A: fires", "B: fires", "C: fires"]


def test_reads_follow_recording_rules_and_refuse_alerts_series():
    from generators.promql import selected_metrics

    assert selected_metrics('sum(rate(a{x="1"}[5m])) / b > 0 unless absent(c)') == {"a", "b", "c"}
    assert selected_metrics('{__name__=~"a.*"} > 0') is None
    assert selected_metrics('ALERTS{alertname="X"}') == {"ALERTS"}
    for rs in load_services(KINDS):
        reads = unittests.reads(rs)
        assert set(reads) == {a.name for a in rs.alerts}
        for a in rs.alerts:
            if a.kind == "ratio" and a.burn in ("fast", "slow"):  # its recordings, and through them the counters
                assert reads[a.name] is not None and any(":" in n for n in reads[a.name])
                assert {s.metric for s in a.monitor.total} <= reads[a.name]


def test_a_recorded_name_shared_by_several_slos_reads_every_one_of_their_metrics():
    """Every ratio SLO records the same names (told apart by the `slo` label): a reader depends on them all."""
    for rs in load_services(KINDS):
        reads = unittests.reads(rs)
        slos = [a for a in rs.alerts if a.kind == "ratio" and a.burn in ("fast", "slow")]
        every = set().union(*({s.metric for s in a.monitor.total} for a in slos))
        for a in slos:
            assert every <= reads[a.name], a.name


def load_services(root):
    cat = load_catalog(root)
    return [rs for rs in resolve(cat, "prod") if rs.is_prometheus and rs.alerts]


def test_slo_tests_resolve_within_steps_not_hours(services):
    """A ratio SLO's fires/resolves group used to wait for its longest short window (6h) after recovery; the
    recovery's traffic now brings every window under the burn thresholds at once."""
    seen = 0
    for rs in services:
        iv = rs.defaults.evaluation_interval
        for a in rs.alerts:
            if a.kind != "ratio" or a.burn not in ("fast", "slow"):
                continue
            fires = unittests.alert_tests(a, rs)[0]
            times = [parse_duration(t["eval_time"]) for t in fires["alert_rule_test"]]
            assert max(times) <= -(-a.for_ // iv) * iv + 5 * iv, (a.name, times)
            seen += 1
    assert seen
