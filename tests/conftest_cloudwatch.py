"""Shared helpers for the CloudWatch tests: catalogs on disk, rendering, and a moto server on 127.0.0.1."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "tests" / "fixtures" / "seeds" / "alerts"

# One CloudWatch service using every monitor kind CloudWatch can express.
ALL_KINDS = textwrap.dedent("""\
    service: cw-kinds
    title: CW Kinds
    team: ml-platform
    source:
      type: cloudwatch
      namespace: Test/Kinds
      region: eu-west-1
      dimensions: {Stage: live}
      env_suffix: true
      composite_severity: page
    routing:
      page: kinds-pager
    metrics:
      score:
        range: [0, 1]
        cloudwatch: {name: ModelScore, dimensions: {Model: v2}, unit: None}
      degraded: {range: [0, 1]}
      failures_total: {type: counter}
      requests_total: {type: counter}
      queue_depth: {}
      processed_total: {type: counter}
      latency_ms:
        type: histogram
        unit: milliseconds
        cloudwatch: {period: 30s, unit: Milliseconds}
      heartbeat: {}
    monitors:
      - name: ScoreLow
        kind: threshold
        metric: score
        matchers: {Tenant: acme}
        op: below
        smoothing: {function: quantile, quantile: 0.1, window: 10m}
        levels:
          - {alert: ScoreLowWarning, threshold: 0.7, for: 20m, severity: warning}
          - {alert: ScoreLowCritical, threshold: 0.5, for: 10m, severity: critical,
             overrides: {dev: {enabled: false}}}
        cloudwatch:
          anomaly_band: {alert: ScoreAnomalous, width: 3, for: 30m, severity: ticket}
      - name: ModelDegraded
        kind: flag
        metric: degraded
        severity: page
        for: 5m
      - name: ScoreFalling
        kind: trend
        metric: score
        window: 6h
        per: hour
        threshold: -0.01
        for: 30m
        severity: warning
        cloudwatch: {treat_missing_data: ignore}
      - name: FailuresSeen
        kind: failures
        metric: failures_total
        window: 15m
        severity: page
      - name: FailureRate
        kind: threshold
        metric: failures_total
        smoothing: {function: rate, window: 5m}
        threshold: 0.5
        for: 10m
        severity: ticket
      - name: QueueStalled
        kind: stalled
        backlog: queue_depth
        progress: processed_total
        window: 30m
        severity: page
      - name: Success
        kind: ratio
        bad: failures_total
        total: [requests_total, failures_total]
        threshold: 0.99
        period: 30d
      - name: LatencyHigh
        kind: latency
        histogram: latency_ms
        quantile: 0.99
        window: 5m
        threshold: 2
        for: 5m
        severity: warning
      - name: HeartbeatMissing
        kind: absent
        metric: heartbeat
        severity: critical
    """)

DEFAULTS = "environments: [dev, staging, prod]\n"


def write_catalog(tmp_path: Path, files: dict[str, str]) -> Path:
    d = tmp_path / "alerts"
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / name).write_text(text)
    return d


def kinds_catalog(tmp_path: Path):
    from generators.loader import load_catalog

    return load_catalog(write_catalog(tmp_path, {"_defaults.yaml": DEFAULTS, "cw-kinds.yaml": ALL_KINDS}))


def seed_catalog():
    from generators.loader import load_catalog

    return load_catalog(CATALOG)


def cloudwatch_files(catalog, env: str) -> dict[str, dict]:
    """service -> {"alarms", "composites", "dashboard", "topics"} as rendered (through JSON, as on disk)."""
    from generators.render import render

    out: dict[str, dict] = {}
    for a in render(catalog, env):
        if not a.path.startswith("cloudwatch/"):
            continue
        data = json.loads(a.serialize())
        name = a.path[len("cloudwatch/"):]
        for suffix, key in ((".composite.json", "composites"), (".dashboard.json", "dashboard"),
                            (".topics.json", "topics"), (".json", "alarms")):
            if name.endswith(suffix):
                out.setdefault(name[: -len(suffix)], {})[key] = data
                break
    return out


@pytest.fixture(scope="session")
def moto_endpoint():
    """A moto server on 127.0.0.1 (random port) for the whole session; stopped at the end."""
    pytest.importorskip("moto.server")
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.server import ThreadedMotoServer

    # moto 5.2 dispatches PutCompositeAlarm to a handler it never defined, although its put_metric_alarm
    # handler reads AlarmRule "to re-use this method for composite alarms as well" and describe_alarms
    # returns those as CompositeAlarms. Route the operation to that handler (the request still travels
    # over HTTP as a real PutCompositeAlarm call from boto3).
    if not hasattr(CloudWatchResponse, "put_composite_alarm"):
        CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        assert host == "127.0.0.1"
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def aws_clients(endpoint: str, region: str):
    import boto3

    kw = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
              aws_secret_access_key="testing")
    return boto3.client("cloudwatch", **kw), boto3.client("sns", **kw)
