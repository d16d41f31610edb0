"""How ``mlmon check`` runs its steps (generators/verify.py): every environment rendered once in memory, one
promtool batch over every environment, the other steps beside it, failures attributed to file and
environment in a fixed order, no pure-Python YAML parsing."""

from __future__ import annotations

import threading
import time

import pytest
import yaml

from conftest import CATALOG, requires_promtool
from generators import verify
from generators.loader import load_catalog
from generators.render import render, serialize_all
from generators.rendered import Rendered, as_rendered


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(CATALOG)


def renders_of(catalog, envs=("dev", "prod")) -> dict[str, Rendered]:
    return {env: Rendered(serialize_all(render(catalog, env)), env) for env in envs}


def test_rendered_is_the_bytes_mlmon_render_writes(catalog, tmp_path):
    from generators.render import write_atomic

    files = serialize_all(render(catalog, "dev"))
    write_atomic(files, tmp_path / "dev")
    assert as_rendered(tmp_path / "dev").files == files
    r = Rendered(files, "dev")
    assert r.names("prometheus", ".rules.yaml") == sorted(p.split("/")[1] for p in files
                                                          if p.startswith("prometheus/") and p.endswith(".rules.yaml"))
    assert r.yaml_docs(r.paths((".yaml",))[0]) is r.yaml_docs(r.paths((".yaml",))[0])  # parsed once, shared


def test_steps_never_use_the_pure_python_yaml_parser(catalog, monkeypatch):
    renders = renders_of(catalog)

    def forbidden(*a, **k):
        raise AssertionError("the pure-Python YAML scanner ran")

    monkeypatch.setattr(yaml.scanner.Scanner, "check_token", forbidden)
    steps = [(n, fn) for n, fn in verify.STEPS if not hasattr(fn, "batch")]
    failures, skipped = verify.run_steps(catalog, renders, steps=steps, catalog_steps=[])
    assert failures == [] and skipped == {}


def test_a_failing_step_is_reported_per_environment_in_step_order(catalog):
    renders = renders_of(catalog, ("dev", "staging"))
    calls = []

    def first(r, cat, env):
        calls.append(("first", env))
        return [f"first {env}"]

    def second(r, cat, env):
        calls.append(("second", env))
        return [f"second {env}"]

    def batch(rs, cat, jobs, started):
        started()
        return {env: [f"batched {env}"] for env in rs}

    def batched(r, cat, env):  # pragma: no cover - the runner calls .batch instead
        raise AssertionError("called per environment")

    batched.batch = batch
    failures, skipped = verify.run_steps(catalog, renders, steps=[("b", batched), ("1", first), ("2", second)],
                                         catalog_steps=[("c", lambda cat: ["catalog"])])
    assert failures == ["batched dev", "first dev", "second dev", "batched staging", "first staging",
                        "second staging", "catalog"]
    assert ("first", "dev") in calls and ("second", "staging") in calls and skipped == {}


def test_the_steps_here_wait_for_the_batch_to_start_its_engines_then_run_beside_them(catalog):
    """A batch's Python work runs alone (it would wait for the interpreter lock on every file write beside a
    busy step); once it calls started(), the other steps run while its engines do."""
    renders = renders_of(catalog, ("dev",))
    calls = []
    step_ran = threading.Event()

    def batch(rs, cat, jobs, started):
        time.sleep(0.2)  # long enough that a runner not waiting would run the step first
        calls.append("batch written")
        started()
        calls.append("engines saw the step" if step_ran.wait(10) else "engines ran alone")
        return {env: [] for env in rs}

    def step(r, cat, env):
        calls.append(f"step {env}")
        step_ran.set()
        return []

    def batched(r, cat, env):  # pragma: no cover - the runner calls .batch
        return []

    batched.batch = batch
    verify.run_steps(catalog, renders, steps=[("b", batched), ("s", step)], catalog_steps=[])
    assert calls == ["batch written", "step dev", "engines saw the step"]


def test_a_skipped_step_is_reported_once_and_not_retried(catalog):
    renders = renders_of(catalog, ("dev", "staging"))
    calls = []

    def missing(r, cat, env):
        calls.append(env)
        raise verify.Skipped("no engine")

    failures, skipped = verify.run_steps(catalog, renders, steps=[("x", missing)], catalog_steps=[])
    assert failures == [] and skipped == {"x": "no engine"} and calls == ["dev"]


