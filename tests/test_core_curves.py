"""The numbers behind the training curves: appends that keep every row, smoothing equal to the textbook
recurrence, axis ranges that stay put until the data leave them, and the speed from the wall-clock column."""
from __future__ import annotations

import numpy as np
import pytest

from faceforge.curves import (GrowingArray, clamp_span, ema, evaluations_left, next_range, nice_ceiling,
                              per_step_losses, robust_bounds, step_axis_end, steps_per_second, time_left, variety)
from faceforge.runs import STATS_COLUMNS


def reference_ema(x, alpha, init=None):
    out, prev = [], x[0] if init is None else init
    for v in x:
        prev = alpha * prev + (1 - alpha) * v
        out.append(prev)
    return np.array(out)


def test_growing_array_keeps_every_row_across_growth_and_truncates():
    table = GrowingArray(3, capacity=4)
    rows = np.arange(30, dtype=float).reshape(10, 3)
    table.append(rows[:3])
    table.append(rows[3:])  # needs 10 > 4: grows to 16, keeping the first rows
    assert len(table) == 10 and table.capacity == 16
    np.testing.assert_array_equal(table.view(), rows)
    np.testing.assert_array_equal(table.column(1), rows[:, 1])
    assert table.column(1).flags["C_CONTIGUOUS"]  # what makes pyqtgraph's downsampling fast
    table.truncate(99)  # never beyond the rows it has
    assert len(table) == 10
    table.truncate(4)
    table.append(rows[9])  # one row, as a 1-D array
    np.testing.assert_array_equal(table.view(), np.vstack([rows[:4], rows[9:]]))
    table.clear()
    assert len(table) == 0 and table.view().shape == (0, 3)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.9, 0.99])
def test_ema_is_the_recurrence_over_many_chunks(alpha):
    x = np.random.default_rng(0).normal(size=1000).cumsum()
    np.testing.assert_allclose(ema(x, alpha), reference_ema(x, alpha), rtol=1e-9, atol=1e-9)


def test_ema_continues_from_init_and_carries_over_gaps():
    x = np.array([1.0, 2.0, np.nan, 4.0])
    np.testing.assert_allclose(ema(x, 0.5), reference_ema(np.array([1.0, 2.0, 2.0, 4.0]), 0.5))
    whole = ema(np.arange(10.0), 0.8)
    tail = ema(np.arange(5.0, 10.0), 0.8, init=whole[4])  # new ticks smoothed incrementally
    np.testing.assert_allclose(tail, whole[5:])
    assert len(ema(np.zeros(0), 0.5)) == 0


def test_axis_ends_are_round_numbers():
    assert [nice_ceiling(x) for x in (0, 0.7, 1, 1.2, 3, 7, 12, 4500)] == [1, 1, 1, 2, 5, 10, 20, 5000]
    assert step_axis_end(100_000, 500) == 1000  # early on the curves fill the plot, not a sliver of 100k steps
    assert {step_axis_end(100_000, s) for s in range(420, 801, 20)} == {1000}  # no move at every tick
    assert step_axis_end(2000, 1200) == 2000 == step_axis_end(2000, 1999)  # the run's length once it is near
    assert step_axis_end(0, 0) == 1 and step_axis_end(2000, 0) == 2000
    assert step_axis_end(2000, 2100) == 5000  # past the planned length: a round number well beyond


def test_robust_bounds_ignore_one_early_spike_and_nan():
    loss = np.full(1000, 1.0)
    loss[3] = 1e6
    loss[10] = np.nan
    loss[-1] = 2.0
    assert robust_bounds([loss]) == (1.0, 1.0)
    long = np.ones(100_000)
    long[-50:] = 5.0  # a new regime at the end: strided sampling alone would call it a spike
    assert robust_bounds([long]) == (1.0, 5.0)
    assert robust_bounds([np.zeros(0)]) == (None, None)
    assert robust_bounds([np.array([np.nan])]) == (None, None)


