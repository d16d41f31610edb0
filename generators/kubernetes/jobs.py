"""Scheduled jobs and remediation templates as Kubernetes objects (pure functions of a ResolvedService).

Scheduled job ``<name>``: ServiceAccount, Role + RoleBinding (only with ``api_access``), ``batch/v1`` CronJob.
Remediation ``<name>``: ServiceAccount, Role + RoleBinding, and a *suspended* CronJob ``remediate-<name>``
that only runs when someone creates a Job from it. Its steps are containers running the pinned kubectl image
(entrypoint ``kubectl``, no shell) (init containers run in order; the last step is the main container).

Every pod is restricted (Pod Security Standards "restricted" plus a read-only root filesystem): non-root
UID >= 10000, no privilege escalation, all capabilities dropped, seccomp RuntimeDefault, an emptyDir at /tmp,
and the API token mounted only when the job uses the API. Roles grant exactly the verbs each kubectl call
needs on exactly the named objects; the one verb Kubernetes cannot scope by name is ``create`` (a
trigger-job's Job), see :data:`generators.jobs.model.UNSCOPABLE_VERBS`.
"""

from __future__ import annotations

import copy
import json

from ..jobs.model import (KUBERNETES_ACTIONS, HelmRollback, PatchConfigMap, Permission, Resources, RolloutRestart,
                          RolloutUndo, Run, Scale, SetEnv, TriggerJob, template_name)
from ..names import kubernetes_labels
from ..resolve import ResolvedService, alert_remediations
from .commands import job_command, remediation_command

NEVER = "0 0 31 2 *"
"""Schedule of remediation templates: 31 February never comes, and the CronJob is suspended as well."""
VERB_ORDER = ("get", "list", "watch", "create", "update", "patch", "delete")
WORKLOAD_RESOURCES = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}
HISTORY_RESOURCES = {"Deployment": "replicasets", "StatefulSet": "controllerrevisions",
                     "DaemonSet": "controllerrevisions"}
"""What ``kubectl rollout undo`` lists to find the previous revision of each workload kind."""
JOB_NAME_ENV = "MLMON_JOB_NAME"
CHECKOV_API_SKIP = ("CKV_K8S_38=this job calls the Kubernetes API with its own least-privilege ServiceAccount, "
                    "so its token is mounted; every other mlmon pod has automountServiceAccountToken false")
CHECKOV_SECRET_ENV_SKIP = ("CKV_K8S_35=the catalog gives this job a Secret reference as an environment variable "
                           "(the application reads it from env); mlmon rejects literal secret values")


# ---------------------------------------------------------------------------------------------
# building blocks


def checkov_skips(needs_api: bool, env: dict) -> dict[str, str]:
    """Inline checkov skips (``checkov.io/skipN`` annotations), each with its reason, only where they apply."""
    reasons = []
    if needs_api:
        reasons.append(CHECKOV_API_SKIP)
    if any(v.secret is not None for v in env.values()):
        reasons.append(CHECKOV_SECRET_ENV_SKIP)
    return {f"checkov.io/skip{i}": r for i, r in enumerate(reasons, 1)}


def labels(rs: ResolvedService, name: str, component: str) -> dict[str, str]:
    return kubernetes_labels(rs.name, rs.env, name, component)


def metadata(rs: ResolvedService, name: str, lbl: dict, annotations: dict | None = None) -> dict:
    out = {"name": name, "namespace": rs.namespace, "labels": dict(lbl)}
    if annotations:
        out["annotations"] = annotations
    return out


def resources(r: Resources) -> dict:
    return {"requests": {"cpu": r.requests.cpu, "memory": r.requests.memory},
            "limits": {"cpu": r.limits.cpu, "memory": r.limits.memory}}


def env_list(env: dict) -> list[dict]:
    out = []
    for name, v in env.items():
        if v.value is not None:
            out.append({"name": name, "value": v.value})
        else:
            kind, ref = ("configMapKeyRef", v.config_map) if v.config_map is not None else ("secretKeyRef", v.secret)
            sel = {"name": ref.name, "key": ref.key}
            if ref.optional:
                sel["optional"] = True
            out.append({"name": name, "valueFrom": {kind: sel}})
    return out


