"""Replay alerting rules on real history: what a threshold change would have fired on.

For every alert whose rule differs between --base (a git revision) and the working tree (every alert named
by --alert, or every alert without --base), both versions of the rendered rule are evaluated over the range
against a Prometheus, at the rule group's evaluation interval, with Prometheus' alerting semantics (`for`,
`keep_firing_for`, the pending state, label sets that appear and vanish); recording rules the alert reads
are inlined. Per alert and version: firing episodes, total firing time, first and last firing, and the
episodes only one version has. An alert whose metrics have no series in the range is reported as "no data",
never as "never fires". --plots DIR draws one PNG per alert (needs matplotlib: pip install 'mlmon[backtest]'); DIR is written like
`mlmon render --out` (absent, empty or a previous mlmon output only; replaced atomically).

Exit codes: 0 ok, 1 Prometheus unreachable or failing, or no data for (no evaluation of) any alert in the
range, 2 bad usage, a bad revision or an invalid catalog.
"""

from __future__ import annotations

import os
import re
import sys
import time
from datetime import datetime, timezone

from . import EXIT_FAILED, EXIT_OK, UsageError, load, protected

HELP = "what changed alerts would have fired on, replayed on a Prometheus' history"
URL_ENV = "MLMON_PROMETHEUS_URL"
DEFAULT_RANGE = "7d"


def add_arguments(p):
    p.add_argument("--prometheus", metavar="URL", default=os.environ.get(URL_ENV),
                   help=f"Prometheus base URL, e.g. http://prometheus:9090 (default: ${URL_ENV}); "
                        "basic auth as https://user:pass@host, a bearer token in $MLMON_PROMETHEUS_TOKEN")
    p.add_argument("--base", metavar="REV", help="git revision to compare with (e.g. origin/main); without it, "
                                                   "every alert of the working tree is replayed alone")
    p.add_argument("--env", metavar="ENV", help="environment whose rendered rules are replayed (default: the "
                                                  "catalog's last environment, e.g. prod)")
    p.add_argument("--range", metavar="DURATION", help=f"length of the range: back from --end (default now), or "
                                                       f"forward from --start (default {DEFAULT_RANGE})")
    p.add_argument("--start", metavar="TIME", help="range start: RFC 3339 (2024-05-01T00:00:00Z), a date or unix seconds")
    p.add_argument("--end", metavar="TIME", help="range end (default: now)")
    p.add_argument("--alert", action="append", metavar="NAME", help="backtest this alert whether it changed or not "
                                                                      "(repeatable)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="text (default), markdown (a pull-request comment) or json (one object)")
    p.add_argument("--plots", metavar="DIR", help="write one PNG per alert into DIR (needs matplotlib)")
    p.add_argument("--plots-url", metavar="URL", help="where DIR is published: Markdown links point there")
    p.add_argument("--jobs", type=int, default=4, metavar="N", help="concurrent queries (default 4)")
    p.add_argument("--max-points", type=int, default=None, metavar="N",
                   help="evaluations per range query (default 11000, Prometheus' limit per series)")


def parse_time(text: str, flag: str) -> int:
    s = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return int(float(s))
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag} {text!r}: expected RFC 3339 (2024-05-01T00:00:00Z), a date (2024-05-01) "
                         "or unix seconds") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def time_range(args, now: float | None = None) -> tuple[int, int]:
    from ..durations import parse_duration

    now = int(time.time() if now is None else now)
    if args.range and args.start and args.end:
        raise UsageError("give --range with at most one of --start/--end")
    try:
        span = parse_duration(args.range or DEFAULT_RANGE)
    except ValueError as exc:
        raise UsageError(f"--range: {exc}") from None
    if args.start and not args.range:
        start = parse_time(args.start, "--start")
        end = parse_time(args.end, "--end") if args.end else now
    elif args.start:
        start = parse_time(args.start, "--start")
        end = start + span
    else:
        end = parse_time(args.end, "--end") if args.end else now
        start = end - span
    if end <= start:
        raise UsageError(f"the range is empty: start {start} is not before end {end}")
    if span == 0 and not args.start:
        raise UsageError("--range must be longer than 0s")
    return start, end


