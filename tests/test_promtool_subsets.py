"""``mlmon check`` runs each promtool test group against only the rules it can observe
(generators/prometheus/subsets.py). The parts must give promtool's verdict on the whole rendered file: the
seeds' and kinds' tests pass as parts, and a part missing a rule its alert needs fails (slow tier, promtool)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from conftest import CATALOG, requires_promtool
from generators.loader import load_catalog
from generators.prometheus.subsets import closure, split, subset
from generators.render import render, serialize_all
from generators.rendered import Rendered

KINDS = CATALOG.parent.parent / "kinds" / "alerts"

RULES = [{"groups": [
    {"name": "svc.slo.x", "interval": "1m", "rules": [
        {"record": "x:ratio", "expr": "sum(rate(err[5m])) / sum(rate(req[5m]))"},
        {"record": "x:ratio1h", "expr": "x:ratio"},
        {"alert": "XBurn", "expr": "x:ratio1h > 0.1", "for": "2m"}]},
    {"name": "svc.alerts", "interval": "1m", "rules": [
        {"alert": "Lag", "expr": "lag_seconds > 60", "for": "1d"},
        {"alert": "Meta", "expr": 'ALERTS{alertname="Lag"} == 1'},
        {"alert": "Any", "expr": '{__name__=~"lag.*"} > 1'}]}]}]


def test_an_alert_observes_its_rule_and_the_recordings_it_reads_transitively():
    assert closure(RULES, {"XBurn"}, []) == {(0, 0, 0), (0, 0, 1), (0, 0, 2)}
    assert closure(RULES, {"Lag"}, []) == {(0, 1, 0)}
    assert closure(RULES, set(), ["x:ratio"]) == {(0, 0, 0)}  # a recording's own test


def test_what_cannot_be_known_keeps_every_rule():
    assert closure(RULES, {"Meta"}, []) is None  # reads ALERTS, written by every alerting rule
    assert closure(RULES, {"Any"}, []) is None  # a selector not pinned to a metric name
    assert closure(RULES, {"Missing"}, []) is None  # no rule defines it: promtool reports as it does today


def test_a_subset_keeps_groups_order_and_every_other_key():
    got = subset(RULES, frozenset({(0, 0, 2), (0, 0, 0)}))
    assert got == {"groups": [{"name": "svc.slo.x", "interval": "1m",
                               "rules": [RULES[0]["groups"][0]["rules"][0], RULES[0]["groups"][0]["rules"][2]]}]}


def test_split_keeps_every_group_once_and_unchanged():
    doc = {"rule_files": ["svc.rules.yaml"], "evaluation_interval": "1m", "tests": [
        {"name": "a", "alert_rule_test": [{"alertname": "Lag", "eval_time": "1d"}]},
        {"name": "b", "alert_rule_test": [{"alertname": "Meta", "eval_time": "1m"}]},
        {"name": "c", "alert_rule_test": [{"alertname": "Lag", "eval_time": "1m"}]}]}
    parts = split(doc, RULES)
    assert [[g["name"] for g in p["tests"]] for p, _, _ in parts] == [["a", "c"], ["b"]]
    assert [n for _, _, n in parts] == [1, 6]
    assert parts[1][1] is None  # the whole rule file
    assert all(p["evaluation_interval"] == "1m" for p, _, _ in parts)


def _fires_through_recordings(part, rules) -> bool:
    """A check of the part expects an alert to fire whose expression reads a recording of ``rules``."""
    firing = {t["alertname"] for g in part["tests"] for t in g.get("alert_rule_test") or [] if t.get("exp_alerts")}
    recorded = {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    return any(r.get("alert") in firing and set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", r["expr"])) & recorded
               for g in rules["groups"] for r in g["rules"])


def _run_parts(rendered: Rendered, tmp_path, mutate=None) -> list[tuple[str, int, str]]:
    out = []
    for name in rendered.names("prometheus", ".tests.yaml"):
        doc = rendered.yaml(f"prometheus/{name}")
        rule_docs = [rendered.yaml(f"prometheus/{f}") for f in doc["rule_files"]]
        for k, (part, rules, _) in enumerate(split(doc, rule_docs) or [(doc, None, 0)]):
            if rules is None:
                continue
            if mutate:  # only a part expecting an alert to fire can notice a rule is gone
                rules = mutate(rules) if _fires_through_recordings(part, rules) else None
                if rules is None:
                    continue
            (tmp_path / f"{name}.{k}.rules.yaml").write_text(json.dumps(rules))
            part = {**part, "rule_files": [f"{name}.{k}.rules.yaml"]}
            (tmp_path / f"{name}.{k}.tests.yaml").write_text(json.dumps(part))
            r = subprocess.run([shutil.which("promtool"), "test", "rules", f"{name}.{k}.tests.yaml"],
                               cwd=tmp_path, capture_output=True, text=True)
            out.append((f"{name}.{k}", r.returncode, r.stdout + r.stderr))
    return out


@pytest.mark.parametrize("root", [CATALOG, KINDS], ids=["seeds", "kinds"])
@requires_promtool
def test_every_part_passes_as_the_whole_file_does(root, tmp_path):
    cat = load_catalog(root)
    runs = _run_parts(Rendered(serialize_all(render(cat, "prod")), "prod"), tmp_path)
    assert runs, "no part dropped a rule: the split is never exercised"
    assert [(n, out) for n, code, out in runs if code != 0] == []


@requires_promtool
def test_a_part_without_a_recording_its_alert_reads_fails(tmp_path):
    """Dropping a rule an alert needs cannot pass: its "fires at `for`" check fails (a part of quiet checks only
    cannot notice, which is why each alert's fires/resolves group is what proves its rules are all there)."""
    def drop_recordings(rules):
        kept = {"groups": [{**g, "rules": [r for r in g["rules"] if "record" not in r]} for g in rules["groups"]]}
        had = sum(len(g["rules"]) for g in rules["groups"])
        return kept if sum(len(g["rules"]) for g in kept["groups"]) < had else None

    runs = _run_parts(Rendered(serialize_all(render(load_catalog(KINDS), "prod")), "prod"), tmp_path, drop_recordings)
    assert runs and all(code != 0 for _, code, _ in runs), [n for n, code, _ in runs if code == 0]
