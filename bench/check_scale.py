#!/usr/bin/env python3
"""What the feedback loop costs: ``mlmon check`` and ``mlmon render`` on the seed catalog and on synthetic
catalogs (``bench/synth.py``), each as a ratio to a bare ``python -c pass`` and to the serialisation floor;
and the Pulumi stack program under mocks as a ratio to a trivial program registering as many resources.

Every command runs as its own process, the way a user or CI runs it (``.venv/bin/mlmon``, or
``python -m generators`` with this checkout first on ``sys.path``); wall time is the best of ``--repeat``
runs, CPU time is that run's user + system time of the process and its children (promtool included).

* ``python_pass``: ``python -c pass`` (interpreter start-up, the bare minimum of any command);
* ``check``: ``mlmon check --catalog DIR`` (every environment, every step);
* ``render``: ``mlmon render --catalog DIR --env ENV --out TMP``;
* ``floor``: serialising the rendered objects with PyYAML's C dumper and ``json.dumps`` in this process
  (``render_scale.floor_serialize``): for ``render`` the one environment, for ``check`` every environment
  (what any tool must at least do to produce the files it checks);
* ``pulumi`` (``--pulumi``): the real stack program under ``pulumi.runtime.set_mocks`` on the catalog
  (``generators.deploy.mocks.run_stack_file``) vs a trivial program that registers the same number of
  resources (one input each) under the same mocks.

    .venv/bin/python bench/check_scale.py --sizes seeds,100 --json
    .venv/bin/python bench/check_scale.py --sizes 1000 --repeat 1 --pulumi

Targets (issue 15): ``mlmon check`` of the seed catalog under 10 s wall on 2 cores; of 100 synthetic services
under 2 min; linear in the catalog (1,000 services <= 12x the time of 100); ``mlmon render --env dev`` of
the seeds under 1 s. Exit 1 when a target checked by the run does not hold.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

import render_scale  # noqa: E402
import synth  # noqa: E402

SEEDS = ROOT / "tests" / "fixtures" / "seeds" / "alerts"


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def timed_run(argv: list[str], cwd: Path | None = None) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds of the process and its children, result)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run(argv, capture_output=True, text=True, cwd=cwd or ROOT, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r


def best(argv: list[str], repeat: int, cwd: Path | None = None, ok=(0,)) -> dict:
    runs = []
    for _ in range(repeat):
        wall, cpu, r = timed_run(argv, cwd)
        if r.returncode not in ok:
            raise SystemExit(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}")
        runs.append((wall, cpu, r))
    wall, cpu, r = min(runs, key=lambda x: x[0])
    return {"seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), "runs_seconds": [round(w, 3) for w, _, _ in runs],
            "stdout_tail": (r.stdout.strip().splitlines() or [""])[-1][:300]}


def floor_seconds(catalog_dir: Path, envs: list[str], repeat: int) -> dict[str, float]:
    """Serialisation floor per environment (best of ``repeat``), on the catalog as ``mlmon`` loads it."""
    from generators.loader import load_catalog
    from generators.render import render

    catalog = load_catalog(catalog_dir)
    out = {}
    for env in envs:
        artifacts = render(catalog, env)
        out[env] = min(render_scale._timed(lambda: render_scale.floor_serialize(artifacts))[0] for _ in range(repeat))
    return out


TRIVIAL_PROGRAM = '''
import pulumi

class Trivial(pulumi.CustomResource):
    def __init__(self, name, i):
        super().__init__("mlmon:bench:Trivial", name, {"i": i})

n = int(pulumi.Config("mlmon").require("n"))
for i in range(n):
    Trivial(f"r{i}", i)
'''


def pulumi_ratio(catalog_dir: Path, env: str, repeat: int) -> dict:
    """The stack program on ``catalog_dir`` vs :data:`TRIVIAL_PROGRAM` with as many resources, same mocks."""
    import importlib.util

    if importlib.util.find_spec("pulumi") is None:
        return {"available": False, "reason": "pulumi is not installed (the `deploy` extra)"}
    from generators.deploy.mocks import run, run_stack_file

    times, n = [], 0
    for _ in range(repeat):
        t, r = render_scale._timed(lambda: run_stack_file(env, overrides={"mlmon:catalog": str(catalog_dir)}))
        times.append(t)
        n = len(r.resources)
    with tempfile.TemporaryDirectory(prefix="mlmon-bench-") as tmp:
        prog = Path(tmp) / "__main__.py"
        prog.write_text(TRIVIAL_PROGRAM, encoding="utf-8")
        trivial = []
        for _ in range(repeat):
            t, r2 = render_scale._timed(lambda: run({"mlmon:n": str(n)}, stack=env, program=prog))
            trivial.append(t)
            assert len(r2.resources) == n, (len(r2.resources), n)
    return {"available": True, "resources": n, "seconds": round(min(times), 3),
            "trivial_seconds": round(min(trivial), 3), "over_trivial": round(min(times) / min(trivial), 2)}


def measure(label: str, catalog_dir: Path, env: str, repeat: int, python_pass: float, pulumi: bool,
            skip_check: bool = False) -> dict:
    from generators.loader import load_catalog

    catalog = load_catalog(catalog_dir)
    envs = list(catalog.defaults.environments)
    n_alerts = 0
    from generators.resolve import resolve

    for e in envs:
        n_alerts += sum(len(rs.alerts) for rs in resolve(catalog, e))
    del catalog
    floors = floor_seconds(catalog_dir, envs, repeat)
    py = _python()
    out = {"catalog": label, "services": None, "alerts_all_envs": n_alerts, "environments": envs,
           "floor_seconds": {k: round(v, 3) for k, v in floors.items()}}
    with tempfile.TemporaryDirectory(prefix="mlmon-bench-out-") as tmp:
        r = best([py, "-m", "generators", "render", "--catalog", str(catalog_dir), "--env", env,
                  "--out", str(Path(tmp) / env)], repeat)
    r["over_python_pass"] = round(r["seconds"] / python_pass, 1)
    r["over_floor"] = round(r["seconds"] / floors[env], 1) if floors[env] else None
    r["env"] = env
    out["render"] = r
    if not skip_check:
        c = best([py, "-m", "generators", "check", "--catalog", str(catalog_dir)], repeat)
        total_floor = sum(floors.values())
        c["over_python_pass"] = round(c["seconds"] / python_pass, 1)
        c["over_floor"] = round(c["seconds"] / total_floor, 1) if total_floor else None
        out["check"] = c
    if pulumi:
        out["pulumi"] = pulumi_ratio(catalog_dir, env, repeat)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="seeds,100",
                    help="comma-separated: 'seeds' (tests/fixtures/seeds) and/or numbers of synthetic services")
    ap.add_argument("--env", default="dev", help="environment of `mlmon render` and the Pulumi run (default dev)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per measurement; the best is reported (default 2)")
    ap.add_argument("--pulumi", action="store_true", help="also the stack program under mocks vs a trivial one")
    ap.add_argument("--no-check", action="store_true", help="skip `mlmon check` (render and Pulumi only)")
    ap.add_argument("--json", action="store_true", help="print one JSON summary object on the last line")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be positive")
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    python_pass = best([_python(), "-c", "pass"], max(3, args.repeat))["seconds"]
    print(f"python -c pass: {python_pass:.3f}s", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="mlmon-bench-cat-") as tmp:
        for s in sizes:
            if s == "seeds":
                label, catalog_dir = "seeds", SEEDS
            else:
                n = int(s)
                label, catalog_dir = f"synthetic-{n}", Path(tmp) / f"s{n}" / "alerts"
                synth.write_catalog(n, catalog_dir)   # no dashboards/ beside it
            r = measure(label, catalog_dir, args.env, args.repeat, python_pass, args.pulumi, args.no_check)
            r["services"] = len([p for p in catalog_dir.glob("*.yaml") if not p.name.startswith("_")])
            results.append(r)
            line = (f"{label:>15}: {r['services']} services, {r['alerts_all_envs']} alerts | render --env "
                    f"{args.env} {r['render']['seconds']:.2f}s ({r['render']['cpu_seconds']:.2f}s CPU) = "
                    f"{r['render']['over_python_pass']}x python, {r['render']['over_floor']}x floor")
            if "check" in r:
                line += (f" | check {r['check']['seconds']:.2f}s ({r['check']['cpu_seconds']:.2f}s CPU) = "
                         f"{r['check']['over_python_pass']}x python, {r['check']['over_floor']}x floor")
            p = r.get("pulumi")
            if p:
                line += (f" | pulumi {p['seconds']}s vs trivial {p['trivial_seconds']}s = {p['over_trivial']}x "
                         f"({p['resources']} resources)" if p["available"] else " | pulumi n/a")
            print(line, flush=True)
    by = {r["catalog"]: r for r in results}
    targets = {}
    if "seeds" in by and "check" in by["seeds"]:
        targets["check_seeds_under_10s"] = by["seeds"]["check"]["seconds"] < 10
    if "seeds" in by and args.env == "dev":
        targets["render_seeds_dev_under_1s"] = by["seeds"]["render"]["seconds"] < 1
    if "synthetic-100" in by and "check" in by["synthetic-100"]:
        targets["check_100_under_120s"] = by["synthetic-100"]["check"]["seconds"] < 120
    if "synthetic-100" in by and "synthetic-1000" in by and "check" in by["synthetic-1000"]:
        ratio = by["synthetic-1000"]["check"]["seconds"] / by["synthetic-100"]["check"]["seconds"]
        targets["check_linear_1000_le_12x_100"] = ratio <= 12
        by["synthetic-1000"]["check"]["over_100"] = round(ratio, 2)
    summary = {"python_pass_seconds": python_pass, "results": results, "targets": targets,
               "machine": render_scale.machine(), "loadavg": os.getloadavg()}
    if args.json:
        print(json.dumps(summary))
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
