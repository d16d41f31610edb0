"""``mlmon backtest`` against a real Prometheus, checked by an independent oracle: ``promtool test rules``.

One Prometheus per test session: generated history (``tests/backtest_series.py`` and the threshold-change
scenario below) is written as OpenMetrics (one file per day), backfilled with ``promtool tsdb
create-blocks-from openmetrics`` and served on 127.0.0.1 (``bench/promhistory.py``).

The differential test renders the fixture catalog ``tests/fixtures/backtest/kinds`` (every monitor kind) plus
a hand-written rule file with ``keep_firing_for`` and a recording read through a range selector, runs the
backtest over the history, and turns what it found into promtool expectations: for every alert and EVERY
evaluation step, exactly the label sets backtest says are firing. promtool evaluates the same rules
(recording rules included, not inlined) on the same samples and fails on any difference.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from backtest_series import promtool_series, series
from conftest import run_cli
from conftest_diff import init_repo, write

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from promhistory import History, LocalPrometheus, backfill  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("prometheus") is None or shutil.which("promtool") is None,
                       reason="prometheus/promtool not installed (Debian package prometheus; .ci/run installs it)"),
]

FIXTURES = ROOT / "tests" / "fixtures" / "backtest"
KINDS = FIXTURES / "kinds"
KFF_RULES = FIXTURES / "keep_firing_for.rules.yaml"
DAY = 86400
T0 = 1_700_006_400  # 2023-11-15T00:00:00Z


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    start: int
    steps: int  # evaluations at 1m
    scrape: int

    def data(self):
        return series(self.seed, self.steps, self.scrape)


SCENARIOS = [
    Scenario("1m-scrapes", seed=7, start=T0, steps=600, scrape=60),
    # four days later: farther than the longest window any rule reads (the SLOs' 3d)
    Scenario("30s-scrapes", seed=11, start=T0 + 4 * DAY, steps=600, scrape=30),
]

# --- the threshold-change scenario -------------------------------------------------------------------

CHANGE_T0 = T0 + 8 * DAY
# per tenant: (start minute, level, minutes) plateaus on a baseline of 10
PLATEAUS = {"a": [(60, 30, 20), (180, 60, 10), (300, 70, 40)], "b": [(100, 80, 3), (400, 55, 8)]}

SHOP_V1 = """\
service: shop
team: ml
labels: [tenant]
routing: {warning: shop-slack}
metrics:
  shop_queue_depth: {type: gauge, labels: [tenant]}
  shop_quality_score: {type: gauge, range: [0, 1]}
monitors:
  - name: ShopQueueDeep
    kind: threshold
    metric: shop_queue_depth
    threshold: 50
    for: 5m
    severity: warning
  - name: ShopQueueSteady
    kind: threshold
    metric: shop_queue_depth
    threshold: 1000
    for: 5m
    severity: warning
"""
# base: > 50 for 5m; head: > 25 for 15m. Derived by hand from PLATEAUS (minutes from CHANGE_T0):
#   a (60, 30, 20)  base: never (30 < 50)          head: fires 75..79  -> [75, 80)   only head
#   a (180, 60, 10) base: fires 185..189 [185,190)  head: 10m < 15m     -> never    only base
#   a (300, 70, 40) base: [305, 340)                head: [315, 340)                both (overlap)
#   b (100, 80, 3)  pending only in both
#   b (400, 55, 8)  base: fires 405..407 [405,408)  head: never                     only base
SHOP_V2 = (SHOP_V1.replace("    threshold: 50\n    for: 5m\n", "    threshold: 25\n    for: 15m\n")
           + """  - name: ShopQualityLow
    kind: threshold
    metric: shop_quality_score
    op: below
    threshold: 0.5
    for: 5m
    severity: warning
