"""The stack program (stacks/__main__.py) under Pulumi's mocks, for every environment, against the real
render of the catalog: what it declares is exactly the render (names and specs; nothing missing, nothing
extra) for Kubernetes, SNS/CloudWatch and Grafana; alarm actions point at the SNS topics of their severity;
composites depend on their children; environments differ only by the catalog's overrides; secrets stay
secret. Shown for the seed fixture and for tests/fixtures/relabel, whose rule labels, namespaces, dashboard
labels, folders and folder annotation differ from the sample's and between its environments: the program
maps types only, so every declared input is the rendered object."""

from __future__ import annotations

import json
import re

import pytest

from conftest_deploy import (COMPONENT, COMPOSITE, CW_DASHBOARD, ENVS, GRAFANA_DASHBOARD, GRAFANA_FOLDER,
                             KUBE_TOKENS, METRIC_ALARM, ROOT, SEEDS, SERVICE, SUBSCRIPTION, TOPIC, copy_catalog,
                             registered, rendered, run_stack, stack_config)

from generators.cloudwatch.actions import resolve_actions
from generators.deploy import mocks
from generators.deploy.mocks import MOCK_ACCOUNT

REGION = "us-east-1"
KMS_KEY = "aws:kms/key:Key"
KMS_ALIAS = "aws:kms/alias:Alias"
RELABEL = ROOT / "tests" / "fixtures" / "relabel" / "alerts"
CASES = list(ENVS) + ["relabel-dev", "relabel-prod"]
"""Seed fixture per environment (key: the environment), and the relabel fixture's (key: relabel-<env>)."""


def env_of(case: str) -> str:
    return case.rsplit("-", 1)[-1]


@pytest.fixture(scope="module")
def runs():
    """One mocked run of the committed stack config per case, with the render it deploys."""
    out = {}
    for case in CASES:
        catalog = RELABEL if case.startswith("relabel-") else SEEDS / "alerts"
        out[case] = (run_stack(env_of(case), catalog), rendered(env_of(case), catalog)[1])
    return out


def _grafana_api(env) -> bool:
    cfg = stack_config(env_of(env))
    return bool((cfg.get("mlmon:grafana") or {}).get("url") and cfg.get("mlmon:grafanaToken"))


def _kube_docs(artifacts):
    for a in artifacts:
        if a.path.startswith("kubernetes/"):
            for doc in a.content:
                yield a.service, doc


def _is_sidecar(doc) -> bool:
    """A dashboard ConfigMap, by the label the render gives it."""
    return doc["kind"] == "ConfigMap" and (doc["metadata"].get("labels") or {}).get(COMPONENT) == "dashboard"


def _folder_uid(title: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in title.lower()).split()
    return "-".join(words)[:40]


def _folders(artifacts) -> dict[str, str]:
    """Dashboard uid -> the Grafana folder its rendered ConfigMap names (the catalog's folder annotation)."""
    out = {}
    for _, doc in _kube_docs(artifacts):
        if _is_sidecar(doc):
            (title,) = doc["metadata"]["annotations"].values()
            for key in doc["data"]:
                out[key.removesuffix(".json")] = title
    return out


def _kname(doc):
    ns = doc["metadata"].get("namespace")
    return f"{ns}/{doc['metadata']['name']}" if ns else doc["metadata"]["name"]


def _cw(artifacts, suffix):
    """``[(service, body)]`` of the cloudwatch/<service><suffix> artifacts (".json": the metric alarms)."""
    out = []
    for a in artifacts:
        if not a.path.startswith("cloudwatch/"):
            continue
        name = a.path.rsplit("/", 1)[1]
        kind = next((s for s in (".composite.json", ".dashboard.json", ".topics.json") if name.endswith(s)), ".json")
        if kind == suffix:
            out += [(a.service, b) for b in (a.content if isinstance(a.content, list) else [a.content])]
    return out


