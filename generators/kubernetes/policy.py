"""mlmon's policy for rendered Kubernetes objects: least privilege and restricted pods.

Checked on every rendered ``kubernetes/*.yaml`` by ``mlmon check`` (whoever generated the object):

- RBAC: no ClusterRole or ClusterRoleBinding; no ``*`` anywhere in a Role; no ``escalate``, ``bind``,
  ``impersonate`` or ``deletecollection``; every mutating verb (update, patch, delete) limited by
  ``resourceNames``, except ``create``, which Kubernetes cannot limit by name (the new object's name is not
  known when the request is authorized); RoleBindings bind a Role to ServiceAccounts of their own namespace.
- Pods (CronJobs, Jobs, Deployments, StatefulSets, DaemonSets, Pods): non-root, seccomp RuntimeDefault, and in
  every container no privilege escalation, not privileged, read-only root filesystem with an emptyDir at
  /tmp, all capabilities dropped, CPU and memory requests and limits, an image pinned by tag or digest.
- API tokens: a pod mounts its ServiceAccount token only when that ServiceAccount is bound to a Role.
"""

from __future__ import annotations

MUTATING = ("create", "update", "patch", "delete")
UNSCOPABLE = ("create",)
FORBIDDEN_VERBS = ("escalate", "bind", "impersonate", "deletecollection", "*")
POD_KINDS = {"CronJob": ("spec", "jobTemplate", "spec", "template", "spec"), "Job": ("spec", "template", "spec"),
             "Deployment": ("spec", "template", "spec"), "StatefulSet": ("spec", "template", "spec"),
             "DaemonSet": ("spec", "template", "spec"), "Pod": ("spec",)}


def _name(doc: dict) -> str:
    md = doc.get("metadata") or {}
    return f"{doc.get('kind')}/{md.get('namespace', '')}/{md.get('name')}"


def role_violations(doc: dict) -> list[str]:
    out = []
    for i, rule in enumerate(doc.get("rules") or []):
        where = f"{_name(doc)} rules[{i}]"
        for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
            if any("*" in str(v) for v in rule.get(field) or ()):
                out.append(f"{where}: wildcard in {field}")
        bad = [v for v in rule.get("verbs") or () if v in FORBIDDEN_VERBS]
        if bad:
            out.append(f"{where}: forbidden verb {', '.join(bad)}")
        unscoped = [v for v in rule.get("verbs") or () if v in MUTATING and v not in UNSCOPABLE]
        if unscoped and not rule.get("resourceNames"):
            out.append(f"{where}: {', '.join(unscoped)} not limited by resourceNames")
        if "create" in (rule.get("verbs") or ()) and rule.get("resourceNames"):
            out.append(f"{where}: create with resourceNames never matches (Kubernetes cannot scope create by name)")
    return out


def _get(doc: dict, path: tuple):
    cur = doc
    for p in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return cur


def pod_violations(doc: dict) -> list[str]:
    spec = _get(doc, POD_KINDS[doc["kind"]])
    if not isinstance(spec, dict):
        return [f"{_name(doc)}: no pod spec"]
    out = []
    psc = spec.get("securityContext") or {}
    tmp_volumes = {v["name"] for v in spec.get("volumes") or () if "emptyDir" in v}
    for c in [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]:
        where = f"{_name(doc)} container {c.get('name')}"
        sc = c.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            out.append(f"{where}: allowPrivilegeEscalation must be false")
        if sc.get("privileged"):
            out.append(f"{where}: privileged")
        if sc.get("readOnlyRootFilesystem") is not True:
            out.append(f"{where}: readOnlyRootFilesystem must be true")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or ()):
            out.append(f"{where}: capabilities must drop ALL")
        if (sc.get("capabilities") or {}).get("add"):
            out.append(f"{where}: adds capabilities")
        if sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
            out.append(f"{where}: runAsNonRoot must be true")
        if sc.get("runAsUser", psc.get("runAsUser")) == 0:
            out.append(f"{where}: runs as UID 0")
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp != "RuntimeDefault":
            out.append(f"{where}: seccompProfile must be RuntimeDefault")
        if not any(m.get("mountPath") == "/tmp" and m.get("name") in tmp_volumes for m in c.get("volumeMounts") or ()):
            out.append(f"{where}: no emptyDir mounted at /tmp")
        res = c.get("resources") or {}
        for kind in ("requests", "limits"):
            for what in ("cpu", "memory"):
                if not (res.get(kind) or {}).get(what):
                    out.append(f"{where}: no {what} {kind[:-1]}")
        image = str(c.get("image", ""))
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        if "@sha256:" not in image and (not tag or tag == "latest"):
            out.append(f"{where}: image {image!r} not pinned by version or digest")
    if psc.get("runAsNonRoot") is not True:
        out.append(f"{_name(doc)}: pod securityContext.runAsNonRoot must be true")
    return out


def violations(docs: list[dict]) -> list[str]:
    """Every policy violation among ``docs`` (the objects of one namespace set, e.g. one rendered file)."""
    out: list[str] = []
    bound: set[tuple[str, str]] = set()  # (namespace, service account) bound to a Role
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        kind = doc.get("kind")
        ns = (doc.get("metadata") or {}).get("namespace")
        if kind in ("ClusterRole", "ClusterRoleBinding"):
            out.append(f"{_name(doc)}: cluster-wide RBAC is never rendered; use a namespaced Role")
        elif kind == "Role":
            out.extend(role_violations(doc))
        elif kind == "RoleBinding":
            if (doc.get("roleRef") or {}).get("kind") != "Role":
                out.append(f"{_name(doc)}: binds a {(doc.get('roleRef') or {}).get('kind')}; only Roles may be bound")
            for s in doc.get("subjects") or ():
                if s.get("kind") != "ServiceAccount" or s.get("namespace") != ns:
                    out.append(f"{_name(doc)}: subject {s.get('kind')} {s.get('namespace')}/{s.get('name')} is not "
                               "a ServiceAccount of the binding's namespace")
                else:
                    bound.add((ns, s.get("name")))
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") not in POD_KINDS:
            continue
        out.extend(pod_violations(doc))
        spec = _get(doc, POD_KINDS[doc["kind"]]) or {}
        ns = (doc.get("metadata") or {}).get("namespace")
        sa = spec.get("serviceAccountName", "default")
        if spec.get("automountServiceAccountToken") is not False and (ns, sa) not in bound:
            out.append(f"{_name(doc)}: mounts the API token of {sa!r}, which is bound to no Role; "
                       "set automountServiceAccountToken: false")
        if sa == "default":
            out.append(f"{_name(doc)}: runs as the namespace's default ServiceAccount; give it its own")
    return out


def policy_step(out, catalog, env: str) -> list[str]:
    """Least privilege (no wildcards, mutating verbs by resourceNames) and restricted pods in every manifest."""
    from ..rendered import as_rendered

    rendered = as_rendered(out, env)
    failures = []
    for name in rendered.names("kubernetes", ".yaml"):
        docs = [d for d in rendered.yaml_docs(f"kubernetes/{name}") if d is not None]
        failures.extend(f"kubernetes policy ({env}) {name}: {v}" for v in violations(docs))
    return failures
