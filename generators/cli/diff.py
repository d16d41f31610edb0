"""Show what a catalog change does to every alert, per environment: the review view of a pull request.

Loads the catalog at --base (a git revision, e.g. origin/main) and at --head (default: the working tree),
resolves both per environment and lists alerts and alarms added and removed, and every changed threshold,
for, severity, expression, receiver, label, remediation and link, old and new side by side. Changes to
what a service declares besides its monitors (jobs, dashboards, routing, metrics ...) and to
_defaults.yaml are listed too, and so are changed hand-written dashboards (files under dashboards/).

With --rendered, shows what the change does to the artifacts instead: both sides (catalog and hand-written
dashboards) rendered for every environment exactly like `mlmon render`, and a unified diff of every file
added, removed or changed.

Exit codes: 0 (with --exit-code: no change), 1 with --exit-code when something changed,
2 for a bad revision or an invalid catalog at either side.
"""

from __future__ import annotations

import sys

from . import EXIT_FAILED, EXIT_OK, UsageError, load

FILE_DIRS = ("dashboards",)
"""Directories next to the catalog whose changed files are listed (hand-written grafanalib dashboards)."""

HELP = "per-environment diff of alerts between two git revisions of the catalog"


def add_arguments(p):
    p.add_argument("--base", required=True, metavar="REV", help="git revision to compare against (e.g. origin/main)")
    p.add_argument("--head", metavar="REV", help="git revision to compare (default: the working tree)")
    p.add_argument("--env", action="append", metavar="ENV", help="only this environment (repeatable; default: all)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="text (default), markdown (a table for a pull-request comment) or json")
    p.add_argument("--exit-code", action="store_true", help="exit 1 when something changed (like git diff)")
    p.add_argument("--rendered", action="store_true",
                   help="diff the rendered artifacts (every file of mlmon render) instead of the alerts")


def run(args) -> int:
    from ..diff import diff_catalogs
    from ..diff_format import FORMATS
    from ..errors import CatalogError
    from ..gitcatalog import RevisionError, changed_files, load_at

    def at(rev):
        try:
            return load_at(args.catalog, rev, rendering=args.rendered)
        except RevisionError as exc:
            raise UsageError(str(exc)) from None
        except CatalogError as exc:
            raise CatalogError(exc.problems) from None

    try:
        old = at(args.base)
        new = at(args.head) if args.head else load(args)
    except CatalogError as exc:
        side = "the catalog at one of the revisions is invalid"
        print(f"mlmon diff: {side}", file=sys.stderr)
        raise exc
    known = list(new.defaults.environments) + [e for e in old.defaults.environments
                                               if e not in new.defaults.environments]
    for env in args.env or []:
        if env not in known:
            raise UsageError(f"unknown environment {env!r}; the catalogs define {', '.join(known)}")
    if args.rendered:
        from ..rendered_diff import FORMATS as RENDERED, rendered_changes

        changes = rendered_changes(old, new, args.env)
        sys.stdout.write(RENDERED[args.format](changes))
        return EXIT_FAILED if args.exit_code and changes else EXIT_OK
    d = diff_catalogs(old, new, args.env, base=args.base, head=args.head or "working tree", catalog=args.catalog)
    try:
        d.files = changed_files(args.catalog, args.base, args.head, list(FILE_DIRS))
    except RevisionError as exc:
        raise UsageError(str(exc)) from None
    sys.stdout.write(FORMATS[args.format](d))
    return EXIT_FAILED if args.exit_code and d.changed else EXIT_OK