def _expected(env, artifacts) -> dict[tuple[str, str], str]:
    """Every resource the stack must declare, ``(type, name) -> parent``, computed from the render and the
    committed stack config alone."""
    cfg = stack_config(env_of(env))
    api = _grafana_api(env)
    out: dict[tuple[str, str], str] = {}
    form = (cfg.get("mlmon:alertmanager") or {}).get("form", "operator")
    for svc, doc in _kube_docs(artifacts):
        if doc["kind"] == "AlertmanagerConfig" and form != "operator":
            continue
        if not (api and _is_sidecar(doc)):
            out[(KUBE_TOKENS[doc["kind"]], _kname(doc))] = svc
    if form == "secret" and any(a.path == "alertmanager/alertmanager.yaml" for a in artifacts):
        out[(KUBE_TOKENS["Secret"], "monitoring/alertmanager-mlmon")] = "shared"
    for svc, b in _cw(artifacts, ".json"):
        out[(METRIC_ALARM, b["AlarmName"])] = svc
    for svc, b in _cw(artifacts, ".composite.json"):
        out[(COMPOSITE, b["AlarmName"])] = svc
    for svc, b in _cw(artifacts, ".dashboard.json"):
        out[(CW_DASHBOARD, b["DashboardName"])] = svc
    subs = cfg.get("mlmon:subscriptions") or {}
    if _cw(artifacts, ".topics.json") and (cfg.get("mlmon:aws") or {}).get("snsKmsKey", "stack") == "stack":
        out[(KMS_KEY, "mlmon-sns")] = ""  # the stack's own key for its topics, and its alias
        out[(KMS_ALIAS, "mlmon-sns")] = ""
    for svc, t in _cw(artifacts, ".topics.json"):
        out.setdefault((TOPIC, t["Name"]), svc)  # a topic two services share: the first declares it
        for i, s in enumerate(subs.get(t["Severity"], [])):
            out[(SUBSCRIPTION, f"{t['Name']}-{s['protocol']}-{i}")] = svc
    for a in artifacts:  # SSM documents and on-call's policy (seed 002), straight from ssm/<service>*.json
        if a.path.startswith("ssm/") and a.path.endswith(".policy.json"):
            out[("aws:iam/policy:Policy", f"{a.service}-ssm-remediations")] = a.service
        elif a.path.startswith("ssm/"):
            for b in a.content:
                out[("aws:ssm/document:Document", b["Name"])] = a.service
    if api:
        for a in artifacts:
            if a.path.startswith("grafana/"):
                out[(GRAFANA_DASHBOARD, a.content["uid"])] = a.service
        for title in set(_folders(artifacts).values()):
            out[(GRAFANA_FOLDER, f"folder-{_folder_uid(title)}")] = ""
        out[("pulumi:providers:grafana", "grafana")] = ""
    for svc in set(out.values()) - {""}:
        out[(SERVICE, svc)] = ""
    out[("pulumi:providers:kubernetes", "kubernetes")] = ""
    out[("pulumi:providers:aws", "aws")] = ""
    return out


# --- nothing missing, nothing extra ------------------------------------------------------------


@pytest.mark.parametrize("env", CASES)
def test_declares_exactly_the_rendered_resources(runs, env):
    run, artifacts = runs[env]
    expected = _expected(env, artifacts)
    declared = {(r.type, r.name): r.parent for r in run.resources}
    assert len(declared) == len(run.resources), "a resource is declared twice"
    missing, extra = set(expected) - set(declared), set(declared) - set(expected)
    assert not missing and not extra, f"missing: {sorted(missing)}; extra: {sorted(extra)}"
    assert declared == expected, "parents differ"
    # every kind of the issue is really exercised by the committed catalog
    types_ = {t for t, _ in declared}
    want = {KUBE_TOKENS[k] for k in ("PrometheusRule", "ServiceAccount", "CronJob", "Role", "RoleBinding")}
    want |= {METRIC_ALARM, COMPOSITE, CW_DASHBOARD, TOPIC}
    want |= {GRAFANA_DASHBOARD, GRAFANA_FOLDER} if _grafana_api(env) else {KUBE_TOKENS["ConfigMap"]}
    assert want <= types_
    counts = {}
    for t, _ in declared:
        if t != SERVICE and not t.startswith("pulumi:providers:"):
            counts[t] = counts.get(t, 0) + 1
    assert run.outputs["counts"] == counts
    assert run.outputs["environment"] == env_of(env)


@pytest.mark.parametrize("env", ENVS)
def test_ssm_documents_and_policy_equal_the_rendered_artifacts(runs, env):
    """aws.ssm.Document gets each rendered CreateDocument body unchanged (Content byte for byte), and the
    on-call policy is the rendered policy document."""
    run, artifacts = runs[env]
    docs = {r.name: r for r in run.of_type("aws:ssm/document:Document")}
    bodies = [b for a in artifacts if a.path == "ssm/boltit-pilot.json" for b in a.content]
    assert len(bodies) == 5 and set(docs) == {b["Name"] for b in bodies}
    for b in bodies:
        got = docs[b["Name"]].plain_inputs()
        assert got["content"] == b["Content"] and got["documentType"] == "Command"
        assert got["documentFormat"] == "JSON" and got["targetType"] == "/AWS::EC2::Instance"
        assert got["tags"] == {t["Key"]: t["Value"] for t in b["Tags"]}
    (policy,) = run.of_type("aws:iam/policy:Policy")
    rendered_policy = next(a.content for a in artifacts if a.path == "ssm/boltit-pilot.policy.json")
    assert json.loads(policy.plain_inputs()["policy"]) == rendered_policy
    assert run.outputs["ssmDocuments"] == sorted(docs)


@pytest.mark.parametrize("env", CASES)
def test_kubernetes_objects_equal_the_rendered_manifests(runs, env):
    run, artifacts = runs[env]
    declared = {(r.type, r.name): r for r in run.resources if r.type.startswith("kubernetes:")}
    api = _grafana_api(env)
    n = 0
    for svc, doc in _kube_docs(artifacts):
        if api and _is_sidecar(doc):
            continue
        r = declared[(KUBE_TOKENS[doc["kind"]], _kname(doc))]
        assert r.plain_inputs() == doc, f"{r.type} {r.name}: spec differs from the render"
        assert (r.parent_type, r.parent, r.provider) == (SERVICE, svc, "kubernetes")
        n += 1
    assert n == len(declared) > (40 if env in ENVS else 10)
    crons = run.of_type(KUBE_TOKENS["CronJob"])
    assert any(r.plain_inputs()["spec"].get("suspend") for r in crons), "remediation templates are suspended"
    assert any(not r.plain_inputs()["spec"].get("suspend") for r in crons), "scheduled jobs run"
    alerts = sorted(rule["alert"] for _, d in _kube_docs(artifacts) if d["kind"] == "PrometheusRule"
                    for g in d["spec"]["groups"] for rule in g["rules"] if "alert" in rule)
    assert run.outputs["alertNames"] == alerts


