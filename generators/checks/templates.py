"""Every text that reaches a Prometheus template (the annotations and labels of every alert, in every environment)
only uses template actions mlmon can render and test: `{{ $value }}`, `{{ $value | humanize }}` (or
`humanize1024`, `humanizePercentage`, `humanizeDuration`), `{{ printf "%.4g" $value }}` and `{{ $labels.NAME }}` in
annotations, none in labels.

The fields themselves are checked by the schema (``TemplateText``, ``LabelValue`` in ``generators/types.py``);
this check is the net for everything else that flows into an annotation (titles in default summaries,
remediation commands, matchers, ...): it renders the annotations of the services whose text holds an action
mlmon does not support (or a lone ``{`` at an end), so a catalog without one costs nothing."""

from ..templating import SUPPORTED, unsupported


def _needs_rendering(data) -> bool:
    """Some text of ``data`` holds a template action mlmon does not support, an unclosed ``{{``, or starts or
    ends with ``{`` (next to generated text it could form one). Only then are the annotations rendered: text
    whose actions are all supported cannot produce an unsupported one (the schema already checked labels)."""
    stack = [data]
    while stack:
        d = stack.pop()
        if isinstance(d, str):
            if ("{{" in d and unsupported(d)) or d.startswith("{") or d.endswith("{"):
                return True
        elif isinstance(d, dict):
            stack.extend(d.values())
            stack.extend(k for k in d if isinstance(k, str))
        elif isinstance(d, list):
            stack.extend(d)
    return False


def check(ctx):
    from .. import alertmeta
    from ..resolve import resolve_service

    defaults_braces = _needs_rendering(ctx.defaults.model_dump(mode="json"))
    for src, svc in ctx.services:
        if not (defaults_braces or _needs_rendering(src.data)):
            continue
        index = {id(m): i for i, m in enumerate(svc.monitors)}
        seen = set()
        for env in ctx.defaults.environments:
            try:
                rs = resolve_service(svc, env, ctx.defaults, src.rel)
                texts = [(a, kind, key, value) for a in rs.alerts
                         for kind, pairs in (("annotation", alertmeta.annotations(a, rs)),
                                             ("label", alertmeta.labels(a, rs)))
                         for key, value in pairs.items()]
            except Exception:  # noqa: BLE001 - another check reports what keeps this service from resolving
                continue
            for a, kind, key, value in texts:
                bad = unsupported(value) if kind == "annotation" else (["{{"] if "{{" in value else [])
                if bad and (a.name, kind, key) not in seen:
                    seen.add((a.name, kind, key))
                    rule = f"use {SUPPORTED}" if kind == "annotation" else "labels may hold no template action"
                    yield src.problem(("monitors", index.get(id(a.monitor), 0)), (
                        f"the {kind} {key} of alert {a.name} holds the template action {bad[0]}, which Prometheus "
                        f"would execute; {rule} (it comes from the catalog text rendered into it)"))
