"""Stack configuration: validated into a typed object; bad config is a clear error (naming the key)
raised before the program declares any resource."""

from __future__ import annotations

import json

import pytest

from conftest_deploy import ENVS, ROOT, run_stack

from generators.deploy.config import (SECRET_PLACEHOLDER, StackConfigError, check_against_catalog, parse,
                                      read_stack_file)


def _cfg(**values):
    return {f"mlmon:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def test_minimal_config_gets_defaults():
    cfg = parse(_cfg(environment="dev"))
    assert cfg.environment == "dev"
    assert cfg.outputs == ("kubernetes", "cloudwatch", "grafana")
    assert cfg.catalog == "alerts"
    assert not cfg.grafana_api


def test_full_config_is_typed():
    cfg = parse(_cfg(environment="prod", outputs=["kubernetes"], kubernetes={"context": "prod", "namespace": "ml"},
                     aws={"region": "eu-west-1"}, grafana={"url": "https://g.example.com"},
                     grafanaToken="t", subscriptions={"page": [{"protocol": "https", "endpoint": "https://x"}]}),
                secret_keys={"mlmon:grafanaToken"})
    assert (cfg.kubernetes.context, cfg.kubernetes.namespace, cfg.aws.region) == ("prod", "ml", "eu-west-1")
    assert cfg.subscriptions["page"][0].protocol == "https"
    assert not cfg.grafana_api  # grafana is not among the outputs
    assert parse(_cfg(environment="prod", grafana={"url": "https://g"}, grafanaToken="t")).grafana_api


@pytest.mark.parametrize("values,key,text", [
    ({}, "mlmon:environment", "required key is missing"),
    ({"environment": "dev", "kubernetes": {"contxt": "x"}}, "mlmon:kubernetes.contxt", "unknown key"),
    ({"environment": "dev", "outputs": ["kubernetes", "datadog"]}, "mlmon:outputs[1]", "datadog"),
    ({"environment": "dev", "subscriptions": {"critical": [{"protocol": "email"}]}},
     "mlmon:subscriptions.critical[0].endpoint", "required key is missing"),
    ({"environment": "dev", "subscriptions": {"urgent": []}}, "mlmon:subscriptions.urgent", "'critical'"),
    ({"environment": "dev", "subscriptions": {"page": [{"protocol": "pigeon", "endpoint": "x"}]}},
     "mlmon:subscriptions.page[0].protocol", "pigeon"),
    ({"environment": "dev", "grafana": {"url": "https://g"}}, "mlmon:grafanaToken", "--secret"),
    ({"environment": "dev", "grafanaToken": "t"}, "mlmon:grafana.url", "no URL"),
    ({"environment": "Prod"}, "mlmon:environment", "DNS-1123"),
    ({"environment": "dev", "kubernetes": {"namespaces": {"crew": "crew-dev"}}}, "mlmon:kubernetes.namespaces",
     "moved to the catalog: set `namespaces` in alerts/_defaults.yaml"),
    ({"environment": "dev", "kubernetes": {"ruleSelectorLabels": {"release": "x"}}},
     "mlmon:kubernetes.ruleSelectorLabels", "`environment_settings.<env>.rule_labels`"),
    ({"environment": "dev", "grafana": {"folder": "ML"}}, "mlmon:grafana.folder", "`dashboard_folder`"),
    ({"environment": "dev", "grafana": {"sidecarLabel": "x"}}, "mlmon:grafana.sidecarLabel", "`dashboard_labels`"),
    ({"environment": "dev", "envirnoment": "dev"}, "mlmon:envirnoment", "unknown key"),
])
def test_bad_config_names_the_key(values, key, text):
    with pytest.raises(StackConfigError) as exc:
        parse(_cfg(**values), source="stacks/Pulumi.dev.yaml")
    keys = [k for k, _ in exc.value.problems]
    assert key in keys
    message = str(exc.value)
    assert "stacks/Pulumi.dev.yaml" in message and key in message and text in message


def test_grafana_token_must_be_a_secret():
    values = _cfg(environment="dev", grafana={"url": "https://g"}, grafanaToken="plain")
    with pytest.raises(StackConfigError, match="must be a secret"):
        parse(values, secret_keys=set())
    assert parse(values, secret_keys={"mlmon:grafanaToken"}).grafana_api


def test_other_namespaces_are_ignored():
    assert parse({"mlmon:environment": "dev", "aws:region": "us-east-1"}).environment == "dev"


def test_checks_against_the_catalog():
    from generators.loader import load_catalog

    catalog = load_catalog(ROOT / "tests" / "fixtures" / "seeds" / "alerts")
    with pytest.raises(StackConfigError) as exc:
        check_against_catalog(parse(_cfg(environment="qa", aws={"region": "us-east-1"})), catalog)
    assert exc.value.problems[0][0] == "mlmon:environment"
    assert "dev, staging, prod" in str(exc.value)
    with pytest.raises(StackConfigError) as exc:
        check_against_catalog(parse(_cfg(environment="dev")), catalog)
    assert exc.value.problems[0][0] == "mlmon:aws.region"
    assert "boltit-pilot" in str(exc.value) and "alerts/boltit-pilot.yaml source.region" in str(exc.value)
    with pytest.raises(StackConfigError, match="us-east-1"):
        check_against_catalog(parse(_cfg(environment="dev", aws={"region": "eu-west-1"})), catalog)
    # no CloudWatch output: no region needed
    check_against_catalog(parse(_cfg(environment="dev", outputs=["kubernetes"])), catalog)


@pytest.mark.parametrize("overrides,key", [
    ({"mlmon:environment": "qa"}, "mlmon:environment"),
    ({"mlmon:environment": None}, "mlmon:environment"),
    ({"mlmon:aws": None}, "mlmon:aws.region"),
    ({"mlmon:kubernetes": {"context": "x", "ruleSelector": {}}}, "mlmon:kubernetes.ruleSelector"),
])
def test_bad_config_fails_before_any_resource_is_declared(overrides, key):
    record = []
    with pytest.raises(StackConfigError) as exc:
        run_stack("dev", overrides=overrides, record=record)
    assert key in [k for k, _ in exc.value.problems]
    assert "Pulumi.dev.yaml" in str(exc.value)
    assert record == []


@pytest.mark.parametrize("env", ENVS)
def test_committed_stack_configs_are_valid(env):
    values, secret = read_stack_file(ROOT / "stacks" / f"Pulumi.{env}.yaml")
    cfg = parse(values, secret_keys=secret)
    assert cfg.environment == env


def test_read_stack_file_hides_encrypted_values(tmp_path):
    f = tmp_path / "Pulumi.x.yaml"
    f.write_text("config:\n  mlmon:environment: dev\n  mlmon:grafanaToken:\n    secure: v1:abc\n"
                 "  mlmon:subscriptions:\n    page:\n      - protocol: sms\n        endpoint:\n          secure: v1:def\n")
    values, secret = read_stack_file(f)
    assert values["mlmon:grafanaToken"] == SECRET_PLACEHOLDER
    assert json.loads(values["mlmon:subscriptions"]) == {"page": [{"protocol": "sms", "endpoint": SECRET_PLACEHOLDER}]}
    assert secret == {"mlmon:grafanaToken", "mlmon:subscriptions"}


def test_read_stack_file_errors(tmp_path):
    with pytest.raises(StackConfigError, match="not found"):
        read_stack_file(tmp_path / "missing.yaml")
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config: [1, 2]\n")
    with pytest.raises(StackConfigError, match="mapping"):
        read_stack_file(bad)
