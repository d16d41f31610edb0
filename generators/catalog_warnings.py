"""What is valid but likely not what the catalog's author meant: each kind's ``warnings`` facet, with file and
path. ``mlmon check`` prints them and still passes (a warning never fails a build)."""

from __future__ import annotations

from .errors import format_path
from .kinds import kind_of
from .model import Catalog


def catalog_warnings(catalog: Catalog) -> list[str]:
    """``<file>: <path>: <message>`` for every warning of every monitor, in catalog order."""
    out = []
    for svc in catalog.services:
        file = catalog.files.get(svc.service, svc.service)
        for i, mon in enumerate(svc.monitors):
            for path, message in kind_of(mon).warnings(mon, svc):
                out.append(f"{file}: {format_path(('monitors', i) + tuple(path))}: {message}")
    return out
