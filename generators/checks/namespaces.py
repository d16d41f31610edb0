"""A namespace the catalog renders elsewhere in some environment (`namespaces`, `environment_settings.<env>.
namespaces`) is not also written by hand in the service, where the render cannot follow: a PromQL
`namespace="..."` matcher (service selector, monitor matchers, raw expressions) or a `-n`/`--namespace` in a
job's command or arguments would keep pointing at the old namespace."""

import re

from ..errors import format_path


def _mapped(defaults) -> dict[str, set[str]]:
    """Catalog namespace -> the environments that render it into another namespace."""
    out: dict[str, set[str]] = {}
    for env in defaults.environments:
        o = defaults.environment_settings.get(env)
        mapping = o.namespaces if o is not None and o.namespaces is not None else defaults.namespaces
        for old, new in mapping.items():
            if new != old:
                out.setdefault(old, set()).add(env)
    return out


def _pattern(ns: str) -> re.Pattern:
    return re.compile(r'(?:(?<![\w-])-n[\s=]+|--namespace[\s=]+|\bnamespace\s*[=!]~?\s*"?)' + re.escape(ns)
                      + r'(?![\w.-])')


def _references(value, path, ns: str, rx: re.Pattern):
    """(path, text) of every place in ``value`` (a service as data) that names ``ns`` by hand."""
    if isinstance(value, dict):
        for k, x in value.items():
            if path == () and k == "namespace":
                continue
            if k == "namespace" and x == ns:  # a `namespace:` label matcher or dimension
                yield path + (k,), f"namespace: {x}"
                continue
            yield from _references(x, path + (k,), ns, rx)
    elif isinstance(value, (list, tuple)):
        for i, x in enumerate(value):
            if x in ("-n", "--namespace") and i + 1 < len(value) and value[i + 1] == ns:
                yield path + (i,), f"{x} {ns}"
            yield from _references(x, path + (i,), ns, rx)
    elif isinstance(value, str) and rx.search(value):
        yield path, value


def check(ctx):
    mapped = _mapped(ctx.defaults)
    for src, svc in ctx.services:
        envs = mapped.get(svc.namespace or "")
        if not envs:
            continue
        data = svc.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        for path, text in _references(data, (), svc.namespace, _pattern(svc.namespace)):
            yield src.problem(path, (
                f"names namespace {svc.namespace!r} by hand ({text[:80]!r}), but {', '.join(sorted(envs))} renders "
                f"the service into another namespace (namespaces in _defaults.yaml): the render cannot rewrite "
                f"{format_path(path)}; leave the namespace out of it or do not remap {svc.namespace!r}"))
