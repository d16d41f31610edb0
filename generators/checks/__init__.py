"""Catalog checks, one per module (pint style). Each module has a docstring saying what it catches and
a ``check(ctx)`` that yields :class:`~generators.errors.Problem`. They run after the schema passed.

Add a check: write ``generators/checks/<name>.py`` with ``check(ctx)`` and list it in ``CHECKS``. A monitor
kind's own rules belong in its ``check`` facet (``generators/kinds/<kind>.py``), run by :mod:`.kinds`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Problem
from ..model import Defaults
from . import (cloudwatch, environments, expressions, jobs, kinds, matchers, names, namespaces, references, required,
               routing, templates)

CHECKS = {m.__name__.rsplit(".", 1)[1]: m for m in (
    required, environments, names, references, matchers, kinds, templates, expressions, cloudwatch, jobs, namespaces,
    routing)}
"""Every catalog check, in the order they run (name -> module)."""


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
    for module in CHECKS.values():
        problems.extend(module.check(ctx))
    return problems


def check_docs() -> dict[str, str]:
    """name -> first line of the check's docstring (for `mlmon check --list`)."""
    return {n: (m.__doc__ or "").strip().splitlines()[0] for n, m in CHECKS.items()}
