"""resolve_actions: the deploy-time swap of SNS topic names for ARNs (shared with the Pulumi program)."""

import pytest

from generators.cloudwatch.actions import resolve_actions

BODY = {"AlarmName": "svc-A", "AlarmActions": ["svc-page"], "OKActions": ["svc-page"],
        "InsufficientDataActions": ["svc-ticket"], "Threshold": 1.0}
ARNS = {"svc-page": "arn:aws:sns:us-east-1:111122223333:svc-page",
        "svc-ticket": "arn:aws:sns:us-east-1:111122223333:svc-ticket"}


def test_replaces_every_action_field_and_leaves_the_input_alone():
    out = resolve_actions(BODY, ARNS)
    assert out["AlarmActions"] == out["OKActions"] == [ARNS["svc-page"]]
    assert out["InsufficientDataActions"] == [ARNS["svc-ticket"]]
    assert out["Threshold"] == 1.0
    assert BODY["AlarmActions"] == ["svc-page"]  # a copy, not an in-place edit


def test_arns_pass_through_so_resolving_twice_is_harmless():
    once = resolve_actions(BODY, ARNS)
    assert resolve_actions(once, {}) == once


def test_unknown_topic_is_a_value_error_naming_the_alarm():
    with pytest.raises(ValueError, match=r"alarm svc-A: AlarmActions names SNS topic 'svc-page', which has no ARN"):
        resolve_actions(BODY, {"svc-ticket": ARNS["svc-ticket"]})


def test_bodies_without_actions_are_unchanged():
    body = {"AlarmName": "svc-B", "AlarmRule": 'ALARM("svc-A")'}
    assert resolve_actions(body, {}) == body


def test_non_list_actions_are_rejected():
    with pytest.raises(ValueError, match="svc-C: OKActions must be a list"):
        resolve_actions({"AlarmName": "svc-C", "OKActions": "svc-page"}, ARNS)
