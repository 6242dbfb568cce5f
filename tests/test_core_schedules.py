import pytest

from condgen.core.schedules import LinearDecay


def test_linear_decay_start_middle_end():
    schedule = LinearDecay(2e-4, total_steps=100, decay_start=50)
    assert float(schedule(0)) == pytest.approx(2e-4)
    assert float(schedule(50)) == pytest.approx(2e-4)
    assert float(schedule(75)) == pytest.approx(1e-4)
    assert float(schedule(100)) == pytest.approx(0.0)
    assert float(schedule(150)) == pytest.approx(0.0)


def test_linear_decay_round_trips_through_config():
    schedule = LinearDecay(1e-3, 10, 4)
    again = LinearDecay.from_config(schedule.get_config())
    assert float(again(7)) == pytest.approx(float(schedule(7)))
