"""Every rendered dashboard against Grafana's own published dashboard types (@grafana/schema, turned into JSON
Schemas by scripts/grafana-schemas.py, one per targeted Grafana version), and the validator itself on
hand-made dashboards whose verdict is known without mlmon."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generators.grafana import published

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module", params=["seeds", "kinds"])
def rendered_dashboards(request):
    """``(number of hand-written dashboards, {(env, file name): dashboard})`` for every Grafana dashboard a fixture catalog renders (the seed
    copy, and the every-kind catalog whose hand-written dashboards use every helper)."""
    from generators.loader import load_catalog
    from generators.render import render

    catalog = load_catalog(FIXTURES / request.param / "alerts")
    handwritten = len(list((FIXTURES / request.param / "dashboards").glob("*.dashboard.py")))
    out = {}
    for env in catalog.defaults.environments:
        for a in render(catalog, env):
            if a.path.startswith("grafana/"):
                out[(env, a.path.removeprefix("grafana/"))] = json.loads(a.serialize())
    return handwritten, out


def test_every_rendered_dashboard_matches_grafanas_types(rendered_dashboards):
    handwritten, dashboards = rendered_dashboards
    names = {name.removesuffix(".json") for _, name in dashboards}
    assert len([n for n in names if not n.startswith("mlmon-")]) == handwritten > 0, "hand-written ones"
    assert any(n.startswith("mlmon-") for n in names), "and generated ones"
    problems = {key: published.validate(d) for key, d in dashboards.items()}
    assert {k: p for k, p in problems.items() if p} == {}


def test_the_targeted_grafana_versions_are_covered():
    """docs/dashboards.md claims Grafana 10.4 LTS, 11.x and 12.x: the first and the last release of each line
    are validated, and versions.json lists exactly the aliases tools/grafana-schema/package.json pins."""
    vs = published.versions()
    assert list(vs) == ["10.4.0", "10.4.19", "11.0.0", "11.6.16", "12.0.0", "12.4.11"]
    package = json.loads((ROOT / "tools" / "grafana-schema" / "package.json").read_text())
    aliases = {m[1]: spec for a, spec in package["dependencies"].items() if (m := re.match(r"grafana-schema-(.+)", a))}
    assert aliases == {v: f"npm:@grafana/schema@{v}" for v in vs}
    lock = json.loads((ROOT / "tools" / "grafana-schema" / "package-lock.json").read_text())
    for v in vs:
        entry = lock["packages"][f"node_modules/grafana-schema-{v}"]
        assert entry["version"] == v and entry["integrity"].startswith("sha512-")
    for v, meta in vs.items():
        schema = json.loads((published.DATA / meta["file"]).read_text())
        assert schema["$ref"] == "#/definitions/Dashboard"
        assert f"@grafana/schema {v}," in schema["$comment"]
        assert len(schema["definitions"]) == meta["definitions"] > 30


# Hand-made dashboards. The valid one follows the dashboard JSON model of Grafana's documentation; each
# invalid one breaks it in one way that Grafana's types forbid.
VALID = {
    "title": "Hand-made", "uid": "hand-made", "schemaVersion": 39, "editable": True, "graphTooltip": 1,
    "time": {"from": "now-6h", "to": "now"}, "timezone": "browser", "refresh": "1m", "tags": ["test"],
    "templating": {"list": [{"name": "ds", "type": "datasource", "query": "prometheus"}]},
    "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                              "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                              "name": "Annotations & Alerts", "type": "dashboard"}]},
    "panels": [
        {"type": "row", "title": "Row", "id": 1, "collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0},
         "panels": []},
        {"type": "timeseries", "title": "Series", "id": 2, "gridPos": {"h": 8, "w": 24, "x": 0, "y": 1},
         "datasource": {"type": "prometheus", "uid": "${ds}"},
         "targets": [{"refId": "A", "expr": "up"}],
         "fieldConfig": {"defaults": {"unit": "percentunit", "thresholds": {
             "mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": 0.9}]}},
             "overrides": []},
         "options": {"legend": {"showLegend": True}}},
    ],
}

INVALID = {
    "legacy grafanalib `rows` (schemaVersion 12)": (
        lambda d: d.update(rows=[{"panels": []}]), r"^\(dashboard\): Additional properties .*'rows' was unexpected"),
    "a panel's gridPos width as text": (
        lambda d: d["panels"][1]["gridPos"].update(w="24"), r'^panels\[1\] \(timeseries "Series"\)\.gridPos\.w: .* not of type'),
    "a panel link with only title and url": (
        lambda d: d["panels"][1].update(links=[{"title": "Runbook", "url": "https://example.com"}]),
        r"^panels\[1\] .*\.links\[0\]: missing required key\(s\) asDropdown, icon, includeVars, keepTime, tags, "
        r"targetBlank, tooltip, type"),
    "a row carrying targets (judged as a row, not as a panel)": (
        lambda d: d["panels"][0].update(targets=[{"refId": "A"}]), r'^panels\[0\] \(row "Row"\): Additional .*targets'),
    "a variable's current value without value": (
        lambda d: d["templating"]["list"][0].update(current={"text": "x"}),
        r"^templating\.list\[0\] .*\.current: missing required key\(s\) value"),
    "an unknown threshold mode": (
        lambda d: d["panels"][1]["fieldConfig"]["defaults"]["thresholds"].update(mode="relative"),
        r"thresholds\.mode: 'relative' is not one of"),
    "no schemaVersion": (lambda d: d.pop("schemaVersion"), r"missing required key\(s\) schemaVersion"),
}


def test_a_hand_made_dashboard_is_valid():
    assert published.validate(json.loads(json.dumps(VALID))) == []


@pytest.mark.parametrize("case", list(INVALID))
def test_hand_made_mistakes_are_found_with_their_path(case):
    mutate, pattern = INVALID[case]
    d = json.loads(json.dumps(VALID))
    mutate(d)
    problems = published.validate(d)
    assert problems, case
    assert any(re.search(pattern, p) for p in problems), problems
    assert all(p.endswith("every targeted version)") for p in problems), problems


def test_the_verify_step_names_the_file(tmp_path):
    (tmp_path / "grafana").mkdir()
    good = json.loads(json.dumps(VALID))
    bad = json.loads(json.dumps(VALID))
    bad["panels"][1]["gridPos"]["w"] = "24"
    (tmp_path / "grafana" / "good.json").write_text(json.dumps(good))
    (tmp_path / "grafana" / "bad.json").write_text(json.dumps(bad))
    (tmp_path / "grafana" / "broken.json").write_text("{")
    failures = published.published_types_step(tmp_path, None, "dev")
    assert [f.split(":")[0] for f in failures] == ["grafana/bad.json (dev)", "grafana/broken.json (dev)"]
    assert "panels[1]" in failures[0] and "not JSON" in failures[1]
