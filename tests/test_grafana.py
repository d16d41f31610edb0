"""Generated and hand-written Grafana dashboards: thresholds from the catalog, modern schema, ConfigMaps,
byte-identical renders, and the checks of `mlmon check`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generators.alertmeta import dashboard_uid
from generators.errors import CatalogError
from generators.grafana.checks import Known, dashboard_problems, grafana_step, iter_panels
from generators.loader import load_catalog
from generators.kinds import alert_expr
from generators.promql import CMP
from generators.render import render, serialize_all, write_atomic
from generators.resolve import resolve

from conftest_grafana import REPO, SEEDS, env_with_repo

SEED_DASHBOARDS = {  # hand-written dashboards of the seeds: uid -> (title, service)
    "agent-quality": ("Agent Quality", "function-gemma-agent"),
    "orchestrator-ml-predictions": ("Orchestrator ML Predictions", "neural-hive-specialists"),
    "rag-pipeline-operations": ("RAG Pipeline Operations", "rag-enterprise-pipeline"),
    "rl-feedback-loop": ("RL Feedback Loop", "rl-feedback-loop"),
    "boltit-pilot": ("BoltIT Pilot", "boltit-pilot"),
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(SEEDS / "alerts")


@pytest.fixture(scope="module")
def prod(catalog):
    return {a.path: a for a in render(catalog, "prod")}


def dash(artifacts, uid):
    return artifacts[f"grafana/{uid}.json"].content


def steps_of(panel):
    return panel["fieldConfig"]["defaults"]["thresholds"]["steps"]


def panel_titled(d, title):
    found = [p for p in iter_panels(d["panels"]) if p["title"] == title]
    assert len(found) == 1, f"{title!r} in {[p['title'] for p in iter_panels(d['panels'])]}"
    return found[0]


def copy_repo(tmp_path):
    shutil.copytree(SEEDS / "alerts", tmp_path / "alerts")
    shutil.copytree(SEEDS / "dashboards", tmp_path / "dashboards")
    return tmp_path


# --- outputs ---------------------------------------------------------------------------------------


def test_one_generated_dashboard_per_service_and_every_seed_dashboard(catalog, prod):
    for s in catalog.services:
        d = dash(prod, dashboard_uid(s.service))
        assert d["uid"] == dashboard_uid(s.service)
        assert s.service in d["tags"]
    for uid, (title, service) in SEED_DASHBOARDS.items():
        d = dash(prod, uid)
        assert d["title"] == title
        assert prod[f"grafana/{uid}.json"].service == service


def test_modern_schema_without_legacy_keys(prod):
    for path, a in prod.items():
        if not path.startswith("grafana/"):
            continue
        d = a.content
        assert d["schemaVersion"] == 39
        assert not {"rows", "sharedCrosshair", "style", "hideControls", "__inputs", "gnetId"} & set(d), path
        for p in iter_panels(d["panels"]):
            assert p["type"] in {"row", "timeseries", "stat", "table"}, (path, p["type"])
            assert not {"span", "height", "minSpan", "error", "editable"} & set(p), (path, p["title"])
            assert set(p["gridPos"]) == {"x", "y", "w", "h"}
            if p["type"] != "row":
                assert isinstance(p["datasource"], dict) and p["datasource"]["uid"] == "${datasource}"
                for t in p["targets"]:
                    assert isinstance(t["datasource"], dict)
                    assert not {"query", "target", "metric", "step", "intervalFactor"} & set(t)
        assert d["templating"]["list"][0]["type"] == "datasource"


def test_template_variables_are_the_datasource_and_the_service_labels(prod):
    d = dash(prod, dashboard_uid("rl-feedback-loop"))
    names = [v["name"] for v in d["templating"]["list"]]
    assert names == ["datasource", "tenant", "workspace"]
    assert d["templating"]["list"][2]["query"] == \
        'label_values(rl_feedback_failed_total{tenant=~"$tenant"}, workspace)'
    queue = panel_titled(d, "rl_feedback_queue_depth")
    assert queue["targets"][0]["expr"] == 'rl_feedback_queue_depth{tenant=~"$tenant",workspace=~"$workspace"}'
    spec = dash(prod, "orchestrator-ml-predictions")
    assert [v["name"] for v in spec["templating"]["list"]] == ["datasource", "specialist_type"]


def test_panels_plot_the_alert_expression_and_draw_its_thresholds(catalog, prod):
    """For services without label variables the plotted expression is exactly the alert's left-hand side."""
    checked = 0
    for rs in resolve(catalog, "prod"):
        if not rs.is_prometheus or rs.service.labels:
            continue
        d = dash(prod, dashboard_uid(rs.name))
        exprs = {t["expr"]: p for p in iter_panels(d["panels"]) for t in p.get("targets", [])}
        for a in rs.alerts:
            if a.kind not in ("threshold", "latency", "failures", "trend", "flag"):
                continue
            rule = alert_expr(a, rs)
            op = "==" if a.kind == "flag" else CMP[getattr(a.monitor, "op", "above")]
            matches = [(e, p) for e, p in exprs.items()
                       if rule.startswith((f"{e} {op} ", f"(\n{e}\n) {op} ", f"({e}) {op} "))]
            assert matches, f"no panel plots the left-hand side of {a.name}: {rule}"
            _, panel = matches[0]
            values = [s["value"] for s in steps_of(panel) if s["value"] is not None]
            bound = float(rule.split("\nand\n")[0].rsplit(" ", 1)[1])  # before a ratio's low-traffic guard
            assert bound in values, (a.name, values)
            checked += 1
    assert checked >= 8


