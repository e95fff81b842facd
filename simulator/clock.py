"""Injected time: every module asks a clock for "now" and for sleeping, never ``time`` directly.

Tests use :class:`ManualClock`, whose ``sleep`` advances simulated time instantly, so the
1 s / 2 s / 4 s retry back-off costs nothing and is still observable.
"""
from __future__ import annotations

import time


class RealClock:
    """Wall-clock time and real sleeping."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """Simulated time that only moves when told to (``advance``) or when something sleeps."""

    def __init__(self, start: float = 1_767_225_600.0):  # 2026-01-01T00:00:00Z
        self._now = float(start)
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        self._now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(seconds, 0))
