"""The Pulumi stack program: ``stacks/__main__.py`` calls :func:`main`.

1. read the stack config and validate it into :class:`~generators.deploy.config.StackConfig`;
2. load the catalog and render it in memory with :func:`generators.render.render` — the very function
   ``mlmon render`` writes files from — for the stack's environment;
3. map every artifact object to a typed resource (:func:`plan`, pure: every error is raised here, before
   any resource is declared);
4. declare them (:func:`declare`): explicit providers, one ``mlmon:index:Service`` component per service as
   parent, alarm actions wired to the SNS topics' ARNs; export the stack outputs.

Declaration order (and ``depends_on``) follows what CloudWatch needs: Kubernetes objects and SNS topics,
then every metric alarm, then the composite alarms in file order (children before parents; each composite
``depends_on`` exactly the alarms its ``AlarmRule`` and ``ActionsSuppressor`` name), then the CloudWatch
dashboards (each ``depends_on`` its service's alarms) and Grafana dashboards. Pulumi orders operations by
these dependencies, not by declaration order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import mapping
from .config import PROJECT, SNS_KEY_NONE, SNS_KEY_STACK, StackConfig, check_against_catalog, parse
from .mapping import ACTION_KEYS, MappingError

COMPONENT_TYPE = f"{PROJECT}:index:Service"
SHARED = "shared"
"""Component name for artifacts that belong to no single service (e.g. hand-written dashboards)."""

NOT_DEPLOYED = {
    "prometheus/": "rule files and promtool tests: the rules are deployed inside the PrometheusRule",
}
"""Artifact directories the program deliberately does not deploy, with the reason (shown by mlmon plan)."""


@dataclass
class Alarm:
    args: dict
    body: dict
    where: str
    children: list[str] = field(default_factory=list)
    """For a composite: the alarms it references (they are declared before it and it depends on them)."""


@dataclass
class ServicePlan:
    name: str
    kube: list[mapping.KubeObject] = field(default_factory=list)
    topics: list[tuple[str, str]] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    composites: list[Alarm] = field(default_factory=list)
    cw_dashboards: list[dict] = field(default_factory=list)
    grafana: list[tuple[str, dict]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    """Prometheus alert names in this service's PrometheusRules (a stack output)."""
    ssm: list[dict] = field(default_factory=list)
    """``CreateDocument`` bodies of ``ssm/<service>.json`` and the on-call policy of ``ssm/<service>.policy.json``
    (``{"policy": ...}``), deployed by :func:`declare_ssm`."""


@dataclass
class Plan:
    env: str
    services: dict[str, ServicePlan]
    skipped: list[tuple[str, str]]
    """``(artifact path or object, reason)`` for what is rendered but not deployed by this stack."""

    def service(self, name: str) -> ServicePlan:
        return self.services.setdefault(name or SHARED, ServicePlan(name or SHARED))


def plan(cfg: StackConfig, artifacts) -> Plan:
    """Every resource to declare, from the rendered ``artifacts``. Pure; raises MappingError on anything
    the program cannot deploy faithfully."""
    p = Plan(cfg.environment, {}, [])
    sidecar = []  # Grafana dashboards that the sidecar ConfigMaps should carry
    for a in artifacts:
        top = a.path.split("/", 1)[0] + "/"
        if top in NOT_DEPLOYED:
            p.skipped.append((a.path, NOT_DEPLOYED[top]))
        elif top == "kubernetes/":
            _plan_kubernetes(cfg, p, a)
        elif top == "cloudwatch/":
            _plan_cloudwatch(cfg, p, a)
        elif top == "grafana/":
            if _plan_grafana(cfg, p, a):
                sidecar.append(a)
        elif top == "ssm/":
            plan_ssm(cfg, p, a)
        else:
            raise MappingError(f"{a.path}: the Pulumi program does not know how to deploy artifacts under "
                               f"{top} (generators/deploy/program.py: plan)")
    carried = {uid for sp in p.services.values() for o in sp.kube
               if o.kind_name == "ConfigMap" and cfg.grafana.sidecar_label in (o.metadata.get("labels") or {})
               for uid in _uids_in_configmap(o)}
    for a in sidecar:
        uid = a.content.get("uid") if isinstance(a.content, dict) else None
        if uid in carried:
            p.skipped.append((a.path, "no Grafana URL/token configured: delivered by its sidecar ConfigMap"))
        else:
            p.skipped.append((a.path, "no Grafana URL/token configured and no sidecar ConfigMap carries it: "
                                      "NOT DEPLOYED (configure mlmon:grafana.url and mlmon:grafanaToken)"))
    _check_topics(p)
    _check_unique(p)
    _check_composites(p)
    return p


