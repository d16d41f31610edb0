"""List every remediation with what it does, the alerts that name it and the exact command that runs it
from its rendered template (`kubectl create job --from=cronjob/remediate-<name> ...`). With --jobs, also the
scheduled jobs and the command that starts a run now. Details: docs/remediations.md.
"""

from __future__ import annotations

import json

from . import EXIT_OK, check_env, check_services, load

HELP = "list remediations (and scheduled jobs) with the exact command an on-call engineer runs"


def add_arguments(p):
    p.add_argument("--service", action="append", metavar="NAME", help="only this service (repeatable)")
    p.add_argument("--env", help="environment whose rendered templates to describe (default: the catalog's first)")
    p.add_argument("--jobs", action="store_true", help="also list the scheduled jobs (monitors, evaluations, retraining)")
    p.add_argument("--format", choices=("text", "json"), default="text")


def what(rem) -> str:
    """One line a reviewer understands: what the action changes."""
    from ..jobs.model import HelmRollback, PatchConfigMap, Run, Scale, SetEnv, SsmCommand, TriggerJob

    if isinstance(rem, SsmCommand):
        params = f", parameters {', '.join(rem.parameters)}" if rem.parameters else ""
        return f"SSM Run Command: {len(rem.commands)} shell line(s) in {rem.working_directory or '/'}{params}"
    if isinstance(rem, HelmRollback):
        if rem.before_revision_matching:
            return f"helm rollback to the revision before the newest matching {rem.before_revision_matching!r}"
        return f"helm rollback to revision {rem.revision}" + (" (the previous one)" if rem.revision == 0 else "")
    if isinstance(rem, TriggerJob):
        return f"start a run of job {rem.job}"
    if isinstance(rem, Run):
        return "run " + " ".join([*rem.command, *rem.args])
    if isinstance(rem, SetEnv):
        return "set env " + " ".join(f"{k}={v}" for k, v in rem.env.items())
    if isinstance(rem, PatchConfigMap):
        text = f"patch configmap {rem.configmap}: " + ", ".join(f"{k}={v}" for k, v in rem.data.items())
        return text + (", then rollout restart" if rem.restart else "")
    if isinstance(rem, Scale):
        return f"scale to {rem.replicas} replicas"
    return rem.action.replace("-", " ")


def rows(catalog, env: str, services, with_jobs: bool) -> list[dict]:
    from ..kubernetes.commands import job_command, remediation_command
    from ..kubernetes.jobs import helm_release, linked_alerts
    from ..resolve import resolve
    from ..ssm.documents import document_name, send_command

    out = []
    for rs in resolve(catalog, env, services):
        w = rs.service.workload
        for rem in rs.service.remediations:
            target = (f"{w.kind.lower()}/{w.name}" if w else "") if hasattr(rem, "target") else ""
            if rem.action == "patch-configmap":
                target = f"configmap/{rem.configmap}"
            if rem.action == "helm-rollback":
                target = f"release/{helm_release(rs, rem)}"
            if rem.action == "ssm-command":
                hosts = rs.service.hosts
                where = ",".join(f"tag:{k}={v}" for k, v in hosts.tags.items()) if hosts.tags else \
                    ",".join(hosts.instance_ids)
                out.append({"service": rs.name, "namespace": rs.namespace, "kind": "remediation",
                            "name": rem.name, "action": rem.action, "target": f"ssm-document/{document_name(rs, rem)}",
                            "hosts": where, "what": what(rem), "description": rem.description,
                            "dry_run": rem.dry_run, "alerts": linked_alerts(rs, rem.name),
                            "command": send_command(rs, rem)})
                continue
            out.append({"service": rs.name, "namespace": rs.namespace, "kind": "remediation",
                        "name": rem.name, "action": rem.action, "target": target, "what": what(rem),
                        "description": rem.description,
                        "dry_run": rem.dry_run, "alerts": linked_alerts(rs, rem.name),
                        "command": remediation_command(rs, rem.name)})
        if with_jobs:
            for job in rs.service.jobs:
                if job.environments is not None and env not in job.environments:
                    continue
                out.append({"service": rs.name, "namespace": rs.namespace, "kind": "job", "name": job.name,
                            "action": job.purpose, "target": f"cronjob/{job.name}",
                            "what": ("manual only (suspended, no schedule)" if job.manual else
                                     f"{job.schedule}" + (f" ({job.time_zone})" if job.time_zone else "")
                                     + (" suspended" if job.suspend else "")),
                            "description": job.description, "dry_run": False, "alerts": [],
                            "command": job_command(rs, job.name)})
    return out


def run(args) -> int:
    catalog = load(args)
    env = check_env(catalog, args.env)[0]
    services = check_services(catalog, args.service)
    data = rows(catalog, env, services, args.jobs)
    if args.format == "json":
        print(json.dumps(data, indent=2))
        return EXIT_OK
    if not data:
        print("no remediations" + (" or scheduled jobs" if args.jobs else "") + " in the selected services")
        return EXIT_OK
    current = None
    for r in data:
        if r["service"] != current:
            current = r["service"]
            where = f"namespace {r['namespace']}" if r["namespace"] else f"EC2 {r.get('hosts', '')}".rstrip()
            print(f"{current} ({where}, env {env})")
        flag = " [dry-run]" if r["dry_run"] else ""
        print(f"  {r['name']}  {r['action']}{flag}  {r['target']}".rstrip())
        print(f"    {r['what']}" + (f" - {r['description']}" if r["description"] else ""))
        if r["alerts"]:
            print(f"    alerts: {', '.join(r['alerts'])}")
        print(f"    $ {r['command']}")
    return EXIT_OK
