"""Validate PrometheusRule objects against prometheus-operator's CRD schema (vendored in ``data/``).

The CRD's patterns are Go regular expressions; the one Go-only construct it uses (a ``(?i)`` flag after
``^``) is moved to the front so Python's ``re`` reads it the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import yaml


def _go_patterns(node):
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


@lru_cache(maxsize=1)
def prometheus_rule_schema() -> dict:
    text = resources.files("generators.data").joinpath("monitoring.coreos.com_prometheusrules.yaml").read_text()
    crd = yaml.safe_load(text)
    return _go_patterns(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def prometheus_rule_errors(obj: dict) -> list[str]:
    """Schema violations of one PrometheusRule object, as ``path: message`` strings."""
    import jsonschema

    validator = jsonschema.Draft7Validator(prometheus_rule_schema())
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))]