def container_security(uid: int) -> dict:
    return {"allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": True,
            "runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}}


def container(rs: ResolvedService, name: str, image: str, command, args, env: list[dict], res: Resources) -> dict:
    c: dict = {"name": name, "image": image, "imagePullPolicy": "Always"}
    if command:
        c["command"] = list(command)
    if args:
        c["args"] = list(args)
    c["env"] = [{"name": "TMPDIR", "value": "/tmp"}, *copy.deepcopy(env)]  # no shared objects: no YAML aliases
    c["resources"] = resources(res)
    c["securityContext"] = container_security(rs.defaults.jobs.run_as_user)
    c["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
    return c


def claim_volumes(mounts) -> tuple[list[dict], list[dict]]:
    """(pod volumes, container volumeMounts) of a job's persistent directories: one volume per claim."""
    names: dict[str, str] = {}
    volumes, out = [], []
    for m in mounts:
        if m.claim not in names:
            names[m.claim] = f"data-{len(names) + 1}"
            volumes.append({"name": names[m.claim], "persistentVolumeClaim": {"claimName": m.claim}})
        vm = {"name": names[m.claim], "mountPath": m.mount_path}
        if m.sub_path:
            vm["subPath"] = m.sub_path
        if m.read_only:
            vm["readOnly"] = True
        out.append(vm)
    return volumes, out


def pod_template(rs: ResolvedService, lbl: dict, sa: str, containers: list[dict], needs_api: bool,
                 tmp_size: str, init: list[dict] | None = None, volumes: list[dict] | None = None) -> dict:
    uid = rs.defaults.jobs.run_as_user
    spec: dict = {
        "serviceAccountName": sa,
        "automountServiceAccountToken": needs_api,
        "enableServiceLinks": False,
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
                            "seccompProfile": {"type": "RuntimeDefault"}},
    }
    if init:
        spec["initContainers"] = init
    spec["containers"] = containers
    spec["volumes"] = [{"name": "tmp", "emptyDir": {"sizeLimit": tmp_size}}, *(volumes or [])]
    return {"metadata": {"labels": dict(lbl)}, "spec": spec}


def service_account(rs: ResolvedService, name: str, lbl: dict) -> dict:
    """The job's own ServiceAccount. Its token is never mounted by default; pods that use the API opt in."""
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(rs, name, lbl),
            "automountServiceAccountToken": False}


def rules(permissions: list[Permission]) -> list[dict]:
    """RBAC rules: one per (API group, resource, names), verbs merged, in a stable order."""
    merged: dict[tuple, set] = {}
    for p in permissions:
        merged.setdefault((p.api_group, p.resource, tuple(sorted(set(p.names)))), set()).update(p.verbs)
    out = []
    for (group, resource, names), verbs in sorted(merged.items()):
        rule = {"apiGroups": [group], "resources": [resource]}
        if names:
            rule["resourceNames"] = list(names)
        rule["verbs"] = [v for v in VERB_ORDER if v in verbs]
        out.append(rule)
    return out


def rbac(rs: ResolvedService, name: str, lbl: dict, permissions: list[Permission]) -> list[dict]:
    """Role (namespaced, never a ClusterRole) and its RoleBinding to the job's own ServiceAccount."""
    if not permissions:
        return []
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": metadata(rs, name, lbl),
         "rules": rules(permissions)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": metadata(rs, name, lbl),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": rs.namespace}]},
    ]


# ---------------------------------------------------------------------------------------------
# scheduled jobs


