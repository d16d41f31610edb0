"""Prometheus' alerting state machine, replayed over an evaluation grid.

What ``rules/alerting.go`` (``AlertingRule.Eval``, Prometheus 2.42) does at each evaluation ``ts`` of the
rule's group, per label set of the expression's result (``__name__`` dropped, the rule's labels set):

- present and no active alert (or only a resolved one): a new alert, ``pending``, ``ActiveAt = ts``;
- present and already pending/firing: kept (``ActiveAt`` unchanged); ``KeepFiringSince`` is cleared;
- pending and ``ts - ActiveAt >= for``: ``firing`` (so ``for: 0`` fires at the first evaluation);
- absent and pending: deleted (``keep_firing_for`` never applies to a pending alert);
- absent and firing: with ``keep_firing_for``, ``KeepFiringSince`` is set to the first absent ``ts`` and
  the alert stays firing while ``ts - KeepFiringSince < keep_firing_for``; otherwise it is resolved.

On an evaluation grid ``t_i = t_0 + i * interval`` this is, per label set, a function of the runs of
consecutive evaluations where it is present: a run starting at step ``a`` fires from ``a + ceil(for /
interval)`` if the run lasts that long; a firing alert whose label set disappears after step ``b`` keeps
firing through step ``b + ceil(keep_firing_for / interval)`` and merges with a run starting no later than
one step after that. :func:`firing_intervals` implements exactly that, in time linear in the number of runs;
``tests/test_backtest_promtool.py`` checks it (and everything around it) against ``promtool test rules``.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass


def steps_for(duration: int, interval: int) -> int:
    """Evaluations needed to cover ``duration`` (``for``: the smallest k with k * interval >= duration;
    ``keep_firing_for``: the number of k >= 0 with k * interval < duration)."""
    return math.ceil(duration / interval) if duration > 0 else 0


def runs(steps: list[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive step indices, ``[(first, last)]`` (``steps`` sorted, distinct)."""
    out: list[tuple[int, int]] = []
    for s in steps:
        if out and s == out[-1][1] + 1:
            out[-1] = (out[-1][0], s)
        else:
            out.append((s, s))
    return out


def firing_intervals(present: list[int], n_steps: int, for_steps: int, keep_steps: int) -> list[tuple[int, int]]:
    """Steps at which one label set's alert is firing, as half-open ``[(start, end)]`` step ranges.

    ``present``: sorted, distinct step indices (0 .. n_steps-1) at which the label set is in the expression's
    result. An interval still firing at the last step ends at ``n_steps``."""
    out: list[tuple[int, int]] = []
    cur_start = cur_last = None  # the open firing episode: first firing step, last present step
    for a, b in runs(present):
        if cur_start is not None and a <= cur_last + keep_steps + 1:
            cur_last = b  # still firing (kept) when it came back: the same episode
            continue
        if cur_start is not None:
            out.append((cur_start, min(cur_last + keep_steps + 1, n_steps)))
            cur_start = None
        fire = a + for_steps
        if fire <= b:
            cur_start, cur_last = fire, b
    if cur_start is not None:
        out.append((cur_start, min(cur_last + keep_steps + 1, n_steps)))
    return out


Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Episode:
    """One firing episode of one label set: ``start`` is the first evaluation at which it fired, ``end`` the
    first at which it no longer did (unix seconds); ``ongoing`` when it was still firing at the range end,
    ``before`` when it was already firing at the range start (``start`` is then the range start)."""

    labels: Labels
    start: int
    end: int
    ongoing: bool = False
    before: bool = False

    @property
    def seconds(self) -> int:
        return self.end - self.start

    def overlaps(self, other: "Episode") -> bool:
        return self.labels == other.labels and self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Grid:
    """Evaluation timestamps ``start, start + interval, ...`` (``n`` of them); steps before ``report_from``
    are a warm-up (an alert pending or kept firing when the range begins), not reported."""

    start: int
    interval: int
    n: int
    report_from: int = 0

    @property
    def end(self) -> int:
        return self.start + (self.n - 1) * self.interval

    def ts(self, step: int) -> int:
        return self.start + step * self.interval

    def step(self, ts: float) -> int:
        return round((ts - self.start) / self.interval)


def episodes(presence: dict[Labels, list[int]], grid: Grid, for_: int, keep_firing_for: int) -> list[Episode]:
    """Firing episodes of every label set, sorted by start then labels, clipped to the reported range."""
    fs, ks = steps_for(for_, grid.interval), steps_for(keep_firing_for, grid.interval)
    out = []
    for labels, present in presence.items():
        for s, e in firing_intervals(present, grid.n, fs, ks):
            if e <= grid.report_from:
                continue
            before = s < grid.report_from
            s = max(s, grid.report_from)
            out.append(Episode(labels, grid.ts(s), grid.ts(e), ongoing=e >= grid.n, before=before))
    return sorted(out, key=lambda e: (e.start, e.labels))


def only_in(mine: list[Episode], theirs: list[Episode]) -> list[Episode]:
    """Episodes of ``mine`` that no episode of ``theirs`` (same labels) overlaps (n log n: a month of a noisy
    alert has thousands of episodes)."""
    spans: dict[Labels, tuple[list[int], list[int]]] = {}
    grouped: dict[Labels, list[tuple[int, int]]] = {}
    for e in theirs:
        grouped.setdefault(e.labels, []).append((e.start, e.end))
    for labels, items in grouped.items():
        items.sort()
        starts, reach, far = [], [], None
        for s, e in items:
            far = e if far is None else max(far, e)
            starts.append(s)
            reach.append(far)  # the latest end among the episodes starting up to here
        spans[labels] = (starts, reach)
    out = []
    for e in mine:
        found = spans.get(e.labels)
        if found is not None:
            starts, reach = found
            i = bisect.bisect_left(starts, e.end)  # episodes starting before e ends
            if i and reach[i - 1] > e.start:
                continue
        out.append(e)
    return out
