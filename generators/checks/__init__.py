"""Catalog checks, one per module (pint style). Each module has a docstring saying what it catches and
a ``check(ctx)`` that yields :class:`~generators.errors.Problem`. They run after the schema passed.

Add a check: write ``generators/checks/<name>.py`` with ``check(ctx)`` and list it in ``CHECKS``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..errors import Problem
from ..model import Defaults, Service

CHECKS = ("required", "environments", "names", "references", "reachability", "templates", "expressions",
          "cloudwatch", "jobs")


@dataclass
class Context:
    defaults: Defaults
    services: list  # [(SourceFile, Service)]

    def monitors(self):
        """(source file, service, monitor index, monitor) for every monitor of the catalog."""
        for src, svc in self.services:
            for i, mon in enumerate(svc.monitors):
                yield src, svc, i, mon


def run_checks(defaults: Defaults, services: list) -> list[Problem]:
    ctx = Context(defaults, services)
    problems: list[Problem] = []
    for name in CHECKS:
        module = importlib.import_module(f"{__name__}.{name}")
        problems.extend(module.check(ctx))
    return problems


def check_docs() -> dict[str, str]:
    """name -> first line of the check's docstring (for `mlmon check --list`)."""
    return {n: (importlib.import_module(f"{__name__}.{n}").__doc__ or "").strip().splitlines()[0] for n in CHECKS}
