"""Dashboards against Grafana's own published dashboard types.

``@grafana/schema`` (npm) ships the TypeScript types of Grafana's dashboard model, generated from the CUE
kind Grafana itself validates against. ``scripts/grafana-schemas.py`` turns the ``Dashboard`` type of every
Grafana version mlmon targets into a JSON Schema (``generators/data/grafana/dashboard-<version>.schema.json``,
committed, listed in ``versions.json``); this module validates dashboard JSON against each of them.

The types are closed (``additionalProperties: false``, as CUE definitions are): an unknown or misspelt key
is an error, as is a missing required one or a wrong type. They leave panel ``options``, ``fieldConfig``
``custom`` and ``targets`` untyped (each plugin defines its own), and ``schemaVersion`` is any number:
:mod:`generators.grafana.checks` keeps checking those.

Identical schemas (Grafana versions whose dashboard type did not change) are validated once; a problem is
reported with every version it applies to.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "grafana"


@functools.lru_cache(maxsize=None)
def versions() -> dict[str, dict]:
    """``{grafana version: {file, types, defaultSchemaVersion, definitions}}`` (versions.json)."""
    index = json.loads((DATA / "versions.json").read_text(encoding="utf-8"))
    return dict(sorted(index.items(), key=lambda kv: tuple(int(p) for p in kv[0].split("."))))


@functools.lru_cache(maxsize=None)
def _validators() -> list[tuple[tuple[str, ...], Any]]:
    """``[(versions sharing this schema, validator)]``; one validator per distinct schema."""
    import jsonschema

    groups: dict[str, tuple[list[str], dict]] = {}
    for version, meta in versions().items():
        schema = json.loads((DATA / meta["file"]).read_text(encoding="utf-8"))
        body = {k: v for k, v in schema.items() if k != "$comment"}
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        groups.setdefault(key, ([], body))[0].append(version)
    out = []
    for vs, body in groups.values():
        cls = jsonschema.validators.validator_for(body, default=jsonschema.Draft7Validator)
        cls.check_schema(body)
        out.append((tuple(vs), cls(body)))
    return out


def _where(path, instance_root) -> str:
    """``panels[3] (timeseries "F1 score").links[0]`` for a JSON path inside a dashboard."""
    out, node = "", instance_root
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
            node = node[p] if isinstance(node, list) and p < len(node) else None
            if isinstance(node, dict) and "type" in node and ("title" in node or "name" in node):
                out += f' ({node["type"]} "{node.get("title", node.get("name"))}")'
        else:
            out += f".{p}" if out else str(p)
            node = node.get(p) if isinstance(node, dict) else None
    return out or "(dashboard)"


def _leaves(err):
    """The errors that say what is wrong: for a failed ``anyOf`` of panel kinds, the errors of the branch
    the value means (``RowPanel`` for ``type: row``, else ``Panel``), recursively; other errors as they are."""
    if err.validator != "anyOf" or not err.context:
        yield err
        return
    refs = [b.get("$ref", "") for b in err.validator_value]
    wanted = None
    if isinstance(err.instance, dict) and any(r.endswith("/RowPanel") for r in refs):
        name = "/RowPanel" if err.instance.get("type") == "row" else "/Panel"
        wanted = next((i for i, r in enumerate(refs) if r.endswith(name)), None)
    if wanted is None:
        yield err
        return
    for sub in err.context:
        if sub.schema_path and sub.schema_path[0] == wanted:
            yield from _leaves(sub)


def validate(dashboard: dict) -> list[str]:
    """Every disagreement of ``dashboard`` with Grafana's published types, as
    ``"<path>: <problem> (<versions>)"``; empty when it is valid for every targeted version. Missing
    required keys of one object are reported together."""
    found: dict[tuple[str, str], list[str]] = {}
    for vs, validator in _validators():
        for err in validator.iter_errors(dashboard):
            for leaf in _leaves(err):
                where = _where(leaf.absolute_path, dashboard)
                if leaf.validator == "required":
                    missing = leaf.message.removesuffix(" is a required property").strip("'")
                    key = (where, f"\0{missing}")
                else:
                    key = (where, leaf.message)
                seen = found.setdefault(key, [])
                seen.extend(v for v in vs if v not in seen)
    merged: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    out = []
    for (where, msg), vs in found.items():
        if msg.startswith("\0"):
            merged.setdefault((where, tuple(vs)), []).append(msg[1:])
        else:
            out.append((where, msg, vs))
    out += [(where, f"missing required key(s) {', '.join(sorted(keys))}", list(vs))
            for (where, vs), keys in merged.items()]
    return [f"{where}: {msg} ({_versions_text(vs)})" for where, msg, vs in sorted(out)]


def _versions_text(vs: list[str]) -> str:
    every = list(versions())
    if sorted(vs) == sorted(every):
        return f"@grafana/schema {every[0]} to {every[-1]}, every targeted version"
    return "@grafana/schema " + ", ".join(v for v in every if v in vs)


def published_types_step(out, catalog, env: str) -> list[str]:
    """Every rendered Grafana dashboard (generated and hand-written) against Grafana's published types."""
    from ..rendered import as_rendered

    rendered = as_rendered(out, env)
    failures = []
    for name in rendered.names("grafana", ".json"):
        try:
            doc = rendered.json(f"grafana/{name}")
        except ValueError as exc:
            failures.append(f"grafana/{name} ({env}): not JSON: {exc}")
            continue
        failures.extend(f"grafana/{name} ({env}): {p}" for p in validate(doc))
    return failures


def targeted() -> str:
    """The @grafana/schema versions dashboards are validated against, for messages and docs."""
    return ", ".join(versions())
