"""Synthetic series for the backtest tests (fixture catalog ``tests/fixtures/backtest/kinds``).

Deterministic (seeded) regimes per tenant that cross every alert's threshold for runs both shorter and
longer than its ``for``; gaps (shorter and longer than Prometheus' 5m lookback); counter resets (a process
restart: every counter of the tenant starts again from zero); a low-traffic stretch (the ratio guards);
stalls of the progress counter; a heartbeat that disappears. Counters only ever hold integers, so the
floats written to the TSDB and to promtool's input are the same numbers.

``series(seed, n_steps, scrape)`` -> ``{(metric, labels tuple): [(offset seconds, value)]}``, offsets from the
scenario start; a missing offset is a gap.
"""

from __future__ import annotations

import random

TENANTS = ("a", "b")
BUCKETS = ("0.1", "0.25", "0.5", "1", "2.5", "+Inf")


def _regimes(rng: random.Random, n: int, levels: list[tuple[float, tuple[int, int]]]) -> list[int]:
    """Per sample, an index into ``levels``: runs of the normal level 0 alternate with runs of a random other
    level; each run's length is drawn from its level's ``(min, max)`` samples."""
    out: list[int] = []
    cur = 0
    while len(out) < n:
        out.extend([cur] * rng.randint(*levels[cur][1]))
        cur = 0 if cur else rng.randrange(1, len(levels))
    return out[:n]


def _gaps(rng: random.Random, n: int, count: int, length: tuple[int, int]) -> set[int]:
    out: set[int] = set()
    for _ in range(count):
        start = rng.randrange(n)
        out.update(range(start, min(n, start + rng.randint(*length))))
    return out


