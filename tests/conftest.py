"""Shared fixtures: the seed fixture catalog (a copy of the shipped one), temporary catalogs, and running the CLI
in-process. Tests own their fixtures (tests/fixtures/README.md): only tests/test_shipped_catalog.py reads the
shipped alerts/."""

from __future__ import annotations

import io
import shutil
import textwrap
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "fixtures" / "seeds"
"""A copy of the seed catalog laid out like the repository: alerts/, dashboards/, docs/runbooks/."""
CATALOG = SEEDS / "alerts"
CRD_SCHEMA = ROOT / "generators" / "data" / "monitoring.coreos.com_prometheusrules.yaml"

_promtool = pytest.mark.skipif(shutil.which("promtool") is None,
                               reason="promtool not on PATH (Debian package `prometheus`; .ci/run installs it)")


def requires_promtool(fn):
    """A test that runs promtool over rendered rules: the slow tier (``-m slow``), skipped without promtool."""
    return pytest.mark.slow(_promtool(fn))


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_cli(*args: str, cwd: Path | None = None) -> CliResult:
    """Run ``mlmon ARGS`` in-process; SystemExit (argparse) is turned into a code."""
    import os

    from generators.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(old)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def make_catalog(tmp_path):
    """Write a catalog: ``make_catalog({"svc.yaml": "...yaml..."}, copy_repo=False) -> Path``."""

    def make(files: dict[str, str], copy_repo: bool = False) -> Path:
        root = tmp_path / "alerts"
        if copy_repo:
            shutil.copytree(CATALOG, root, dirs_exist_ok=True)
        root.mkdir(exist_ok=True)
        for name, text in files.items():
            (root / name).write_text(textwrap.dedent(text))
        return root

    return make


@pytest.fixture(scope="session")
def repo_catalog():
    """The seed fixture catalog, loaded."""
    from generators.loader import load_catalog

    return load_catalog(CATALOG)


@pytest.fixture(scope="session")
def localstack(tmp_path_factory):
    """LocalStack (CloudWatch, SNS, SQS) on 127.0.0.1, started once per session (tests/conftest_localstack.py)."""
    from conftest_localstack import start, stop

    ls, proc = start(tmp_path_factory.mktemp("localstack"))
    if ls is None:
        pytest.skip(proc)
    try:
        yield ls
    finally:
        stop(proc)


def _in_ci() -> bool:
    import os

    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped test fails: CI installs every engine (.ci/run), so a skip there means an
    install step is missing or an engine did not start, and the checks it guards did not run."""
    outcome = yield
    report = outcome.get_result()
    if _in_ci() and report.skipped and not hasattr(report, "wasxfail") and item.get_closest_marker("ci_may_skip") is None:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (CI installs every engine; a skip there is a failure): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a module skipped while it is collected (``pytest.importorskip`` at module level)."""
    outcome = yield
    report = outcome.get_result()
    if _in_ci() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (CI installs every engine; a skip there is a failure): {report.longrepr}"
