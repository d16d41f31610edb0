"""Catalog settings of generated runbooks (``runbooks:`` in ``alerts/_defaults.yaml``)."""

from __future__ import annotations

from .types import Strict, TemplateText


class RunbookSettings(Strict):
    """Where runbook pages live and how their URLs look.

    ``mlmon runbooks --out DIR`` writes one page per alert to ``DIR/<service>/<AlertName>.md``; publish DIR
    at ``runbook_base`` (``Defaults.runbook_base``, or a service's ``links.runbook_base`` for DIR/<service>)
    and every rule's ``runbook_url`` (``<base>/<service>/<AlertName><url_suffix>``) opens its page.
    """

    url_suffix: TemplateText = ".md"
    """Appended to the alert name in runbook URLs: ``.md`` when DIR is browsed as files (e.g. on GitHub),
    ``""`` or ``.html`` for a site generator that serves pages without it."""
    handwritten: str = "docs/runbooks"
    """Directory of hand-written runbooks (relative to the repository root, the catalog directory's parent)
    whose generated sections (``<!-- mlmon:begin AlertName -->`` ... ``<!-- mlmon:end -->``) ``mlmon runbooks
    --update`` refreshes and ``mlmon check`` keeps fresh."""
