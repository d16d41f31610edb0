"""Kubernetes objects of scheduled jobs and remediations (CronJobs, ServiceAccounts, Roles, RoleBindings), the
commands an on-call engineer runs, and the checks of every rendered manifest (kubernetes-validate strict,
the PrometheusRule CRD schema, mlmon's least-privilege and restricted-pod policy).

- :mod:`.jobs`: ``fn(rs) -> [manifest]`` generators listed in ``generators.render.KUBERNETES_GENERATORS``;
- :mod:`.commands`: the exact ``kubectl`` command of each remediation and job;
- :mod:`.policy`: least privilege and restricted pods, as a checker of any manifest;
- :mod:`.validate`, :mod:`.operator_models`: schema and typed-model validation, listed in ``generators.verify.STEPS``.
"""
