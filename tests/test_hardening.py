"""Issue 11: every class of hostile or nonsensical input is rejected at load, naming the file, the path inside it
and the rule; exit 2; no traceback, no internal error, nothing written. One table per class, each case keyed by
the sentence it proves."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from conftest import ROOT, SEEDS

DEFAULTS = """\
environments: [dev, prod]
rule_labels: {release: kube-prometheus-stack}
dashboard_labels: {grafana_dashboard: "1"}
dashboard_folder_annotation: grafana_folder
common_labels: {platform: ml}
"""

SERVICE = """\
service: shop
title: Shop
team: commerce
namespace: shop
workload: {kind: Deployment, name: shop-api}
routing: {critical: shop-oncall}
links: {dashboard: "https://grafana.example.com/d/shop"}
metrics:
  shop_quality_score: {type: gauge, range: [0, 1]}
  shop_requests_total: {type: counter, labels: [code]}
monitors:
  - name: ShopQualityLow
    kind: threshold
    metric: shop_quality_score
    op: below
    threshold: 0.7
    for: 10m
    severity: critical
    summary: "Shop quality {{ $value | humanize }}"
    labels: {component: model}
    smoothing: {function: avg, window: 5m}
    remediations: [restart-shop-api]
  - name: ShopAvailability
    kind: ratio
    bad: {metric: shop_requests_total, matchers: {code: "=~5.."}}
    total: shop_requests_total
    threshold: 0.99
    period: 30d
jobs:
  - name: quality-evaluation
    purpose: evaluation
    description: Evaluate the shop model on the golden set.
    schedule: "0 * * * *"
    image: registry.example.com/shop/eval:1.0.0
    command: [python, -m, eval]
    deadline: 20m
remediations:
  - name: restart-shop-api
    action: rollout-restart
    description: Restart shop-api.
