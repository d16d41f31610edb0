"""A reference model of the PromQL semantics the monitor kinds need, in plain Python, written from Prometheus'
documentation and engine (2.x), not from mlmon's generators: instant selectors with the 5m lookback and staleness
markers, range selectors, ``rate``/``increase`` with counter resets and extrapolation, ``*_over_time``,
``histogram_quantile``, aggregation and set matching, and an alerting rule's ``for``.

Series are sampled every ``iv`` seconds from t=0: a value is a float, ``None`` (no sample) or ``STALE`` (a staleness
marker). Label sets are dicts including ``__name__``; results are ``{labels without __name__ (frozen): value}``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

STALE = "stale"
LOOKBACK = 300


def key(labels: dict) -> tuple:
    return tuple(sorted((k, v) for k, v in labels.items() if k != "__name__" and v != ""))


@dataclass
class Series:
    labels: dict
    values: list  # per sample: float | None | STALE

    def notation(self) -> str:
        """promtool's input notation (one explicit value per sample)."""
        out = []
        for v in self.values:
            out.append("_" if v is None else "stale" if v == STALE else repr(float(v)))
        return " ".join(out)

    def name(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()) if k != "__name__")
        return f"{self.labels['__name__']}{{{inner}}}"


class World:
    def __init__(self, series: list[Series], iv: int):
        self.series = series
        self.iv = iv

    def select(self, metric: str, matchers: dict[str, str] | None = None) -> list[Series]:
        out = []
        for s in self.series:
            if s.labels["__name__"] != metric:
                continue
            if all(_matches(s.labels.get(k, ""), m) for k, m in (matchers or {}).items()):
                out.append(s)
        return out

    # --- selectors ---------------------------------------------------------------------------------------
    def instant(self, s: Series, t: int):
        """The sample an instant selector reads at ``t``: the latest at or before t, at most 5m old; a staleness
        marker (or nothing) reads as no value."""
        i = min(t // self.iv, len(s.values) - 1)
        while i >= 0 and i * self.iv >= t - LOOKBACK:
            v = s.values[i]
            if v is not None:
                return None if v == STALE else float(v)
            i -= 1
        return None

    def range(self, s: Series, t: int, w: int) -> list[tuple[int, float]]:
        """Samples in the closed range ``[t - w, t]`` (staleness markers dropped)."""
        out = []
        for i, v in enumerate(s.values):
            ts = i * self.iv
            if t - w <= ts <= t and v is not None and v != STALE:
                out.append((ts, float(v)))
        return out

    # --- functions ---------------------------------------------------------------------------------------
    def increase(self, s: Series, t: int, w: int, is_rate: bool = False):
        pts = self.range(s, t, w)
        if len(pts) < 2:
            return None
        result = pts[-1][1] - pts[0][1]
        for (_, a), (_, b) in zip(pts, pts[1:]):
            if b < a:  # counter reset: the counter restarted from zero
                result += a
        start, end = t - w, t
        to_start = (pts[0][0] - start)
        to_end = (end - pts[-1][0])
        sampled = pts[-1][0] - pts[0][0]
        avg = sampled / (len(pts) - 1)
        if result > 0 and pts[0][1] >= 0:
            to_zero = sampled * (pts[0][1] / result)
            to_start = min(to_start, to_zero)
        threshold = avg * 1.1
        interval = sampled
        interval += to_start if to_start < threshold else avg / 2
        interval += to_end if to_end < threshold else avg / 2
        result *= interval / sampled
        return result / w if is_rate else result

    def rate(self, s: Series, t: int, w: int):
        return self.increase(s, t, w, is_rate=True)

    def over_time(self, fn: str, s: Series, t: int, w: int, q: float | None = None):
        xs = [v for _, v in self.range(s, t, w)]
        if not xs:
            return None
        if fn == "avg":
            return sum(xs) / len(xs)
        if fn == "min":
            return min(xs)
        if fn == "max":
            return max(xs)
        if fn == "quantile":
            return quantile(q, xs)
        raise ValueError(fn)


def _matches(value: str, matcher: str) -> bool:
    for op in ("=~", "!~", "!="):
        if matcher.startswith(op):
            pat = matcher[len(op):]
            if op == "=~":
                return re.fullmatch(pat, value) is not None
            if op == "!~":
                return re.fullmatch(pat, value) is None
            return value != pat
    return value == matcher


def quantile(q: float, xs: list[float]) -> float:
    xs = sorted(xs)
    rank = q * (len(xs) - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def histogram_quantile(q: float, buckets: list[tuple[float, float]]):
    """Prometheus' ``histogram_quantile`` over ``[(le, cumulative count)]``."""
    buckets = sorted(buckets)
    if len(buckets) < 2 or not math.isinf(buckets[-1][0]):
        return math.nan
    counts = []
    best = 0.0
    for _, c in buckets:  # non-monotonic buckets are made monotonic
        best = max(best, c)
        counts.append(best)
    total = counts[-1]
    if total == 0:
        return math.nan
    rank = q * total
    b = next(i for i, c in enumerate(counts) if c >= rank)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, end = (0.0, buckets[0][0]) if b == 0 else (buckets[b - 1][0], buckets[b][0])
    prev = 0.0 if b == 0 else counts[b - 1]
    count = counts[b] - prev
    return start + (end - start) * ((rank - prev) / count)


def sum_by(values: dict[tuple, float], by: tuple[str, ...]) -> dict[tuple, float]:
    out: dict[tuple, float] = {}
    for k, v in values.items():
        g = tuple((a, b) for a, b in k if a in by)
        out[g] = out.get(g, 0.0) + v
    return out


def project(k: tuple, on: tuple[str, ...]) -> tuple:
    return tuple((a, b) for a, b in k if a in on)


def alert_timeline(active_at_each: list[dict[tuple, float]], iv: int, for_: int) -> list[set[tuple]]:
    """Firing label sets at each evaluation: a label set fires once its condition has held at every evaluation
    for at least ``for`` (pending from the first evaluation it holds)."""
    since: dict[tuple, int] = {}
    out = []
    for i, active in enumerate(active_at_each):
        t = i * iv
        since = {k: since.get(k, t) for k in active}
        out.append({k for k, t0 in since.items() if t - t0 >= for_})
    return out
