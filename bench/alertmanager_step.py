"""How long ``mlmon check``'s Alertmanager step takes on a synthetic catalog of N services (bench/synth.py),
and how many amtool processes it starts: ``python bench/alertmanager_step.py --services 200 [--json]``.

The synthetic catalog gets an ``alertmanager:`` section declaring every receiver its services' ``routing``
names (Slack, PagerDuty and webhook receivers; SNS for the CloudWatch services). Measured per environment on
one render: the routing tests (alerts), the amtool routes tests actually run (one per class of alerts equal on
the labels the route tree reads), and the wall time of the step (check-config included).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def catalog_texts(n: int) -> dict[str, str]:
    import yaml

    from synth import catalog_texts as synth_texts

    texts = synth_texts(n)
    receivers: dict[str, dict] = {}
    for name, text in texts.items():
        if name.startswith("_"):
            continue
        doc = yaml.safe_load(text)
        cloudwatch = (doc.get("source") or {}).get("type") == "cloudwatch"
        for sev, recv in (doc.get("routing") or {}).items():
            if cloudwatch:
                receivers[recv] = {"sns": {}}
            elif sev in ("page", "critical"):
                receivers[recv] = {"pagerduty": {"routing_key": {"secret": {"name": "am-pagerduty", "key": recv}}}}
            elif sev == "ticket":
                receivers[recv] = {"webhook": {"url": f"http://jira-bridge.monitoring.svc:8080/{recv}"}}
            else:
                receivers[recv] = {"slack": {"channel": f"#{recv}",
                                             "api_url": {"secret": {"name": "am-slack", "key": recv}}}}
    defaults = yaml.safe_load(texts["_defaults.yaml"])
    defaults["alertmanager"] = {"receivers": dict(sorted(receivers.items()))}
    texts["_defaults.yaml"] = yaml.safe_dump(defaults, sort_keys=False)
    return texts


def measure(n: int) -> dict:
    import yaml

    from generators.alertmanager import verify
    from generators.loader import load_catalog
    from generators.render import render, serialize_all, write_atomic

    t = time.perf_counter()
    catalog = load_catalog("alerts", texts=catalog_texts(n))
    load_s = time.perf_counter() - t
    calls = {"n": 0}
    original = verify._route_test

    def counted(*a):
        calls["n"] += 1
        return original(*a)

    verify._route_test = counted
    out: dict = {"services": n, "load_seconds": round(load_s, 3), "environments": {}}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for env in catalog.defaults.environments:
                d = Path(tmp) / env
                write_atomic(serialize_all(render(catalog, env)), d)
                cases = len(yaml.safe_load((d / "alertmanager" / "routing-tests.yaml").read_text())["tests"])
                calls["n"] = 0
                t = time.perf_counter()
                failures = verify.alertmanager_step(d, catalog, env)
                out["environments"][env] = {"alerts": cases, "amtool_route_tests": calls["n"],
                                            "step_seconds": round(time.perf_counter() - t, 3),
                                            "failures": len(failures)}
    finally:
        verify._route_test = original
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--services", type=int, default=200)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    data = measure(args.services)
    if not args.json:
        for env, m in data["environments"].items():
            print(f"{env}: {m['alerts']} alerts, {m['amtool_route_tests']} amtool route tests, "
                  f"{m['step_seconds']} s, {m['failures']} failures")
    print(json.dumps(data))
    return 0 if all(m["failures"] == 0 for m in data["environments"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