def test_levels_and_units_in_threshold_steps(prod):
    d = dash(prod, dashboard_uid("rl-feedback-loop"))
    assert steps_of(panel_titled(d, "rl_feedback_queue_depth")) == [
        {"color": "green", "value": None}, {"color": "yellow", "value": 25}, {"color": "dark-red", "value": 100}]
    latency = panel_titled(d, "p95 of rl_feedback_processing_latency_ms over 10m")
    # a histogram in milliseconds is plotted in the threshold's seconds (histogram_quantile(...) / 1000)
    assert [s["value"] for s in steps_of(latency)] == [None, 5]
    assert latency["fieldConfig"]["defaults"]["unit"] == "s"
    assert latency["targets"][0]["expr"].endswith(") / 1000")
    boltit = dash(prod, "boltit-pilot")
    accuracy = panel_titled(boltit, "Classification accuracy (7-day rolling)")
    assert steps_of(accuracy) == [{"color": "red", "value": None}, {"color": "orange", "value": 0.85},
                                  {"color": "green", "value": 0.9}]
    assert accuracy["targets"][0]["namespace"] == "BoltIT/Pilot"
    assert accuracy["datasource"]["type"] == "cloudwatch"


def test_thresholds_follow_the_catalog_and_environment_overrides(tmp_path):
    root = copy_repo(tmp_path)
    f = root / "alerts" / "rl-feedback-loop.yaml"
    text = f.read_text()
    f.write_text(text.replace("{alert: RLFeedbackQueueDepthHigh, threshold: 25, for: 15m, severity: ticket}",
                              "{alert: RLFeedbackQueueDepthHigh, threshold: 30, for: 15m, severity: ticket, "
                              "overrides: {dev: {threshold: 40}}}"))
    cat = load_catalog(root / "alerts")
    for env, want in (("prod", 30), ("dev", 40)):
        arts = {a.path: a for a in render(cat, env)}
        for d, title in ((dash(arts, dashboard_uid("rl-feedback-loop")), "rl_feedback_queue_depth"),
                         (dash(arts, "rl-feedback-loop"), "Queue depth (ticket / page levels)")):
            values = [s["value"] for s in steps_of(panel_titled(d, title))]
            assert values == [None, want, 100], (env, title)