@pytest.mark.parametrize("env", ENVS)
def test_kubernetes_provider_uses_the_stack_context(runs, env):
    (provider,) = runs[env][0].of_type("pulumi:providers:kubernetes")
    assert provider.plain_inputs()["context"] == stack_config(env)["mlmon:kubernetes"]["context"]


# --- CloudWatch and SNS --------------------------------------------------------------------------


def _arn(topic, region=REGION):
    return f"arn:aws:sns:{region}:{MOCK_ACCOUNT}:{topic}"


ALARM_INPUTS = {
    "name": "AlarmName", "alarmDescription": "AlarmDescription", "actionsEnabled": "ActionsEnabled",
    "alarmActions": "AlarmActions", "okActions": "OKActions", "insufficientDataActions": "InsufficientDataActions",
    "metricName": "MetricName", "namespace": "Namespace", "statistic": "Statistic",
    "extendedStatistic": "ExtendedStatistic", "dimensions": "Dimensions", "period": "Period", "unit": "Unit",
    "evaluationPeriods": "EvaluationPeriods", "datapointsToAlarm": "DatapointsToAlarm", "threshold": "Threshold",
    "comparisonOperator": "ComparisonOperator", "treatMissingData": "TreatMissingData",
    "evaluateLowSampleCountPercentiles": "EvaluateLowSampleCountPercentile", "metricQueries": "Metrics",
    "tags": "Tags", "thresholdMetricId": "ThresholdMetricId",
}
COMPOSITE_INPUTS = {
    "alarmName": "AlarmName", "alarmRule": "AlarmRule", "alarmDescription": "AlarmDescription",
    "actionsEnabled": "ActionsEnabled", "alarmActions": "AlarmActions", "okActions": "OKActions",
    "insufficientDataActions": "InsufficientDataActions", "tags": "Tags", "actionsSuppressor": "ActionsSuppressor",
}
QUERY_INPUTS = {"id": "Id", "expression": "Expression", "label": "Label", "returnData": "ReturnData",
                "period": "Period", "accountId": "AccountId", "metric": "MetricStat"}


def _boto3(inputs: dict, table: dict) -> dict:
    """Pulumi inputs (camelCase, as the mock monitor receives them) back to boto3 parameters."""
    out = {table[k]: v for k, v in inputs.items()}
    if "Dimensions" in out:
        out["Dimensions"] = [{"Name": k, "Value": v} for k, v in out["Dimensions"].items()]
    if "Tags" in out:
        out["Tags"] = [{"Key": k, "Value": v} for k, v in out["Tags"].items()]
    if "Metrics" in out:
        metrics = []
        for q in out["Metrics"]:
            m = {QUERY_INPUTS[k]: v for k, v in q.items()}
            if "MetricStat" in m:
                s = m["MetricStat"]
                metric = {"Namespace": s["namespace"], "MetricName": s["metricName"]}
                if "dimensions" in s:
                    metric["Dimensions"] = [{"Name": k, "Value": v} for k, v in s["dimensions"].items()]
                m["MetricStat"] = {"Metric": metric, "Period": s["period"], "Stat": s["stat"],
                                   **({"Unit": s["unit"]} if "unit" in s else {})}
            metrics.append(m)
        out["Metrics"] = metrics
    if "ActionsSuppressor" in out:
        sup = out.pop("ActionsSuppressor")
        out["ActionsSuppressor"] = sup["alarm"]
        for k, name in (("waitPeriod", "ActionsSuppressorWaitPeriod"), ("extensionPeriod",
                                                                         "ActionsSuppressorExtensionPeriod")):
            if k in sup:
                out[name] = sup[k]
    return _fix_numbers(out)