@requires_promtool
def test_promtool_batch_attributes_failures_to_file_and_environment(catalog):
    renders = renders_of(catalog, ("dev", "prod"))
    # break one unit test in dev (expect silence where the alert fires) and one rule file in prod
    dev = renders["dev"]
    name = dev.names("prometheus", ".tests.yaml")[-1]
    tests = yaml.safe_load(dev.bytes(f"prometheus/{name}"))
    firing = next(t for g in tests["tests"] for t in g["alert_rule_test"] if t["exp_alerts"])
    firing["exp_alerts"] = []
    files = dict(dev.files)
    files[f"prometheus/{name}"] = yaml.safe_dump(tests, sort_keys=False).encode()
    renders["dev"] = Rendered(files, "dev")
    prod = renders["prod"]
    rule = prod.names("prometheus", ".rules.yaml")[0]
    files = dict(prod.files)
    files[f"prometheus/{rule}"] = prod.bytes(f"prometheus/{rule}").replace(b"expr: ", b"expr: (", 1)
    renders["prod"] = Rendered(files, "prod")
    tests_of_rule = rule.replace(".rules.", ".tests.")
    for jobs in (1, 2):
        out = verify.promtool_batch(renders, catalog, jobs)
        assert len(out["dev"]) == 1 and out["dev"][0].startswith(f"promtool test rules {name} (dev):"), out
        assert firing["alertname"] in out["dev"][0] and "got:" in out["dev"][0]
        # prod: the rule file does not parse, so its unit tests cannot load it either
        assert len(out["prod"]) == 2 and out["prod"][0].startswith("promtool check rules (prod):"), out
        assert f"prod/prometheus/{rule}" in out["prod"][0] and "parse error" in out["prod"][0]
        assert out["prod"][1].startswith(f"promtool test rules {tests_of_rule} (prod):"), out
        # the other files of each environment passed, so they are not named
        assert all(f"prometheus/{n}" not in out["dev"][0] for n in dev.names("prometheus", ".tests.yaml")[:-1])


@requires_promtool
def test_promtool_batch_passes_every_environment(catalog):
    renders = renders_of(catalog, ("dev", "staging", "prod"))
    assert verify.promtool_batch(renders, catalog, 2) == {"dev": [], "staging": [], "prod": []}


def test_chunks_balance_by_size():
    sizes = {"a": 10, "b": 9, "c": 2, "d": 1}
    chunks = verify._chunks(list(sizes), sizes, 2)
    assert sorted(map(sorted, chunks)) == [["a", "d"], ["b", "c"]]
    assert verify._chunks(["a"], {"a": 1}, 4) == [["a"]]
    assert sorted(p for c in verify._chunks(list(sizes), sizes, 3) for p in c) == sorted(sizes)


def test_check_jobs_must_be_positive(cli):
    r = cli("check", "--catalog", str(CATALOG), "--jobs", "0")
    assert r.code == 2 and "positive number of processes" in r.err


@requires_promtool
def test_mlmon_check_never_uses_the_pure_python_yaml_parser(cli, monkeypatch):
    """The whole command: catalog load (libyaml since issue 11), renders and every step."""
    def forbidden(*a, **k):
        raise AssertionError("the pure-Python YAML scanner ran")

    monkeypatch.setattr(yaml.scanner.Scanner, "check_token", forbidden)
    r = cli("check", "--catalog", str(CATALOG), "--env", "dev")
    assert r.code == 0, r.err
    assert "artifact checks passed: promtool" in r.out


def test_an_error_in_a_batched_step_is_raised_not_lost(catalog):
    renders = renders_of(catalog, ("dev",))

    def step(r, cat, env):  # pragma: no cover - the runner calls .batch
        return []

    def broken(rs, cat, jobs, started):  # raises before started(): the runner must not wait for ever
        raise RuntimeError("engine crashed")

    step.batch = broken
    with pytest.raises(RuntimeError, match="engine crashed"):
        verify.run_steps(catalog, renders, steps=[("b", step)], catalog_steps=[])
