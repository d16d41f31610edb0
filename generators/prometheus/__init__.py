"""Prometheus outputs: rule files, PrometheusRule objects and promtool unit tests."""
