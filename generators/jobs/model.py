"""Catalog schema of scheduled jobs and remediations (the ``jobs:`` and ``remediations:`` of a service file).

A *scheduled job* is a monitor, evaluation, retraining or load test that runs on a cron schedule; it renders
as a ``batch/v1`` CronJob. A *remediation* is a typed, reviewed action an on-call engineer (or automation)
runs when an alert fires; it renders as a suspended CronJob template run with
``kubectl create job --from=cronjob/<template> <job-name>``, with its own least-privilege RBAC.

Every field is documented here and in ``docs/remediations.md``. Unknown keys are errors (``Strict``).
Cross-references (a monitor naming a remediation, a remediation naming its target workload or a
scheduled job, literal values under secret-looking names) are checked by :mod:`generators.checks.jobs`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from ..names import remediation_template_name
from ..types import DnsName, PositiveSeconds, Seconds, Strict

# ---------------------------------------------------------------------------------------------
# scalars

CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
"""The macros Kubernetes CronJobs accept besides five-field expressions (no ``@reboot``, no seconds)."""


def _schedule(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected a cron schedule string such as '0 3 * * *', got {v!r}")
    s = " ".join(v.split())
    if "TZ=" in s:
        raise ValueError("put the time zone in `time_zone`, not in the schedule (Kubernetes rejects TZ=/CRON_TZ=)")
    if s.startswith("@"):
        if s not in CRON_MACROS:
            raise ValueError(f"{v!r} is not a schedule macro Kubernetes accepts; use one of {', '.join(CRON_MACROS)}")
        return s
    fields = s.split(" ")
    if len(fields) != 5:
        raise ValueError(f"{v!r} has {len(fields)} fields; a Kubernetes CronJob schedule has 5 "
                         "(minute hour day-of-month month day-of-week) or is a macro like @daily")
    from croniter import croniter
    from croniter.croniter import CroniterError

    try:
        croniter(s)
    except (CroniterError, ValueError, KeyError) as exc:
        raise ValueError(f"{v!r} is not a valid cron schedule: {exc}") from None
    return s


Schedule = Annotated[str, BeforeValidator(_schedule)]
"""A five-field cron expression (``0 3 * * 0``) or a macro (``@daily``), validated with croniter."""


def _time_zone(v: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(v, str) or not re.fullmatch(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", v) or v == "Local":
        raise ValueError(f"{v!r} is not an IANA time zone name such as Europe/Berlin or Etc/UTC")
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{v!r} is not a known IANA time zone (e.g. Europe/Berlin, America/New_York, Etc/UTC)") from None
    return v


TimeZone = Annotated[str, BeforeValidator(_time_zone)]

_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(rf"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{_PATH_PART}(?:/{_PATH_PART})*"
                    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$")


def _image(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected a container image reference, got {v!r}")
    m = _IMAGE.fullmatch(v)
    if not m:
        raise ValueError(f"{v!r} is not a container image reference (registry/name:tag or name@sha256:...)")
    if not m.group("tag") and not m.group("digest"):
        raise ValueError(f"{v!r} has no tag: pin the image by version (name:1.2.3) or digest (name@sha256:...)")
    if m.group("tag") == "latest" and not m.group("digest"):
        raise ValueError(f"{v!r} uses the moving tag `latest`: pin the image by version or digest")
    return v


Image = Annotated[str, BeforeValidator(_image)]
"""A container image pinned by version tag or digest (never untagged, never ``latest``)."""

_QUANTITY = re.compile(r"^(?P<num>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?P<suffix>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_FACTORS = {None: 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def _quantity(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise ValueError(f"expected a Kubernetes quantity such as 500m, 2 or 1Gi, got {v!r}")
    s = str(v)
    if not _QUANTITY.fullmatch(s):
        raise ValueError(f"{s!r} is not a Kubernetes quantity (e.g. 250m or 2 for CPU, 512Mi or 4Gi for memory)")
    return s


Quantity = Annotated[str, BeforeValidator(_quantity)]


def quantity_value(q: str) -> float:
    """The numeric value of a quantity (``500m`` -> 0.5, ``1Gi`` -> 1073741824)."""
    m = _QUANTITY.fullmatch(q)
    assert m is not None
    return float(m.group("num")) * _FACTORS[m.group("suffix")]


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(v: Any) -> str:
    if not isinstance(v, str) or not _ENV_NAME.fullmatch(v):
        raise ValueError(f"{v!r} is not an environment variable name (letters, digits, '_'; not starting with a digit)")
    return v


EnvVarName = Annotated[str, BeforeValidator(_env_name)]


def _text(v: Any) -> Any:
    """YAML scalars as the string a container sees: ``true`` -> "true", ``0.65`` -> "0.65"."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return v