def _plan_kubernetes(cfg: StackConfig, p: Plan, a) -> None:
    if not cfg.deploys("kubernetes"):
        p.skipped.append((a.path, "outputs does not include kubernetes"))
        return
    docs = a.content if a.multi else [a.content]
    sp = p.service(a.service)
    for i, manifest in enumerate(docs):
        where = f"{a.path} (document {i + 1})"
        labels = ((manifest or {}).get("metadata") or {}).get("labels") or {}
        if manifest.get("kind") == "ConfigMap" and cfg.grafana.sidecar_label in labels:
            name = (manifest.get("metadata") or {}).get("name")
            if not cfg.deploys("grafana"):
                p.skipped.append((f"{a.path} ConfigMap {name}", "outputs does not include grafana"))
                continue
            if cfg.grafana_api:
                p.skipped.append((f"{a.path} ConfigMap {name}", "dashboards go through Grafana's API"))
                continue
        obj = mapping.kube_object(manifest, where, namespaces=cfg.kubernetes.namespaces,
                                  rule_labels=cfg.kubernetes.rule_selector_labels)
        sp.kube.append(obj)
        if obj.kind_name == "PrometheusRule":
            for group in (obj.args.get("spec") or {}).get("groups") or []:
                sp.alerts.extend(r["alert"] for r in group.get("rules") or [] if "alert" in r)


def _plan_cloudwatch(cfg: StackConfig, p: Plan, a) -> None:
    if not cfg.deploys("cloudwatch"):
        p.skipped.append((a.path, "outputs does not include cloudwatch"))
        return
    sp = p.service(a.service)
    name = a.path.rsplit("/", 1)[1]
    if name.endswith(".topics.json"):
        sp.topics.extend(mapping.topics(a.content, a.path))
    elif name.endswith(".composite.json"):
        for i, body in enumerate(_as_list(a)):
            sp.composites.append(Alarm(mapping.composite_alarm_args(body, f"{a.path}[{i}]"), body, f"{a.path}[{i}]",
                                       mapping.composite_children(body)))
    elif name.endswith(".dashboard.json"):
        bodies = a.content if isinstance(a.content, list) else [a.content]
        sp.cw_dashboards.extend(mapping.dashboard_args(b, a.path) for b in bodies)
    elif name.count(".") == 1:  # <service>.json
        for i, body in enumerate(_as_list(a)):
            sp.alarms.append(Alarm(mapping.metric_alarm_args(body, f"{a.path}[{i}]"), body, f"{a.path}[{i}]"))
    else:
        raise MappingError(f"{a.path}: unknown CloudWatch artifact (expected <service>.json, .composite.json, "
                           ".dashboard.json or .topics.json)")


def _as_list(a) -> list:
    if not isinstance(a.content, list):
        raise MappingError(f"{a.path}: expected a JSON list of request bodies")
    return a.content


def _plan_grafana(cfg: StackConfig, p: Plan, a) -> bool:
    """Plan one Grafana dashboard for the API; True when it is left to the sidecar ConfigMaps instead."""
    if not cfg.deploys("grafana"):
        p.skipped.append((a.path, "outputs does not include grafana"))
        return False
    if not cfg.grafana_api:
        return True
    if not isinstance(a.content, dict):
        raise MappingError(f"{a.path}: expected a Grafana dashboard JSON object")
    uid = a.content.get("uid") or a.path.rsplit("/", 1)[1].removesuffix(".json")
    p.service(a.service).grafana.append((uid, a.content))
    return False


