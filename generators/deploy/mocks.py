"""Run the real stack program (``stacks/__main__.py``) under Pulumi's mocks (``pulumi.runtime.set_mocks``).

No Pulumi CLI, no provider plugins, no credentials: the mock monitor records every resource the program
registers (type token, logical name, parent, provider, inputs, dependencies) and answers with the inputs plus the few
outputs providers compute (an SNS topic's ARN, a KMS key's id and ARN, a Grafana folder's uid) and the
caller identity (account :data:`MOCK_ACCOUNT`). ``mlmon plan`` prints the record;
the tests compare it to the render.
"""

from __future__ import annotations

import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import PROJECT, _decode, read_stack_file

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "stacks" / "__main__.py"
MOCK_ACCOUNT = "123456789012"

SECRET_SIG = "4dabf18193072939515e22adb298388d"
"""The signature key Pulumi marks secret values with on the wire (``pulumi.runtime.rpc._special_secret_sig``)."""


@dataclass
class Declared:
    type: str
    name: str
    parent_type: str
    parent: str
    provider: str
    inputs: dict
    custom: bool
    dependencies: list[tuple[str, str]] = field(default_factory=list)
    """``(type, name)`` of every resource this one waits for: ``depends_on`` and the resources whose
    outputs flow into its inputs (e.g. a topic's ARN in an alarm's actions)."""

    def plain_inputs(self) -> dict:
        """Inputs with secret markers removed (the values as the provider would receive them)."""
        return unsecret(self.inputs)

    def secret_paths(self) -> list[str]:
        return secret_paths(self.inputs)


@dataclass
class Run:
    stack: str
    resources: list[Declared] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)

    def of_type(self, token: str) -> list[Declared]:
        return [r for r in self.resources if r.type == token]

    def by_name(self, token: str) -> dict[str, Declared]:
        return {r.name: r for r in self.of_type(token)}


def unsecret(v):
    if isinstance(v, dict):
        if SECRET_SIG in v:
            return unsecret(v.get("value"))
        return {k: unsecret(x) for k, x in v.items()}
    if isinstance(v, list):
        return [unsecret(x) for x in v]
    return v


def secret_paths(v, path: str = "") -> list[str]:
    if isinstance(v, dict):
        if SECRET_SIG in v:
            return [path or "."]
        return [p for k, x in v.items() for p in secret_paths(x, f"{path}.{k}" if path else k)]
    if isinstance(v, list):
        return [p for i, x in enumerate(v) for p in secret_paths(x, f"{path}[{i}]")]
    return []


def _parse_urn(urn: str) -> tuple[str, str]:
    if not urn:
        return "", ""
    parts = urn.split("::")
    return parts[2].split("$")[-1], parts[3]


def run(config: dict[str, str], secret_keys: set[str] | None = None, stack: str | None = None,
        program: Path = PROGRAM, record: list[Declared] | None = None) -> Run:
    """Run ``program`` with ``config`` (``{"mlmon:key": text}``) under mocks; returns what it declared and
    its stack outputs (resolved). ``record``, when given, receives the resources as they are declared
    (so a caller can see what was declared before an exception)."""
    import pulumi
    from pulumi.runtime import mocks as pm
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    stack = stack or str(config.get(f"{PROJECT}:environment", "dev"))
    result = Run(stack, record if record is not None else [])

    class _Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            state = dict(args.inputs)
            name = unsecret(args.inputs.get("name")) or args.name
            region = config_region or "us-east-1"
            if args.typ == "aws:sns/topic:Topic":
                state["arn"] = f"arn:aws:sns:{region}:{MOCK_ACCOUNT}:{name}"
            elif args.typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
                state["arn"] = f"arn:aws:cloudwatch:{region}:{MOCK_ACCOUNT}:alarm:{name}"
            elif args.typ == "aws:cloudwatch/compositeAlarm:CompositeAlarm":
                state["arn"] = f"arn:aws:cloudwatch:{region}:{MOCK_ACCOUNT}:alarm:{args.inputs.get('alarmName')}"
            elif args.typ == "grafana:oss/folder:Folder":
                state.setdefault("uid", args.name)
            elif args.typ == "aws:kms/key:Key":
                state["keyId"] = f"{args.name}-key-id"
                state["arn"] = f"arn:aws:kms:{region}:{MOCK_ACCOUNT}:key/{state['keyId']}"
            return f"{args.name}-id", state

        def call(self, args):
            if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
                return {"accountId": MOCK_ACCOUNT, "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:user/mlmon-mocks",
                        "userId": "MLMONMOCKS", "id": MOCK_ACCOUNT}
            return {}

    class _Monitor(pm.MockMonitor):
        def RegisterResource(self, request):
            if request.type != "pulumi:pulumi:Stack":
                from pulumi.runtime import rpc

                pm._ensure_event_loop()
                ptype, pname = _parse_urn(request.parent)
                if ptype == "pulumi:pulumi:Stack":
                    ptype, pname = "", ""
                result.resources.append(Declared(
                    request.type, request.name, ptype, pname,
                    _parse_urn(request.provider)[1] if request.provider else "",
                    rpc.deserialize_properties(request.object), bool(request.custom),
                    [_parse_urn(u) for u in request.dependencies]))
            return super().RegisterResource(request)

    config_region = None
    aws_cfg = _decode(config.get(f"{PROJECT}:aws"))
    if isinstance(aws_cfg, dict):
        config_region = aws_cfg.get("region")

    mocks = _Mocks()
    monitor = _Monitor(mocks)
    settings.set_root_resource(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config), sorted(secret_keys or ()))
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()

    def body():
        runpy.run_path(str(program), run_name="__main__")

    _sync_await(run_pulumi_func(body))
    root = settings.get_root_resource()
    for name, value in (getattr(root, "outputs", None) or {}).items():
        out = pulumi.Output.from_input(value)
        result.outputs[name] = _sync_await(out.future())
        if _sync_await(out.is_secret()):
            result.secret_outputs.add(name)
    settings.set_root_resource(None)
    return result


def run_stack_file(stack: str, stacks_dir: Path = ROOT / "stacks", overrides: dict[str, Any] | None = None,
                   record: list[Declared] | None = None) -> Run:
    """Run the program with the config of ``stacks/Pulumi.<stack>.yaml`` (encrypted values become
    placeholders), optionally with some keys replaced (``overrides``: ``{"mlmon:key": value}``)."""
    import json

    values, secret = read_stack_file(Path(stacks_dir) / f"Pulumi.{stack}.yaml")
    for k, v in (overrides or {}).items():
        if v is None:
            values.pop(k, None)
        else:
            values[k] = v if isinstance(v, str) else json.dumps(v)
    return run(values, secret, stack=stack, record=record)
