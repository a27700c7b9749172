"""The numbers behind the live training curves, without Qt: a table that grows in amortised O(1), exponential
smoothing that stays vectorised, axis ranges that do not move at every tick, and the training speed.

The GUI's plots (``faceforge/gui/plots.py``) draw what these compute; keeping them here lets them be tested (and
reused) without a window. Rows are ``faceforge.runs.STATS_COLUMNS`` wide, as ``stats.jsonl`` is.
"""
from __future__ import annotations

import math

import numpy as np

from faceforge.runs import STATS_COLUMNS

_STEP, _WALL = STATS_COLUMNS.index("step"), STATS_COLUMNS.index("wall")


class GrowingArray:
    """A (n, cols) float64 table with amortised O(1) appends (capacity doubles when full).

    Stored column-major, so ``column(j)`` is a contiguous array: pyqtgraph's min/max and downsampling run
    several times faster on contiguous data than on a strided column of a row-major table.
    """

    def __init__(self, ncols: int, capacity: int = 1024):
        self._data = np.empty((ncols, capacity))
        self.n = 0

    def append(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, np.float64).reshape(-1, self._data.shape[0])
        need = self.n + len(rows)
        if need > self._data.shape[1]:
            cap = self._data.shape[1]
            while cap < need:
                cap *= 2
            grown = np.empty((self._data.shape[0], cap))
            grown[:, : self.n] = self._data[:, : self.n]
            self._data = grown
        self._data[:, self.n : need] = rows.T
        self.n = need

    def truncate(self, n: int) -> None:
        self.n = max(0, min(self.n, n))

    def clear(self) -> None:
        self.n = 0

    @property
    def capacity(self) -> int:
        return self._data.shape[1]

    def view(self) -> np.ndarray:
        """(n, cols) - a transposed view, for row-wise reading."""
        return self._data[:, : self.n].T

    def column(self, j: int) -> np.ndarray:
        return self._data[j, : self.n]

    def __len__(self) -> int:
        return self.n


def ema(x: np.ndarray, alpha: float, init: float | None = None) -> np.ndarray:
    """y[t] = alpha*y[t-1] + (1-alpha)*x[t], starting from ``init`` (default x[0]); NaNs carry the last value.

    Vectorised in chunks: within a chunk y = a^(t+1)*y0 + (1-a)*a^t*cumsum(a^-k * x_k), with the chunk short enough
    that a^-k stays far from overflow; the error stays at float64 rounding level.
    """
    x = np.asarray(x, np.float64)
    if len(x) == 0:
        return x.copy()
    if np.isnan(x).any():  # forward-fill gaps so one missing value does not poison the average
        idx = np.where(np.isnan(x), 0, np.arange(len(x)))
        np.maximum.accumulate(idx, out=idx)
        x = x[idx]
        if init is None and np.isnan(x[0]):
            x = np.nan_to_num(x)
    if alpha <= 0:
        return x.copy()
    alpha = min(alpha, 0.9999)
    prev = x[0] if init is None or not math.isfinite(init) else float(init)
    chunk = int(max(1, min(256, 600 / -math.log(alpha))))
    k = np.arange(chunk, dtype=np.float64)
    pw, inv = alpha ** k, alpha ** -k
    out = np.empty_like(x)
    for s in range(0, len(x), chunk):
        xs = x[s : s + chunk]
        m = len(xs)
        y = alpha * pw[:m] * prev + (1 - alpha) * pw[:m] * np.cumsum(inv[:m] * xs)
        out[s : s + m] = y
        prev = y[-1]
    return out


def nice_ceiling(x: float) -> float:
    """The next 1/2/5 x 10^k at or above x (axis ends that do not change at every tick)."""
    if x <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * base >= x:
            return float(m * base)
    return float(10 * base)


