#!/usr/bin/env python3
"""Catalog YAML loading under hostile and huge input (issue 11): time and peak memory of
``generators.yamlio.load_with_lines`` and of ``mlmon check``'s loader on one file, in a child process each
(so one case cannot distort another's memory), with a wall-clock cap.

Cases:

* ``billion_laughs``: a 3.8 KB file of nested aliases (10 levels x 10 aliases: 10^10 values if expanded);
  rejected at the alias that crosses the value bound;
* ``flat_1e6``: a flat list of 10^6 scalars (about 8 MB): rejected by the size bound before parsing;
* ``flat_1e6_unbounded``: the same list with the bounds lifted: the loader's raw speed (the old loader built a
  PyYAML loader per scalar);
* ``flat_1e5``: 10^5 scalars with the bounds lifted (the old loader's scale, for comparison);
* ``seed_catalog``: the largest seed service file (``tests/fixtures/seeds``), the everyday case.

    PYTHONPATH=$PWD python bench/yaml_load.py            # a table
    PYTHONPATH=$PWD python bench/yaml_load.py --json

Bounded cases go through ``load_catalog`` on a catalog directory holding the one file (what ``mlmon render`` and
``check`` do); unbounded ones through ``load_with_lines`` with the bounds lifted. ``+MB``: peak RSS the load
added to the child. Targets: the hostile cases are rejected within 1 s and 100 MB added; exit 1 otherwise. Numbers are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAP_SECONDS = 60


def billion_laughs() -> str:
    lines = ["service: lol", "team: ml", "lol0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
    for i in range(1, 10):
        lines.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    lines.append("monitors: *l9")
    text = "\n".join(lines) + "\n"
    return text + "#" * max(0, 3800 - len(text)) + "\n"


def flat(n: int) -> str:
    return "service: flat\nteam: ml\nexternal_metrics:\n" + "".join(f"- metric_{i}\n" for i in range(n))


CASES = {
    "billion_laughs": (billion_laughs, True),
    "flat_1e6": (lambda: flat(10 ** 6), True),
    "flat_1e6_unbounded": (lambda: flat(10 ** 6), False),
    "flat_1e5": (lambda: flat(10 ** 5), False),
    "seed_catalog": (lambda: (ROOT / "tests/fixtures/seeds/alerts/rag-enterprise-pipeline.yaml").read_text(), True),
}
"""case -> (the file's text, bounded: loaded as mlmon loads a catalog)"""

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    sys.path.insert(0, sys.argv[1])
    from generators import yamlio
    from generators.errors import CatalogError
    from generators.loader import load_catalog
    path, bounded = sys.argv[2], sys.argv[3] == "1"
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    if bounded:  # what mlmon render/check do: the catalog directory, bounded
        try:
            load_catalog(path.rsplit("/", 1)[0])
            outcome = "loaded"
        except CatalogError as exc:
            outcome = "rejected: " + str(exc.problems[0])[len(path.rsplit("/", 2)[0]) + 1:][:100]
    else:  # the YAML loader alone with the bounds lifted: its raw speed
        text = open(path, encoding="utf-8").read()
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t = time.perf_counter()
        yamlio.load_with_lines(text, yamlio.Limits(None, None, 64))
        outcome = "loaded (bounds lifted)"
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 4), "peak_rss_mb": round(rss, 1), "added_mb": round(rss - base, 1),
                      "outcome": outcome, "libyaml": yamlio.HAVE_LIBYAML}))
""")


def run(case: str) -> dict:
    make, bounded = CASES[case]
    with tempfile.TemporaryDirectory(prefix="mlmon-bench-yaml-") as tmp:
        name = "rag-enterprise-pipeline" if case == "seed_catalog" else case.replace("_", "-")
        path = Path(tmp) / "alerts" / f"{name}.yaml"
        path.parent.mkdir()
        text = make()
        path.write_text(text, encoding="utf-8")
        try:
            r = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(path), "1" if bounded else "0"],
                               capture_output=True, text=True, timeout=CAP_SECONDS)
        except subprocess.TimeoutExpired:
            return {"case": case, "bytes": len(text.encode()), "outcome": f"killed after {CAP_SECONDS} s",
                    "seconds": CAP_SECONDS}
    if r.returncode != 0:
        return {"case": case, "outcome": f"crashed (exit {r.returncode}): {r.stderr.strip()[-200:]}"}
    return {"case": case, "bytes": len(text.encode()), **json.loads(r.stdout)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("cases", nargs="*", default=list(CASES))
    args = ap.parse_args(argv)
    rows = [run(c) for c in args.cases]
    failed = [r for r in rows if r["case"] in ("billion_laughs", "flat_1e6")
              and not (r.get("seconds", 99) <= 1 and r.get("added_mb", 999) <= 100
                       and r["outcome"].startswith("rejected"))]
    if args.json:
        print(json.dumps({"cases": rows}))
    else:
        print(f"{'case':20} {'bytes':>10} {'seconds':>8} {'+MB':>6}  outcome")
        for r in rows:
            print(f"{r['case']:20} {r.get('bytes', ''):>10} {r.get('seconds', ''):>8} {r.get('added_mb', ''):>6}  "
                  f"{r['outcome']}")
    if failed:
        print(f"targets missed: {', '.join(r['case'] for r in failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