def test_ranges_move_only_when_the_data_leave_or_shrink():
    first = next_range(None, 0.0, 10.0)
    assert first == pytest.approx((0.0, 10.8))  # padded, and a range from 0 stays at 0
    assert next_range(first, 1.0, 9.0) is None  # inside and most of it: stay
    assert next_range(first, 0.0, 12.0) == pytest.approx((0.0, 12.96))  # out: move
    assert next_range(first, 4.0, 5.0) == pytest.approx((3.92, 5.08))  # shrunk to a tenth: zoom in
    assert next_range(None, 2.0, 2.0) == pytest.approx((1.42, 2.58))  # a flat line gets some height
    assert next_range(None, 0.0, float("nan")) is None
    assert next_range((0.0, 100.0), 0.0, 100.0, hysteresis=False) is None
    assert next_range((0.0, 100.0), 0.0, 120.0, hysteresis=False) == (0.0, 120.0)  # no padding


def test_steps_per_second_from_the_last_ticks_of_the_wall_clock():
    rows = np.full((30, len(STATS_COLUMNS)), np.nan)
    rows[:, STATS_COLUMNS.index("step")] = np.arange(30) * 10
    rows[:, STATS_COLUMNS.index("wall")] = np.r_[np.zeros(10), np.arange(1, 21) * 2.0]  # slow start, then 5/s
    assert steps_per_second(rows) == pytest.approx(5.0)
    assert steps_per_second(rows[:1]) is None
    stalled = rows[:10]  # the wall clock did not move
    assert steps_per_second(stalled) is None
    rewound = rows[10:].copy()
    rewound[-1, STATS_COLUMNS.index("step")] = rewound[0, STATS_COLUMNS.index("step")]  # a rollback: no rate
    assert steps_per_second(rewound) is None


def test_per_step_losses_expand_each_tick_and_fall_back_to_the_tick_mean():
    rows = [{"step": 0, "swd": 30.0},  # a quality-score row: no losses
            {"step": 3, "loss_g": 2.0, "loss_d": 1.0, "loss_g_steps": [1.0, 2.0, 3.0], "loss_d_steps": [.5, 1., 1.5]},
            {"step": 6, "loss_g": 4.0, "loss_d": 0.5}]  # written before per-step losses were kept
    out = per_step_losses(rows)
    np.testing.assert_array_equal(out, [[1, 1.0, .5], [2, 2.0, 1.0], [3, 3.0, 1.5], [6, 4.0, .5]])
    assert per_step_losses([]).shape == (0, 3)


def test_variety_rises_as_ms_ssim_falls():
    np.testing.assert_allclose(variety(np.array([0.9, 0.4])), [0.1, 0.6])


@pytest.mark.parametrize("span, expected", [
    ((100, 300), (100, 300)),  # inside the data: left alone
    ((-200, 0), (0, 200)),  # zoomed out past the start: moved onto the data, same width
    ((900, 1400), (500, 1000)),  # past the newest step
    ((-500, 2000), (0, 1000)),  # wider than the data: the data
])
def test_a_zoom_is_clamped_to_the_steps_that_have_data(span, expected):
    assert clamp_span(*span, 0, 1000) == expected


def test_time_left_counts_the_quality_measurements_still_to_come_with_the_final_one():
    assert evaluations_left(260, 2000, 500) == 4  # 500, 1000, 1500, 2000
    assert evaluations_left(260, 2010, 500) == 5  # ... and one at the end
    assert evaluations_left(2000, 2000, 500) == 0 and evaluations_left(10, 100, 0) == 0
    assert time_left(step=1500, total=2000, seconds_per_step=0.1, eval_seconds=20.0, metrics_every=1000) == \
        pytest.approx(500 * 0.1 + 20.0)
    assert time_left(step=10, total=20, seconds_per_step=None) is None
