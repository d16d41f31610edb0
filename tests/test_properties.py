"""Property-based: for any catalog the schema accepts (tests/catalog_strategies.py: random kinds, selectors, RE2
matchers, label sets, thresholds, windows, levels, overrides), loading either succeeds or fails with a CatalogError
naming the file, and rendering every environment succeeds. In the slow tier the generated promtool tests of a
sample of >= 200 such catalogs pass. 10,000 cases: bench/property_catalogs.py. Shrunk failures are kept below as
regression tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from catalog_strategies import catalog
from conftest import requires_promtool
from generators.errors import CatalogError
from generators.loader import load_catalog
from generators.render import render

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                database=None)


def load_and_render(files: dict[str, dict], envs=None):
    """(catalog or None, {env: {path: bytes}}); raises anything but a CatalogError."""
    texts = {name: yaml.safe_dump(svc, sort_keys=False) for name, svc in files.items()}
    try:
        cat = load_catalog("/nonexistent-mlmon-property", texts=texts)
    except CatalogError as exc:
        text = exc.format()
        assert "catalog invalid" in text and any(name in text for name in texts), text
        return None, {}
    return cat, {env: {a.path: a.serialize() for a in render(cat, env)} for env in envs or cat.defaults.environments}


@settings(max_examples=150, **SETTINGS)
@given(catalog())
def test_any_schema_valid_catalog_loads_and_renders(files):
    load_and_render(files)


def write_prometheus(out: dict[str, bytes], where: Path) -> list[Path]:
    """The rendered rule and test files into ``where``; the test files."""
    where.mkdir(parents=True, exist_ok=True)
    tests = []
    for path, content in out.items():
        if path.startswith("prometheus/"):
            (where / Path(path).name).write_bytes(content)
            if path.endswith(".tests.yaml"):
                tests.append(where / Path(path).name)
    return sorted(tests)


def failing_files(test_files: list[Path], cwd: Path) -> tuple[set[str], str]:
    """Run ``promtool test rules`` over ``test_files`` (two processes); the files that failed, and the report."""
    from concurrent.futures import ThreadPoolExecutor

    chunks = [test_files[i::2] for i in range(2)]

    def run(chunk):
        if not chunk:
            return ""
        r = subprocess.run(["promtool", "test", "rules", *(str(p.relative_to(cwd)) for p in chunk)], cwd=cwd,
                           capture_output=True, text=True)
        return r.stdout + r.stderr

    with ThreadPoolExecutor(max_workers=2) as pool:
        report = "".join(pool.map(run, chunks))
    failed, current = set(), None
    for line in report.splitlines():
        if line.startswith("Unit Testing:"):
            current = line.split(":", 1)[1].strip()
        elif "FAILED" in line and current:
            failed.add(current)
    return failed, report


def _collect_and_check(tmp_path: Path, strategy, n: int):
    cases = []

    @settings(max_examples=n, **SETTINGS)
    @given(strategy)
    def collect(files):
        cat, rendered = load_and_render(files, envs=("prod",))
        if cat is not None:
            cases.append((files, rendered["prod"]))

    collect()
    files_of = {}
    tests = []
    for k, (files, out) in enumerate(cases):
        for t in write_prometheus(out, tmp_path / f"c{k}"):
            tests.append(t)
            files_of[str(t.relative_to(tmp_path))] = files
    failed, report = failing_files(tests, tmp_path)
    assert not failed, "\n---\n".join(yaml.safe_dump(files_of[f]) for f in sorted(failed)) + report[-4000:]
    return len(cases)


@requires_promtool
def test_generated_promtool_tests_pass_on_random_catalogs(tmp_path):
    """At least 200 random catalogs (every kind but the ratio SLOs, whose burn-rate tests replay days of samples:
    15 of them below), rendered for prod: promtool runs their generated tests."""
    kinds = ("threshold", "flag", "trend", "failures", "stalled", "latency", "absent", "forecast", "changes")
    assert _collect_and_check(tmp_path, catalog(kinds=kinds, max_monitors=3), 210) >= 200


@requires_promtool
def test_generated_promtool_tests_pass_on_random_slos(tmp_path):
    assert _collect_and_check(tmp_path, catalog(kinds=("ratio",), max_monitors=1), 15) >= 10


# --- regressions found by the properties (shrunk) -------------------------------------------------------------

REGRESSIONS: dict[str, dict] = {
    # from the issue (found outside): Sloth's availability SLO stopped render with "cannot build a label value"
    "sloth availability SLO": {"svc0.yaml": {
        "service": "svc0", "team": "sre", "metrics": {
            "http_request_duration_seconds_count": {"type": "counter", "labels": ["code"]}},
        "monitors": [{"name": "Availability", "kind": "ratio", "threshold": 0.999,
                      "bad": {"metric": "http_request_duration_seconds_count",
                              "matchers": {"job": "myservice", "code": "=~(5..|429)"}},
                      "total": {"metric": "http_request_duration_seconds_count", "matchers": {"job": "myservice"}}}]}},
    # the error selector is the total's plus a matcher: the other traffic must keep job="api"
    "error selector is the total's plus a matcher": {"svc0.yaml": {
        "service": "svc0", "team": "sre", "metrics": {"http_total": {"type": "counter", "labels": ["code"]}},
        "monitors": [{"name": "ApiErrors", "kind": "ratio", "threshold": 0.99,
                      "bad": {"metric": "http_total", "matchers": {"job": "api", "code": "=~5.."}},
                      "total": {"metric": "http_total", "matchers": {"job": "api"}}}]}},
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_shrunk_failures_stay_fixed(name):
    cat, _ = load_and_render(REGRESSIONS[name])
    assert cat is not None


@requires_promtool
@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_shrunk_failures_pass_their_generated_tests(name, tmp_path):
    _, rendered = load_and_render(REGRESSIONS[name], envs=("prod",))
    tests = write_prometheus(rendered["prod"], tmp_path / "c0")
    failed, report = failing_files(tests, tmp_path)
    assert not failed, report[-3000:]


@requires_promtool
def test_a_failing_generated_test_is_reported(tmp_path):
    """The promtool batch is not vacuous: a broken test file is named as failed."""
    d = tmp_path / "c0"
    d.mkdir()
    (d / "r.rules.yaml").write_text("groups: [{name: g, rules: [{alert: A, expr: up == 0}]}]\n")
    (d / "x.tests.yaml").write_text("rule_files: [r.rules.yaml]\ntests: [{input_series: [{series: up, values: '0x5'}], "
                                    "alert_rule_test: [{eval_time: 1m, alertname: A, exp_alerts: []}]}]\n")
    failed, _ = failing_files([d / "x.tests.yaml"], tmp_path)
    assert failed == {"c0/x.tests.yaml"}
