"""The Pulumi stack program: ``stacks/__main__.py`` calls :func:`main`.

1. read the stack config and validate it into :class:`~generators.deploy.config.StackConfig`;
2. load the catalog and render it in memory with :func:`generators.render.render` — the very function
   ``mlmon render`` writes files from — for the stack's environment;
3. map every artifact object to a typed resource (:func:`plan`, pure: every error is raised here, before
   any resource is declared);
4. declare them (:func:`generators.deploy.declare.declare`): explicit providers, one ``mlmon:index:Service`` component per service as
   parent, alarm actions wired to the SNS topics' ARNs; export the stack outputs.

Declaration order (and ``depends_on``) follows what CloudWatch needs: Kubernetes objects and SNS topics,
then every metric alarm, then the composite alarms in file order (children before parents; each composite
``depends_on`` exactly the alarms its ``AlarmRule`` and ``ActionsSuppressor`` name), then the CloudWatch
dashboards (each ``depends_on`` its service's alarms) and Grafana dashboards. Pulumi orders operations by
these dependencies, not by declaration order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import mapping
from .config import StackConfig, check_against_catalog, parse
from .declare import declare
from .mapping import MappingError, dashboard_configmaps, is_dashboard_configmap, uids_in_configmap

SHARED = "shared"
"""Component name for artifacts that belong to no single service (e.g. hand-written dashboards)."""

NOT_DEPLOYED = {
    "prometheus/": "rule files and promtool tests: the rules are deployed inside the PrometheusRule",
}
ALERTMANAGER_TESTS = "alertmanager/routing-tests.yaml"
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
    grafana: list[tuple[str, dict, str]] = field(default_factory=list)
    """``(uid, dashboard, folder title)`` delivered through Grafana's API."""
    alerts: list[str] = field(default_factory=list)
    """Prometheus alert names in this service's PrometheusRules (a stack output)."""
    ssm: list[dict] = field(default_factory=list)
    """``CreateDocument`` bodies of ``ssm/<service>.json`` and the on-call policy of ``ssm/<service>.policy.json``
    (``{"policy": ...}``), deployed by :func:`.declare.declare_ssm`."""


@dataclass
class Plan:
    env: str
    services: dict[str, ServicePlan]
    skipped: list[tuple[str, str]]
    """``(artifact path or object, reason)`` for what is rendered but not deployed by this stack."""

    def service(self, name: str) -> ServicePlan:
        return self.services.setdefault(name or SHARED, ServicePlan(name or SHARED))


def plan(cfg: StackConfig, artifacts, folder_annotation: str = "grafana_folder",
         alertmanager_secret: tuple[str, str] | None = None) -> Plan:
    """Every resource to declare, from the rendered ``artifacts``. Pure; raises MappingError on anything
    the program cannot deploy faithfully. ``folder_annotation`` (the catalog's
    ``dashboard_folder_annotation`` in this environment) is where the rendered dashboard ConfigMaps hold
    their Grafana folder, which API delivery uses too. ``alertmanager_secret`` (the catalog's
    ``alertmanager.config_secret`` and ``config_namespace``) names the Secret of ``alertmanager.yaml`` when the
    stack owns Alertmanager (``mlmon:alertmanager.form: secret``)."""
    p = Plan(cfg.environment, {}, [])
    folders = {uid: (cm.metadata.get("annotations") or {}).get(folder_annotation)
               for cm in dashboard_configmaps(artifacts) for uid in uids_in_configmap(cm)}
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
            if _plan_grafana(cfg, p, a, folders):
                sidecar.append(a)
        elif top == "ssm/":
            plan_ssm(cfg, p, a)
        elif top == "alertmanager/":
            _plan_alertmanager(cfg, p, a, alertmanager_secret)
        else:
            raise MappingError(f"{a.path}: the Pulumi program does not know how to deploy artifacts under "
                               f"{top} (generators/deploy/program.py: plan)")
    carried = {uid for sp in p.services.values() for o in sp.kube
               if is_dashboard_configmap(o.manifest()) for uid in uids_in_configmap(o)}
    for a in sidecar:
        uid = a.content.get("uid") if isinstance(a.content, dict) else None
        if uid in carried:
            p.skipped.append((a.path, "no Grafana URL/token configured: delivered by its sidecar ConfigMap"))
        else:
            p.skipped.append((a.path, "no Grafana URL/token configured and no sidecar ConfigMap carries it: "
                                      "NOT DEPLOYED (configure mlmon:grafana.url and mlmon:grafanaToken)"))
    _note_unrouted(cfg, p, artifacts)
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
        if isinstance(manifest, dict) and is_dashboard_configmap(manifest):
            name = (manifest.get("metadata") or {}).get("name")
            if not cfg.deploys("grafana"):
                p.skipped.append((f"{a.path} ConfigMap {name}", "outputs does not include grafana"))
                continue
            if cfg.grafana_api:
                p.skipped.append((f"{a.path} ConfigMap {name}", "dashboards go through Grafana's API"))
                continue
        if isinstance(manifest, dict) and manifest.get("kind") == "AlertmanagerConfig" \
                and cfg.alertmanager.form != "operator":
            name = (manifest.get("metadata") or {}).get("name")
            p.skipped.append((f"{a.path} AlertmanagerConfig {name}", f"mlmon:alertmanager.form is "
                              f"{cfg.alertmanager.form}, not operator"))
            continue
        obj = mapping.kube_object(manifest, where)
        sp.kube.append(obj)
        if obj.kind_name == "PrometheusRule":
            for group in (obj.args.get("spec") or {}).get("groups") or []:
                sp.alerts.extend(r["alert"] for r in group.get("rules") or [] if "alert" in r)