Text = Annotated[str, BeforeValidator(_text)]

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _subdomain(v: Any) -> str:
    if not isinstance(v, str) or len(v) > 253 or not _SUBDOMAIN.fullmatch(v):
        raise ValueError(f"{v!r} is not a Kubernetes object name (lower-case letters, digits, '-' and '.')")
    return v


ObjectName = Annotated[str, BeforeValidator(_subdomain)]

_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _config_key(v: Any) -> str:
    if not isinstance(v, str) or not _CONFIG_KEY.fullmatch(v) or len(v) > 253:
        raise ValueError(f"{v!r} is not a ConfigMap/Secret key (letters, digits, '-', '_', '.')")
    return v


ConfigKey = Annotated[str, BeforeValidator(_config_key)]

SECRET_NAME = re.compile(r"(^|_)(KEY|TOKEN|SECRET|SECRETS|CREDENTIAL|CREDENTIALS|APIKEY|DSN)$|PASSWORD|PASSWD|PASSPHRASE"
                         r"|PRIVATE_KEY|SECRET_|_SECRET")
"""Names whose values must never be written literally in the catalog (``*_KEY``, ``*_TOKEN``, ``*_SECRET``,
``*PASSWORD*``, ...): reference a Secret instead."""


def secret_looking(name: str) -> bool:
    return bool(SECRET_NAME.search(name.upper()))


# ---------------------------------------------------------------------------------------------
# environment, resources, API access


class KeyRef(Strict):
    """One key of a ConfigMap or Secret in the job's namespace."""

    name: ObjectName
    key: ConfigKey
    optional: bool = False
    """The container starts even when the key is missing."""


class EnvValue(Strict):
    """Exactly one of a literal ``value``, a ``config_map`` key or a ``secret`` key.

    Written as a bare scalar (``MLFLOW_URI: http://mlflow:5000``) for a literal value."""

    value: str | None = None
    config_map: KeyRef | None = None
    secret: KeyRef | None = None

    @model_validator(mode="after")
    def _exactly_one(self):
        given = [f for f in ("value", "config_map", "secret") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `value`, `config_map` ({name, key}) or `secret` ({name, key})")
        return self


def _env_value(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)):
        return {"value": _text(v)}
    if isinstance(v, dict) and "value" in v:
        return {**v, "value": _text(v["value"])}
    return v


EnvIn = Annotated[EnvValue, BeforeValidator(_env_value)]
Env = dict[EnvVarName, EnvIn]


class Amounts(Strict):
    cpu: Quantity | None = None
    memory: Quantity | None = None


class Resources(Strict):
    """Container requests and limits; keys left out come from ``Defaults.jobs`` (every container gets
    CPU and memory requests and limits)."""

    requests: Amounts = Field(default_factory=Amounts)
    limits: Amounts = Field(default_factory=Amounts)

    @model_validator(mode="after")
    def _requests_within_limits(self):
        for what in ("cpu", "memory"):
            req, lim = getattr(self.requests, what), getattr(self.limits, what)
            if req is not None and lim is not None and quantity_value(req) > quantity_value(lim):
                raise ValueError(f"{what} request {req} is above its limit {lim}")
        return self

    def merged(self, base: "Resources") -> "Resources":
        """These resources with every missing key taken from ``base``."""
        def pick(mine: Amounts, theirs: Amounts) -> Amounts:
            return Amounts(cpu=mine.cpu or theirs.cpu, memory=mine.memory or theirs.memory)

        return Resources(requests=pick(self.requests, base.requests), limits=pick(self.limits, base.limits))


