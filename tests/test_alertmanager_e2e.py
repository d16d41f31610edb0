"""End to end with the real engines on 127.0.0.1: Prometheus evaluates the rendered rules of the seed alerts on
scenario data served by a tiny exporter in this test, sends them to a real Alertmanager (Debian's
``prometheus-alertmanager``) running the rendered ``alertmanager.yaml``, and a webhook receiver in this test
records every notification.

Test-only settings (written into a copy of the seed catalog, nothing else changes): every receiver keeps its
name but becomes a webhook to this test (the real ones are PagerDuty/Slack with mounted secrets); grouping
timers of 1s/2s; rules evaluated every second; the chosen alerts' ``for`` shortened to 1s in the rendered rule
file; the tickets' business-hours interval dropped (the test must not depend on the clock).

What must happen, written from the seeds: seed 004 pages (RLFeedbackQueueDepthCritical, ...ProcessingFailures)
reach "ml-infrastructure-pagerduty", its tickets "ml-routing-support", but RLFeedbackQueueDepthHigh only once
the Critical level has resolved (inhibited before); seed 001's MLModel* alerts reach neural-hive-ml (warning) and
neural-hive-oncall (critical), the F1 warning inhibited while the critical level fires, and Alertmanager's API
answers seed 001's ``alertname=~"MLModel.*"`` query; each group notifies once; resolved notifications follow.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from conftest import CATALOG

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("prometheus") is None or shutil.which("prometheus-alertmanager") is None,
                       reason="prometheus / prometheus-alertmanager not installed (Debian packages)"),
]

ALERTS = ("RLFeedbackQueueDepthHigh", "RLFeedbackQueueDepthCritical", "RLFeedbackProcessingFailures",
          "MLModelDegraded", "MLModelLowF1Score", "MLModelLowF1ScoreCritical")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scenario:
    """The exporter's current values (the test changes them phase by phase)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.depth = 150.0
        self.failed = 0.0
        self.failing = True
        self.degraded = 1.0
        self.f1 = 0.6

    def metrics(self) -> str:
        with self.lock:
            if self.failing:
                self.failed += 1
            t = 'tenant="t1",workspace="w1"'
            s = 'specialist_type="technical"'
            return (f"rl_feedback_queue_depth{{{t}}} {self.depth}\n"
                    f"rl_feedback_failed_total{{{t}}} {self.failed}\n"
                    f"neural_hive_model_degradation_detected{{{s}}} {self.degraded}\n"
                    f"neural_hive_mlflow_model_f1{{{s}}} {self.f1}\n")

    def set(self, **kw):
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, v)


def _server(handler_fn):
    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            body = handler_fn("GET", self.path, b"").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            handler_fn("POST", self.path, data)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise AssertionError(f"{url}: the process exited:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


def _test_catalog(root: Path, hook: str) -> Path:
    """A copy of the seed catalog with the test-only settings of the module docstring."""
    cat = root / "alerts"
    shutil.copytree(CATALOG, cat)
    defaults = yaml.safe_load((cat / "_defaults.yaml").read_text())
    am = defaults["alertmanager"]
    am["receivers"] = {name: (r if "sns" in r else {"webhook": {"url": f"{hook}/{name}"}})
                       for name, r in am["receivers"].items()}
    am["routing"] = {sev: {"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"}
                     for sev in ("info", "ticket", "warning", "critical", "page")}
    am.pop("time_intervals", None)
    defaults["evaluation_interval"] = "1s"
    (cat / "_defaults.yaml").write_text(yaml.safe_dump(defaults, sort_keys=False))
    return cat


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from generators.loader import load_catalog
    from generators.render import render, serialize_all, write_atomic

    work = tmp_path_factory.mktemp("am-e2e")
    sc = Scenario()
    notes: list[dict] = []
    notes_lock = threading.Lock()

    def handle(method, path, data):
        if method == "POST":
            with notes_lock:
                notes.append({"path": path, **json.loads(data)})
            return ""
        return sc.metrics()

    srv = _server(handle)
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    catalog = load_catalog(_test_catalog(work, base + "/hook"))
    out = work / "out"
    write_atomic(serialize_all(render(catalog, "prod")), out)

    rules = {"groups": []}
    for f in sorted((out / "prometheus").glob("*.rules.yaml")):
        for g in yaml.safe_load(f.read_text())["groups"]:
            chosen = [dict(r, **{"for": "1s"}) for r in g["rules"] if r.get("alert") in ALERTS]
            if chosen:
                rules["groups"].append({"name": g["name"], "interval": g["interval"], "rules": chosen})
    assert {r["alert"] for g in rules["groups"] for r in g["rules"]} == set(ALERTS)
    (work / "rules.yaml").write_text(yaml.safe_dump(rules))

    am_port, prom_port = _port(), _port()
    (work / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(work / "rules.yaml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
        "scrape_configs": [{"job_name": "scenario", "static_configs": [
            {"targets": [f"127.0.0.1:{srv.server_address[1]}"]}]}],
    }))
    am_log, prom_log = work / "alertmanager.log", work / "prometheus.log"
    procs = []
    try:
        procs.append(subprocess.Popen(
            ["prometheus-alertmanager", f"--config.file={out / 'alertmanager' / 'alertmanager.yaml'}",
             f"--storage.path={work / 'am-data'}", f"--web.listen-address=127.0.0.1:{am_port}",
             "--cluster.listen-address="], stdout=am_log.open("w"), stderr=subprocess.STDOUT))
        _wait_http(f"http://127.0.0.1:{am_port}/-/ready", procs[-1], am_log)
        procs.append(subprocess.Popen(
            ["prometheus", f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'prom-data'}",
             f"--web.listen-address=127.0.0.1:{prom_port}", "--rules.alert.resend-delay=1s"],
            stdout=prom_log.open("w"), stderr=subprocess.STDOUT))
        _wait_http(f"http://127.0.0.1:{prom_port}/-/ready", procs[-1], prom_log)
        yield {"scenario": sc, "notes": notes, "lock": notes_lock, "am": f"http://127.0.0.1:{am_port}"}
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        srv.shutdown()


