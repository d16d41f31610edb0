#!/usr/bin/env python3
"""Random schema-valid catalogs through load and render: no internal error on any of them.

The catalogs come from the hypothesis strategies of the test suite (tests/catalog_strategies.py: random kinds,
selectors, RE2 matchers, label sets, thresholds, windows, levels, overrides). Each one is loaded and rendered for
every environment; a CatalogError (a clear problem report naming the file) is an accepted outcome, anything else
is a failure, which hypothesis shrinks and prints. ``--promtool N`` also runs the generated promtool tests of the
first N valid catalogs (prod).

    PYTHONPATH=$PWD .venv/bin/python bench/property_catalogs.py [--cases 10000] [--promtool 200] [--json]

Exit status: 0 when every case loaded and rendered (and the sampled promtool tests passed), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(ROOT / "tests")):
    if p not in sys.path:
        sys.path.insert(0, p)

from hypothesis import HealthCheck, given, settings  # noqa: E402

from catalog_strategies import catalog  # noqa: E402
from test_properties import failing_files, load_and_render, write_prometheus  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=10_000, help="catalogs to generate (default 10000)")
    ap.add_argument("--promtool", type=int, default=0, metavar="N", help="run the generated tests of N of them")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    stats = {"cases": 0, "valid": 0, "rejected": 0, "monitors": 0, "alerts_kinds": {}}
    sample: list = []
    started = time.perf_counter()

    @settings(max_examples=args.cases, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(catalog())
    def one(files):
        cat, _ = load_and_render(files)
        stats["cases"] += 1
        if cat is None:
            stats["rejected"] += 1
            return
        stats["valid"] += 1
        for svc in files.values():
            for m in svc["monitors"]:
                stats["monitors"] += 1
                stats["alerts_kinds"][m["kind"]] = stats["alerts_kinds"].get(m["kind"], 0) + 1
        if len(sample) < args.promtool:
            sample.append(files)

    import random
    random.seed(args.seed)
    ok = True
    try:
        one()
    except Exception as exc:  # hypothesis has printed the shrunk example
        ok = False
        stats["failure"] = f"{type(exc).__name__}: {exc}"[:2000]
    stats["seconds_load_render"] = round(time.perf_counter() - started, 1)
    if sample:
        t = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            tests = []
            for k, files in enumerate(sample):
                _, rendered = load_and_render(files, envs=("prod",))
                tests += write_prometheus(rendered["prod"], Path(tmp) / f"c{k}")
            failed, report = failing_files(tests, Path(tmp))
        stats["promtool_catalogs"] = len(sample)
        stats["promtool_failed"] = sorted(failed)
        stats["seconds_promtool"] = round(time.perf_counter() - t, 1)
        ok = ok and not failed
        if failed:
            print(report[-4000:], file=sys.stderr)
    print(f"{stats['cases']} catalogs: {stats['valid']} valid, {stats['rejected']} rejected with a CatalogError, "
          f"{stats['monitors']} monitors; load+render {stats['seconds_load_render']}s"
          + (f"; promtool on {stats['promtool_catalogs']}: {len(stats['promtool_failed'])} failed "
             f"({stats['seconds_promtool']}s)" if sample else "")
          + ("" if ok else f"; FAILED: {stats.get('failure', '')[:300]}"))
    if args.json:
        print(json.dumps(stats))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