def _fix_numbers(v):
    """The wire format carries every number as a float; botocore wants integers where the model says so."""
    if isinstance(v, dict):
        return {k: _fix_numbers(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_fix_numbers(x) for x in v]
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _unordered(v):
    """Tags and Dimensions are sets in CloudWatch (and maps in pulumi-aws): compare them sorted; an empty
    Dimensions list is the same as none."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in ("Tags", "Dimensions"):
                if x:
                    out[k] = sorted((_unordered(i) for i in x), key=json.dumps)
            else:
                out[k] = _unordered(x)
        return out
    if isinstance(v, list):
        return [_unordered(x) for x in v]
    return _fix_numbers(v)


def _validate_boto3(operation, params):
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("cloudwatch").operation_model(operation)
    report = ParamValidator().validate(params, model.input_shape)
    assert not report.has_errors(), report.generate_report()


def _arns(artifacts, region=REGION):
    return {t["Name"]: _arn(t["Name"], region) for _, t in _cw(artifacts, ".topics.json")}


def _assert_alarms_equal_render(run, artifacts, region=REGION):
    """Metric and composite alarms: the rendered request bodies, with topic names resolved to the declared
    topics' ARNs by the CloudWatch generator's own resolve_actions."""
    arns = _arns(artifacts, region)
    for token, suffix, table, op in ((METRIC_ALARM, ".json", ALARM_INPUTS, "PutMetricAlarm"),
                                     (COMPOSITE, ".composite.json", COMPOSITE_INPUTS, "PutCompositeAlarm")):
        bodies = {b["AlarmName"]: (svc, b) for svc, b in _cw(artifacts, suffix)}
        declared = run.by_name(token)
        assert set(declared) == set(bodies) and bodies, token
        for name, (svc, body) in bodies.items():
            r = declared[name]
            got = _boto3(r.plain_inputs(), table)
            assert _unordered(got) == _unordered(resolve_actions(body, arns)), name
            _validate_boto3(op, got)
            assert (r.parent_type, r.parent, r.provider) == (SERVICE, svc, "aws")


@pytest.mark.parametrize("env", CASES)
def test_alarms_equal_the_rendered_request_bodies(runs, env):
    run, artifacts = runs[env]
    _assert_alarms_equal_render(run, artifacts)
    names = [b["AlarmName"] for s in (".json", ".composite.json") for _, b in _cw(artifacts, s)]
    assert run.outputs["alarmNames"] == sorted(names)


def _rule_children(body) -> set[str]:
    """Alarm names in a composite's AlarmRule (the render writes ALARM("name")), and its suppressor."""
    names = set(re.findall(r'(?:ALARM|OK|INSUFFICIENT_DATA)\("([^"]+)"\)', body["AlarmRule"]))
    return names | ({body["ActionsSuppressor"]} if body.get("ActionsSuppressor") else set())


def _assert_composites_depend_on_children(run, artifacts):
    composites = _cw(artifacts, ".composite.json")
    metric = {b["AlarmName"] for _, b in _cw(artifacts, ".json")}
    declared = run.by_name(COMPOSITE)
    seen: set[str] = set()
    for _, body in composites:  # file order: children before parents
        children = _rule_children(body)
        assert children and children <= metric | seen, f"{body['AlarmName']} names an alarm declared after it"
        deps = {d for d in declared[body["AlarmName"]].dependencies if d[0] in (METRIC_ALARM, COMPOSITE)}
        want = {(METRIC_ALARM if c in metric else COMPOSITE, c) for c in children}
        assert deps == want, body["AlarmName"]
        seen.add(body["AlarmName"])


@pytest.mark.parametrize("env", CASES)
def test_composites_depend_on_the_alarms_their_rule_names(runs, env):
    run, artifacts = runs[env]
    _assert_composites_depend_on_children(run, artifacts)


@pytest.mark.parametrize("env", CASES)
def test_cloudwatch_dashboards_and_topics_equal_the_render(runs, env):
    run, artifacts = runs[env]
    dashboards = {b["DashboardName"]: (svc, b) for svc, b in _cw(artifacts, ".dashboard.json")}
    declared = run.by_name(CW_DASHBOARD)
    assert set(declared) == set(dashboards) and dashboards
    for name, (svc, body) in dashboards.items():
        inputs = declared[name].plain_inputs()
        assert inputs == {"dashboardName": body["DashboardName"], "dashboardBody": body["DashboardBody"]}
        # declared after the service's alarms (Pulumi orders by dependencies)
        own = {(t, b["AlarmName"]) for t, s in ((METRIC_ALARM, ".json"), (COMPOSITE, ".composite.json"))
               for sv, b in _cw(artifacts, s) if sv == svc}
        assert own and own <= set(declared[name].dependencies)
    assert run.outputs["cloudwatchDashboards"] == sorted(dashboards)
    topics = {}
    for svc, t in _cw(artifacts, ".topics.json"):
        topics.setdefault(t["Name"], svc)
    assert {r.name: r.parent for r in run.of_type(TOPIC)} == topics
    (key,) = run.of_type(KMS_KEY)
    key_arn = f"arn:aws:kms:{REGION}:{MOCK_ACCOUNT}:key/mlmon-sns-key-id"
    assert all(r.plain_inputs() == {"name": r.name, "kmsMasterKeyId": key_arn} for r in run.of_type(TOPIC))
    assert all((KMS_KEY, "mlmon-sns") in r.dependencies for r in run.of_type(TOPIC))
    assert run.outputs["topicArns"] == {t: _arn(t) for t in topics}


def _tag(body, key):
    return next((t["Value"] for t in body.get("Tags", []) if t["Key"] == key), None)


@pytest.mark.parametrize("env", ENVS)
def test_alarm_actions_reference_the_topics_of_their_severity(runs, env):
    run, artifacts = runs[env]
    topic_of = {t["Severity"]: t["Name"] for _, t in _cw(artifacts, ".topics.json")}
    by_arn = {_arn(r.name): r.name for r in run.of_type(TOPIC)}
    severities = set()
    for _, body in _cw(artifacts, ".json"):
        if not body.get("AlarmActions"):
            continue  # building blocks of a composite notify through it
        r = run.by_name(METRIC_ALARM)[body["AlarmName"]]
        inputs = r.plain_inputs()
        severity = _tag(body, "severity")
        severities.add(severity)
        want = topic_of[severity]
        assert [by_arn[a] for a in inputs["alarmActions"]] == [want], body["AlarmName"]
        assert [by_arn[a] for a in inputs["okActions"]] == [want], body["AlarmName"]
        assert (TOPIC, want) in r.dependencies
    assert {"warning", "critical"} <= severities


@pytest.mark.parametrize("env", ENVS)
def test_subscriptions_per_severity_with_secret_endpoints(runs, env):
    run, artifacts = runs[env]
    subs = stack_config(env).get("mlmon:subscriptions") or {}
    topics = [t for _, t in _cw(artifacts, ".topics.json")]
    expected = {(t["Name"], s["protocol"]) for t in topics for s in subs.get(t["Severity"], [])}
    declared = run.of_type(SUBSCRIPTION)
    assert {(r.plain_inputs()["topic"].rsplit(":", 1)[1], r.plain_inputs()["protocol"]) for r in declared} == expected
    for r in declared:
        assert r.secret_paths() == ["endpoint"], "the endpoint must reach the provider as a secret"
    assert "subscriptions" in run.secret_outputs
    if subs:
        assert declared, f"{env} configures subscriptions"
    plain = json.dumps({k: v for k, v in run.outputs.items() if k not in run.secret_outputs})
    for r in declared:
        assert r.plain_inputs()["endpoint"] not in plain


def test_secret_endpoints_and_token_stay_secret_with_real_values():
    endpoint = "oncall-secret-address@example.com"
    token = "glsa_verysecrettoken"
    kubeconfig = "apiVersion: v1\nclusters: []\n# secret-kubeconfig-marker\n"
    values, secret = mocks.read_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml")
    values["mlmon:subscriptions"] = json.dumps({"critical": [{"protocol": "email", "endpoint": endpoint}]})
    values["mlmon:grafanaToken"] = token
    values["mlmon:kubernetes"] = json.dumps({"context": "prod", "kubeconfig": kubeconfig})
    values["mlmon:catalog"] = str(SEEDS / "alerts")
    run = mocks.run(values, secret | {"mlmon:subscriptions"}, stack="prod")
    (provider,) = run.of_type("pulumi:providers:grafana")
    assert provider.secret_paths() == ["auth"] and provider.plain_inputs()["auth"] == token
    (k8s,) = run.of_type("pulumi:providers:kubernetes")
    assert k8s.secret_paths() == ["kubeconfig"]
    critical = next(t["Name"] for _, t in _cw(rendered("prod")[1], ".topics.json") if t["Severity"] == "critical")
    subs = run.of_type(SUBSCRIPTION)
    assert [r.name for r in subs] == [f"{critical}-email-0"]
    assert subs[0].secret_paths() == ["endpoint"]
    assert run.outputs["subscriptions"] == {critical: [{"protocol": "email", "endpoint": endpoint}]}
    assert "subscriptions" in run.secret_outputs
    plain = json.dumps({k: v for k, v in run.outputs.items() if k not in run.secret_outputs})
    for value in (endpoint, token, "secret-kubeconfig-marker"):
        assert value not in plain
        for r in run.resources:  # the values only ever travel as secrets
            if value in json.dumps(r.inputs):
                assert r.secret_paths(), f"{r.type} {r.name} carries a secret in plain text"


# --- Grafana -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["prod", "relabel-prod"])
def test_grafana_api_delivery_replaces_the_sidecar_configmaps(runs, case):
    """Through Grafana's API each dashboard goes into the folder its rendered ConfigMap names: the same
    folder the sidecar would use, never one the stack invents."""
    assert _grafana_api(case), "stacks/Pulumi.prod.yaml configures Grafana's API"
    run, artifacts = runs[case]
    grafana = {a.content["uid"]: (a.service, a.content) for a in artifacts if a.path.startswith("grafana/")}
    folders = _folders(artifacts)
    declared = run.by_name(GRAFANA_DASHBOARD)
    assert set(declared) == set(grafana) == set(folders) and len(grafana) >= 3
    titles = {r.plain_inputs()["uid"]: r.plain_inputs()["title"] for r in run.of_type(GRAFANA_FOLDER)}
    assert set(titles.values()) == set(folders.values())
    assert titles == {_folder_uid(t): t for t in folders.values()}
    for uid, r in declared.items():
        inputs = r.plain_inputs()
        assert json.loads(inputs["configJson"]) == grafana[uid][1]
        assert titles[inputs["folder"]] == folders[uid] and inputs["overwrite"] is True
        assert (r.parent, r.provider) == (grafana[uid][0], "grafana")
    sidecars = [d for _, d in _kube_docs(artifacts) if _is_sidecar(d)]
    assert sidecars, "the render has sidecar ConfigMaps"
    assert not [r for r in run.of_type(KUBE_TOKENS["ConfigMap"]) if _is_sidecar(r.plain_inputs() | {"kind": "ConfigMap"})]
    for d in sidecars:
        assert any(s.startswith("kubernetes/") and d["metadata"]["name"] in s and "Grafana's API" in s
                   for s in run.outputs["skipped"])
    assert run.outputs["dashboardUids"] == sorted(grafana)


@pytest.mark.parametrize("case", ["dev", "staging", "relabel-dev"])
def test_without_grafana_api_dashboards_go_as_sidecar_configmaps(runs, case):
    assert not _grafana_api(case)
    run, artifacts = runs[case]
    assert not run.of_type(GRAFANA_DASHBOARD) and not run.of_type(GRAFANA_FOLDER)
    grafana = {a.content["uid"]: a.content for a in artifacts if a.path.startswith("grafana/")}
    carried = {}
    for r in run.of_type(KUBE_TOKENS["ConfigMap"]):
        if _is_sidecar(r.plain_inputs() | {"kind": "ConfigMap"}):
            for text in r.plain_inputs()["data"].values():
                doc = json.loads(text)
                carried[doc["uid"]] = doc
    # every rendered dashboard reaches Grafana through exactly its rendered JSON
    assert carried == grafana and grafana
    assert run.outputs["dashboardUids"] == sorted(grafana)
    assert not [s for s in run.outputs["skipped"] if "NOT DEPLOYED" in s]
    assert sum("delivered by its sidecar ConfigMap" in s for s in run.outputs["skipped"]) == len(grafana)


# --- stack config selects and maps -------------------------------------------------------------


def test_outputs_select_what_is_deployed():
    run = run_stack("dev", overrides={"mlmon:outputs": ["cloudwatch"]})
    types_ = {r.type for r in run.resources}
    assert not any(t.startswith("kubernetes:") or t.startswith("grafana:") for t in types_)
    assert "pulumi:providers:kubernetes" not in types_
    assert {METRIC_ALARM, COMPOSITE, CW_DASHBOARD, TOPIC} <= types_
    _assert_alarms_equal_render(run, rendered("dev")[1])
    assert any("outputs does not include kubernetes" in s for s in run.outputs["skipped"])
    assert any("outputs does not include grafana" in s for s in run.outputs["skipped"])


def test_the_relabel_fixture_deploys_its_own_labels_namespaces_and_folders(runs):
    """What differs per environment is catalog data, rendered: the declared objects carry the relabel
    fixture's rule labels, namespaces (dev moves shop -> shop-dev and grafana -> grafana-dev everywhere,
    RoleBinding subjects and kubectl commands included), dashboard labels and folder annotation."""
    (dev, _), (prod, _) = runs["relabel-dev"], runs["relabel-prod"]

    def kube(run, kind):
        return [r.plain_inputs() for r in run.of_type(KUBE_TOKENS[kind])]

    (rule,) = kube(dev, "PrometheusRule")
    assert rule["metadata"]["namespace"] == "shop-dev" and rule["metadata"]["labels"]["prometheus"] == "ml"
    (prod_rule,) = kube(prod, "PrometheusRule")
    assert prod_rule["metadata"]["namespace"] == "shop"
    assert {k: prod_rule["metadata"]["labels"][k] for k in ("prometheus", "release")} == \
        {"prometheus": "ml-prod", "release": "prod-stack"}
    assert {r["metadata"]["namespace"] for kind in ("CronJob", "Role", "RoleBinding", "ServiceAccount")
            for r in kube(dev, kind)} == {"shop-dev"}
    assert {s["namespace"] for r in kube(dev, "RoleBinding") for s in r["subjects"]} == {"shop-dev"}
    text = json.dumps(kube(dev, "CronJob"))
    assert "-n shop-dev" in text and "--namespace=shop-dev" in text and "-n shop " not in text
    (cm,) = [r for r in kube(dev, "ConfigMap") if r["metadata"]["name"] == "grafana-dashboard-mlmon-shop"]
    assert cm["metadata"]["namespace"] == "grafana-dev"
    assert cm["metadata"]["labels"]["team-dashboards"] == "1" and cm["metadata"]["labels"]["grafana_dashboard"] == "yes"
    assert cm["metadata"]["annotations"] == {"k8s-sidecar-target-directory": "Dev / commerce"}
    assert {r.plain_inputs()["title"] for r in prod.of_type(GRAFANA_FOLDER)} == {"Shop / shop", "Shop / pilot"}


def test_stack_keys_that_became_catalog_data_are_refused_with_where_they_went():
    from generators.deploy.config import StackConfigError

    record = []
    with pytest.raises(StackConfigError) as exc:
        run_stack("staging", record=record, overrides={"mlmon:kubernetes": {
            "context": "staging", "namespaces": {"monitoring": "grafana"},
            "ruleSelectorLabels": {"release": "kube-prometheus-stack"}}})
    assert {k for k, _ in exc.value.problems} == {"mlmon:kubernetes.namespaces", "mlmon:kubernetes.ruleSelectorLabels"}
    assert "alerts/_defaults.yaml" in str(exc.value) and record == []


# --- environments differ exactly by the catalog's overrides -------------------------------------


def _alerts_by_name(run):
    out = {}
    for r in run.of_type(KUBE_TOKENS["PrometheusRule"]):
        for g in r.plain_inputs()["spec"]["groups"]:
            for rule in g["rules"]:
                if "alert" in rule:
                    out[rule["alert"]] = rule
    return out


def _without_env(rule, env):
    rule = json.loads(json.dumps(rule))
    assert rule["labels"].pop("env") == env
    return rule


def _overridden(catalog, a, b):
    """Alert names whose catalog overrides make them differ between environments a and b."""
    from generators.resolve import resolve

    def view(env):
        return {al.name: (al.threshold, al.for_, al.severity) for rs in resolve(catalog, env) for al in rs.alerts}

    va, vb = view(a), view(b)
    return {n for n in set(va) | set(vb) if va.get(n) != vb.get(n)}


@pytest.mark.parametrize("a,b", [("dev", "staging"), ("staging", "prod"), ("dev", "prod")])
def test_alerts_differ_exactly_by_the_catalogs_overrides(runs, a, b):
    catalog, _ = rendered(a)
    ra, rb = _alerts_by_name(runs[a][0]), _alerts_by_name(runs[b][0])
    differing = {n for n in set(ra) | set(rb)
                 if n not in ra or n not in rb or _without_env(ra[n], a) != _without_env(rb[n], b)}
    assert differing == _overridden(catalog, a, b)
    if (a, b) == ("dev", "prod"):
        assert {"ReasoningDriftHigh", "RAGInjectionBlockSpike"} <= differing


RENAMED = {"dev": "zqenva", "staging": "zqenvb", "prod": "zqenvc"}
"""Environment names that occur nowhere else, so a run can be compared with another modulo the name."""


def _normal_runs(catalog_dir):
    """Every environment under ONE stack config (only the environment differs), resources normalised:
    ``(type, name, parent) -> inputs`` with the environment's name replaced by ``<env>``."""
    out = {}
    for env, token in RENAMED.items():
        run = mocks.run({"mlmon:environment": token, "mlmon:catalog": str(catalog_dir),
                         "mlmon:aws": json.dumps({"region": REGION}),
                         "mlmon:kubernetes": json.dumps({"context": "same"})}, set(), stack=env)
        out[env] = {(r.type, r.name.replace(token, "<env>"), r.parent):
                    json.dumps(r.plain_inputs(), sort_keys=True).replace(token, "<env>") for r in run.resources}
    return out


def _per_env_services(catalog_dir) -> set[str]:
    """Services whose catalog file holds per-environment data (overrides, environment selectors)."""
    import yaml

    def has(v):
        if isinstance(v, dict):
            return "overrides" in v or "environments" in v or any(has(x) for x in v.values())
        return isinstance(v, list) and any(has(x) for x in v)

    out = set()
    for f in catalog_dir.glob("*.yaml"):
        doc = yaml.safe_load(f.read_text())
        if f.name != "_defaults.yaml" and has(doc):
            out.add(doc["service"])
    return out


def test_environments_differ_only_in_services_with_overrides(tmp_path):
    renamed = copy_catalog(SEEDS / "alerts", tmp_path / "alerts", rename=RENAMED)
    runs = _normal_runs(renamed)
    with_overrides = _per_env_services(SEEDS / "alerts")
    assert with_overrides and with_overrides != {r[2] for r in runs["dev"]} - {""}
    for a, b in (("dev", "staging"), ("staging", "prod"), ("dev", "prod")):
        differing = {k for k in set(runs[a]) | set(runs[b]) if runs[a].get(k) != runs[b].get(k)}
        assert differing, f"{a} and {b} differ by the catalog's overrides"
        assert {parent for _, _, parent in differing} <= with_overrides


def test_without_overrides_environments_declare_the_same_resources(tmp_path):
    stripped = copy_catalog(SEEDS / "alerts", tmp_path / "alerts", rename=RENAMED, strip=True)
    runs = _normal_runs(stripped)
    assert len(runs["dev"]) > 80
    assert runs["staging"] == runs["dev"]
    assert runs["prod"] == runs["dev"]


# --- composite alarms built from window alarms (every CloudWatch monitor kind) ---------------------


def test_ratio_composites_are_declared_after_and_depend_on_their_children(tmp_path):
    from conftest_cloudwatch import ALL_KINDS, DEFAULTS, write_catalog

    catalog_dir = write_catalog(tmp_path, {"_defaults.yaml": DEFAULTS, "cw-kinds.yaml": ALL_KINDS})
    run = mocks.run({"mlmon:environment": "prod", "mlmon:catalog": str(catalog_dir),
                     "mlmon:outputs": json.dumps(["cloudwatch"]),
                     "mlmon:aws": json.dumps({"region": "eu-west-1"})}, set(), stack="prod")
    _, artifacts = rendered("prod", catalog_dir)
    composites = [b for _, b in _cw(artifacts, ".composite.json")]
    assert len(composites) >= 2, "window composites and the service roll-up"
    health = composites[-1]
    assert any(c["AlarmName"] in _rule_children(health) for c in composites[:-1]), "a composite of composites"
    _assert_alarms_equal_render(run, artifacts, region="eu-west-1")
    _assert_composites_depend_on_children(run, artifacts)


# --- what the program cannot deploy fails before anything is declared ------------------------------


def test_an_unknown_kind_fails_before_anything_is_declared():
    from generators.deploy.mapping import MappingError

    def ingress(rs):
        if rs.name != "rl-feedback-loop":
            return []
        return [{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "x"}}]

    record = []
    with registered("KUBERNETES_GENERATORS", ingress):
        with pytest.raises(MappingError, match="kubernetes/rl-feedback-loop.yaml .*Ingress"):
            run_stack("dev", record=record)
    assert record == []


