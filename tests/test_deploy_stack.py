"""The stack program (stacks/__main__.py) under Pulumi's mocks, for every environment: what it declares is
exactly the render (names and specs; nothing missing, nothing extra), alarm actions point at the right SNS
topics, environments differ only by the catalog's overrides, and secrets stay secret."""

from __future__ import annotations

import json

import pytest

from conftest_deploy import ENVS, ROOT, rendered, strip_overrides, synthetic_artifacts, topic_name

from generators.deploy import mocks
from generators.deploy.mocks import MOCK_ACCOUNT

KUBE_TOKENS = {  # written out independently of generators/deploy/mapping.py
    "PrometheusRule": "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
    "ConfigMap": "kubernetes:core/v1:ConfigMap",
    "ServiceAccount": "kubernetes:core/v1:ServiceAccount",
    "CronJob": "kubernetes:batch/v1:CronJob",
    "Job": "kubernetes:batch/v1:Job",
    "Role": "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "RoleBinding": "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
}
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
CW_DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
GRAFANA_DASHBOARD = "grafana:oss/dashboard:Dashboard"
SERVICE = "mlmon:index:Service"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def real_runs():
    return {env: mocks.run_stack_file(env) for env in ENVS}


@pytest.fixture(scope="module")
def synthetic_runs():
    with synthetic_artifacts():
        return {env: (mocks.run_stack_file(env), rendered(env)[1]) for env in ENVS}


def _kube_docs(artifacts, skip_dashboards=False):
    for a in artifacts:
        if a.path.startswith("kubernetes/"):
            for doc in a.content:
                if skip_dashboards and "grafana_dashboard" in doc["metadata"].get("labels", {}):
                    continue
                yield a.service, doc


def _name(doc):
    ns = doc["metadata"].get("namespace")
    return f"{ns}/{doc['metadata']['name']}" if ns else doc["metadata"]["name"]


def _assert_kube_equal(run, artifacts, skip_dashboards=False):
    expected = {(KUBE_TOKENS[d["kind"]], _name(d)): (svc, d) for svc, d in _kube_docs(artifacts, skip_dashboards)}
    declared = {(r.type, r.name): r for r in run.resources if r.type.startswith("kubernetes:")}
    assert set(declared) == set(expected), "declared Kubernetes objects differ from the render"
    for key, (svc, doc) in expected.items():
        r = declared[key]
        assert r.plain_inputs() == doc, f"{key}: spec differs from the render"
        assert (r.parent_type, r.parent) == (SERVICE, svc)
        assert r.provider == "kubernetes"
    return expected


# --- the real render (PrometheusRules today) --------------------------------------------------


@pytest.mark.parametrize("env", ENVS)
def test_declares_exactly_the_rendered_kubernetes_objects(real_runs, env):
    run = real_runs[env]
    catalog, artifacts = rendered(env)
    expected = _assert_kube_equal(run, artifacts)
    assert expected, "the render has Kubernetes objects to compare"
    # one component per service that has artifacts, and nothing else besides the provider
    services = {svc for svc, _ in expected.values()}
    assert {r.name for r in run.of_type(SERVICE)} == services
    extra = [r for r in run.resources
             if not r.type.startswith("kubernetes:") and r.type != SERVICE and r.type != "pulumi:providers:kubernetes"]
    assert extra == []
    assert run.outputs["counts"] == {KUBE_TOKENS["PrometheusRule"]: len(expected)}
    alerts = sorted(rule["alert"] for _, d in expected.values() for g in d["spec"]["groups"]
                    for rule in g["rules"] if "alert" in rule)
    assert run.outputs["alertNames"] == alerts
    assert run.outputs["environment"] == env


@pytest.mark.parametrize("env", ENVS)
def test_kubernetes_provider_uses_the_stack_context(real_runs, env):
    import yaml

    cfg = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{env}.yaml").read_text())["config"]
    (provider,) = real_runs[env].of_type("pulumi:providers:kubernetes")
    assert provider.plain_inputs()["context"] == cfg["mlmon:kubernetes"]["context"]


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
    names = set(va) | set(vb)
    return {n for n in names if va.get(n) != vb.get(n)}


@pytest.mark.parametrize("a,b", [("dev", "staging"), ("staging", "prod"), ("dev", "prod")])
def test_environments_differ_exactly_by_the_catalogs_overrides(real_runs, a, b):
    catalog, _ = rendered(a)
    ra, rb = _alerts_by_name(real_runs[a]), _alerts_by_name(real_runs[b])
    differing = {n for n in set(ra) | set(rb)
                 if n not in ra or n not in rb or _without_env(ra[n], a) != _without_env(rb[n], b)}
    # and straight from the catalog files: every alert that names an override for a or b
    assert differing == _overridden(catalog, a, b)
    if (a, b) == ("dev", "prod"):
        assert {"ReasoningDriftHigh", "RAGInjectionBlockSpike"} <= differing