"""


def base() -> dict[str, str]:
    return {"_defaults.yaml": DEFAULTS, "shop.yaml": SERVICE}


def edit(file: str, old: str, new: str):
    def f(files):
        assert old in files[file], (file, old)
        files[file] = files[file].replace(old, new, 1)
    return f


def billion_laughs(files):
    lines = ["lol0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    files["shop.yaml"] = "\n".join(lines) + "\n" + SERVICE


def million_items(files):
    files["shop.yaml"] = SERVICE + "external_metrics:\n" + "".join(f"- m_{i}\n" for i in range(10 ** 6))


def deep(files):
    files["shop.yaml"] = SERVICE + "title2: " + "[" * 200 + "]" * 200 + "\n"


def huge_value(files):  # under the size bound: the message must not echo it
    files["shop.yaml"] = SERVICE.replace("namespace: shop", "namespace: " + "x" * 900_000)


YAML = {
    "a billion-laughs file is stopped at the alias crossing the value bound":
        (billion_laughs, "shop.yaml:5", "expands to more than 100000 values"),
    "a flat list of a million items is refused by the size bound": (million_items, "shop.yaml", "may be at most"),
    "merge keys are refused": (edit("shop.yaml", "  - name: ShopAvailability\n",
                                    "  - <<: {enabled: true}\n    name: ShopAvailability\n"),
                               "shop.yaml:23", "merge keys (`<<`) are not allowed"),
    "a custom tag is refused": (edit("shop.yaml", "title: Shop", "title: !env SHOP_TITLE"), "shop.yaml:2",
                                "tag '!env' is not allowed"),
    "a Python tag is refused": (edit("shop.yaml", "title: Shop", "title: !!python/object/apply:os.system [id]"),
                                "shop.yaml:2", "is not allowed"),
    "a recursive alias is refused": (edit("shop.yaml", "links: {dashboard:", "loop: &a [1, *a]\nlinks: {dashboard:"),
                                     "shop.yaml:7", "recursive alias *a"),
    "an alias to no anchor is refused": (edit("shop.yaml", "title: Shop", "title: *nope"), "shop.yaml:2",
                                         "names no anchor"),
    "two YAML documents in one file are refused": (lambda f: f.update({"shop.yaml": SERVICE + "---\nx: 1\n"}),
                                                   "shop.yaml", "more than one YAML document"),
    "nesting 200 levels deep is refused": (deep, "shop.yaml", "nested more than 64 levels"),
    "a value near 1 MB is not echoed back": (huge_value, "shop.yaml:4: namespace", "(900000 characters)"),
    "a duplicate key is refused": (edit("shop.yaml", "team: commerce", "team: commerce\nteam: other"),
                                   "shop.yaml:4", "duplicate key 'team'"),
}

NAMES = {
    "a namespace with a trailing newline is refused": (edit("shop.yaml", "namespace: shop", 'namespace: "shop\\n"'),
                                                       "shop.yaml:4: namespace", "not a DNS-1123 label"),
    "a remediation name with a trailing newline is refused":
        (edit("shop.yaml", "  - name: restart-shop-api", '  - name: "restart-shop-api\\n"'),
         "remediations[0].name", "not a DNS-1123 label"),
    "a workload name with a trailing newline is refused":
        (edit("shop.yaml", "name: shop-api}", 'name: "shop-api\\n"}'), "workload.name", "not a DNS-1123 label"),
    "an image with a trailing newline is refused":
        (edit("shop.yaml", "image: registry.example.com/shop/eval:1.0.0", 'image: "registry.example.com/shop/eval:1.0.0\\n"'),
         "jobs[0].image", "not a container image reference"),
    "an environment name with a trailing newline is refused":
        (edit("_defaults.yaml", "environments: [dev, prod]", 'environments: [dev, "prod\\n"]'),
         "_defaults.yaml:1: environments[1]", "not a DNS-1123 label"),
    "a service name with a trailing newline is refused":
        (edit("shop.yaml", "service: shop", 'service: "shop\\n"'), "shop.yaml:1: service", "not a DNS-1123 label"),
    "an alert name with a trailing newline is refused":
        (edit("shop.yaml", "name: ShopQualityLow", 'name: "ShopQualityLow\\n"'), "monitors[0].name", "CamelCase"),
    "a metric name with a trailing newline is refused":
        (edit("shop.yaml", "metric: shop_quality_score", 'metric: "shop_quality_score\\n"'), "monitors[0].metric",
         "not a Prometheus metric name"),
    "a 300-character alert name is refused before runbooks hit ENAMETOOLONG":
        (edit("shop.yaml", "name: ShopQualityLow", "name: Shop" + "Q" * 290), "monitors[0].name", "at most 120"),
}

KUBERNETES = {
    "a rule label key with a space is refused": (edit("_defaults.yaml", "{release: kube-prometheus-stack}",
                                                      "{release name: x}"),
                                                 "_defaults.yaml:2: rule_labels", "not a Kubernetes label key"),
    "a rule label value with a slash is refused": (edit("_defaults.yaml", "{release: kube-prometheus-stack}",
                                                        "{release: a/b}"),
                                                   "rule_labels.release", "not a Kubernetes label value"),
    "a dashboard label value of 64 characters is refused":
        (edit("_defaults.yaml", 'grafana_dashboard: "1"', "grafana_dashboard: " + "a" * 64),
         "dashboard_labels.grafana_dashboard", "at most 63"),
    "a dashboard label key with a bad prefix is refused":
        (edit("_defaults.yaml", "{grafana_dashboard:", "{Grafana.IO/dashboard:"), "dashboard_labels",
         "not a Kubernetes label key"),
    "a folder annotation key that is not a Kubernetes key is refused":
        (edit("_defaults.yaml", "dashboard_folder_annotation: grafana_folder",
              "dashboard_folder_annotation: grafana folder!"), "dashboard_folder_annotation",
         "not a Kubernetes annotation key"),
    "a label value that is a number is refused (quote it)":
        (edit("_defaults.yaml", 'grafana_dashboard: "1"', "grafana_dashboard: 1"), "dashboard_labels.grafana_dashboard",
         "must be a string"),
    "per-environment labels follow the same rules":
        (lambda f: f.update({"_defaults.yaml": DEFAULTS + "environment_settings:\n  prod:\n    rule_labels: {'-x': y}\n"}),
         "environment_settings.prod.rule_labels", "not a Kubernetes label key"),
}

NUMBERS = {
    "threshold .nan is refused": (edit("shop.yaml", "threshold: 0.7", "threshold: .nan"), "monitors[0].threshold",
                                  "finite number"),
    "threshold .inf is refused": (edit("shop.yaml", "threshold: 0.7", "threshold: .inf"), "monitors[0].threshold",
                                  "finite number"),
    "a range with .nan is refused": (edit("shop.yaml", "range: [0, 1]", "range: [0, .nan]"),
                                     "metrics.shop_quality_score.range", "finite number"),
    "period 0 is refused (it rendered > (0 * 0.01))": (edit("shop.yaml", "period: 30d", "period: 0"),
                                                       "monitors[1].period", "longer than 0"),
    "evaluation_interval 0 is refused (ZeroDivisionError)":
        (lambda f: f.update({"_defaults.yaml": DEFAULTS + "evaluation_interval: 0\n"}), "_defaults.yaml:6",
         "longer than 0"),
    "a smoothing window of 0 is refused": (edit("shop.yaml", "window: 5m}", "window: 0}"),
                                           "monitors[0].smoothing.window", "longer than 0"),
    "an absurd duration is refused": (edit("shop.yaml", "for: 10m", "for: 99999999999d"), "monitors[0].for",
                                      "longer than 366d"),
    "a job deadline of 0 is refused": (edit("shop.yaml", "deadline: 20m", "deadline: 0"), "jobs[0].deadline",
                                       "greater than 0"),
    "a request above the default limit is refused at load, not at render (found by the fuzz suite)":
        (edit("shop.yaml", "    deadline: 20m\n", "    deadline: 20m\n    resources: {requests: {memory: 4Gi}}\n"),
         "jobs[0].resources", "memory request 4Gi is above its limit 1Gi"),
}

DURATIONS = {
    "a unit-less for (read as seconds before) is refused": (edit("shop.yaml", "for: 10m", "for: 10"),
                                                            "monitors[0].for", "has no unit"),
    "a unit-less quoted for is refused": (edit("shop.yaml", "for: 10m", 'for: "10"'), "monitors[0].for", "has no unit"),
    "a fractional duration is refused": (edit("shop.yaml", "for: 10m", "for: 1.5"), "monitors[0].for", "duration"),
    "YAML 1.1 base-60 1:30 is refused": (edit("shop.yaml", "for: 10m", "for: 1:30"), "shop.yaml:17", "base-60"),
    "a negative duration is refused": (edit("shop.yaml", "for: 10m", "for: -5m"), "monitors[0].for", "not a duration"),
    "units out of order are refused": (edit("shop.yaml", "for: 10m", "for: 5m1h"), "monitors[0].for",
                                       "largest first"),
    "a boolean duration is refused": (edit("shop.yaml", "for: 10m", "for: yes"), "monitors[0].for", "boolean"),
}

TEMPLATES = {
    "a template action spanning a newline in a summary is refused":
        (edit("shop.yaml", 'summary: "Shop quality {{ $value | humanize }}"', 'summary: "{{ printf\\n\\"%s\\" \\"X\\" }}"'),
         "monitors[0].summary", "template action"),
    "an unclosed action in a description is refused":
        (edit("shop.yaml", "    labels: {component: model}", "    description: 'value {{ $value'\n    labels: {component: model}"),
         "monitors[0].description", "never closed"),
    "a template action in a monitor label is refused":
        (edit("shop.yaml", "{component: model}", '{component: "{{ $labels.code }}"}'), "monitors[0].labels.component",
         "label value may not hold a template action"),
    "a template action in common_labels is refused":
        (edit("_defaults.yaml", "{platform: ml}", '{platform: "{{ printf \\"x\\" }}"}'), "common_labels.platform",
         "label value may not hold a template action"),
    "a template action in a receiver is refused":
        (edit("shop.yaml", "{critical: shop-oncall}", '{critical: "{{ .Receiver }}"}'), "routing.critical",
         "label value may not hold a template action"),
    "a template action in links.dashboard is refused":
        (edit("shop.yaml", '"https://grafana.example.com/d/shop"', '"https://g/d/{{ .ExternalURL }}"'),
         "links.dashboard", "template action"),
    "a template action in the title (the default summary) is refused":
        (edit("shop.yaml", "title: Shop", "title: '{{ printf \"x\" }}'"), "shop.yaml:2: title", "template action"),
    "a template action in runbook_base is refused":
        (lambda f: f.update({"_defaults.yaml": DEFAULTS + "runbook_base: 'https://r/{{ .Alert }}'\n"}),
         "_defaults.yaml:6: runbook_base", "template action"),
    "a template action reaching an annotation through a matcher (the default summary) is refused":
        (edit("shop.yaml", '    summary: "Shop quality {{ $value | humanize }}"\n    labels:',
              "    matchers: {code: '{{ printf \"x\" }}'}\n    labels:"), "shop.yaml:12: monitors[0]",
         "the annotation summary of alert ShopQualityLow holds the template action"),
}

TABLES = {**YAML, **NAMES, **KUBERNETES, **NUMBERS, **DURATIONS, **TEMPLATES}


def write(root: Path, files: dict[str, str]) -> Path:
    cat = root / "alerts"
    cat.mkdir(parents=True)
    for name, text in files.items():
        (cat / name).write_text(text)
    return cat


def test_the_base_catalog_renders(cli, tmp_path):
    """The tables mutate a valid catalog: it renders, so each failure below is the mutation's."""
    cat = write(tmp_path, base())
    r = cli("render", "--catalog", str(cat), "--env", "prod", "--out", str(tmp_path / "out"))
    assert r.code == 0, r.err


