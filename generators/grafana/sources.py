"""Reading hand-written dashboard modules (``dashboards/*.dashboard.py``) when the catalog is loaded: each is read
and compiled into a :class:`DashboardSource` the :class:`~generators.model.Catalog` holds; :mod:`.handwritten`
runs them when rendering. Imports nothing heavy (no grafanalib)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import CodeType

from ..errors import CatalogError, Problem

PATTERN = "*.dashboard.py"


@dataclass(frozen=True)
class DashboardSource:
    """One compiled ``*.dashboard.py`` module, as loaded with the catalog."""

    file: str  # as reported in errors, e.g. dashboards/agent-quality.dashboard.py
    code: CodeType
    filename: str  # the name its code was compiled with (tracebacks point at it)


def dashboards_dir(catalog_root: str | Path) -> Path:
    """``dashboards/`` next to the catalog directory (``alerts/`` -> ``dashboards/``)."""
    return Path(catalog_root).parent / "dashboards"


def read_sources(directory: Path, texts: dict[str, str] | None = None) -> tuple[DashboardSource, ...]:
    """Read and compile every ``*.dashboard.py`` in ``directory`` (none when it is missing), or the modules
    given as ``texts`` (file name -> source; e.g. read from a git revision). Raises CatalogError."""
    directory = Path(directory)
    if texts is None:
        if not directory.is_dir():
            return ()
        texts = {}
        problems = []
        for path in sorted(directory.glob(PATTERN)):
            try:
                texts[path.name] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(Problem(str(path), "", f"cannot read: {exc}"))
        if problems:
            raise CatalogError(problems)
    out, problems = [], []
    for name in sorted(n for n in texts if Path(n).match(PATTERN)):
        path = directory / name
        filename = str(path.resolve()) if path.exists() else str(path)
        try:
            code = compile(texts[name], filename, "exec")
        except SyntaxError as exc:
            problems.append(Problem(str(path), "", f"not valid Python: {exc.msg}", exc.lineno))
            continue
        out.append(DashboardSource(str(path), code, filename))
    if problems:
        raise CatalogError(problems)
    return tuple(out)