""")
DEFAULTS = "environments: [dev, prod]\nevaluation_interval: 1m\n"


def change_history() -> dict:
    out = {}
    for tenant, plateaus in PLATEAUS.items():
        vals = []
        for i in range(12 * 60):
            v = 10.0
            for s, level, n in plateaus:
                if s <= i < s + n:
                    v = float(level)
            vals.append((CHANGE_T0 + 60 * i, v))
        out[("shop_queue_depth", (("tenant", tenant),))] = vals
    return out


@pytest.fixture(scope="session")
def prom(tmp_path_factory):
    work = tmp_path_factory.mktemp("backtest-prometheus")
    h = History()
    for sc in SCENARIOS:
        for (name, labels), samples in sc.data().items():
            h.add(name, dict(labels), [(sc.start + t, v) for t, v in samples])
    for (name, labels), samples in change_history().items():
        h.add(name, dict(labels), samples)
    backfill(h.write_openmetrics(work / "openmetrics"), work / "data")
    with LocalPrometheus(work, work / "data") as p:
        yield p


# --- the differential test against promtool ----------------------------------------------------------


def _rules():
    from generators.backtest.rules import rules_from_artifacts, rules_from_file
    from generators.loader import load_catalog
    from generators.render import render

    catalog = load_catalog(KINDS)
    artifacts = render(catalog, "prod")
    rules = rules_from_artifacts(artifacts)
    (rule_file,) = [a for a in artifacts if a.path.endswith(".rules.yaml")]
    kff = yaml.safe_load(KFF_RULES.read_text())
    for r in rules_from_file("prometheus/bt-kff.rules.yaml", kff):
        rules[r.alert] = r
    return catalog, rules, {"bt-app.rules.yaml": rule_file.content, "bt-kff.rules.yaml": kff}


def _without_annotations(content: dict) -> dict:
    """promtool compares annotations too; they do not decide firing, so the oracle's rule file drops them."""
    out = copy.deepcopy(content)
    for g in out["groups"]:
        for r in g["rules"]:
            r.pop("annotations", None)
    return out


