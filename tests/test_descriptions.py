"""Descriptions read the alert's value in the unit of its threshold (each kind's `value` facet), and expressions are
written as readable YAML blocks. The annotations are checked by promtool in the generated tests of the fixtures
(tests/test_kinds.py, tests/test_prometheus.py: `exp_annotations` are rendered by generators/templating.py and
compared with Prometheus' own template functions)."""

from __future__ import annotations

import pytest
import yaml

from conftest_seeds import rules
from generators.templating import humanize, humanize1024, humanize_duration, render, unsupported


@pytest.mark.parametrize("value,text", [(5.475, "5.475s"), (90, "1m 30s"), (0.25, "250ms"), (0, "0s"),
                                        (86400 + 3661, "1d 1h 1m 1s"), (7200, "2h 0m 0s"), (-1.5, "-1.5s"),
                                        (0.000123, "123us")])
def test_humanize_duration_as_prometheus_prints_it(value, text):
    assert humanize_duration(value) == text


@pytest.mark.parametrize("value,text", [(1024, "1ki"), (1.5 * 2 ** 30, "1.5Gi"), (512, "512"), (0.5, "0.5")])
def test_humanize1024(value, text):
    assert humanize1024(value) == text


def test_printf_and_unsupported_actions():
    assert render('{{ printf "%.4g" $value }}', 0.7361, {}) == "0.7361"
    assert render('{{ printf "%.4g" $value }}', 0.73612, {}) == "0.7361"
    assert unsupported('{{ printf "%.4g" $value }} {{ $value | humanizeDuration }}') == []
    assert unsupported("{{ $value | title }}") == ["{{ $value | title }}"]
    assert humanize(5475) == "5.475k"  # what the latency description used to say against a threshold in s


def test_seed_descriptions_are_in_the_thresholds_unit():
    r = rules("rl-feedback-loop")
    latency = r["RLFeedbackBatchLatencyHigh"]
    # the p95 of a histogram in milliseconds against 5 s: compared and printed in seconds
    assert latency["expr"].endswith(") / 1000 > 5")
    assert latency["annotations"]["description"].startswith("Current value {{ $value | humanizeDuration }}; fires "
                                                             "when p95 of rl_feedback_processing_latency_ms over 10m > 5s")
    rag = rules("rag-enterprise-pipeline")
    ratio = rag["RAGPipelineHighErrorRate"]["annotations"]["description"]
    assert ratio.startswith("Current value {{ $value | humanizePercentage }}; ") and "> 0.01 (1%)" in ratio
    gemma = rules("function-gemma-agent")["ReasoningDriftHigh"]["annotations"]["description"]
    assert 'Current value {{ printf "%.4g" $value }}; fires when agent_reasoning_quality_score < 0.7' in gemma


def test_rendered_values_read_like_the_threshold():
    from conftest_seeds import rendered
    tests = rendered("prod")["prometheus/rl-feedback-loop.tests.yaml"]
    descs = [a["exp_annotations"]["description"] for t in tests["tests"] for c in t["alert_rule_test"]
             for a in c["exp_alerts"] if a["exp_annotations"]["summary"].startswith("p95 RL feedback batch")]
    assert descs and all(d.startswith("Current value 5.") and d.split(";")[0].endswith("s") for d in descs), descs
    assert not any("k;" in d for d in descs)


def test_expressions_with_trailing_spaces_are_block_scalars():
    from conftest import ROOT
    text = (ROOT / "tests" / "golden" / "kinds" / "prod" / "prometheus" / "kinds.rules.yaml").read_text()
    assert "expr: |-\n      sum by (model) (rate(errors_total[5m]))\n        > 3\n" in text
    for line in text.splitlines():
        assert not (line.lstrip().startswith("expr: \"") and "\\n" in line), line
    assert yaml.safe_load(text)  # and it still reads back