def robust_bounds(columns: list[np.ndarray], max_samples: int = 4000) -> tuple[float | None, float | None]:
    """0.5th-99.5th percentile over the columns (one early spike must not flatten the rest of a loss curve);
    strided to a few thousand samples so it costs the same at 100,000 points."""
    parts = []
    for c in columns:
        if len(c):
            parts.append(c[:: max(1, len(c) // max_samples)])
            parts.append(c[-50:])  # the newest values always count
    if not parts:
        return None, None
    v = np.concatenate(parts)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return None, None
    v.sort()  # (np.percentile lazily imports more of numpy on first use: a 60 ms stall mid-run)
    return float(v[int(0.005 * (len(v) - 1))]), float(v[int(round(0.995 * (len(v) - 1)))])


def step_axis_end(total_steps: int, last_step: float) -> float:
    """Where the step axis ends: a round number (1/2/5 x 10^k) a quarter beyond the last step, so the curves fill
    the plot from the first ticks and the axis moves in a few big jumps, not at every tick; the run's length once
    that is nearer (then it stays put until the end), or past it for an extended run."""
    if last_step <= 0:
        return float(max(total_steps, 1))
    end = nice_ceiling(last_step * 1.25)
    return end if last_step > total_steps or end < total_steps else float(total_steps)


def next_range(old: tuple[float, float] | None, lo: float, hi: float, *,
               hysteresis: bool = True) -> tuple[float, float] | None:
    """The axis range to show data spanning ``lo..hi``, or None to leave the axis at ``old``.

    A moved axis re-lays out its ticks and labels (most of a repaint's cost), so with ``hysteresis`` the range
    only changes when the data leave it or shrink to under 40 % of it, and then with 8 % padding (a range starting
    at 0 stays at 0). Without, it changes whenever it differs."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    if old is not None:
        o_lo, o_hi = old
        inside = lo >= o_lo and hi <= o_hi
        if (not hysteresis and (lo, hi) == old) or (hysteresis and inside and (hi - lo) > 0.4 * (o_hi - o_lo)):
            return None
    pad = 0.08 * (hi - lo) if hysteresis else 0.0
    return (lo - pad if lo != 0.0 else 0.0, hi + pad)


def steps_per_second(rows: np.ndarray) -> float | None:
    """From the training wall-clock column over the last ~20 ticks (so pauses and loading do not count)."""
    if len(rows) < 2:
        return None
    tail = rows[-20:]
    dt = tail[-1, _WALL] - tail[0, _WALL]
    ds = tail[-1, _STEP] - tail[0, _STEP]
    return ds / dt if dt > 0 and ds > 0 else None


def per_step_losses(rows: list[dict]) -> np.ndarray:
    """(n, 3) [step, loss_g, loss_d] for every step the rows cover: a row's ``loss_g_steps``/``loss_d_steps``
    (every step of its logging tick, ending at its step) when it has them, else its tick mean at its step (runs
    logged before per-step losses were kept). Rows without losses (quality-score rows) add nothing."""
    parts = []
    for row in rows:
        g, d = row.get("loss_g_steps"), row.get("loss_d_steps")
        step = row.get("step")
        if not isinstance(step, (int, float)):
            continue
        if isinstance(g, list) and isinstance(d, list) and g and len(g) == len(d):
            steps = np.arange(step - len(g) + 1, step + 1, dtype=np.float64)
            parts.append(np.column_stack([steps, np.asarray(g, np.float64), np.asarray(d, np.float64)]))
        elif isinstance(row.get("loss_g"), (int, float)) and isinstance(row.get("loss_d"), (int, float)):
            parts.append(np.array([[step, row["loss_g"], row["loss_d"]]], np.float64))
    return np.concatenate(parts) if parts else np.zeros((0, 3))


def variety(diversity: np.ndarray) -> np.ndarray:
    """The diversity score is mean MS-SSIM between samples, which falls as the faces become varied; 1 - MS-SSIM
    rises with variety, so a curve going up means what its label says."""
    return 1.0 - np.asarray(diversity, np.float64)


def clamp_span(lo: float, hi: float, first: float, last: float) -> tuple[float, float]:
    """A zoomed or panned step range moved back over the data ``first..last`` (a wheel zoom must not land on
    steps that have no data): kept as wide as asked when it fits, else the whole data."""
    if last <= first:
        return lo, hi
    width = hi - lo
    if width >= last - first:
        return first, last
    if lo < first:
        return first, first + width
    if hi > last:
        return last - width, last
    return lo, hi


def evaluations_left(step: int, total: int, every: int) -> int:
    """Quality measurements still to come after ``step``: every ``every`` steps and one at the end."""
    if every <= 0 or step >= total:
        return 0
    return total // every - step // every + (1 if total % every else 0)


def time_left(*, step: int, total: int, seconds_per_step: float | None, eval_seconds: float = 0.0,
              metrics_every: int = 0) -> float | None:
    """Seconds until the run ends: the steps left at the measured rate plus the quality measurements still to
    come (the one at the end included), each as long as the last one took."""
    if seconds_per_step is None:
        return None
    return (max(0, total - step) * seconds_per_step
            + evaluations_left(step, total, metrics_every) * max(0.0, eval_seconds))