def firing_by_step(bt, start: int, steps: int) -> dict[str, dict[int, list[dict]]]:
    """``{alert: {step: [full alert labels]}}`` from backtest's episodes."""
    out: dict[str, dict[int, list[dict]]] = {}
    for a in bt.alerts:
        side = a.head
        assert side.status == "ok", (a.alert, side.status, side.error, side.missing)
        per = out.setdefault(a.alert, {})
        iv = side.rule.interval
        for e in side.episodes:
            for t in range(e.start, e.end, iv):
                labels = {**dict(e.labels), **side.rule.label_dict}
                per.setdefault((t - start) // iv, []).append(labels)
    return out


def promtool_test(rule_files: list[str], sc: Scenario, firing: dict, rules: dict) -> dict:
    tests = []
    for alert in sorted(firing):
        for step in range(sc.steps):
            exp = [{"exp_labels": labels} for labels in sorted(firing[alert].get(step, []),
                                                                 key=lambda d: sorted(d.items()))]
            tests.append({"eval_time": f"{step}m", "alertname": alert, "exp_alerts": exp})
    return {"rule_files": rule_files, "evaluation_interval": "1m",
            "tests": [{"name": sc.name, "interval": f"{sc.scrape}s",
                       "input_series": promtool_series(sc.data(), sc.scrape), "alert_rule_test": tests}]}


def run_promtool(workdir: Path, test: dict) -> subprocess.CompletedProcess:
    path = workdir / "backtest.test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=1 << 20))
    return subprocess.run(["promtool", "test", "rules", path.name], cwd=workdir, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize("sc", SCENARIOS, ids=lambda s: s.name)
def test_backtest_episodes_equal_promtool_at_every_step_for_every_kind(prom, sc, tmp_path):
    from generators.backtest.client import Prometheus
    from generators.backtest.run import backtest, select
    from generators.model import KINDS as ALL_KINDS
    from generators.resolve import resolve

    catalog, rules, files = _rules()
    kinds = {a.kind for rs in resolve(catalog, "prod") for a in rs.alerts}
    assert kinds == set(ALL_KINDS), f"the fixture must cover every kind, missing {set(ALL_KINDS) - kinds}"
    for name, content in files.items():
        (tmp_path / name).write_text(yaml.safe_dump(_without_annotations(content), sort_keys=False))

    end = sc.start + (sc.steps - 1) * 60
    bt = backtest(Prometheus(prom.url, max_points=97), select(None, rules), env="prod", start=sc.start, end=end,
                  base_ref=None, head_ref="fixture", warmup=False)
    firing = firing_by_step(bt, sc.start, sc.steps)

    # not vacuous: every alert fires, and the history has what the semantics are about
    quiet = [a for a, steps in firing.items() if not steps]
    assert not quiet, f"alerts that never fire in {sc.name}: {quiet}"
    recorded = [a for a in bt.alerts if a.head.recordings]
    assert {a.alert for a in recorded} >= {"BtAvailabilityFastBurn", "BtAvailabilitySlowBurn", "BtKeepFiring",
                                           "BtKeepFiringRange"}

    r = run_promtool(tmp_path, promtool_test(sorted(files), sc, firing, rules))
    assert r.returncode == 0, f"promtool disagrees with backtest:\n{(r.stdout + r.stderr)[:6000]}"

    # the oracle discriminates: one firing step less, and promtool objects
    alert = next(a for a in sorted(firing) if firing[a])
    step = min(firing[alert])
    broken = {**firing, alert: {k: v for k, v in firing[alert].items() if k != step}}
    r = run_promtool(tmp_path, promtool_test(sorted(files), sc, broken, rules))
    assert r.returncode != 0 and f"alertname: {alert}, time: {step}m" in r.stdout + r.stderr

    # with a warm-up (the default), a range that starts later sees the same firing from its start on
    later = sc.start + 90 * 60
    bt2 = backtest(Prometheus(prom.url), select(None, rules), env="prod", start=later, end=end,
                   base_ref=None, head_ref="fixture")
    warm = firing_by_step(bt2, sc.start, sc.steps)
    for a in bt2.alerts:
        if a.head.rule.keep_firing_for:
            continue  # a keep_firing_for chain can reach back beyond any finite warm-up (docs/reviewing.md)
        expect = {k: sorted(map(str, v)) for k, v in firing[a.alert].items() if k >= 90}
        got = {k: sorted(map(str, v)) for k, v in warm[a.alert].items()}
        assert got == expect, a.alert


# --- mlmon backtest on a threshold change, through the CLI ---------------------------------------------


@pytest.fixture()
def change_repo(tmp_path):
    repo, _ = init_repo(tmp_path / "repo", {"alerts/_defaults.yaml": DEFAULTS, "alerts/shop.yaml": SHOP_V1})
    write(repo, {"alerts/shop.yaml": SHOP_V2})
    return repo


def _ep(tenant, start_min, end_min):
    from generators.backtest.report import iso

    return {"labels": {"tenant": tenant}, "start": iso(CHANGE_T0 + start_min * 60),
            "end": iso(CHANGE_T0 + end_min * 60), "seconds": (end_min - start_min) * 60,
            "ongoing": False, "before": False}


def _backtest_json(prom, repo, *extra):
    r = run_cli("backtest", "--prometheus", prom.url, "--base", "HEAD", "--start", str(CHANGE_T0),
                "--range", "12h", "--format", "json", *extra, cwd=repo)
    assert r.code == 0, r.err
    return json.loads(r.out), r


def test_threshold_change_reports_exactly_the_added_and_removed_episodes(prom, change_repo):
    data, _ = _backtest_json(prom, change_repo)
    assert set(data) >= {"alerts"}
    by = {a["alert"]: a for a in data["alerts"]}
    assert sorted(by) == ["ShopQualityLow", "ShopQueueDeep"]  # ShopQueueSteady did not change
    deep = by["ShopQueueDeep"]
    assert deep["env"] == "prod" and deep["changes"] == ["threshold 50 -> 25", "for 5m -> 15m"]
    assert {k: deep["base"][k] for k in ("episodes", "firing_seconds", "first", "last")} == {
        "episodes": 3, "firing_seconds": (5 + 35 + 3) * 60,
        "first": _ep("a", 185, 0)["start"], "last": _ep("b", 0, 407)["end"]}
    assert {k: deep["head"][k] for k in ("episodes", "firing_seconds", "first", "last")} == {
        "episodes": 2, "firing_seconds": (5 + 25) * 60,
        "first": _ep("a", 75, 0)["start"], "last": _ep("a", 0, 339)["end"]}
    assert deep["only_base"] == [_ep("a", 185, 190), _ep("b", 405, 408)]
    assert deep["only_head"] == [_ep("a", 75, 80)]
    assert deep["base"]["episode_list"] == [_ep("a", 185, 190), _ep("a", 305, 340), _ep("b", 405, 408)]
    # an alert whose metric this Prometheus never had: "no data", not "never fires"
    low = by["ShopQualityLow"]
    assert low["base"] is None and low["changes"] == ["added"]
    assert low["head"]["status"] == "no_data" and low["head"]["episodes"] is None
    assert low["head"]["missing"] == ["shop_quality_score"]


def test_chunked_queries_give_the_same_answer(prom, change_repo):
    whole, _ = _backtest_json(prom, change_repo)
    chunked, _ = _backtest_json(prom, change_repo, "--max-points", "50", "--jobs", "1")
    assert chunked["queries"] > whole["queries"] + 20  # 721 evaluations in chunks of 50, per expression
    whole.pop("queries"), chunked.pop("queries")
    assert chunked == whole


def test_text_markdown_and_plots(prom, change_repo, tmp_path):
    pytest.importorskip("matplotlib")
    plots = tmp_path / "plots"
    common = ("backtest", "--prometheus", prom.url, "--base", "HEAD", "--start", str(CHANGE_T0), "--range", "12h")
    r = run_cli(*common, cwd=change_repo)
    assert r.code == 0, r.err
    assert "ShopQueueDeep (shop): threshold 50 -> 25, for 5m -> 15m" in r.out
    assert "  base  3 episodes on 2 label sets, firing 43m in total, first " in r.out
    assert "  head  2 episodes, firing 30m, first " in r.out
    assert "only head: 1" in r.out and '{tenant="a"}' in r.out
    assert "head  no data: shop_quality_score has no series" in r.out
    r = run_cli(*common, "--format", "markdown", "--plots", str(plots), "--plots-url", "https://ci.test/plots",
                cwd=change_repo)
    assert r.code == 0, r.err
    assert "| `ShopQueueDeep` | threshold 50 -> 25, for 5m -> 15m | 3 / 43m | 2 / 30m | 2 | 1 |" in r.out
    assert "[ShopQueueDeep.png](https://ci.test/plots/ShopQueueDeep.png)" in r.out
    assert "**no data**" in r.out
    for name in ("ShopQueueDeep.png", "ShopQualityLow.png"):
        png = (plots / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_a_range_without_data_is_an_error_not_a_quiet_alert(prom, change_repo):
    r = run_cli("backtest", "--prometheus", prom.url, "--base", "HEAD", "--start", "2001-01-01",
                "--end", "2001-01-08", cwd=change_repo)
    assert r.code == 1
    assert "no data" in r.err and "Traceback" not in r.err + r.out
    assert "never fires" not in r.out


def test_the_pull_request_workflow_step_posts_the_backtest(prom, change_repo, tmp_path):
    """The workflow's shell step, with a Prometheus URL configured, on a clone-like checkout."""
    import os

    from conftest_diff import git

    workflow = yaml.safe_load((ROOT / ".github/workflows/pull-request.yml").read_text())
    (job,) = workflow["jobs"].values()
    (s,) = [x for x in job["steps"] if x.get("name") == "Backtest changed alerts on the Prometheus history"]
    git(change_repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    shim = tmp_path / "bin" / "mlmon"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m generators "$@"\n')
    shim.chmod(0o755)
    # the range ends "now": the history is years old, so every alert has no data -> reported, step still passes
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "BASE_REF": "main",
           "MLMON_PROMETHEUS_URL": prom.url, "BACKTEST_RANGE": "7d"}
    r = subprocess.run(["bash", "-e", "-c", s["run"]], cwd=change_repo, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    body = (change_repo / "mlmon-backtest.md").read_text()
    assert body.startswith("<!-- mlmon-backtest -->\n### mlmon backtest: `origin/main` → working tree, env `prod`")
    assert "| `ShopQueueDeep` | threshold 50 -> 25, for 5m -> 15m | **no data** | **no data** |" in body
    assert "`mlmon backtest` exited 1:" in body and "no data" in body
    assert (change_repo / "out/backtest/ShopQueueDeep.png").is_file()
    assert (tmp_path / "summary.md").read_text() == body


def test_nothing_changed_is_said_and_alert_replays_one_anyway(prom, tmp_path):
    repo, _ = init_repo(tmp_path / "same", {"alerts/_defaults.yaml": DEFAULTS, "alerts/shop.yaml": SHOP_V1})
    common = ("backtest", "--prometheus", prom.url, "--base", "HEAD", "--start", str(CHANGE_T0), "--range", "12h")
    r = run_cli(*common, cwd=repo)
    assert r.code == 0 and "no alert differs in what it would fire on" in r.out, r.err
    r = run_cli(*common, "--alert", "ShopQueueDeep", "--format", "json", cwd=repo)
    (a,) = json.loads(r.out)["alerts"]
    assert a["changes"] == [] and a["base"]["episodes"] == a["head"]["episodes"] == 3
    assert a["only_base"] == a["only_head"] == []
    # a range shorter than one evaluation interval is not "never fires" either
    r = run_cli("backtest", "--prometheus", prom.url, "--alert", "ShopQueueDeep", "--start", str(CHANGE_T0 + 10),
                "--range", "30s", cwd=repo)
    assert r.code == 1 and "no alert could be evaluated" in r.err
    assert "not evaluated: the range holds no evaluation" in r.out and "never fires" not in r.out