@pytest.mark.parametrize("case", TABLES, ids=list(TABLES))
def test_rejected_at_load_naming_file_path_and_rule(cli, tmp_path, case):
    mutate, where, rule = TABLES[case]
    files = base()
    mutate(files)
    cat = write(tmp_path, files)
    out = tmp_path / "out"
    for command in (("render", "--env", "prod", "--out", str(out)), ("thresholds",)):
        t = time.monotonic()
        r = cli(command[0], "--catalog", str(cat), *command[1:])
        assert time.monotonic() - t < 10, "slow rejection"
        assert r.code == 2, (command, r.code, r.err[:500])
        assert "Traceback" not in r.err and "internal error" not in r.err
        assert where in r.err, r.err[:1500]
        assert rule in r.err, r.err[:1500]
        assert len(r.err) < 5000, "the error echoes too much"
    assert not out.exists()


# --- catalog files: symlinks, hidden files, folders -----------------------------------------------

def test_dangling_and_looping_symlinks_are_errors(cli, tmp_path):
    cat = write(tmp_path, base())
    (cat / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    (cat / "loop.yaml").symlink_to(cat / "loop.yaml")
    (cat / "folder.yaml").mkdir()
    r = cli("render", "--catalog", str(cat), "--env", "dev", "--out", str(tmp_path / "out"))
    assert r.code == 2 and "Traceback" not in r.err
    assert "gone.yaml: cannot read the catalog file: it is a dangling symlink" in r.err
    assert "loop.yaml: cannot read the catalog file: it is a looping symlink" in r.err
    assert "folder.yaml: cannot read the catalog file: it is a folder" in r.err
    assert not (tmp_path / "out").exists()


def test_a_symlink_to_a_file_is_loaded(cli, tmp_path):
    cat = write(tmp_path, {"_defaults.yaml": DEFAULTS})
    (tmp_path / "shop.yaml").write_text(SERVICE)
    (cat / "shop.yaml").symlink_to(tmp_path / "shop.yaml")
    r = cli("render", "--catalog", str(cat), "--env", "dev", "--out", str(tmp_path / "out"))
    assert r.code == 0, r.err
    assert (tmp_path / "out" / "prometheus" / "shop.rules.yaml").is_file()


def test_hidden_files_are_not_loaded_and_said_so(cli, tmp_path):
    files = base()
    files[".shop.yaml"] = SERVICE.replace("service: shop", "service: ghost")  # an editor's copy
    cat = write(tmp_path, files)
    r = cli("render", "--catalog", str(cat), "--env", "dev", "--out", str(tmp_path / "out"))
    assert r.code == 0, r.err
    assert "warning" in r.err and ".shop.yaml: hidden file not loaded" in r.err
    assert not (tmp_path / "out" / "prometheus" / "ghost.rules.yaml").exists()


def test_an_upper_case_suffix_is_not_loaded_and_said_so(cli, tmp_path):
    files = base()
    files["ghost.YAML"] = SERVICE.replace("service: shop", "service: ghost")
    cat = write(tmp_path, files)
    r = cli("render", "--catalog", str(cat), "--env", "dev", "--out", str(tmp_path / "out"))
    assert r.code == 0 and "ghost.YAML: not loaded" in r.err, r.err


def test_not_utf8_is_an_error_naming_the_file(cli, tmp_path):
    cat = write(tmp_path, base())
    (cat / "bin.yaml").write_bytes(b"service: \xff\xfe\n")
    r = cli("render", "--catalog", str(cat), "--env", "dev", "--out", str(tmp_path / "out"))
    assert r.code == 2 and "bin.yaml: not UTF-8" in r.err


def test_an_unreadable_catalog_directory_exits_2_naming_it(cli, tmp_path):
    f = tmp_path / "alerts"
    f.write_text("not a folder")
    r = cli("render", "--catalog", str(f), "--env", "dev", "--out", str(tmp_path / "out"))
    assert r.code == 2 and str(f) in r.err and "Traceback" not in r.err


# --- names --------------------------------------------------------------------------------------

LONG = """\
service: {name}
team: ml
metrics: {{score: {{range: [0, 1]}}}}
monitors:
  - {{name: {alert}, kind: threshold, metric: score, threshold: 0.5, for: 5m, severity: warning}}
"""


def test_services_sharing_a_long_prefix_get_distinct_dashboard_uids(cli, tmp_path):
    """Two services sharing a 34-character prefix collided ("two generators wrote grafana/...")."""
    prefix = "a" * 34
    files = {"_defaults.yaml": DEFAULTS}
    for suffix, alert in (("-one", "ScoreOne"), ("-two", "ScoreTwo")):
        files[f"{prefix}{suffix}.yaml"] = LONG.format(name=prefix + suffix, alert=alert)
    cat = write(tmp_path, files)
    out = tmp_path / "out"
    r = cli("render", "--catalog", str(cat), "--env", "dev", "--out", str(out))
    assert r.code == 0, r.err
    uids = sorted(p.stem for p in (out / "grafana").glob("*.json"))
    assert len(uids) == 2 and len(set(uids)) == 2 and all(len(u) <= 40 for u in uids), uids
    r = cli("runbooks", "--catalog", str(cat), "--out", str(tmp_path / "rb"))
    assert r.code == 0, r.err


def test_dashboard_uid_is_unchanged_for_short_names():
    from generators.names import dashboard_uid

    assert dashboard_uid("shop") == "mlmon-shop"
    assert dashboard_uid("x" * 34) == "mlmon-" + "x" * 34
    long = [dashboard_uid("x" * 34 + s) for s in ("-one", "-two")]
    assert long[0] != long[1] and all(len(u) == 40 for u in long)


# --- the same output whatever the path ------------------------------------------------------------

def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_render_is_the_same_from_any_path(cli, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(SEEDS, repo)
    (tmp_path / "elsewhere").mkdir()
    outs = []
    for i, (catalog, cwd) in enumerate([("alerts", repo), (str(repo / "alerts"), tmp_path),
                                        ("../repo/alerts", tmp_path / "elsewhere")]):
        out = tmp_path / f"out{i}"
        r = cli("render", "--catalog", catalog, "--env", "prod", "--out", str(out), cwd=cwd)
        assert r.code == 0, r.err
        outs.append(_tree(out))
    assert outs[0] == outs[1] == outs[2]
    text = b"".join(outs[0].values()).decode()
    assert str(tmp_path) not in text
    assert "Generated by mlmon from alerts/" in text


def test_runbooks_are_the_same_from_any_path(cli, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(SEEDS, repo)
    a = cli("runbooks", "--catalog", "alerts", "--out", str(tmp_path / "a"), cwd=repo)
    b = cli("runbooks", "--catalog", str(repo / "alerts"), "--out", str(tmp_path / "b"), cwd=tmp_path)
    assert a.code == b.code == 0, (a.err, b.err)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert str(tmp_path) not in b"".join(_tree(tmp_path / "b").values()).decode()


def test_the_stack_program_deploys_no_local_path(tmp_path):
    """The Pulumi program loads the catalog by absolute path: the dashboards it declares name alerts/x.yaml."""
    pytest.importorskip("pulumi")
    from generators.loader import load_catalog
    from generators.render import render, serialize_all

    catalog = load_catalog(SEEDS / "alerts")
    text = b"".join(serialize_all(render(catalog, "prod")).values()).decode()
    assert str(SEEDS) not in text and "Generated by mlmon from alerts/" in text


def test_plan_reads_alerts_of_the_current_directory(cli, tmp_path):
    pytest.importorskip("pulumi")
    pytest.importorskip("pulumi_kubernetes")
    repo = tmp_path / "repo"
    shutil.copytree(SEEDS, repo)
    before = cli("plan", "--env", "dev", "--json", "--stacks", str(ROOT / "stacks"), cwd=repo)
    assert before.code == 0, before.err
    (repo / "alerts" / "rl-feedback-loop.yaml").unlink()
    for board in (repo / "dashboards").glob("rl-feedback-loop*"):
        board.unlink()
    after = cli("plan", "--env", "dev", "--json", "--stacks", str(ROOT / "stacks"), cwd=repo)
    assert after.code == 0, after.err
    assert "rl-feedback-loop" in before.out and "rl-feedback-loop" not in after.out
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("plan", "--env", "dev", "--stacks", str(ROOT / "stacks"), cwd=empty)
    assert r.code == 2 and "catalog directory not found" in r.err


# --- exit codes -----------------------------------------------------------------------------------

def test_an_unlistable_catalog_is_exit_2_naming_it(cli, tmp_path, monkeypatch):
    """A failure of the environment (here: the catalog cannot be listed, EACCES) is no internal error."""
    cat = write(tmp_path, base())
    real = Path.iterdir

    def denied(self):
        if self == cat:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", denied)
    r = cli("render", "--catalog", str(cat), "--env", "dev", "--out", str(tmp_path / "out"))
    assert r.code == 2 and str(cat) in r.err and "Permission denied" in r.err and "internal error" not in r.err


# --- the bounded loader reads what PyYAML's safe loader reads (an independent oracle) ---------------

def _fixture_yaml():
    return sorted(p for p in (ROOT / "tests" / "fixtures").rglob("*.yaml"))


@pytest.mark.parametrize("path", _fixture_yaml(), ids=lambda p: str(p.relative_to(ROOT)))
def test_loader_reads_every_fixture_like_pyyaml(path):
    import yaml

    from generators.yamlio import load_with_lines

    text = path.read_text()
    assert load_with_lines(text)[0] == yaml.load(text, Loader=yaml.SafeLoader)


def test_loader_matches_pyyaml_on_generated_documents():
    import yaml
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from generators.yamlio import load_with_lines

    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        st.text(max_size=20), st.sampled_from(["yes", "No", "~", "0x1F", "0o17", "1_000", "0755",
                                                               "2024-01-02", ".inf", "-.inf", "=", "<<", "1e3", ""]))
    docs = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4),
                                                     st.dictionaries(st.text(max_size=8), c, max_size=4)),
                        max_leaves=25)

    @settings(max_examples=300, deadline=None)
    @given(doc=docs, flow=st.booleans())
    def check(doc, flow):
        text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True)
        assert load_with_lines(text)[0] == yaml.load(text, Loader=yaml.SafeLoader)

    check()


