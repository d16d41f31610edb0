"""Scheduled jobs (monitors, evaluations, retraining) and typed remediations of a service.

:mod:`generators.jobs.model` holds the catalog schema (``jobs:`` and ``remediations:`` of a service file);
:mod:`generators.kubernetes` renders them. See ``docs/remediations.md``.
"""
