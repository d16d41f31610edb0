#!/usr/bin/env python3
"""Alert quality on labelled scenarios: do mlmon's rendered alerts catch degradations quickly, without
false pages?

For every alert of the catalog's Prometheus services (plus a synthetic service covering the kinds the
catalog does not use), ``bench/scenarios.py`` builds labelled scenarios: step degradation, slow drift,
noise around the threshold, short spikes, data gaps, counter resets, low traffic for ratio SLOs, and
recovery. The rules are the ones ``generators.render.render(catalog, env)`` produces; the engine is
``promtool test rules`` (Prometheus' own rule evaluation). Each scenario becomes one promtool test group
that expects *no* alert at every evaluation step; promtool's mismatch report then names every step at
which the alert was firing, which gives the exact firing timeline.

Per scenario it reports: detected (first firing within the labelled window) or not, detection delay
against the floor (``for`` + one evaluation interval, from the degradation start), how much of it the
catalog's own window accounts for ("window lag", from a reference model of the condition), false
firings, flaps and time to resolve.

    PYTHONPATH=$PWD python bench/alert_quality.py            # table
    PYTHONPATH=$PWD python bench/alert_quality.py --json     # ... and one JSON object on the last line

Exit status: 0 when the targets hold (recall 1.0, no false alerts, every step detected within one
evaluation interval of the floor plus the window lag), 1 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

import yaml  # noqa: E402

from generators.durations import format_duration  # noqa: E402
from generators.errors import CatalogError  # noqa: E402
from generators.loader import catalog_files, load_catalog  # noqa: E402
from generators.render import render  # noqa: E402
from generators.resolve import resolve  # noqa: E402

import scenarios as sc  # noqa: E402

# Kinds (and threshold variants) the seeds' catalog does not use, so that every kind is measured.
SYNTHETIC_SERVICE = """\
service: bench-synthetic
title: Benchmark-only monitors (kinds the catalog does not use)
team: mlmon
namespace: bench
labels: [model]
metrics:
  model_heartbeat_timestamp: {type: gauge, labels: [model]}
  inference_requests_total: {type: counter, labels: [model, code]}
  serving_replicas_ready: {type: gauge, range: [0, 100], labels: [model]}
  gpu_memory_used_ratio: {type: gauge, range: [0, 1], labels: [model]}
  predictions_total: {type: counter, labels: [model]}
monitors:
  - name: BenchHeartbeatMissing
    kind: absent
    metric: model_heartbeat_timestamp
    severity: critical
  - name: BenchAvailability
    kind: ratio
    good: {metric: inference_requests_total, matchers: {code: "!~5.."}}
    total: inference_requests_total
    threshold: 0.999
  - name: BenchReplicasLow
    kind: threshold
    metric: serving_replicas_ready
    op: below
    smoothing: {function: min, window: 5m}
    threshold: 2
    for: 5m
    severity: critical
  - name: BenchGpuMemoryHigh
    kind: threshold
    metric: gpu_memory_used_ratio
    smoothing: {function: max, window: 10m}
    threshold: 0.9
    for: 10m
    severity: warning
  - name: BenchPredictionRateLow
    kind: threshold
    metric: predictions_total
    op: below
    smoothing: {function: rate, window: 5m}
    threshold: 2
    for: 10m
    severity: warning
