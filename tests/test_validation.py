"""Every class of catalog error: fed the bad input, the message names the file, the path inside it
(and the line), and what was expected. Everything is reported in one run."""

from __future__ import annotations

import pytest

from generators.errors import CatalogError
from generators.loader import load_catalog

BASE = """\
service: svc
team: ml
metrics:
  score: {type: gauge, range: [0, 1]}
  reqs: {type: counter}
  errs: {type: counter}
  lat: {type: histogram, unit: milliseconds}
monitors:
  - name: ScoreLow
    kind: threshold
    metric: score
    op: below
    threshold: 0.5
    for: 5m
    severity: warning
"""


def problems(make_catalog, text: str, name: str = "svc.yaml", extra: dict | None = None):
    files = {name: text}
    files.update(extra or {})
    root = make_catalog(files)
    with pytest.raises(CatalogError) as exc:
        load_catalog(root)
    return exc.value.problems


def one(make_catalog, text, **kw):
    ps = problems(make_catalog, text, **kw)
    assert len(ps) == 1, [str(p) for p in ps]
    return ps[0]


def test_base_is_valid(make_catalog):
    cat = load_catalog(make_catalog({"svc.yaml": BASE}))
    assert cat.services[0].monitors[0].threshold == 0.5


def test_unknown_key_is_an_error_with_line(make_catalog):
    p = one(make_catalog, BASE.replace("    op: below\n", "    op: below\n    treshold: 0.4\n"))
    assert p.file.endswith("svc.yaml")
    assert p.path == "monitors[0].treshold"
    assert p.line == 13
    assert "unknown key" in p.message
    assert f"{p.file}:13: monitors[0].treshold: unknown key" in str(p)


def test_unknown_top_level_key(make_catalog):
    p = one(make_catalog, BASE + "alerts: []\n")
    assert p.path == "alerts" and "unknown key" in p.message


def test_missing_required_key(make_catalog):
    p = one(make_catalog, BASE.replace("team: ml\n", ""))
    assert p.path == "team" and "required" in p.message


def test_wrong_type(make_catalog):
    p = one(make_catalog, BASE.replace("threshold: 0.5", "threshold: low"))
    assert p.path == "monitors[0].threshold" and "number" in p.message and "'low'" in p.message


def test_unknown_kind(make_catalog):
    p = one(make_catalog, BASE.replace("kind: threshold", "kind: treshold"))
    assert p.path == "monitors[0].kind"
    assert "unknown kind 'treshold'" in p.message and "'threshold'" in p.message


def test_bad_duration(make_catalog):
    p = one(make_catalog, BASE.replace("for: 5m", "for: 5 minutes"))
    assert p.path == "monitors[0].for" and "not a duration" in p.message


def test_alert_name_must_be_camel_case(make_catalog):
    p = one(make_catalog, BASE.replace("name: ScoreLow", "name: score_low"))
    assert p.path == "monitors[0].name" and "CamelCase" in p.message


def test_bad_enum_value(make_catalog):
    p = one(make_catalog, BASE.replace("severity: warning", "severity: sev2"))
    assert p.path == "monitors[0].severity" and "sev2" in p.message and "'page'" in p.message


def test_service_name_must_be_dns_label(make_catalog):
    p = one(make_catalog, BASE.replace("service: svc", "service: Svc_1"), name="Svc_1.yaml")
    assert p.path == "service" and "DNS-1123" in p.message


def test_file_named_after_service(make_catalog):
    p = one(make_catalog, BASE, name="other.yaml")
    assert p.path == "service" and "svc.yaml" in p.message


def test_duplicate_alert_name_across_files(make_catalog):
    other = BASE.replace("service: svc", "service: svc2")
    ps = problems(make_catalog, BASE, extra={"svc2.yaml": other})
    assert len(ps) == 1
    assert ps[0].file.endswith("svc2.yaml") and ps[0].path == "monitors[0].name"
    assert "already used" in ps[0].message and "svc.yaml" in ps[0].message