def plan_ssm(cfg: StackConfig, p: Plan, a) -> None:
    """``ssm/<service>.json`` (CreateDocument bodies) and ``ssm/<service>.policy.json`` (on-call's IAM
    policy), deployed with the AWS resources (outputs ``cloudwatch``: the same account and region)."""
    if not cfg.deploys("cloudwatch"):
        p.skipped.append((a.path, "outputs does not include cloudwatch (SSM documents go with the AWS resources)"))
        return
    sp = p.service(a.service)
    if a.path.endswith(".policy.json"):
        if not isinstance(a.content, dict) or "Statement" not in a.content:
            raise MappingError(f"{a.path}: expected an IAM policy document")
        sp.ssm.append({"policy": a.content, "where": a.path})
        return
    for i, body in enumerate(_as_list(a)):
        missing = {"Name", "Content", "DocumentType", "DocumentFormat"} - set(body if isinstance(body, dict) else ())
        if missing:
            raise MappingError(f"{a.path}[{i}]: a CreateDocument body needs {', '.join(sorted(missing))}")
        sp.ssm.append({"document": body, "where": f"{a.path}[{i}]"})


def declare_ssm(sp: ServicePlan, opts, count) -> tuple[list[str], list[str]]:
    """Declare the service's SSM documents (``aws.ssm.Document``, exactly the rendered bodies) and on-call's
    managed IAM policy (``aws.iam.Policy``, to be attached to the on-call role); returns their names."""
    import json as _json

    import pulumi_aws as aws

    docs, policies = [], []
    for item in sp.ssm:
        if "document" in item:
            b = item["document"]
            aws.ssm.Document(b["Name"], name=b["Name"], content=b["Content"], document_type=b["DocumentType"],
                             document_format=b["DocumentFormat"], target_type=b.get("TargetType"),
                             tags={t["Key"]: t["Value"] for t in b.get("Tags", [])}, opts=opts)
            count("aws:ssm/document:Document")
            docs.append(b["Name"])
        else:
            name = f"{sp.name}-ssm-remediations"
            aws.iam.Policy(name, name=name, policy=_json.dumps(item["policy"], indent=2),
                           description=f"Run the SSM remediation documents of {sp.name} on its instances (mlmon)",
                           opts=opts)
            count("aws:iam/policy:Policy")
            policies.append(name)
    return docs, policies


def _check_topics(p: Plan) -> None:
    known = {name for sp in p.services.values() for name, _ in sp.topics}
    for sp in p.services.values():
        for alarm in sp.alarms + sp.composites:
            missing = [t for t in mapping.action_topics(alarm.body) if t not in known]
            if missing:
                raise MappingError(f"{alarm.where}: actions name SNS topic(s) {', '.join(missing)} that no "
                                   "cloudwatch/*.topics.json artifact declares")


def _check_composites(p: Plan) -> None:
    """Every alarm a composite names is declared by this stack before it: a metric alarm, or a composite
    earlier in file order (CloudWatch rejects a composite whose rule names an alarm that does not exist)."""
    metric = {a.args["name"] for sp in p.services.values() for a in sp.alarms}
    composites = [c for sp in p.services.values() for c in sp.composites]
    order = {c.args["alarm_name"]: i for i, c in enumerate(composites)}
    for i, c in enumerate(composites):
        for child in c.children:
            if child in metric or order.get(child, len(composites)) < i:
                continue
            if child in order:
                raise MappingError(f"{c.where}: composite alarm {c.args['alarm_name']!r} names {child!r}, which "
                                   f"comes after it ({composites[order[child]].where}); composites must be "
                                   "listed children before parents")
            raise MappingError(f"{c.where}: composite alarm {c.args['alarm_name']!r} names alarm {child!r}, "
                               "which no cloudwatch/*.json artifact of this stack declares")


