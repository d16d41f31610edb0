"""Alertmanager from the catalog: the configuration file (``alertmanager/alertmanager.yaml``), each service's
``AlertmanagerConfig`` (prometheus-operator), inhibition rules, and the routing tests ``mlmon check`` runs.

- :mod:`.model`: the catalog schema (``alertmanager:`` in ``_defaults.yaml``, a monitor's ``inhibits``);
- :mod:`.routes`: the route tree, receivers and inhibitions as plain data, and each alert's expected receiver;
- :mod:`.config`: the file form; :mod:`.operator`: the ``AlertmanagerConfig`` objects;
- :mod:`.verify`: ``amtool check-config`` and ``amtool config routes test`` on a render.
"""
