#!/usr/bin/env python3
"""Render cost at scale: a synthetic catalog of N services (``bench/synth.py``) rendered for one environment.

Measured separately (best of ``--repeat`` runs, wall clock):

* ``load_seconds``: loading and validating the catalog (YAML parse, schema, every catalog check) — what
  ``mlmon render`` does before rendering; reported, not part of ``render_seconds``;
* ``render_seconds``: ``generators.render.render(catalog, env)`` plus serialising every artifact to the bytes
  ``mlmon render`` writes (``serialize_all``), without disk I/O;
* ``serialize_seconds``: the floor — merely serialising the same output objects with PyYAML's C dumper
  (``yaml.CSafeDumper``) and ``json.dumps``;
* ``peak_mb``: peak traced Python memory (tracemalloc) of one load + render + serialise, in a separate run
  so tracing does not distort the timings;
* ``pulumi``: with ``--pulumi``, the Pulumi stack program under ``pulumi.runtime.set_mocks`` on the same
  catalog (seconds and resources declared), when the checkout has the stack program; otherwise reported
  as not available.

    PYTHONPATH=$PWD python bench/render_scale.py --services 1000 --json
    PYTHONPATH=$PWD python bench/render_scale.py --sweep 100,1000,2000     # and the linearity ratio

Targets (issue 8): at 1,000 services render <= 3x the serialisation floor; 2,000 services <= 2.2x the time
of 1,000. Exit 1 when a target checked by the run does not hold.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import importlib.util
import json
import os
import platform
import pstats
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

import yaml  # noqa: E402

import synth  # noqa: E402
from generators.loader import load_catalog  # noqa: E402
from generators.render import _cyclic_gc_paused, render, serialize_all  # noqa: E402

FLOOR_DUMPER = yaml.CSafeDumper


def floor_serialize(artifacts) -> int:
    """Serialise the output objects the plainest way: the C YAML dumper and json.dumps. Returns bytes.
    Under the same garbage-collector setting as ``serialize_all`` so that the comparison is fair."""
    with _cyclic_gc_paused():
        return _floor(artifacts)


def _floor(artifacts) -> int:
    n = 0
    for a in artifacts:
        if a.path.endswith(".json"):
            n += len(json.dumps(a.content, indent=2))
        elif isinstance(a.content, str):
            n += len(a.content)
        elif a.multi:
            n += len(yaml.dump_all(a.content, Dumper=FLOOR_DUMPER, sort_keys=False))
        else:
            n += len(yaml.dump(a.content, Dumper=FLOOR_DUMPER, sort_keys=False))
    return n


def _timed(fn):
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu or platform.processor(), "python": platform.python_version(),
            "platform": platform.platform()}


def pulumi_timing(n: int, env: str, repeat: int = 1) -> dict:
    """Time the stack program under Pulumi's mocks on the synthetic catalog, if this checkout has one.

    Uses the stack program's own runner (``generators.deploy.mocks.run_stack_file``, issue 6): the real
    ``stacks/__main__.py`` with the config of ``stacks/Pulumi.<env>.yaml`` and ``mlmon:catalog`` pointed
    at the synthetic catalog written to a temporary directory. The time includes what the program does
    itself: load and validate the catalog, render, plan and declare every resource. Best of ``repeat`` runs."""
    if importlib.util.find_spec("pulumi") is None:
        return {"available": False, "reason": "pulumi is not installed (the `deploy` extra)"}
    try:
        from generators.deploy.mocks import run_stack_file
    except ImportError as exc:
        return {"available": False, "reason": f"no stack program runner in this checkout ({exc})"}
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mlmon-bench-") as tmp:
        root = Path(tmp) / "alerts"   # no dashboards/ beside it: the seeds' hand-written dashboards stay out
        synth.write_catalog(n, root)
        times = []
        for _ in range(repeat):
            try:
                t, run = _timed(lambda: run_stack_file(env, overrides={"mlmon:catalog": str(root)}))
            except BaseException as exc:  # noqa: BLE001 - reported, not fatal (SystemExit from pulumi included)
                return {"available": False,
                        "reason": f"the stack program failed: {exc.__class__.__name__}: {exc}"[:500]}
            times.append(round(t, 3))
    return {"available": True, "seconds": min(times), "runs_seconds": times, "resources": len(run.resources)}


def measure(n: int, env: str, repeat: int, profile: str | None = None, pulumi: bool = False) -> dict:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mlmon-bench-") as tmp:
        # The catalog is given as texts (no disk I/O timed); its root only decides where hand-written
        # dashboards are looked for (``<root>/../dashboards``): an empty directory, so none are.
        return _measure(n, env, repeat, str(Path(tmp) / "alerts"), profile, pulumi)


def _measure(n: int, env: str, repeat: int, root: str, profile: str | None, pulumi: bool) -> dict:
    texts = synth.catalog_texts(n)
    load_t, catalog = min((_timed(lambda: load_catalog(root, texts=texts)) for _ in range(repeat)),
                          key=lambda x: x[0])
    gen_times, ser_times, floor_times = [], [], []
    artifacts, files = None, None
    for _ in range(repeat):
        t, artifacts = _timed(lambda: render(catalog, env))
        gen_times.append(t)
        t, files = _timed(lambda: serialize_all(artifacts))
        ser_times.append(t)
        t, _ = _timed(lambda: floor_serialize(artifacts))
        floor_times.append(t)
    render_s = min(g + s for g, s in zip(gen_times, ser_times))
    floor_s = min(floor_times)
    # peak memory of one full pass, traced separately
    del artifacts, files
    gc.collect()
    tracemalloc.start()
    cat2 = load_catalog(root, texts=texts)
    arts2 = render(cat2, env)
    serialize_all(arts2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    n_alerts = sum(len(r["rules"]) for a in arts2 if a.path.endswith(".rules.yaml")
                   for r in [{"rules": [x for g in a.content["groups"] for x in g["rules"] if "alert" in x]}])
    out = {
        "services": n,
        "env": env,
        "artifacts": len(arts2),
        "alerts": n_alerts,
        "output_mb": round(sum(len(b) for b in serialize_all(arts2).values()) / 2 ** 20, 2),
        "load_seconds": round(load_t, 3),
        "generate_seconds": round(min(gen_times), 3),
        "mlmon_serialize_seconds": round(min(ser_times), 3),
        "render_seconds": round(render_s, 3),
        "serialize_seconds": round(floor_s, 3),
        "render_over_floor": round(render_s / floor_s, 3) if floor_s else None,
        "peak_mb": round(peak / 2 ** 20, 1),
        "repeat": repeat,
    }
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        serialize_all(render(catalog, env))
        prof.disable()
        prof.dump_stats(profile)
        out["profile"] = profile
        out["profile_top"] = [f"{fn[2]} ({Path(fn[0]).name}:{fn[1]}): {st[3]:.2f}s cumulative"
                              for fn, st in sorted(pstats.Stats(prof).stats.items(), key=lambda kv: -kv[1][3])[:12]]
    if pulumi:
        out["pulumi"] = pulumi_timing(n, env, repeat)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--services", type=int, default=1000, help="number of synthetic services (default 1000)")
    ap.add_argument("--sweep", metavar="N,N,...", help="measure several sizes, e.g. 100,1000,2000")
    ap.add_argument("--env", default="prod", choices=synth.ENVIRONMENTS, help="environment to render (default prod)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported (default 3)")
    ap.add_argument("--profile", metavar="FILE", help="write a cProfile of one render + serialise to FILE")
    ap.add_argument("--pulumi", action="store_true",
                    help="also time the Pulumi stack program under mocks (when the checkout has one)")
    ap.add_argument("--json", action="store_true", help="print one JSON summary object on the last line")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sweep.split(",")] if args.sweep else [args.services]
    if any(n < 1 for n in sizes) or args.repeat < 1:
        ap.error("sizes and --repeat must be positive")
    runs = []
    for n in sizes:
        r = measure(n, args.env, args.repeat, args.profile, args.pulumi)
        runs.append(r)
        pul = r.get("pulumi")
        pul_s = "" if pul is None else (f", pulumi {pul['seconds']}s" if pul["available"] else ", pulumi n/a")
        print(f"{n:6} services: load+validate {r['load_seconds']:.2f}s | render {r['render_seconds']:.2f}s "
              f"(generate {r['generate_seconds']:.2f}s + serialise {r['mlmon_serialize_seconds']:.2f}s) | "
              f"floor {r['serialize_seconds']:.2f}s | {r['render_over_floor']}x | peak {r['peak_mb']} MB | "
              f"{r['artifacts']} files, {r['output_mb']} MB{pul_s}", flush=True)
    by_n = {r["services"]: r for r in runs}
    summary = dict(runs[-1])
    summary["machine"] = machine()
    targets = {}
    if 1000 in by_n:
        targets["render_le_3x_floor_at_1000"] = by_n[1000]["render_over_floor"] <= 3
    if 1000 in by_n and 2000 in by_n:
        ratio = by_n[2000]["render_seconds"] / by_n[1000]["render_seconds"]
        summary["scaling_2000_over_1000"] = round(ratio, 3)
        targets["linear_2000_le_2_2x_1000"] = ratio <= 2.2
    summary["targets"] = targets
    if len(runs) > 1:
        summary["runs"] = runs
    if args.json:
        print(json.dumps(summary))
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
