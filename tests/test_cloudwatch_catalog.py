"""Catalog errors for CloudWatch services: file and path in every message; the CLI exits 2 without output."""

from __future__ import annotations

import json
import re

import pytest

from conftest_cloudwatch import ALL_KINDS, CATALOG, DEFAULTS, write_catalog
from generators.errors import CatalogError
from generators.loader import load_catalog

BASE = """\
service: pilot
team: ml
source: {type: cloudwatch, namespace: Test/Pilot, region: us-east-1}
metrics:
  score: {range: [0, 1]}
  errors_total: {type: counter}
  requests_total: {type: counter}
  lat: {type: histogram, unit: seconds}
monitors:
"""

PROM = """\
service: promsvc
team: ml
metrics:
  score: {range: [0, 1]}
monitors:
  - {name: PromScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning}
"""


def problems(tmp_path, files):
    d = write_catalog(tmp_path, {"_defaults.yaml": DEFAULTS, **files})
    with pytest.raises(CatalogError) as exc:
        load_catalog(d)
    return exc.value.problems


CASES = [
    ("raw kind", BASE + """\
  - name: RawThing
    kind: raw
    expr: score < 0.5
    severity: warning
    tests:
      fires: {input: [{series: score, values: '0'}], at: 0}
      silent: {input: [{series: score, values: '1'}], at: 0}
""", "monitors[0].kind", "raw PromQL expression cannot be evaluated by CloudWatch"),
    ("by", BASE + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning, by: [model]}
""", "monitors[0].by", "no CloudWatch alarm equivalent"),
    ("regex matcher", BASE + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning,
     matchers: {model: "=~v.*"}}
""", "monitors[0].matchers.model", "only match exactly"),
    ("odd window", BASE + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning,
     smoothing: {function: avg, window: 90s}}
""", "monitors[0].smoothing.window", "not a CloudWatch period"),
    ("for too long", BASE + """\
  - name: ScoreLow
    kind: threshold
    metric: score
    op: below
    levels:
      - {alert: ScoreLowWarn, threshold: 0.5, for: 2d, severity: warning}
""", "monitors[0].levels[0].for", "CloudWatch evaluates at most 1d"),
    ("for too long in an override", BASE + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning,
     overrides: {prod: {for: 3d}}}
""", "monitors[0].for", "CloudWatch evaluates at most 1d"),
    ("flag not at the top", BASE + """\
  - {name: ScoreFlag, kind: flag, metric: score, threshold: 0.5, severity: warning}
""", "monitors[0].threshold", "no equality operator"),
    ("trend window", BASE + """\
  - {name: ScoreFalling, kind: trend, metric: score, window: 3m, per: hour, threshold: -0.1, severity: warning}
""", "monitors[0].window", "half the window"),
    ("undeclared metric", BASE + """\
  - {name: ScoreLow, kind: threshold, metric: scorre, op: below, threshold: 0.5, severity: warning}
""", "monitors[0].metric", "is not declared under `metrics:`"),
    ("wrong metric type", BASE + """\
  - {name: LatP95, kind: latency, histogram: score, threshold: 1, severity: warning}
""", "monitors[0].histogram", "a latency monitor needs a histogram"),
    ("anomaly band on a ratio", BASE + """\
  - name: ErrRate
    kind: threshold
    metric: errors_total
    denominator: requests_total
    threshold: 0.05
    severity: warning
    cloudwatch: {anomaly_band: {alert: ErrRateAnomalous}}
""", "monitors[0].cloudwatch.anomaly_band", "watches one metric"),
    ("anomaly alert name taken", BASE + """\
  - name: ScoreLow
    kind: threshold
    metric: score
    op: below
    threshold: 0.5
    severity: warning
    cloudwatch: {anomaly_band: {alert: ScoreLow}}
""", "monitors[0].cloudwatch.anomaly_band.alert", "already used"),
    ("template in summary", BASE + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning,
     summary: "score is {{ $value }}"}
""", "monitors[0].summary", "plain text"),
    ("bad routing topic", BASE.replace("metrics:", "routing: {warning: 'ml alerts'}\nmetrics:") + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning}
""", "routing.warning", "SNS topic"),
    ("unknown cloudwatch key", BASE + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning,
     cloudwatch: {treat_missing: ignore}}
""", "monitors[0].cloudwatch.treat_missing", "unknown key"),
    ("bad treat_missing_data", BASE + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning,
     cloudwatch: {treat_missing_data: zero}}
""", "monitors[0].cloudwatch.treat_missing_data", "expected"),
    ("bad unit", BASE.replace("score: {range: [0, 1]}", "score: {range: [0, 1], cloudwatch: {unit: secs}}") + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning}
""", "metrics.score.cloudwatch.unit", "expected"),
    ("bad metric period", BASE.replace("score: {range: [0, 1]}", "score: {range: [0, 1], cloudwatch: {period: 45s}}")
     + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning}
""", "metrics.score.cloudwatch.period", "not a CloudWatch period"),
    ("window below resolution", BASE.replace("score: {range: [0, 1]}",
                                             "score: {range: [0, 1], cloudwatch: {period: 5m}}") + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning,
     smoothing: {function: avg, window: 1m}}
