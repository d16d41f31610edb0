"""Load ``alerts/*.yaml`` into a :class:`~generators.model.Catalog`, reporting every problem at once.

Files whose name starts with ``_`` hold catalog-wide settings (``_defaults.yaml``); every other
``*.yaml``/``*.yml`` file is one service. Hidden files (``.foo.yaml``: editor backups and locks) are not
loaded, and a warning names each; a ``*.yaml`` that cannot be read as a file (a dangling or looping symlink, a
folder, a device) is an error, so a service never vanishes silently. YAML is read by
:mod:`generators.yamlio` (bounded: size, values, depth; no merge keys, tags or recursive aliases). Validation runs in two stages: the schema (pydantic, per file)
and then the cross-cutting checks in :mod:`generators.checks` (per catalog). Nothing is returned unless
both pass; :class:`~generators.errors.CatalogError` carries every problem with file, path and line.
"""

from __future__ import annotations

import errno
import os
import stat as _stat
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import CatalogError, Problem, format_path
from .model import Catalog, Defaults, Service
from .yamlio import CATALOG_LIMITS, YamlSyntaxError, load_with_lines

DEFAULTS_FILE = "_defaults.yaml"


class SourceFile:
    """A parsed catalog file: its data and where each path sits in it."""

    def __init__(self, rel: str, data: Any, lines: dict[tuple, int]):
        self.rel = rel
        self.data = data
        self.lines = lines

    def line(self, path: tuple) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())

    def problem(self, path: tuple, message: str) -> Problem:
        return Problem(self.rel, format_path(path), message, self.line(path))


def catalog_files(root: Path) -> list[Path]:
    """The catalog files of ``root`` (no hidden file), sorted; see :func:`scan` for what is wrong with the rest."""
    return scan(root)[0]


def scan(root: Path) -> tuple[list[Path], list[Problem], list[str]]:
    """``(files, problems, warnings)`` of the catalog directory: every ``*.yaml``/``*.yml`` that is a regular file
    (or a symlink to one); a problem for each such name that is not (dangling or looping symlink, folder, device)
    or is too large; a warning for each hidden one, which is not loaded."""
    files: list[Path] = []
    problems: list[Problem] = []
    warnings: list[str] = []
    for p in sorted(root.iterdir()):
        if p.suffix not in (".yaml", ".yml"):
            if p.suffix.lower() in (".yaml", ".yml") and not p.name.startswith("."):
                warnings.append(f"{_rel(root, p.name)}: not loaded: a catalog file ends in .yaml or .yml (lower "
                                "case); rename it to load it")
            continue
        rel = _rel(root, p.name)
        if p.name.startswith("."):
            warnings.append(f"{rel}: hidden file not loaded (an editor's backup or lock?); rename it without the "
                            "leading '.' to make it part of the catalog, or delete it")
            continue
        try:
            st = p.stat()
        except OSError as exc:
            what = "a looping symlink" if exc.errno == errno.ELOOP else (
                f"a dangling symlink to {os.readlink(p)}" if p.is_symlink() else "unreadable")
            problems.append(Problem(rel, "", f"cannot read the catalog file: it is {what} ({exc.strerror})"))
            continue
        if not _stat.S_ISREG(st.st_mode):
            kind = "a folder" if _stat.S_ISDIR(st.st_mode) else "not a regular file"
            problems.append(Problem(rel, "", f"cannot read the catalog file: it is {kind}; a *.yaml in the "
                                    "catalog must be a service file"))
            continue
        if CATALOG_LIMITS.max_bytes is not None and st.st_size > CATALOG_LIMITS.max_bytes:
            problems.append(Problem(rel, "", f"the file is {st.st_size} bytes; a catalog file may be at most "
                                    f"{CATALOG_LIMITS.max_bytes} bytes"))
            continue
        files.append(p)
    return files, problems, warnings


def display_name(root: str | os.PathLike, name: str) -> str:
    """How artifacts name a catalog file: relative to the catalog root's parent (``alerts/x.yaml``), the same
    whether the catalog was given as ``alerts``, ``../repo/alerts`` or an absolute path. A catalog at a git
    revision (``REV:path``) is named like its checkout."""
    text = str(root)
    if ":" in text and not os.path.isdir(text):
        text = text.rpartition(":")[2] or "."
    base = Path(os.path.abspath(text)).name
    return f"{base}/{name}" if base else name