def _events(stack) -> list[tuple[str, str, str]]:
    """``(receiver, status, alertname)`` for every alert of every notification received, in order."""
    with stack["lock"]:
        notes = list(stack["notes"])
    return [(n["receiver"], a["status"], a["labels"]["alertname"]) for n in notes for a in n["alerts"]]


def _firing_notifications(stack) -> dict[tuple[str, str], int]:
    with stack["lock"]:
        notes = list(stack["notes"])
    out: dict[tuple[str, str], int] = {}
    for n in notes:
        if n["status"] == "firing":
            key = (n["receiver"], n["groupLabels"]["alertname"])
            out[key] = out.get(key, 0) + 1
    return out


def _until(cond, timeout=40.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.5)
    return False


def test_each_seed_alert_reaches_its_receiver_once_and_inhibited_levels_do_not(stack):
    firing = {("ml-infrastructure-pagerduty", "RLFeedbackQueueDepthCritical"),
              ("ml-infrastructure-pagerduty", "RLFeedbackProcessingFailures"),
              ("neural-hive-ml", "MLModelDegraded"), ("neural-hive-oncall", "MLModelLowF1ScoreCritical")}
    assert _until(lambda: firing <= set(_firing_notifications(stack))), _events(stack)
    time.sleep(8)  # four group intervals: no second notification of an unchanged group, no inhibited level
    assert _firing_notifications(stack) == {k: 1 for k in firing}, _events(stack)
    assert not any(name in ("RLFeedbackQueueDepthHigh", "MLModelLowF1Score") for _, _, name in _events(stack))

    # seed 001: `curl .../api/v2/alerts?filter=alertname=~"MLModel.*"` lists the team's alerts, the inhibited one
    # suppressed by the critical level
    q = urllib.parse.quote('alertname=~"MLModel.*"')
    alerts = json.loads(urllib.request.urlopen(f"{stack['am']}/api/v2/alerts?filter={q}", timeout=5).read())
    state = {a["labels"]["alertname"]: a["status"]["state"] for a in alerts}
    assert state == {"MLModelDegraded": "active", "MLModelLowF1ScoreCritical": "active",
                     "MLModelLowF1Score": "suppressed"}, state
    low = next(a for a in alerts if a["labels"]["alertname"] == "MLModelLowF1Score")
    assert low["status"]["inhibitedBy"] and low["receivers"][0]["name"] == "neural-hive-ml"

    # the stronger levels recover: they resolve, and the weaker levels they silenced now notify
    stack["scenario"].set(depth=50.0, f1=0.7, failing=False)
    expected = {("ml-infrastructure-pagerduty", "resolved", "RLFeedbackQueueDepthCritical"),
                ("ml-routing-support", "firing", "RLFeedbackQueueDepthHigh"),
                ("neural-hive-oncall", "resolved", "MLModelLowF1ScoreCritical"),
                ("neural-hive-ml", "firing", "MLModelLowF1Score")}
    assert _until(lambda: expected <= set(_events(stack))), _events(stack)

    # full recovery: resolved notifications follow (the failures alert looks back 15 minutes and stays)
    stack["scenario"].set(depth=0.0, degraded=0.0, f1=0.9)
    resolved = {("ml-routing-support", "resolved", "RLFeedbackQueueDepthHigh"),
                ("neural-hive-ml", "resolved", "MLModelDegraded"),
                ("neural-hive-ml", "resolved", "MLModelLowF1Score")}
    assert _until(lambda: resolved <= set(_events(stack))), _events(stack)
    time.sleep(4)
    counts = _firing_notifications(stack)
    assert counts[("ml-routing-support", "RLFeedbackQueueDepthHigh")] == 1
    assert counts[("ml-infrastructure-pagerduty", "RLFeedbackProcessingFailures")] == 1
    assert {r for r, _, _ in _events(stack)} == {"ml-infrastructure-pagerduty", "ml-routing-support",
                                                 "neural-hive-ml", "neural-hive-oncall"}