def test_unknown_environment_in_override(make_catalog):
    p = one(make_catalog, BASE + "    overrides:\n      prd: {threshold: 0.4}\n")
    assert p.path == "monitors[0].overrides.prd"
    assert "unknown environment" in p.message and "dev, staging, prod" in p.message


def test_environments_come_from_defaults(make_catalog):
    text = BASE + "    overrides:\n      qa: {threshold: 0.4}\n"
    root = make_catalog({"svc.yaml": text, "_defaults.yaml": "environments: [qa, live]\n"})
    cat = load_catalog(root)
    assert cat.defaults.environments == ("qa", "live")


def test_undeclared_metric(make_catalog):
    p = one(make_catalog, BASE.replace("metric: score", "metric: scor"))
    assert p.path == "monitors[0].metric"
    assert "'scor' is not declared" in p.message and "score" in p.message


def test_metric_type_must_fit_kind(make_catalog):
    text = BASE + """\
  - name: ErrorsSeen
    kind: failures
    metric: score
    severity: page
"""
    p = one(make_catalog, text)
    assert p.path == "monitors[1].metric" and "is a gauge" in p.message and "counter" in p.message


def test_unreachable_threshold(make_catalog):
    p = one(make_catalog, BASE.replace("threshold: 0.5", "threshold: -0.1"))
    assert p.path == "monitors[0].threshold" and "can never happen" in p.message and "[0, 1]" in p.message


def test_unreachable_override_threshold(make_catalog):
    p = one(make_catalog, BASE + "    overrides:\n      prod: {threshold: 0}\n")
    assert p.path == "monitors[0].overrides.prod.threshold" and "can never happen" in p.message


def test_unreachable_trend_per_second(make_catalog):
    text = BASE + """\
  - name: ScoreDeclining
    kind: trend
    metric: score
    window: 6h
    per: second
    threshold: -0.01
    for: 30m
    severity: warning
"""
    p = one(make_catalog, text)
    assert p.path == "monitors[1].threshold"
    assert "can never be reached" in p.message and "per second" in p.message


def test_trend_per_hour_is_reachable(make_catalog):
    text = BASE + """\
  - name: ScoreDeclining
    kind: trend
    metric: score
    window: 6h
    per: hour
    threshold: -0.01
    for: 30m
    severity: warning
"""
    load_catalog(make_catalog({"svc.yaml": text}))


def test_seed_raw_deriv_mistake_is_caught(make_catalog):
    """The seed 001 rule written as raw PromQL: deriv() is per second, so it can never fire."""
    text = BASE + """\
  - name: ScoreDeclining
    kind: raw
    expr: deriv(score[6h]) < -0.01
    severity: warning
    tests:
      fires: {input: [{series: score, values: "1-0.1x10"}], at: 5m}
      silent: {input: [{series: score, values: "1x10"}], at: 5m}
"""
    p = one(make_catalog, text)
    assert p.path == "monitors[1].expr" and "deriv() is per second" in p.message and "per: hour" in p.message


def test_ratio_objective_too_low_for_page_burn(make_catalog):
    text = BASE + """\
  - name: Availability
    kind: ratio
    bad: errs
    total: reqs
    threshold: 0.9
"""
    p = one(make_catalog, text)
    assert p.path == "monitors[1].threshold" and "can never fire" in p.message


def test_ratio_needs_good_or_bad(make_catalog):
    text = BASE + """\
  - name: Availability
    kind: ratio
    total: reqs
    threshold: 0.99
"""
    p = one(make_catalog, text)
    assert p.path == "monitors[1]" and "exactly one of `good` or `bad`" in p.message


def test_raw_expression_must_parse(make_catalog):
    text = BASE + """\
  - name: Custom
    kind: raw
    expr: rate(reqs[5m] > 1
    severity: warning
    tests:
      fires: {input: [{series: reqs, values: "0+10x10"}], at: 5m}
      silent: {input: [{series: reqs, values: "0x10"}], at: 5m}
"""
    p = one(make_catalog, text)
    assert p.path == "monitors[1].expr" and "not valid PromQL" in p.message