def load_catalog(root: str | os.PathLike, *, texts: dict[str, str] | None = None,
                 dashboards: dict[str, str] | None = None) -> Catalog:
    """Load and validate the catalog in directory ``root``, with the hand-written dashboards beside it
    (``dashboards/*.dashboard.py``, compiled: :mod:`generators.grafana.sources`).

    ``texts`` (relative file name -> YAML text) replaces reading the directory, and ``dashboards`` (file name
    -> Python source) reading the dashboards; :mod:`generators.gitcatalog` uses them to load a catalog from a
    git revision (without ``dashboards``, a catalog given as ``texts`` has no hand-written dashboards).
    """
    root_path = Path(root)
    from_disk = texts is None
    if texts is None:
        if not root_path.is_dir():
            raise CatalogError([Problem(str(root_path), "", "catalog directory not found "
                                        "(run from a checkout with an alerts/ folder, or pass --catalog DIR)")])
        texts = {}
        try:
            paths, unreadable, warnings = scan(root_path)
        except OSError as exc:
            raise CatalogError([Problem(str(root_path), "", f"cannot list the catalog directory: "
                                        f"{exc.strerror or exc}")]) from None
        for w in warnings:
            print(f"mlmon: warning: {w}", file=sys.stderr)
        for p in paths:
            try:
                texts[p.name] = p.read_text(encoding="utf-8")
            except OSError as exc:
                unreadable.append(Problem(_rel(root_path, p.name), "", f"cannot read: {exc.strerror or exc}"))
            except UnicodeDecodeError as exc:
                unreadable.append(Problem(_rel(root_path, p.name), "", f"not UTF-8 text (byte {exc.start})"))
        if unreadable:
            raise CatalogError(unreadable)
    hidden = sorted(n for n in texts if n.startswith("."))
    if hidden:  # read from a git revision: the same rule as on disk
        for n in hidden:
            print(f"mlmon: warning: {_rel(root_path, n)}: hidden file not loaded", file=sys.stderr)
        texts = {n: t for n, t in texts.items() if not n.startswith(".")}
    problems: list[Problem] = []
    defaults = Defaults()
    services: list[tuple[SourceFile, Service]] = []
    for name in sorted(texts):
        rel = _rel(root_path, name)
        try:
            data, lines = load_with_lines(texts[name])
        except YamlSyntaxError as exc:
            problems.append(Problem(rel, "", str(exc), exc.line))
            continue
        src = SourceFile(rel, data, lines)
        if name.startswith("_"):
            if name not in (DEFAULTS_FILE, "_defaults.yml"):
                problems.append(src.problem((), f"unknown settings file; the only one is {DEFAULTS_FILE}"))
                continue
            parsed = _validate(Defaults, src, problems, allow_empty=True)
            if parsed is not None:
                defaults = parsed
            continue
        parsed = _validate(Service, src, problems)
        if parsed is not None:
            services.append((src, parsed))
    if not problems:
        from .checks import run_checks

        problems.extend(run_checks(defaults, services))
    if problems:
        raise CatalogError(problems)
    if not services:
        raise CatalogError([Problem(str(root_path), "", "no service files (*.yaml) in the catalog")])
    services.sort(key=lambda s: s[1].service)
    from .grafana.sources import dashboards_dir, read_sources

    if from_disk:
        sources = read_sources(dashboards_dir(root_path))
    elif dashboards is not None:  # e.g. "REV:alerts" (gitcatalog): reported as "REV:dashboards/<file>"
        rev, _, rel = str(root_path).rpartition(":")
        where = dashboards_dir(rel).as_posix()
        sources = read_sources(Path(f"{rev}:{where}" if rev else where), dashboards)
    else:
        sources = ()
    return Catalog(root=str(root_path), defaults=defaults, services=tuple(s for _, s in services),
                   files={s.service: display_name(root_path, Path(src.rel).name) for src, s in services},
                   dashboards=sources)


def _rel(root: Path, name: str) -> str:
    return str(root / name)


def _validate(model: type[BaseModel], src: SourceFile, problems: list[Problem], allow_empty: bool = False):
    data = src.data
    if data is None and allow_empty:
        data = {}
    if not isinstance(data, dict):
        problems.append(src.problem((), f"expected a mapping at the top of the file, got {_kind(data)}"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                loc += (str(err.get("ctx", {}).get("discriminator", "kind")).strip("'"),)
            path = yaml_path(data, loc)
            problems.append(src.problem(path, _message(err, data, path)))
        return None


def yaml_path(data: Any, loc: tuple) -> tuple:
    """Map a pydantic error location onto the YAML document, dropping pydantic's own steps
    (union tags such as ``threshold`` or ``function-before[...]``)."""
    out: list = []
    cur = data
    entered = True  # just stepped into `cur`: pydantic may name the union member (its tag) next
    for part in loc:
        if entered and isinstance(cur, dict) and isinstance(part, str) and part in (cur.get("kind"), cur.get("type")):
            entered = False  # the tag of a discriminated union (e.g. kind `threshold`), not the field
            continue
        entered = isinstance(part, int) or (isinstance(cur, dict) and part in cur)
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and part.endswith("_") and part[:-1] in cur:
            out.append(part[:-1])  # for_ -> for
            cur = cur[part[:-1]]
        elif not isinstance(cur, (dict, list)) or isinstance(part, int):
            continue
        elif isinstance(cur, dict) and _is_field_name(part):
            out.append(part)  # a missing required key: name it
            cur = None
    return tuple(out)


def _is_field_name(part: Any) -> bool:
    return isinstance(part, str) and part.replace("_", "").isalnum() and "[" not in part


def _message(err: dict, data: Any, path: tuple) -> str:
    typ = err["type"]
    msg = err["msg"]
    if typ == "extra_forbidden":
        return "unknown key (check the spelling; allowed keys are listed in docs/catalog.md)"
    if typ == "missing":
        return "required key is missing"
    if typ == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"unknown kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if typ == "union_tag_not_found":
        return f"missing `{err.get('ctx', {}).get('discriminator', 'kind').strip(chr(39))}`"
    if typ == "literal_error":
        return f"got {err.get('input')!r}; expected {err.get('ctx', {}).get('expected')}"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if typ in ("float_parsing", "int_parsing", "bool_parsing", "float_type", "int_type", "string_type",
               "dict_type", "list_type", "tuple_type", "model_type", "bool_type"):
        return f"{msg[0].lower()}{msg[1:]}, got {_kind(err.get('input'))} {err.get('input')!r}"
    return msg


def _kind(v: Any) -> str:
    return {dict: "a mapping", list: "a list", type(None): "nothing", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(v), type(v).__name__)
