"""Load the catalog as it is at a git revision (for ``mlmon diff``).

Runs ``git`` in the repository that contains the catalog directory: ``git ls-tree REV:<catalog>`` lists the
files and ``git cat-file blob`` reads each one; the texts go through the normal loader
(``load_catalog(root, texts=...)``), so a catalog at a revision is validated exactly like the working tree.
Problems are reported as ``REV:<catalog>/<file>``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .errors import CatalogError, Problem
from .model import Catalog


class RevisionError(Exception):
    """The revision, the repository or the catalog directory at that revision cannot be used."""


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    git = shutil.which("git")
    if git is None:
        raise RevisionError("git not found on PATH: `mlmon diff` reads catalog revisions with git")
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return subprocess.run([git, *args], cwd=cwd, capture_output=True, env=env)


def _existing(path: Path) -> Path:
    p = path.absolute()
    while not p.is_dir():
        p = p.parent
    return p


def locate(catalog_dir: str | os.PathLike) -> tuple[Path, str]:
    """The repository's top-level directory and the catalog's path inside it (``alerts``)."""
    path = Path(catalog_dir)
    r = _git(["rev-parse", "--show-toplevel"], _existing(path))
    if r.returncode != 0:
        raise RevisionError(f"{path} is not inside a git repository "
                            f"({r.stderr.decode(errors='replace').strip()})")
    top = Path(r.stdout.decode().strip())
    absolute = Path(os.path.realpath(path.absolute()))
    try:
        rel = absolute.relative_to(os.path.realpath(top))
    except ValueError:
        raise RevisionError(f"the catalog {path} is outside the git repository {top}") from None
    return top, rel.as_posix() or "."


def resolve_revision(top: Path, rev: str) -> str:
    """The commit id of ``rev``; :class:`RevisionError` when it names no commit."""
    if not rev or rev.startswith("-"):
        raise RevisionError(f"invalid revision {rev!r}")
    r = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], top)
    if r.returncode != 0:
        hint = " (in CI, fetch it first: actions/checkout with fetch-depth: 0)" if "/" in rev else ""
        raise RevisionError(f"unknown revision {rev!r} in the git repository {top}{hint}")
    return r.stdout.decode().strip()


def catalog_texts(top: Path, commit: str, rel: str, rev: str) -> dict[str, str]:
    """``{file name: text}`` of the catalog's ``*.yaml``/``*.yml`` files at ``commit``."""
    texts = dir_texts(top, commit, rel, rev, (".yaml", ".yml"))
    if texts is None:
        raise RevisionError(f"the catalog directory {rel}/ does not exist at {rev}")
    return texts


def dir_texts(top: Path, commit: str, rel: str, rev: str, suffixes: tuple[str, ...]) -> dict[str, str] | None:
    """``{file name: text}`` of the files of directory ``rel`` ending in ``suffixes`` at ``commit``; None when
    the directory does not exist there."""
    spec = f"{commit}:{rel}" if rel != "." else f"{commit}^{{tree}}"
    r = _git(["ls-tree", "-z", spec], top)
    if r.returncode != 0:
        return None
    texts: dict[str, str] = {}
    for entry in r.stdout.decode("utf-8", errors="surrogateescape").split("\0"):
        if not entry:
            continue
        meta, name = entry.split("\t", 1)
        _mode, kind, oid = meta.split()
        if kind != "blob" or not name.endswith(suffixes):
            continue
        if _mode == "120000":  # a symlink: its blob is the link's target path, not the file
            raise CatalogError([Problem(f"{rev}:{rel}/{name}", "", "a symlink: at a git revision mlmon reads "
                                        "only regular files (commit the file itself)")])
        blob = _git(["cat-file", "blob", oid], top)
        if blob.returncode != 0:  # pragma: no cover - ls-tree just listed it
            raise RevisionError(f"cannot read {rel}/{name} at {rev}: {blob.stderr.decode(errors='replace')}")
        try:
            texts[name] = blob.stdout.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CatalogError([Problem(f"{rev}:{rel}/{name}", "", f"not UTF-8 text: {exc}")]) from None
    return texts


def load_at(catalog_dir: str | os.PathLike, rev: str, rendering: bool = False) -> Catalog:
    """The catalog in ``catalog_dir`` as committed at ``rev`` (validated; raises CatalogError/RevisionError).

    ``rendering``: also the hand-written dashboards beside it at ``rev``, and the files named as in a checkout
    (``alerts/x.yaml``, not ``REV:alerts/x.yaml``), so its render equals the render of that checkout."""
    from .grafana.sources import PATTERN
    from .loader import load_catalog

    top, rel = locate(catalog_dir)
    commit = resolve_revision(top, rev)
    texts = catalog_texts(top, commit, rel, rev)
    root = f"{rev}:{rel}" if rel != "." else f"{rev}:."
    if not rendering:
        return load_catalog(root, texts=texts)
    parent = Path(rel).parent.as_posix()
    where = "dashboards" if parent == "." else f"{parent}/dashboards"
    boards = dir_texts(top, commit, where, rev, (PATTERN.lstrip("*"),)) or {}
    from .loader import display_name

    catalog = load_catalog(root, texts=texts, dashboards=boards)
    files = {s: display_name(catalog_dir, Path(v).name) for s, v in catalog.files.items()}
    return catalog.model_copy(update={"files": files})


_STATUS = {"A": "added", "D": "deleted", "M": "modified", "R": "renamed", "C": "copied", "T": "modified"}


def changed_files(catalog_dir: str | os.PathLike, base: str, head: str | None, paths: list[str]) -> list[dict]:
    """Files under ``paths`` (relative to the catalog's parent, e.g. ``dashboards``) that differ between
    ``base`` and ``head`` (default: the working tree, untracked files included): ``[{status, path}]``."""
    top, rel = locate(catalog_dir)
    parent = Path(rel).parent
    specs = [(parent / p).as_posix() for p in paths]
    old = resolve_revision(top, base)
    revs = [old] + ([resolve_revision(top, head)] if head else [])
    r = _git(["diff", "--name-status", "-z", "--no-renames", *revs, "--", *specs], top)
    if r.returncode != 0:  # pragma: no cover - both revisions were just resolved
        raise RevisionError(r.stderr.decode(errors="replace").strip())
    fields = r.stdout.decode("utf-8", errors="replace").split("\0")
    out = [{"status": _STATUS.get(fields[i][:1], fields[i]), "path": fields[i + 1]}
           for i in range(0, len(fields) - 1, 2)]
    if head is None:
        u = _git(["ls-files", "-z", "--others", "--exclude-standard", "--", *specs], top)
        out += [{"status": "added", "path": p} for p in u.stdout.decode("utf-8", errors="replace").split("\0") if p]
    return sorted(out, key=lambda f: f["path"])