def test_an_unknown_artifact_directory_fails_before_anything_is_declared():
    from generators.deploy.mapping import MappingError

    def other(rs):
        return {f"alertmanager/{rs.name}.yaml": {"route": {}}}

    record = []
    with registered("FILE_GENERATORS", other):
        with pytest.raises(MappingError, match="alertmanager/"):
            run_stack("dev", record=record)
    assert record == []


# --- Alertmanager: which form a stack deploys is stack data -----------------------------------------------


def test_the_operator_form_deploys_each_services_alertmanager_config_as_rendered():
    run = run_stack("prod")
    declared = {r.name: r.plain_inputs() for r in run.of_type(KUBE_TOKENS["AlertmanagerConfig"])}
    _, artifacts = rendered("prod")
    expected = {_kname(doc): doc for _, doc in _kube_docs(artifacts) if doc["kind"] == "AlertmanagerConfig"}
    assert set(declared) == set(expected) == {"crew/rl-feedback-loop-routing", "production/function-gemma-agent-routing",
                                              "neural-hive-orchestration/neural-hive-specialists-routing",
                                              "rag-pipeline/rag-enterprise-pipeline-routing"}
    for name, doc in expected.items():
        assert declared[name]["spec"] == doc["spec"] and declared[name]["metadata"] == doc["metadata"]
    assert not run.of_type(KUBE_TOKENS["Secret"])
    assert any("alertmanager/alertmanager.yaml" in s and "does not own Alertmanager" in s
               for s in run.outputs["skipped"])


