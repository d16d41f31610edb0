"""Resolve SNS topic names in alarm actions to ARNs, at deploy time.

Rendered bodies name topics (``"boltit-ml-warning"``), because ARNs hold the AWS account id, which the
catalog does not know. The Pulumi program creates the topics listed in ``<service>.topics.json``, then
passes every alarm body through :func:`resolve_actions` with the ARNs it got back. Tests do the same
against a moto server. Pure: no AWS calls here.
"""

from __future__ import annotations

import copy

ACTION_FIELDS = ("AlarmActions", "OKActions", "InsufficientDataActions")


def resolve_actions(body: dict, arn_by_topic: dict[str, str]) -> dict:
    """A deep copy of ``body`` (a PutMetricAlarm or PutCompositeAlarm body) with every topic name in
    AlarmActions, OKActions and InsufficientDataActions replaced by ``arn_by_topic[name]``.

    Entries that already are ARNs (``arn:...``) are kept, so resolving twice is harmless. A name missing
    from ``arn_by_topic`` raises ValueError naming the alarm, the field and the topic.
    """
    out = copy.deepcopy(body)
    name = body.get("AlarmName", "<unnamed alarm>")
    for field in ACTION_FIELDS:
        if field not in out:
            continue
        actions = out[field]
        if not isinstance(actions, list):
            raise ValueError(f"alarm {name}: {field} must be a list of SNS topic names, got {actions!r}")
        resolved = []
        for action in actions:
            if not isinstance(action, str):
                raise ValueError(f"alarm {name}: {field} holds {action!r}, not a topic name")
            if action.startswith("arn:"):
                resolved.append(action)
            elif action in arn_by_topic:
                resolved.append(arn_by_topic[action])
            else:
                known = ", ".join(sorted(arn_by_topic)) or "none"
                raise ValueError(f"alarm {name}: {field} names SNS topic {action!r}, which has no ARN "
                                 f"(topics known: {known})")
        out[field] = resolved
    return out
