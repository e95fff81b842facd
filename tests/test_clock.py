"""The injected clocks: manual time moves only when told, scaled time runs faster than real time."""
import time

import pytest

from simulator.clock import ManualClock, ScaledClock


def test_manual_clock_records_sleeps_and_refuses_going_back():
    clock = ManualClock(start=100)
    clock.sleep(1)
    clock.sleep(2)
    clock.advance(0.5)
    assert clock.now() == 103.5 and clock.sleeps == [1, 2]
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_scaled_clock_runs_faster_and_sleeps_shorter():
    clock = ScaledClock(1000, start=0)
    started = time.perf_counter()
    clock.sleep(50)  # 50 simulated seconds = 0.05 real seconds
    elapsed = time.perf_counter() - started
    assert elapsed < 1 and clock.now() >= 50
    clock.advance(3600)
    assert clock.now() >= 3650
    with pytest.raises(ValueError):
        ScaledClock(0)
