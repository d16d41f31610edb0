"""README step 1 installs only the runtime dependencies (``bash scripts/bootstrap.sh``): ``mlmon render`` and
``mlmon check`` must work without any extra. Proven in a subprocess where importing Pulumi, its providers or
the test/backtest extras fails as it would in a runtime-only virtualenv; ``mlmon plan`` says how to install
the ``deploy`` extra. The runtime dependencies themselves are pyproject's ``dependencies``."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from conftest import CATALOG, ROOT, requires_promtool

EXTRAS_ONLY = ("pulumi", "pulumi_aws", "pulumi_kubernetes", "pulumiverse_grafana", "pulumi_policy",
               "pytest", "hypothesis", "boto3", "moto", "matplotlib")
"""Top-level modules only the extras install (pyproject's optional-dependencies)."""

BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {EXTRAS_ONLY!r}
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: not a runtime dependency)", name=name)
        return None
sys.meta_path.insert(0, Blocker())
from generators.cli import main
code = main(sys.argv[1:])
leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
assert not leaked, leaked
sys.exit(code)
"""


def mlmon_without_extras(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def test_extras_are_not_runtime_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = " ".join(project["dependencies"]).lower()
    for extra in ("pulumi", "pytest", "moto", "matplotlib", "hypothesis"):
        assert extra not in runtime, extra
    assert any(d.startswith("pulumi") for d in project["optional-dependencies"]["deploy"])


def test_bootstrap_default_installs_the_runtime_only():
    text = (ROOT / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    assert "runtime) spec='.' ;;" in text and "all) spec='.[test,deploy,backtest]' ;;" in text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/bootstrap.sh && .venv/bin/mlmon render --env dev --out out/dev" in readme
    assert "bootstrap.sh --all" in (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert "bootstrap.sh --all" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_render_needs_no_extra(tmp_path):
    r = mlmon_without_extras("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(tmp_path / "dev"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "dev" / "prometheus").is_dir()


def test_plan_without_the_deploy_extra_says_how_to_install_it():
    r = mlmon_without_extras("plan", "--catalog", str(CATALOG), "--env", "dev")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "deploy` extra" in r.stderr and "bootstrap.sh --deploy" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


@requires_promtool
@pytest.mark.parametrize("env", ["dev"])
def test_check_needs_no_extra(env):
    """Every step runs (none is skipped for a missing module) in a runtime-only interpreter."""
    r = mlmon_without_extras("check", "--catalog", str(CATALOG), "--env", env)
    assert r.returncode == 0, r.stderr
    assert "skipped" not in r.stderr, r.stderr
    assert "artifact checks passed: promtool, cloudwatch, ssm, kubernetes" in r.stdout
