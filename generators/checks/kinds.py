"""Each monitor kind's own rules (the ``check`` facet of ``generators/kinds/<kind>.py``): thresholds and slopes
the metric's declared `range` can never reach, in any environment, and overrides the kind does not take.

Examples: a score in [0, 1] "below -0.1"; a trend of `deriv(score[6h]) < -0.01` (deriv is per second, so a
[0, 1] score would have to fall by 216 in six hours); an SLO whose objective is so low that the page burn rate
needs an error ratio above 100 %; a severity override on a ratio SLO (it takes page/ticket severities).
"""

from ..kinds import kind_of


def check(ctx):
    for src, svc, i, mon in ctx.monitors():
        for path, message in kind_of(mon).check(mon, svc):
            yield src.problem(("monitors", i) + tuple(path), message)
