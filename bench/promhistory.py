"""Generated history in a real Prometheus: OpenMetrics files -> ``promtool tsdb create-blocks-from
openmetrics`` -> ``prometheus`` serving the blocks on 127.0.0.1 (tests and ``bench/backtest.py``).

- one OpenMetrics file per UTC day (promtool 2.42 re-reads its whole input for every 2h block it cuts,
  so one big file is quadratic);
- ``--storage.tsdb.retention.time`` far beyond the history, or Prometheus deletes old blocks at start-up;
- samples of one series in time order; families not interleaved; values written with ``repr`` so the
  float read back is the float written.
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

DAY = 86400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def series_key(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}" if inner else name


class History:
    """Samples of many series: ``add(name, labels, [(unix seconds, value)])``."""

    def __init__(self):
        self.series: dict[tuple[str, str], list[tuple[int, float]]] = {}

    def add(self, name: str, labels: dict[str, str], samples) -> None:
        key = (name, series_key(name, labels))
        self.series.setdefault(key, []).extend((int(t), float(v)) for t, v in samples)

    def samples(self) -> int:
        return sum(len(v) for v in self.series.values())

    def write_openmetrics(self, out_dir: Path) -> list[Path]:
        """One file per UTC day; returns them in order."""
        out_dir.mkdir(parents=True, exist_ok=True)
        days: dict[int, dict[str, list[str]]] = {}
        for (name, key), samples in sorted(self.series.items()):
            samples.sort()
            prev = None
            for t, v in samples:
                if t == prev:
                    raise ValueError(f"{key}: two samples at {t}")
                prev = t
                days.setdefault(t // DAY, {}).setdefault(name, []).append(f"{key} {_value(v)} {t}")
        files = []
        for day in sorted(days):
            path = out_dir / f"day-{day}.om.txt"
            with open(path, "w") as f:
                for name in sorted(days[day]):
                    f.write(f"# TYPE {name} unknown\n")
                    f.write("\n".join(days[day][name]))
                    f.write("\n")
                f.write("# EOF\n")
            files.append(path)
        return files


def backfill(files: list[Path], data_dir: Path, promtool: str | None = None) -> None:
    promtool = promtool or shutil.which("promtool")
    if promtool is None:
        raise RuntimeError("promtool not on PATH (Debian package prometheus)")
    data_dir.mkdir(parents=True, exist_ok=True)
    flags = ["-q", "--max-block-duration=24h"]  # hidden flag: one block per day file instead of twelve
    for f in files:
        r = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", *flags, str(f), str(data_dir)],
                           capture_output=True, text=True)
        if r.returncode != 0 and "max-block-duration" in r.stderr:
            flags = ["-q"]
            r = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", *flags, str(f), str(data_dir)],
                               capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"promtool tsdb create-blocks-from openmetrics {f.name} failed: "
                               f"{r.stderr.strip() or r.stdout.strip()}")


class LocalPrometheus:
    """``prometheus`` on 127.0.0.1 (random free port) serving ``data_dir``; no scrape targets, no rules."""

    def __init__(self, workdir: Path, data_dir: Path, binary: str | None = None):
        self.binary = binary or shutil.which("prometheus")
        if self.binary is None:
            raise RuntimeError("prometheus not on PATH (Debian package prometheus)")
        self.workdir = workdir
        self.data_dir = data_dir
        self.port = free_port()
        self.config = workdir / "prometheus.yml"
        self.config.write_text(json.dumps({"global": {"scrape_interval": "1m", "evaluation_interval": "1m"}}))
        self.log = workdir / "prometheus.log"
        self.proc = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen(
            [self.binary, f"--config.file={self.config}", f"--storage.tsdb.path={self.data_dir}",
             "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{self.port}",
             "--log.level=warn", "--query.max-samples=200000000"],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=self.workdir)
        try:
            self.wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready after {timeout}s: {self.log.read_text()[-2000:]}")