def test_disabled_monitor_has_no_row_in_that_environment(catalog):
    dev = {a.path: a for a in render(catalog, "dev")}
    prod = {a.path: a for a in render(catalog, "prod")}
    uid = dashboard_uid("rag-enterprise-pipeline")

    def rows(arts):
        return [p["title"] for p in dash(arts, uid)["panels"] if p["type"] == "row"]

    assert "RAGInjectionBlockSpike" in rows(prod)
    assert "RAGInjectionBlockSpike" not in rows(dev)
    # the hand-written panel stays, with no threshold line where the alert is disabled
    hand = panel_titled(dash(dev, "rag-pipeline-operations"), "Blocked injections (15m)")
    assert steps_of(hand) == [{"color": "green", "value": None}]


def test_runbook_links_and_alert_panels(prod):
    d = dash(prod, dashboard_uid("rl-feedback-loop"))
    urls = {link["url"] for p in iter_panels(d["panels"]) for link in p.get("links", [])}
    # the dashboard links to the same page the alert's runbook_url annotation names
    rules = prod["prometheus/rl-feedback-loop.rules.yaml"].content
    rule = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "RLFeedbackQueueDepthCritical")
    assert rule["annotations"]["runbook_url"] == \
        "https://runbooks.example.com/rl-feedback-loop/RLFeedbackQueueDepthCritical.md"
    assert rule["annotations"]["runbook_url"] in urls
    active = panel_titled(d, "Active alerts")
    assert 'ALERTS{service="rl-feedback-loop"' in active["targets"][0]["expr"]
    assert active["targets"][0]["instant"] is True