def test_raw_expression_metrics_must_be_declared(make_catalog):
    text = BASE + """\
  - name: Custom
    kind: raw
    expr: rate(requests_total[5m]) > 1
    severity: warning
    tests:
      fires: {input: [{series: requests_total, values: "0+100x10"}], at: 5m}
      silent: {input: [{series: requests_total, values: "0x10"}], at: 5m}
"""
    p = one(make_catalog, text)
    assert p.path == "monitors[1].expr" and "'requests_total'" in p.message and "external_metrics" in p.message


def test_raw_monitor_needs_tests(make_catalog):
    text = BASE + """\
  - name: Custom
    kind: raw
    expr: score > 0.9
    severity: warning
"""
    p = one(make_catalog, text)
    assert p.path == "monitors[1].tests" and "required" in p.message


def test_levels_and_shorthand_conflict(make_catalog):
    text = BASE.replace("    for: 5m\n    severity: warning\n",
                        "    levels:\n      - {alert: ScoreLowPage, threshold: 0.3, for: 5m, severity: page}\n")
    p = one(make_catalog, text)
    assert p.path == "monitors[0]" and "either `levels` or threshold" in p.message


def test_missing_severity(make_catalog):
    p = one(make_catalog, BASE.replace("    severity: warning\n", ""))
    assert p.path == "monitors[0].severity" and "required" in p.message


def test_missing_threshold(make_catalog):
    p = one(make_catalog, BASE.replace("    threshold: 0.5\n", ""))
    assert p.path == "monitors[0].threshold" and "required for kind threshold" in p.message


def test_unsupported_template(make_catalog):
    p = one(make_catalog, BASE + "    summary: 'score {{ $value | printf \"%.2f\" }}'\n")
    assert p.path == "monitors[0].summary" and "not supported" in p.message


def test_yaml_syntax_error_has_line(make_catalog):
    p = one(make_catalog, BASE + "  - name: [unclosed\n")
    assert p.path == "" and p.line == 17 and "not valid YAML" in p.message


def test_duplicate_yaml_key(make_catalog):
    p = one(make_catalog, BASE.replace("    op: below\n", "    op: below\n    op: above\n"))
    assert "duplicate key 'op'" in p.message and p.line == 13


def test_top_level_must_be_mapping(make_catalog):
    p = one(make_catalog, "- just\n- a list\n")
    assert "expected a mapping" in p.message


def test_range_must_be_ordered(make_catalog):
    p = one(make_catalog, BASE.replace("range: [0, 1]", "range: [1, 0]"))
    assert p.path == "metrics.score" and "min < max" in p.message


def test_unknown_settings_file(make_catalog):
    ps = problems(make_catalog, BASE, extra={"_settings.yaml": "environments: [dev]\n"})
    assert ps[0].file.endswith("_settings.yaml") and "unknown settings file" in ps[0].message


def test_every_problem_reported_in_one_run(make_catalog):
    text = BASE.replace("threshold: 0.5", "threshold: low").replace("severity: warning", "severity: sev2")
    other = "service: other\nteam: ml\nmonitors: [{name: x, kind: flag}]\n"
    ps = problems(make_catalog, text, extra={"other.yaml": other})
    paths = {(p.file.rsplit("/", 1)[-1], p.path) for p in ps}
    assert ("svc.yaml", "monitors[0].threshold") in paths
    assert ("svc.yaml", "monitors[0].severity") in paths
    assert ("other.yaml", "monitors[0].name") in paths
    assert ("other.yaml", "monitors[0].metric") in paths


def test_empty_catalog_dir(tmp_path):
    (tmp_path / "alerts").mkdir()
    with pytest.raises(CatalogError) as exc:
        load_catalog(tmp_path / "alerts")
    assert "no service files" in str(exc.value)


def test_missing_catalog_dir(tmp_path):
    with pytest.raises(CatalogError) as exc:
        load_catalog(tmp_path / "nope")
    assert "catalog directory not found" in str(exc.value) and "--catalog" in str(exc.value)


def test_min_events_needs_a_denominator(make_catalog):
    p = one(make_catalog, BASE.replace("    op: below\n", "    op: below\n    min_events: 5\n"))
    assert p.path == "monitors[0]" and "`min_events` guards a ratio" in p.message
