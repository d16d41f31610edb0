"""Every rendered manifest passes kubernetes-validate strict (1.29 and newest) and the PrometheusRule CRD schema,
in the test suite and in `mlmon check`."""

from __future__ import annotations

import copy
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version, major_minor

from conftest_kubernetes import REPO, SEEDS, all_docs, find, rendered
from generators import verify
from generators.cli import main
from generators.kubernetes import validate as kval

ENVS = ("dev", "staging", "prod")


def test_versions_are_129_and_newest_bundled():
    assert kval.versions() == ("1.29", major_minor(latest_version()))
    assert kval.versions()[1] > "1.29"


@pytest.mark.parametrize("env", ENVS)
def test_every_rendered_manifest_valid(env):
    docs = [d for _, d in all_docs(env)]
    kinds = {d["kind"] for d in docs}
    assert {"PrometheusRule", "CronJob", "ServiceAccount", "Role", "RoleBinding"} <= kinds
    for d in docs:
        assert kval.validate_manifest(d) == [], (d["kind"], d["metadata"]["name"])


def test_cached_validator_agrees_with_kubernetes_validate():
    """The cached validators use kubernetes-validate's own strict schemas: same verdicts as its validate()."""
    good = find("prod", "CronJob", "remediate-enable-ml-fallback")
    bad = copy.deepcopy(good)
    bad["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonroot"] = True
    worse = copy.deepcopy(good)
    worse["spec"]["concurrencyPolicy"] = 3
    for version in kval.versions():
        kubernetes_validate.validate(good, version, strict=True)
        for doc in (bad, worse):
            with pytest.raises(kubernetes_validate.ValidationError):
                kubernetes_validate.validate(doc, version, strict=True)
    assert kval.validate_manifest(good) == []
    problems = kval.validate_manifest(bad)
    assert len(problems) == 2 and all("runAsNonroot" in p for p in problems)
    assert {p.split(":")[0] for p in problems} == {f"Kubernetes {v}" for v in kval.versions()}
    assert any("concurrencyPolicy" in p for p in kval.validate_manifest(worse))


def test_prometheusrule_checked_against_crd_strictly():
    rule = copy.deepcopy(rendered("prod")["kubernetes/rl-feedback-loop.yaml"][0])
    assert rule["kind"] == "PrometheusRule" and kval.validate_manifest(rule) == []
    rule["spec"]["groups"][0]["interval"] = "5 minutes"
    rule["spec"]["groups"][0]["rules"][0]["expresion"] = "up"
    problems = "\n".join(kval.validate_manifest(rule))
    assert "spec.groups[0].interval" in problems
    assert "'expresion' was unexpected" in problems


def test_unknown_kind_is_reported_not_passed():
    doc = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert kval.validate_manifest(doc) == [f"Kubernetes {v} has no schema for Widget example.com/v1"
                                           for v in kval.versions()]


@pytest.mark.ci_may_skip
def test_vendored_crd_matches_the_shared_copy():
    vendored = REPO / "generators" / "data" / kval.CRD_FILE
    assert vendored.is_file(), "a clone must work standalone"
    shared = [p for p in (REPO.parent / "shared" / "schemas" / kval.CRD_FILE,
                          Path("/work/shared/schemas") / kval.CRD_FILE) if p.is_file()]
    if not shared:
        pytest.skip("no shared schema directory next to this checkout")
    assert vendored.read_bytes() == shared[0].read_bytes()


def test_check_registers_kubernetes_steps():
    names = [n for n, _ in verify.STEPS]
    assert "kubernetes" in names and "k8s-policy" in names


def _render_to(tmp_path, env):
    from generators.loader import load_catalog
    from generators.render import render, serialize_all, write_atomic

    catalog = load_catalog(SEEDS / "alerts")
    out = tmp_path / env
    write_atomic(serialize_all(render(catalog, env)), out)
    return out, catalog


def test_the_kubernetes_steps_fail_on_an_invalid_manifest(monkeypatch, tmp_path):
    """A generator emitting an invalid object (unknown field, wildcard Role) fails the `kubernetes` and
    `k8s-policy` steps of mlmon check (each called on one render)."""
    from generators import render as render_mod

    def broken(rs):
        if rs.name != "rl-feedback-loop":
            return []
        return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "crew"},
                 "data": {"a": "b"}, "dataa": {}},
                {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                 "metadata": {"name": "x", "namespace": "crew"},
                 "rules": [{"apiGroups": ["*"], "resources": ["pods"], "verbs": ["delete"]}]}]

    monkeypatch.setattr(render_mod, "KUBERNETES_GENERATORS", (*render_mod.KUBERNETES_GENERATORS, broken))
    out, catalog = _render_to(tmp_path, "dev")
    err = "\n".join(verify.kubernetes_step(out, catalog, "dev") + verify.policy_step(out, catalog, "dev"))
    assert "rl-feedback-loop.yaml: ConfigMap/x: Kubernetes 1.29: (top): Additional properties are not allowed" in err
    assert "wildcard in apiGroups" in err and "delete not limited by resourceNames" in err


def test_the_kubernetes_steps_pass_the_render(tmp_path):
    out, catalog = _render_to(tmp_path, "prod")
    assert verify.kubernetes_step(out, catalog, "prod") == []
    assert verify.policy_step(out, catalog, "prod") == []


def test_rendered_files_are_plain_multidocument_yaml(tmp_path):
    rc = main(["render", "--catalog", str(SEEDS / "alerts"), "--env", "staging", "--out", str(tmp_path / "o")])
    assert rc == 0
    text = (tmp_path / "o" / "kubernetes" / "rag-enterprise-pipeline.yaml").read_text()
    docs = list(yaml.safe_load_all(text))
    assert [d["kind"] for d in docs][:1] == ["PrometheusRule"]
    assert "monthly-load-test" in text
    failures = kval.kubernetes_step(tmp_path / "o", None, "staging")
    assert failures == []