def test_configmaps_carry_the_dashboard_for_the_grafana_sidecar(prod):
    k8s = prod["kubernetes/rl-feedback-loop.yaml"].content
    cms = {m["metadata"]["name"]: m for m in k8s if m["kind"] == "ConfigMap"}
    assert set(cms) == {"grafana-dashboard-mlmon-rl-feedback-loop", "grafana-dashboard-rl-feedback-loop"}
    files = serialize_all(list(prod.values()))
    for m in cms.values():
        assert m["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert m["metadata"]["annotations"] == {"grafana_folder": "ai-ml-platform"}
        assert m["metadata"]["namespace"] == "monitoring"
        (key, text), = m["data"].items()
        assert text.encode() == files[f"grafana/{key}"]
    assert any(m["kind"] == "ConfigMap" for m in prod["kubernetes/boltit-pilot.yaml"].content)


def test_sidecar_label_folder_and_namespace_are_configurable(tmp_path):
    root = copy_repo(tmp_path)
    defaults = root / "alerts" / "_defaults.yaml"
    defaults.write_text(defaults.read_text() + "dashboard_labels: {grafana_dashboard: ml}\n"
                        "dashboard_folder_annotation: k8s-sidecar-target-directory\n"
                        "dashboard_folder: ML/{service}\ndashboard_namespace: grafana\n")
    arts = {a.path: a for a in render(load_catalog(root / "alerts"), "staging")}
    cm = [m for m in arts["kubernetes/function-gemma-agent.yaml"].content if m["kind"] == "ConfigMap"][0]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "ml"
    assert cm["metadata"]["annotations"] == {"k8s-sidecar-target-directory": "ML/function-gemma-agent"}
    assert cm["metadata"]["namespace"] == "grafana"


def test_bad_dashboard_setting_names_file_and_path(tmp_path):
    root = copy_repo(tmp_path)
    defaults = root / "alerts" / "_defaults.yaml"
    defaults.write_text(defaults.read_text() + "dashboard_namespace: Not_A_Namespace\n")
    with pytest.raises(CatalogError) as exc:
        load_catalog(root / "alerts")
    (p,) = exc.value.problems
    assert p.file.endswith("_defaults.yaml") and p.path == "dashboard_namespace" and p.line


def test_renders_are_byte_identical(tmp_path, catalog):
    for env in catalog.defaults.environments:
        first = serialize_all(render(load_catalog(SEEDS / "alerts"), env))
        second = serialize_all(render(load_catalog(SEEDS / "alerts"), env))
        assert first == second
        assert any(p.startswith("grafana/") for p in first)
    # and through the CLI, in separate processes
    outs = []
    for i in range(2):
        out = tmp_path / f"out{i}"
        r = subprocess.run([sys.executable, "-m", "generators", "render", "--env", "prod", "--out", str(out)],
                           cwd=SEEDS, env=env_with_repo(), capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outs.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert outs[0] == outs[1]


# --- hand-written modules: errors name the file ----------------------------------------------------------


def _write(root, name, body):
    (root / "dashboards" / name).write_text(body)


GOOD = ("from grafanalib.core import Dashboard\nservice = 'rl-feedback-loop'\n"
        "dashboard = Dashboard(title='Extra', uid='extra')\n")


@pytest.mark.parametrize("body, path, words, line", [
    ("from grafanalib.core import Dashboard\nservice = 'rl-feedback-loop'\n\n1 / 0\n", "", "ZeroDivisionError", 4),
    ("service = 'rl-feedback-loop'\n", "dashboard", "no module variable `dashboard`", None),
    ("service = 'rl-feedback-loop'\ndashboard = {'title': 'x'}\n", "dashboard", "expected a grafanalib Dashboard", None),
    (GOOD.replace("service = 'rl-feedback-loop'\n", ""), "service", "no module variable `service`", None),
    (GOOD.replace("rl-feedback-loop", "no-such-service"), "service", "unknown service 'no-such-service'", None),
    (GOOD.replace("uid='extra'", "uid='Bad UID'"), "dashboard.uid", "lower-case", None),
    (GOOD.replace("uid='extra'", "uid='mlmon-rl-feedback-loop'"), "dashboard.uid", "generated dashboard", None),
    ("def broken(:\n", "", "not valid Python", 1),
    ("from generators.grafana.helpers import selector\nservice = 'rl-feedback-loop'\n"
     "q = selector(service, 'rl_feedback_typo_total')\n", "", "'rl_feedback_typo_total' is not declared", 3),
    ("from generators.grafana.helpers import thresholds_for\nservice = 'rl-feedback-loop'\n"
     "x = thresholds_for(service, 'NoSuchAlert')\n", "", "no monitor or alert 'NoSuchAlert'", 3),
])
def test_dashboard_module_errors_name_the_file(tmp_path, body, path, words, line):
    root = copy_repo(tmp_path)
    _write(root, "zz-extra.dashboard.py", body)
    with pytest.raises(CatalogError) as exc:
        render(load_catalog(root / "alerts"), "prod")
    (p,) = exc.value.problems
    assert p.file.endswith("dashboards/zz-extra.dashboard.py")
    assert p.path == path and words in p.message
    if line:
        assert p.line == line


def test_cli_reports_a_broken_dashboard_without_traceback_and_writes_nothing(tmp_path):
    root = copy_repo(tmp_path)
    _write(root, "zz-extra.dashboard.py", "raise RuntimeError('boom')\n")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "generators", "render", "--env", "dev", "--out", str(out)],
                       cwd=root, env=env_with_repo(), capture_output=True, text=True)
    assert r.returncode == 2
    assert "dashboards/zz-extra.dashboard.py:1" in r.stderr and "RuntimeError: boom" in r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_a_new_hand_written_dashboard_is_rendered_with_its_configmap(tmp_path):
    root = copy_repo(tmp_path)
    _write(root, "zz-extra.dashboard.py", GOOD)
    arts = {a.path: a for a in render(load_catalog(root / "alerts"), "prod")}
    assert dash(arts, "extra")["title"] == "Extra"
    names = [m["metadata"]["name"] for m in arts["kubernetes/rl-feedback-loop.yaml"].content]
    assert "grafana-dashboard-extra" in names


# --- checks ----------------------------------------------------------------------------------------------


def _panel(pid, grid, expr, title="p"):
    x, y, w, h = grid
    return {"id": pid, "type": "timeseries", "title": title, "gridPos": {"x": x, "y": y, "w": w, "h": h},
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "targets": [{"refId": "A", "expr": expr, "datasource": {"type": "prometheus", "uid": "${datasource}"}}]}


