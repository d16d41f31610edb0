"""Scalar types and the strict base model shared by every part of the catalog schema.

Schema modules (``model.py`` and the per-output ones) import from here, never from each other's internals.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict

from .durations import parse_duration

SEVERITIES = ("info", "ticket", "warning", "critical", "page")
Severity = Literal["info", "ticket", "warning", "critical", "page"]

_CAMEL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _duration(v):
    return parse_duration(v)


Seconds = Annotated[int, BeforeValidator(_duration)]
"""A duration written like ``5m`` in YAML, held as whole seconds."""


def _camel(v):
    if not isinstance(v, str) or not _CAMEL.match(v):
        raise ValueError(f"{v!r} is not a CamelCase alert name (e.g. ReasoningDriftHigh)")
    return v


def _dns(v):
    if not isinstance(v, str) or len(v) > 63 or not _DNS_LABEL.match(v):
        raise ValueError(f"{v!r} is not a DNS-1123 label (lower-case letters, digits, '-'; at most 63)")
    return v


def _metric(v):
    if not isinstance(v, str) or not _METRIC.match(v):
        raise ValueError(f"{v!r} is not a Prometheus metric name")
    return v


def _label(v):
    if not isinstance(v, str) or not _LABEL.match(v) or v.startswith("__"):
        raise ValueError(f"{v!r} is not a label name")
    return v


AlertName = Annotated[str, BeforeValidator(_camel)]
DnsName = Annotated[str, BeforeValidator(_dns)]
MetricName = Annotated[str, BeforeValidator(_metric)]
LabelName = Annotated[str, BeforeValidator(_label)]
EnvName = DnsName


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=False)


