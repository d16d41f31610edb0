"""Schema validation of every rendered Kubernetes manifest, run by ``mlmon check`` and the test suite.

- Built-in kinds: kubernetes-validate's strict schemas (no unknown fields) for Kubernetes 1.29 (the oldest
  version mlmon supports) and the newest version kubernetes-validate bundles.
- ``PrometheusRule``: the prometheus-operator CRD's ``openAPIV3Schema`` with jsonschema. The CRD is read from
  ``../shared/schemas/`` next to the repository when present (the project's shared copy), else from the copy
  vendored in ``generators/data/`` so a clone works standalone (a test keeps the two identical).
- Kinds with neither (another CRD) are reported, never silently passed.

Validators are built once per (version, kind): kubernetes-validate's own ``validate()`` reloads the
definitions on every call; this uses the same schema files and the same jsonschema validator class.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

MIN_VERSION = "1.29"
CRD_FILE = "monitoring.coreos.com_prometheusrules.yaml"
REPO = Path(__file__).resolve().parents[2]
CRD_CANDIDATES = (REPO.parent / "shared" / "schemas" / CRD_FILE, Path(__file__).resolve().parents[1] / "data" / CRD_FILE)


def versions() -> tuple[str, ...]:
    """The Kubernetes versions every manifest is validated against: 1.29 and the newest bundled."""
    from kubernetes_validate.utils import latest_version, major_minor

    return tuple(dict.fromkeys((MIN_VERSION, major_minor(latest_version()))))


def crd_path() -> Path:
    for p in CRD_CANDIDATES:
        if p.is_file():
            return p
    raise FileNotFoundError(f"PrometheusRule CRD schema not found (looked in {', '.join(map(str, CRD_CANDIDATES))})")


@functools.lru_cache(maxsize=None)
def _prometheusrule_validator():
    import jsonschema
    import yaml

    from ..rendered import LOADER

    crd = yaml.load(crd_path().read_text(encoding="utf-8"), Loader=LOADER)
    schema = _strict(_go_patterns(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]))
    return jsonschema.Draft7Validator(schema)


AMC_FILE = "monitoring.coreos.com_alertmanagerconfigs.json"


@functools.lru_cache(maxsize=None)
def _alertmanagerconfig_validator():
    import json

    import jsonschema

    candidates = [c.parent / AMC_FILE for c in CRD_CANDIDATES]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise FileNotFoundError(f"AlertmanagerConfig CRD schema not found (looked in {', '.join(map(str, candidates))})")
    crd = json.loads(path.read_text(encoding="utf-8"))
    schema = _strict(_go_patterns(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]))
    return jsonschema.Draft7Validator(schema)


def prometheus_rule_errors(obj: dict) -> list[str]:
    """Violations of the PrometheusRule CRD schema (strict) by one object, as ``path: message`` strings."""
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in sorted(_prometheusrule_validator().iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))]


def _go_patterns(node):
    """The CRD's patterns are Go regular expressions; the one Go-only construct it uses (a ``(?i)`` flag after
    ``^``, e.g. ``^(?i)(abort|warn)?$``) moves to the front so Python's ``re`` reads it the same way."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "pattern" and isinstance(v, str) and "(?i)" in v:
                v = "(?i)" + v.replace("(?i)", "")
            out[k] = _go_patterns(v)
        return out
    if isinstance(node, list):
        return [_go_patterns(v) for v in node]
    return node


def _strict(schema):
    """Unknown fields are errors, as with ``kubectl apply --validate=strict`` (the API server would otherwise
    prune them silently): ``additionalProperties: false`` wherever the CRD lists properties and does not say
    ``x-kubernetes-preserve-unknown-fields``."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) if k != "properties" else {p: _strict(s) for p, s in v.items()} for k, v in schema.items()}
    if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


@functools.lru_cache(maxsize=None)
def _builtin_validator(version: str, kind: str, api_version: str):
    """kubernetes-validate's strict schema for (version, kind, apiVersion), or None when it has none."""
    import jsonschema
    from kubernetes_validate.utils import all_versions, major_minor, schema_contents
    from referencing import Registry, Resource

    bundled = [v for v in all_versions() if major_minor(v) <= version][-1]
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema_dir = f"v{bundled}-local-strict"
    try:
        schema = schema_contents(f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        return None
    defs = schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", version)
    registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _where(err) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
    return path.lstrip(".") or "(top)"


def validate_manifest(doc: dict) -> list[str]:
    """Problems of one manifest (empty: valid for every version in :func:`versions`)."""
    if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
        return ["not a Kubernetes object (needs apiVersion and kind)"]
    kind, api = doc["kind"], doc["apiVersion"]
    if kind == "PrometheusRule" and api == "monitoring.coreos.com/v1":
        return [f"PrometheusRule CRD: {_where(e)}: {e.message}" for e in _prometheusrule_validator().iter_errors(doc)]
    if kind == "AlertmanagerConfig" and api == "monitoring.coreos.com/v1alpha1":
        return [f"AlertmanagerConfig CRD: {_where(e)}: {e.message}"
                for e in _alertmanagerconfig_validator().iter_errors(doc)]
    out = []
    for version in versions():
        validator = _builtin_validator(version, kind, api)
        if validator is None:
            out.append(f"Kubernetes {version} has no schema for {kind} {api}")
            continue
        out.extend(f"Kubernetes {version}: {_where(e)}: {e.message}" for e in validator.iter_errors(doc))
    return out


def validate_docs(file_name: str, docs: list) -> list[str]:
    failures = []
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        name = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}" if isinstance(doc, dict) else f"#{i}"
        failures.extend(f"{file_name}: {name}: {p}" for p in validate_manifest(doc))
    return failures


def validate_file(path: Path) -> list[str]:
    import yaml

    from ..rendered import LOADER

    return validate_docs(path.name, list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=LOADER)))


def kubernetes_step(out, catalog, env: str) -> list[str]:
    """kubernetes-validate strict (1.29 and newest) and the PrometheusRule CRD schema on every manifest."""
    from ..errors import Skipped

    try:
        import jsonschema  # noqa: F401
        import kubernetes_validate  # noqa: F401
    except ImportError as exc:
        raise Skipped(f"{exc.name} is not installed (pip install kubernetes-validate jsonschema)") from None
    from ..rendered import as_rendered

    rendered = as_rendered(out, env)
    failures = []
    for name in rendered.names("kubernetes", ".yaml"):
        docs = rendered.yaml_docs(f"kubernetes/{name}")
        failures.extend(f"kubernetes-validate ({env}) {f}" for f in validate_docs(name, docs))
    return failures
