"""Generate one Markdown runbook page per alert, and refresh generated sections of hand-written runbooks.

--out DIR writes DIR/<service>/<AlertName>.md (the page every rule's runbook_url points at: publish DIR at
the catalog's runbook_base) and DIR/README.md, an index. Pages state each alert's severity, exact condition
and duration per environment, dashboard, remediation commands and escalation, all from the catalog.
The write is atomic: DIR ends up holding exactly the generated pages. DIR must be absent, empty or a previous
mlmon output (`mlmon render --out` has the same rules): hand-written runbooks are never replaced.

--update rewrites, in place, the sections between `<!-- mlmon:begin AlertName [part] -->` and
`<!-- mlmon:end -->` in the hand-written runbooks (default docs/runbooks/, setting runbooks.handwritten in
alerts/_defaults.yaml). --check only reports stale sections (exit 1), as `mlmon check` does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import EXIT_FAILED, EXIT_OK, UsageError, check_env, load, protected

HELP = "write a runbook page per alert; refresh generated sections of hand-written runbooks"


def add_arguments(p):
    p.add_argument("--env", action="append", metavar="ENV",
                   help="environments the pages describe (repeatable; default: all)")
    p.add_argument("--out", metavar="DIR", help="write the pages into DIR (replaced atomically)")
    p.add_argument("--update", action="store_true",
                   help="refresh the generated sections of the hand-written runbooks in place")
    p.add_argument("--check", action="store_true",
                   help="exit 1 if a generated section of a hand-written runbook is stale (writes nothing)")
    p.add_argument("--handwritten", metavar="DIR",
                   help="hand-written runbooks directory (default: runbooks.handwritten of the catalog, "
                        "docs/runbooks next to the catalog)")


def run(args) -> int:
    from .. import handwritten_runbooks, runbooks
    from ..render import write_atomic

    if not (args.out or args.update or args.check):
        raise UsageError("nothing to do: give --out DIR, --update or --check")
    if args.update and args.check:
        raise UsageError("--update and --check exclude each other")
    catalog = load(args)
    envs: list[str] = []
    for env in args.env or []:
        envs.extend(check_env(catalog, env))
    rc = EXIT_OK
    if args.update or args.check:
        rc = _handwritten(catalog, args, runbooks, handwritten_runbooks)
    if args.out:
        out = Path(args.out)
        pages = runbooks.pages(catalog, envs or None)
        write_atomic({p: t.encode() for p, t in pages.items()}, out, protect=protected(catalog))
        print(f"wrote {len(pages) - 1} runbook pages into {out}", file=sys.stderr)
    return rc


def _handwritten(catalog, args, runbooks, handwritten_runbooks) -> int:
    directory = Path(args.handwritten) if args.handwritten else handwritten_runbooks.handwritten_dir(catalog)
    if args.handwritten and not directory.is_dir():
        raise UsageError(f"--handwritten {directory} is not a directory")
    files = handwritten_runbooks.handwritten_files(directory)
    index = runbooks.Index(catalog)
    # validate every file before writing any
    results = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            new, stale = handwritten_runbooks.refreshed(text, str(path), index)
        except handwritten_runbooks.MarkerError as exc:
            raise UsageError(str(exc)) from None
        results.append((path, text, new, stale))
    stale_files = [r for r in results if r[3]]
    if args.check:
        for path, text, new, stale in stale_files:
            print(handwritten_runbooks.stale_report(text, new, str(path), stale), file=sys.stderr)
        n = sum(len(r[3]) for r in stale_files)
        print(f"{n} stale generated section(s) in {len(stale_files)} of {len(files)} hand-written runbook(s) "
              f"under {directory}", file=sys.stderr)
        return EXIT_FAILED if stale_files else EXIT_OK
    for path, _, new, stale in stale_files:
        tmp = path.with_name(f".{path.name}.mlmon-tmp")
        tmp.write_text(new, encoding="utf-8")
        tmp.replace(path)
        print(f"updated {path}: {', '.join(f'{b.alert} {b.part}' for b in stale)}", file=sys.stderr)
    n_sections = sum(len(handwritten_runbooks.blocks(r[2], str(r[0]), set(index.service_of))) for r in results)
    print(f"{len(stale_files)} of {len(files)} hand-written runbook(s) updated ({n_sections} generated "
          f"section(s) under {directory})", file=sys.stderr)
    return EXIT_OK