Verb = Literal["get", "list", "watch", "create", "update", "patch", "delete"]
MUTATING_VERBS = ("create", "update", "patch", "delete")
UNSCOPABLE_VERBS = ("create",)
"""Kubernetes cannot restrict ``create`` by resourceNames (the new object's name is not known when the
request is authorized); every other mutating verb mlmon grants is scoped by resourceNames."""


def _resource(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"^[a-z][a-z0-9]*(/[a-z]+)?$", v):
        raise ValueError(f"{v!r} is not a resource name such as pods, deployments or deployments/scale "
                         "(wildcards are never granted)")
    return v


def _api_group(v: Any) -> str:
    if not isinstance(v, str) or (v and not _SUBDOMAIN.fullmatch(v)):
        raise ValueError(f"{v!r} is not an API group such as '' (core), apps or batch (wildcards are never granted)")
    return v


class Permission(Strict):
    """One RBAC rule of a job's Role: ``verbs`` on ``resource`` (in ``api_group``), limited to ``names``.

    Mutating verbs (update, patch, delete) need ``names``; ``create`` cannot be limited by name in
    Kubernetes and is granted unnamed. No wildcards, no ``deletecollection``, no listing of Secrets."""

    api_group: Annotated[str, BeforeValidator(_api_group)] = ""
    resource: Annotated[str, BeforeValidator(_resource)]
    verbs: tuple[Verb, ...] = Field(min_length=1)
    names: tuple[ObjectName, ...] = ()

    @model_validator(mode="after")
    def _scoped(self):
        unscoped = [v for v in self.verbs if v in MUTATING_VERBS and v not in UNSCOPABLE_VERBS]
        if unscoped and not self.names:
            raise ValueError(f"{', '.join(unscoped)} on {self.resource} must be limited to named objects: add `names`")
        if self.names and "create" in self.verbs:
            raise ValueError("`create` cannot be limited by name in Kubernetes; put it in a rule without `names`")
        if self.resource == "secrets" and (not self.names or {"list", "watch"} & set(self.verbs)):
            raise ValueError("Secrets may only be read by name (`get` with `names`); list/watch would expose them all")
        return self


# ---------------------------------------------------------------------------------------------
# catalog-wide settings (Defaults.jobs)


def _res(cpu_req: str, mem_req: str, cpu_lim: str, mem_lim: str) -> Resources:
    return Resources(requests=Amounts(cpu=cpu_req, memory=mem_req), limits=Amounts(cpu=cpu_lim, memory=mem_lim))


class JobDefaults(Strict):
    """Catalog-wide settings of scheduled jobs and remediation templates (``jobs:`` in ``_defaults.yaml``)."""

    helm_image: Image = "alpine/helm:3.16.4"
    """Image of ``helm-rollback`` remediations, pinned by exact version (or digest). Its entrypoint must be
    ``helm`` and it must have ``/bin/sh`` when a remediation uses ``before_revision_matching`` (alpine/helm
    is Alpine with busybox). Keep its minor version within Helm's skew policy for your clusters."""
    kubectl_image: Image = "registry.k8s.io/kubectl:v1.31.4"
    """Image of every remediation step that calls the Kubernetes API, pinned by version (or digest); its
    entrypoint must be ``kubectl`` (as in registry.k8s.io/kubectl, bitnami/kubectl, rancher/kubectl). Its minor
    version should be within one of the clusters' (kubectl's version-skew policy)."""
    resources: Resources = Field(default_factory=lambda: _res("100m", "256Mi", "1", "1Gi"))
    """Requests and limits of scheduled jobs and ``run`` remediations (per-job ``resources`` override keys)."""
    kubectl_resources: Resources = Field(default_factory=lambda: _res("50m", "64Mi", "500m", "256Mi"))
    """Requests and limits of the kubectl steps of remediations."""
    run_as_user: int = Field(default=65532, ge=10000)
    """UID (and GID) every container runs as; at least 10000 so it never collides with a host user."""
    tmp_size: Quantity = "256Mi"
    """Size limit of the emptyDir mounted at /tmp (the root filesystem is read-only)."""
    starting_deadline: PositiveSeconds = 600
    """``startingDeadlineSeconds``: a run that could not start within this is skipped, not run late."""
    deadline: PositiveSeconds = 3600
    """``activeDeadlineSeconds`` of a scheduled job's run (per-job ``deadline`` overrides)."""
    retries: int = Field(default=2, ge=0, le=10)
    """``backoffLimit``: how many times a failed run is retried."""
    ttl_after_finished: Seconds = 86400
    """``ttlSecondsAfterFinished``: finished Jobs (and their logs) are kept this long."""
    successful_history: int = Field(default=3, ge=0, le=20)
    failed_history: int = Field(default=3, ge=1, le=20)
    remediation_deadline: PositiveSeconds = 900
    """``activeDeadlineSeconds`` of a remediation run (including waiting for the rollout)."""
    remediation_wait: Seconds = 300
    """How long a remediation that changes a workload waits for its rollout (``kubectl rollout status``);
    a remediation's own ``wait`` overrides, ``0`` does not wait."""


