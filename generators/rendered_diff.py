"""What a change does to the artifacts: the render of two catalogs, file by file, per environment.

``mlmon diff --rendered`` loads the catalog (and its hand-written dashboards) at two git revisions, renders
every environment of both exactly like ``mlmon render`` and shows the files added, removed and changed, with a
unified diff of each. Pure: two catalogs in, a list of :class:`FileChange` out, then text, Markdown or JSON.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from .model import Catalog
from .render import render, serialize_all


@dataclass(frozen=True)
class FileChange:
    env: str
    path: str
    status: str  # "added", "removed", "changed"
    diff: tuple[str, ...]  # unified diff lines (without the ---/+++ header for added/removed files)


def _files(catalog: Catalog | None, env: str) -> dict[str, bytes]:
    if catalog is None or env not in catalog.defaults.environments:
        return {}
    return serialize_all(render(catalog, env))


def rendered_changes(old: Catalog | None, new: Catalog | None, envs: list[str] | None = None,
                     context: int = 3) -> list[FileChange]:
    """Every rendered file that differs between ``old`` and ``new``, per environment (``envs``: default every
    environment either side defines), in environment then path order."""
    known = list(new.defaults.environments if new else ()) + [
        e for e in (old.defaults.environments if old else ()) if not new or e not in new.defaults.environments]
    out = []
    for env in envs or known:
        a, b = _files(old, env), _files(new, env)
        for path in sorted(set(a) | set(b)):
            if a.get(path) == b.get(path):
                continue
            status = "added" if path not in a else "removed" if path not in b else "changed"
            lines = difflib.unified_diff(a.get(path, b"").decode(errors="replace").splitlines(),
                                         b.get(path, b"").decode(errors="replace").splitlines(),
                                         f"a/{env}/{path}", f"b/{env}/{path}", n=context, lineterm="")
            out.append(FileChange(env, path, status, tuple(lines)))
    return out


def _summary(changes: list[FileChange]) -> str:
    if not changes:
        return "no rendered file differs"
    by = {s: sum(c.status == s for c in changes) for s in ("changed", "added", "removed")}
    envs = sorted({c.env for c in changes})
    return (f"{len(changes)} rendered file(s) differ in {', '.join(envs)} "
            f"({by['changed']} changed, {by['added']} added, {by['removed']} removed)")


def format_text(changes: list[FileChange]) -> str:
    out = [f"mlmon diff --rendered: {_summary(changes)}"]
    for c in changes:
        out.append(f"\n{c.status}: {c.env}/{c.path}")
        out.extend(c.diff)
    return "\n".join(out) + "\n"


def format_markdown(changes: list[FileChange], max_chars: int = 60000) -> str:
    out = [f"### mlmon diff --rendered: {_summary(changes)}", ""]
    for c in changes:
        out += [f"<details><summary>{c.status}: <code>{c.env}/{c.path}</code></summary>", "", "```diff",
                *c.diff, "```", "</details>", ""]
    text = "\n".join(out)
    if len(text) > max_chars:
        text = text[: max_chars - 200].rsplit("\n", 1)[0] + "\n```\n</details>\n\n(cut: run `mlmon diff --rendered` locally)\n"
    return text


def format_json(changes: list[FileChange]) -> str:
    return json.dumps({"summary": _summary(changes), "files": [
        {"env": c.env, "path": c.path, "status": c.status, "diff": list(c.diff)} for c in changes]}, indent=2) + "\n"


FORMATS = {"text": format_text, "markdown": format_markdown, "json": format_json}