def scheduled_jobs(rs: ResolvedService) -> list[dict]:
    """``KUBERNETES_GENERATORS`` entry: ServiceAccount, RBAC and CronJob of every scheduled job."""
    d = rs.defaults.jobs
    out: list[dict] = []
    for job in rs.service.jobs:
        if job.environments is not None and rs.env not in job.environments:
            continue
        lbl = labels(rs, job.name, job.purpose)
        env = env_list(job.env)
        c = container(rs, job.name, job.image, job.command, job.args, env, job.resources.merged(d.resources))
        volumes, mounts = claim_volumes(job.volumes)
        c["volumeMounts"].extend(mounts)
        if job.working_dir:
            c["workingDir"] = job.working_dir
        pod = pod_template(rs, lbl, job.name, [c], job.needs_api, job.tmp_size or d.tmp_size, volumes=volumes)
        annotations = {"mlmon.io/run-now": job_command(rs, job.name)}
        if job.description:
            annotations["mlmon.io/description"] = job.description
        annotations.update(checkov_skips(job.needs_api, job.env))
        spec: dict = {"schedule": NEVER if job.manual else job.schedule}
        if job.manual:
            annotations["mlmon.io/manual"] = "suspended; never scheduled: runs only with the run-now command"
        if job.time_zone:
            spec["timeZone"] = job.time_zone
        spec.update({
            "concurrencyPolicy": job.concurrency,
            "startingDeadlineSeconds": job.starting_deadline or d.starting_deadline,
            "suspend": job.suspend,
            "successfulJobsHistoryLimit": d.successful_history,
            "failedJobsHistoryLimit": d.failed_history,
            "jobTemplate": {"metadata": {"labels": dict(lbl)}, "spec": {
                "backoffLimit": d.retries if job.retries is None else job.retries,
                "activeDeadlineSeconds": job.deadline or d.deadline,
                "ttlSecondsAfterFinished": d.ttl_after_finished if job.ttl_after_finished is None
                else job.ttl_after_finished,
                "template": pod,
            }},
        })
        out.append(service_account(rs, job.name, lbl))
        out.extend(rbac(rs, job.name, lbl, list(job.api_access)))
        out.append({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata(rs, job.name, lbl, annotations),
                    "spec": spec})
    return out


# ---------------------------------------------------------------------------------------------
# remediations


def _workload(rs: ResolvedService):
    w = rs.service.workload
    assert w is not None, "checked by generators.checks.jobs"
    return w


def _perm(group: str, resource: str, verbs, names=()) -> Permission:
    return Permission(api_group=group, resource=resource, verbs=tuple(verbs), names=tuple(names))


def remediation_plan(rs: ResolvedService, rem) -> tuple[list[tuple[str, list[str]]], list[Permission]]:
    """The kubectl steps of a remediation (container name, kubectl arguments) and exactly the permissions
    they need. ``run`` remediations have no kubectl steps (see :func:`remediation_templates`)."""
    ns = f"--namespace={rs.namespace}"
    dry = ["--dry-run=server"] if rem.dry_run else []
    steps: list[tuple[str, list[str]]] = []
    perms: list[Permission] = []
    if isinstance(rem, TriggerJob):
        steps.append(("create-job", ["create", "job", f"$({JOB_NAME_ENV})-run", f"--from=cronjob/{rem.job}", ns, *dry]))
        perms += [_perm("batch", "cronjobs", ["get"], [rem.job]), _perm("batch", "jobs", ["create"])]
        return steps, perms
    if isinstance(rem, PatchConfigMap) and not rem.restart:
        patch = json.dumps({"data": dict(rem.data)}, separators=(",", ":"), ensure_ascii=False)
        steps.append(("patch-configmap", ["patch", "configmap", rem.configmap, "--type=merge", f"--patch={patch}",
                                          ns, *dry]))
        return steps, [_perm("", "configmaps", ["get", "patch"], [rem.configmap])]
    w = _workload(rs)
    res = WORKLOAD_RESOURCES[w.kind]
    ref = f"{w.kind.lower()}/{w.name}"
    restart = ("rollout-restart", ["rollout", "restart", ref, ns, *dry])
    if isinstance(rem, RolloutRestart):
        steps.append(restart)
        perms.append(_perm("apps", res, ["get", "patch"], [w.name]))
    elif isinstance(rem, RolloutUndo):
        rev = [f"--to-revision={rem.to_revision}"] if rem.to_revision else []
        steps.append(("rollout-undo", ["rollout", "undo", ref, *rev, ns, *dry]))
        perms += [_perm("apps", res, ["get", "patch"], [w.name]), _perm("apps", HISTORY_RESOURCES[w.kind], ["list"])]
    elif isinstance(rem, Scale):
        steps.append(("scale", ["scale", ref, f"--replicas={rem.replicas}", ns, *dry]))
        perms += [_perm("apps", res, ["get"], [w.name]), _perm("apps", f"{res}/scale", ["patch"], [w.name])]
    elif isinstance(rem, SetEnv):
        only = [f"--containers={rem.container}"] if rem.container else []
        steps.append(("set-env", ["set", "env", ref, *[f"{k}={v}" for k, v in rem.env.items()], *only, ns, *dry]))
        perms.append(_perm("apps", res, ["get", "patch"], [w.name]))
    elif isinstance(rem, PatchConfigMap):
        patch = json.dumps({"data": dict(rem.data)}, separators=(",", ":"), ensure_ascii=False)
        steps.append(("patch-configmap", ["patch", "configmap", rem.configmap, "--type=merge", f"--patch={patch}",
                                          ns, *dry]))
        perms.append(_perm("", "configmaps", ["get", "patch"], [rem.configmap]))
        if rem.restart:
            steps.append(restart)
            perms.append(_perm("apps", res, ["get", "patch"], [w.name]))
    elif isinstance(rem, HelmRollback):
        perms += helm_permissions(rs, rem)  # the helm step itself is built by remediation_templates
    else:  # pragma: no cover - the schema admits no other action
        raise TypeError(f"no kubectl plan for {rem.action}")
    wait = rs.defaults.jobs.remediation_wait if rem.wait is None else rem.wait
    if wait and not rem.dry_run:
        steps.append(("rollout-status", ["rollout", "status", ref, f"--timeout={wait}s", ns]))
        perms.append(_perm("apps", res, ["get", "list", "watch"], [w.name]))
    return steps, perms


