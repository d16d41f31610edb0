"""`mlmon runbooks`: generated pages state the catalog's numbers; rules link to them; embedded sections stay fresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from generators import alertmeta, verify
from generators.cli import main
from generators.errors import CatalogError
from generators.loader import load_catalog
from generators.render import render
from generators.resolve import resolve
from generators.runbooks import Index, pages

from conftest_diff import DEFAULTS, PILOT_V1, SHOP_V1, SHOP_V2, write

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "tests" / "fixtures" / "seeds"

LEVELS = """\
service: queue
team: platform
routing:
  ticket: queue-tickets
  page: queue-pager
metrics:
  queue_depth: {type: gauge}
monitors:
  - name: QueueDepth
    kind: threshold
    metric: queue_depth
    levels:
      - {alert: QueueDepthHigh, threshold: 25, for: 15m, severity: ticket}
      - {alert: QueueDepthCritical, threshold: 100, for: 10m, severity: page}
"""

HANDWRITTEN = """\
# Shop quality runbook

Hand-written prose that mlmon must never touch.

## Alert Definition

<!-- mlmon:begin ShopQualityLow -->
<!-- mlmon:end -->

## Mitigation

1. Look at the traces.

<!-- mlmon:begin ShopQualityLow remediation -->
<!-- mlmon:end -->

## Escalation