"""

_FAIL = re.compile(r"name: (?P<group>.*?),\s*\n\s*alertname: (?P<alert>\S+), time: (?P<time>\S+?),")


def parse_go_duration(text: str) -> int:
    """promtool prints times as Prometheus durations (``1h2m``, ``1d3h``)."""
    m = re.fullmatch(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?", text)
    if not m or not text:
        raise ValueError(f"cannot parse promtool time {text!r}")
    y, w, d, h, mi, s, _ms = (int(g) if g else 0 for g in m.groups())
    return (((y * 365 + w * 7 + d) * 24 + h) * 60 + mi) * 60 + s


# ---------------------------------------------------------------------------------------------
# build and run


def load(catalog_dir: Path, synthetic: bool):
    texts = {p.name: p.read_text(encoding="utf-8") for p in catalog_files(catalog_dir)}
    if synthetic:
        texts["bench-synthetic.yaml"] = SYNTHETIC_SERVICE
    return load_catalog(catalog_dir, texts=texts)


def build(catalog, env: str, alerts: set[str] | None, kinds: set[str] | None, only: set[str] | None):
    """(service -> rule file content, service -> [Scenario])."""
    arts = {a.path: a for a in render(catalog, env)}
    rules, scen = {}, {}
    for rs in resolve(catalog, env):
        path = f"prometheus/{rs.name}.rules.yaml"
        if not rs.is_prometheus or path not in arts:
            continue
        mine = []
        for a in rs.alerts:
            if alerts and a.name not in alerts:
                continue
            probe = sc.probe_for(a, rs)
            if probe is None or (kinds and probe.kind.split("/")[0] not in kinds and probe.kind not in kinds):
                continue
            mine.extend(sc.build_scenarios(a, probe, only))
        if mine:
            rules[rs.name] = arts[path].serialize()
            scen[rs.name] = mine
    return rules, scen


def test_file(service: str, scenarios: list, iv: int) -> dict:
    groups = []
    for s in scenarios:
        checks = [{"eval_time": format_duration(t), "alertname": s.alert, "exp_alerts": []}
                  for t in range(0, s.end + 1, iv)]
        groups.append({"name": s.id, "interval": format_duration(iv), "input_series": s.series(),
                       "alert_rule_test": checks})
    return {"rule_files": [f"{service}.rules.yaml"], "evaluation_interval": format_duration(iv), "tests": groups}


def run_promtool(promtool: str, workdir: Path, service: str) -> dict[str, list[int]]:
    """Firing times (seconds) per scenario id, from promtool's mismatch report."""
    r = subprocess.run([promtool, "test", "rules", f"{service}.tests.yaml"], cwd=workdir,
                       capture_output=True, text=True)
    out = r.stdout + r.stderr
    firing: dict[str, list[int]] = {}
    for m in _FAIL.finditer(out):
        firing.setdefault(m.group("group"), []).append(parse_go_duration(m.group("time")))
    if r.returncode != 0 and not firing:
        raise RuntimeError(f"promtool test rules {service}.tests.yaml failed without a firing report:\n{out[-3000:]}")
    return {k: sorted(set(v)) for k, v in firing.items()}


# ---------------------------------------------------------------------------------------------
# hand-made scenarios (not derived from the generators)


