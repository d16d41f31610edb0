"""CloudWatch output: metric alarms, composite alarms, a dashboard and the SNS topics they notify.

For services whose ``source.type`` is ``cloudwatch``, :func:`.files.files` renders

- ``cloudwatch/<service>.json``: ``PutMetricAlarm`` request bodies (boto3 parameter names);
- ``cloudwatch/<service>.composite.json``: ``PutCompositeAlarm`` bodies (children before parents);
- ``cloudwatch/<service>.dashboard.json``: the ``PutDashboard`` body;
- ``cloudwatch/<service>.topics.json``: the SNS topics (``{"Name", "Severity"}``) the actions name.

Actions carry topic NAMES; :func:`generators.cloudwatch.actions.resolve_actions` swaps in ARNs at deploy
time. Everything here is pure (model in, dicts out) and imports nothing from boto3/botocore.
"""
