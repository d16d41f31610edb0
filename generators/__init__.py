"""mlmon: monitoring-as-code for machine-learning services.

One reviewed catalog (``alerts/*.yaml``) -> typed model (:mod:`generators.model`)
-> pure generators -> artifacts (:mod:`generators.render`).
"""

__version__ = "0.1.0"
