"""One environment's render as the check steps read it: the exact bytes ``mlmon render`` would write, in memory.

``mlmon check`` renders every environment once (``render`` + ``serialize_all``) and hands each step a
:class:`Rendered`; a step reads the files' bytes and parses them back (YAML with libyaml's C loader, JSON
with ``json``), so what is checked is what would be written. A parse is done once per file and shared by
the steps (they must not mutate what they get). :func:`as_rendered` also accepts a directory written by
``mlmon render`` (what the tests of one step pass).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import yaml

try:
    LOADER = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml: still correct, only slower
    LOADER = yaml.SafeLoader


class Rendered:
    """``files``: relative path (``prometheus/x.rules.yaml``) -> bytes, for environment ``env``."""

    def __init__(self, files: dict[str, bytes], env: str = ""):
        self.files = files
        self.env = env
        self._parsed: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_dir(cls, out: str | os.PathLike, env: str = "") -> "Rendered":
        root = Path(out)
        skip = {".mlmon-manifest.json"}  # the output writer's record of what it wrote (generators/output.py)
        files = {p.relative_to(root).as_posix(): p.read_bytes()
                 for p in sorted(root.rglob("*")) if p.is_file() and p.relative_to(root).as_posix() not in skip
                 } if root.is_dir() else {}
        return cls(files, env)

    def names(self, folder: str, suffix: str = "") -> list[str]:
        """Sorted names of the files directly in ``folder`` ending with ``suffix``."""
        prefix = folder.rstrip("/") + "/"
        return sorted(p[len(prefix):] for p in self.files
                      if p.startswith(prefix) and "/" not in p[len(prefix):] and p.endswith(suffix))

    def paths(self, suffixes: tuple[str, ...] = ()) -> list[str]:
        """Every relative path (sorted), optionally only those ending with one of ``suffixes``."""
        return sorted(p for p in self.files if not suffixes or p.endswith(suffixes))

    def __contains__(self, rel: str) -> bool:
        return rel in self.files

    def bytes(self, rel: str) -> bytes:
        return self.files[rel]

    def text(self, rel: str) -> str:
        return self.files[rel].decode("utf-8")

    def _cached(self, kind: str, rel: str, parse):
        key = (kind, rel)
        try:
            hit = self._parsed[key]
        except KeyError:
            try:
                hit = parse(self.text(rel))
            except Exception as exc:  # noqa: BLE001 - cached too: every step sees the same error
                hit = exc
            with self._lock:
                self._parsed.setdefault(key, hit)
        if isinstance(hit, Exception):
            raise hit
        return hit

    def yaml_docs(self, rel: str) -> list:
        """Every document of a YAML file (``None`` for empty ones), parsed with libyaml. Raises yaml.YAMLError."""
        return self._cached("yaml", rel, lambda t: list(yaml.load_all(t, Loader=LOADER)))

    def yaml(self, rel: str):
        """A single-document YAML file. Raises yaml.YAMLError."""
        return self._cached("yaml1", rel, lambda t: yaml.load(t, Loader=LOADER))

    def json(self, rel: str):
        """A JSON file. Raises ValueError."""
        return self._cached("json", rel, json.loads)

    def write(self, root: str | os.PathLike, prefix: str = "") -> Path:
        """Write the files under ``prefix`` into ``root`` (a scratch directory of a step, e.g. for promtool)."""
        root = Path(root)
        for rel, data in self.files.items():
            if rel.startswith(prefix):
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        return root


def as_rendered(out, env: str = "") -> Rendered:
    """``out`` as a :class:`Rendered`: itself, or the files of a rendered directory."""
    if isinstance(out, Rendered):
        return out
    return Rendered.from_dir(out, env)
