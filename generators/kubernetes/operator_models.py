"""prometheus-operator objects against the typed models the operator community publishes.

PyPI ``cloudcoil-models-prometheus-operator`` (0.80.1.0: pydantic models generated from prometheus-operator
v0.80.1's CRDs; the newer releases need Python 3.14) checks what the CRD's OpenAPI schema says about each
field: types, required fields (a rule's ``expr``, a group's ``name``, a receiver's ``name``), enums and string
patterns (durations such as ``for`` and ``interval``, matcher types). This is a second, independently
generated reading of the CRDs, beside the jsonschema check of the CRD files in ``../shared/schemas/``
(:mod:`generators.kubernetes.validate`), and of an older operator release than those files (0.82 / 0.93),
so a field newer operators added and older ones reject shows up here.

What the models do not check on their own: pydantic's default ``extra="ignore"`` drops unknown fields
silently. :func:`validate_object` therefore round-trips every object through its model and reports every
key the model dropped (an unknown or misspelt field) and every value it changed.

Covered kinds: :data:`MODELS` (PrometheusRule; AlertmanagerConfig, whenever the render contains one). Any
other ``monitoring.coreos.com`` object is reported, never passed silently.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

PACKAGE = "cloudcoil-models-prometheus-operator"
GROUP = "monitoring.coreos.com"

MODELS: dict[tuple[str, str], tuple[str, str]] = {
    (f"{GROUP}/v1", "PrometheusRule"): ("cloudcoil.models.prometheus_operator.v1", "PrometheusRule"),
    (f"{GROUP}/v1alpha1", "AlertmanagerConfig"): ("cloudcoil.models.prometheus_operator.v1alpha1",
                                                  "AlertmanagerConfig"),
}
"""``(apiVersion, kind)`` -> (module, class) of the typed model."""


class ModelsMissing(ImportError):
    pass


def _import_models(module: str):
    """Import one module of the models package without its ``__init__``, which imports every API version
    (v1 and v1alpha1: some 4,000 pydantic classes, about 2 s); a render without an AlertmanagerConfig needs
    only v1."""
    import importlib.util
    import sys
    import types

    package = module.rsplit(".", 1)[0]
    if package not in sys.modules:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError(f"no package {package}")
        stub = types.ModuleType(package)
        stub.__path__ = list(spec.submodule_search_locations)
        stub.__spec__ = spec
        stub.__package__ = package
        sys.modules[package] = stub
    return importlib.import_module(module)


@functools.lru_cache(maxsize=None)
def _model(api_version: str, kind: str):
    module, name = MODELS[(api_version, kind)]
    try:
        return getattr(_import_models(module), name)
    except ImportError as exc:
        raise ModelsMissing(f"{PACKAGE} is not installed (pip install '{PACKAGE}==0.80.1.0'): {exc}") from None


def model_version() -> str:
    from importlib.metadata import version

    return version(PACKAGE)


def _path(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(object)"


def _roundtrip_differences(given: Any, read: Any, path: tuple = ()) -> list[str]:
    """Keys of ``given`` missing from ``read`` (dropped by the model) and values it changed."""
    if isinstance(given, dict) and isinstance(read, dict):
        out = []
        for k, v in given.items():
            if k not in read:
                out.append(f"{_path(path + (k,))}: not a field of the typed model (dropped: unknown or misspelt)")
            else:
                out.extend(_roundtrip_differences(v, read[k], path + (k,)))
        return out
    if isinstance(given, list) and isinstance(read, list) and len(given) == len(read):
        return [p for i, (a, b) in enumerate(zip(given, read)) for p in _roundtrip_differences(a, b, path + (i,))]
    if given != read:
        return [f"{_path(path)}: the typed model reads {given!r} as {read!r}"]
    return []


def validate_object(doc: dict) -> list[str]:
    """Problems the typed model finds in one prometheus-operator object (empty: valid)."""
    from pydantic import ValidationError

    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in MODELS:
        known = ", ".join(f"{k} {a}" for a, k in MODELS)
        return [f"no typed model for {key[1]} {key[0]} (this check covers {known})"]
    model = _model(*key)
    try:
        obj = model.model_validate(doc)
    except ValidationError as exc:
        return [f"{_path(e['loc'])}: {e['msg']}" + (f" (got {e['input']!r})" if not isinstance(e["input"], (dict, list))
                                                    else "") for e in exc.errors()]
    return _roundtrip_differences(doc, obj.model_dump(by_alias=True, exclude_unset=True, mode="json"))


def _objects(out):
    """``(relative file, document)`` for every prometheus-operator object in the rendered YAML files."""
    import yaml

    from ..rendered import as_rendered

    rendered = as_rendered(out)
    for rel in rendered.paths((".yaml", ".yml")):
        try:
            docs = rendered.yaml_docs(rel)
        except yaml.YAMLError:
            continue  # not this check's business: the Kubernetes step reports unreadable files
        for doc in docs:
            if isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith(f"{GROUP}/"):
                yield rel, doc


def operator_models_step(out, catalog, env: str) -> list[str]:
    """Every PrometheusRule and AlertmanagerConfig against the operator community's typed models."""
    from ..errors import Skipped

    failures = []
    try:
        for rel, doc in _objects(out):
            name = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
            failures.extend(f"{rel} ({env}): {name}: {PACKAGE} {model_version()}: {p}" for p in validate_object(doc))
    except ModelsMissing as exc:
        raise Skipped(str(exc)) from None
    return failures
