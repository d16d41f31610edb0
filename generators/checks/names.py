"""Service names and alert names are unique across the whole catalog; a service file is named after its service."""

from pathlib import PurePath

from ..resolve import alert_names


def check(ctx):
    services: dict[str, str] = {}
    alerts: dict[str, str] = {}
    for src, svc in ctx.services:
        stem = PurePath(src.rel).stem
        if stem != svc.service:
            yield src.problem(("service",), f"the file must be named after its service: expected {svc.service}.yaml")
        if svc.service in services:
            yield src.problem(("service",), f"service {svc.service!r} is already defined in {services[svc.service]}")
        services.setdefault(svc.service, src.rel)
        for i, mon in enumerate(svc.monitors):
            for j, name in enumerate(alert_names(mon)):
                path = ("monitors", i, "levels", j, "alert") if mon.levels else ("monitors", i, "name")
                where = f"{src.rel} ({svc.service})"
                if name in alerts:
                    yield src.problem(path, f"alert name {name!r} is already used in {alerts[name]}; "
                                            "alert names must be unique across the catalog")
                alerts.setdefault(name, where)
