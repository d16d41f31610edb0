"""Summaries and descriptions only use template actions mlmon can render and test:
`{{ $value }}`, `{{ $value | humanize }}` (or `humanize1024`, `humanizePercentage`, `humanizeDuration`),
`{{ printf "%.4g" $value }}` and `{{ $labels.NAME }}`."""

from ..templating import unsupported


def check(ctx):
    for src, svc, i, mon in ctx.monitors():
        for field in ("summary", "description"):
            text = getattr(mon, field)
            if text:
                for action in unsupported(text):
                    yield src.problem(("monitors", i, field), (
                        f"template action {action} is not supported; use {{{{ $value }}}}, "
                        f"{{{{ $value | humanize }}}} (humanize1024, humanizePercentage, humanizeDuration), "
                        f"{{{{ printf \"%.4g\" $value }}}} or {{{{ $labels.NAME }}}}"))
