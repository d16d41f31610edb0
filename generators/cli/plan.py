"""Show what `pulumi up --stack ENV` would declare, without the Pulumi CLI, credentials or a cluster.

Runs the real stack program (stacks/__main__.py) under Pulumi's mocks with the config of
stacks/Pulumi.ENV.yaml (encrypted values shown as [secret]) and prints every resource it declares: its
Pulumi type token, logical name, parent and key fields. The program renders the catalog in memory with
the same code as `mlmon render`, so this is exactly what would be deployed. Exit 2 on an invalid catalog,
stack config or artifact the program cannot deploy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import EXIT_OK, UsageError

HELP = "list the resources `pulumi up --stack ENV` would declare (stack program under Pulumi's mocks)"

KEY_FIELDS = {
    "kubernetes:": ("metadata.namespace",),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("comparisonOperator", "threshold", "extendedStatistic",
                                               "statistic", "evaluationPeriods", "alarmActions"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": ("alarmRule", "alarmActions"),
    "aws:cloudwatch/dashboard:Dashboard": ("dashboardName",),
    "aws:sns/topic:Topic": ("name",),
    "aws:ssm/document:Document": ("name", "documentType", "targetType"),
    "aws:iam/policy:Policy": ("name",),
    "aws:sns/topicSubscription:TopicSubscription": ("protocol", "endpoint", "topic"),
    "grafana:oss/dashboard:Dashboard": ("folder",),
    "grafana:oss/folder:Folder": ("title", "uid"),
    "pulumi:providers:": ("context", "namespace", "region", "url"),
}


def add_arguments(p):
    p.add_argument("--env", required=True, help="stack / environment (reads stacks/Pulumi.ENV.yaml)")
    p.add_argument("--json", action="store_true", help="print a JSON list of {type, name, parent, fields}")
    p.add_argument("--stacks", default=None, metavar="DIR",
                   help="directory holding Pulumi.ENV.yaml (default: stacks/ of this repository)")


def _get(d, path):
    for part in path.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def _fields(r) -> dict:
    from ..deploy.config import SECRET_PLACEHOLDER
    from ..deploy.mocks import SECRET_SIG

    out = {}
    for prefix, keys in KEY_FIELDS.items():
        if r.type.startswith(prefix):
            for k in keys:
                v = _get(r.inputs, k)
                if v is None:
                    continue
                out[k] = SECRET_PLACEHOLDER if isinstance(v, dict) and SECRET_SIG in v else _number(v)
    if r.type.startswith("kubernetes:") and "spec" in r.inputs and "schedule" in r.inputs["spec"]:
        out["schedule"] = r.inputs["spec"]["schedule"]
        out["suspend"] = bool(r.inputs["spec"].get("suspend", False))
    if r.type == "kubernetes:monitoring.coreos.com/v1:PrometheusRule":
        groups = (r.inputs.get("spec") or {}).get("groups") or []
        out["alerts"] = sum(1 for g in groups for rule in g.get("rules", []) if "alert" in rule)
        out["records"] = sum(1 for g in groups for rule in g.get("rules", []) if "record" in rule)
    return out


def run(args) -> int:
    from ..deploy.config import StackConfigError
    from ..deploy.mapping import MappingError
    from ..deploy.mocks import ROOT, run_stack_file
    from ..errors import CatalogError

    try:
        import pulumi  # noqa: F401
        import pulumi_aws  # noqa: F401
        import pulumi_kubernetes  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"mlmon plan needs the Pulumi SDKs ({exc.name} is missing): "
                         "install the `deploy` extra: bash scripts/bootstrap.sh --deploy (or pip install -e '.[deploy]')") from None

    stacks = Path(args.stacks) if args.stacks else ROOT / "stacks"
    if not (stacks / f"Pulumi.{args.env}.yaml").is_file():
        have = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in stacks.glob("Pulumi.*.yaml"))
        raise UsageError(f"no stack config {stacks / f'Pulumi.{args.env}.yaml'}; stacks here: "
                         f"{', '.join(have) or 'none'}")
    # the catalog every command reads: --catalog, default ./alerts of the current directory (not the stack's
    # mlmon:catalog, which `pulumi up` reads relative to the repository root)
    catalog = Path(args.catalog).resolve()
    if not catalog.is_dir():
        from ..loader import load_catalog

        load_catalog(catalog)  # raises the same "catalog directory not found" as every command
    overrides = {"mlmon:catalog": str(catalog)}
    try:
        result = run_stack_file(args.env, stacks, overrides)
    except (StackConfigError, MappingError) as exc:
        raise UsageError(str(exc)) from None
    except CatalogError:
        raise
    def rank(r):
        return (0 if r.type.startswith("pulumi:providers:") else 2 if r.parent else 1, r.parent, r.type, r.name)

    rows = []
    for r in sorted(result.resources, key=rank):
        rows.append({"type": r.type, "name": r.name,
                     "parent": f"{r.parent_type}::{r.parent}" if r.parent else "",
                     "provider": r.provider, "fields": _fields(r)})
    if args.json:
        json.dump(rows, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return EXIT_OK
    print(f"stack {args.env}: {len(rows)} resources (Pulumi mocks; nothing was deployed)")
    for row in rows:
        fields = ", ".join(f"{k}={_short(v)}" for k, v in row["fields"].items())
        parent = f"  (parent {row['parent']})" if row["parent"] else ""
        print(f"  {row['type']}  {row['name']}{parent}" + (f"\n      {fields}" if fields else ""))
    counts = result.outputs.get("counts") or {}
    if counts:
        print("counts:")
        for token, n in counts.items():
            print(f"  {n:4d}  {token}")
    skipped: dict[str, list[str]] = {}
    for line in result.outputs.get("skipped") or []:
        what, _, why = line.partition(": ")
        skipped.setdefault(why, []).append(what)
    for why, what in skipped.items():
        print(f"not deployed ({why}): {', '.join(what)}")
    return EXIT_OK


def _number(v):
    """Numbers cross Pulumi's wire format as floats; show whole numbers as integers."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _short(v) -> str:
    text = v if isinstance(v, str) else json.dumps(v, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
