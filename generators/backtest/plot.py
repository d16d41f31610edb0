"""One PNG per backtested alert (matplotlib, imported only here and only for ``--plots``).

Top: the signal the threshold compares (the expression's left-hand side) per label set, the base and head
thresholds as horizontal lines, each version's firing time shaded. Bottom: one lane per version with its
firing episodes as bars, so "fires more / less / elsewhere" reads at a glance in a pull-request comment.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from .run import AlertBacktest, Backtest

MAX_SERIES = 8
COLORS = {"base": "#d95f02", "head": "#1b6ac9"}
SERIES_COLORS = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000")
"""Signal lines: never the versions' own colours (thresholds and firing bands)."""


class PlotError(Exception):
    pass


def require_matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise PlotError("--plots needs matplotlib: pip install 'mlmon[backtest]' (or pip install matplotlib)") from None
    matplotlib.use("Agg", force=True)
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure

    return Figure, mdates


def file_name(alert: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", alert) + ".png"


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _union(episodes) -> list[tuple[int, int]]:
    spans = sorted((e.start, e.end) for e in episodes)
    out: list[list[int]] = []
    for s, e in spans:
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _xranges(episodes, mdates, span: int) -> list[tuple[float, float]]:
    """Firing time of all label sets as ``(start, width)`` in Matplotlib date units: one collection, not a
    patch per episode (a month can hold thousands); at least ~1 pixel wide, so a 5m episode in a month shows."""
    least = span / 86400 / 900
    return [(mdates.date2num(_dt(s)), max((e - s) / 86400, least)) for s, e in _union(episodes)]


def _series_rank(a: AlertBacktest, series: dict) -> tuple:
    labels = tuple(sorted((k, v) for k, v in series["metric"].items() if k != "__name__"))
    firing = sum(e.seconds for s in a.sides() for e in (s.episodes or []) if e.labels == labels)
    peak = max((abs(float(v)) for _, v in series["values"] if v not in ("NaN", "+Inf", "-Inf")), default=0.0)
    return (-firing, -peak, labels)


def _label(series: dict, common: set) -> str:
    items = [f"{k}={v}" for k, v in sorted(series["metric"].items()) if k != "__name__" and (k, v) not in common]
    text = ", ".join(items) or "(no labels)"
    return text if len(text) <= 60 else text[:57] + "..."


def _common(series_list: list[dict]) -> set:
    """Label pairs every drawn series shares (the legend omits them)."""
    sets = [set((k, v) for k, v in s["metric"].items() if k != "__name__") for s in series_list]
    return set.intersection(*sets) if len(sets) > 1 else set()


def _points(series: dict, step: int):
    """Times and values, with a break (NaN) wherever a sample is missing, so gaps show as gaps."""
    xs, ys = [], []
    prev = None
    for ts, v in series["values"]:
        t = float(ts)
        if prev is not None and t - prev > step * 1.5:
            xs.append(_dt(prev + step))
            ys.append(float("nan"))
        xs.append(_dt(t))
        ys.append(float(v))
        prev = t
    return xs, ys


def draw(a: AlertBacktest, bt: Backtest, path: Path) -> None:
    Figure, mdates = require_matplotlib()
    fig = Figure(figsize=(11, 5.2), dpi=100, layout="constrained")
    top, lanes = fig.subplots(2, 1, sharex=True, height_ratios=[4, 1])
    title = f"{a.alert} ({a.service}, {bt.env})"
    if a.changes:
        title += ": " + ", ".join(a.changes)
    fig.suptitle(title, fontsize=12, fontweight="bold")

    drawn = 0
    hidden = 0
    signal_label = ""
    for which, side in (("head", a.head), ("base", a.base)):
        if side is None or side.status != "ok" or not side.signal_series:
            continue
        if which == "base" and a.head and a.head.status == "ok" and a.head.signal_query == side.signal_query:
            continue  # same signal: drawn once
        ranked = sorted(side.signal_series, key=lambda s: _series_rank(a, s))
        hidden += max(0, len(ranked) - MAX_SERIES)
        common = _common(ranked[:MAX_SERIES])
        for i, series in enumerate(ranked[:MAX_SERIES]):
            xs, ys = _points(series, side.signal_step)
            style = {"linewidth": 1.2} if which == "head" else {"linewidth": 1.0, "linestyle": ":", "alpha": 0.8}
            style["color"] = SERIES_COLORS[i % len(SERIES_COLORS)]
            top.plot(xs, ys, label=(_label(series, common) if which == "head" or not a.head
                            else f"base: {_label(series, common)}"),
                     **style)
            drawn += 1
        signal_label = signal_label or (side.signal.label or _short(side.signal.expr))
    for which in ("base", "head"):
        side = getattr(a, which)
        if side is None or side.threshold is None:
            continue
        op = side.signal.op or ""
        top.axhline(side.threshold, color=COLORS[which], linestyle="--" if which == "base" else "-", linewidth=1.6,
                    label=f"{which} threshold {op} {side.threshold:g}")
    for which in ("base", "head"):
        side = getattr(a, which)
        if side is not None and side.status == "ok" and side.episodes:
            top.broken_barh(_xranges(side.episodes, mdates, bt.end - bt.start), (0, 1), transform=top.get_xaxis_transform(),
                            color=COLORS[which], alpha=0.15, linewidth=0)
    top.set_ylabel(signal_label if len(signal_label) <= 40 else "signal", fontsize=9)
    top.set_title(_short(signal_label, 120) + (f"   (+{hidden} more series not drawn)" if hidden else ""),
                  fontsize=8, loc="left", color="#555555")
    if drawn or top.get_legend_handles_labels()[0]:
        top.legend(fontsize=7, loc="upper left", ncols=2, framealpha=0.8)
    if not drawn:
        top.text(0.5, 0.72, _empty_reason(a), transform=top.transAxes, ha="center", va="center", fontsize=13,
                 color="#777777", wrap=True, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9})
    top.grid(True, alpha=0.3)

    rows = [("base", a.base), ("head", a.head)] if bt.base else [("head", a.head)]
    for i, (which, side) in enumerate(rows):
        y = len(rows) - 1 - i
        if side is None:
            lanes.text(_dt(bt.start), y, f"  not in {which}", va="center", fontsize=8, color="#777777")
        elif side.status != "ok":
            lanes.text(_dt(bt.start), y, f"  {side.status.replace('_', ' ')}", va="center", fontsize=8, color="#aa0000")
        elif side.episodes:
            lanes.broken_barh(_xranges(side.episodes, mdates, bt.end - bt.start), (y - 0.3, 0.6), color=COLORS[which], linewidth=0)
    lanes.set_yticks(range(len(rows)), [_lane_label(w, s) for w, s in reversed(rows)], fontsize=9)
    lanes.set_ylim(-0.6, len(rows) - 0.4)
    lanes.set_xlim(_dt(bt.start), _dt(bt.end))
    lanes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    lanes.set_xlabel("UTC", fontsize=8)
    lanes.grid(True, axis="x", alpha=0.3)

    fd, tmp = tempfile.mkstemp(prefix=".plot-", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", metadata={"Software": None})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _empty_reason(a: AlertBacktest) -> str:
    for side in (a.head, a.base):
        if side is None:
            continue
        if side.status == "no_data":
            return "no data: " + ", ".join(_short(m, 50) for m in side.missing) + " has no series in the range"
        if side.status == "error":
            return "not evaluated: " + _short(side.error, 90)
    return "the signal returned no data"


def _lane_label(which: str, side) -> str:
    if side is None or side.status != "ok":
        return which
    n = len(side.episodes or [])
    return f"{which}: {n} episode{'s' if n != 1 else ''}"


def _short(text: str, n: int = 60) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 3] + "..."


def write_plots(bt: Backtest, out_dir: str | os.PathLike, protect: tuple = ()) -> list[str]:
    """Draw every alert, then replace ``out_dir`` with the plots (:func:`generators.output.write_tree`: absent,
    empty or a previous mlmon output only; nothing of the user's is overwritten); sets ``a.plot``."""
    import tempfile

    from ..output import write_tree

    require_matplotlib()
    out = Path(out_dir)
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="mlmon-plots-") as tmp:
        for a in bt.alerts:
            name = file_name(a.alert)
            draw(a, bt, Path(tmp) / name)
            files[name] = (Path(tmp) / name).read_bytes()
    write_tree(files, out, protect=protect, label="--plots")
    written = []
    for a in bt.alerts:
        a.plot = (out / file_name(a.alert)).as_posix()
        written.append(a.plot)
    return written
