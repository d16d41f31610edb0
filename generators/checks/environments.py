"""Overrides may only name environments the catalog defines (a typo like `prd` must not be ignored)."""


def check(ctx):
    envs = set(ctx.defaults.environments)
    expected = ", ".join(ctx.defaults.environments)
    for src, svc, i, mon in ctx.monitors():
        for env in mon.overrides:
            if env not in envs:
                yield src.problem(("monitors", i, "overrides", env), f"unknown environment; expected one of {expected}")
        for j, lvl in enumerate(mon.levels):
            for env in lvl.overrides:
                if env not in envs:
                    yield src.problem(("monitors", i, "levels", j, "overrides", env),
                                      f"unknown environment; expected one of {expected}")
