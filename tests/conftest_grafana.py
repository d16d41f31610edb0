"""Shared helpers of the Grafana tests: the reference catalog, a synthetic exporter of every declared metric,
and a real Prometheus on 127.0.0.1 (started and stopped by the test)."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from generators.model import (AbsentMonitor, ChangesMonitor, FailuresMonitor, FlagMonitor, ForecastMonitor,
                              LatencyMonitor, RatioMonitor, StalledMonitor, ThresholdMonitor, TrendMonitor)
from generators.prometheus.series import base_labels, complement_labels, series_name

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "tests" / "fixtures" / "seeds"
"""The seed fixture (alerts/, dashboards/, docs/runbooks/ as in the repository)."""


def _selectors(mon):
    """(metric, matchers) pairs a monitor reads."""
    if isinstance(mon, ThresholdMonitor):
        yield mon.metric, mon.matchers
        for d in mon.denominator or ():
            yield d.metric, d.matchers
    elif isinstance(mon, (FlagMonitor, TrendMonitor, FailuresMonitor, AbsentMonitor, ForecastMonitor, ChangesMonitor)):
        yield mon.metric, mon.matchers
    elif isinstance(mon, LatencyMonitor):
        yield mon.histogram, mon.matchers
    elif isinstance(mon, StalledMonitor):
        yield mon.backlog.metric, mon.backlog.matchers
        yield mon.progress.metric, mon.progress.matchers
    elif isinstance(mon, RatioMonitor):
        for s in (mon.good or ()) + (mon.bad or ()) + mon.total:
            yield s.metric, s.matchers


def series_plan(resolved) -> list[tuple[str, str, dict, tuple[float, float], tuple[float, ...]]]:
    """(metric, type, labels, value range, declared buckets) of every synthetic series: each declared metric of
    each Prometheus-sourced service, with label values that satisfy (and avoid) every matcher the catalog uses."""
    out = []
    for rs in resolved:
        if not rs.is_prometheus:
            continue
        wanted: dict[str, list[dict]] = {m: [{}] for m in rs.service.metrics}
        for mon in rs.service.monitors:
            for metric, matchers in _selectors(mon):
                wanted.setdefault(metric, [{}]).append(dict(matchers))
        for metric in sorted(wanted):
            decl = rs.service.metrics.get(metric)
            if decl is None:
                continue
            seen = []
            for matchers in wanted[metric]:
                for labels in (base_labels(rs, metric, matchers), complement_labels(rs, metric, matchers)):
                    if labels is not None and labels not in seen:
                        seen.append(labels)
            if decl.range:
                rng = tuple(decl.range)
            elif decl.unit == "milliseconds":
                rng = (10.0, 8000.0)
            elif decl.unit == "seconds":
                rng = (0.01, 8.0)
            else:
                rng = (0.0, 1.0) if decl.type != "gauge" else (0.0, 100.0)
            for labels in seen:
                out.append((metric, decl.type, labels, rng, tuple(decl.buckets or ())))
    return out


def exposition(plan, t: float) -> str:
    """Prometheus text format of every planned series at ``t`` seconds after the exporter started.

    Gauges sit near the middle of their declared range (+-5 %), counters grow 5/s, histograms observe 10/s
    uniformly over the range. In the reference catalog this keeps at least one alert of every Prometheus
    service pending or firing (mid-range scores are below their thresholds, failure counters increase), which
    the dashboards' ``ALERTS`` panels need to show data."""
    lines = []
    typed = set()
    for i, (metric, kind, labels, (lo, hi), buckets) in enumerate(plan):
        if metric not in typed:
            lines.append(f"# TYPE {metric} {kind}")
            typed.add(metric)
        if kind == "gauge":
            lines.append(f"{series_name(metric, labels)} {lo + (hi - lo) * (0.5 + 0.05 * math.sin(t / 5 + i)):.6f}")
        elif kind == "counter":
            lines.append(f"{series_name(metric, labels)} {1000 + 5 * t:.3f}")
        else:  # histogram: uniform observations over the range, 10 per second
            count = int(10 * t) + 10
            bounds = [(b, (b - lo) / (hi - lo)) for b in buckets] or \
                     [(lo + (hi - lo) * k / 10, k / 10) for k in range(1, 11)]
            for le, share in bounds:  # the catalog's declared boundaries (as the client formats them), or tenths
                share = min(1.0, max(0.0, share))
                lines.append(f"{series_name(metric + '_bucket', {**labels, 'le': repr(le)})} {int(count * share)}")
            lines.append(f"{series_name(metric + '_bucket', {**labels, 'le': '+Inf'})} {count}")
            lines.append(f"{series_name(metric + '_sum', labels)} {count * (lo + hi) / 2:.6f}")
            lines.append(f"{series_name(metric + '_count', labels)} {count}")
    return "\n".join(lines) + "\n"


class Exporter:
    """A /metrics endpoint on 127.0.0.1 serving ``plan``; values move with time (counters increase)."""

    def __init__(self, plan):
        self.plan = plan
        self.start = time.monotonic()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                body = exposition(exporter.plan, time.monotonic() - exporter.start).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    """The Debian ``prometheus`` binary on 127.0.0.1 with a temp config and storage."""

    def __init__(self, workdir: Path, scrape_port: int, rule_files: list[Path]):
        self.binary = shutil.which("prometheus")
        self.workdir = workdir
        self.port = free_port()
        cfg = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [{"job_name": "mlmon-exporter",
                                "static_configs": [{"targets": [f"127.0.0.1:{scrape_port}"]}]}],
        }
        self.config = workdir / "prometheus.yml"
        self.config.write_text(json.dumps(cfg))  # JSON is YAML
        self.proc = None
        self.log = workdir / "prometheus.log"

    def __enter__(self):
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [self.binary, f"--config.file={self.config}", f"--storage.tsdb.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=self.workdir)
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def api(self, path: str, **params) -> dict:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        data = urllib.parse.urlencode(params, doseq=True).encode()
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as exc:  # 400/422 carry the error as JSON
            return json.loads(exc.read() or b"{}") or {"status": "error", "error": str(exc)}

    def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready after {timeout}s: {self.log.read_text()[-2000:]}")

    def wait_for(self, expr: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        r = {}
        while time.monotonic() < deadline:
            r = self.api("query", query=expr)
            if r.get("status") == "success" and r["data"]["result"]:
                return r
            time.sleep(0.3)
        raise AssertionError(f"no data for {expr} after {timeout}s: {r}")


def env_with_repo() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env