# ---------------------------------------------------------------------------------------------
# scheduled jobs


def _len_limit(limit: int, why: str):
    def check(v: str) -> str:
        if isinstance(v, str) and len(v) > limit:
            raise ValueError(f"{v!r} is {len(v)} characters; at most {limit} ({why})")
        return v
    return check


def _abs_path(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"^/[A-Za-z0-9._/-]*$", v) or "/../" in v + "/" or "//" in v:
        raise ValueError(f"{v!r} is not an absolute path such as /app/reports")
    if v.rstrip("/") in ("", "/tmp") or v.startswith("/tmp/"):
        raise ValueError(f"{v!r}: /tmp is the job's scratch emptyDir; mount persistent data elsewhere")
    return v.rstrip("/") or "/"


AbsPath = Annotated[str, BeforeValidator(_abs_path)]


class VolumeMount(Strict):
    """A directory of a PersistentVolumeClaim (in the service's namespace) mounted into the job's container:
    where a job keeps what must outlive its pod (reports, annotation tasks). The root filesystem is read-only
    and /tmp is an emptyDir that dies with the pod."""

    claim: ObjectName
    """Name of an existing PersistentVolumeClaim (mlmon does not create it; see docs/remediations.md)."""
    mount_path: AbsPath
    sub_path: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")] | None = None
    """Directory inside the claim (default: its root)."""
    read_only: bool = False


class ScheduledJob(Strict):
    """A job on a cron schedule, rendered as a ``batch/v1`` CronJob named ``name`` in the service's namespace.

    Without ``schedule`` the job is manual only: a suspended CronJob that never fires, run with
    ``kubectl create job --from=cronjob/<name>`` (e.g. the second, human-in-the-loop phase of a workflow)."""

    name: DnsName
    """CronJob name, e.g. ``model-retraining`` (runbooks run ``kubectl create job --from=cronjob/<name>``)."""
    purpose: Literal["monitor", "evaluation", "retraining", "load-test", "maintenance"] = "monitor"
    """What it does (the ``app.kubernetes.io/component`` label)."""
    description: str = ""
    schedule: Schedule | None = None
    time_zone: TimeZone | None = None
    """IANA time zone of the schedule (``spec.timeZone``); default: the controller's (UTC on managed clusters)."""
    image: Image
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: Env = Field(default_factory=dict)
    """Literal values, ``config_map: {name, key}`` or ``secret: {name, key}``; a literal under a secret-looking
    name (``*_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*PASSWORD*``) is an error."""
    resources: Resources = Field(default_factory=Resources)
    deadline: Seconds | None = Field(default=None, gt=0)
    """Maximum run time (``activeDeadlineSeconds``); default ``Defaults.jobs.deadline``."""
    starting_deadline: Seconds | None = Field(default=None, gt=0)
    retries: int | None = Field(default=None, ge=0, le=10)
    ttl_after_finished: Seconds | None = None
    concurrency: Literal["Forbid", "Replace"] = "Forbid"
    """A run still going when the next is due: ``Forbid`` skips the new one, ``Replace`` stops the old one.
    (``Allow`` is not offered: overlapping retraining runs fight over the same model.)"""
    suspend: bool = False
    """Render the CronJob suspended (it then only runs via ``kubectl create job --from=cronjob/...``)."""
    api_access: tuple[Permission, ...] = ()
    """Kubernetes API access the job needs. Empty (the default): no Role, no API token in the pod."""
    tmp_size: Quantity | None = None
    volumes: tuple[VolumeMount, ...] = ()
    """Persistent directories (PersistentVolumeClaims) the job reads or writes."""
    working_dir: AbsPath | None = None
    """The container's working directory (``workingDir``; default: the image's WORKDIR)."""
    environments: tuple[DnsName, ...] | None = None
    """Render the job only in these environments (default: all), e.g. a load test only in staging."""

    _name_len = field_validator("name")(_len_limit(47, "a manual run `<name>-YYYYmmdd-HHMMSS` must fit in 63"))

    @model_validator(mode="after")
    def _manual_is_suspended(self):
        if self.schedule is None and not self.suspend:
            raise ValueError("a job without `schedule` only runs by hand: set `suspend: true` (or give a schedule)")
        if self.schedule is None and self.time_zone:
            raise ValueError("`time_zone` without `schedule`: a manual job has no schedule to place in a zone")
        paths = [v.mount_path for v in self.volumes]
        if len(set(paths)) != len(paths):
            raise ValueError("two volumes are mounted at the same mount_path")
        return self

    @property
    def manual(self) -> bool:
        return self.schedule is None

    @property
    def needs_api(self) -> bool:
        return bool(self.api_access)


