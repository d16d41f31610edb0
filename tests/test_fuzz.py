"""Property-based: malformed catalogs never produce a traceback; they always exit 2 with the file named."""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CATALOG, run_cli

SERVICE_FILE = "rl-feedback-loop.yaml"
BASE = yaml.safe_load((CATALOG / SERVICE_FILE).read_text())


def _paths(node, prefix=()):
    yield prefix, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


ALL = [p for p, _ in _paths(BASE) if p]
DICTS = [p for p, v in _paths(BASE) if isinstance(v, dict)]


def _set(data, path, value):
    cur = data
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value


def _get(data, path):
    for p in path:
        data = data[p]
    return data


JUNK = {"!junk": None}  # invalid wherever it lands: no field accepts a mapping with this key


@st.composite
def malformed(draw):
    how = draw(st.sampled_from(["replace", "unknown-key", "text"]))
    if how == "text":
        return draw(st.text(min_size=0, max_size=200))
    data = copy.deepcopy(BASE)
    if how == "replace":
        _set(data, draw(st.sampled_from(ALL)), copy.deepcopy(JUNK))
    else:
        # a key no field accepts (not a name, label, env var or environment) with a value no field accepts
        path = draw(st.sampled_from(DICTS))
        _get(data, path)["zz unknown!"] = draw(st.one_of(st.none(), st.just({"!junk": None})))
    return yaml.safe_dump(data, sort_keys=False)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=malformed(), command=st.sampled_from(["check", "render", "thresholds"]))
def test_malformed_catalog_exits_2_without_traceback(tmp_path_factory, text, command):
    root = tmp_path_factory.mktemp("cat") / "alerts"
    root.mkdir()
    (root / SERVICE_FILE).write_text(text)
    args = [command, "--catalog", str(root)]
    if command == "render":
        args += ["--env", "dev", "--out", str(root.parent / "out")]
    r = run_cli(*args)
    assert r.code == 2, (text, r.out, r.err)
    assert "Traceback" not in r.err and "internal error" not in r.err
    assert SERVICE_FILE in r.err
    assert not (root.parent / "out").exists()
