"""Problems found in a catalog, reported all at once with file, path and line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_MESSAGE = 1000
"""Characters of a problem's message; a quoted value longer than :data:`MAX_QUOTED` is cut (a 2 MB value in
a catalog file is not echoed back)."""
MAX_QUOTED = 200
_QUOTED = re.compile("'(?:[^'\\\\\\n]|\\\\.){%d,}'|\"(?:[^\"\\\\\\n]|\\\\.){%d,}\"" % (MAX_QUOTED + 1, MAX_QUOTED + 1))


def shorten_message(message: str) -> str:
    """``message`` with long quoted values cut and the whole bounded."""
    if len(message) <= MAX_QUOTED:
        return message
    out = _QUOTED.sub(lambda m: f"{m.group(0)[:MAX_QUOTED]}...{m.group(0)[0]} ({len(m.group(0)) - 2} characters)",
                      message)
    if len(out) > MAX_MESSAGE:
        out = out[:MAX_MESSAGE] + f"... ({len(message)} characters)"
    return out


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    path: str  # dotted path inside the file, e.g. ``monitors[2].levels[0].for``
    message: str
    line: int | None = field(default=None, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "message", shorten_message(self.message))
        if len(self.path) > MAX_MESSAGE:
            object.__setattr__(self, "path", self.path[:MAX_MESSAGE] + "...")

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

    def format(self, limit: int = 200) -> str:
        n = len(self.problems)
        head = f"catalog invalid: {n} problem{'s' if n != 1 else ''}"
        more = [f"  ... and {n - limit} more"] if n > limit else []
        return "\n".join([head] + [f"  {p}" for p in self.problems[:limit]] + more)


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
