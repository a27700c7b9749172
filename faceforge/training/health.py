"""Is my run healthy? Plain-language diagnoses from the numbers a run already logs.

The monitor reads stats rows (and quality scores when present) and raises a warning once per condition, with a
cool-down, in words a person can act on. NaN/inf losses are handled by the loop itself (roll-back); this module
explains the slower failures: a discriminator that wins outright, mode collapse, and a score that stopped improving.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class HealthWarning:
    code: str  # d-winning | at-chance | collapse | no-progress | diverged
    step: int
    text: str


@dataclass
class HealthMonitor:
    window: int = 10  # stats ticks a condition must hold for
    d_win_real: float = 0.95
    d_win_fake: float = 0.05
    chance_gap: float = 0.03  # |D(x) - D(G(z))| below this for a whole window, early on = nothing is learning
    chance_until_step: int = 1000  # after this a small gap can be a healthy equilibrium
    collapse_margin: float = 0.12  # diversity (MS-SSIM) this far above its best (lowest) value = collapse
    patience: int = 5  # quality evaluations without a 3% improvement = no progress
    cooldown_ticks: int = 50
    _recent: deque = field(init=False)
    _best_swd: float = float("inf")
    _since_best: int = 0
    _best_diversity: float = float("inf")
    _last_fired: dict[str, int] = field(default_factory=dict)
    _ticks: int = 0

    def __post_init__(self) -> None:
        self._recent = deque(maxlen=self.window)

    def _fire(self, code: str, step: int, text: str) -> list[HealthWarning]:
        last = self._last_fired.get(code)
        if last is not None and self._ticks - last < self.cooldown_ticks:
            return []
        self._last_fired[code] = self._ticks
        return [HealthWarning(code, step, text)]

    def update(self, row: dict[str, Any]) -> list[HealthWarning]:
        out: list[HealthWarning] = []
        step = int(row.get("step", 0))
        if "d_real" in row and "d_fake" in row:
            self._ticks += 1
            self._recent.append((row["d_real"], row["d_fake"]))
            if len(self._recent) == self._recent.maxlen and all(
                r > self.d_win_real and f < self.d_win_fake for r, f in self._recent
            ):
                out += self._fire(
                    "d-winning", step,
                    f"The discriminator is winning outright (D(x) ≈ {row['d_real']:.2f}, D(G(z)) ≈ {row['d_fake']:.2f} "
                    f"for the last {self.window} ticks): the generator gets almost no useful gradient. If the samples "
                    "stop improving, lower the discriminator's learning rate, or try the hinge or WGAN-GP loss.")
            chance = [abs(r - f) < self.chance_gap and 0.35 < r < 0.65 for r, f in self._recent]
            if step <= self.chance_until_step and len(chance) == self._recent.maxlen and all(chance):
                out += self._fire(
                    "at-chance", step,
                    f"D is at chance and nothing is learning: D(x) ≈ D(G(z)) ≈ {row['d_real']:.2f} for the last "
                    f"{self.window} ticks, so D cannot tell real faces from generated ones and G gets no signal. "
                    "Check the labels (a column in years or other large numbers fed as-is, or labels that do not "
                    "match the images) and the learning rates (too low for D, or too high for both); the sample "
                    "grid will show noise.")
        if "swd" in row:
            swd = float(row["swd"])
            if swd < self._best_swd * 0.97:
                self._best_swd, self._since_best = swd, 0
            else:
                self._since_best += 1
                if self._since_best >= self.patience:
                    out += self._fire(
                        "no-progress", step,
                        f"The quality score (SWD, lower is better) has not improved for {self._since_best} evaluations "
                        f"(best {self._best_swd:.1f}, now {swd:.1f}). The run may have converged: compare the sample "
                        "grids, and stop, or lower the learning rates to refine.")
        if "diversity" in row:
            div = float(row["diversity"])
            self._best_diversity = min(self._best_diversity, div)
            if div > self._best_diversity + self.collapse_margin:
                out += self._fire(
                    "collapse", step,
                    f"The samples are becoming alike (diversity score {div:.2f}, was {self._best_diversity:.2f}; "
                    "higher = more similar): the generator may be collapsing onto a few faces. Look at the sample "
                    "grid; if it repeats, resume from an earlier checkpoint with a lower learning rate or another loss.")
        return out