HELM_SECRET = "sh.helm.release.v1.{release}.v{revision}"
"""Name of Helm 3's storage object of one release revision (Secret, or ConfigMap with HELM_DRIVER=configmap)."""


def helm_release(rs: ResolvedService, rem: HelmRollback) -> str:
    return rem.release or _workload(rs).name


def _unscoped(group: str, resource: str, verbs) -> Permission:
    """A rule Permission's own validator refuses (list on Secrets): only for Helm's storage, documented in
    docs/remediations.md ("helm-rollback")."""
    return Permission.model_construct(api_group=group, resource=resource, verbs=tuple(verbs), names=())


def helm_permissions(rs: ResolvedService, rem: HelmRollback) -> list[Permission]:
    """Exactly what ``helm rollback --history-max=0`` does to the release's storage and the chart's objects.

    Helm finds a release's revisions by LISTING its storage objects with the label selector
    ``owner=helm,name=<release>``. RBAC cannot scope a list by label (resourceNames only restrict a list
    that carries a ``metadata.name`` field selector, which Helm does not send), so ``list`` is granted on the
    whole resource in the namespace; for Secrets that lets the job read every Secret there. It then reads
    the target revision (get), marks the current one superseded (update) and writes the new revision
    (create: never scopable by name). get/update are limited to the release's own revision objects
    v1..v<history_limit>; ``--history-max=0`` means Helm never deletes old revisions, so no delete.
    Each chart object is read and patched back by name."""
    release = helm_release(rs, rem)
    store = "secrets" if rem.driver == "secret" else "configmaps"
    names = [HELM_SECRET.format(release=release, revision=i) for i in range(1, rem.history_limit + 1)]
    perms = [_unscoped("", store, ["list"]), _unscoped("", store, ["create"]), _perm("", store, ["get", "update"], names)]
    for o in rem.chart_objects:
        perms.append(_perm(o.api_group, o.resource, ["get", "patch"], [o.name]))
    return perms


def helm_step(rs: ResolvedService, rem: HelmRollback) -> tuple[tuple[str, ...], list[str], list[dict]]:
    """(command, args, env) of the helm container. ``revision``: the image's entrypoint (helm) with arguments;
    ``before_revision_matching``: ``/bin/sh -c`` finding the revision first (the seed's ``helm history | grep``)."""
    release = helm_release(rs, rem)
    ns = rs.namespace
    flags = [f"--namespace={ns}", "--history-max=0", *(["--dry-run"] if rem.dry_run else [])]
    env = [{"name": "HOME", "value": "/tmp"}, {"name": "HELM_CACHE_HOME", "value": "/tmp/helm/cache"},
           {"name": "HELM_CONFIG_HOME", "value": "/tmp/helm/config"},
           {"name": "HELM_DATA_HOME", "value": "/tmp/helm/data"}, {"name": "HELM_DRIVER", "value": rem.driver}]
    if rem.before_revision_matching is None:
        return (), ["rollback", release, str(rem.revision), *flags], env
    text = rem.before_revision_matching
    script = "\n".join([
        "set -eu",
        f'matched=$(helm history {release} --namespace={ns} --max=1000 | awk \'$1 ~ /^[0-9]+$/ && /{text}/ {{ r = $1 }} '
        'END { print r }\')',
        f'[ -n "$matched" ] || {{ echo "no revision of {release} matches \'{text}\' in helm history" >&2; exit 1; }}',
        'target=$((matched - 1))',
        f'[ "$target" -ge 1 ] || {{ echo "revision $matched is the first: nothing to roll back to" >&2; exit 1; }}',
        f'echo "newest revision matching \'{text}\': $matched; rolling back to $target"',
        f'exec helm rollback {release} "$target" {" ".join(flags)}',
    ])
    return ("/bin/sh", "-c"), [script], env


