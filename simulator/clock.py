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


class SkippingClock:
    """Real time plus the time slept so far; ``sleep`` returns at once (and is recorded).

    For runs that should not wait out the 1 s / 2 s / 4 s retry back-off (the pytest plugin,
    ``pcsim run|certify --no-retry-wait``): the retries still happen, simulated time jumps ahead.
    Pair it with ``ctx.wall_clock = RealClock()`` so request signatures keep real time."""

    def __init__(self):
        self.offset = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.offset += max(seconds, 0)


class ScaledClock:
    """Accelerated time: ``scale`` simulated seconds pass per real second (``--time-scale 60`` makes
    a five-minute cluster start take five seconds). ``advance`` jumps ahead on top of that."""

    def __init__(self, scale: float, start: float | None = None):
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = float(scale)
        self._real_start = time.time()
        self._sim_start = self._real_start if start is None else float(start)
        self._offset = 0.0

    def now(self) -> float:
        return self._sim_start + (time.time() - self._real_start) * self.scale + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        self._offset += seconds

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)
