"""Render the catalog for one environment into DIR: prometheus/, kubernetes/, grafana/, cloudwatch/.

The write is atomic: everything is rendered and validated first, then DIR is swapped in one atomic exchange.
A failed run leaves an existing DIR exactly as it was. DIR must be absent, empty or a previous mlmon output
(it holds .mlmon-manifest.json, listing every file mlmon wrote): anything else, the catalog, a git work
tree's root, $HOME, / or the current directory is refused (exit 2) and nothing is touched. Without
--service, DIR ends up holding exactly the rendered files; with --service, other services' files already in
DIR are kept. A symlink DIR writes into its target (the link is kept).
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import EXIT_OK, check_env, check_services, load, protected

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
    write_atomic(files, out, protect=protected(catalog), keep_existing=bool(services))
    print(f"rendered {len(files)} files for {env} into {out}", file=sys.stderr)
    return EXIT_OK
