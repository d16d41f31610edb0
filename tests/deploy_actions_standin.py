"""Test-only stand-in for ``generators.cloudwatch.actions.resolve_actions`` (issue 4 provides the real one).

Installed by ``conftest_deploy.ensure_resolve_actions`` ONLY when the real module is absent, so the deploy
tests can exercise alarm-action wiring before the CloudWatch generator lands. Contract (issue 4): return a
copy of a PutMetricAlarm/PutCompositeAlarm body whose AlarmActions/OKActions/InsufficientDataActions topic
names are replaced by the ARNs in ``arn_by_topic``; an unknown topic name is an error.
"""

ACTION_KEYS = ("AlarmActions", "OKActions", "InsufficientDataActions")


def resolve_actions(body: dict, arn_by_topic: dict) -> dict:
    out = dict(body)
    for key in ACTION_KEYS:
        if key in body:
            missing = [n for n in body[key] if n not in arn_by_topic]
            if missing:
                raise KeyError(f"{body.get('AlarmName')}: {key} names unknown topic(s) {missing}")
            out[key] = [arn_by_topic[n] for n in body[key]]
    return out