def _rules(catalog, env: str):
    from ..backtest.rules import rules_from_artifacts
    from ..render import render

    return rules_from_artifacts(render(catalog, env), catalog.defaults.evaluation_interval)


def run(args) -> int:
    from ..backtest.client import MAX_POINTS, Prometheus, PrometheusError
    from ..backtest.report import FORMATS, format_markdown
    from ..backtest.run import backtest, select
    from ..errors import CatalogError
    from ..gitcatalog import RevisionError, load_at
    from ..resolve import resolve

    if not args.prometheus:
        raise UsageError(f"--prometheus URL is required (or set ${URL_ENV})")
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.max_points is not None and args.max_points < 2:
        raise UsageError("--max-points must be at least 2")
    if args.plots_url and not args.plots:
        raise UsageError("--plots-url needs --plots DIR")
    start, end = time_range(args)
    try:
        client = Prometheus(args.prometheus, max_points=args.max_points or MAX_POINTS)
    except PrometheusError as exc:
        raise UsageError(str(exc)) from None
    if args.plots:
        from ..backtest.plot import PlotError, require_matplotlib

        try:
            require_matplotlib()
        except PlotError as exc:
            raise UsageError(str(exc)) from None

    head = load(args)
    if args.plots:  # refuse a --plots folder that is not mlmon's before the backtest runs, not after
        from ..output import check_target

        check_target(args.plots, protect=protected(head), label="--plots")
    base = None
    if args.base:
        try:
            base = load_at(args.catalog, args.base)
        except RevisionError as exc:
            raise UsageError(str(exc)) from None
        except CatalogError:
            print(f"mlmon backtest: the catalog at {args.base} is invalid", file=sys.stderr)
            raise
    envs = list(head.defaults.environments)
    env = args.env or envs[-1]
    if env not in envs:
        raise UsageError(f"unknown environment {env!r}; the catalog defines {', '.join(envs)}")
    head_rules = _rules(head, env)
    base_rules = None
    if base is not None:
        base_rules = _rules(base, env) if env in base.defaults.environments else {}
    if args.alert:
        known = set(head_rules) | set(base_rules or {})
        unknown = [n for n in args.alert if n not in known]
        if unknown:
            other = {a.name for c in (head, base) if c is not None for rs in resolve(c, env) for a in rs.alerts}
            cw = [n for n in unknown if n in other]
            if cw:
                raise UsageError(f"{', '.join(cw)}: not a Prometheus alert in {env} (CloudWatch alarms are not "
                                 "backtested against Prometheus)")
            raise UsageError(f"unknown alert {', '.join(unknown)} in {env}; known: {', '.join(sorted(known))}")
    selected = select(base_rules, head_rules, args.alert)

    from ..backtest.progress import Progress

    progress = Progress()  # drawn on stderr only when it is a terminal
    try:
        client.check()
        bt = backtest(client, selected, env=env, start=start, end=end, base_ref=args.base,
                      head_ref="working tree", plots=bool(args.plots), jobs=args.jobs, progress=progress)
    except PrometheusError as exc:
        print(f"mlmon backtest: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.plots:
        from ..backtest.plot import write_plots

        write_plots(bt, args.plots, protect=protected(head))
    if args.format == "markdown":
        sys.stdout.write(format_markdown(bt, args.plots_url))
    else:
        sys.stdout.write(FORMATS[args.format](bt))
    if bt.no_data:
        print(f"mlmon backtest: no data: none of the metrics the {len(bt.alerts)} alert(s) read has series "
              f"in the range on {client.url}", file=sys.stderr)
        return EXIT_FAILED
    if not bt.judged:
        print("mlmon backtest: no alert could be evaluated (see the reasons above)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