# ---------------------------------------------------------------------------------------------
# remediations

ACTIONS = ("rollout-restart", "rollout-undo", "scale", "set-env", "patch-configmap", "trigger-job", "run",
           "helm-rollback", "ssm-command")
KUBERNETES_ACTIONS = ACTIONS[:-1]
"""Actions rendered as Kubernetes remediation templates; ``ssm-command`` runs on EC2 hosts through SSM."""


class RemediationBase(Strict):
    name: DnsName
    """Remediation name; monitors list it under ``remediations:``. The template is ``remediate-<name>``."""
    description: str = ""
    dry_run: bool = False
    """Rehearse: every mutating kubectl call gets ``--dry-run=server`` (the API server validates, admits and
    authorizes it, nothing is persisted); ``run`` actions get their ``dry_run_args``."""
    deadline: Seconds | None = Field(default=None, gt=0)
    """Maximum run time; default ``Defaults.jobs.remediation_deadline``."""

    _name_len = field_validator("name")(_len_limit(30, "`remediate-<name>-YYYYmmdd-HHMMSS-run` must fit in 63"))

    @property
    def needs_api(self) -> bool:
        return True


class _Targeted(RemediationBase):
    target: DnsName | None = None
    """The workload acted on; default: the service's ``workload``. Must be that workload."""
    wait: Seconds | None = None
    """Wait this long for the rollout to finish (default ``Defaults.jobs.remediation_wait``; ``0``: don't)."""


class RolloutRestart(_Targeted):
    """``kubectl rollout restart``: new pods with the same spec (reloads config, reinitializes state)."""

    action: Literal["rollout-restart"]


class RolloutUndo(_Targeted):
    """``kubectl rollout undo``: back to the previous (or ``to_revision``) pod template: a model or prompt rollback."""

    action: Literal["rollout-undo"]
    to_revision: int | None = Field(default=None, ge=1)


class Scale(_Targeted):
    """``kubectl scale --replicas``."""

    action: Literal["scale"]
    replicas: int = Field(ge=0, le=1000)


class SetEnv(_Targeted):
    """``kubectl set env``: set plain environment variables on the workload (a feature flag)."""

    action: Literal["set-env"]
    env: dict[EnvVarName, Text] = Field(min_length=1)
    container: DnsName | None = None
    """Only this container (default: all)."""


class PatchConfigMap(_Targeted):
    """``kubectl patch configmap --type=merge``: set keys of a ConfigMap, then optionally restart the workload."""

    action: Literal["patch-configmap"]
    configmap: ObjectName
    data: dict[ConfigKey, Text] = Field(min_length=1)
    restart: bool = False
    """Restart the target workload afterwards so it reads the new values."""


class TriggerJob(RemediationBase):
    """Start a run of one of the service's scheduled jobs now (``kubectl create job --from=cronjob/<job>``)."""

    action: Literal["trigger-job"]
    job: DnsName
    """Name of a scheduled job of this service."""


