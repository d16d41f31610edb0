"""CloudWatch panels (generated for CloudWatch-sourced services, and the hand-written "BoltIT Pilot") are
GetMetricData queries CloudWatch accepts: botocore's service model validates every query, metric math only
references queries of the same panel, and plain statistics return the data moto was given."""

from __future__ import annotations

import datetime
import re

import pytest

from generators.grafana.checks import iter_panels
from generators.loader import load_catalog
from generators.render import render

from conftest_grafana import SEEDS

boto3 = pytest.importorskip("boto3")

STAT = re.compile(r"^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?)$")
ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


def panels_with_cloudwatch():
    catalog = load_catalog(SEEDS / "alerts")
    out = []
    for a in render(catalog, "prod"):
        if a.path.startswith("grafana/"):
            for p in iter_panels(a.content["panels"]):
                ts = [t for t in p.get("targets", []) if t.get("datasource", {}).get("type") == "cloudwatch"]
                if ts:
                    out.append((a.path, p, ts))
    return out


def metric_data_queries(targets):
    qs = []
    for t in targets:
        if t.get("expression"):
            qs.append({"Id": t["id"], "Expression": t["expression"], "ReturnData": not t.get("hide", False)})
        else:
            dims = [{"Name": k, "Value": v} for k, v in sorted(t.get("dimensions", {}).items())]
            qs.append({"Id": t["id"], "ReturnData": not t.get("hide", False),
                       "MetricStat": {"Metric": {"Namespace": t["namespace"], "MetricName": t["metricName"],
                                                 "Dimensions": dims},
                                      "Period": int(t["period"]), "Stat": t["statistic"]}})
    return qs


def test_cloudwatch_targets_are_valid_get_metric_data_queries():
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    op = get_session().get_service_model("cloudwatch").operation_model("GetMetricData")
    found = panels_with_cloudwatch()
    files = {f for f, _, _ in found}
    assert {"grafana/boltit-pilot.json", "grafana/mlmon-boltit-pilot.json"} <= files
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    for f, p, targets in found:
        qs = metric_data_queries(targets)
        report = ParamValidator().validate({"MetricDataQueries": qs, "StartTime": now - datetime.timedelta(hours=1),
                                            "EndTime": now}, op.input_shape)
        assert not report.has_errors(), (f, p["title"], report.generate_report())
        ids = [q["Id"] for q in qs]
        assert len(ids) == len(set(ids)) and all(ID.match(i) for i in ids), (f, p["title"], ids)
        for q in qs:
            if "Expression" in q:
                refs = set(re.findall(r"\b[a-z][a-zA-Z0-9_]*\b", q["Expression"]))
                assert refs <= set(ids), (f, p["title"], q["Expression"])
            else:
                assert STAT.match(q["MetricStat"]["Stat"]), q
                assert q["MetricStat"]["Metric"]["Namespace"] == "BoltIT/Pilot"


def test_plain_statistics_return_data_from_moto():
    moto = pytest.importorskip("moto")
    found = panels_with_cloudwatch()
    with moto.mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        names = {t["metricName"] for _, _, ts in found for t in ts if t.get("metricName")}
        for name in sorted(names):
            cw.put_metric_data(Namespace="BoltIT/Pilot", MetricData=[
                {"MetricName": name, "Value": 0.5 + i / 100, "Timestamp": now - datetime.timedelta(minutes=i)}
                for i in range(30)])
        checked = 0
        for f, p, targets in found:
            for q in metric_data_queries(targets):
                if "MetricStat" not in q or q["MetricStat"]["Stat"].startswith("p"):
                    continue  # moto evaluates neither metric math nor percentiles
                q["ReturnData"] = True
                r = cw.get_metric_data(MetricDataQueries=[q], StartTime=now - datetime.timedelta(hours=2),
                                       EndTime=now + datetime.timedelta(minutes=1))
                assert r["MetricDataResults"][0]["Values"], (f, p["title"], q)
                checked += 1
        assert checked >= 6
