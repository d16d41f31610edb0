"""Alertmanager from the catalog: receivers without secrets, routing per service and severity, inhibition as
data, the generated routing tests, and bad input (file, path, what was expected).

Oracles: ``amtool check-config`` and ``amtool config routes test`` (Debian's prometheus-alertmanager 0.25) on
the render; hand-written expectations from the seed runbooks (seed 004: page -> the "ML Infrastructure"
PagerDuty rotation, ticket -> #ml-routing-support; RLFeedbackQueueDepthCritical silences ...High).
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from generators.errors import CatalogError
from generators.loader import load_catalog
from generators.render import render, serialize_all, write_atomic

from conftest import CATALOG

requires_amtool = pytest.mark.skipif(shutil.which("amtool") is None,
                                     reason="amtool not on PATH (Debian package prometheus-alertmanager)")

DEFAULTS = """\
environments: [dev, prod]
alertmanager:
  receivers:
    team-pager:
      pagerduty: {routing_key: {secret: {name: am-pagerduty, key: team}}}
    team-slack:
      slack: {channel: "#team", api_url: {secret: {name: am-slack, key: team}}}
"""

SERVICE = """\
service: svc
team: ml
namespace: apps
routing: {page: team-pager, ticket: team-slack}
labels: [tenant]
metrics:
  depth: {type: gauge, labels: [tenant]}
  up_metric: {type: gauge}
monitors:
  - name: Depth
    kind: threshold
    metric: depth
    levels:
      - {alert: DepthHigh, threshold: 25, for: 15m, severity: ticket}
      - {alert: DepthCritical, threshold: 100, for: 10m, severity: page, overrides: {dev: {severity: ticket}}}
  - name: MetricsGone
    kind: absent
    metric: up_metric
    severity: page
"""


def problems(make_catalog, defaults=DEFAULTS, service=SERVICE):
    root = make_catalog({"_defaults.yaml": defaults, "svc.yaml": service})
    with pytest.raises(CatalogError) as exc:
        load_catalog(root)
    return [str(p) for p in exc.value.problems]


def rendered(catalog, env) -> dict:
    return {a.path: a.content for a in render(catalog, env)}


# ---------------------------------------------------------------------------------------------- the render


def test_seed_004_routes_page_to_pagerduty_and_ticket_to_slack():
    cfg = rendered(load_catalog(CATALOG), "prod")["alertmanager/alertmanager.yaml"]
    rl = [r for r in cfg["route"]["routes"] if r["matchers"][0] == 'service="rl-feedback-loop"'][0]
    assert rl["matchers"] == ['service="rl-feedback-loop"', 'team="ai-ml-platform"']
    assert [(r["matchers"], r["receiver"]) for r in rl["routes"]] == [
        (['severity="page"'], "ml-infrastructure-pagerduty"), (['severity="ticket"'], "ml-routing-support")]
    receivers = {r["name"]: r for r in cfg["receivers"]}
    assert receivers["ml-infrastructure-pagerduty"]["pagerduty_configs"][0]["routing_key_file"] == \
        "/etc/alertmanager/secrets/alertmanager-pagerduty/ml-infrastructure"
    assert receivers["ml-routing-support"]["slack_configs"][0]["channel"] == "#ml-routing-support"
    assert cfg["route"]["receiver"] == "null" and receivers["null"] == {"name": "null"}


def test_a_stalled_loop_silences_the_queue_depth_it_explains():
    cfg = rendered(load_catalog(CATALOG), "prod")["alertmanager/alertmanager.yaml"]
    (rule,) = [r for r in cfg["inhibit_rules"] if r["source_matchers"][0] == 'alertname="RLFeedbackProcessingStalled"']
    assert rule["target_matchers"][0] == \
        'alertname=~"RLFeedbackQueueDepthHigh|RLFeedbackQueueDepthCritical|RLFeedbackQueueDepthP95High"'
    assert rule["equal"] == ["env", "service", "tenant", "workspace"]


def test_critical_silences_high_of_the_same_series():
    cfg = rendered(load_catalog(CATALOG), "prod")["alertmanager/alertmanager.yaml"]
    rule = [r for r in cfg["inhibit_rules"] if r["source_matchers"][0] == 'alertname="RLFeedbackQueueDepthCritical"']
    assert rule == [{"source_matchers": ['alertname="RLFeedbackQueueDepthCritical"', 'service="rl-feedback-loop"'],
                     "target_matchers": ['alertname="RLFeedbackQueueDepthHigh"', 'service="rl-feedback-loop"'],
                     "equal": ["env", "service", "tenant", "workspace", "namespace", "job", "instance", "pod"]}]


def test_no_secret_in_any_rendered_file():
    """Every receiver key is a *_file path; nothing that looks like a key or hook URL is rendered."""
    for env in ("dev", "prod"):
        text = serialize_all(render(load_catalog(CATALOG), env))["alertmanager/alertmanager.yaml"].decode()
        assert "hooks.slack.com" not in text and "routing_key:" not in text and "api_url:" not in text
        assert text.count("_file: /etc/alertmanager/secrets/") >= 5


def test_grouping_defaults_per_severity_and_catalog_overrides(make_catalog):
    defaults = DEFAULTS + """\
  routing:
    ticket: {group_by: [alertname, tenant], repeat_interval: 3d, active_time_intervals: [office]}
  time_intervals:
    office: [{weekdays: ["monday:friday"], times: [{start_time: "09:00", end_time: "17:00"}]}]