class Run(RemediationBase):
    """A custom image and command (e.g. a model-promotion rollback script)."""

    action: Literal["run"]
    image: Image
    command: tuple[str, ...] = Field(min_length=1)
    args: tuple[str, ...] = ()
    env: Env = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    dry_run_args: tuple[str, ...] = ()
    """Arguments appended when ``dry_run`` is set (what makes the command rehearse, e.g. ``[--dry-run]``)."""
    api_access: tuple[Permission, ...] = ()
    """Kubernetes API access the command needs; empty: no Role and no API token."""
    tmp_size: Quantity | None = None
    """Size of the emptyDir at /tmp (default ``Defaults.jobs.tmp_size``)."""

    @model_validator(mode="after")
    def _dry_run_needs_args(self):
        if self.dry_run and not self.dry_run_args:
            raise ValueError("`dry_run` on a run action needs `dry_run_args`: the arguments that make the command "
                             "rehearse without acting (e.g. [--dry-run])")
        return self

    @property
    def needs_api(self) -> bool:
        return bool(self.api_access)


class ChartObject(Strict):
    """One object of a Helm chart that ``helm rollback`` may patch back (``{api_group, resource, name}``)."""

    api_group: Annotated[str, BeforeValidator(_api_group)] = ""
    resource: Annotated[str, BeforeValidator(_resource)]
    name: ObjectName


class HelmRollback(_Targeted):
    """``helm rollback <release> <revision>``: back to an earlier Helm revision of the whole release (image,
    values, and the chart's ConfigMaps such as prompts), then wait for the workload's rollout.

    ``revision: 0`` (the default) is Helm's "previous revision". ``before_revision_matching`` instead rolls
    back to the revision just before the newest one whose ``helm history`` line contains that text (seed 000
    Option 1: ``helm history ... | grep "prompt-update"``, then roll back to the revision before it)."""

    action: Literal["helm-rollback"]
    release: DnsName | None = None
    """Helm release name (default: the workload's name)."""
    revision: int = Field(default=0, ge=0)
    before_revision_matching: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:=-]{0,62}$")] | None = None
    """Text searched in ``helm history`` (letters, digits, space, ``._:=-``; it is put in an awk pattern)."""
    chart_objects: tuple[ChartObject, ...] = Field(min_length=1)
    """Every object of the chart, by name: helm rollback reads and patches each back (get, patch). Helm
    cannot be given less; an object missing here makes the rollback fail with Forbidden, not half-apply."""
    history_limit: int = Field(default=100, ge=2, le=1000)
    """Highest release revision the Role names (``sh.helm.release.v1.<release>.v1`` .. ``v<limit>``): RBAC has
    no name prefixes, so Helm's per-revision Secrets are enumerated. Past it, the rollback fails Forbidden."""
    driver: Literal["secret", "configmap"] = "secret"
    """Helm's storage driver (``HELM_DRIVER``) the release was installed with."""

    @model_validator(mode="after")
    def _one_revision(self):
        if self.revision and self.before_revision_matching:
            raise ValueError("give `revision` or `before_revision_matching`, not both")
        return self


def _param_name(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"^[A-Za-z][A-Za-z0-9]{0,62}$", v):
        raise ValueError(f"{v!r} is not an SSM document parameter name (letters and digits, starting with a letter)")
    return v


class SsmParameter(Strict):
    """A parameter of an SSM Command document, given by on-call with ``--parameters Name=value``.

    Parameters reach the shell as the environment variable ``SSM_<Name>`` (``interpolationType: ENV_VAR``),
    never pasted into the command text, and must match ``pattern`` (SSM ``allowedPattern``)."""

    description: str = Field(min_length=1)
    pattern: str
    """Regular expression the whole value must match (anchor it: ``^...$``)."""
    default: str | None = None
    example: str | None = None
    """Value shown in the printed ``aws ssm send-command`` (default: ``<Name>``)."""

    @field_validator("pattern")
    @classmethod
    def _anchored(cls, v: str) -> str:
        if not (v.startswith("^") and v.endswith("$")):
            raise ValueError(f"{v!r} must be anchored (^...$): SSM matches allowedPattern anywhere in the value")
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"{v!r} is not a regular expression: {exc}") from None
        return v


_TAG_KEY = re.compile(r"^[A-Za-z0-9 _.:/=+@-]{1,128}$")
_INSTANCE = re.compile(r"^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$")


