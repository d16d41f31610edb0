"""A dashboard as a ConfigMap the Grafana sidecar of kube-prometheus-stack imports.

The sidecar label(s), the folder annotation and the namespace come from ``alerts/_defaults.yaml``
(``dashboard_labels``, ``dashboard_folder_annotation``, ``dashboard_folder``, ``dashboard_namespace``).
The ConfigMap's data is byte-for-byte the ``grafana/<uid>.json`` file.
"""

from __future__ import annotations

from ..model import Defaults


def dashboard_text(d: dict) -> str:
    """The dashboard exactly as ``grafana/<uid>.json`` holds it."""
    from ..artifact import Artifact

    return Artifact(f"grafana/{d['uid']}.json", d).serialize().decode()


def folder(defaults: Defaults, service: str, team: str) -> str:
    return defaults.dashboard_folder.replace("{team}", team).replace("{service}", service)


def configmap(d: dict, service: str, team: str, env: str, defaults: Defaults) -> dict:
    uid = d["uid"]
    labels = {"app.kubernetes.io/name": service, "app.kubernetes.io/component": "dashboard",
              "app.kubernetes.io/managed-by": "mlmon", "app.kubernetes.io/part-of": "mlmon", "mlmon.io/env": env}
    labels.update(defaults.dashboard_labels)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"grafana-dashboard-{uid}",
            "namespace": defaults.dashboard_namespace,
            "labels": labels,
            "annotations": {defaults.dashboard_folder_annotation: folder(defaults, service, team)},
        },
        "data": {f"{uid}.json": dashboard_text(d)},
    }