def handmade(promtool: str, workdir: Path) -> list[dict]:
    """The hand-made scenarios of tests/test_oracle.py (new series, counters born at 1, resets, staleness, idle
    queues, several replicas, numerator/denominator label sets that differ), labelled by hand with the minute the
    degradation starts (or quiet), on the rendered alerts of the oracle catalog; one row per scenario."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_oracle as ho  # noqa: E402

    root = workdir / "oracle-catalog" / "alerts"
    root.mkdir(parents=True)
    (root / "oracle.yaml").write_text(ho.CATALOG)
    (root / "_defaults.yaml").write_text("evaluation_interval: 1m\n")
    catalog = load_catalog(root)
    rs = resolve(catalog, "prod")[0]
    rules = yaml.safe_load(next(a for a in render(catalog, "prod")
                                if a.path == "prometheus/oracle.rules.yaml").serialize())
    minimal = [{"alert": r["alert"], "expr": r["expr"], **({"for": r["for"]} if "for" in r else {})}
               for g in rules["groups"] for r in g["rules"] if "alert" in r]
    groups = []
    for name, (alert, _, end) in ho.SCENARIOS.items():
        series = ho.scenario_series(name)
        groups.append({"name": name, "interval": "1m",
                       "input_series": [{"series": s.name(), "values": s.notation()} for s in series],
                       "alert_rule_test": [{"eval_time": f"{i}m", "alertname": alert, "exp_alerts": []}
                                           for i in range(end + 1)]})
    (workdir / "oracle.rules.yaml").write_text(yaml.safe_dump({"groups": [{"name": "oracle", "interval": "1m",
                                                                            "rules": minimal}]}))
    (workdir / "oracle.tests.yaml").write_text(yaml.safe_dump(
        {"rule_files": ["oracle.rules.yaml"], "evaluation_interval": "1m", "tests": groups}, width=10 ** 9))
    firing = run_promtool(promtool, workdir, "oracle")
    for_of = {a.name: a.for_ for a in rs.alerts}
    kind_of = {a.name: a.kind for a in rs.alerts}
    iv = 60
    rows = []
    for name, (alert, _, end) in ho.SCENARIOS.items():
        t0 = ho.LABELS[name]
        times = firing.get(name, [])
        eps = episodes(times, iv)
        row = {"scenario": name, "alert": alert, "kind": kind_of[alert], "for": for_of[alert],
               "expect": "quiet" if t0 is None else "fire", "firing_episodes": len(eps)}
        if t0 is None:
            row.update(ok=not eps, detected=None, false_firings=len(eps))
        else:
            start = t0 * iv
            after = [t for t in times if t >= start]
            first = after[0] if after else None
            floor = for_of[alert] + iv
            row.update(detected=first is not None, first_firing=first, t0=start, delay_seconds=None if first is None
                       else first - start, floor_seconds=floor,
                       delay_over_floor_seconds=None if first is None else first - start - floor,
                       false_firings=len([e for e in eps if e[1] < start]))
            row["ok"] = row["detected"] and not row["false_firings"]
        rows.append(row)
    return rows


def per_kind(rows: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in rows:
        k = out.setdefault(r["kind"].split("/")[0], {"scenarios": 0, "fire": 0, "detected": 0, "false_alerts": 0,
                                                      "max_delay_over_floor_seconds": None})
        k["scenarios"] += 1
        k["false_alerts"] += r.get("false_firings", 0)
        if r["expect"] == "fire":
            k["fire"] += 1
            k["detected"] += 1 if r.get("detected") else 0
            d = r.get("delay_over_floor_seconds")
            if d is not None and (r.get("measure_delay", True)):
                m = k["max_delay_over_floor_seconds"]
                k["max_delay_over_floor_seconds"] = d if m is None else max(m, d)
    for k in out.values():
        k["recall"] = round(k["detected"] / k["fire"], 4) if k["fire"] else 1.0
    return out


def print_handmade(rows: list[dict]) -> None:
    head = f"{'hand-made scenario':78} {'kind':10} {'want':5} {'result':7} {'delay':>7} {'floor':>6} {'over':>6} " \
           f"{'false':>5}"
    print(head)
    print("-" * len(head))
    for r in rows:
        res = "ok" if r["ok"] else ("MISSED" if r["expect"] == "fire" and not r["detected"] else "FALSE")
        print(f"{r['scenario'][:78]:78} {r['kind']:10} {r['expect']:5} {res:7} {fmt_s(r.get('delay_seconds')):>7} "
              f"{fmt_s(r.get('floor_seconds')):>6} {fmt_s(r.get('delay_over_floor_seconds')):>6} "
              f"{r['false_firings']:>5}")


def print_kinds(kinds: dict[str, dict], title: str) -> None:
    print(f"{title}: per kind")
    print(f"  {'kind':12} {'scenarios':>9} {'fire':>5} {'recall':>7} {'false':>6} {'max over floor':>15}")
    for name, k in sorted(kinds.items()):
        print(f"  {name:12} {k['scenarios']:>9} {k['fire']:>5} {k['recall']:>7} {k['false_alerts']:>6} "
              f"{fmt_s(k['max_delay_over_floor_seconds']):>15}")


# ---------------------------------------------------------------------------------------------
# scoring


def episodes(times: list[int], iv: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for t in times:
        if out and t - out[-1][1] <= iv:
            out[-1] = (out[-1][0], t)
        else:
            out.append((t, t))
    return out


def score(s, times: list[int], for_: int) -> dict:
    iv = s.probe.iv
    eps = episodes(times, iv)
    floor = for_ + iv
    row = {"scenario": s.id, "alert": s.alert, "name": s.name, "kind": s.probe.kind, "for": for_,
           "expect": "fire" if s.expect_fire else "quiet", "firing_episodes": len(eps), "note": s.note}
    if not s.expect_fire:
        row.update(ok=not eps, false_firings=len(eps), first_false=eps[0][0] if eps else None)
        runs = s.condition_runs()
        longest = max(((b - a + 1) * iv for a, b in runs), default=0)
        row["label_error"] = longest - iv >= for_ and longest > 0  # the reference says it should fire
        return row
    runs = s.condition_runs()
    onset = s.onset
    clear = None  # when the condition stops holding after recovery (reference model)
    if s.recover is not None:
        clear = (runs[-1][1] + 1) * iv if runs else s.recover
    deadline = (onset if onset is not None else s.t0) + for_ + 2 * iv
    allowed_end = (clear if clear is not None else s.end) + 2 * iv
    inside = [e for e in eps if e[1] >= s.t0 and e[0] <= allowed_end]
    false_eps = [e for e in eps if e[1] < s.t0 or e[0] > allowed_end]
    first = inside[0][0] if inside else None
    detected = first is not None and first <= deadline
    delay = first - s.t0 if first is not None else None
    lag = (onset - s.t0) if onset is not None else None
    row.update(
        detected=detected, first_firing=first, t0=s.t0, onset=onset,
        delay_seconds=delay, floor_seconds=floor,
        delay_over_floor_seconds=None if delay is None else delay - floor,
        window_lag_seconds=lag,
        delay_over_floor_beyond_lag_seconds=None if delay is None or lag is None else delay - lag - floor,
        flaps=max(0, len(inside) - 1), false_firings=len(false_eps),
        time_to_resolve_seconds=(inside[-1][1] + iv - s.recover) if inside and s.recover is not None else None,
        measure_delay=s.measure_delay, label_error=onset is None,
    )
    row["ok"] = detected and not false_eps and row["flaps"] == 0
    return row


def summarize(rows: list[dict], iv: int, env: str, seconds: float) -> dict:
    fire = [r for r in rows if r["expect"] == "fire"]
    measured = [r for r in fire if r.get("measure_delay") and r.get("delay_over_floor_seconds") is not None]
    detected = sum(1 for r in fire if r["detected"])
    false_alerts = sum(r["false_firings"] for r in rows)
    mx = max((r["delay_over_floor_seconds"] for r in measured), default=0)
    mx_lag = max((r["delay_over_floor_beyond_lag_seconds"] for r in measured), default=0)
    worst = max(measured, key=lambda r: r["delay_over_floor_seconds"], default=None)
    out = {
        "env": env,
        "scenarios": len(rows),
        "alerts": len({r["alert"] for r in rows}),
        "fire_scenarios": len(fire),
        "quiet_scenarios": len(rows) - len(fire),
        "recall": round(detected / len(fire), 4) if fire else 1.0,
        "missed": [r["scenario"] for r in fire if not r["detected"]],
        "false_alerts": false_alerts,
        "false_alert_scenarios": [r["scenario"] for r in rows if r["false_firings"]],
        "flaps": sum(r.get("flaps", 0) for r in fire),
        "evaluation_interval_seconds": iv,
        "max_delay_over_floor_seconds": mx,
        "max_delay_over_floor_scenario": worst["scenario"] if worst else None,
        "max_delay_over_floor_beyond_window_lag_seconds": mx_lag,
        "delay_over_floor_by_alert": {r["alert"]: r["delay_over_floor_seconds"] for r in measured},
        "window_lag_by_alert": {r["alert"]: r["window_lag_seconds"] for r in measured},
        "label_errors": [r["scenario"] for r in rows if r.get("label_error")],
        "seconds": round(seconds, 2),
    }
    out["targets"] = {
        "recall_1": out["recall"] == 1.0,
        "no_false_alerts": false_alerts == 0,
        "delay_within_one_interval_of_floor": mx <= iv,
        "delay_within_one_interval_of_floor_plus_window_lag": mx_lag <= iv,
    }
    return out


def fmt_s(v) -> str:
    if v is None:
        return "-"
    return ("-" if v < 0 else "") + format_duration(abs(int(v)))


def print_table(rows: list[dict]) -> None:
    head = f"{'scenario':58} {'want':5} {'result':8} {'delay':>7} {'floor':>6} {'over':>6} {'lag':>6} " \
           f"{'flaps':>5} {'false':>5} {'resolve':>7}"
    print(head)
    print("-" * len(head))
    for r in rows:
        if r["expect"] == "fire":
            res = "ok" if r["ok"] else ("late" if r["first_firing"] is not None and not r["detected"]
                                        else "MISSED" if not r["detected"] else "flaps" if r["flaps"] else "FALSE")
            print(f"{r['scenario'][:58]:58} {'fire':5} {res:8} {fmt_s(r['delay_seconds']):>7} "
                  f"{fmt_s(r['floor_seconds']):>6} {fmt_s(r['delay_over_floor_seconds']):>6} "
                  f"{fmt_s(r['window_lag_seconds']):>6} {r['flaps']:>5} {r['false_firings']:>5} "
                  f"{fmt_s(r['time_to_resolve_seconds']):>7}")
        else:
            res = "ok" if r["ok"] else "FALSE"
            print(f"{r['scenario'][:58]:58} {'quiet':5} {res:8} {'':>7} {'':>6} {'':>6} {'':>6} {'':>5} "
                  f"{r['false_firings']:>5} {'':>7}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", default=str(ROOT / "alerts"), metavar="DIR", help="catalog directory (default: alerts/)")
    ap.add_argument("--env", default="prod", help="environment to render (default: prod)")
    ap.add_argument("--alert", action="append", metavar="NAME", help="only this alert (repeatable)")
    ap.add_argument("--kind", action="append", metavar="KIND",
                    help="only probes of this kind, e.g. threshold, ratio-slo, latency (repeatable)")
    ap.add_argument("--scenario", action="append", metavar="NAME",
                    help="only scenarios of this name, e.g. step, noise, spike (repeatable)")
    ap.add_argument("--no-synthetic", action="store_true", help="leave out the benchmark-only service")
    ap.add_argument("--no-handmade", action="store_true",
                    help="leave out the hand-made scenarios of tests/test_oracle.py (not derived from the generators)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="promtool processes in parallel")
    ap.add_argument("--keep", metavar="DIR", help="write the rule and test files here (for inspection)")
    ap.add_argument("--json", action="store_true", help="print one JSON summary object on the last line")
    args = ap.parse_args(argv)
    promtool = shutil.which("promtool")
    if promtool is None:
        print("alert_quality: promtool not found on PATH (Debian package `prometheus`)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        catalog = load(Path(args.catalog), not args.no_synthetic)
    except CatalogError as exc:
        print(exc.format(), file=sys.stderr)
        return 2
    if args.env not in catalog.defaults.environments:
        print(f"alert_quality: unknown environment {args.env!r}", file=sys.stderr)
        return 2
    iv = catalog.defaults.evaluation_interval
    rules, scen = build(catalog, args.env, set(args.alert or ()) or None, set(args.kind or ()) or None,
                        set(args.scenario or ()) or None)
    if not scen:
        print("alert_quality: no scenario matches the filters", file=sys.stderr)
        return 2
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mlmon-alert-quality-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        for svc in scen:
            (tmp / f"{svc}.rules.yaml").write_bytes(rules[svc])
            text = yaml.dump(test_file(svc, scen[svc], iv), Dumper=yaml.CSafeDumper, sort_keys=False, width=10 ** 9)
            (tmp / f"{svc}.tests.yaml").write_text(text)
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = dict(zip(scen, pool.map(lambda s: run_promtool(promtool, tmp, s), scen)))
        hand = [] if args.no_handmade or args.alert or args.kind or args.scenario else handmade(promtool, tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    for_of = {a.name: a.for_ for rs in resolve(catalog, args.env) for a in rs.alerts}
    rows = [score(s, results[svc].get(s.id, []), for_of[s.alert]) for svc in scen for s in scen[svc]]
    summary = summarize(rows, iv, args.env, time.perf_counter() - started)
    summary["per_kind"] = per_kind(rows)
    print_table(rows)
    print()
    print_kinds(summary["per_kind"], "generated scenarios")
    if hand:
        print()
        print_handmade(hand)
        print()
        summary["handmade"] = {"scenarios": len(hand), "per_kind": per_kind(hand),
                               "recall": round(sum(1 for r in hand if r["expect"] == "fire" and r["detected"])
                                               / max(1, sum(1 for r in hand if r["expect"] == "fire")), 4),
                               "false_alerts": sum(r["false_firings"] for r in hand),
                               "failed": [r["scenario"] for r in hand if not r["ok"]]}
        print_kinds(summary["handmade"]["per_kind"], "hand-made scenarios")
        print(f"hand-made: {len(hand)} scenarios, recall {summary['handmade']['recall']}, "
              f"{summary['handmade']['false_alerts']} false alerts")
    print()
    print(f"{summary['scenarios']} scenarios over {summary['alerts']} alerts ({args.env}): recall {summary['recall']}, "
          f"{summary['false_alerts']} false alerts, {summary['flaps']} flaps; max delay over floor "
          f"{fmt_s(summary['max_delay_over_floor_seconds'])} ({summary['max_delay_over_floor_scenario']}), "
          f"{fmt_s(summary['max_delay_over_floor_beyond_window_lag_seconds'])} beyond the window lag")
    if summary["label_errors"]:
        print(f"label errors (the reference model disagrees with the label): {summary['label_errors']}")
    if args.json:
        summary["rows"] = rows
        if hand:
            summary["handmade"]["rows"] = hand
        print(json.dumps(summary, sort_keys=False))
    t = summary["targets"]
    ok = t["recall_1"] and t["no_false_alerts"] and t["delay_within_one_interval_of_floor_plus_window_lag"]
    ok = ok and (not hand or not summary["handmade"]["failed"])
    return 0 if ok and not summary["label_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
