"""Label values for any regex matcher (generators/re2.py, prometheus/series.py): examples a regex matches and
values it rejects, checked by Python's `re` (fast tier, on the syntax both share) and by promtool (slow tier, on
Prometheus' own matcher); the total's matchers kept on the other-traffic series; catalog checks for matchers
nothing satisfies; the Sloth availability SLO through `mlmon check`."""

from __future__ import annotations

import re
import subprocess
import textwrap

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import requires_promtool, run_cli
from generators import re2
from generators.loader import load_catalog
from generators.prometheus.series import Unmatchable, complement_labels, example_value, split_counters
from generators.resolve import resolve

# Regexes in the syntax RE2 and Python's `re` read alike (no POSIX/Unicode classes, no `{,n}`, no `\Q..\E`)
SHARED = [
    "(5..|429)", "5..", "2..|3..", "[a-z]+", "[^a-z]+", "(?i)api", r"\d{3}", "foo|bar|", "x{2,3}y?",
    "(?:a|b)*c", r"[\d\-]+", "(?s).", "", "a|", "^api$", "(?P<x>a)b", r"\bfoo\b", "[]a]", "[a-]", "x{",
    "api|web-.*", ".+-canary", "(prod|staging)-(eu|us)-[0-9]+", r"v\d+\.\d+\.\d+", "[^0-9].*", ".{3,5}",
    "(?i:ERROR|warn)", "a*b+c?", "(ab){2}", "[A-Z][a-z]*", r"\w+@\w+", r"[\s\S]", "(a|b|c)(d|e)?",
]
RE2_ONLY = {"[[:alpha:]]+": "a", r"\pL+": "a", r"\p{Greek}": None, r"\Qa.b\E": "a.b", "a{,3}": "a{,3}",
            "[[:^digit:]]x": None, r"\PN": None}


@pytest.mark.parametrize("pattern", SHARED)
def test_examples_agree_with_python_re(pattern):
    ex = re2.example(pattern)
    assert ex is not None and re.fullmatch(pattern, ex), (pattern, ex)
    cex = re2.counter_example(pattern)
    assert cex is not None and not re.fullmatch(pattern, cex), (pattern, cex)


@pytest.mark.parametrize("pattern,expected", sorted(RE2_ONLY.items()))
def test_re2_only_syntax(pattern, expected):
    ex = re2.example(pattern)
    assert ex is not None and re2.fullmatch(pattern, ex)
    if expected is not None:
        assert ex == expected
    assert re2.counter_example(pattern) is not None


def test_sloth_matcher_gives_a_5xx_code():
    assert example_value("=~", "(5..|429)", True) == "500"
    assert not re.fullmatch("(5..|429)", example_value("=~", "(5..|429)", False))
    assert re.fullmatch("5..", example_value("!~", "5..", False))
    assert not re.fullmatch("5..", example_value("!~", "5..", True))


def test_unmatchable_and_universal_regexes():
    assert re2.example("a^b") is None and re2.counter_example(".*") is None
    with pytest.raises(Unmatchable):
        example_value("=~", "a^b", True)
    with pytest.raises(Unmatchable):
        example_value("!~", ".*", True)
    # `.` matches a newline in Prometheus 3, not in 2: a counter-example must fail under both
    assert re2.counter_example("(?s).*") is None


@pytest.mark.parametrize("pattern", ["(", "a**", "x{2}{3}", "[z-a]", r"\C", r"\8", "(?<", "a{1001}"])
def test_invalid_re2_is_rejected(pattern):
    with pytest.raises(re2.RegexError):
        re2.parse(pattern)


# --- hypothesis: random regexes from the shared syntax ------------------------------------------------------

ATOMS = st.sampled_from(["a", "b", "5", "0", "-", ".", r"\d", r"\w", "[a-c]", "[^a]", "[0-9x]", r"\.", "_"])


def _regex():
    def extend(inner):
        return st.one_of(
            st.tuples(inner, inner).map("".join),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}|{t[1]}"),
            inner.map(lambda r: f"({r})"), inner.map(lambda r: f"(?:{r})"),
            st.tuples(inner, st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "{0,}", "*?"])).map(
                lambda t: f"(?:{t[0]}){t[1]}"),
        )
    return st.recursive(ATOMS, extend, max_leaves=8)


