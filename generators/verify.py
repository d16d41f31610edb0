"""Checks of rendered artifacts by the engines that consume them, run by ``mlmon check``.

Each step of ``STEPS`` is ``fn(rendered, catalog, env) -> list[str]`` (failure messages; empty = passed) on the
render of one environment: a :class:`~generators.rendered.Rendered` (the files' bytes in memory) or a
directory written by ``mlmon render``. Each of ``CATALOG_STEPS`` is ``fn(catalog) -> list[str]``, run once. A
step may raise :class:`~generators.errors.Skipped` with a reason (e.g. a tool is not installed).

Adding a step is adding ``(name, fn)`` to ``STEPS``. A step whose engine is cheaper started once for every
environment (promtool) also has ``fn.batch = batch(renders, catalog, jobs, started) -> {env: [failure]}``,
which :func:`run_steps` calls once instead of ``fn`` per environment; ``batch`` calls ``started()`` once its
own Python work is done and only its engines' subprocesses are left to wait for. :func:`run_steps` runs the
steps concurrently (engine subprocesses in threads beside the Python steps) and reports in a fixed order.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import Skipped
from .rendered import Rendered, as_rendered


def _promtool() -> str:
    promtool = shutil.which("promtool")
    if promtool is None:
        raise Skipped("promtool not found on PATH (install Debian's `prometheus` package): rule files and "
                      "unit tests were not checked")
    return promtool


def _sections(output: str, marker: str) -> dict[str, str]:
    """promtool's output split into ``{file: its section}`` (sections start with ``marker`` + file)."""
    out: dict[str, str] = {}
    current = None
    for line in output.splitlines():
        if line.startswith(marker):
            current = line[len(marker):].strip()
            out[current] = line
        elif current is not None:
            out[current] += "\n" + line
    return out


def _chunks(paths: list[str], sizes: dict[str, int], n: int) -> list[list[str]]:
    """``paths`` in ``n`` chunks of about equal total cost (largest first, each to the lightest chunk)."""
    chunks: list[list[str]] = [[] for _ in range(max(1, min(n, len(paths))))]
    load = [0] * len(chunks)
    for p in sorted(paths, key=lambda p: (-sizes[p], p)):
        i = load.index(min(load))
        chunks[i].append(p)
        load[i] += sizes[p]
    return [sorted(c) for c in chunks if c]


def _cost(doc: dict, n_rules: int) -> int:
    """What a test file costs promtool, roughly: it evaluates every rule of its rule files (``n_rules``) at every
    step of every test group (steps: the group's last ``eval_time`` over the evaluation interval), and sets up
    a fresh storage per group."""
    from .durations import parse_duration
    from .prometheus.unittests import STORAGE_COST

    try:
        interval = parse_duration(doc.get("evaluation_interval", "1m"))
        steps = sum(max(parse_duration(t["eval_time"])
                        for t in [*g.get("alert_rule_test", ()), *g.get("promql_expr_test", ())]) // interval + 1
                    for g in doc["tests"])
        return steps * max(1, n_rules) + len(doc["tests"]) * STORAGE_COST
    except Exception:  # noqa: BLE001 - only a scheduling estimate; promtool reports what is wrong
        return 1000


def _test_runs(rendered: Rendered, env: str, root: Path) -> list[tuple[str, str, int]]:
    """``[(path promtool is given, the rendered test file it stands for, its cost)]`` for one environment.

    Each rendered test file is run as its parts (:func:`generators.prometheus.subsets.split`: every test group
    against the rules it can observe, unchanged otherwise), written as JSON beside it under ``.parts/``."""
    import json

    from .prometheus.subsets import count_rules, split

    runs = []
    for name in rendered.names("prometheus", ".tests.yaml"):
        rel = f"{env}/prometheus/{name}"
        try:
            doc = rendered.yaml(f"prometheus/{name}")
            rule_docs = [rendered.yaml(f"prometheus/{f}") for f in doc["rule_files"]]
            parts = split(doc, rule_docs)
        except Exception:  # noqa: BLE001 - not a test file mlmon can read: promtool reports what is wrong
            runs.append((rel, rel, len(rendered.bytes(f"prometheus/{name}"))))
            continue
        if parts is None:
            runs.append((rel, rel, _cost(doc, count_rules(rule_docs))))
            continue
        folder = root / env / "prometheus" / ".parts"
        folder.mkdir(parents=True, exist_ok=True)
        for k, (part, rules, n) in enumerate(parts, 1):
            stem = f"{name[:-len('.tests.yaml')]}.part{k}"
            if rules is None:
                part["rule_files"] = [f"../{f}" for f in doc["rule_files"]]
            else:
                (folder / f"{stem}.rules.yaml").write_text(json.dumps(rules), encoding="utf-8")
                part["rule_files"] = [f"{stem}.rules.yaml"]
            (folder / f"{stem}.tests.yaml").write_text(json.dumps(part), encoding="utf-8")
            runs.append((f"{env}/prometheus/.parts/{stem}.tests.yaml", rel, _cost(part, n)))
    return runs


