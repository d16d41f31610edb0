"""Helpers of the per-seed tests (tests/test_seed_00N.py): the seed fixture (tests/fixtures/seeds, the tests' own
copy of the reference catalog) rendered for prod, and lookups into the rendered objects.

The per-seed tests quote the seed runbook's own words next to each assertion, so a reader can compare the
rendered command lines, schedules and thresholds with the runbook line by line."""

from __future__ import annotations

import contextlib
import json
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "fixtures" / "seeds"


inside = contextlib.chdir  # load and render from inside the fixture, as scripts/update_golden.py does


@lru_cache(maxsize=1)
def seed_catalog():
    from generators.loader import load_catalog

    with inside(SEEDS):
        return load_catalog("alerts")


@lru_cache(maxsize=4)
def rendered(env: str = "prod") -> dict:
    """``{artifact path: content}`` of the seed fixture in ``env`` (contents as the generators return them)."""
    from generators.render import render

    with inside(SEEDS):
        return {a.path: a.content for a in render(seed_catalog(), env)}


def manifests(service: str, env: str = "prod") -> list[dict]:
    return list(rendered(env)[f"kubernetes/{service}.yaml"])


def obj(service: str, kind: str, name: str, env: str = "prod") -> dict:
    (found,) = [d for d in manifests(service, env) if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def pod(cronjob: dict) -> dict:
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers(cronjob: dict) -> list[dict]:
    spec = pod(cronjob)
    return [*spec.get("initContainers", []), *spec["containers"]]


def rules(service: str, env: str = "prod") -> dict[str, dict]:
    """Alert name -> alerting rule of the service's rendered Prometheus rule file."""
    content = rendered(env)[f"prometheus/{service}.rules.yaml"]
    return {r["alert"]: r for g in content["groups"] for r in g["rules"] if "alert" in r}


def resolved(service: str, env: str = "prod"):
    from generators.resolve import resolve

    (rs,) = [r for r in resolve(seed_catalog(), env) if r.name == service]
    return rs


def alarms(service: str, env: str = "prod") -> dict[str, dict]:
    return {b["AlarmName"]: b for b in rendered(env)[f"cloudwatch/{service}.json"]}


def ssm_documents(service: str, env: str = "prod") -> dict[str, dict]:
    """Document name -> (CreateDocument body, parsed Content)."""
    return {b["Name"]: (b, json.loads(b["Content"])) for b in rendered(env)[f"ssm/{service}.json"]}


def dump(content) -> str:
    return yaml.safe_dump(content, sort_keys=False)
