"""Validate the catalog, then render every environment (or --env) once, in memory, and check the artifacts
with the engines that consume them: promtool check/test rules (when promtool is on PATH; one `check rules`
over every environment's rule files and the unit tests in one process per CPU, beside the other steps),
and every other step of generators.verify.STEPS (then, once, its CATALOG_STEPS). Exit 2 when the catalog
is invalid, 1 when a check fails.
"""

from __future__ import annotations

import sys

from . import EXIT_FAILED, EXIT_OK, check_env, load

HELP = "validate the catalog and check rendered artifacts (promtool and more)"


def _positive(text: str) -> int:
    import argparse

    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of processes, got {text!r}")
    return n


def add_arguments(p):
    p.add_argument("--env", help="only this environment (default: all)")
    p.add_argument("--list", action="store_true", help="list the catalog checks and artifact checks, then exit")
    p.add_argument("--jobs", type=_positive, default=None, metavar="N",
                   help="promtool processes run at once (default: one per CPU)")


def run(args) -> int:
    from .. import verify
    from ..checks import check_docs

    if args.list:
        for name, doc in check_docs().items():
            print(f"catalog  {name:14} {doc}")
        for name, fn in verify.STEPS + verify.CATALOG_STEPS:
            print(f"artifact {name:14} {(fn.__doc__ or '').strip().splitlines()[0]}")
        return EXIT_OK
    from ..rendered import Rendered
    from ..render import render, serialize_all
    from ..resolve import resolve

    catalog = load(args)
    envs = check_env(catalog, args.env)
    from ..catalog_warnings import catalog_warnings

    for w in catalog_warnings(catalog):  # valid, likely not meant: printed, never a failure
        print(f"mlmon check: warning: {w}", file=sys.stderr)
    n_alerts = 0
    renders: dict[str, Rendered] = {}
    for env in envs:  # each environment rendered once, in memory: the bytes `mlmon render` would write
        renders[env] = Rendered(serialize_all(render(catalog, env)), env)
        n_alerts += sum(len(rs.alerts) for rs in resolve(catalog, env))
    failures, skipped = verify.run_steps(catalog, renders, jobs=args.jobs)
    for name, reason in skipped.items():
        print(f"mlmon check: skipped {name}: {reason}", file=sys.stderr)
    if failures:
        for f in failures:
            print(f"FAILED {f}", file=sys.stderr)
        print(f"mlmon check: {len(failures)} check(s) failed", file=sys.stderr)
        return EXIT_FAILED
    ran = [n for n, _ in verify.STEPS + verify.CATALOG_STEPS if n not in skipped]
    print(f"mlmon check: catalog valid ({len(catalog.services)} services, {n_alerts} alerts across "
          f"{', '.join(envs)}); artifact checks passed: {', '.join(ran) or 'none'}")
    return EXIT_OK
