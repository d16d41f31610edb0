"""Generated sections embedded in hand-written runbooks (``runbooks.handwritten``, default ``docs/runbooks``).

Hand-written runbooks keep their prose and embed generated parts between markers::

    <!-- mlmon:begin ReasoningDriftHigh -->            (part "definition", the default)
    ...generated, refreshed by `mlmon runbooks --update`...
    <!-- mlmon:end -->

Parts: ``definition``, ``remediation``, ``escalation`` and ``page`` (all three). ``mlmon check`` fails
when an embedded part differs from what the catalog says now (:func:`embedded_runbooks_step`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from .model import Catalog
from .runbooks import PARTS, Index, section

BEGIN = re.compile(r"<!--\s*mlmon:begin\s+(?P<alert>\S+)(?:\s+(?P<part>[a-z]+))?\s*-->")
END = re.compile(r"<!--\s*mlmon:end\s*-->")


class MarkerError(ValueError):
    def __init__(self, file: str, line: int, message: str):
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


@dataclass(frozen=True)
class Block:
    alert: str
    part: str
    line: int  # 1-based line of the begin marker
    start: int  # offset just after the begin marker
    end: int  # offset of the end marker


def blocks(text: str, file: str, known: set[str]) -> list[Block]:
    """The embedded sections of one Markdown file; raises :class:`MarkerError` on malformed markers."""
    out: list[Block] = []
    pos = 0
    while True:
        b = BEGIN.search(text, pos)
        e = END.search(text, pos)
        if b is None:
            if e is not None:
                raise MarkerError(file, _line(text, e.start()), "`<!-- mlmon:end -->` without a begin marker")
            return out
        line = _line(text, b.start())
        if e is not None and e.start() < b.start():
            raise MarkerError(file, _line(text, e.start()), "`<!-- mlmon:end -->` without a begin marker")
        if e is None:
            raise MarkerError(file, line, f"`{b.group(0)}` is never closed by `<!-- mlmon:end -->`")
        nested = BEGIN.search(text, b.end(), e.start())
        if nested:
            raise MarkerError(file, _line(text, nested.start()),
                              f"a new begin marker inside the section opened on line {line}; close it first")
        alert, part = b.group("alert"), b.group("part") or "definition"
        if alert not in known:
            close = difflib.get_close_matches(alert, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise MarkerError(file, line, f"unknown alert {alert!r}: no monitor in the catalog defines it{hint}")
        if part not in PARTS:
            raise MarkerError(file, line, f"unknown part {part!r}; expected one of {', '.join(PARTS)}")
        out.append(Block(alert, part, line, b.end(), e.start()))
        pos = e.end()


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def refreshed(text: str, file: str, index: Index) -> tuple[str, list[Block]]:
    """``text`` with every embedded section regenerated, and the blocks that were stale."""
    found = blocks(text, file, set(index.service_of))
    stale: list[Block] = []
    parts: list[str] = []
    pos = 0
    for blk in found:
        want = "\n" + section(index, blk.alert, blk.part)
        if text[blk.start:blk.end] != want:
            stale.append(blk)
        parts += [text[pos:blk.start], want]
        pos = blk.end
    parts.append(text[pos:])
    return "".join(parts), stale


def handwritten_dir(catalog: Catalog) -> Path:
    """The hand-written runbooks directory: ``runbooks.handwritten``, relative to the catalog's parent."""
    d = Path(catalog.defaults.runbooks.handwritten)
    return d if d.is_absolute() else Path(catalog.root).parent / d


def handwritten_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.md") if p.is_file()) if directory.is_dir() else []


def stale_report(text: str, new: str, file: str, stale: list[Block], max_lines: int = 30) -> str:
    names = ", ".join(f"{b.alert} {b.part} (line {b.line})" for b in stale)
    diff = list(difflib.unified_diff(text.splitlines(), new.splitlines(), f"{file} (committed)",
                                     f"{file} (from the catalog)", n=1, lineterm=""))
    body = "\n".join(diff[:max_lines]) + ("\n..." if len(diff) > max_lines else "")
    return f"{file}: generated section(s) stale: {names}; run `mlmon runbooks --update`\n{body}"


def embedded_runbooks_step(catalog: Catalog) -> list[str]:
    """hand-written runbooks (runbooks.handwritten) embed up-to-date generated sections (they cover every
    environment, so this runs once per catalog)"""
    files = handwritten_files(handwritten_dir(catalog))
    if not files:
        return []
    index = Index(catalog)
    failures = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            new, stale = refreshed(text, str(path), index)
        except MarkerError as exc:
            failures.append(str(exc))
            continue
        if stale:
            failures.append(stale_report(text, new, str(path), stale))
    return failures