def test_anchors_and_aliases_expand_like_pyyaml_with_lines_of_the_anchor():
    from generators.yamlio import load_with_lines

    text = "a: &m {x: 1, y: [2, 3]}\nb: *m\nc:\n  - *m\n"
    data, lines = load_with_lines(text)
    assert data == {"a": {"x": 1, "y": [2, 3]}, "b": {"x": 1, "y": [2, 3]}, "c": [{"x": 1, "y": [2, 3]}]}
    assert data["b"] is not data["a"]  # a tree: editing one use changes no other
    assert lines[("b",)] == 1 and lines[("c", 0, "y", 1)] == 1 and lines[("c",)] == 4  # the sequence starts at its first item


def test_permission_denied_writing_is_exit_1_naming_the_path(cli, tmp_path, monkeypatch):
    import tempfile

    real = tempfile.mkdtemp

    def denied(*a, **kw):
        if ".out.tmp-" in str(kw.get("prefix", "")):
            raise PermissionError(13, "Permission denied", str(kw.get("dir")))
        return real(*a, **kw)

    monkeypatch.setattr(tempfile, "mkdtemp", denied)
    cat = write(tmp_path, base())
    r = cli("render", "--catalog", str(cat), "--env", "dev", "--out", str(tmp_path / "out"))
    assert r.code == 1 and "Permission denied" in r.err and str(tmp_path / "out") in r.err, r.err
    assert "internal error" not in r.err and not (tmp_path / "out").exists()


def test_any_oserror_of_a_command_is_exit_1_naming_the_path(cli, monkeypatch):
    """An OSError is the environment, not an mlmon bug: exit 1 with the path, never 70."""
    from generators.cli import runbooks

    def boom(args):
        raise PermissionError(13, "Permission denied", "/srv/runbooks/x.md")

    monkeypatch.setattr(runbooks, "run", boom)
    r = cli("runbooks", "--check")
    assert r.code == 1 and r.err.strip() == "mlmon: error: /srv/runbooks/x.md: Permission denied"


def test_a_real_bug_is_still_exit_70(cli, monkeypatch):
    from generators.cli import thresholds

    def boom(args):
        raise KeyError("bug")

    monkeypatch.setattr(thresholds, "run", boom)
    r = cli("thresholds")
    assert r.code == 70 and "internal error" in r.err
