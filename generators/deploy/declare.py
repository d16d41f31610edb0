"""Declaring the planned resources with Pulumi (:func:`declare`): explicit providers, one ``mlmon:index:Service``
component per service as parent, alarm actions wired to the SNS topics' ARNs, the stack outputs. The only
module of the program that imports Pulumi; the plan it declares is :mod:`.program`'s, made from the render."""

from __future__ import annotations

import json
from typing import Any

from ..names import grafana_folder_uid
from . import mapping
from .mapping import ACTION_KEYS
from .config import PROJECT, SNS_KEY_NONE, SNS_KEY_STACK, StackConfig
from .mapping import is_dashboard_configmap, uids_in_configmap

COMPONENT_TYPE = f"{PROJECT}:index:Service"


def declare(cfg: StackConfig, p) -> dict[str, Any]:
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
        folders = {}
        for title in sorted({f for sp in services for _, _, f in sp.grafana}):
            uid = grafana_folder_uid(title)
            folders[title] = grafana.oss.Folder(f"folder-{uid}", title=title, uid=uid,
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
        for uid, dashboard, title in sp.grafana:
            import pulumiverse_grafana as grafana

            grafana.oss.Dashboard(uid, config_json=json.dumps(dashboard, ensure_ascii=False),
                                  folder=folders[title].uid, overwrite=True,
                                  opts=provider_opts(component, grafana_provider))
            count("grafana:oss/dashboard:Dashboard")
            dashboard_uids.append(uid)
        for o in sp.kube:
            if is_dashboard_configmap(o.manifest()):
                dashboard_uids.extend(uids_in_configmap(o))
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


def declare_ssm(sp, opts, count) -> tuple[list[str], list[str]]:
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