"""
    cat = load_catalog(make_catalog({"_defaults.yaml": defaults, "svc.yaml": SERVICE}))
    cfg = rendered(cat, "prod")["alertmanager/alertmanager.yaml"]
    page, ticket = cfg["route"]["routes"][0]["routes"]
    assert page == {"matchers": ['severity="page"'], "receiver": "team-pager", "group_by": ["alertname", "service", "env"],
                    "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
    assert ticket == {"matchers": ['severity="ticket"'], "receiver": "team-slack", "group_by": ["alertname", "tenant"],
                      "group_wait": "2m", "group_interval": "15m", "repeat_interval": "3d",
                      "active_time_intervals": ["office"]}
    assert cfg["time_intervals"] == [{"name": "office", "time_intervals": [
        {"times": [{"start_time": "09:00", "end_time": "17:00"}], "weekdays": ["monday:friday"]}]}]


def test_routes_only_for_severities_present_in_the_environment(make_catalog):
    """In dev both levels are tickets: no page route is rendered there (it could not be reached)."""
    cat = load_catalog(make_catalog({"_defaults.yaml": DEFAULTS, "svc.yaml": SERVICE.replace(
        "    severity: page\n", "    severity: ticket\n")}))
    dev = rendered(cat, "dev")["alertmanager/alertmanager.yaml"]
    assert [r["receiver"] for r in dev["route"]["routes"][0]["routes"]] == ["team-slack"]
    assert [r["name"] for r in dev["receivers"]] == ["null", "team-slack"]
    prod = rendered(cat, "prod")["alertmanager/alertmanager.yaml"]
    assert [r["receiver"] for r in prod["route"]["routes"][0]["routes"]] == ["team-pager", "team-slack"]


def test_an_outage_alert_inhibits_the_symptoms_it_explains(make_catalog):
    service = SERVICE + "    inhibits: {alerts: all}\n"
    cfg = rendered(load_catalog(make_catalog({"_defaults.yaml": DEFAULTS, "svc.yaml": service})), "prod")[
        "alertmanager/alertmanager.yaml"]
    assert cfg["inhibit_rules"][-1] == {
        "source_matchers": ['alertname="MetricsGone"', 'service="svc"'],
        "target_matchers": ['alertname=~"DepthHigh|DepthCritical"', 'service="svc"'], "equal": ["env", "service"]}


def test_routing_tests_name_each_alert_with_its_labels_and_receiver():
    tests = rendered(load_catalog(CATALOG), "prod")["alertmanager/routing-tests.yaml"]["tests"]
    by = {t["alert"]: t for t in tests}
    assert by["RLFeedbackQueueDepthHigh"]["receivers"] == ["ml-routing-support"]
    assert by["RLFeedbackQueueDepthCritical"]["receivers"] == ["ml-infrastructure-pagerduty"]
    assert by["RLFeedbackQueueDepthCritical"]["labels"]["alertname"] == "RLFeedbackQueueDepthCritical"
    # seed 001: Alertmanager is queried for alertname=~"MLModel.*"; every such alert is routed to the team
    ml = [t for t in tests if t["alert"].startswith("MLModel")]
    assert len(ml) == 5 and {t["receivers"][0] for t in ml} == {"neural-hive-ml", "neural-hive-oncall"}
    assert not any(t["alert"].startswith("Pilot") for t in tests)  # CloudWatch alarms notify SNS directly


def test_without_an_alertmanager_section_nothing_is_rendered_and_routing_stays_labels(make_catalog):
    cat = load_catalog(make_catalog({"svc.yaml": SERVICE.replace("team-pager", "anything")}))
    assert not any(p.startswith("alertmanager/") for p in rendered(cat, "prod"))


# ---------------------------------------------------------------------------------------------- bad input


def test_an_undeclared_receiver_is_an_error(make_catalog):
    ps = problems(make_catalog, service=SERVICE.replace("ticket: team-slack", "ticket: team-jira"))
    assert len(ps) == 1 and "svc.yaml:4: routing.ticket: receiver 'team-jira' is not declared" in ps[0], ps
    assert "declared: team-pager, team-slack" in ps[0]


def test_a_route_no_alert_can_reach_is_an_error(make_catalog):
    ps = problems(make_catalog, service=SERVICE.replace("{page: team-pager,", "{page: team-pager, warning: team-slack,"))
    assert len(ps) == 1 and "routing.warning: no alert of this service has severity 'warning' in any environment" in ps[0]


@pytest.mark.parametrize("field, inline, path", [
    ("slack", '{channel: "#team", api_url: "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"}',
     "alertmanager.receivers.team-slack.slack.api_url"),
    ("pagerduty", "{routing_key: 0123456789abcdef0123456789abcdef}", "alertmanager.receivers.team-slack.pagerduty.routing_key"),
    ("webhook", "{url: 'https://hooks.example.com/x?token=s3cr3t'}", "alertmanager.receivers.team-slack.webhook.url"),
    ("webhook", "{url: 'https://user:pw@hooks.example.com/x'}", "alertmanager.receivers.team-slack.webhook.url"),
    ("webhook", "{url: 'https://hooks.example.com/T0A1B2C3D4E5F6G7H8I9J0'}", "alertmanager.receivers.team-slack.webhook.url"),
])
def test_an_inlined_secret_is_an_error_naming_file_and_path(make_catalog, field, inline, path):
    defaults = DEFAULTS.replace('slack: {channel: "#team", api_url: {secret: {name: am-slack, key: team}}}',
                                f"{field}: {inline}")
    ps = problems(make_catalog, defaults=defaults)
    assert len(ps) == 1, ps
    assert f"_defaults.yaml:7: {path}: " in ps[0], ps
    assert ("never written into the catalog" in ps[0]) or ("credential" in ps[0]) or ("token" in ps[0])


def test_an_inhibition_of_its_own_source_is_an_error(make_catalog):
    ps = problems(make_catalog, service=SERVICE + "    inhibits: {alerts: [MetricsGone]}\n")
    assert len(ps) == 1 and "monitors[1].inhibits.alerts[0]: an inhibition would silence its own source" in ps[0], ps


def test_inhibitions_that_silence_each_other_are_an_error(make_catalog):
    service = SERVICE.replace("      - {alert: DepthHigh", "    inhibits: {alerts: [MetricsGone]}\n    levels:\n"
                              "      - {alert: DepthHigh").replace("    levels:\n    inhibits", "    inhibits")
    service = service.replace("    levels:\n    levels:\n", "    levels:\n") + "    inhibits: {alerts: [DepthHigh]}\n"
    ps = problems(make_catalog, service=service)
    assert any("would silence its own source in dev: " in p and "DepthHigh -> MetricsGone -> DepthHigh" in p
               for p in ps), ps


def test_an_unknown_inhibited_alert_is_an_error(make_catalog):
    ps = problems(make_catalog, service=SERVICE + "    inhibits: {alerts: [DepthHgh]}\n")
    assert len(ps) == 1 and "unknown alert 'DepthHgh'" in ps[0], ps


def test_a_cloudwatch_service_routes_to_sns_receivers_only(make_catalog):
    cw = """\
