"""Problems found in a catalog, reported all at once with file, path and line."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    path: str  # dotted path inside the file, e.g. ``monitors[2].levels[0].for``
    message: str
    line: int | None = field(default=None, compare=False)

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        if self.path:
            where += f": {self.path}"
        return f"{where}: {self.message}"


class CatalogError(Exception):
    """The catalog is invalid. Carries every problem found, sorted by file and path."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.path, p.message))
        super().__init__(self.format())

    def format(self) -> str:
        n = len(self.problems)
        head = f"catalog invalid: {n} problem{'s' if n != 1 else ''}"
        return "\n".join([head] + [f"  {p}" for p in self.problems])


def format_path(parts: tuple | list) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


class Skipped(Exception):
    """A check step could not run here (e.g. a tool is not installed); the message says why."""