<!-- mlmon:begin ShopQualityLow escalation -->
<!-- mlmon:end -->
Call the owner after 30 minutes.
"""


@pytest.fixture()
def repo(tmp_path, monkeypatch):
    write(tmp_path, {"alerts/_defaults.yaml": DEFAULTS, "alerts/shop-model.yaml": SHOP_V1,
                     "alerts/pilot.yaml": PILOT_V1, "alerts/queue.yaml": LEVELS})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_pages_state_the_catalogs_numbers(repo, capsys):
    rc, _, err = run(capsys, "runbooks", "--out", "rb")
    assert rc == 0 and "wrote 6 runbook pages into rb" in err
    assert sorted(str(p.relative_to(repo / "rb")) for p in (repo / "rb").rglob("*.md")) == [
        "README.md", "pilot/PilotAccuracyLow.md", "queue/QueueDepthCritical.md", "queue/QueueDepthHigh.md",
        "shop-model/ShopErrors.md", "shop-model/ShopQualityLow.md", "shop-model/ShopQueueDeep.md"]
    page = (repo / "rb/shop-model/ShopQualityLow.md").read_text()
    lines = page.splitlines()
    assert lines[0] == "# ShopQualityLow"
    for expected in [
        "**Alert Name**: `ShopQualityLow`  ",
        "**Severity**: Warning  ",
        "**Condition**: `avg_over_time(shop_quality_score[5m]) < 0.7` for 15m (dev); for 5m (staging, prod)  ",
        "**Dashboard**: [Shop Model dashboard](https://grafana.test/d/mlmon-shop-model)",
        "| dev | warning | `avg_over_time(shop_quality_score[5m]) < 0.7` | 15m |",
        "| prod | warning | `avg_over_time(shop_quality_score[5m]) < 0.7` | 5m |",
        "| prod | warning | shop-slack |",
        "_No remediation is declared in the catalog for this alert._",
    ]:
        assert expected in lines, expected
    pilot = (repo / "rb/pilot/PilotAccuracyLow.md").read_text()
    assert "**Source**: CloudWatch alarm (namespace `Test/Pilot`, us-east-1)  " in pilot
    assert "**Condition**: `accuracy < 0.9` for 15m  " in pilot

    # the catalog changes: the pages follow, and the removed alert's page is gone
    write(repo, {"alerts/shop-model.yaml": SHOP_V2})
    assert run(capsys, "runbooks", "--out", "rb")[0] == 0
    page = (repo / "rb/shop-model/ShopQualityLow.md").read_text()
    assert "**Condition**: `avg_over_time(shop_quality_score[5m]) < 0.65` for 30m (dev); for 5m (staging, prod)  " in page
    assert "0.7" not in page
    errors = (repo / "rb/shop-model/ShopErrors.md").read_text()
    assert "**Severity**: Critical  " in errors and "| staging | critical | shop-pager |" in errors
    assert not (repo / "rb/shop-model/ShopQueueDeep.md").exists()
    assert (repo / "rb/shop-model/ShopQueueVeryDeep.md").read_text().count("`shop_queue_depth > 500` for 5m") == 1
    index = (repo / "rb/README.md").read_text()
    assert "| shop-model | [ShopQueueVeryDeep](shop-model/ShopQueueVeryDeep.md) | critical |" in index


def test_env_limits_the_environments_described(repo, capsys):
    assert run(capsys, "runbooks", "--env", "dev", "--out", "rb")[0] == 0
    page = (repo / "rb/shop-model/ShopQualityLow.md").read_text()
    assert "**Condition**: `avg_over_time(shop_quality_score[5m]) < 0.7` for 15m  " in page
    assert "| prod |" not in page and "| staging |" not in page
    rc, _, err = run(capsys, "runbooks", "--env", "qa", "--out", "rb")
    assert rc == 2 and "unknown environment 'qa'" in err


def test_escalation_names_the_stronger_level_and_its_receiver(repo, capsys):
    assert run(capsys, "runbooks", "--out", "rb")[0] == 0
    high = (repo / "rb/queue/QueueDepthHigh.md").read_text()
    assert "- `QueueDepthCritical`: page, `queue_depth > 100` for 10m -> queue-pager" in high
    assert "| prod | ticket | queue-tickets |" in high
    assert "Owning team: `platform`. Service routing: ticket -> queue-tickets, page -> queue-pager." in high
    assert "escalates to" not in (repo / "rb/queue/QueueDepthCritical.md").read_text()


def test_remediation_commands_come_from_alertmeta(repo, capsys, monkeypatch):
    def restart(alert, rs):
        if rs.service.workload is None:
            return []
        return [("restart", f"kubectl rollout restart deployment/{rs.service.workload.name} -n {rs.service.namespace}")]

    monkeypatch.setattr(alertmeta, "remediation_commands", restart)
    assert run(capsys, "runbooks", "--out", "rb")[0] == 0
    page = (repo / "rb/shop-model/ShopQualityLow.md").read_text()
    assert "**restart**:\n\n```bash\nkubectl rollout restart deployment/shop-api -n shop\n```" in page
    assert "No remediation is declared" in (repo / "rb/pilot/PilotAccuracyLow.md").read_text()


def test_every_rules_runbook_url_is_its_page():
    catalog = load_catalog(SEEDS / "alerts")
    generated = pages(catalog)
    for env in catalog.defaults.environments:
        urls = {}
        for art in render(catalog, env):
            if art.path.endswith(".rules.yaml"):
                for group in art.content["groups"]:
                    for rule in group["rules"]:
                        if "alert" in rule:
                            urls[rule["alert"]] = rule["annotations"]["runbook_url"]
        assert urls, env
        for rs in resolve(catalog, env):
            for a in rs.alerts:
                page = alertmeta.runbook_page(a.name, rs.name)
                assert page in generated
                assert generated[page].startswith(f"# {a.name}\n")
                expected = f"{catalog.defaults.runbook_base}/{rs.name}/{a.name}{catalog.defaults.runbooks.url_suffix}"
                assert alertmeta.runbook_url(a, rs) == expected
                if rs.is_prometheus:
                    assert urls.pop(a.name) == expected
        assert urls == {}


def test_url_suffix_is_configurable(repo):
    write(repo, {"alerts/_defaults.yaml": DEFAULTS + "runbooks: {url_suffix: ''}\n"})
    catalog = load_catalog("alerts")
    (rs,) = [r for r in resolve(catalog, "prod") if r.name == "shop-model"]
    assert alertmeta.runbook_url(rs.alerts[0], rs) == "https://runbooks.test/shop-model/ShopQualityLow"


def test_unknown_runbooks_setting_is_located(repo):
    write(repo, {"alerts/_defaults.yaml": DEFAULTS + "runbooks:\n  suffix: .html\n"})
    with pytest.raises(CatalogError) as exc:
        load_catalog("alerts")
    (p,) = exc.value.problems
    assert (p.file, p.path, p.line) == ("alerts/_defaults.yaml", "runbooks.suffix", 5)
    assert "unknown key" in p.message


def test_embedded_sections_refresh_and_stale_fails_check(repo, capsys):
    write(repo, {"docs/runbooks/shop.md": HANDWRITTEN})
    rc, _, err = run(capsys, "runbooks", "--check")
    assert rc == 1 and "docs/runbooks/shop.md: generated section(s) stale: ShopQualityLow definition (line 7)" in err
    rc, _, err = run(capsys, "runbooks", "--update")
    assert rc == 0 and "updated docs/runbooks/shop.md" in err
    text = (repo / "docs/runbooks/shop.md").read_text()
    # hand-written prose untouched, generated parts filled in
    assert text.startswith("# Shop quality runbook\n\nHand-written prose that mlmon must never touch.\n")
    assert text.endswith("<!-- mlmon:end -->\nCall the owner after 30 minutes.\n")
    assert ("<!-- mlmon:begin ShopQualityLow -->\n**Alert Name**: `ShopQualityLow`  \n" in text)
    assert "| prod | warning | shop-slack |\n" in text
    assert run(capsys, "runbooks", "--check")[0] == 0
    assert ("runbooks", verify.runbooks_step) in verify.CATALOG_STEPS  # mlmon check runs it once per catalog
    assert verify.runbooks_step(load_catalog("alerts")) == []

    # a threshold changes in the catalog: the embedded section is now stale and the check step fails
    write(repo, {"alerts/shop-model.yaml": SHOP_V2})
    err = "\n".join(verify.runbooks_step(load_catalog("alerts")))
    assert err.count("docs/runbooks/shop.md: generated section(s) stale: ShopQualityLow definition") == 1
    assert "-**Condition**: `avg_over_time(shop_quality_score[5m]) < 0.7` for 15m (dev)" in err
    assert "+**Condition**: `avg_over_time(shop_quality_score[5m]) < 0.65` for 30m (dev)" in err
    assert run(capsys, "runbooks", "--update")[0] == 0
    assert "< 0.65` for 30m (dev)" in (repo / "docs/runbooks/shop.md").read_text()
    assert run(capsys, "runbooks", "--check")[0] == 0
    # an update with nothing stale rewrites nothing
    before = (repo / "docs/runbooks/shop.md").stat().st_mtime_ns
    rc, _, err = run(capsys, "runbooks", "--update")
    assert rc == 0 and "0 of 1 hand-written runbook(s) updated (3 generated section(s)" in err
    assert (repo / "docs/runbooks/shop.md").stat().st_mtime_ns == before


@pytest.mark.parametrize("text, message", [
    ("a\n<!-- mlmon:begin ShopQualityLo -->\n<!-- mlmon:end -->\n",
     "docs/runbooks/bad.md:2: unknown alert 'ShopQualityLo': no monitor in the catalog defines it "
     "(did you mean ShopQualityLow?)"),
    ("<!-- mlmon:begin ShopErrors -->\ntext\n", "docs/runbooks/bad.md:1: `<!-- mlmon:begin ShopErrors -->` is never "
                                               "closed by `<!-- mlmon:end -->`"),
    ("<!-- mlmon:begin ShopErrors -->\n<!-- mlmon:begin ShopQualityLow -->\n<!-- mlmon:end -->\n",
     "docs/runbooks/bad.md:2: a new begin marker inside the section opened on line 1; close it first"),
    ("x\n\n<!-- mlmon:end -->\n", "docs/runbooks/bad.md:3: `<!-- mlmon:end -->` without a begin marker"),
    ("<!-- mlmon:begin ShopErrors summary -->\n<!-- mlmon:end -->\n",
     "docs/runbooks/bad.md:1: unknown part 'summary'; expected one of definition, remediation, escalation, page"),
])
def test_malformed_markers_are_located(repo, capsys, text, message):
    write(repo, {"docs/runbooks/good.md": HANDWRITTEN, "docs/runbooks/bad.md": text})
    rc, _, err = run(capsys, "runbooks", "--update")
    assert rc == 2 and message in err
    # nothing written: the good file was stale but is untouched, the bad one too
    assert (repo / "docs/runbooks/good.md").read_text() == HANDWRITTEN
    assert (repo / "docs/runbooks/bad.md").read_text() == text
    assert message in verify.runbooks_step(load_catalog("alerts"))


def test_page_part_embeds_the_whole_page(repo, capsys):
    write(repo, {"docs/runbooks/all.md": "# mine\n<!-- mlmon:begin QueueDepthHigh page -->\n<!-- mlmon:end -->\n"})
    assert run(capsys, "runbooks", "--update", "--out", "rb")[0] == 0
    text = (repo / "docs/runbooks/all.md").read_text()
    generated = (repo / "rb/queue/QueueDepthHigh.md").read_text()
    body = generated.split("## Alert Definition", 1)[1]
    assert "## Alert Definition" + body in text


def test_usage_errors(repo, capsys):
    rc, _, err = run(capsys, "runbooks")
    assert rc == 2 and "give --out DIR, --update or --check" in err
    rc, _, err = run(capsys, "runbooks", "--update", "--check")
    assert rc == 2
    rc, _, err = run(capsys, "runbooks", "--check", "--handwritten", "nowhere")
    assert rc == 2 and "--handwritten nowhere is not a directory" in err


def test_the_seed_handwritten_runbook_is_fresh(capsys, monkeypatch):
    monkeypatch.chdir(SEEDS)
    rc, _, err = run(capsys, "runbooks", "--check")
    assert rc == 0, err
    text = (SEEDS / "docs/runbooks/ReasoningDriftHigh.md").read_text()
    catalog = load_catalog(SEEDS / "alerts")
    (rs,) = [r for r in resolve(catalog, "prod") if r.name == "function-gemma-agent"]
    (a,) = [x for x in rs.alerts if x.name == "ReasoningDriftHigh"]
    # the seed's Alert Definition: the score below 0.7 for 5m, warning, Agent Quality dashboard
    assert f"`agent_reasoning_quality_score < {a.threshold:g}`" in text
    assert "| prod | warning | `agent_reasoning_quality_score < 0.7` | 5m |" in text
    assert "**Dashboard**: [FunctionGemma Agent dashboard](https://grafana.example.com/d/agent-quality)" in text


def test_index_lists_disabled_alerts_nowhere(repo):
    write(repo, {"alerts/queue.yaml": LEVELS.replace(
        "{alert: QueueDepthCritical, threshold: 100, for: 10m, severity: page}",
        "{alert: QueueDepthCritical, threshold: 100, for: 10m, severity: page, overrides: {dev: {enabled: false}}}")})
    catalog = load_catalog("alerts")
    index = Index(catalog)
    assert [v.env for v in index.views("QueueDepthCritical")] == ["staging", "prod"]
    generated = pages(catalog)
    assert "Not deployed in: dev (disabled in the catalog)." in generated["queue/QueueDepthCritical.md"]
    assert "escalates to (in staging, prod):" in generated["queue/QueueDepthHigh.md"]
    assert "queue/QueueDepthCritical.md" not in pages(catalog, ["dev"])


def test_a_monitors_own_runbook_url_is_stated(repo):
    write(repo, {"alerts/pilot.yaml": PILOT_V1.replace("    severity: warning\n",
                                                      "    severity: warning\n    runbook: https://wiki.test/pilot\n")})
    catalog = load_catalog("alerts")
    page = pages(catalog)["pilot/PilotAccuracyLow.md"]
    assert "**Dashboard**: [pilot dashboard](https://grafana.test/d/mlmon-pilot)  \n**Runbook**: <https://wiki.test/pilot>\n" in page
