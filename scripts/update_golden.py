#!/usr/bin/env python3
"""Regenerate (or check) the golden renders of the test fixtures: ``tests/golden/<fixture>/``.

    .venv/bin/python scripts/update_golden.py            # rewrite every golden directory
    .venv/bin/python scripts/update_golden.py --check    # exit 1 and show what differs (what the test does)
    .venv/bin/python scripts/update_golden.py seeds      # only some fixtures

Every fixture is a directory under ``tests/fixtures/`` laid out like a repository (``alerts/``, and optionally
``dashboards/`` and ``docs/runbooks/``). Its golden directory holds, byte for byte:

- ``<env>/...``: ``mlmon render --env <env>`` for every environment of the catalog (every artifact);
- ``runbooks/...``: ``mlmon runbooks --out`` (one page per alert, all environments);
- ``thresholds.txt``: ``mlmon thresholds`` (every environment).

The catalog is loaded from inside the fixture directory (``--catalog alerts``), exactly as a user runs mlmon
from a checkout, so no absolute path can leak into an artifact. ``tests/test_golden.py`` compares a fresh
render with these files; a generator change shows up as a diff of them in the pull request. When the change is
intended, run this script and commit the result (say in the commit message what changed and why).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = ROOT / "tests" / "golden"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def fixture_names() -> list[str]:
    """Fixture directories that hold a catalog (``alerts/``)."""
    return sorted(p.name for p in FIXTURES.iterdir() if (p / "alerts").is_dir())


@contextlib.contextmanager
def _inside(directory: Path):
    old = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(old)


def golden_files(fixture: str, directory: Path | None = None) -> dict[str, bytes]:
    """``{relative path: bytes}`` of every golden file of ``fixture``, rendered now (from ``directory``, a copy
    of the fixture, when given)."""
    from generators.cli import main as cli
    from generators.loader import load_catalog
    from generators.render import render, serialize_all
    from generators.runbooks import pages

    out: dict[str, bytes] = {}
    with _inside(directory or FIXTURES / fixture):
        catalog = load_catalog("alerts")
        for env in catalog.defaults.environments:
            for path, data in serialize_all(render(catalog, env)).items():
                out[f"{env}/{path}"] = data
        for path, text in pages(catalog).items():
            out[f"runbooks/{path}"] = text.encode()
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = cli(["thresholds", "--catalog", "alerts"])
        if code != 0:
            raise SystemExit(f"mlmon thresholds failed on fixture {fixture} (exit {code})")
        out["thresholds.txt"] = buf.getvalue().encode()
    return dict(sorted(out.items()))


def on_disk(fixture: str) -> dict[str, bytes]:
    base = GOLDEN / fixture
    if not base.is_dir():
        return {}
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def differences(fixture: str, fresh: dict[str, bytes] | None = None, context: int = 3,
                max_lines: int = 40) -> list[str]:
    """One entry per differing file (added, removed, or a unified diff, cut at ``max_lines`` lines)."""
    fresh = golden_files(fixture) if fresh is None else fresh
    old = on_disk(fixture)
    out = []
    for path in sorted(set(fresh) | set(old)):
        if path not in old:
            out.append(f"{fixture}/{path}: not in the golden files (new artifact)")
        elif path not in fresh:
            out.append(f"{fixture}/{path}: in the golden files but no longer rendered")
        elif old[path] != fresh[path]:
            diff = list(difflib.unified_diff(old[path].decode(errors="replace").splitlines(),
                                             fresh[path].decode(errors="replace").splitlines(),
                                             f"golden/{fixture}/{path}", f"rendered/{fixture}/{path}",
                                             n=context, lineterm=""))
            more = f"\n... {len(diff) - max_lines} more diff lines" if len(diff) > max_lines else ""
            out.append("\n".join(diff[:max_lines]) + more)
    return out


def write(fixture: str, files: dict[str, bytes]) -> None:
    """Replace ``tests/golden/<fixture>/`` with exactly ``files`` (built in a sibling directory first)."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    target = GOLDEN / fixture
    tmp = Path(tempfile.mkdtemp(prefix=f".{fixture}.tmp-", dir=GOLDEN))
    try:
        for rel, data in files.items():
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        if target.exists():
            shutil.rmtree(target)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fixtures", nargs="*", help=f"fixtures to process (default: all of {', '.join(fixture_names())})")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when a golden file differs")
    args = ap.parse_args(argv)
    names = args.fixtures or fixture_names()
    unknown = sorted(set(names) - set(fixture_names()))
    if unknown:
        ap.error(f"unknown fixture(s) {', '.join(unknown)}; known: {', '.join(fixture_names())}")
    stale = 0
    for name in names:
        fresh = golden_files(name)
        diffs = differences(name, fresh)
        if args.check:
            for d in diffs:
                print(d)
            stale += len(diffs)
            continue
        if diffs:
            write(name, fresh)
        print(f"{name}: {len(fresh)} golden files, {len(diffs)} changed", file=sys.stderr)
    if args.check:
        print(f"{stale} golden file(s) differ" if stale else "golden files are up to date", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
