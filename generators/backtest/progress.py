"""A progress bar on stderr, drawn only when stderr is a terminal (no dependency)."""

from __future__ import annotations

import shutil
import sys
import threading
import time


class Progress:
    def __init__(self, label: str = "backtest", stream=None, enabled: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = (bool(isatty and isatty())) if enabled is None else enabled
        self.label = label
        self.total = 0
        self.done = 0
        self.note = ""
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._last = 0.0

    def start(self, total: int) -> None:
        self.total, self.done, self._t0 = total, 0, time.monotonic()
        self._draw(force=True)

    def advance(self, n: int = 1, note: str = "") -> None:
        with self._lock:
            self.done = min(self.total, self.done + n)
            self.note = note or self.note
            self._draw(force=self.done == self.total)

    def finish(self) -> None:
        if self.enabled and self.total:
            with self._lock:
                self.stream.write("\r\033[K")
                self.stream.flush()

    def line(self) -> str:
        width = max(10, min(40, shutil.get_terminal_size((80, 20)).columns - 50))
        frac = self.done / self.total if self.total else 1.0
        filled = int(frac * width)
        bar = "#" * filled + "." * (width - filled)
        return (f"{self.label} [{bar}] {self.done}/{self.total} queries "
                f"{time.monotonic() - self._t0:5.1f}s {self.note}").rstrip()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        self.stream.write("\r\033[K" + self.line())
        self.stream.flush()
