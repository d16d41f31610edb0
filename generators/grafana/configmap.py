"""A dashboard as a ConfigMap the Grafana sidecar of kube-prometheus-stack imports.

The sidecar label(s), the folder annotation, the folder and the namespace are the environment's deployment
settings (``alerts/_defaults.yaml``: ``dashboard_labels``, ``dashboard_folder_annotation``, ``dashboard_folder``,
``dashboard_namespace``, ``namespaces``, each overridable in ``environment_settings.<env>``). The ConfigMap's
data is byte-for-byte the ``grafana/<uid>.json`` file.
"""

from __future__ import annotations

from ..artifact import Artifact
from ..names import DASHBOARD_COMPONENT, dashboard_configmap_name, dashboard_folder, kubernetes_labels


def dashboard_text(d: dict) -> str:
    """The dashboard exactly as ``grafana/<uid>.json`` holds it."""
    return Artifact(f"grafana/{d['uid']}.json", d).serialize().decode()


def configmap(d: dict, rs) -> dict:
    """The sidecar ConfigMap of dashboard ``d`` of service ``rs`` (its labels, folder and namespace)."""
    uid = d["uid"]
    dep = rs.deployment
    labels = kubernetes_labels(rs.name, rs.env, rs.name, DASHBOARD_COMPONENT)
    labels.update(dep.dashboard_labels)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": dashboard_configmap_name(uid),
            "namespace": dep.namespace(dep.dashboard_namespace),
            "labels": labels,
            "annotations": {dep.dashboard_folder_annotation: dashboard_folder(dep.dashboard_folder, rs.name,
                                                                              rs.service.team)},
        },
        "data": {f"{uid}.json": dashboard_text(d)},
    }