def _run(argv: list[str], cwd: Path) -> tuple[int, str]:
    # one pipe for both streams: promtool writes unbuffered, so each failure stays in its file's section
    # GOGC=200: promtool's garbage collector runs half as often (-11 % CPU on the generated tests, ~80 MB
    # instead of ~60 MB per process); a GOGC of the caller's wins
    env = dict(os.environ)
    env.setdefault("GOGC", "200")
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd, env=env)
    return r.returncode, r.stdout


def promtool_batch(renders: dict[str, Rendered], catalog, jobs: int | None = None,
                   started=lambda: None) -> dict[str, list[str]]:
    """``promtool check rules`` once over every rule file of every environment, and ``promtool test rules``
    over every test file, split into ``jobs`` processes run at once (default: one per CPU). ``started()`` is
    called once the files are written and the processes launched."""
    promtool = _promtool()
    jobs = jobs or os.cpu_count() or 1
    failures: dict[str, list[str]] = {env: [] for env in renders}
    with tempfile.TemporaryDirectory(prefix="mlmon-promtool-") as tmp:
        root = Path(tmp)
        rules, tests, sizes, env_of, origin = [], [], {}, {}, {}
        for env, rendered in renders.items():
            rendered.write(root / env, "prometheus/")
            for name in rendered.names("prometheus", ".rules.yaml"):
                rules.append(f"{env}/prometheus/{name}")
                env_of[rules[-1]] = env
            for path, rel, cost in _test_runs(rendered, env, root):
                tests.append(path)
                sizes[path], env_of[path], origin[path] = cost, env, rel
        calls = []
        if rules:
            calls.append(("check", [promtool, "check", "rules", *rules]))
        calls += [("test", [promtool, "test", "rules", *chunk]) for chunk in _chunks(tests, sizes, jobs)]
        with ThreadPoolExecutor(max_workers=max(1, len(calls))) as pool:
            futures = [pool.submit(lambda c=c: (c[0], c[1], *_run(c[1], root))) for c in calls]
            started()
            results = [f.result() for f in futures]
    for what, argv, code, output in results:
        if code == 0:
            continue
        marker = "Checking " if what == "check" else "Unit Testing: "
        sections = {f: text for f, text in _sections(output, marker).items()
                    if "FAILED" in text or "SUCCESS" not in text}
        if not sections:  # never lose a failure: promtool failed outside any file's section
            sections = {f: output.strip() for f in argv[3:] if f in env_of}
        by_env: dict[str, list[str]] = {}
        for f, text in sections.items():
            if f in env_of:
                if origin.get(f, f) != f:  # a part of a rendered test file: name the file the user has
                    text = text.replace(f, f"{origin[f]} (the groups run against the rules they read)", 1)
                by_env.setdefault(env_of[f], []).append((origin.get(f, f).split("/")[-1], text.strip()))
        for env, texts in by_env.items():
            if what == "check":
                failures[env].append(f"promtool check rules ({env}):\n" + "\n".join(t for _, t in texts))
            else:
                for name, text in texts:
                    failures[env].append(f"promtool test rules {name} ({env}):\n{text}")
    return failures


def promtool_steps(out, catalog, env: str) -> list[str]:
    """``promtool check rules`` and ``promtool test rules`` on every rendered rule and test file."""
    return promtool_batch({env: as_rendered(out, env)}, catalog)[env]


promtool_steps.batch = promtool_batch


def cloudwatch_step(out, catalog, env: str) -> list[str]:
    """CloudWatch alarm, composite and dashboard bodies against botocore's service model and CloudWatch's rules."""
    try:
        import botocore  # noqa: F401
    except ImportError:
        raise Skipped("botocore is not installed: CloudWatch bodies were not checked against its service model")
    from .cloudwatch.validate import verify_step

    return verify_step(out, catalog, env)


def ssm_step(out, catalog, env: str) -> list[str]:
    """SSM Command documents against botocore's SSM model and the schema 2.2 rules; on-call's IAM policy."""
    try:
        import botocore  # noqa: F401
    except ImportError:
        raise Skipped("botocore is not installed: SSM documents were not checked against its service model")
    from .ssm.validate import verify_step

    return verify_step(out, catalog, env)


def kubernetes_step(out, catalog, env: str) -> list[str]:
    """Every rendered manifest against the Kubernetes OpenAPI schemas (strict) and the PrometheusRule CRD."""
    from .kubernetes.validate import kubernetes_step as step

    return step(out, catalog, env)


