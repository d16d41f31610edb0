"""``mlmon backtest``: what a rule change would have done on real history.

The pipeline, one module per step:

- :mod:`.rules`: the alerting rules (and the recording rules of the same rule file) taken from the RENDERED
  artifacts of a catalog (``generators.render.render``), so the backtest evaluates exactly what would be
  deployed;
- :mod:`.promql`: recording rules the alert reads are inlined into its expression; the signal the
  threshold compares (the comparison's left-hand side) is derived by parsing the expression;
- :mod:`.client`: a small Prometheus HTTP API client, ``query_range`` chunked under Prometheus'
  11,000-points-per-series limit;
- :mod:`.engine`: Prometheus' alerting state machine (``rules/alerting.go``: pending -> firing after
  ``for``, ``keep_firing_for``, reset when the label set disappears), per label set, at the rule group's
  evaluation interval; firing episodes and their comparison between two versions;
- :mod:`.run`: both versions of every selected alert over a range, against one Prometheus;
- :mod:`.report` (text, Markdown, JSON) and :mod:`.plot` (matplotlib, imported only for ``--plots``).

Correctness is checked against ``promtool test rules`` on the same synthetic series
(``tests/test_backtest_promtool.py``).
"""
