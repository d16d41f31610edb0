"""`mlmon diff`: two commits of a catalog in a temporary git repository, compared per environment."""

from __future__ import annotations

import json

import pytest

from generators import alertmeta
from generators.cli import main
from generators.diff import deep_diff

from conftest_diff import DEFAULTS, PILOT_V1, SHOP_V1, SHOP_V2, commit, git, init_repo, write


@pytest.fixture()
def repo(tmp_path, monkeypatch):
    """Commit 1 (tag v1): the base catalog; commit 2 (tag v2): threshold, override, severity, removed and new alert."""
    path, _ = init_repo(tmp_path / "repo", {"alerts/_defaults.yaml": DEFAULTS, "alerts/shop-model.yaml": SHOP_V1,
                                            "alerts/pilot.yaml": PILOT_V1})
    git(path, "tag", "v1")
    commit(path, {"alerts/shop-model.yaml": SHOP_V2})
    git(path, "tag", "v2")
    monkeypatch.chdir(path)
    return path


def run(capsys, *argv):
    rc = main(["diff", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_json_lists_every_kind_of_change_per_environment(repo, capsys):
    rc, out, _ = run(capsys, "--base", "v1", "--head", "v2", "--format", "json")
    assert rc == 0
    d = json.loads(out)
    assert d["environments"] == ["dev", "staging", "prod"]
    assert d["changed"] is True
    assert d["summary"] == {"added": 1, "removed": 1, "changed": 2, "service_changes": 0}
    by = {(a["env"], a["alert"]): a for a in d["alerts"]}
    # threshold change, everywhere; the expression change it implies is not repeated
    for env in ("staging", "prod"):
        assert by[(env, "ShopQualityLow")]["changes"] == [{"field": "threshold", "old": 0.7, "new": 0.65}]
    # env override change: dev only
    assert by[("dev", "ShopQualityLow")]["changes"] == [
        {"field": "threshold", "old": 0.7, "new": 0.65}, {"field": "for", "old": "15m", "new": "30m"}]
    assert by[("dev", "ShopQualityLow")]["new"]["expression"] == "avg_over_time(shop_quality_score[5m]) < 0.65"
    # severity change routes to another receiver
    assert by[("prod", "ShopErrors")]["changes"] == [
        {"field": "severity", "old": "warning", "new": "critical"},
        {"field": "receiver", "old": "shop-slack", "new": "shop-pager"}]
    # removed and added alerts carry their whole resolved view
    removed = by[("prod", "ShopQueueDeep")]
    assert removed["status"] == "removed" and removed["new"] is None
    assert removed["old"]["threshold"] == 100 and removed["old"]["for"] == "10m"
    assert removed["old"]["expression"] == "shop_queue_depth > 100"
    added = by[("prod", "ShopQueueVeryDeep")]
    assert added["status"] == "added" and added["old"] is None and added["source"] == "prometheus"
    assert (added["new"]["threshold"], added["new"]["for"], added["new"]["severity"], added["new"]["receiver"]) == \
        (500, "5m", "critical", "shop-pager")
    assert added["new"]["runbook_url"] == "https://runbooks.test/shop-model/ShopQueueVeryDeep.md"
    # nothing else: the unchanged CloudWatch service does not appear
    assert sorted(by) == sorted((e, a) for e in ("dev", "staging", "prod")
                                for a in ("ShopErrors", "ShopQualityLow", "ShopQueueDeep", "ShopQueueVeryDeep"))


def test_text_output(repo, capsys):
    rc, out, _ = run(capsys, "--base", "v1", "--head", "v2")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == ("mlmon diff v1 -> v2 (catalog alerts): 4 alerts differ in dev, staging, prod "
                        "(1 added, 1 removed, 2 changed)")
    assert lines[1:] == [
        "",
        "shop-model",
        "  ~ ShopErrors severity: warning -> critical  [all environments]",
        "  ~ ShopErrors receiver: shop-slack -> shop-pager  [all environments]",
        "  ~ ShopQualityLow threshold: 0.7 -> 0.65  [all environments]",
        "  ~ ShopQualityLow for: 15m -> 30m  [dev]",
        "  - ShopQueueDeep removed (was warning: shop_queue_depth > 100 for 10m -> shop-slack)  [all environments]",
        "  + ShopQueueVeryDeep added: critical: shop_queue_depth > 500 for 5m -> shop-pager  [all environments]",
    ]


def test_markdown_is_a_table_for_a_pr_comment(repo, capsys):
    rc, out, _ = run(capsys, "--base", "v1", "--head", "v2", "--format", "markdown")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "<!-- mlmon-diff -->"
    assert lines[1].startswith("### mlmon diff: 4 alerts differ")
    table = [ln for ln in lines if ln.startswith("|")]
    assert table == [
        "| | Service | Alert | Environments | Change | Before | After |",
        "|---|---|---|---|---|---|---|",
        "| ~ | shop-model | `ShopErrors` | all environments | severity | `warning` | `critical` |",
        "| ~ | shop-model | `ShopErrors` | all environments | receiver | `shop-slack` | `shop-pager` |",
        "| ~ | shop-model | `ShopQualityLow` | all environments | threshold | `0.7` | `0.65` |",
        "| ~ | shop-model | `ShopQualityLow` | dev | for | `15m` | `30m` |",
        "| - | shop-model | `ShopQueueDeep` | all environments | **removed** | "
        "warning for 10m -> shop-slack: `shop_queue_depth > 100` |  |",
        "| + | shop-model | `ShopQueueVeryDeep` | all environments | **added** |  | "
        "critical for 5m -> shop-pager: `shop_queue_depth > 500` |",
    ]


def test_head_defaults_to_the_working_tree_and_env_limits(repo, capsys):
    git(repo, "checkout", "-q", "v1")
    write(repo, {"alerts/shop-model.yaml": SHOP_V1.replace("      dev: {for: 15m}", "      dev: {for: 1h}")})
    rc, out, _ = run(capsys, "--base", "HEAD", "--format", "json")
    d = json.loads(out)
    assert rc == 0
    assert [(a["env"], a["alert"], a["changes"]) for a in d["alerts"]] == [
        ("dev", "ShopQualityLow", [{"field": "for", "old": "15m", "new": "1h"}])]
    assert d["head"] == "working tree"
    rc, out, _ = run(capsys, "--base", "HEAD", "--env", "prod", "--format", "json", "--exit-code")
    assert rc == 0 and json.loads(out)["alerts"] == [] and json.loads(out)["environments"] == ["prod"]
    rc, out, _ = run(capsys, "--base", "HEAD", "--env", "dev", "--exit-code")
    assert rc == 1 and "ShopQualityLow for: 15m -> 1h  [dev]" in out


def test_exit_code(repo, capsys):
    assert run(capsys, "--base", "v1", "--head", "v2", "--exit-code")[0] == 1
    rc, out, _ = run(capsys, "--base", "v2", "--exit-code")
    assert rc == 0 and "no alert differs" in out
    rc, out, _ = run(capsys, "--base", "v2", "--exit-code", "--format", "markdown")
    assert rc == 0 and "No alert, alarm, job or dashboard changes." in out


def test_bad_revision_is_a_clear_error(repo, capsys):
    rc, out, err = run(capsys, "--base", "origin/nope")
    assert rc == 2 and out == ""
    assert "unknown revision 'origin/nope'" in err and "Traceback" not in err
    rc, _, err = run(capsys, "--base", "v1", "--head=--upload-pack=x")
    assert rc == 2 and "invalid revision" in err


def test_catalog_missing_at_revision(repo, capsys):
    rc, _, err = run(capsys, "--base", "v1", "--catalog", "monitors")
    assert rc == 2 and "monitors/ does not exist at v1" in err


def test_invalid_catalog_at_base_names_revision_file_and_path(repo, capsys):
    commit(repo, {"alerts/shop-model.yaml": SHOP_V1.replace("threshold: 100", "threshold: lots")})
    git(repo, "tag", "broken")
    write(repo, {"alerts/shop-model.yaml": SHOP_V1})
    rc, _, err = run(capsys, "--base", "broken")
    assert rc == 2
    assert "broken:alerts/shop-model.yaml:" in err and "monitors[2].threshold" in err


def test_not_a_git_repository(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"alerts/_defaults.yaml": DEFAULTS, "alerts/shop-model.yaml": SHOP_V1})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    rc, _, err = run(capsys, "--base", "HEAD")
    assert rc == 2 and "not inside a git repository" in err


def test_cloudwatch_alarm_expression_and_service_fields(repo, capsys):
    pilot = PILOT_V1.replace("    op: below\n", "    op: below\n    smoothing: {function: avg, window: 1h}\n")
    pilot = pilot.replace("routing:\n  warning: pilot-warning", "routing:\n  warning: pilot-oncall")
    write(repo, {"alerts/pilot.yaml": pilot})
    rc, out, _ = run(capsys, "--base", "v2", "--format", "json", "--env", "prod")
    d = json.loads(out)
    assert [(a["alert"], a["source"], a["changes"]) for a in d["alerts"]] == [
        ("PilotAccuracyLow", "cloudwatch", [
            {"field": "expression", "old": "accuracy < 0.9", "new": "avg_over_time(accuracy[1h]) < 0.9"},
            {"field": "receiver", "old": "pilot-warning", "new": "pilot-oncall"}])]
    assert d["services"] == [{"service": "pilot", "status": "changed", "field": "routing.warning",
                              "old": "pilot-warning", "new": "pilot-oncall"}]


def test_expression_change_beyond_the_threshold_is_shown(repo, capsys):
    write(repo, {"alerts/shop-model.yaml": SHOP_V2.replace("    threshold: 0.65\n", "    threshold: 0.6\n")
                 .replace("smoothing: {function: avg, window: 5m}", "smoothing: {function: min, window: 10m}")})
    rc, out, _ = run(capsys, "--base", "v2", "--format", "json", "--env", "prod")
    (change,) = json.loads(out)["alerts"]
    assert change["changes"] == [
        {"field": "threshold", "old": 0.65, "new": 0.6},
        {"field": "expression", "old": "avg_over_time(shop_quality_score[5m]) < 0.65",
         "new": "min_over_time(shop_quality_score[10m]) < 0.6"}]


def test_remediation_commands_are_compared(repo, capsys, monkeypatch):
    def restart(alert, rs):
        if rs.service.workload is None:
            return []
        return [("restart", f"kubectl rollout restart deployment/{rs.service.workload.name} -n {rs.service.namespace}")]

    monkeypatch.setattr(alertmeta, "remediation_commands", restart)
    write(repo, {"alerts/shop-model.yaml": SHOP_V2.replace("name: shop-api}", "name: shop-api-v2}")})
    rc, out, _ = run(capsys, "--base", "v2", "--format", "json", "--env", "prod")
    d = json.loads(out)
    assert {a["alert"] for a in d["alerts"]} == {"ShopErrors", "ShopQualityLow", "ShopQueueVeryDeep"}
    for a in d["alerts"]:
        assert a["changes"] == [{"field": "remediations.restart",
                                 "old": "kubectl rollout restart deployment/shop-api -n shop",
                                 "new": "kubectl rollout restart deployment/shop-api-v2 -n shop"}]
    assert d["services"] == [{"service": "shop-model", "status": "changed", "field": "workload.name",
                              "old": "shop-api", "new": "shop-api-v2"}]
    rc, out, _ = run(capsys, "--base", "v2", "--env", "prod")
    assert ("  ~ ShopErrors remediations.restart: kubectl rollout restart deployment/shop-api -n shop -> "
            "kubectl rollout restart deployment/shop-api-v2 -n shop  [prod]") in out


def test_defaults_change_reaches_every_alert_and_is_listed(repo, capsys):
    write(repo, {"alerts/_defaults.yaml": DEFAULTS.replace("https://runbooks.test", "https://wiki.test/rb")})
    rc, out, _ = run(capsys, "--base", "v2", "--format", "json", "--env", "dev")
    d = json.loads(out)
    assert d["services"] == [{"service": "", "status": "changed", "field": "runbook_base",
                              "old": "https://runbooks.test", "new": "https://wiki.test/rb"}]
    urls = {a["alert"]: a["changes"] for a in d["alerts"]}
    assert urls["PilotAccuracyLow"] == [{"field": "runbook_url", "old": "https://runbooks.test/pilot/PilotAccuracyLow.md",
                                         "new": "https://wiki.test/rb/pilot/PilotAccuracyLow.md"}]


def test_new_environment_adds_its_alerts(repo, capsys):
    write(repo, {"alerts/_defaults.yaml": DEFAULTS.replace("[dev, staging, prod]", "[dev, staging, prod, canary]")})
    rc, out, _ = run(capsys, "--base", "v2", "--format", "json", "--env", "canary")
    d = json.loads(out)
    assert d["environments"] == ["canary"]
    assert sorted(a["alert"] for a in d["alerts"] if a["status"] == "added") == [
        "PilotAccuracyLow", "ShopErrors", "ShopQualityLow", "ShopQueueVeryDeep"]
    rc, _, err = run(capsys, "--base", "v2", "--env", "qa")
    assert rc == 2 and "unknown environment 'qa'" in err


def test_jobs_and_dashboards_are_compared_by_name():
    """Service fields other than monitors (jobs, dashboards, remediations ...) are diffed generically."""
    old = {"jobs": [{"name": "model-retraining", "schedule": "0 2 * * *"}, {"name": "eval", "schedule": "@daily"}],
           "dashboards": [{"uid": "agent-quality", "panels": 4}]}
    new = {"jobs": [{"name": "eval", "schedule": "@daily"}, {"name": "model-retraining", "schedule": "0 3 * * *"},
                    {"name": "load-test", "schedule": "@monthly"}],
           "dashboards": [{"uid": "agent-quality", "panels": 5}]}
    assert deep_diff(old, new) == [
        ("jobs[model-retraining].schedule", "0 2 * * *", "0 3 * * *"),
        ("jobs[load-test]", None, {"name": "load-test", "schedule": "@monthly"}),
        ("dashboards[agent-quality].panels", 4, 5),
    ]
    assert deep_diff({"x": [1, 2]}, {"x": [2, 1]}) == [("x", [1, 2], [2, 1])]


def test_changed_hand_written_dashboards_are_listed(repo, capsys):
    commit(repo, {"dashboards/shop.dashboard.py": "panels = 1\n"})
    git(repo, "tag", "v3")
    write(repo, {"dashboards/shop.dashboard.py": "panels = 2\n", "dashboards/new.dashboard.py": "x = 1\n",
                 "README.txt": "not a dashboard\n"})
    rc, out, _ = run(capsys, "--base", "v3", "--format", "json", "--exit-code")
    d = json.loads(out)
    assert rc == 1 and d["alerts"] == [] and d["changed"] is True
    assert d["files"] == [{"status": "added", "path": "dashboards/new.dashboard.py"},
                          {"status": "modified", "path": "dashboards/shop.dashboard.py"}]
    rc, out, _ = run(capsys, "--base", "v2", "--head", "v3")
    assert out.splitlines()[-2:] == ["files (hand-written dashboards)", "  added: dashboards/shop.dashboard.py"]
    rc, out, _ = run(capsys, "--base", "v3", "--format", "markdown")
    assert "- modified: `dashboards/shop.dashboard.py`" in out.splitlines()


def test_markdown_fits_in_a_pull_request_comment(repo):
    from generators.diff import diff_catalogs
    from generators.diff_format import format_markdown
    from generators.loader import load_catalog

    many = SHOP_V1 + "".join(
        f"  - {{name: ShopExtra{i}, kind: threshold, metric: shop_queue_depth, threshold: {i}, for: 1m, "
        f"severity: warning}}\n" for i in range(40))
    write(repo, {"alerts/shop-model.yaml": many})
    d = diff_catalogs(None, load_catalog("alerts"), base="empty", head="tree", catalog="alerts")
    full = format_markdown(d)
    assert "`ShopExtra39`" in full
    cut = format_markdown(d, max_chars=2000)
    assert len(cut) <= 2000
    assert cut.endswith("for the whole diff._\n")
    kept = cut.split("\n\n_Diff truncated: ")[0]
    assert full.startswith(kept)
    n = int(cut.split("_Diff truncated: ")[1].split(" ")[0])
    assert n == len(full.split("\n")) - len(kept.split("\n"))


# --- mlmon diff --rendered: what the change does to the artifacts ---------------------------------


DASHBOARD = """\
from grafanalib.core import Dashboard
from generators.grafana.helpers import monitor_panel
service = "shop-model"
dashboard = Dashboard(title="Shop", uid="shop", panels=[monitor_panel(service, "ShopQualityLow", (0, 0, 12, 8))])
"""


def test_rendered_diff_shows_every_artifact_the_change_touches(repo, capsys):
    from conftest_diff import commit

    commit(repo, {"dashboards/shop.dashboard.py": DASHBOARD})
    git(repo, "tag", "v3")
    commit(repo, {"alerts/shop-model.yaml": SHOP_V2.replace("    threshold: 0.65\n", "    threshold: 0.6\n", 1)})
    rc, out, _ = run(capsys, "--base", "v3", "--head", "HEAD", "--rendered", "--env", "prod", "--exit-code")
    assert rc == 1
    lines = out.splitlines()
    assert lines[0].startswith("mlmon diff --rendered: ") and "in prod" in lines[0]
    # the rule, its promtool tests, the PrometheusRule, the generated and the hand-written dashboard
    changed = {line.split(": ", 1)[1] for line in lines if line.startswith("changed: ")}
    assert {"prod/prometheus/shop-model.rules.yaml", "prod/prometheus/shop-model.tests.yaml",
            "prod/kubernetes/shop-model.yaml", "prod/grafana/mlmon-shop-model.json", "prod/grafana/shop.json"} <= changed
    assert "-    expr: avg_over_time(shop_quality_score[5m]) < 0.65" in lines
    assert "+    expr: avg_over_time(shop_quality_score[5m]) < 0.6" in lines
    assert "--- a/prod/prometheus/shop-model.rules.yaml" in lines
    # both sides equal: nothing to show, exit 0
    rc, out, _ = run(capsys, "--base", "HEAD", "--rendered", "--exit-code")
    assert rc == 0 and out.startswith("mlmon diff --rendered: no rendered file differs")


def test_rendered_diff_as_json_and_markdown(repo, capsys):
    rc, out, _ = run(capsys, "--base", "v1", "--head", "v2", "--rendered", "--env", "dev", "--format", "json")
    d = json.loads(out)
    assert rc == 0 and {f["env"] for f in d["files"]} == {"dev"}
    rules = next(f for f in d["files"] if f["path"] == "prometheus/shop-model.rules.yaml")
    assert rules["status"] == "changed" and any(line.startswith("+") and "0.65" in line for line in rules["diff"])
    rc, out, _ = run(capsys, "--base", "v1", "--head", "v2", "--rendered", "--env", "dev", "--format", "markdown")
    assert out.startswith("### mlmon diff --rendered:") and "```diff" in out
