"""Labelled alert scenarios for ``bench/alert_quality.py``.

A *probe* knows how one alert's monitored quantity is fed to Prometheus: which series to write and how a
per-sample *level* (a gauge value, a counter's increment per sample, an error ratio, the share of slow
requests, ...) becomes sample values. It also carries a small reference model of the catalog's condition
(:meth:`Probe.holds`): the condition evaluated exactly on the true signal, without Prometheus' sampling,
extrapolation or evaluation timing. The benchmark uses it for two things only: to sanity-check that each
scenario is labelled right (a "must stay quiet" scenario never satisfies the condition for ``for``), and to
report how much of a detection delay the catalog's own window accounts for ("window lag").

A scenario is a timeline of levels, one per evaluation interval, plus its label: the degradation start
``t0`` and whether the alert must fire (``expect_fire``) or stay quiet. Everything is deterministic.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace

from generators.durations import format_duration
from generators.model import (AbsentMonitor, FailuresMonitor, FlagMonitor, LatencyMonitor, RatioMonitor,
                              StalledMonitor, ThresholdMonitor, TrendMonitor)
from generators.kinds.ratio import burn_windows
from generators.kindspec import PER_SECONDS, threshold_in_metric_units
from generators.prometheus.series import base_labels, fmt, series_name, split_counters

LOOKBACK = 300  # Prometheus' default lookback delta: an instant selector sees samples up to 5m old
COUNTER_BASE = 1000.0


# ---------------------------------------------------------------------------------------------
# timeline entries besides plain levels


@dataclass(frozen=True)
class Gap:
    """No sample is scraped; the world (a counter's increments) goes on at ``level``."""

    level: object


@dataclass(frozen=True)
class Reset:
    """The process restarts: counters start again from zero, then grow by ``level``."""

    level: object


@dataclass(frozen=True)
class Stale:
    """The series disappears (Prometheus writes a staleness marker)."""


def level_of(entry):
    return entry.level if isinstance(entry, (Gap, Reset)) else entry


def present(entry) -> bool:
    return not isinstance(entry, (Gap, Stale))


# ---------------------------------------------------------------------------------------------
# encoding per-sample values in promtool's notation


def encode_values(values: list) -> str:
    """Per-sample values (floats, ``None`` = no sample, ``"stale"``) in promtool's expanding notation,
    run-length encoded (``a+bxn`` is n+1 samples, ``_xn`` n blanks)."""
    out: list[str] = []
    i = 0
    n = len(values)
    while i < n:
        v = values[i]
        if v is None:
            j = i
            while j < n and values[j] is None:
                j += 1
            out.append(f"_x{j - i}" if j - i > 1 else "_")
            i = j
            continue
        if v == "stale":
            out.append("stale")
            i += 1
            continue
        j = i + 1
        step = None
        while j < n and isinstance(values[j], float):
            d = round(values[j] - values[j - 1], 9)
            if step is None:
                step = d
            elif d != step:
                break
            j += 1
        if j - i == 1:
            out.append(fmt(v))
        else:
            sign = "+" if step >= 0 else "-"
            out.append(f"{fmt(v)}{sign}{fmt(abs(step))}x{j - i - 1}")
        i = j
    return " ".join(out)


def _counter_values(incs: list, timeline: list, base: float = COUNTER_BASE) -> list:
    """Cumulative counter samples from per-sample increments; resets restart from zero."""
    out: list = []
    total = base
    for k, (inc, entry) in enumerate(zip(incs, timeline)):
        inc = _exact(inc)
        if isinstance(entry, Reset):
            total = inc
        elif k > 0:
            total += inc
        out.append(total if present(entry) else None)
    return out


def _exact(x: float) -> float:
    """Round to a multiple of 1/1024: sums of such numbers are exact in binary floating point, so the
    values promtool expands from ``a+bxn`` (by repeated addition) join the next run without a tiny
    decrease, which Prometheus would take for a counter reset."""
    return round(float(x) * 1024) / 1024


_PREFIX: dict[int, tuple[list, list]] = {}


def _prefix(timeline: list) -> list[float]:
    """Prefix sums of a timeline's (scalar) levels, cached per timeline object."""
    hit = _PREFIX.get(id(timeline))
    if hit is not None and hit[0] is timeline:
        return hit[1]
    out = [0.0]
    for e in timeline:
        out.append(out[-1] + float(level_of(e)))
    _PREFIX[id(timeline)] = (timeline, out)
    return out


def _window(i: int, window: int, iv: int) -> range:
    """Sample indices inside the closed range selector ``[t - window, t]`` at sample ``i``."""
    return range(max(0, i - window // iv), i + 1)


def _incs(i: int, window: int, iv: int) -> range:
    """Indices whose increment (from the previous sample) falls inside the window ending at ``i``."""
    return range(max(1, i - window // iv + 1), i + 1)


# ---------------------------------------------------------------------------------------------
# probes: one per monitor kind (and threshold variant)


@dataclass
class Probe:
    kind: str  # e.g. "threshold/avg", "ratio-slo"
    iv: int
    window: int
    op: str  # "above" | "below" | "eq": which side of ``thr`` (in level units) is bad
    thr: float
    lo: float | None = None  # natural range of the level
    hi: float | None = None
    counter: bool = False
    scenarios: tuple = ("step", "drift", "noise", "spike", "gap", "gap-degraded")

    # levels ------------------------------------------------------------------------------------
    def _span(self, frac: float) -> float:
        """A level ``frac`` of the way from the threshold to the bad end of the range (or 1x the threshold)."""
        if self.op in ("above", "above_or_equal"):
            limit = self.hi if self.hi is not None else self.thr * 2 if self.thr > 0 else self.thr + 2
        else:
            limit = self.lo if self.lo is not None else self.thr / 2 if self.thr > 0 else self.thr - 2
        return self.thr + (limit - self.thr) * frac

    def _good_span(self, frac: float) -> float:
        if self.op in ("above", "above_or_equal"):
            limit = self.lo if self.lo is not None else 0.0
        else:
            limit = self.hi if self.hi is not None else self.thr * 2 if self.thr > 0 else self.thr + 2
        return self.thr + (limit - self.thr) * frac

    def bad(self):
        return self._span(0.5)

    def healthy(self):
        return self._good_span(0.5)

    def inside(self):
        """Close to the threshold, on the good side (the mean of the noise scenario)."""
        return self._good_span(0.15)

    def noisy(self, rnd: random.Random, excursions: bool = True):
        """One noisy sample between the threshold and the healthy level; now and then (single samples,
        12 %) just past the threshold."""
        h = self.healthy()
        if excursions and rnd.random() < 0.12:
            return self.thr - (h - self.thr) * 0.05
        return self.thr + (h - self.thr) * rnd.uniform(0.2, 0.8)

    def lerp(self, a, b, f: float):
        return a + (b - a) * f

    def breaches(self, value: float) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        if self.op == "above":
            return value > self.thr
        if self.op == "below":
            return value < self.thr
        if self.op == "above_or_equal":
            return value >= self.thr
        if self.op == "below_or_equal":
            return value <= self.thr
        return value == self.thr

    # to be provided per probe ------------------------------------------------------------------
    def encode(self, timeline: list) -> list[tuple[str, list]]:
        raise NotImplementedError

    def value(self, timeline: list, i: int):
        """The monitored quantity at sample ``i``, computed exactly on the true signal (None: no data)."""
        raise NotImplementedError

    def holds(self, timeline: list, i: int) -> bool:
        return self.breaches(self.value(timeline, i))


@dataclass
class GaugeProbe(Probe):
    """Plain or ``<fn>_over_time``-smoothed gauge thresholds, and flags (op ``eq``)."""

    series: str = ""
    fn: str | None = None
    quantile: float | None = None

    def encode(self, timeline):
        vals = []
        for e in timeline:
            vals.append("stale" if isinstance(e, Stale) else None if isinstance(e, Gap) else float(e))
        return [(self.series, vals)]

    def value(self, timeline, i):
        if self.fn is None:
            for j in range(i, max(-1, i - LOOKBACK // self.iv - 1), -1):
                e = timeline[j]
                if isinstance(e, Stale):
                    return None
                if present(e):
                    return float(level_of(e))
            return None
        xs = [float(level_of(timeline[j])) for j in _window(i, self.window, self.iv) if present(timeline[j])]
        if not xs:
            return None
        if self.fn == "avg":
            return sum(xs) / len(xs)
        if self.fn == "min":
            return min(xs)
        if self.fn == "max":
            return max(xs)
        xs.sort()
        rank = self.quantile * (len(xs) - 1)
        lo = math.floor(rank)
        hi = min(lo + 1, len(xs) - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


@dataclass
class FlagProbe(GaugeProbe):
    def bad(self):
        return self.thr

    def healthy(self):
        return 0.0 if self.thr != 0 else 1.0

    inside = healthy

    def noisy(self, rnd, excursions=True):
        return self.healthy()

    def lerp(self, a, b, f):
        return a if f < 0.5 else b


@dataclass
class TrendProbe(Probe):
    """``deriv(m[window]) * per``: levels are gauge values; degradations are ramps at a slope."""

    series: str = ""
    per: int = 3600
    start: float = 0.5

    def encode(self, timeline):
        return [(self.series, [None if not present(e) else float(level_of(e)) for e in timeline])]

    def slope_step(self, slope_per: float) -> float:
        return slope_per / self.per * self.iv

    def value(self, timeline, i):
        pts = [(j * self.iv, float(level_of(timeline[j]))) for j in _window(i, self.window, self.iv)
               if present(timeline[j])]
        if len(pts) < 2:
            return None
        n = len(pts)
        mx = sum(t for t, _ in pts) / n
        my = sum(v for _, v in pts) / n
        sxx = sum((t - mx) ** 2 for t, _ in pts)
        sxy = sum((t - mx) * (v - my) for t, v in pts)
        return sxy / sxx * self.per


@dataclass
class CounterProbe(Probe):
    """``rate``/``increase`` thresholds and failures: levels are a counter's increments per sample."""

    series: str = ""
    fn: str = "increase"  # "rate": levels are per-second rates; "increase": increases per window;
    # "count" (failures): levels are events per sample

    def per_sample(self, level: float) -> float:
        if self.fn == "rate":
            return level * self.iv
        if self.fn == "increase":
            return level * self.iv / self.window
        return level

    def to_incs(self, timeline):
        return [self.per_sample(float(level_of(e))) for e in timeline]

    def encode(self, timeline):
        return [(self.series, _counter_values(self.to_incs(timeline), timeline))]

    def value(self, timeline, i):
        incs = self.to_incs(timeline)
        s = sum(incs[j] for j in _incs(i, self.window, self.iv))
        return s / self.window if self.fn == "rate" else s


@dataclass
class FailuresProbe(CounterProbe):
    """Failures: any failure within the window is the condition; levels are failures per sample."""

    def bad(self):
        return math.floor(self.thr) + 1.0

    def healthy(self):
        return 0.0

    inside = healthy

    def lerp(self, a, b, f):
        return a if f < 1 else b

    def encode(self, timeline):
        # a failures counter starts at 0 with its process: one that starts high reads as a new series whose
        # whole value counts (a failure) while it is younger than the window
        return [(self.series, _counter_values(self.to_incs(timeline), timeline, base=0.0))]


@dataclass
class RatioProbe(Probe):
    """Ratio of two counters' rates (``threshold`` with ``denominator``): levels are the part's share of
    the traffic (an error ratio); ``traffic`` events per sample."""

    split: tuple = ((), False)
    traffic: float = 60.0
    as_part: object = None  # maps an error ratio to the numerator's share (good form: 1 - r)

    def _part(self, r):
        return self.as_part(r) if self.as_part else r

    def encode(self, timeline):
        series, part_in_total = self.split
        parts = [s for s, role in series if role == "part"]
        rests = [s for s, role in series if role == "rest"]
        out = []
        for names, share in ((parts, lambda r: self._part(r)),
                             (rests, (lambda r: 1 - self._part(r)) if part_in_total else (lambda r: 1.0))):
            for name in names:
                incs = [self.traffic * share(float(level_of(e))) / len(names) for e in timeline]
                out.append((name, _counter_values(incs, timeline)))
        return out

    def ratio(self, timeline, i, window):
        js = _incs(i, window, self.iv)
        total = self.traffic * len(js)
        if not js:
            return None, 0.0
        pre = _prefix(timeline)
        return (pre[js.stop] - pre[js.start]) / len(js), total

    def value(self, timeline, i):
        r, total = self.ratio(timeline, i, self.window)
        return r if total > 0 else None


@dataclass
class SLOProbe(RatioProbe):
    """Multiwindow burn-rate alerts of a ratio SLO: levels are error ratios."""

    pairs: tuple = ()  # (long, short, factor * budget)
    min_rate: float = 0.0  # events per second the guard needs over the short window

    def value(self, timeline, i):
        return 1.0 if self.holds(timeline, i) else 0.0

    def holds(self, timeline, i):
        for long, short, bound in self.pairs:
            rl, _ = self.ratio(timeline, i, long)
            rs, total = self.ratio(timeline, i, short)
            if rl is None or rs is None:
                continue
            events_per_s = total / short
            if rl > bound and rs > bound and events_per_s >= self.min_rate:
                return True
        return False


@dataclass
class LatencyProbe(Probe):
    """``histogram_quantile(q, rate(buckets[window]))``: levels are the share of observations on the bad
    side of the threshold; ``traffic`` observations per sample."""

    names: tuple = ()  # bucket series, le ascending (b0, thr, b2, +Inf)
    quantile: float = 0.95
    hist_op: str = "above"
    traffic: float = 60.0

    def encode(self, timeline):
        out = []
        for k, name in enumerate(self.names):
            incs = []
            for e in timeline:
                f = float(level_of(e))
                good, bad = (1 - f) * self.traffic, f * self.traffic
                if self.hist_op in ("above", "above_or_equal"):  # good observations <= b0, bad ones in (thr, b2]
                    cum = [good, good, good + bad, good + bad]
                else:  # bad observations in (b0, thr], good ones in (thr, b2]
                    cum = [0.0, bad, bad + good, bad + good]
                incs.append(cum[k])
            out.append((name, _counter_values(incs, timeline)))
        return out

    def value(self, timeline, i):
        js = _incs(i, self.window, self.iv)
        if not js:
            return None
        pre = _prefix(timeline)
        return (pre[js.stop] - pre[js.start]) / len(js)


@dataclass
class StalledProbe(Probe):
    """Backlog above ``thr`` while the progress counter did not move in ``window``: levels are
    ``(backlog, progress increments per sample)``."""

    backlog: str = ""
    progress: str = ""
    tolerance: int = 0
    scenarios: tuple = ("step", "idle", "slow-progress", "reset", "gap")

    def healthy(self):
        return (self.thr + 20, 5.0)

    def bad(self):
        return (self.thr + 20, 0.0)

    inside = healthy

    def lerp(self, a, b, f):
        return a if f < 1 else b

    def encode(self, timeline):
        back = [None if not present(e) else float(level_of(e)[0]) for e in timeline]
        incs = [float(level_of(e)[1]) for e in timeline]
        return [(self.backlog, back), (self.progress, _counter_values(incs, timeline))]

    def value(self, timeline, i):
        e = timeline[i]
        backlog, _ = level_of(e)
        if i * self.iv < self.window or not present(timeline[i - self.window // self.iv]):
            return 0.0  # not watched for a whole window yet
        moved = sum(level_of(timeline[j])[1] for j in _incs(i, self.window, self.iv))
        waited = all(present(timeline[j]) and level_of(timeline[j])[0] > self.thr
                     for j in _window(i, self.tolerance, self.iv)) if self.tolerance else True
        return 1.0 if backlog > self.thr and waited and moved == 0 else 0.0

    def holds(self, timeline, i):
        return self.value(timeline, i) == 1.0


@dataclass
class AbsentProbe(Probe):
    series: str = ""
    scenarios: tuple = ("vanish", "scrape-gap", "blip")

    def encode(self, timeline):
        return [(self.series, ["stale" if isinstance(e, Stale) else None if isinstance(e, Gap) else 1.0
                               for e in timeline])]

    def value(self, timeline, i):
        for j in range(i, max(-1, i - LOOKBACK // self.iv - 1), -1):
            if isinstance(timeline[j], Stale):
                return 1.0
            if present(timeline[j]):
                return 0.0
        return 1.0

    def holds(self, timeline, i):
        return self.value(timeline, i) == 1.0


# ---------------------------------------------------------------------------------------------
# building the probe of an alert


def probe_for(a, rs) -> Probe | None:
    m = a.monitor
    iv = rs.defaults.evaluation_interval
    svc = rs.service

    def rng(metric):
        d = svc.metrics.get(metric)
        return d.range if d and d.range else (None, None)

    def one(metric, matchers, suffix=""):
        return series_name(metric + suffix, base_labels(rs, metric, matchers))

    if isinstance(m, ThresholdMonitor):
        sm = m.smoothing
        if m.denominator is not None:
            split = split_counters(rs, [(m.metric, m.matchers)], [(d.metric, d.matchers) for d in m.denominator])
            return RatioProbe("threshold/ratio", iv, sm.window if sm else 300, m.op, a.threshold, 0.0, 1.0,
                              counter=True, split=split,
                              scenarios=("step", "drift", "noise", "spike", "reset", "gap", "gap-degraded"))
        if sm is not None and sm.function in ("rate", "increase"):
            return CounterProbe(f"threshold/{sm.function}", iv, sm.window, m.op, a.threshold, 0.0, None, counter=True,
                                series=one(m.metric, m.matchers), fn=sm.function,
                                scenarios=("step", "drift", "noise", "spike", "reset", "gap", "gap-degraded"))
        lo, hi = rng(m.metric)
        fn = sm.function if sm else None
        return GaugeProbe(f"threshold/{fn or 'plain'}", iv, sm.window if sm else 0, m.op, a.threshold, lo, hi,
                          series=one(m.metric, m.matchers), fn=fn, quantile=sm.quantile if sm else None)
    if isinstance(m, FlagMonitor):
        return FlagProbe("flag", iv, 0, "eq", a.threshold, 0.0, 1.0, series=one(m.metric, m.matchers),
                         scenarios=("step", "spike", "gap", "gap-degraded"))
    if isinstance(m, TrendMonitor):
        lo, hi = rng(m.metric)
        start = (lo + hi) / 2 if lo is not None else 100.0
        return TrendProbe("trend", iv, m.window, m.op, a.threshold, series=one(m.metric, m.matchers),
                          per=PER_SECONDS[m.per], start=start, scenarios=("step", "noise", "gap"))
    if isinstance(m, FailuresMonitor):
        return FailuresProbe("failures", iv, m.window, "above", a.threshold, 0.0, None, counter=True,
                             series=one(m.metric, m.matchers), fn="count",
                            scenarios=("step", "burst", "reset", "gap", "gap-degraded"))
    if isinstance(m, StalledMonitor):
        return StalledProbe("stalled", iv, m.window, "above", a.threshold,
                            backlog=one(m.backlog.metric, m.backlog.matchers),
                            progress=one(m.progress.metric, m.progress.matchers), tolerance=m.tolerance)
    if isinstance(m, LatencyMonitor):
        labels = base_labels(rs, m.histogram, m.matchers)
        thr = threshold_in_metric_units(rs, m.histogram, a.threshold)
        les = [fmt(thr * 0.5), fmt(thr), fmt(thr * 2), "+Inf"]
        names = tuple(series_name(f"{m.histogram}_bucket", {**labels, "le": le}) for le in les)
        share = 1 - m.quantile if m.op in ("above", "above_or_equal") else m.quantile
        return LatencyProbe("latency", iv, m.window, "above", share, 0.0, 1.0, counter=True, names=names,
                            quantile=m.quantile, hist_op=m.op,
                            scenarios=("step", "drift", "noise", "spike", "reset", "gap", "gap-degraded"))
    if isinstance(m, AbsentMonitor):
        return AbsentProbe("absent", iv, 0, "above", 0.5, series=one(m.metric, m.matchers))
    if isinstance(m, RatioMonitor):
        part = m.bad if m.bad is not None else m.good
        split = split_counters(rs, [(s.metric, s.matchers) for s in part], [(s.metric, s.matchers) for s in m.total])
        budget = 1 - a.threshold
        pairs = tuple((bw.long, bw.short, bw.factor(m.period) * budget) for bw in burn_windows()[a.burn])
        low = min(p[2] for p in pairs)
        return SLOProbe(f"ratio-slo/{a.burn}", iv, max(p[0] for p in pairs), "above", low, 0.0, 1.0, counter=True,
                        split=split, traffic=600.0, as_part=None if m.bad is not None else (lambda r: 1 - r),
                        pairs=pairs, min_rate=m.min_events / 60.0,
                        scenarios=("step", "drift", "noise", "low-traffic", "reset", "gap"))
    return None  # raw monitors bring their own cases


# ---------------------------------------------------------------------------------------------
# the scenario library


@dataclass
class Scenario:
    alert: str
    name: str
    probe: Probe
    timeline: list
    expect_fire: bool
    t0: int | None = None  # degradation start (seconds)
    recover: int | None = None  # the world is healthy again from here
    measure_delay: bool = False  # counts toward the detection-delay target (step degradations)
    note: str = ""
    onset: int | None = field(default=None)  # first second the catalog's condition holds (reference model)

    @property
    def id(self) -> str:
        return f"{self.alert}/{self.name}"

    @property
    def end(self) -> int:
        return (len(self.timeline) - 1) * self.probe.iv

    def series(self) -> list[dict]:
        return [{"series": name, "values": encode_values(vals)} for name, vals in self.probe.encode(self.timeline)]

    def condition_runs(self) -> list[tuple[int, int]]:
        """(first, last) sample index of each run where the reference condition holds."""
        runs, start = [], None
        for i in range(len(self.timeline)):
            h = self.probe.holds(self.timeline, i)
            if h and start is None:
                start = i
            elif not h and start is not None:
                runs.append((start, i - 1))
                start = None
        if start is not None:
            runs.append((start, len(self.timeline) - 1))
        return runs


def _n(seconds: float, iv: int) -> int:
    return max(1, int(math.ceil(seconds / iv)))


def build_scenarios(a, probe: Probe, only: set[str] | None = None) -> list[Scenario]:
    iv, w, f = probe.iv, probe.window, a.for_
    pre = _n(max(w, LOOKBACK) + 10 * iv, iv)
    if isinstance(probe, SLOProbe):
        # long SLO windows (up to days) would make scenarios days long: the short windows fill with healthy
        # traffic, the long ones see the service's history since it started (the reference model does too)
        w = max(p[1] for p in probe.pairs)
        pre = _n(w + 10 * iv, iv)
    rnd = random.Random(f"{a.name}")  # deterministic noise per alert
    h, b = probe.healthy(), probe.bad()
    out: list[Scenario] = []

    def want(name):
        return name in probe.scenarios and (only is None or name in only)

    def add(name, timeline, expect, t0=None, recover=None, measure=False, note=""):
        out.append(Scenario(a.name, name, probe, timeline, expect, t0, recover, measure, note))

    # how long a degradation lasts: long enough for the window to fill and `for` to elapse, with room
    lag_room = _lag_bound(probe, h, b, pre)
    hold = _n(f + lag_room + 10 * iv, iv)
    tail = _n(w + f + 10 * iv, iv)

    if want("step"):
        tl = [h] * pre + [b] * hold + [h] * tail
        add("step", tl, True, t0=pre * iv, recover=(pre + hold) * iv, measure=True,
            note="healthy, then a step past the threshold, then recovery")
    if want("drift"):
        ramp = _n(max(4 * w, 30 * 60), iv)
        if isinstance(probe, TrendProbe):
            pass
        else:
            tl = [h] * pre + [probe.lerp(h, b, (k + 1) / ramp) for k in range(ramp)] + [b] * hold + [h] * tail
            # degradation starts where the ramp crosses the threshold
            cross = next((pre + k for k in range(ramp) if probe.breaches(_raw(probe, tl[pre + k]))), pre + ramp)
            add("drift", tl, True, t0=cross * iv, recover=(pre + ramp + hold) * iv,
                note="slow drift from healthy to past the threshold")
    if want("noise") and f > 0:
        n = pre + _n(2 * w if isinstance(probe, SLOProbe) else max(3 * f, 4 * w, 3600), iv)
        tl = [probe.noisy(rnd) for _ in range(n)]
        note = "noise around a mean just inside the threshold, single samples past it"
        if _longest_run(probe, tl) - iv >= f:  # with this window, single samples past the threshold are a breach
            rnd = random.Random(f"{a.name}/inside")
            tl = [probe.noisy(rnd, excursions=False) for _ in range(n)]
            note = "noise just inside the threshold (the window turns single samples past it into a breach)"
        add("noise", tl, False, note=note)
    if want("spike") and f > 0:
        sp = _spike_len(probe, h, b, pre, f)
        if sp:
            tl = [h] * pre + [b] * sp + [h] * tail
            add("spike", tl, False, note=f"a spike of {format_duration(sp * iv)}, shorter than for "
                                         f"{format_duration(f)} once smoothed")
    if want("gap"):
        gap = _n(LOOKBACK + 2 * iv, iv) if f > LOOKBACK + 3 * iv else 3
        tl = [h] * pre + [Gap(h)] * gap + [h] * tail
        add("gap", tl, False, note=f"healthy with a {format_duration(gap * iv)} scrape gap")
    if want("gap-degraded"):
        gap = 3
        first = _n(f / 2, iv) + _n(lag_room, iv)
        tl = [h] * pre + [b] * first + [Gap(b)] * gap + [b] * hold + [h] * tail
        add("gap-degraded", tl, True, t0=pre * iv, recover=(pre + first + gap + hold) * iv,
            note="degraded, with a 3-sample scrape gap in the middle")
    if want("reset") and probe.counter:
        tl = [h] * pre + [Reset(h)] + [h] * (tail + pre)
        add("reset", tl, False, note="healthy traffic, the process restarts (counters reset to 0)")
    if want("burst"):  # failures: one failure fires at once and resolves after the window
        tl = [h] * pre + [b] + [h] * tail
        add("burst", tl, True, t0=pre * iv, recover=(pre + 1) * iv, measure=True, note="a single failure")
    if want("low-traffic"):
        guard = probe.min_rate * iv  # events per sample the guard needs
        trickle = replace(probe, traffic=max(guard * 0.5, 1e-3))
        tl = [1.0] * (pre + hold)
        out.append(Scenario(a.name, "low-traffic", trickle, tl, False,
                            note=f"100% errors on half the guard's {probe.min_rate * 60:g} events/minute"))
        busy = replace(probe, traffic=max(guard * 4, 1.0))
        tl = [h] * pre + [1.0] * hold + [h] * tail
        out.append(Scenario(a.name, "low-traffic-outage", busy, tl, True, t0=pre * iv, recover=(pre + hold) * iv,
                            note="100% errors at 4x the guard's traffic: a real outage of a small service"))
    # kind-specific ones
    if isinstance(probe, TrendProbe):
        slope = probe.thr * 2 if probe.op == "below" else probe.thr * 2
        if want("step"):
            out.pop(0)  # replace the generic step: a trend degrades as a sustained slope
            pre_t = _n(w + 10 * iv, iv)
            run = _n(w + f + 10 * iv, iv)
            s = probe.slope_step(slope)
            tl = [probe.start] * pre_t + [probe.start + s * (k + 1) for k in range(run)]
            tl += [tl[-1]] * _n(w + 10 * iv, iv)
            out.insert(0, Scenario(a.name, "step", probe, tl, True, pre_t * iv, (pre_t + run) * iv, True,
                                   note=f"flat, then a sustained slope of {slope:g} per {_per(probe)}"))
        if want("noise"):
            out[:] = [s for s in out if s.name != "noise"]
            n = _n(3 * w + 3 * f, iv)
            s_in = probe.slope_step(probe.thr * 0.5)
            tl = [probe.start + s_in * k + rnd.uniform(-1, 1) * abs(probe.slope_step(probe.thr)) * 3 for k in range(n)]
            out.append(Scenario(a.name, "noise", probe, tl, False,
                                note=f"a slope of {probe.thr * 0.5:g} per {_per(probe)} (inside) with noise"))
        for s in out:
            if s.name == "gap":
                s.timeline = [probe.start if not isinstance(e, Gap) else Gap(probe.start) for e in s.timeline]
    if isinstance(probe, StalledProbe):
        if want("idle"):
            tl = [h] * pre + [(0.0, 0.0)] * hold + [h] * tail
            add("idle", tl, False, note="nothing to process: the backlog is empty and progress stops")
        if want("slow-progress"):
            n = pre + hold
            tl = [(probe.thr + 20, 1.0 if k % max(1, (w // iv) // 2) == 0 else 0.0) for k in range(n)]
            add("slow-progress", tl, False, note="a backlog that drains slowly: one item every half window")
        if want("reset"):
            tl = [h] * pre + [Reset(h)] + [h] * (tail + pre)
            add("reset", tl, False, note="progress counter resets on a restart, processing continues")
    if isinstance(probe, AbsentProbe):
        if want("vanish"):
            gone = _n(f + 10 * iv, iv)
            tl = [1.0] * 10 + [Stale()] + [Gap(None)] * gone + [1.0] * 10
            add("vanish", tl, True, t0=10 * iv, recover=(11 + gone) * iv, measure=True,
                note="the series disappears (staleness marker), then comes back")
        if want("scrape-gap"):
            gap = _n(LOOKBACK - iv, iv) - 1
            tl = [1.0] * 10 + [Gap(None)] * gap + [1.0] * _n(f + 10 * iv, iv)
            add("scrape-gap", tl, False, note=f"a {format_duration(gap * iv)} scrape gap without a staleness "
                                              "marker: the lookback bridges it")
        if want("blip") and f > 2 * iv:
            gone = _n(f, iv) - 2
            tl = [1.0] * 10 + [Stale()] + [Gap(None)] * (gone - 1) + [1.0] * _n(f + 10 * iv, iv)
            add("blip", tl, False, note=f"gone for {format_duration(gone * iv)}, shorter than for")
    for s in out:
        runs = s.condition_runs()
        onset = None
        if s.t0 is not None:
            first = next((r for r in runs if r[1] * iv >= s.t0), None)
            onset = first[0] * iv if first else None
        s.onset = onset
    return out


def _per(probe) -> str:
    return {1: "second", 60: "minute", 3600: "hour", 86400: "day"}[probe.per]


def _raw(probe, level):
    """The instantaneous level in threshold units (for locating where a drift crosses the threshold)."""
    return level


def _lag_bound(probe, h, b, pre) -> int:
    """Seconds the reference condition needs to become true after a step (upper bound for scenario length)."""
    iv = probe.iv
    tl = [h] * pre + [b] * _n(probe.window + 10 * iv, iv)
    for i in range(pre, len(tl)):
        if probe.holds(tl, i):
            return (i - pre) * iv + iv
    return probe.window + iv


def _longest_run(probe, tl) -> int:
    """Seconds of the longest stretch in which the reference condition holds."""
    best = cur = 0
    for i in range(len(tl)):
        cur = cur + probe.iv if probe.holds(tl, i) else 0
        best = max(best, cur)
    return best


def _spike_len(probe, h, b, pre, f) -> int:
    """Longest spike whose condition holds for less than ``for`` (0 if even a one-sample spike is too long)."""
    iv = probe.iv
    best = 0
    for k in range(1, _n(f, iv)):
        tl = [h] * pre + [b] * k + [h] * _n(probe.window + 10 * iv, iv)
        run = sum(1 for i in range(len(tl)) if probe.holds(tl, i))
        if run * iv < f and k * iv < f:
            best = k
        else:
            break
    return best
