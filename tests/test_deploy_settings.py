"""Per-environment deployment settings are catalog data (alerts/_defaults.yaml): rule labels, dashboard labels,
folder annotation, folder, namespace and namespace moves, resolved per environment and rendered everywhere."""

from __future__ import annotations

import textwrap

import pytest

from generators.errors import CatalogError
from generators.loader import load_catalog
from generators.resolve import deployment

SHOP = textwrap.dedent("""\
    service: shop
    team: commerce
    namespace: shop
    workload: {kind: Deployment, name: shop-api}
    metrics: {score: {range: [0, 1]}}
    monitors:
      - {name: ShopScoreLow, kind: threshold, metric: score, op: below, threshold: 0.5, for: 5m, severity: warning}
    remediations:
      - {name: restart, action: rollout-restart, description: Restart.}
    """)


def _catalog(tmp_path, defaults: str, shop: str = SHOP):
    d = tmp_path / "alerts"
    d.mkdir(exist_ok=True)
    (d / "_defaults.yaml").write_text(textwrap.dedent(defaults))
    (d / "shop.yaml").write_text(shop)
    return load_catalog(d)


def test_each_environment_takes_its_own_settings_and_the_catalogs_otherwise(tmp_path):
    cat = _catalog(tmp_path, """\
        environments: [dev, prod]
        rule_labels: {release: kps}
        dashboard_folder: "{team}"
        namespaces: {shop: shop-all}
        environment_settings:
          dev: {rule_labels: {release: dev}, namespaces: {}, dashboard_namespace: grafana}
        """)
    dev, prod = deployment(cat.defaults, "dev"), deployment(cat.defaults, "prod")
    assert (dev.rule_labels, dev.namespaces, dev.dashboard_namespace) == ({"release": "dev"}, {}, "grafana")
    assert (prod.rule_labels, prod.namespaces, prod.dashboard_namespace) == ({"release": "kps"}, {"shop": "shop-all"},
                                                                          "monitoring")
    assert dev.dashboard_folder == prod.dashboard_folder == "{team}"
    assert prod.namespace("shop") == "shop-all" and prod.namespace("other") == "other" and dev.namespace("shop") == "shop"


def test_settings_for_an_unknown_environment_are_an_error(tmp_path):
    with pytest.raises(CatalogError) as exc:
        _catalog(tmp_path, "environments: [dev, prod]\nenvironment_settings: {prd: {rule_labels: {a: b}}}\n")
    assert "_defaults.yaml" in str(exc.value) and "unknown environment(s) prd" in str(exc.value)


@pytest.mark.parametrize("edit, path", [
    (lambda s: s.replace("team: commerce\n", "team: commerce\nsource: {type: prometheus, selector: {namespace: shop}}\n"),
     "source.selector.namespace"),
    (lambda s: s + textwrap.dedent("""\
        jobs:
          - {name: eval, purpose: evaluation, description: Eval., schedule: "0 * * * *", image: "i:1",
             command: [kubectl, get, pods, -n, shop]}
        """), "jobs[0].command[3]"),
    (lambda s: s.replace("monitors:\n", textwrap.dedent("""\
        external_metrics: [up]
        monitors:
          - name: ShopDown
            kind: raw
            expr: up{namespace="shop"} == 0
            severity: page
            tests:
              fires: {input: [{series: 'up{namespace="shop"}', values: "0x10"}], at: 5m, value: 0,
                      labels: {namespace: shop}}
              silent: {input: [{series: 'up{namespace="shop"}', values: "1x10"}], at: 5m}
        """)), "monitors[0].expr"),
])
def test_a_moved_namespace_written_by_hand_is_an_error(tmp_path, edit, path):
    defaults = "environments: [dev, prod]\nenvironment_settings: {dev: {namespaces: {shop: shop-dev}}}\n"
    with pytest.raises(CatalogError) as exc:
        _catalog(tmp_path, defaults, edit(SHOP))
    (problem,) = [p for p in exc.value.problems if p.path == path]
    assert "names namespace 'shop' by hand" in problem.message and "dev renders the service" in problem.message
    # without the move, writing the namespace is fine
    _catalog(tmp_path, "environments: [dev, prod]\n", edit(SHOP))