def _check_unique(p: Plan) -> None:
    seen: dict[tuple[str, str], str] = {}

    def add(token, name, where):
        if (token, name) in seen and seen[(token, name)] != where:
            raise MappingError(f"{where}: {token} {name!r} is also declared by {seen[(token, name)]}")
        seen[(token, name)] = where

    for sp in p.services.values():
        for o in sp.kube:
            add(o.kind.type_token, o.name, sp.name)
        for a in sp.alarms:
            add("MetricAlarm", a.args["name"], a.where)
        for a in sp.composites:
            add("CompositeAlarm", a.args["alarm_name"], a.where)
        for d in sp.cw_dashboards:
            add("Dashboard", d["dashboard_name"], sp.name)
        for uid, _ in sp.grafana:
            add("grafana", uid, sp.name)


# ----------------------------------------------------------------------------------------------
# declaring resources (imports Pulumi)


def declare(cfg: StackConfig, p: Plan) -> dict[str, Any]:
    """Declare every planned resource; returns the stack outputs."""
    import pulumi

    def provider_opts(parent, provider, **kw):
        return pulumi.ResourceOptions(parent=parent, provider=provider, **kw)

    services = [sp for sp in p.services.values()]
    counts: dict[str, int] = {}

    def count(token: str, n: int = 1):
        counts[token] = counts.get(token, 0) + n

    k8s_provider = aws_provider = grafana_provider = None
    if any(sp.kube for sp in services):
        import pulumi_kubernetes as k8s

        kc = cfg.kubernetes
        k8s_provider = k8s.Provider(
            "kubernetes",
            kubeconfig=pulumi.Output.secret(kc.kubeconfig) if kc.kubeconfig else None,
            context=kc.context, namespace=kc.namespace)
    topic_count = sum(len(sp.topics) for sp in services)
    if topic_count or any(sp.alarms or sp.composites or sp.cw_dashboards or sp.ssm for sp in services):
        import pulumi_aws as aws

        aws_provider = aws.Provider("aws", region=cfg.aws.region, profile=cfg.aws.profile)
    if any(sp.grafana for sp in services):
        import pulumiverse_grafana as grafana

        grafana_provider = grafana.Provider("grafana", url=cfg.grafana.url,
                                            auth=pulumi.Output.secret(cfg.grafana_token))
        folder = grafana.oss.Folder("mlmon-folder", title=cfg.grafana.folder,
                                    uid=_slug(cfg.grafana.folder),
                                    opts=pulumi.ResourceOptions(provider=grafana_provider))
        count("grafana:oss/folder:Folder")

    topic_encryption = _topic_encryption(cfg, aws_provider, count) if topic_count else {}
    arn_by_topic: dict[str, Any] = {}
    subscriptions_out: dict[str, list] = {}
    alarm_names: list[str] = []
    cw_dashboards: list[str] = []
    dashboard_uids: list[str] = []
    alert_names: list[str] = []
    ssm_documents: list[str] = []
    iam_policies: list[str] = []

    components = {sp.name: pulumi.ComponentResource(COMPONENT_TYPE, sp.name, None, None) for sp in services}
    alarms_by_name: dict[str, Any] = {}

    # 1. Kubernetes objects, SNS topics and subscriptions, metric alarms
    for sp in services:
        component = components[sp.name]
        for o in sp.kube:
            _declare_kube(o, provider_opts(component, k8s_provider))
            count(o.kind.type_token)
        alert_names.extend(sp.alerts)
        if sp.ssm:
            docs, policies = declare_ssm(sp, provider_opts(component, aws_provider), count)
            ssm_documents.extend(docs)
            iam_policies.extend(policies)
        for topic_name, severity in sp.topics:
            if topic_name in arn_by_topic:
                continue
            import pulumi_aws as aws

            topic = aws.sns.Topic(topic_name, name=topic_name, **topic_encryption,
                                  opts=provider_opts(component, aws_provider))
            count("aws:sns/topic:Topic")
            arn_by_topic[topic_name] = topic.arn
            for i, sub in enumerate(cfg.subscriptions.get(severity, ())):
                aws.sns.TopicSubscription(
                    f"{topic_name}-{sub.protocol}-{i}", topic=topic.arn, protocol=sub.protocol,
                    endpoint=pulumi.Output.secret(sub.endpoint), opts=provider_opts(component, aws_provider))
                count("aws:sns/topicSubscription:TopicSubscription")
                subscriptions_out.setdefault(topic_name, []).append(
                    {"protocol": sub.protocol, "endpoint": sub.endpoint})
    for sp in services:
        for alarm in sp.alarms:
            import pulumi_aws as aws

            args = {**alarm.args, **_actions(alarm.body, arn_by_topic, ACTION_ARGS_METRIC)}
            alarms_by_name[alarm.args["name"]] = aws.cloudwatch.MetricAlarm(
                alarm.args["name"], **args, opts=provider_opts(components[sp.name], aws_provider))
            count("aws:cloudwatch/metricAlarm:MetricAlarm")
            alarm_names.append(alarm.args["name"])
    # 2. composite alarms in file order: each after (and depending on) the alarms its rule names
    for sp in services:
        for alarm in sp.composites:
            import pulumi_aws as aws

            args = {**alarm.args, **_actions(alarm.body, arn_by_topic, ACTION_ARGS_METRIC)}
            children = [alarms_by_name[c] for c in alarm.children]
            alarms_by_name[alarm.args["alarm_name"]] = aws.cloudwatch.CompositeAlarm(
                alarm.args["alarm_name"], **args,
                opts=provider_opts(components[sp.name], aws_provider, depends_on=children))
            count("aws:cloudwatch/compositeAlarm:CompositeAlarm")
            alarm_names.append(alarm.args["alarm_name"])
    # 3. dashboards: CloudWatch (after the service's alarms, which its widgets may show), then Grafana
    for sp in services:
        component = components[sp.name]
        own_alarms = [alarms_by_name[a.args["name"]] for a in sp.alarms] + \
                     [alarms_by_name[a.args["alarm_name"]] for a in sp.composites]
        for d in sp.cw_dashboards:
            import pulumi_aws as aws

            aws.cloudwatch.Dashboard(d["dashboard_name"], **d,
                                     opts=provider_opts(component, aws_provider, depends_on=own_alarms))
            count("aws:cloudwatch/dashboard:Dashboard")
            cw_dashboards.append(d["dashboard_name"])
        for uid, dashboard in sp.grafana:
            import pulumiverse_grafana as grafana

            grafana.oss.Dashboard(uid, config_json=json.dumps(dashboard, ensure_ascii=False),
                                  folder=folder.uid, overwrite=True,
                                  opts=provider_opts(component, grafana_provider))
            count("grafana:oss/dashboard:Dashboard")
            dashboard_uids.append(uid)
        for o in sp.kube:
            if o.kind_name == "ConfigMap" and cfg.grafana.sidecar_label in (o.metadata.get("labels") or {}):
                dashboard_uids.extend(_uids_in_configmap(o))
        components[sp.name].register_outputs({"alerts": list(sp.alerts)} if sp.alerts else {})

    return {
        "environment": cfg.environment,
        "counts": dict(sorted(counts.items())),
        "alertNames": sorted(alert_names),
        "alarmNames": sorted(alarm_names),
        "dashboardUids": sorted(set(dashboard_uids)),
        "cloudwatchDashboards": sorted(cw_dashboards),
        "topicArns": dict(sorted(arn_by_topic.items())),
        "ssmDocuments": sorted(ssm_documents),
        "iamPolicies": sorted(iam_policies),
        "subscriptions": pulumi.Output.secret(subscriptions_out),
        "skipped": [f"{what}: {why}" for what, why in p.skipped],
    }