service: cw
team: ml
source: {type: cloudwatch, namespace: App, region: us-east-1}
routing: {warning: team-slack}
metrics:
  score: {type: gauge, cloudwatch: {statistic: Average}}
monitors:
  - {name: ScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, for: 5m, severity: warning}
"""
    root = make_catalog({"_defaults.yaml": DEFAULTS, "cw.yaml": cw})
    with pytest.raises(CatalogError) as exc:
        load_catalog(root)
    assert any("routing.warning: CloudWatch alarms notify SNS topics" in str(p) for p in exc.value.problems)


# ---------------------------------------------------------------------------------------------- amtool (slow)


@pytest.fixture(scope="module")
def seed_renders(tmp_path_factory):
    cat = load_catalog(CATALOG)
    out = {}
    for env in cat.defaults.environments:
        d = tmp_path_factory.mktemp(env) / "out"
        write_atomic(serialize_all(render(cat, env)), d)
        out[env] = d
    return cat, out


@pytest.mark.slow
@requires_amtool
def test_amtool_accepts_the_config_and_routes_every_alert_to_its_receiver(seed_renders):
    from generators.alertmanager.verify import alertmanager_step

    cat, out = seed_renders
    for env, d in out.items():
        assert alertmanager_step(d, cat, env) == []
        r = subprocess.run(["amtool", "check-config", str(d / "alertmanager" / "alertmanager.yaml")],
                           capture_output=True, text=True)
        rules = yaml.safe_load((d / "alertmanager" / "alertmanager.yaml").read_text())["inhibit_rules"]
        assert r.returncode == 0 and f" - {len(rules)} inhibit rules" in r.stdout and len(rules) == 4, r.stdout


@pytest.mark.slow
@requires_amtool
def test_the_step_fails_when_the_route_tree_sends_an_alert_elsewhere(seed_renders, tmp_path):
    from generators.alertmanager.verify import alertmanager_step

    cat, out = seed_renders
    d = tmp_path / "out"
    shutil.copytree(out["prod"], d)
    cfg_path = d / "alertmanager" / "alertmanager.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    for svc in cfg["route"]["routes"]:
        for r in svc["routes"]:
            if r["receiver"] == "ml-routing-support":
                r["receiver"] = "ml-infrastructure-pagerduty"  # tickets now page
    cfg_path.write_text(yaml.safe_dump(cfg))
    failures = alertmanager_step(d, cat, "prod")
    wrong = [f for f in failures if "routed to ml-infrastructure-pagerduty, the catalog names ml-routing-support" in f]
    assert len(wrong) == 1 and "RLFeedbackQueueDepthHigh" in wrong[0], failures  # one class: every rl ticket
    assert all(a in wrong[0] for a in ("RLFeedbackSuccessRateLow", "RLFeedbackBatchLatencyHigh")), wrong
    assert any("the route to ml-routing-support" not in f for f in failures)
    # a broken file: amtool's own parser is the oracle
    bad = copy.deepcopy(cfg)
    bad["route"]["routes"][0]["routes"][0]["group_wait"] = "soon"
    cfg_path.write_text(yaml.safe_dump(bad))
    assert alertmanager_step(d, cat, "prod")[0].startswith("amtool check-config alertmanager/alertmanager.yaml (prod)")


@pytest.mark.slow
@requires_amtool
def test_the_step_fails_on_a_route_no_alert_reaches_and_on_a_missing_test(seed_renders, tmp_path):
    from generators.alertmanager.verify import alertmanager_step

    cat, out = seed_renders
    d = tmp_path / "out"
    shutil.copytree(out["prod"], d)
    cfg_path = d / "alertmanager" / "alertmanager.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["route"]["routes"][0]["routes"].append({"matchers": ['severity="critical"'], "receiver": "neural-hive-ml"})
    cfg["route"]["routes"][0]["routes"][0]["receiver"] = "neural-hive-oncall"
    cfg_path.write_text(yaml.safe_dump(cfg))
    tests_path = d / "alertmanager" / "routing-tests.yaml"
    tests = yaml.safe_load(tests_path.read_text())
    tests["tests"] = [t for t in tests["tests"] if t["alert"] != "RLFeedbackQueueDepthHigh"]
    tests_path.write_text(yaml.safe_dump(tests))
    failures = alertmanager_step(d, cat, "prod")
    assert any("no routing test for alert RLFeedbackQueueDepthHigh" in f for f in failures), failures
    assert any("route.routes[0].routes[1] (to neural-hive-ml) is reached by no alert" in f for f in failures), failures


# ---------------------------------------------------------------------------------------------- every integration

EVERY = """\
environments: [dev, prod]
alertmanager:
  version: "{version}"
  default_receiver: catch-all
  resolve_timeout: 5m
  receivers:
    catch-all:
      email: {{to: sre@example.com, from: alertmanager@example.com, smarthost: "smtp.example.com:587",
              auth_username: alertmanager, auth_password: {{secret: {{name: am-smtp, key: password}}}}}}
    team-pager:
      pagerduty:
        - {{routing_key: {{secret: {{name: am-pagerduty, key: team}}}}, description: "{{{{ .CommonAnnotations.summary }}}}"}}
        - {{service_key: {{secret: {{name: am-pagerduty, key: legacy}}, file: /run/secrets/pd-legacy}}, severity: error}}
      slack: {{channel: "#team", api_url: {{secret: {{name: am-slack, key: team}}}}, title: "{{{{ .GroupLabels.alertname }}}}"}}
    team-hooks:
      webhook: {{url: "https://bridge.example.com/alertmanager", bearer_token: {{secret: {{name: am-bridge, key: token}}}},
                max_alerts: 10}}
      sns: {{topic_arn: "arn:aws:sns:eu-west-1:123456789012:team-alerts", role_arn: "arn:aws:iam::123456789012:role/am"}}
{teams}
"""
TEAMS = """\
    team-teams:
      msteams: {webhook_url: {secret: {name: am-teams, key: team}}}