def test_without_overrides_environments_declare_the_same_resources(tmp_path):
    stripped = strip_overrides(ROOT / "alerts", tmp_path / "alerts")
    runs = {env: mocks.run_stack_file(env, overrides={"mlmon:catalog": str(stripped),
                                                      "mlmon:kubernetes": {"context": "same"}})
            for env in ENVS}

    def normal(run, env):
        out = {}
        for r in run.resources:
            text = json.dumps(r.plain_inputs(), sort_keys=True).replace(f'"{env}"', '"<env>"')
            out[(r.type, r.name, r.parent)] = text
        return out

    dev = normal(runs["dev"], "dev")
    assert len(dev) > 5
    for env in ("staging", "prod"):
        assert normal(runs[env], env) == dev


# --- every artifact kind (synthetic artifacts through the real render registries) -------------


@pytest.mark.parametrize("env", ENVS)
def test_every_kubernetes_kind_is_declared_as_rendered(synthetic_runs, env):
    run, artifacts = synthetic_runs[env]
    grafana_api = env == "prod"  # stacks/Pulumi.prod.yaml configures a Grafana URL and token
    expected = _assert_kube_equal(run, artifacts, skip_dashboards=grafana_api)
    kinds = {tok for tok, _ in expected}
    want = set(KUBE_TOKENS.values()) - ({KUBE_TOKENS["ConfigMap"]} if grafana_api else set())
    assert kinds == want
    for r in run.of_type(KUBE_TOKENS["CronJob"]):
        assert r.plain_inputs()["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]


def _boto3(inputs: dict, table: dict) -> dict:
    """Pulumi inputs (camelCase, as the mock monitor receives them) back to boto3 parameters."""
    out = {}
    for k, v in inputs.items():
        target = table[k]
        out[target] = v
    if "Dimensions" in out:
        out["Dimensions"] = [{"Name": k, "Value": v} for k, v in out["Dimensions"].items()]
    if "Tags" in out:
        out["Tags"] = [{"Key": k, "Value": v} for k, v in out["Tags"].items()]
    if "Metrics" in out:
        metrics = []
        for q in out["Metrics"]:
            m = {{"id": "Id", "expression": "Expression", "label": "Label", "returnData": "ReturnData",
                  "period": "Period", "accountId": "AccountId", "metric": "MetricStat"}[k]: v for k, v in q.items()}
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
        out.update({"ActionsSuppressor": sup["alarm"], "ActionsSuppressorWaitPeriod": sup["waitPeriod"],
                    "ActionsSuppressorExtensionPeriod": sup["extensionPeriod"]})
    return out


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


def _arn(topic):
    return f"arn:aws:sns:{REGION}:{MOCK_ACCOUNT}:{topic}"


def _unordered(v):
    """Tags and Dimensions are sets in CloudWatch (and maps in pulumi-aws): compare them sorted."""
    if isinstance(v, dict):
        return {k: sorted(map(_unordered, x), key=json.dumps) if k in ("Tags", "Dimensions") else _unordered(x)
                for k, x in v.items()}
    if isinstance(v, list):
        return [_unordered(x) for x in v]
    return v


def _with_arns(body):
    out = dict(body)
    for k in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        if k in out:
            out[k] = [_arn(t) for t in out[k]]
    return out


def _cw(artifacts, suffix):
    return [(a.service, b) for a in artifacts if a.path.startswith("cloudwatch/") and a.path.endswith(suffix)
            for b in (a.content if isinstance(a.content, list) else [a.content])]


def _validate_boto3(operation, params):
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("cloudwatch").operation_model(operation)
    report = ParamValidator().validate(params, model.input_shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize("env", ENVS)
def test_metric_alarms_equal_the_rendered_put_metric_alarm_bodies(synthetic_runs, env):
    run, artifacts = synthetic_runs[env]
    bodies = [b for b in _cw(artifacts, ".json") if not any(
        b[1] is x[1] for s in (".composite.json", ".dashboard.json", ".topics.json") for x in _cw(artifacts, s))]
    expected = {b["AlarmName"]: (svc, b) for svc, b in bodies}
    declared = run.by_name(METRIC_ALARM)
    assert set(declared) == set(expected) and expected
    for name, (svc, body) in expected.items():
        r = declared[name]
        got = _boto3(r.plain_inputs(), ALARM_INPUTS)
        assert _unordered(got) == _unordered(_with_arns(body)), name
        _validate_boto3("PutMetricAlarm", _fix_numbers(got))
        assert (r.parent_type, r.parent, r.provider) == (SERVICE, svc, "aws")
    assert run.outputs["alarmNames"] == sorted([*expected, *(b["AlarmName"] for _, b in _cw(artifacts, ".composite.json"))])


def _fix_numbers(v):
    """The wire format carries every number as a float; botocore wants integers where the model says so."""
    if isinstance(v, dict):
        return {k: _fix_numbers(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_fix_numbers(x) for x in v]
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


@pytest.mark.parametrize("env", ENVS)
def test_composite_alarms_dashboards_and_topics_equal_the_render(synthetic_runs, env):
    run, artifacts = synthetic_runs[env]
    composites = {b["AlarmName"]: b for _, b in _cw(artifacts, ".composite.json")}
    declared = run.by_name(COMPOSITE)
    assert set(declared) == set(composites) and composites
    for name, body in composites.items():
        got = _fix_numbers(_boto3(declared[name].plain_inputs(), COMPOSITE_INPUTS))
        assert _unordered(got) == _unordered(_with_arns(body))
        _validate_boto3("PutCompositeAlarm", got)
    dashboards = {b["DashboardName"]: b for _, b in _cw(artifacts, ".dashboard.json")}
    declared = run.by_name(CW_DASHBOARD)
    assert {n: {"DashboardName": r.plain_inputs()["dashboardName"], "DashboardBody": r.plain_inputs()["dashboardBody"]}
            for n, r in declared.items()} == dashboards
    topics = {t["Name"] for _, t in _cw(artifacts, ".topics.json")}
    assert {r.plain_inputs()["name"] for r in run.of_type(TOPIC)} == topics
    assert run.outputs["topicArns"] == {t: _arn(t) for t in topics}


@pytest.mark.parametrize("env", ENVS)
def test_alarm_actions_reference_the_topics_of_their_severity(synthetic_runs, env):
    run, _ = synthetic_runs[env]
    catalog, _ = rendered(env)
    from generators.resolve import resolve

    severity = {f"{rs.name}-{a.name}": a.severity for rs in resolve(catalog, env) for a in rs.alerts}
    topic_arn = {r.plain_inputs()["name"]: r for r in run.of_type(TOPIC)}
    for name, r in run.by_name(METRIC_ALARM).items():
        inputs = r.plain_inputs()
        want = topic_name(r.parent, severity[name])
        assert want in topic_arn, f"{name}: no topic {want} declared"
        assert inputs["alarmActions"] == [_arn(want)] == inputs["okActions"]


def _subscriptions_config(env):
    import yaml

    cfg = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{env}.yaml").read_text())["config"]
    return cfg.get("mlmon:subscriptions", {})


@pytest.mark.parametrize("env", ENVS)
def test_subscriptions_per_severity_with_secret_endpoints(synthetic_runs, env):
    run, artifacts = synthetic_runs[env]
    subs = _subscriptions_config(env)
    topics = [t for _, t in _cw(artifacts, ".topics.json")]
    expected = {(t["Name"], s["protocol"]) for t in topics for s in subs.get(t["Severity"], [])}
    declared = run.of_type(SUBSCRIPTION)
    assert {(r.plain_inputs()["topic"].rsplit(":", 1)[1], r.plain_inputs()["protocol"]) for r in declared} == expected
    for r in declared:
        assert r.secret_paths() == ["endpoint"], "the endpoint must reach the provider as a secret"
    assert "subscriptions" in run.secret_outputs
    if env != "dev":
        assert declared, f"{env} configures subscriptions"
    # no plain (non-secret) stack output carries a subscription endpoint
    plain = json.dumps({k: v for k, v in run.outputs.items() if k not in run.secret_outputs})
    for r in declared:
        assert r.plain_inputs()["endpoint"] not in plain


def test_secret_endpoints_and_token_stay_secret_with_real_values():
    endpoint = "oncall-secret-address@example.com"
    token = "glsa_verysecrettoken"
    with synthetic_artifacts():
        values, secret = mocks.read_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml")
        values["mlmon:subscriptions"] = json.dumps({"critical": [{"protocol": "email", "endpoint": endpoint}]})
        values["mlmon:grafanaToken"] = token
        run = mocks.run(values, secret | {"mlmon:subscriptions"}, stack="prod")
    (provider,) = run.of_type("pulumi:providers:grafana")
    assert provider.secret_paths() == ["auth"]
    subs = run.of_type(SUBSCRIPTION)
    assert subs and all(r.secret_paths() == ["endpoint"] for r in subs)
    assert run.outputs["subscriptions"]["mlmon-boltit-pilot-critical"] == [{"protocol": "email", "endpoint": endpoint}]
    assert "subscriptions" in run.secret_outputs
    plain = json.dumps({k: v for k, v in run.outputs.items() if k not in run.secret_outputs})
    assert endpoint not in plain and token not in plain
    for r in run.resources:  # the token and endpoint only ever travel as secrets
        text = json.dumps(r.inputs)
        for value in (endpoint, token):
            if value in text:
                assert r.secret_paths(), f"{r.type} {r.name} carries a secret in plain text"


def test_grafana_api_delivery_replaces_the_sidecar_configmaps(synthetic_runs):
    run, artifacts = synthetic_runs["prod"]
    grafana = {a.content["uid"]: a.content for a in artifacts if a.path.startswith("grafana/")}
    declared = run.by_name(GRAFANA_DASHBOARD)
    assert set(declared) == set(grafana) and grafana
    (folder,) = run.of_type("grafana:oss/folder:Folder")
    for uid, r in declared.items():
        inputs = r.plain_inputs()
        assert json.loads(inputs["configJson"]) == grafana[uid]
        assert inputs["folder"] == folder.plain_inputs()["uid"] == "mlmon-prod"  # title "mlmon (prod)"
        assert r.provider == "grafana"
    assert not run.of_type(KUBE_TOKENS["ConfigMap"])
    assert run.outputs["dashboardUids"] == sorted(grafana)


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_without_grafana_api_dashboards_go_as_sidecar_configmaps(synthetic_runs, env):
    run, artifacts = synthetic_runs[env]
    assert not run.of_type(GRAFANA_DASHBOARD)
    sidecar = [r for r in run.of_type(KUBE_TOKENS["ConfigMap"])
               if "grafana_dashboard" in r.plain_inputs()["metadata"]["labels"]]
    uids = {a.content["uid"] for a in artifacts if a.path.startswith("grafana/")}
    assert len(sidecar) == len(uids) - 1
    carried = sorted(uid for r in sidecar for text in r.plain_inputs()["data"].values()
                     for uid in [json.loads(text)["uid"]])
    assert run.outputs["dashboardUids"] == carried
    # the CloudWatch service's dashboard has no sidecar ConfigMap in the synthetic render: said so, loudly
    (line,) = [s for s in run.outputs["skipped"] if s.startswith("grafana/mlmon-boltit-pilot.json")]
    assert "NOT DEPLOYED" in line
    assert sum("delivered by its sidecar ConfigMap" in s for s in run.outputs["skipped"]) == len(carried)


def test_outputs_select_what_is_deployed():
    with synthetic_artifacts():
        run = mocks.run_stack_file("dev", overrides={"mlmon:outputs": ["cloudwatch"]})
    types_ = {r.type for r in run.resources}
    assert not any(t.startswith("kubernetes:") or t == "pulumi:providers:kubernetes" for t in types_)
    assert METRIC_ALARM in types_
    assert any("outputs does not include kubernetes" in s for s in run.outputs["skipped"])


def test_namespace_mapping_and_rule_selector_labels_are_applied():
    with synthetic_artifacts():
        run = mocks.run_stack_file("staging", overrides={"mlmon:kubernetes": {
            "context": "staging", "namespaces": {"crew": "crew-staging"},
            "ruleSelectorLabels": {"release": "kube-prometheus-stack", "prometheus": "ml"}}})
        _, artifacts = rendered("staging")
    crew = [r for r in run.resources if r.type.startswith("kubernetes:") and r.parent == "rl-feedback-loop"]
    assert crew and all(r.plain_inputs()["metadata"]["namespace"] == "crew-staging" for r in crew)
    assert all(r.name.startswith("crew-staging/") for r in crew)
    (binding,) = [r for r in crew if r.type == KUBE_TOKENS["RoleBinding"]]
    assert binding.plain_inputs()["subjects"][0]["namespace"] == "crew-staging"
    for r in run.of_type(KUBE_TOKENS["PrometheusRule"]):
        assert r.plain_inputs()["metadata"]["labels"]["prometheus"] == "ml"
    others = [r for r in run.resources if r.type.startswith("kubernetes:") and r.parent != "rl-feedback-loop"]
    assert all(r.plain_inputs()["metadata"]["namespace"] != "crew-staging" for r in others)


def test_an_unknown_kind_fails_before_anything_is_declared():
    from generators import render as render_mod
    from generators.deploy.mapping import MappingError

    def ingress(rs):
        return [{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "x"}}]

    render_mod.KUBERNETES_GENERATORS.append(ingress)
    record = []
    try:
        with pytest.raises(MappingError, match="Ingress"):
            mocks.run_stack_file("dev", record=record)
    finally:
        render_mod.KUBERNETES_GENERATORS.remove(ingress)
    assert record == []


def test_an_unknown_artifact_directory_fails_before_anything_is_declared():
    from generators import render as render_mod
    from generators.deploy.mapping import MappingError

    def other(rs):
        return {f"alertmanager/{rs.name}.yaml": {"route": {}}}

    render_mod.FILE_GENERATORS.append(other)
    record = []
    try:
        with pytest.raises(MappingError, match="alertmanager/"):
            mocks.run_stack_file("dev", record=record)
    finally:
        render_mod.FILE_GENERATORS.remove(other)
    assert record == []