SNS_KEY_NAME = "mlmon-sns"
"""Logical name of the stack's SNS key and of its alias (``alias/mlmon-sns-<environment>``)."""


def _topic_encryption(cfg: StackConfig, aws_provider, count) -> dict[str, Any]:
    """The encryption arguments of every SNS topic (``mlmon:aws.snsKmsKey``): the stack's own
    customer-managed key (declared here), a key of the user's, or no key and a tag saying why."""
    import pulumi
    import pulumi_aws as aws

    key = cfg.aws.sns_kms_key
    if key == SNS_KEY_NONE:
        return {"tags": {mapping.UNENCRYPTED_TAG: cfg.aws.sns_unencrypted_reason}}
    if key != SNS_KEY_STACK:
        return {"kms_master_key_id": key}
    opts = pulumi.ResourceOptions(provider=aws_provider)
    identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=aws_provider))
    kms_key = aws.kms.Key(
        SNS_KEY_NAME, description=f"mlmon {cfg.environment}: SNS topics of the CloudWatch alarm notifications",
        enable_key_rotation=True, deletion_window_in_days=30,
        policy=identity.account_id.apply(lambda account: json.dumps(mapping.sns_key_policy(account))), opts=opts)
    aws.kms.Alias(SNS_KEY_NAME, name=f"alias/{SNS_KEY_NAME}-{cfg.environment}", target_key_id=kms_key.key_id,
                  opts=opts)
    count("aws:kms/key:Key")
    count("aws:kms/alias:Alias")
    return {"kms_master_key_id": kms_key.arn}


