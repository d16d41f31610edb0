"""List every alert with its condition, for and severity per environment: what a reviewer reads.

Prometheus alerts and CloudWatch alarms appear side by side (SOURCE column); for CloudWatch services the
ALARM column (``alarm`` in JSON) names the alarm and its statistic, period, datapoints and operator, and
anomaly-detection alarms get rows of their own (kind ``anomaly``).
"""

from __future__ import annotations

import json

from . import EXIT_OK, check_env, check_services, load

HELP = "table of every alert's threshold, for, severity and receiver per environment"


def add_arguments(p):
    p.add_argument("--env", help="only this environment (default: all)")
    p.add_argument("--service", action="append", metavar="NAME", help="only this service (repeatable)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")


def rows(catalog, envs, services):
    from ..alertmeta import condition
    from ..diff import routing_view
    from ..durations import format_duration
    from ..resolve import resolve

    out = []
    for env in envs:
        for rs in resolve(catalog, env, services):
            alarms, extra = _cloudwatch(rs)
            for a in rs.alerts:
                out.append({
                    "service": rs.name, "alert": a.name, "env": env, "source": rs.service.source.type,
                    "kind": a.kind, "severity": a.severity, "for": format_duration(a.for_),
                    "threshold": a.threshold, "receiver": routing_view(a, rs)[0] or "",
                    "condition": condition(a, rs),
                })
                if a.name in alarms:
                    out[-1]["alarm"] = alarms[a.name]
            for row in extra:  # CloudWatch-only alarms (anomaly bands)
                out.append({"service": rs.name, "env": env, "source": rs.service.source.type, **row,
                            "receiver": rs.service.routing.get(row.get("severity"), ""), "alarm": alarms[row["alert"]]})
    order = {e: i for i, e in enumerate(catalog.defaults.environments)}
    out.sort(key=lambda r: (r["service"], r["alert"], order[r["env"]]))
    return out


COLUMNS = ("service", "alert", "env", "source", "severity", "for", "receiver", "condition")


def _cloudwatch(rs):
    """CloudWatch alarm facts per alert, plus rows for alarms that are not catalog alerts."""
    if rs.service.source.type != "cloudwatch":
        return {}, []
    from ..cloudwatch.alarms import threshold_rows

    return threshold_rows(rs)


def run(args) -> int:
    catalog = load(args)
    envs = check_env(catalog, args.env)
    services = check_services(catalog, args.service)
    data = rows(catalog, envs, services)
    if args.format == "json":
        print(json.dumps(data, indent=2))
        return EXIT_OK
    columns = COLUMNS + (("alarm",) if any("alarm" in r for r in data) else ())
    if args.format == "markdown":
        print("| " + " | ".join(c.upper() for c in columns) + " |")
        print("|" + "---|" * len(columns))
        for r in data:
            print("| " + " | ".join(str(r.get(c, "")).replace("|", "\\|") for c in columns) + " |")
        return EXIT_OK
    widths = {c: max([len(c)] + [len(str(r[c])) for r in data]) for c in COLUMNS[:-1]}
    alarm = "alarm" in columns
    cw = max([len("condition")] + [len(r["condition"]) for r in data]) if alarm else 0
    print("  ".join(c.upper().ljust(widths[c]) for c in COLUMNS[:-1]) + "  "
          + ("CONDITION".ljust(cw) + "  ALARM" if alarm else "CONDITION"))
    for r in data:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS[:-1]) + "  "
              + (r["condition"].ljust(cw) + "  " + r.get("alarm", "") if alarm else r["condition"]).rstrip())
    return EXIT_OK
