#!/usr/bin/env python3
"""What the generated promtool tests cost promtool, group by group.

For every test group of every rendered ``*.tests.yaml`` of one environment: the samples of its input series,
its evaluation steps (its last ``eval_time`` over the file's ``evaluation_interval``: promtool evaluates every
rule group of the file at every step from 0 to there), the rules of the file, and the seconds promtool takes on
that group alone (``promtool test rules`` on a file holding only it). Also each whole file and the sum.

    .venv/bin/python bench/promtool_cost.py --env dev --top 15 --json
    .venv/bin/python bench/promtool_cost.py --synthetic 3 --env prod --no-groups

No target: the cost per alert is what docs/benchmarks.md reports (steps x rules is promtool's work).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

import yaml  # noqa: E402

import synth  # noqa: E402
from generators.durations import parse_duration  # noqa: E402
from generators.loader import load_catalog  # noqa: E402
from generators.render import render  # noqa: E402

SEEDS = ROOT / "tests" / "fixtures" / "seeds" / "alerts"


def samples(values: str) -> int:
    n = 0
    for part in str(values).split():
        if "x" in part:
            n += int(part.rsplit("x", 1)[1]) + 1
        else:
            n += 1
    return n


def timed_promtool(promtool: str, test_file: Path) -> float:
    t = time.perf_counter()
    r = subprocess.run([promtool, "test", "rules", test_file.name], cwd=test_file.parent, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"promtool failed on {test_file}:\n{r.stdout}{r.stderr}")
    return time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default="dev")
    ap.add_argument("--synthetic", type=int, metavar="N", help="N synthetic services instead of the seed catalog")
    ap.add_argument("--top", type=int, default=10, help="print the N most expensive groups (default 10)")
    ap.add_argument("--no-groups", action="store_true", help="time whole files only")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    promtool = shutil.which("promtool")
    if promtool is None:
        raise SystemExit("promtool not on PATH")
    with tempfile.TemporaryDirectory(prefix="mlmon-promtool-cost-") as tmp:
        root = Path(tmp)
        if args.synthetic:
            catalog = load_catalog(root / "alerts", texts=synth.catalog_texts(args.synthetic))
        else:
            catalog = load_catalog(SEEDS)
        arts = {a.path: a for a in render(catalog, args.env)}
        prom = root / "prometheus"
        prom.mkdir()
        for path, a in arts.items():
            if path.startswith("prometheus/"):
                (root / path).write_bytes(a.serialize())
        groups, files = [], []
        for path, a in sorted(arts.items()):
            if not path.endswith(".tests.yaml"):
                continue
            rules_doc = arts[path.replace(".tests.", ".rules.")].content
            n_rules = sum(len(g["rules"]) for g in rules_doc["groups"])
            test = a.content
            interval = parse_duration(test["evaluation_interval"])
            whole = timed_promtool(promtool, root / path)
            file_steps = 0
            for g in test["tests"]:
                last = max(parse_duration(t["eval_time"]) for t in g.get("alert_rule_test", []))
                steps = last // interval + 1
                file_steps += steps
                row = {"file": path.split("/")[1], "group": g["name"], "samples": sum(samples(s["values"]) for s in g["input_series"]),
                       "series": len(g["input_series"]), "steps": steps, "rules": n_rules,
                       "rule_evaluations": steps * n_rules}
                if not args.no_groups:
                    one = prom / "one.tests.yaml"
                    one.write_text(yaml.safe_dump({**test, "tests": [g]}, sort_keys=False))
                    row["seconds"] = round(timed_promtool(promtool, one), 3)
                groups.append(row)
            files.append({"file": path.split("/")[1], "groups": len(test["tests"]), "rules": n_rules,
                          "steps": file_steps, "rule_evaluations": file_steps * n_rules, "seconds": round(whole, 3),
                          "alerts": sum(1 for g in rules_doc["groups"] for r in g["rules"] if "alert" in r)})
    key = "seconds" if not args.no_groups else "rule_evaluations"
    for row in sorted(groups, key=lambda r: -r[key])[:args.top]:
        print(f"{row.get('seconds', 0):7.3f}s {row['steps']:6} steps x {row['rules']:3} rules {row['samples']:7} samples  "
              f"{row['file']}: {row['group'][:90]}")
    for f in files:
        print(f"file {f['file']}: {f['groups']} groups, {f['alerts']} alerts, {f['steps']} steps x {f['rules']} rules, "
              f"{f['seconds']}s")
    alerts = sum(f["alerts"] for f in files)
    total = sum(f["seconds"] for f in files)
    summary = {"env": args.env, "files": len(files), "groups": len(groups), "alerts": alerts,
               "seconds": round(total, 3), "seconds_per_alert": round(total / alerts, 4) if alerts else None,
               "steps": sum(g["steps"] for g in groups), "rule_evaluations": sum(g["rule_evaluations"] for g in groups),
               "samples": sum(g["samples"] for g in groups),
               "max_steps_per_group": max((g["steps"] for g in groups), default=0)}
    print(f"total: {summary}")
    if args.json:
        print(json.dumps({**summary, "by_file": files, "top_groups": sorted(groups, key=lambda r: -r[key])[:args.top]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