def test_a_stack_that_owns_alertmanager_deploys_its_configuration_secret_and_no_crs():
    import yaml

    run = run_stack("prod", overrides={"mlmon:alertmanager": {"form": "secret"}})
    assert not run.of_type(KUBE_TOKENS["AlertmanagerConfig"])
    (secret,) = [r.plain_inputs() for r in run.of_type(KUBE_TOKENS["Secret"])]
    assert secret["metadata"]["name"] == "alertmanager-mlmon" and secret["metadata"]["namespace"] == "monitoring"
    _, artifacts = rendered("prod")
    config = next(a for a in artifacts if a.path == "alertmanager/alertmanager.yaml")
    assert secret["stringData"] == {"alertmanager.yaml": config.serialize().decode()}
    assert yaml.safe_load(secret["stringData"]["alertmanager.yaml"]) == config.content
    assert any("AlertmanagerConfig" in s and "not operator" in s for s in run.outputs["skipped"])


def test_an_unknown_alertmanager_form_is_a_clear_stack_config_error():
    from generators.deploy.config import StackConfigError, parse

    with pytest.raises(StackConfigError) as exc:
        parse({"mlmon:environment": "prod", "mlmon:alertmanager": '{"form": "helm"}'})
    assert exc.value.problems[0][0] == "mlmon:alertmanager.form"


