"""Grafana dashboards: one generated per service from its monitors, plus hand-written ones
(``dashboards/*.dashboard.py``), each as ``grafana/<uid>.json`` and as a sidecar ConfigMap in
``kubernetes/<service>.yaml``. See ``docs/dashboards.md``.

Modules:
- :mod:`.thresholds` — catalog thresholds -> Grafana threshold steps (the only source of numbers);
- :mod:`.queries` — a monitor's panels from its kind's signals (``generators/kinds/<kind>.py``);
- :mod:`.build` — grafanalib building blocks; :mod:`.modern` — grafanalib JSON -> current schema;
- :mod:`.service` — the generated dashboard; :mod:`.cloudwatch` — CloudWatch datasource targets;
- :mod:`.handwritten` — loading ``*.dashboard.py`` modules with the catalog, running them at render;
- :mod:`.helpers` — the API hand-written dashboards use; :mod:`.checks` — the ``mlmon check`` step;
- :mod:`.generate` — the generators :mod:`generators.render` lists.

grafanalib is imported only when a dashboard is built, never by ``import generators``.
"""
