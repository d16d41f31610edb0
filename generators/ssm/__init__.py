"""SSM Run Command documents for remediations of services on EC2 (seed 002), and what on-call needs to run them.

For a service with ``ssm-command`` remediations (and ``hosts:``), :func:`.documents.files` renders

- ``ssm/<service>.json``: JSON list of ``CreateDocument`` request bodies (boto3 parameter names): one
  ``Command`` document per remediation, schemaVersion 2.2, one ``aws:runShellScript`` step; ``Content`` is
  the document as a JSON string (pretty-printed, so ``jq -r '.[0].Content'`` reads like the runbook);
- ``ssm/<service>.policy.json``: the least-privilege IAM policy on-call needs to run exactly these documents
  on exactly these hosts and read their output (no ``*`` action or resource).

:func:`.documents.send_command` is the exact ``aws ssm send-command`` line for each remediation: ``mlmon remediations``
prints it, alerts and alarm descriptions carry it. The Pulumi program deploys the documents (and the
policy) from these same artifacts. Pure: model in, dicts out; no AWS calls.
"""