def test_the_alertmanager_config_follows_the_namespace_move_and_the_catalogs_names(runs):
    """relabel: shop moves to shop-dev in dev; its AlertmanagerConfig, and the namespace label of its alerts that
    the operator's namespace matcher reads, move with it; the Secret of the secret form is the catalog's."""
    (dev, _), (prod, _) = runs["relabel-dev"], runs["relabel-prod"]
    (amc,) = [r.plain_inputs() for r in dev.of_type(KUBE_TOKENS["AlertmanagerConfig"])]
    assert amc["metadata"]["namespace"] == "shop-dev" and amc["metadata"]["labels"]["alertmanager"] == "shop"
    (rule,) = [r.plain_inputs() for r in dev.of_type(KUBE_TOKENS["PrometheusRule"])]
    labels = [r["labels"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert labels and all(lab["namespace"] == "shop-dev" for lab in labels)
    assert all(lab.get("receiver") == ("shop-slack" if lab["severity"] == "warning" else None) for lab in labels)
    (prod_amc,) = [r.plain_inputs() for r in prod.of_type(KUBE_TOKENS["AlertmanagerConfig"])]
    assert prod_amc["metadata"]["namespace"] == "shop"
    run = run_stack("prod", RELABEL, overrides={"mlmon:alertmanager": {"form": "secret"}})
    (secret,) = [r.plain_inputs() for r in run.of_type(KUBE_TOKENS["Secret"])]
    assert (secret["metadata"]["namespace"], secret["metadata"]["name"]) == ("grafana", "shop-alertmanager")
    assert "api_url_file: /etc/alertmanager/secrets/shop-alerting/slack-url" in secret["stringData"]["alertmanager.yaml"]


def test_a_routed_service_without_namespace_is_reported_as_not_routed_by_the_operator_form(tmp_path):
    import shutil

    cat = tmp_path / "alerts"
    shutil.copytree(SEEDS / "alerts", cat)
    (cat / "orphan.yaml").write_text(
        "service: orphan\nteam: misc\nrouting: {warning: neural-hive-ml}\nmetrics:\n  score: {type: gauge}\n"
        "monitors:\n  - {name: OrphanScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5,"
        " severity: warning}\n")
    run = run_stack("prod", cat)
    assert not any("orphan" in r.name for r in run.of_type(KUBE_TOKENS["AlertmanagerConfig"]))
    notes = [s for s in run.outputs["skipped"] if "NOT ROUTED" in s]
    assert len(notes) == 1 and "routes of orphan" in notes[0], run.outputs["skipped"]
    assert not any("NOT ROUTED" in s for s in run_stack("prod").outputs["skipped"])
