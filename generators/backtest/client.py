"""A small client of the Prometheus HTTP API (``/api/v1``), standard library only.

``query_range`` is split into chunks of at most :data:`MAX_POINTS` evaluations: Prometheus refuses a range
query whose ``(end - start) / step`` exceeds 11,000 ("exceeded maximum resolution of 11,000 points per
timeseries"). Every failure becomes a :class:`PrometheusError` whose message says what was asked, of
which URL, and what came back.

Credentials: ``https://user:password@host`` in the URL (basic auth), or a bearer token in the environment
variable ``MLMON_PROMETHEUS_TOKEN``; neither is ever printed.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request

MAX_POINTS = 11_000
"""Evaluations per range query (``(end - start) / step`` stays below Prometheus' limit of 11,000)."""

TOKEN_ENV = "MLMON_PROMETHEUS_TOKEN"


class PrometheusError(Exception):
    """Talking to Prometheus failed; the message is meant for the user."""


def chunks(start: int, end: int, step: int, max_points: int = MAX_POINTS) -> list[tuple[int, int]]:
    """``[(start, end)]`` ranges covering the evaluations ``start, start + step, ..., end`` without overlap,
    each with at most ``max_points`` evaluations."""
    out = []
    width = (max_points - 1) * step
    s = start
    while s <= end:
        e = min(s + width, end)
        out.append((s, e))
        s = e + step
    return out


class Prometheus:
    def __init__(self, url: str, timeout: float = 300.0, max_points: int = MAX_POINTS):
        parsed = urllib.parse.urlsplit(url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise PrometheusError(f"--prometheus {url!r} is not an http(s) URL (e.g. http://prometheus:9090)")
        self.headers = {"Accept": "application/json", "User-Agent": "mlmon-backtest"}
        netloc = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
        if parsed.username is not None:
            user = urllib.parse.unquote(parsed.username)
            password = urllib.parse.unquote(parsed.password or "")
            self.headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        elif os.environ.get(TOKEN_ENV):
            self.headers["Authorization"] = f"Bearer {os.environ[TOKEN_ENV]}"
        self.url = urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path.rstrip("/"), "", ""))
        self.timeout = timeout
        self.max_points = max_points
        self.queries = 0

    # --- HTTP -------------------------------------------------------------------------------------

    def _call(self, path: str, params: list[tuple[str, str]], what: str):
        url = f"{self.url}/api/v1/{path}"
        data = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(url, data=data, headers={
            **self.headers, "Content-Type": "application/x-www-form-urlencoded"})
        self.queries += 1
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                body = r.read()
                status = r.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read() or b"", exc.code
        except urllib.error.URLError as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {getattr(exc, 'reason', exc)}") from None
        except (TimeoutError, OSError) as exc:
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {exc}") from None
        try:
            doc = json.loads(body)
        except ValueError:
            snippet = body[:120].decode("utf-8", errors="replace").strip().replace("\n", " ")
            raise PrometheusError(
                f"{self.url} does not answer like a Prometheus API: {what} returned HTTP {status} "
                f"and not JSON ({snippet!r}); give the Prometheus base URL, e.g. http://prometheus:9090") from None
        if not isinstance(doc, dict) or doc.get("status") not in ("success", "error"):
            raise PrometheusError(f"{self.url} does not answer like a Prometheus API: {what} returned HTTP {status} "
                                  f"with an unexpected JSON document")
        if doc["status"] == "error":
            raise PrometheusError(f"Prometheus at {self.url} rejected {what}: "
                                  f"{doc.get('errorType', 'error')}: {doc.get('error', '')}")
        return doc.get("data")

    # --- API --------------------------------------------------------------------------------------

    def check(self) -> None:
        """Fail clearly unless ``url`` is a Prometheus (or compatible) query API."""
        data = self._call("query", [("query", "1")], "the probe query `1`")
        if not isinstance(data, dict) or data.get("resultType") != "scalar":
            raise PrometheusError(f"{self.url} does not answer like a Prometheus API: the probe query `1` "
                                  f"did not return a scalar")

    def query_range(self, expr: str, start: int, end: int, step: int) -> list[dict]:
        """One range query, in chunks; the series of every chunk merged: ``[{"metric", "values"}]``."""
        merged: dict[str, dict] = {}
        for s, e in chunks(start, end, step, self.max_points):
            for series in self.query_range_chunk(expr, s, e, step):
                key = json.dumps(series.get("metric", {}), sort_keys=True)
                if key in merged:
                    merged[key]["values"].extend(series.get("values", []))
                else:
                    merged[key] = {"metric": series.get("metric", {}), "values": list(series.get("values", []))}
        return list(merged.values())

    def query_range_chunk(self, expr: str, start: int, end: int, step: int) -> list[dict]:
        data = self._call("query_range", [("query", expr), ("start", str(start)), ("end", str(end)),
                                          ("step", str(step))], f"the range query `{_short(expr)}`")
        if not isinstance(data, dict) or data.get("resultType") != "matrix":
            raise PrometheusError(f"Prometheus at {self.url} returned no matrix for `{_short(expr)}`")
        return data.get("result") or []

    def series(self, match: str, start: int, end: int) -> list[dict]:
        data = self._call("series", [("match[]", match), ("start", str(start)), ("end", str(end))],
                          f"the series lookup {match}")
        return data or []


def _short(expr: str, n: int = 80) -> str:
    one = " ".join(expr.split())
    return one if len(one) <= n else one[: n - 3] + "..."