def operator_models_step(out, catalog, env: str) -> list[str]:
    """PrometheusRule and AlertmanagerConfig objects against the operator community's typed models."""
    from .kubernetes.operator_models import operator_models_step as step

    return step(out, catalog, env)


def policy_step(out, catalog, env: str) -> list[str]:
    """Least privilege and restricted pods in every rendered Kubernetes file."""
    from .kubernetes.policy import policy_step as step

    return step(out, catalog, env)


def grafana_step(out, catalog, env: str) -> list[str]:
    """Dashboards: PromQL parses, metrics declared, unique uids and panel ids, no overlapping panels."""
    from .grafana.checks import grafana_step as step

    return step(out, catalog, env)


def grafana_types_step(out, catalog, env: str) -> list[str]:
    """Dashboards against Grafana's published dashboard types (@grafana/schema, every targeted version)."""
    from .grafana.published import published_types_step as step

    return step(out, catalog, env)


def alertmanager_step(out, catalog, env: str) -> list[str]:
    """``amtool check-config`` on alertmanager.yaml; every alert routed to exactly its catalog receiver (amtool)."""
    from .alertmanager.verify import alertmanager_step as step

    if isinstance(out, Rendered):  # amtool reads files: the in-memory render written to a scratch directory
        if catalog is None or catalog.defaults.alertmanager is None:
            return step(Path(), catalog, env)
        with tempfile.TemporaryDirectory(prefix="mlmon-amtool-") as tmp:
            return step(out.write(tmp), catalog, env)
    return step(Path(out), catalog, env)


def runbooks_step(catalog) -> list[str]:
    """Hand-written runbooks embed up-to-date generated sections (`mlmon runbooks --update`)."""
    from .handwritten_runbooks import embedded_runbooks_step

    return embedded_runbooks_step(catalog)


STEPS: list[tuple[str, object]] = [
    ("promtool", promtool_steps),
    ("cloudwatch", cloudwatch_step),
    ("ssm", ssm_step),
    ("kubernetes", kubernetes_step),
    ("k8s-policy", policy_step),
    ("operator-models", operator_models_step),
    ("grafana", grafana_step),
    ("grafana-types", grafana_types_step),
    ("alertmanager", alertmanager_step),
]
"""Steps run on the render of each environment."""
CATALOG_STEPS: list[tuple[str, object]] = [
    ("runbooks", runbooks_step),
]
"""Steps run once per catalog: ``fn(catalog) -> [failure]`` (what covers every environment at once)."""


def run_steps(catalog, renders: dict[str, Rendered], jobs: int | None = None,
              steps=None, catalog_steps=None) -> tuple[list[str], dict[str, str]]:
    """Every step on every environment's render: ``(failures, {skipped step: reason})``.

    Batched steps (``fn.batch``) run in a background thread (their engines are subprocesses, so they use the
    other core) while the other steps run here, one environment after the other. The steps here wait until
    every batch has called ``started()`` (or ended): a batch's own Python work (promtool's 36,000 small files
    at 1,000 services) shares the interpreter lock with them, and beside a busy thread each of its file writes
    waited for the lock (measured: 8.7 s alone, 201 s beside the other steps; promtool started 6 minutes
    late). Failures are reported in the same order whatever finishes first: per environment, in step order,
    then the catalog steps."""
    steps = STEPS if steps is None else steps
    catalog_steps = CATALOG_STEPS if catalog_steps is None else catalog_steps
    results: dict[tuple[str, str], list[str]] = {}
    skipped: dict[str, str] = {}
    lock = threading.Lock()

    errors: list[BaseException] = []

    def batched(name, fn, ready):
        try:
            for env, fs in fn.batch(renders, catalog, jobs, ready.set).items():
                results[(name, env)] = fs
        except Skipped as exc:
            with lock:
                skipped.setdefault(name, str(exc))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread: never a silent pass
            errors.append(exc)
        finally:
            ready.set()

    readies = {name: threading.Event() for name, fn in steps if hasattr(fn, "batch")}
    threads = [threading.Thread(target=batched, args=(name, fn, readies[name]), name=f"mlmon-check-{name}",
                                daemon=True)
               for name, fn in steps if hasattr(fn, "batch")]
    for t in threads:
        t.start()
    try:
        for ready in readies.values():
            ready.wait()
        for env, rendered in renders.items():
            for name, fn in steps:
                if hasattr(fn, "batch") or name in skipped:
                    continue
                try:
                    results[(name, env)] = fn(rendered, catalog, env)
                except Skipped as exc:
                    with lock:
                        skipped.setdefault(name, str(exc))
        catalog_failures = [f for _, fn in catalog_steps for f in fn(catalog)]
    finally:
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    failures = [f for env in renders for name, _ in steps for f in results.get((name, env), [])]
    return failures + catalog_failures, skipped
