"""The alerting rules a backtest evaluates, read from rendered artifacts.

The backtest works on what ``mlmon render`` produces (``prometheus/<service>.rules.yaml``), never on the
catalog model: the very rule a deployment would load is the rule that is replayed, whatever kind or
generator produced it (raw rules included). Each :class:`AlertRule` carries its group's evaluation
interval and the recording rules of the same rule file, which :mod:`.promql` inlines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..durations import parse_duration


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str
    labels: tuple[tuple[str, str], ...]
    group: str
    index: int  # position in the rule file (groups in order, rules in order)


@dataclass(frozen=True)
class AlertRule:
    alert: str
    service: str  # the rule file's service (``prometheus/<service>.rules.yaml``)
    file: str  # the artifact path
    group: str
    interval: int  # seconds
    expr: str
    for_: int = 0
    keep_firing_for: int = 0
    labels: tuple[tuple[str, str], ...] = ()
    recordings: tuple[Recording, ...] = field(default=(), compare=False, repr=False)
    index: int = 0

    @property
    def label_dict(self) -> dict[str, str]:
        return dict(self.labels)


class RuleFileError(ValueError):
    """A rendered rule file that is not what Prometheus would load (should not happen for mlmon's own)."""


def _seconds(value, default: int, where: str) -> int:
    if value is None:
        return default
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise RuleFileError(f"{where}: {exc}") from None


def rules_from_file(path: str, content: dict, default_interval: int = 60) -> list[AlertRule]:
    """Every alerting rule of one rule file (``{"groups": [...]}``), in file order."""
    service = path.rsplit("/", 1)[-1].removesuffix(".rules.yaml")
    recordings: list[Recording] = []
    pending: list[tuple[dict, str, int, int]] = []
    index = 0
    for g in content.get("groups") or []:
        name = str(g.get("name", ""))
        interval = _seconds(g.get("interval"), default_interval, f"{path}: group {name}: interval")
        for r in g.get("rules") or []:
            index += 1
            if "record" in r:
                recordings.append(Recording(str(r["record"]), str(r["expr"]),
                                            tuple(sorted((str(k), str(v)) for k, v in (r.get("labels") or {}).items())),
                                            name, index))
            elif "alert" in r:
                pending.append((r, name, interval, index))
    out = []
    for r, group, interval, idx in pending:
        where = f"{path}: {r['alert']}"
        out.append(AlertRule(
            alert=str(r["alert"]), service=service, file=path, group=group, interval=interval,
            expr=str(r["expr"]),
            for_=_seconds(r.get("for"), 0, f"{where}: for"),
            keep_firing_for=_seconds(r.get("keep_firing_for"), 0, f"{where}: keep_firing_for"),
            labels=tuple(sorted((str(k), str(v)) for k, v in (r.get("labels") or {}).items())),
            recordings=tuple(recordings), index=idx))
    return out


def rules_from_artifacts(artifacts, default_interval: int = 60) -> dict[str, AlertRule]:
    """``{alert name: rule}`` of every Prometheus rule file among rendered artifacts (``render(...)``)."""
    out: dict[str, AlertRule] = {}
    for a in artifacts:
        if not (a.path.startswith("prometheus/") and a.path.endswith(".rules.yaml")):
            continue
        for rule in rules_from_file(a.path, a.content, default_interval):
            if rule.alert in out:
                # several rules of one name (e.g. a hand-written file): keep them apart
                rule = AlertRule(**{**rule.__dict__, "alert": f"{rule.alert}#{rule.index}"})
            out[rule.alert] = rule
    return out