class Hosts(Strict):
    """``hosts:`` of a service that runs on EC2 (seed 002): the instances its ``ssm-command`` remediations run
    on, by tags (every tag must match) or by instance id. The same scope limits on-call's IAM policy."""

    tags: dict[str, str] = Field(default_factory=dict)
    instance_ids: tuple[str, ...] = ()
    output_log_group: Annotated[str, Field(pattern=r"^[.\-_/#A-Za-z0-9]{1,512}$")] | None = None
    """CloudWatch Logs group the commands' output goes to (default ``/mlmon/ssm/<service>``)."""

    @model_validator(mode="after")
    def _one_way(self):
        if bool(self.tags) == bool(self.instance_ids):
            raise ValueError("give exactly one of `tags` ({Key: value}) or `instance_ids` ([i-...])")
        for k, v in self.tags.items():
            if not _TAG_KEY.fullmatch(k) or k.lower().startswith("aws:") or not _TAG_KEY.fullmatch(v):
                raise ValueError(f"{k}={v} is not an EC2 tag (1-128 letters, digits, spaces, _.:/=+-@; no aws: keys)")
        bad = [i for i in self.instance_ids if not _INSTANCE.fullmatch(i)]
        if bad:
            raise ValueError(f"{', '.join(bad)}: not EC2 instance ids (i- and 8 or 17 hex digits)")
        if len(self.tags) > 5 or len(self.instance_ids) > 50:
            raise ValueError("SSM targets at most 5 tags or 50 instance ids")
        return self


class SsmCommand(RemediationBase):
    """A shell script run on the service's EC2 hosts by SSM Run Command (an ``aws:runShellScript`` Command
    document, rendered to ``ssm/<service>.json``), for services that do not run on Kubernetes (seed 002)."""

    action: Literal["ssm-command"]
    commands: tuple[str, ...] = Field(min_length=1)
    """Shell lines, run in order by ``/bin/sh`` with ``set -eu``: the first failing line stops the document."""
    working_directory: str | None = None
    parameters: dict[Annotated[str, BeforeValidator(_param_name)], SsmParameter] = Field(default_factory=dict)
    timeout: Seconds = Field(default=900, ge=1, le=172800)
    """``timeoutSeconds`` of the script (SSM's limit is 48h)."""

    @model_validator(mode="after")
    def _no_dry_run(self):
        if self.dry_run:
            raise ValueError("`dry_run` is not offered for ssm-command (a shell script has no generic rehearsal): "
                             "write the rehearsal as its own remediation")
        return self

    @property
    def needs_api(self) -> bool:
        return False


class _UnknownAction(Strict):
    """Only reached for a missing or unknown ``action``: reports it at ``remediations[i].action``."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    action: Literal["rollout-restart", "rollout-undo", "scale", "set-env", "patch-configmap", "trigger-job", "run",
                    "helm-rollback", "ssm-command"]


def _action_tag(v: Any) -> str:
    action = v.get("action") if isinstance(v, dict) else getattr(v, "action", None)
    # tags are not field-like (":"), so the loader's error paths skip them: remediations[0].replicas
    return f"action:{action}" if action in ACTIONS else "action:unknown"


Remediation = Annotated[
    Union[
        Annotated[RolloutRestart, Tag("action:rollout-restart")],
        Annotated[RolloutUndo, Tag("action:rollout-undo")],
        Annotated[Scale, Tag("action:scale")],
        Annotated[SetEnv, Tag("action:set-env")],
        Annotated[PatchConfigMap, Tag("action:patch-configmap")],
        Annotated[TriggerJob, Tag("action:trigger-job")],
        Annotated[Run, Tag("action:run")],
        Annotated[HelmRollback, Tag("action:helm-rollback")],
        Annotated[SsmCommand, Tag("action:ssm-command")],
        Annotated[_UnknownAction, Tag("action:unknown")],
    ],
    Discriminator(_action_tag),
]
"""One remediation; ``action`` says which kind."""

template_name = remediation_template_name
"""Name of a remediation's suspended CronJob template (:func:`generators.names.remediation_template_name`)."""


WORKLOAD_ACTIONS = (RolloutRestart, RolloutUndo, Scale, SetEnv, PatchConfigMap, HelmRollback)
