"""Jobs and remediations are consistent: known remediations, targets and jobs; no literal secrets.

Monitors name existing remediations; remediations act on the service's declared workload and on its own
scheduled jobs; no literal value under a secret-looking name; a namespace to run in; no two CronJobs with
the same name in one namespace."""

from ..jobs.model import (KUBERNETES_ACTIONS, WORKLOAD_ACTIONS, PatchConfigMap, Run, Scale, TriggerJob,
                          secret_looking, template_name)


def _repository(image: str) -> str:
    """``registry/name`` of an image reference, without its tag or digest."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return (head + "/" if head else "") + last.split(":", 1)[0]


def _image_drift(src, svc):
    """Jobs and run remediations of one service that pin different tags of the same image: the remediation
    would run other code than the job (e.g. a rollback script older than the monitor that found the fault)."""
    seen: dict[str, tuple[str, tuple]] = {}
    items = [(("jobs", i, "image"), j.image) for i, j in enumerate(svc.jobs)]
    items += [(("remediations", i, "image"), r.image) for i, r in enumerate(svc.remediations) if isinstance(r, Run)]
    for path, image in items:
        repo = _repository(image)
        if repo in seen and seen[repo][0] != image:
            first, where = seen[repo]
            yield src.problem(path, f"{image} and {first} ({where[0]}[{where[1]}].image) are two versions of one "
                                    "image: jobs and remediations of a service run the same release; pin one tag")
        seen.setdefault(repo, (image, path))


def _secret_literals(env, path):
    for name, value in env.items():
        literal = value if isinstance(value, str) else value.value
        if literal is not None and secret_looking(name):
            yield path + (name,), (f"{name} looks like a secret but has a literal value in the catalog; "
                                   "reference a Secret instead: {secret: {name: <secret>, key: <key>}}")


def _merged_resources(src, svc, base):
    """A job's or remediation's own requests and limits, completed from ``jobs.resources`` of _defaults.yaml, are
    still consistent (a 4Gi request under the default 1Gi limit would only fail when rendering)."""
    from pydantic import ValidationError

    items = [(("jobs", i, "resources"), j.resources) for i, j in enumerate(svc.jobs)]
    items += [(("remediations", i, "resources"), r.resources) for i, r in enumerate(svc.remediations)
              if getattr(r, "resources", None) is not None]
    for path, res in items:
        try:
            res.merged(base)
        except ValidationError as exc:
            why = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors(include_url=False))
            yield src.problem(path, f"{why}, with the keys not given here taken from jobs.resources of "
                                    "_defaults.yaml: give the limit too")


def check(ctx):
    cronjobs: dict[tuple[str, str], str] = {}  # (namespace, CronJob name) -> where it is declared
    for src, svc in ctx.services:
        yield from _merged_resources(src, svc, ctx.defaults.jobs.resources)
        names = [r.name for r in svc.remediations]
        jobs = [j.name for j in svc.jobs]
        yield from _image_drift(src, svc)
        kube_rems = [r for r in svc.remediations if r.action in KUBERNETES_ACTIONS]
        if (svc.jobs or kube_rems) and not svc.namespace:
            what = "jobs" if svc.jobs else "remediations"
            yield src.problem((what,), "scheduled jobs and remediations run in the service's Kubernetes namespace: "
                                       "set `namespace:` (a service without one has no Kubernetes objects)")
        for i, job in enumerate(svc.jobs):
            if jobs.index(job.name) != i:
                yield src.problem(("jobs", i, "name"), f"job {job.name!r} is declared twice")
            yield from (src.problem(p, m) for p, m in _secret_literals(job.env, ("jobs", i, "env")))
            for k, env in enumerate(job.environments or ()):
                if env not in ctx.defaults.environments:
                    yield src.problem(("jobs", i, "environments", k), "unknown environment; expected one of "
                                                                      f"{', '.join(ctx.defaults.environments)}")
            _register = (svc.namespace, job.name)
            if svc.namespace and _register in cronjobs:
                yield src.problem(("jobs", i, "name"), f"CronJob {job.name!r} already exists in namespace "
                                                       f"{svc.namespace!r} ({cronjobs[_register]})")
            cronjobs.setdefault(_register, f"{src.rel}: jobs[{i}]")
        for i, rem in enumerate(svc.remediations):
            base = ("remediations", i)
            if names.index(rem.name) != i:
                yield src.problem(base + ("name",), f"remediation {rem.name!r} is declared twice")
            if rem.action == "ssm-command":
                if svc.hosts is None:
                    yield src.problem(base + ("action",), "an ssm-command runs on the service's EC2 instances: "
                                                          "declare them under `hosts:` ({tags: {...}} or {instance_ids: [...]})")
                doc = f"{svc.service}-{rem.name}-{max(ctx.defaults.environments, key=len)}"
                if len(doc) > 128 or svc.service.lower().startswith(("aws", "amazon", "amzn")):
                    yield src.problem(base + ("name",), f"SSM document name {doc!r} must be 3-128 characters and not "
                                                        "start with aws, amazon or amzn")
                continue
            key = (svc.namespace, template_name(rem.name))
            if svc.namespace and key in cronjobs:
                yield src.problem(base + ("name",), f"CronJob {key[1]!r} already exists in namespace "
                                                    f"{svc.namespace!r} ({cronjobs[key]})")
            cronjobs.setdefault(key, f"{src.rel}: remediations[{i}]")
            if isinstance(rem, WORKLOAD_ACTIONS) and not (isinstance(rem, PatchConfigMap) and not rem.restart):
                yield from _target_problems(src, svc, rem, base)
            if isinstance(rem, Scale) and svc.workload and svc.workload.kind == "DaemonSet":
                yield src.problem(base + ("action",), "a DaemonSet cannot be scaled (it runs one pod per node)")
            if isinstance(rem, TriggerJob) and rem.job not in jobs:
                yield src.problem(base + ("job",), f"unknown scheduled job {rem.job!r}; this service's jobs: "
                                                   f"{', '.join(jobs) or 'none (declare it under `jobs:`)'}")
            elif isinstance(rem, TriggerJob) and svc.jobs[jobs.index(rem.job)].environments is not None:
                yield src.problem(base + ("job",), f"job {rem.job!r} is only rendered in some environments "
                                                   "(`environments:`); a remediation exists in all of them")
            if hasattr(rem, "env"):  # set-env values and run env
                yield from (src.problem(p, m) for p, m in _secret_literals(rem.env, base + ("env",)))
            if isinstance(rem, PatchConfigMap):
                for k in rem.data:
                    if secret_looking(k):
                        yield src.problem(base + ("data", k), f"{k} looks like a secret; ConfigMaps are readable by "
                                                              "anyone who can read the namespace: keep it in a Secret")
        for i, mon in enumerate(svc.monitors):
            lists = [(("monitors", i, "remediations"), mon.remediations)]
            lists += [(("monitors", i, "levels", k, "remediations"), lvl.remediations or ())
                      for k, lvl in enumerate(mon.levels)]
            for path, listed in lists:
                for j, name in enumerate(listed):
                    if name not in names:
                        yield src.problem(path + (j,),
                                          f"unknown remediation {name!r}; this service's remediations: "
                                          f"{', '.join(names) or 'none (declare it under `remediations:`)'}")


def _target_problems(src, svc, rem, base):
    workload = svc.workload
    if workload is None:
        where = base + (("target",) if rem.target else ("action",))
        yield src.problem(where, f"{rem.action} acts on a workload but the service declares none: "
                                 "set `workload: {kind: Deployment, name: ...}`")
    elif rem.target is not None and rem.target != workload.name:
        yield src.problem(base + ("target",), f"unknown target workload {rem.target!r}; the service's workload is "
                                              f"{workload.kind} {workload.name!r}")