REGEX = _regex()


@settings(max_examples=300, deadline=None)
@given(REGEX)
def test_random_regexes_agree_with_python_re(pattern):
    ex = re2.example(pattern)
    if ex is None:
        assert not any(re.fullmatch(pattern, v) for v in ("", "a", "0", "ab", "a-b"))
    else:
        assert re.fullmatch(pattern, ex), (pattern, ex)
    cex = re2.counter_example(pattern)
    if cex is not None:
        assert not re.fullmatch(pattern, cex), (pattern, cex)
    for probe in ("", "a", "5", "a5", "0-", "ab.", "___"):
        assert re2.fullmatch(pattern, probe) == bool(re.fullmatch(pattern, probe)), (pattern, probe)


# --- label sets of generated series ------------------------------------------------------------------------

SVC = """\
service: web
team: sre
labels: [region]
metrics:
  http_requests_total: {type: counter, labels: [code]}
monitors:
  - name: ApiErrors
    kind: ratio
    bad: {metric: http_requests_total, matchers: {job: api, code: "=~5.."}}
    total: {metric: http_requests_total, matchers: {job: api}}
    threshold: 0.99
  - name: SlothAvailability
    kind: ratio
    bad: {metric: http_requests_total, matchers: {job: myservice, code: "=~(5..|429)"}}
    total: {metric: http_requests_total, matchers: {job: myservice}}
    threshold: 0.999
  - name: NotCanaryErrors
    kind: threshold
    metric: http_requests_total
    matchers: {job: "!~.*-canary", code: "=~5..|429"}
    denominator: {metric: http_requests_total, matchers: {job: "!~.*-canary"}}
    threshold: 0.05
    severity: ticket
"""


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    root = tmp_path_factory.mktemp("web") / "alerts"
    root.mkdir()
    (root / "web.yaml").write_text(SVC)
    return root


def _series(rs, name):
    m = next(x for x in rs.service.monitors if x.name == name)
    part = m.bad if hasattr(m, "bad") else None
    if part is not None:
        return split_counters(rs, [(s.metric, s.matchers) for s in part], [(s.metric, s.matchers) for s in m.total])
    return split_counters(rs, [(m.metric, m.matchers)], [(d.metric, d.matchers) for d in m.denominator])


def test_other_traffic_keeps_the_totals_matchers(web):
    rs = resolve(load_catalog(web), "prod")[0]
    (series, part_in_total) = _series(rs, "ApiErrors")
    assert part_in_total
    names = dict((role, n) for n, role in series)
    assert names["part"] == 'http_requests_total{code="500",job="api",region="a"}'
    assert names["rest"] == 'http_requests_total{code="mlmon-other",job="api",region="a"}'
    series, _ = _series(rs, "NotCanaryErrors")
    rest = next(n for n, role in series if role == "rest")
    assert 'job="' in rest and not re.search(r'job="[^"]*-canary"', rest)
    assert 'code="mlmon-other"' in rest


def test_complement_fails_only_the_parts_own_matcher(web):
    rs = resolve(load_catalog(web), "prod")[0]
    labels = complement_labels(rs, "http_requests_total", {"job": "api", "code": "=~5.."}, keep={"job": "api"})
    assert labels == {"code": "mlmon-other", "job": "api", "region": "a"}
    assert complement_labels(rs, "http_requests_total", {"job": "api"}, keep={"job": "api"}) is None


def test_render_of_regex_matchers_succeeds(web):
    r = run_cli("render", "--catalog", str(web), "--env", "prod", "--out", str(web.parent / "out"))
    assert r.code == 0, r.err
    tests = yaml.safe_load((web.parent / "out" / "prometheus" / "web.tests.yaml").read_text())
    written = {s["series"] for t in tests["tests"] for s in t["input_series"]}
    assert 'http_requests_total{code="500",job="myservice",region="a"}' in written
    assert 'http_requests_total{code="mlmon-other",job="myservice",region="a"}' in written


