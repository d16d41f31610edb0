"""Render the catalog for one environment into DIR: prometheus/, kubernetes/, grafana/, cloudwatch/.

The write is atomic: everything is rendered and validated first, then DIR is replaced in one rename.
A failed run leaves an existing DIR exactly as it was. Without --service, DIR ends up holding exactly
the rendered files; with --service, other services' files already in DIR are kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import EXIT_OK, UsageError, check_env, check_services, load

HELP = "render rules, tests, manifests and dashboards for one environment"


def add_arguments(p):
    p.add_argument("--env", required=True, help="environment to render (e.g. dev, staging, prod)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (replaced atomically)")
    p.add_argument("--service", action="append", metavar="NAME",
                   help="render only this service (repeatable); other files in DIR are kept")


def run(args) -> int:
    from ..render import render, serialize_all, write_atomic

    catalog = load(args)
    env = check_env(catalog, args.env)[0]
    services = check_services(catalog, args.service)
    files = serialize_all(render(catalog, env, services))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    if services and out.is_dir():
        kept = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        kept.update(files)
        files = kept
    write_atomic(files, out)
    print(f"rendered {len(files)} files for {env} into {out}", file=sys.stderr)
    return EXIT_OK