def linked_alerts(rs: ResolvedService, name: str) -> list[str]:
    """Alert names (in any environment) whose monitor names remediation ``name``."""
    return [a for m in rs.service.monitors for a, names in alert_remediations(m) if name in names]


def remediation_templates(rs: ResolvedService) -> list[dict]:
    """``KUBERNETES_GENERATORS`` entry: ServiceAccount, Role, RoleBinding and suspended CronJob template of
    every remediation."""
    d = rs.defaults.jobs
    out: list[dict] = []
    for rem in rs.service.remediations:
        if rem.action not in KUBERNETES_ACTIONS:
            continue
        name = template_name(rem.name)
        lbl = {**labels(rs, name, "remediation"), "mlmon.io/remediation": rem.name, "mlmon.io/action": rem.action}
        annotations = {"mlmon.io/run": remediation_command(rs, rem.name)}
        alerts = linked_alerts(rs, rem.name)
        if alerts:
            annotations["mlmon.io/alerts"] = ", ".join(alerts)
        if rem.description:
            annotations["mlmon.io/description"] = rem.description
        if rem.dry_run:
            annotations["mlmon.io/dry-run"] = "true"
        annotations.update(checkov_skips(rem.needs_api, rem.env if isinstance(rem, Run) else {}))
        if isinstance(rem, Run):
            args = [*rem.args, *(rem.dry_run_args if rem.dry_run else ())]
            containers = [container(rs, rem.name, rem.image, rem.command, args, env_list(rem.env),
                                    rem.resources.merged(d.resources))]
            init: list[dict] = []
            perms = list(rem.api_access)
        else:
            steps, perms = remediation_plan(rs, rem)
            env = [{"name": "HOME", "value": "/tmp"}]
            if isinstance(rem, TriggerJob):
                env.append({"name": JOB_NAME_ENV, "valueFrom": {"fieldRef": {
                    "fieldPath": "metadata.labels['batch.kubernetes.io/job-name']"}}})
            # no `command`: the image's entrypoint is kubectl (registry.k8s.io/kubectl has no shell)
            built = [container(rs, step, d.kubectl_image, (), args, env, d.kubectl_resources)
                     for step, args in steps]
            if isinstance(rem, HelmRollback):
                command, args, helm_env = helm_step(rs, rem)
                built.insert(0, container(rs, "helm-rollback", d.helm_image, command, args, helm_env,
                                          d.kubectl_resources))
            init, containers = built[:-1], built[-1:]
        tmp = (rem.tmp_size if isinstance(rem, Run) else None) or d.tmp_size
        pod = pod_template(rs, lbl, name, containers, rem.needs_api, tmp, init)
        out.append(service_account(rs, name, lbl))
        out.extend(rbac(rs, name, lbl, perms))
        out.append({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata(rs, name, lbl, annotations),
                    "spec": {
                        "schedule": NEVER,
                        "suspend": True,
                        "concurrencyPolicy": "Forbid",
                        "startingDeadlineSeconds": d.starting_deadline,
                        "successfulJobsHistoryLimit": d.successful_history,
                        "failedJobsHistoryLimit": d.failed_history,
                        "jobTemplate": {"metadata": {"labels": dict(lbl)}, "spec": {
                            # never retried: a second `rollout undo` would undo the undo
                            "backoffLimit": 0,
                            "activeDeadlineSeconds": rem.deadline or d.remediation_deadline,
                            "ttlSecondsAfterFinished": d.ttl_after_finished,
                            "template": pod,
                        }},
                    }})
    return out
