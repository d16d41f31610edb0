"""Kubernetes objects of scheduled jobs and remediations (CronJobs, ServiceAccounts, Roles, RoleBindings), the
commands an on-call engineer runs, and the checks of every rendered manifest (kubernetes-validate strict,
the PrometheusRule CRD schema, mlmon's least-privilege and restricted-pod policy).

- :mod:`.jobs`: ``fn(rs) -> [manifest]`` generators registered in ``generators.render.KUBERNETES_GENERATORS``;
- :mod:`.commands`: the exact ``kubectl`` command of each remediation and job, and the alert annotation;
- :mod:`.policy`: least privilege and restricted pods, as a checker of any manifest;
- :mod:`.validate`: schema validation, registered in ``generators.verify.STEPS``.
"""
