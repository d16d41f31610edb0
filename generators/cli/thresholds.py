"""List every alert with its condition, for and severity per environment: what a reviewer reads.

Prometheus alerts and CloudWatch alarms appear side by side (SOURCE column).
"""

from __future__ import annotations

import json

from . import EXIT_OK, check_env, check_services, load

HELP = "table of every alert's threshold, for and severity per environment"


def add_arguments(p):
    p.add_argument("--env", help="only this environment (default: all)")
    p.add_argument("--service", action="append", metavar="NAME", help="only this service (repeatable)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")


def rows(catalog, envs, services):
    from ..alertmeta import condition
    from ..durations import format_duration
    from ..resolve import resolve

    out = []
    for env in envs:
        for rs in resolve(catalog, env, services):
            for a in rs.alerts:
                out.append({
                    "service": rs.name, "alert": a.name, "env": env, "source": rs.service.source.type,
                    "kind": a.kind, "severity": a.severity, "for": format_duration(a.for_),
                    "threshold": a.threshold, "condition": condition(a, rs),
                })
    order = {e: i for i, e in enumerate(catalog.defaults.environments)}
    out.sort(key=lambda r: (r["service"], r["alert"], order[r["env"]]))
    return out


COLUMNS = ("service", "alert", "env", "source", "severity", "for", "condition")


def run(args) -> int:
    catalog = load(args)
    envs = check_env(catalog, args.env)
    services = check_services(catalog, args.service)
    data = rows(catalog, envs, services)
    if args.format == "json":
        print(json.dumps(data, indent=2))
        return EXIT_OK
    if args.format == "markdown":
        print("| " + " | ".join(c.upper() for c in COLUMNS) + " |")
        print("|" + "---|" * len(COLUMNS))
        for r in data:
            print("| " + " | ".join(str(r[c]).replace("|", "\\|") for c in COLUMNS) + " |")
        return EXIT_OK
    widths = {c: max([len(c)] + [len(str(r[c])) for r in data]) for c in COLUMNS[:-1]}
    print("  ".join(c.upper().ljust(widths[c]) for c in COLUMNS[:-1]) + "  CONDITION")
    for r in data:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS[:-1]) + "  " + r["condition"])
    return EXIT_OK
