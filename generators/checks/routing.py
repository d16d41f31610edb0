"""Routing and inhibition (with ``alertmanager:`` in _defaults.yaml): every `routing` entry names a declared
receiver that can deliver it, every route can be reached by an alert, and no inhibition silences its own source."""

from __future__ import annotations

from ..alertmanager.routes import inhibitions
from ..resolve import alert_names, resolve_service

MSTEAMS_SINCE = (0, 27)


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def check(ctx):
    am = ctx.defaults.alertmanager
    if am is None:
        return
    declared = ", ".join(sorted(am.receivers)) or "none"
    envs = ctx.defaults.environments
    for src, svc in ctx.services:
        views = [resolve_service(svc, env, ctx.defaults, src.rel) for env in envs]
        prometheus = svc.source.type == "prometheus"
        for sev, name in svc.routing.items():
            path = ("routing", sev)
            r = am.receivers.get(name)
            if r is None:
                yield src.problem(path, f"receiver {name!r} is not declared: add it to alertmanager.receivers in "
                                        f"_defaults.yaml (declared: {declared})")
                continue
            if not prometheus:
                if not r.sns:
                    yield src.problem(path, f"CloudWatch alarms notify SNS topics: receiver {name!r} has no `sns` "
                                            "integration")
                continue
            if not any(a.severity == sev for rs in views for a in rs.alerts):
                yield src.problem(path, f"no alert of this service has severity {sev!r} in any environment "
                                        f"({', '.join(envs)}): the route to {name!r} can never be reached; "
                                        "remove the entry")
            for j, sns in enumerate(r.sns):
                if sns.topic_arn is None:
                    yield src.problem(path, f"receiver {name!r}: sns[{j}] has no topic_arn, which Alertmanager "
                                            "needs to publish this service's alerts")
            if r.msteams and _version(am.version) < MSTEAMS_SINCE:
                yield src.problem(path, f"receiver {name!r} uses Microsoft Teams, which needs Alertmanager >= "
                                        f"0.27 (webhook_url_file); alertmanager.version is {am.version}")
        yield from _inhibits(src, svc, views, am)


def _inhibits(src, svc, views, am):
    known = {n: i for i, m in enumerate(svc.monitors) for n in alert_names(m)}
    for i, mon in enumerate(svc.monitors):
        if mon.inhibits is None or mon.inhibits.alerts == "all":
            continue
        own = set(alert_names(mon))
        for j, name in enumerate(mon.inhibits.alerts):
            path = ("monitors", i, "inhibits", "alerts", j)
            if name in own:
                yield src.problem(path, f"an inhibition would silence its own source: {name} is an alert of this "
                                        "monitor")
            elif name not in known:
                yield src.problem(path, f"unknown alert {name!r}; expected an alert of service {svc.service} "
                                        f"({', '.join(sorted(known))})")
    reported = set()
    for rs in views:
        if not rs.is_prometheus:
            continue
        edges: dict[str, set[str]] = {}
        for inh in inhibitions(rs, am):
            for s in inh.sources:
                edges.setdefault(s, set()).update(inh.targets)
        cycle = _cycle(edges)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            i = next((known[n] for n in cycle if svc.monitors[known[n]].inhibits is not None), known[cycle[0]])
            yield src.problem(("monitors", i, "inhibits"), (
                f"an inhibition would silence its own source in {rs.env}: {' -> '.join(cycle + [cycle[0]])} "
                "(each silences the next while they fire, so none of them would notify)"))


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state:
            found = visit(n)
            if found:
                return list(found)
    return None