@requires_promtool
def test_generated_tests_of_regex_matchers_pass_promtool(web, tmp_path):
    out = tmp_path / "out"
    assert run_cli("render", "--catalog", str(web), "--env", "prod", "--out", str(out)).code == 0
    r = subprocess.run(["promtool", "test", "rules", "web.tests.yaml"], cwd=out / "prometheus",
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


# --- catalog checks ------------------------------------------------------------------------------------------


def test_unsatisfiable_and_invalid_matchers_are_catalog_errors(make_catalog):
    root = make_catalog({"bad.yaml": """\
        service: bad
        team: sre
        metrics:
          http_requests_total: {type: counter, labels: [code]}
        monitors:
          - name: Errs
            kind: ratio
            bad: {metric: http_requests_total, matchers: {code: "=~a^b"}}
            total: [{metric: http_requests_total, matchers: {job: "!~.*"}}, {metric: http_requests_total, matchers: {job: "=~x**"}}]
            threshold: 0.99
          - name: AllErrors
            kind: ratio
            bad: {metric: http_requests_total, matchers: {code: "=~.*"}}
            total: http_requests_total
            threshold: 0.99
        """})
    r = run_cli("check", "--catalog", str(root))
    assert r.code == 2 and "Traceback" not in r.err
    assert "bad.yaml:8: monitors[0].bad.matchers.code: '=~a^b' matches no label value" in r.err
    assert "bad.yaml:9: monitors[0].total[0].matchers.job: '!~.*' rejects every label value" in r.err
    assert "monitors[0].total[1].matchers.job: '=~x**' is not a regex Prometheus accepts" in r.err
    assert "monitors[1].total: `total` selects no series beyond the `bad` selectors" in r.err


# --- promtool: Prometheus' own matcher agrees ----------------------------------------------------------------


def _promtool_cases():
    pats = list(SHARED) + [p for p in RE2_ONLY if p not in ("a{,3}",)]  # {,3}: a Go version difference
    import random

    rnd = random.Random(13)
    atoms = ["a", "b", "5", "0", "-", ".", r"\d", r"\w", "[a-c]", "[^a]", "[0-9x]", r"\.", "_"]

    def gen(depth=0):
        k = rnd.random()
        if depth > 2 or k < 0.3:
            return rnd.choice(atoms)
        if k < 0.5:
            return gen(depth + 1) + gen(depth + 1)
        if k < 0.65:
            return f"{gen(depth + 1)}|{gen(depth + 1)}"
        if k < 0.8:
            return f"({gen(depth + 1)})"
        return f"(?:{gen(depth + 1)}){rnd.choice(['*', '+', '?', '{2}', '{1,3}'])}"

    pats += [gen() for _ in range(300)]
    return list(dict.fromkeys(pats))


@requires_promtool
def test_promtool_agrees_on_examples_and_counter_examples(tmp_path):
    """One alert per regex: `m{case="i", v=~"re"}`; the example series must be selected, the counter-example
    series not (Prometheus' matcher decides)."""
    pats = _promtool_cases()
    rules, series, checks = [], [], []
    for i, p in enumerate(pats):
        esc = p.replace("\\", "\\\\").replace('"', '\\"')
        rules.append({"alert": f"Case{i}", "expr": f'm{{case="{i}",v=~"{esc}"}}'})
        ex, cex = re2.example(p), re2.counter_example(p)
        exp = []
        for kind, val in (("match", ex), ("nomatch", cex)):
            if val is None:
                continue
            labels = {"case": str(i), "kind": kind}
            if val != "":
                labels["v"] = val
            inner = ",".join(f'{k}="{w.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
                             for k, w in sorted(labels.items()))
            series.append({"series": f"m{{{inner}}}", "values": "1x3"})
            if kind == "match":
                exp.append({"exp_labels": labels})
        checks.append({"eval_time": "1m", "alertname": f"Case{i}", "exp_alerts": exp})
    (tmp_path / "r.yaml").write_text(yaml.safe_dump({"groups": [{"name": "re2", "rules": rules}]}))
    (tmp_path / "t.yaml").write_text(yaml.safe_dump({"rule_files": ["r.yaml"], "evaluation_interval": "1m", "tests": [
        {"interval": "1m", "input_series": series, "alert_rule_test": checks}]}, allow_unicode=True))
    r = subprocess.run(["promtool", "test", "rules", "t.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, textwrap.shorten(r.stdout + r.stderr, 4000)
    assert len(pats) >= 200