""", "monitors[0].smoothing.window", "does not fit score's 5m resolution"),
    ("bad dashboard name", BASE.replace("region: us-east-1}", "region: us-east-1, dashboard: 'Bolt IT'}") + """\
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, severity: warning}
""", "source.dashboard", "not a CloudWatch dashboard name"),
]


@pytest.mark.parametrize("what,text,path,words", CASES, ids=[c[0] for c in CASES])
def test_catalog_error_names_file_and_path(tmp_path, what, text, path, words):
    probs = problems(tmp_path, {"pilot.yaml": text})
    hits = [p for p in probs if p.file.endswith("pilot.yaml") and p.path == path and words in p.message]
    assert hits, [str(p) for p in probs]
    assert hits[0].line is not None


def test_cloudwatch_blocks_on_a_prometheus_service(tmp_path):
    text = PROM.replace("score: {range: [0, 1]}", "score: {range: [0, 1], cloudwatch: {name: Score}}")
    text = text.replace("severity: warning}", "severity: warning, cloudwatch: {treat_missing_data: ignore}}")
    probs = problems(tmp_path, {"promsvc.yaml": text})
    paths = {p.path for p in probs if "source.type: cloudwatch" in p.message}
    assert paths == {"metrics.score.cloudwatch", "monitors[0].cloudwatch"}


def test_anomaly_alert_name_clash_across_files(tmp_path):
    other = PROM.replace("PromScoreLow", "ScoreAnomalous")
    probs = problems(tmp_path, {"cw-kinds.yaml": ALL_KINDS, "promsvc.yaml": other})
    assert any(p.path == "monitors[0].cloudwatch.anomaly_band.alert" and "already used" in p.message
               for p in probs), [str(p) for p in probs]


def test_prometheus_services_still_skip_cloudwatch_rules(tmp_path):
    # `by` and regex matchers are fine for Prometheus
    text = PROM.replace("severity: warning}", "severity: warning, by: [model], matchers: {model: '=~v.*'}}")
    text = text.replace("score: {range: [0, 1]}", "score: {range: [0, 1], labels: [model]}")
    d = write_catalog(tmp_path, {"_defaults.yaml": DEFAULTS, "promsvc.yaml": text})
    assert load_catalog(d).service("promsvc").monitors[0].by == ("model",)


def test_cli_check_exits_2_on_an_unsupported_kind(tmp_path, capsys):
    from generators.cli import main

    d = write_catalog(tmp_path, {"_defaults.yaml": DEFAULTS, "pilot.yaml": CASES[1][1]})
    assert main(["check", "--catalog", str(d)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"pilot\.yaml:\d+: monitors\[0\]\.by: cannot be rendered to CloudWatch", err), err
    assert "Traceback" not in err
    out = tmp_path / "out"
    assert main(["render", "--env", "prod", "--out", str(out), "--catalog", str(d)]) == 2
    assert not out.exists()


def test_thresholds_lists_cloudwatch_alarms_beside_prometheus(capsys):
    from generators.cli import main

    assert main(["thresholds", "--env", "prod", "--catalog", str(CATALOG), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    cw = {r["alert"]: r for r in rows if r["source"] == "cloudwatch"}
    prom = [r for r in rows if r["source"] == "prometheus"]
    assert prom and all("alarm" not in r for r in prom)
    assert cw["PilotResponseLatencyHigh"]["alarm"].startswith(
        "boltit-pilot-PilotResponseLatencyHigh: p95, 5m periods, 2 of 2 GreaterThanThreshold 3")
    assert cw["PilotConfidenceAnomalous"]["kind"] == "anomaly"
    assert "LessThanLowerThreshold" in cw["PilotConfidenceAnomalous"]["alarm"]
    assert len(cw) == 9
    assert main(["thresholds", "--env", "prod", "--catalog", str(CATALOG)]) == 0
    text = capsys.readouterr().out
    head = text.splitlines()[0]
    assert head.split()[:8] == ["SERVICE", "ALERT", "ENV", "SOURCE", "SEVERITY", "FOR", "RECEIVER", "CONDITION"]
    assert head.split()[-1] == "ALARM"
    assert "boltit-pilot-PilotClassificationAccuracyLow: Average, 5m periods, 3 of 3" in text


def test_the_cloudwatch_step_passes_the_render_and_reports_bad_artifacts(tmp_path):
    """The `cloudwatch` step of mlmon check, on one render."""
    from generators import verify
    from generators.loader import load_catalog
    from generators.render import render, serialize_all, write_atomic

    catalog = load_catalog(CATALOG)
    out = tmp_path / "prod"
    write_atomic(serialize_all(render(catalog, "prod")), out)
    assert verify.cloudwatch_step(out, catalog, "prod") == []
    # corrupt what the step reads: the step must name service, alarm (monitor) and field
    body = out / "cloudwatch" / "boltit-pilot.json"
    data = json.loads(body.read_text())
    data[0]["Period"] = 45
    body.write_text(json.dumps(data))
    assert ("cloudwatch", verify.cloudwatch_step) in verify.STEPS
    failures = verify.cloudwatch_step(out, catalog, "prod")
    assert any(("cloudwatch/boltit-pilot.json: boltit-pilot: alarm boltit-pilot-PilotClassificationAccuracyLow "
                "(monitor PilotClassificationAccuracy): Period: 45 is not a valid period") in f for f in failures), failures