def series(seed: int, n_steps: int, scrape: int = 60, eval_interval: int = 60) -> dict:
    per = eval_interval // scrape
    m = n_steps * per  # samples
    out: dict = {}

    def put(name, labels, values, gaps=()):
        key = (name, tuple(sorted(labels.items())))
        out[key] = [(j * scrape, v) for j, v in enumerate(values) if j not in gaps]

    # long gaps scale with the samples per minute
    def gaps(rng, count, lo, hi):
        return _gaps(rng, m, count, (lo * per, hi * per))

    for t_i, tenant in enumerate(TENANTS):
        rng = random.Random(seed * 1000 + t_i)
        lab = {"tenant": tenant}

        # quality score: 0.85 normal, 0.55 bad (runs of 1..15 minutes)
        reg = _regimes(rng, m, [(0.85, (10 * per, 50 * per)), (0.55, (1 * per, 15 * per))])
        vals = [round(0.85 if r == 0 else 0.55, 2) + rng.choice((-0.04, -0.02, 0.0, 0.02, 0.04)) for r in reg]
        put("bt_quality_score", lab, [round(v, 2) for v in vals], gaps(rng, 4, 1, 12))

        # queue depth: ~10, ~40 (High) or ~130 (Critical)
        reg = _regimes(rng, m, [(10, (5 * per, 40 * per)), (40, (1 * per, 10 * per)), (130, (1 * per, 4 * per))])
        base = {0: 10, 1: 40, 2: 130}
        put("bt_queue_depth", lab, [float(base[r] + rng.randint(-5, 5)) for r in reg], gaps(rng, 4, 1, 10))

        # degradation flag: 0/1
        reg = _regimes(rng, m, [(0, (10 * per, 60 * per)), (1, (1 * per, 6 * per))])
        put("bt_degraded", lab, [float(r) for r in reg], gaps(rng, 3, 1, 9))

        # accuracy: a random walk whose slope is +0.2/h or -2/h (per sample: /60/per)
        reg = _regimes(rng, m, [(0.2, (20 * per, 60 * per)), (-2.0, (5 * per, 40 * per))])
        acc, vals = 0.9, []
        for r in reg:
            acc += (0.2 if r == 0 else -2.0) / 60 / per
            vals.append(round(acc + rng.choice((-0.002, 0.0, 0.002)), 4))
        put("bt_accuracy", lab, vals, gaps(rng, 3, 1, 8))

        # counters of one process: restarts reset all of them
        restarts = {rng.randrange(m) for _ in range(3)}
        gap_c = gaps(rng, 2, 1, 8)
        err_reg = _regimes(rng, m, [(0.002, (20 * per, 80 * per)), (0.3, (2 * per, 30 * per))])
        low_traffic = set(range(rng.randrange(m // 2), m)) if t_i == 1 else set()
        low_traffic = set(list(sorted(low_traffic))[: 25 * per])
        req = err = failed = processed = 0
        reqs, errs, fails, procs = [], [], [], []
        stall_reg = _regimes(rng, m, [(1, (10 * per, 50 * per)), (0, (5 * per, 30 * per))])
        fail_burst = _regimes(rng, m, [(0, (15 * per, 70 * per)), (1, (1 * per, 3 * per))])
        buckets = [0] * len(BUCKETS)
        bucket_vals = [[] for _ in BUCKETS]
        slow_reg = _regimes(rng, m, [(0.02, (15 * per, 60 * per)), (0.4, (2 * per, 20 * per))])
        for j in range(m):
            if j in restarts:
                req = err = failed = processed = 0
                buckets = [0] * len(BUCKETS)
            n_req = 0 if j in low_traffic and rng.random() < 0.9 else rng.randint(200, 400) // per
            ratio = 0.002 if err_reg[j] == 0 else 0.3
            n_err = min(n_req, int(n_req * ratio + rng.random()))
            req += n_req
            err += n_err
            failed += rng.randint(1, 4) if fail_burst[j] else 0
            processed += rng.randint(5, 20) if stall_reg[j] == 0 else 0
            slow = slow_reg[j] != 0
            for k, _le in enumerate(BUCKETS):
                share = ((0.5, 0.8, 0.97, 0.99, 1.0, 1.0) if not slow else (0.1, 0.3, 0.5, 0.8, 0.95, 1.0))[k]
                buckets[k] += int(n_req * share)
            buckets[-1] = max(buckets[-1], buckets[-2])
            for k in range(len(BUCKETS)):
                bucket_vals[k].append(float(buckets[k]))
            reqs.append(float(req))
            errs.append(float(err))
            fails.append(float(failed))
            procs.append(float(processed))
        put("bt_requests_total", lab, reqs, gap_c)
        put("bt_errors_total", lab, errs, gap_c)
        put("bt_failed_total", lab, fails, gap_c)
        put("bt_processed_total", lab, procs, gap_c)
        for k, le in enumerate(BUCKETS):
            put("bt_latency_seconds_bucket", {**lab, "le": le}, bucket_vals[k], gap_c)

        # backlog: empty, or 5..40 waiting
        reg = _regimes(rng, m, [(1, (10 * per, 40 * per)), (0, (5 * per, 30 * per))])
        put("bt_backlog", lab, [float(rng.randint(5, 40) if r else 0) for r in reg], gaps(rng, 2, 1, 6))

    rng = random.Random(seed * 1000 + 99)
    put("bt_heartbeat", {}, [1.0] * m, gaps(rng, 4, 3, 20))
    return out


def promtool_series(data: dict, scrape: int) -> list[dict]:
    """``input_series`` for promtool (one value per ``scrape`` slot, ``_`` for a gap)."""
    out = []
    for (name, labels), samples in sorted(data.items()):
        if not samples:
            continue
        values = ["_"] * (max(t for t, _ in samples) // scrape + 1)
        for t, v in samples:
            values[t // scrape] = repr(v)
        inner = ",".join(f'{k}="{v}"' for k, v in labels)
        out.append({"series": f"{name}{{{inner}}}" if inner else name, "values": " ".join(values)})
    return out