"""
EVERY_SERVICE = SERVICE.replace("routing: {page: team-pager, ticket: team-slack}",
                                "routing: {page: team-pager, ticket: team-hooks}")


def _every(make_catalog, version="0.25", teams=False):
    service = EVERY_SERVICE.replace("ticket: team-hooks}", "ticket: team-teams}") if teams else EVERY_SERVICE
    return make_catalog({"_defaults.yaml": EVERY.format(version=version, teams=TEAMS if teams else ""),
                         "svc.yaml": service})


def test_every_integration_renders_secret_references_only(make_catalog):
    cat = load_catalog(_every(make_catalog))
    files = rendered(cat, "prod")
    receivers = {r["name"]: r for r in files["alertmanager/alertmanager.yaml"]["receivers"]}
    assert files["alertmanager/alertmanager.yaml"]["route"]["receiver"] == "catch-all"
    assert receivers["catch-all"]["email_configs"][0]["auth_password_file"] == "/etc/alertmanager/secrets/am-smtp/password"
    assert [c.get("routing_key_file") or c.get("service_key_file") for c in receivers["team-pager"]["pagerduty_configs"]] \
        == ["/etc/alertmanager/secrets/am-pagerduty/team", "/run/secrets/pd-legacy"]
    assert receivers["team-hooks"]["webhook_configs"][0]["http_config"] == {
        "authorization": {"type": "Bearer", "credentials_file": "/etc/alertmanager/secrets/am-bridge/token"}}
    assert receivers["team-hooks"]["sns_configs"][0]["sigv4"] == {
        "region": "eu-west-1", "role_arn": "arn:aws:iam::123456789012:role/am"}
    (amc,) = [d for d in files["kubernetes/svc.yaml"] if d["kind"] == "AlertmanagerConfig"]
    by = {r["name"]: r for r in amc["spec"]["receivers"]}
    assert by["team-pager"]["pagerdutyConfigs"][1]["serviceKey"] == {"name": "am-pagerduty", "key": "legacy"}
    assert by["team-hooks"]["webhookConfigs"][0]["httpConfig"]["authorization"]["credentials"] == \
        {"name": "am-bridge", "key": "token"}


def test_every_integration_is_valid_for_the_crd_and_the_typed_model(make_catalog):
    from generators.kubernetes.operator_models import validate_object
    from generators.kubernetes.validate import validate_manifest

    for root in (_every(make_catalog), _every(make_catalog, version="0.27", teams=True)):
        for doc in rendered(load_catalog(root), "prod")["kubernetes/svc.yaml"]:
            if doc["kind"] == "AlertmanagerConfig":
                assert validate_manifest(doc) == [] and validate_object(doc) == []


def test_ms_teams_needs_a_newer_alertmanager_than_025(make_catalog):
    with pytest.raises(CatalogError) as exc:
        load_catalog(_every(make_catalog, teams=True))
    assert any("routing.ticket: receiver 'team-teams' uses Microsoft Teams, which needs Alertmanager >= 0.27"
               in str(p) for p in exc.value.problems)


@pytest.mark.slow
@requires_amtool
def test_amtool_accepts_every_integration(make_catalog, tmp_path):
    cat = load_catalog(_every(make_catalog))
    write_atomic(serialize_all(render(cat, "prod")), tmp_path / "out")
    r = subprocess.run(["amtool", "check-config", str(tmp_path / "out" / "alertmanager" / "alertmanager.yaml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    from generators.alertmanager.verify import alertmanager_step

    assert alertmanager_step(tmp_path / "out", cat, "prod") == []


# ---------------------------------------------------------------------------------------------- review


def test_diff_shows_receiver_grouping_and_inhibition_changes_per_environment(make_catalog):
    from generators.diff import diff_catalogs
    from generators.diff_format import format_text

    old = load_catalog(make_catalog({"_defaults.yaml": DEFAULTS, "svc.yaml": SERVICE}))
    defaults = DEFAULTS + "  routing:\n    page: {repeat_interval: 1h}\n"
    service = (SERVICE.replace("ticket: team-slack}", "ticket: team-pager}")
               + "    inhibits: {alerts: [DepthHigh]}\n")
    new = load_catalog(make_catalog({"_defaults.yaml": defaults, "svc.yaml": service}))
    d = diff_catalogs(old, new, base="a", head="b", catalog="alerts")
    got = {(c.alert, c.env): {f.field: (f.old, f.new) for f in c.changes} for c in d.alerts}
    # grouping follows the severity: the ticket keeps the ticket timers on its new receiver
    assert got[("DepthHigh", "prod")] == {"receiver": ("team-slack", "team-pager"),
                                          "inhibited_by": (["DepthCritical"], ["DepthCritical", "MetricsGone"])}
    # DepthCritical pages in prod (its repeat interval changed) and tickets in dev (its receiver changed)
    assert got[("DepthCritical", "prod")] == {"grouping": (
        "by alertname, service, env; wait 30s, interval 5m, repeat 4h",
        "by alertname, service, env; wait 30s, interval 5m, repeat 1h")}
    assert got[("DepthCritical", "dev")] == {"receiver": ("team-slack", "team-pager")}
    assert got[("MetricsGone", "prod")] == {"grouping": (
        "by alertname, service, env; wait 30s, interval 5m, repeat 4h",
        "by alertname, service, env; wait 30s, interval 5m, repeat 1h")}
    text = format_text(d)
    assert "~ DepthHigh inhibited_by: [\"DepthCritical\"] -> [\"DepthCritical\", \"MetricsGone\"]  [all environments]" in text


def test_thresholds_show_each_alerts_receiver(cli):
    r = cli("thresholds", "--catalog", str(CATALOG), "--env", "prod", "--format", "json")
    rows = {x["alert"]: x for x in __import__("json").loads(r.out)}
    assert rows["RLFeedbackQueueDepthHigh"]["receiver"] == "ml-routing-support"
    assert rows["RLFeedbackQueueDepthCritical"]["receiver"] == "ml-infrastructure-pagerduty"
    assert rows["PilotClassificationAccuracyLow"]["receiver"] == "boltit-ml-warning"
    assert rows["ReasoningEvaluationScoreLow"]["receiver"] == "ml-engineering-slack"


# ---------------------------------------------------------------------------------------------- property

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SEVS = ("info", "ticket", "warning", "critical", "page")


@st.composite
def routed_catalogs(draw):
    """1-3 services, each with 1-3 monitors of 1-3 levels at random severities (per environment), and a routing
    entry for a random subset of the severities its alerts have."""
    services, expect = {}, {}
    for s in range(draw(st.integers(1, 3))):
        name = f"svc{s}"
        monitors, used = [], set()
        for m in range(draw(st.integers(1, 3))):
            levels = []
            for lv in range(draw(st.integers(1, 3))):
                sev, dev = draw(st.sampled_from(SEVS)), draw(st.sampled_from(SEVS))
                used.update((sev, dev))
                levels.append(f"      - {{alert: S{s}M{m}L{lv}, threshold: {lv + 1}, for: 5m, severity: {sev}, "
                              f"overrides: {{dev: {{severity: {dev}}}}}}}")
            monitors.append(f"  - name: S{s}M{m}\n    kind: threshold\n    metric: depth\n    levels:\n"
                            + "\n".join(levels))
        routed = draw(st.lists(st.sampled_from(sorted(used)), unique=True))
        routing = {sev: draw(st.sampled_from(("r-a", "r-b", "r-c"))) for sev in routed}
        expect[name] = routing
        services[f"{name}.yaml"] = (f"service: {name}\nteam: t{s % 2}\nnamespace: ns{s}\nrouting: {routing}\n"
                                    "metrics:\n  depth: {type: gauge}\nmonitors:\n" + "\n".join(monitors) + "\n")
    default = draw(st.sampled_from((None, "r-c")))
    receivers = "".join(f"    {r}:\n      webhook: {{url: 'http://{r}.example.com/hook'}}\n" for r in ("r-a", "r-b", "r-c"))
    services["_defaults.yaml"] = ("environments: [dev, prod]\nalertmanager:\n"
                                  + (f"  default_receiver: {default}\n" if default else "") + "  receivers:\n" + receivers)
    return services, expect, default or "null"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(routed_catalogs())
def test_every_alert_reaches_exactly_the_receiver_its_routing_names(case):
    """Reference model: routing[severity] else the default receiver, per environment; read from the rendered
    rules' labels and walked through the rendered tree (verify.leaf_of, Alertmanager's first-match walk)."""
    from generators.alertmanager.verify import leaf_of, leaves

    texts, expect, default = case
    cat = load_catalog("alerts", texts=texts)
    for env in ("dev", "prod"):
        files = rendered(cat, env)
        root = files["alertmanager/alertmanager.yaml"]["route"]
        leaf_receiver = dict(leaves(root))
        reached = set()
        for path, content in files.items():
            if not path.endswith(".rules.yaml"):
                continue
            for g in content["groups"]:
                for r in g["rules"]:
                    labels = {"alertname": r["alert"], **r["labels"]}
                    leaf = leaf_of(root, labels)
                    got = leaf_receiver.get(leaf, root["receiver"]) if leaf else root["receiver"]
                    assert got == expect[labels["service"]].get(labels["severity"], default), (env, labels)
                    reached.add(leaf)
        assert set(leaf_receiver) <= reached  # no route is rendered that no alert reaches


@pytest.mark.parametrize("extra, where, message", [
    ("  default_receiver: sre\n", "_defaults.yaml:3: alertmanager.default_receiver: ",
     "'sre' is not a declared receiver (alertmanager.receivers: team-pager, team-slack)"),
    ("  routing: {ticket: {active_time_intervals: [office]}}\n", "_defaults.yaml:3: alertmanager.routing: ",
     "ticket.active_time_intervals names 'office', which is not in time_intervals (none declared)"),
    ("  time_intervals: {office: [{weekdays: [monday], location: Europe/Berlin}]}\n",
     "alertmanager.time_intervals.office[0].location: ", "expected 'UTC'"),
    ("    'null':\n      webhook: {url: 'http://x.example.com/'}\n", "alertmanager.receivers: ",
     "`null` is the built-in receiver"),
    ("    team-sns:\n      sns: {topic_arn: 'arn:aws:sns:us-east-1:12345:x'}\n",
     "alertmanager.receivers.team-sns.sns.topic_arn: ", "should match pattern"),
    ("    team-none: {description: nothing}\n", "alertmanager.receivers.team-none: ", "needs at least one integration"),
    ("    team-pd2:\n      pagerduty: {}\n", "alertmanager.receivers.team-pd2.pagerduty: ",
     "exactly one of `routing_key` (Events API v2) or `service_key`"),
])
def test_bad_alertmanager_settings_name_the_path(make_catalog, extra, where, message):
    if extra.startswith("    "):
        defaults = DEFAULTS + extra
    else:
        defaults = DEFAULTS.replace("  receivers:\n", extra + "  receivers:\n")
    ps = problems(make_catalog, defaults=defaults)
    assert any(where in p and message in p for p in ps), ps


def test_an_sns_receiver_without_topic_cannot_route_prometheus_alerts(make_catalog):
    defaults = DEFAULTS + "    team-sns:\n      sns: {}\n"
    ps = problems(make_catalog, defaults=defaults, service=SERVICE.replace("ticket: team-slack", "ticket: team-sns"))
    assert len(ps) == 1 and "routing.ticket: receiver 'team-sns': sns[0] has no topic_arn" in ps[0], ps


def test_an_slos_absent_alert_is_not_a_level_of_its_burn_rates(make_catalog):
    """The fast burn silences the slow burn; MetricsAbsent is no level of them (it fires when they cannot)."""
    service = SERVICE.replace("  up_metric: {type: gauge}\n", "  up_metric: {type: gauge}\n  reqs: {type: counter}\n"
                              "  errs: {type: counter}\n") + """\
  - name: Avail
    kind: ratio
    bad: errs
    total: reqs
    threshold: 0.99
    absent: true
"""
    cat = load_catalog(make_catalog({"_defaults.yaml": DEFAULTS, "svc.yaml": service}))
    rules = rendered(cat, "prod")["alertmanager/alertmanager.yaml"]["inhibit_rules"]
    avail = [(r["source_matchers"][0], r["target_matchers"][0]) for r in rules if "Avail" in r["source_matchers"][0]]
    assert avail == [('alertname="AvailFastBurn"', 'alertname="AvailSlowBurn"')]
