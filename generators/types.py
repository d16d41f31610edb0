"""Scalar types and the strict base model shared by every part of the catalog schema.

Schema modules (``model.py`` and the per-output ones) import from here, never from each other's internals.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from .durations import parse_duration
from .templating import SUPPORTED, unsupported

SEVERITIES = ("info", "ticket", "warning", "critical", "page")
Severity = Literal["info", "ticket", "warning", "critical", "page"]

# Every name is matched in full (``fullmatch``): ``re.match(r"...$")`` also accepts a trailing newline, which
# would split a generated shell command (``kubectl -n "crew\n" ...``) into several lines.
_CAMEL = re.compile(r"[A-Z][A-Za-z0-9]*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_K8S_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
MAX_ALERT_NAME = 120
"""Characters of an alert name: it names a runbook page (``<AlertName>.md``), a CloudWatch alarm and rule
groups, and a file name may not exceed 255 bytes."""


def _duration(v):
    return parse_duration(v)


def _positive(v: int) -> int:
    if v <= 0:
        raise ValueError("must be longer than 0 (e.g. 5m)")
    return v


Seconds = Annotated[int, BeforeValidator(_duration)]
"""A duration written like ``5m`` in YAML (a unit is required; ``0`` alone is allowed), held as whole seconds."""
PositiveSeconds = Annotated[int, BeforeValidator(_duration), AfterValidator(_positive)]
"""A duration that must be more than zero: windows, periods, intervals, deadlines."""


def _camel(v):
    if not isinstance(v, str) or not _CAMEL.fullmatch(v):
        raise ValueError(f"{v!r} is not a CamelCase alert name (e.g. ReasoningDriftHigh)")
    if len(v) > MAX_ALERT_NAME:
        raise ValueError(f"the alert name is {len(v)} characters; at most {MAX_ALERT_NAME} (it names the runbook "
                         "page, the alarm and the rule)")
    return v


def _dns(v):
    if not isinstance(v, str) or len(v) > 63 or not _DNS_LABEL.fullmatch(v):
        raise ValueError(f"{v!r} is not a DNS-1123 label (lower-case letters, digits, '-'; at most 63)")
    return v


def _metric(v):
    if not isinstance(v, str) or not _METRIC.fullmatch(v):
        raise ValueError(f"{v!r} is not a Prometheus metric name")
    return v


def _label(v):
    if not isinstance(v, str) or not _LABEL.fullmatch(v) or v.startswith("__"):
        raise ValueError(f"{v!r} is not a label name")
    return v


def _k8s_key(v, what: str = "label key"):
    """A Kubernetes label or annotation key: ``[prefix/]name``, prefix a DNS subdomain (at most 253), name at most
    63 of ``[A-Za-z0-9_.-]`` starting and ending alphanumeric (k8s.io/apimachinery IsQualifiedName)."""
    if not isinstance(v, str):
        raise ValueError(f"a Kubernetes {what} must be a string, got {v!r}")
    prefix, slash, name = v.rpartition("/")
    ok = bool(_K8S_NAME.fullmatch(name)) and len(name) <= 63 and (
        not slash or (bool(_DNS_SUBDOMAIN.fullmatch(prefix)) and len(prefix) <= 253))
    if not ok:
        raise ValueError(f"{v!r} is not a Kubernetes {what}: [prefix/]name, the name at most 63 letters, digits, "
                         "'-', '_' or '.' starting and ending with a letter or digit, the prefix a lower-case DNS "
                         "subdomain")
    return v


def _k8s_value(v):
    if not isinstance(v, str):
        raise ValueError(f"a Kubernetes label value must be a string (quote it: \"{v}\"), got {v!r}")
    if v and (len(v) > 63 or not _K8S_NAME.fullmatch(v)):
        raise ValueError(f"{v!r} is not a Kubernetes label value: empty, or at most 63 letters, digits, '-', '_' or "
                         "'.' starting and ending with a letter or digit")
    return v


def _template_text(v):
    """Text that reaches a Prometheus template (an annotation): only the actions mlmon renders and tests."""
    if isinstance(v, str):
        bad = unsupported(v)
        if bad:
            raise ValueError(f"template action {bad[0]} is not supported; use {SUPPORTED}")
    return v


def _label_value(v):
    """An alert label value: Prometheus templates labels too, but mlmon's promtool tests compare them literally."""
    if isinstance(v, str) and "{{" in v:
        raise ValueError(f"{v!r}: a label value may not hold a template action ({{{{ ... }}}}); Prometheus would "
                         "execute it and the alert's labels would differ from what mlmon tests")
    return v


TemplateText = Annotated[str, AfterValidator(_template_text)]
"""Text that ends up in an alert annotation (summary, description, URLs): template actions are checked."""
LabelValue = Annotated[str, AfterValidator(_label_value)]
"""The value of an alert label (``labels``, ``common_labels``, ``routing``): no template action."""
AlertName = Annotated[str, BeforeValidator(_camel)]
DnsName = Annotated[str, BeforeValidator(_dns)]
MetricName = Annotated[str, BeforeValidator(_metric)]
LabelName = Annotated[str, BeforeValidator(_label)]
EnvName = DnsName
K8sLabelKey = Annotated[str, BeforeValidator(_k8s_key)]
K8sLabelValue = Annotated[str, BeforeValidator(_k8s_value)]
K8sAnnotationKey = Annotated[str, BeforeValidator(lambda v: _k8s_key(v, "annotation key"))]


class Strict(BaseModel):
    # allow_inf_nan=False: `threshold: .nan` or `range: [0, .inf]` is an error, not a comparison that never holds
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=False, allow_inf_nan=False)