def test_dashboard_checks_find_each_problem(catalog):
    known = Known.from_catalog(catalog, {"mlmon_slo:error_ratio:rate5m"})
    good = {"schemaVersion": 39, "uid": "x", "templating": {"list": [{"name": "tenant", "type": "query",
            "query": "label_values(rl_feedback_queue_depth, tenant)"}]}, "panels": [
        _panel(1, (0, 0, 12, 8), 'rate(rl_feedback_processed_total{tenant=~"$tenant"}[$__rate_interval])'),
        _panel(2, (12, 0, 12, 8), "histogram_quantile(0.9, sum by (le) (rate(rag_hhem_score_bucket[5m])))"),
        _panel(3, (0, 8, 24, 8), "mlmon_slo:error_ratio:rate5m + on() group_left count(ALERTS)"),
    ]}
    assert dashboard_problems(good, known) == []
    only_label = {**good, "templating": {"list": [{"name": "tenant", "type": "query", "query": "label_values(tenant)"}]}}
    assert dashboard_problems(only_label, known) == []
    bad = json.loads(json.dumps(good))
    bad["panels"] += [
        _panel(3, (6, 4, 12, 8), "rate(nope_total[5m])", "dup"),
        _panel(5, (20, 30, 8, 2), "sum(rate(x[5m]", "broken"),
        _panel(6, (0, 40, 24, 2), 'up{job=~"$undefined"}', "var"),
    ]
    problems = "\n".join(dashboard_problems(bad, known))
    assert "panel id 3 is also used by" in problems
    assert "overlaps panel 1" in problems and "overlaps panel 2" in problems
    assert "metric 'nope_total' is not declared" in problems
    assert "outside the 24-column grid" in problems
    assert "not valid PromQL" in problems
    assert "undefined variable $undefined" in problems


def test_check_step_passes_on_the_reference_render_and_catches_a_stale_configmap(tmp_path, catalog):
    out = tmp_path / "out"
    write_atomic(serialize_all(render(catalog, "prod")), out)
    assert grafana_step(out, catalog, "prod") == []
    f = out / "grafana" / "agent-quality.json"
    f.write_text(f.read_text().replace('"Agent Quality"', '"Agent Quality (edited)"'))
    failures = grafana_step(out, catalog, "prod")
    assert any("agent-quality.json differs from grafana/agent-quality.json" in x for x in failures), failures


def test_the_grafana_step_fails_on_an_undeclared_metric_in_a_hand_written_dashboard(tmp_path):
    root = copy_repo(tmp_path)
    _write(root, "zz-extra.dashboard.py",
           "from grafanalib.core import Dashboard\nfrom generators.grafana.helpers import panel\n"
           "service = 'rl-feedback-loop'\n"
           "dashboard = Dashboard(title='Extra', uid='extra', panels=[panel('x', 'rate(made_up_total[5m])', "
           "(0, 0, 24, 8))])\n")
    catalog = load_catalog(root / "alerts")
    out = tmp_path / "out"
    write_atomic(serialize_all(render(catalog, "prod")), out)
    failures = grafana_step(out, catalog, "prod")
    assert any("grafana/extra.json" in f and "'made_up_total' is not declared" in f for f in failures), failures


def test_rendered_configmaps_are_valid_kubernetes_yaml(prod):
    text = serialize_all(list(prod.values()))["kubernetes/rl-feedback-loop.yaml"].decode()
    docs = [d for d in yaml.safe_load_all(text) if d["kind"] == "ConfigMap"]
    assert docs and all(json.loads(next(iter(d["data"].values())))["uid"] for d in docs)