def _note_unrouted(cfg: StackConfig, p: Plan, artifacts) -> None:
    """With the operator form, a service the Alertmanager configuration routes but that has no AlertmanagerConfig
    (no namespace) is routed by nothing the stack deploys: say so (``mlmon plan`` shows it)."""
    if cfg.alertmanager.form != "operator" or not cfg.deploys("kubernetes"):
        return
    config = next((a.content for a in artifacts if a.path == "alertmanager/alertmanager.yaml"), None)
    if not isinstance(config, dict):
        return
    with_cr = {a.service for a in artifacts if a.path.startswith("kubernetes/") and a.multi
               and any(isinstance(d, dict) and d.get("kind") == "AlertmanagerConfig" for d in a.content)}
    for route in (config.get("route") or {}).get("routes") or []:
        service = next((m.split("=", 1)[1].strip('"') for m in route.get("matchers") or []
                        if m.startswith("service=")), None)
        if service and service not in with_cr:
            p.skipped.append((f"alertmanager/alertmanager.yaml routes of {service}",
                              "the service has no namespace, so no AlertmanagerConfig: its alerts are NOT ROUTED by "
                              "the operator form (give it a namespace, or use mlmon:alertmanager.form: secret)"))


def _plan_alertmanager(cfg: StackConfig, p: Plan, a, secret: tuple[str, str] | None) -> None:
    """``alertmanager/alertmanager.yaml`` as the configuration Secret of an Alertmanager the stack owns."""
    from ..names import ALERTMANAGER_CONFIG_KEY, kubernetes_labels

    if a.path == ALERTMANAGER_TESTS:
        p.skipped.append((a.path, "routing tests: run by mlmon check (amtool)"))
        return
    if a.path != "alertmanager/alertmanager.yaml":
        raise MappingError(f"{a.path}: unknown Alertmanager artifact (expected alertmanager/alertmanager.yaml)")
    if cfg.alertmanager.form != "secret":
        p.skipped.append((a.path, f"mlmon:alertmanager.form is {cfg.alertmanager.form}: the stack does not own "
                                  "Alertmanager (its configuration Secret is not deployed)"))
        return
    if not cfg.deploys("kubernetes"):
        p.skipped.append((a.path, "outputs does not include kubernetes"))
        return
    if secret is None:
        raise MappingError(f"{a.path}: no Secret name for the Alertmanager configuration (catalog "
                           "alertmanager.config_secret)")
    name, namespace = secret
    manifest = {"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": name, "namespace": namespace,
                             "labels": kubernetes_labels("alertmanager", cfg.environment, name, "config")},
                "type": "Opaque", "stringData": {ALERTMANAGER_CONFIG_KEY: a.serialize().decode()}}
    p.service(a.service).kube.append(mapping.kube_object(manifest, a.path))


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


def _plan_grafana(cfg: StackConfig, p: Plan, a, folders: dict) -> bool:
    """Plan one Grafana dashboard for the API (into the folder its rendered ConfigMap names); True when it is
    left to the sidecar ConfigMaps instead."""
    if not cfg.deploys("grafana"):
        p.skipped.append((a.path, "outputs does not include grafana"))
        return False
    if not cfg.grafana_api:
        return True
    if not isinstance(a.content, dict):
        raise MappingError(f"{a.path}: expected a Grafana dashboard JSON object")
    uid = a.content.get("uid") or a.path.rsplit("/", 1)[1].removesuffix(".json")
    if not folders.get(uid):
        raise MappingError(f"{a.path}: no rendered dashboard ConfigMap names its Grafana folder (annotation "
                           "dashboard_folder_annotation of the catalog); the program does not invent one")
    p.service(a.service).grafana.append((uid, a.content, folders[uid]))
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
        for uid, _, _ in sp.grafana:
            add("grafana", uid, sp.name)


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
    from ..resolve import deployment

    stack = pulumi.get_stack()
    source = f"stack {stack!r}, stacks/Pulumi.{stack}.yaml"
    values, secret = stack_values()
    cfg = parse(values, source, secret)
    catalog = load_catalog(Path(root) / cfg.catalog)
    check_against_catalog(cfg, catalog, source)
    settings = deployment(catalog.defaults, cfg.environment)
    am = catalog.defaults.alertmanager
    p = plan(cfg, render(catalog, cfg.environment), settings.dashboard_folder_annotation,
             (am.config_secret, am.config_namespace) if am is not None else None)
    outputs = declare(cfg, p)
    for k, v in outputs.items():
        pulumi.export(k, v)
    return outputs