ACTION_ARGS_METRIC = {"AlarmActions": "alarm_actions", "OKActions": "ok_actions",
                      "InsufficientDataActions": "insufficient_data_actions"}


def _actions(body: dict, arn_by_topic: dict, names: dict) -> dict:
    """The action arguments of ``body`` with topic names resolved to the topics' ARN outputs, through
    ``generators.cloudwatch.actions.resolve_actions`` (the CloudWatch generator's own resolver; entries
    that already are ARNs stay as they are)."""
    present = [k for k in ACTION_KEYS if k in body]
    if not present:
        return {}
    import pulumi

    from ..cloudwatch.actions import resolve_actions

    topics = mapping.action_topics(body)
    resolved = pulumi.Output.all(*[arn_by_topic[t] for t in topics]).apply(
        lambda arns: resolve_actions(body, dict(zip(topics, arns))))
    return {names[k]: resolved.apply(lambda b, k=k: list(b[k])) for k in present}


def _declare_kube(o: mapping.KubeObject, opts) -> None:
    import pulumi_kubernetes as k8s

    cls: Any = k8s
    for part in o.kind.resource.split("."):
        cls = getattr(cls, part)
    if o.kind.custom:
        cls(o.name, api_version=o.api_version, kind=o.kind_name, metadata=o.metadata, opts=opts, **o.args)
    else:
        cls(o.name, metadata=o.metadata, opts=opts, **o.args)


def _uids_in_configmap(o: mapping.KubeObject) -> list[str]:
    out = []
    for text in (o.args.get("data") or {}).values():
        try:
            doc = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("uid"), str):
            out.append(doc["uid"])
    return out


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in text.lower())
    out = "-".join(part for part in out.split("-") if part)
    return out[:40] or "mlmon"


# ----------------------------------------------------------------------------------------------
# entry point


def stack_values() -> tuple[dict[str, Any], set[str]]:
    """The stack's config as the Pulumi runtime holds it, and the keys that are secret."""
    from pulumi.runtime import config as rc

    values = {**rc.get_config_env(), **rc.CONFIG.get()}
    secret = set(rc.get_config_secret_keys_env()) | set(rc._SECRET_KEYS.get())
    return values, secret


def main(root: str | Path) -> dict[str, Any]:
    """Run the stack program (called by ``stacks/__main__.py`` with the repository root)."""
    import pulumi

    from ..loader import load_catalog
    from ..render import render

    stack = pulumi.get_stack()
    source = f"stack {stack!r}, stacks/Pulumi.{stack}.yaml"
    values, secret = stack_values()
    cfg = parse(values, source, secret)
    catalog = load_catalog(Path(root) / cfg.catalog)
    check_against_catalog(cfg, catalog, source)
    p = plan(cfg, render(catalog, cfg.environment))
    outputs = declare(cfg, p)
    for k, v in outputs.items():
        pulumi.export(k, v)
    return outputs