def test_ci_workflow_renders_and_uploads_every_environment(catalog):
    wf = yaml.safe_load((REPO / ".github" / "workflows" / "dashboards.yml").read_text())
    job = wf["jobs"]["render"]
    assert job["strategy"]["matrix"]["env"] == list(catalog.defaults.environments)
    runs = " ".join(s.get("run", "") for s in job["steps"])
    assert "mlmon check --env" in runs and "mlmon render --env" in runs
    uploads = [s["with"]["path"] for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert "out/${{ matrix.env }}/grafana/*.json" in uploads


@pytest.mark.parametrize("op, levels, want", [
    ("above", [], [("green", None)]),
    ("above", [(25, "ticket"), (100, "page")], [("green", None), ("yellow", 25), ("dark-red", 100)]),
    # below: under the lower threshold both alerts fire, the most severe colour wins
    ("below", [(0.9, "warning"), (0.85, "critical")], [("red", None), ("orange", 0.85), ("green", 0.9)]),
    # a less severe level above a more severe one keeps the more severe colour in between
    ("above", [(10, "page"), (20, "ticket")], [("green", None), ("dark-red", 10), ("dark-red", 20)]),
    ("below", [(0.7, "info")], [("blue", None), ("green", 0.7)]),
])
def test_threshold_steps_colour_each_band_by_the_alerts_firing_there(op, levels, want):
    from generators.grafana.thresholds import steps

    assert [(s["color"], s["value"]) for s in steps(op, levels)] == want


def test_hand_written_modules_also_run_under_grafanalibs_own_generate_dashboard(tmp_path):
    """grafanalib's convention: `generate-dashboard` loads the module's `dashboard`; outside mlmon render the
    helpers read the catalog named by MLMON_CATALOG/MLMON_ENV."""
    beside = Path(sys.executable).parent / "generate-dashboard"
    exe = str(beside) if beside.exists() else shutil.which("generate-dashboard")
    if exe is None:
        pytest.skip("grafanalib's generate-dashboard script is not installed next to this Python")
    out = tmp_path / "rl.json"
    env = env_with_repo()
    env.update(MLMON_CATALOG=str(SEEDS / "alerts"), MLMON_ENV="prod")
    r = subprocess.run([exe, "-o", str(out), str(SEEDS / "dashboards" / "rl-feedback-loop.dashboard.py")],
                       env=env, capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    assert d["uid"] == "rl-feedback-loop"
    queue = panel_titled(d, "Queue depth (ticket / page levels)")
    assert [s["value"] for s in steps_of(queue)] == [None, 25, 100]


def test_dashboard_configmaps_pass_kubernetes_strict_validation(prod):
    kv = pytest.importorskip("kubernetes_validate")
    version = kv.latest_version()
    n = 0
    for path, a in prod.items():
        if path.startswith("kubernetes/"):
            for m in a.content:
                if m["kind"] == "ConfigMap":
                    kv.validate(m, version, strict=True)
                    n += 1
    assert n == 10


def test_hand_written_dashboards_copy_no_threshold_from_the_catalog(catalog):
    """Guard against pasted numbers: no float literal in a dashboard module equals a threshold of its service."""
    import ast

    for f in sorted((SEEDS / "dashboards").glob("*.dashboard.py")):
        tree = ast.parse(f.read_text())
        service = next(n.value.value for n in tree.body if isinstance(n, ast.Assign)
                       and getattr(n.targets[0], "id", None) == "service")
        svc = catalog.service(service)
        thresholds = set()
        for mon in svc.monitors:
            for x in [mon, *mon.levels]:
                if x.threshold is not None:
                    thresholds.add(float(x.threshold))
                thresholds.update(float(o.threshold) for o in x.overrides.values() if o.threshold is not None)
        floats = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, float)}
        assert not floats & thresholds, f"{f.name} copies thresholds {sorted(floats & thresholds)}: use thresholds_for()"
    assert thresholds


def test_without_a_dashboards_directory_only_generated_dashboards_render(tmp_path):
    shutil.copytree(SEEDS / "alerts", tmp_path / "alerts")
    paths = [a.path for a in render(load_catalog(tmp_path / "alerts"), "dev") if a.path.startswith("grafana/")]
    assert sorted(paths) == sorted(f"grafana/{dashboard_uid(s)}.json" for s in
                                   ("boltit-pilot", "function-gemma-agent", "neural-hive-specialists",
                                    "rag-enterprise-pipeline", "rl-feedback-loop"))


def test_service_filter_renders_only_that_services_dashboards(catalog):
    paths = {a.path for a in render(catalog, "prod", ["rl-feedback-loop"])}
    assert {p for p in paths if p.startswith("grafana/")} == {"grafana/mlmon-rl-feedback-loop.json",
                                                                 "grafana/rl-feedback-loop.json"}
    assert {p for p in paths if p.startswith("kubernetes/")} == {"kubernetes/rl-feedback-loop.yaml"}
