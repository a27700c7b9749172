"""Binary and continuous label columns: which is which, and how each is put on the network's scale.

Real label files mix binary columns (Smiling 1/-1, Male 1/0) with continuous ones (Age in years, a score out of
100). A conditional network wants every input near N(0, 1) beside z; an age of 116 fed as-is swamps z and D at
once (the run never starts). So:

- **The rule.** A column with at most two distinct values is *binary*: the larger value is +1, the smaller -1
  (1/0 and 1/-1 files mean the same). Any other column is *continuous*. ``DataConfig.label_kinds`` (CLI
  ``--label-kind Age=continuous``) overrides the rule per column; a continuous column forced to binary is split at
  its median.
- **The network's scale.** Binary columns stay -1/+1. Continuous columns are standardised over the training rows
  ((x - mean) / std). The built-in faces' attributes are already drawn in [-1, 1] for the network, so they keep
  their values (identity scale).
- **The user's units.** The scale is written into the run's ``config.json`` (``data.label_scales``) when the run
  starts and reused on resume, so every later use - sliders, ``--set Age=60``, recipes, encoders - converts with
  the same numbers. A run with no recorded scales (made before this existed) uses the identity: what it was
  trained with.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np

KINDS = ("binary", "continuous")


@dataclass(frozen=True)
class LabelScale:
    """One column's kind and its map between the user's units and the network's scale."""

    kind: str  # binary | continuous
    mean: float = 0.0  # network value = (units - mean) / std
    std: float = 1.0
    low: float = -1.0  # the range of the training data, in units (the sliders' range for continuous columns)
    high: float = 1.0
    median: float = 0.0  # for a continuous column forced to binary: the threshold

    @property
    def in_units(self) -> bool:
        """True when people should see this column in its own units (a standardised continuous column)."""
        return self.kind == "continuous" and (self.mean != 0.0 or self.std != 1.0)

    def to_network(self, values):
        return (np.asarray(values, np.float32) - np.float32(self.mean)) / np.float32(self.std)

    def to_units(self, values):
        return np.asarray(values, np.float32) * np.float32(self.std) + np.float32(self.mean)

    def slider_range(self) -> tuple[float, float]:
        """What a slider for this column spans, in the units a person reads: -2..+2 for binary and built-in
        columns (beyond the data, on purpose: exaggerated edits are informative), the data's range in units for a
        continuous column."""
        return (self.low, self.high) if self.in_units else (-2.0, 2.0)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> "LabelScale":
        return cls(**{k: float(v) if k != "kind" else str(v) for k, v in data.items() if k in cls.__annotations__})


IDENTITY = LabelScale("continuous")


def detect_kind(column: np.ndarray) -> str:
    """The documented rule: at most two distinct values = binary, else continuous."""
    return "binary" if len(np.unique(column[np.isfinite(column)])) <= 2 else "continuous"


def to_binary(column: np.ndarray) -> np.ndarray:
    """Two-valued column -> -1/+1 (larger value +1); a single value is +1 if positive, else -1."""
    values = np.unique(column)
    if len(values) == 1:
        return np.where(column > 0, 1.0, -1.0).astype(np.float32)
    if len(values) == 2:
        return np.where(column == values[1], 1.0, -1.0).astype(np.float32)
    median = float(np.median(column))
    return np.where(column > median, 1.0, -1.0).astype(np.float32)


def fit_scales(names: Sequence[str], values: np.ndarray, *, kinds: Mapping[str, str] | None = None
               ) -> dict[str, LabelScale]:
    """Each column's scale from the training rows, honouring per-column overrides (case-insensitive names)."""
    overrides = {k.lower(): v for k, v in (kinds or {}).items()}
    out = {}
    for j, name in enumerate(names):
        col = np.asarray(values[:, j], np.float64)
        kind = overrides.get(name.lower()) or detect_kind(col)
        if kind not in KINDS:
            raise ValueError(f"label kind for {name!r} must be binary or continuous, not {kind!r}")
        low, high = (float(col.min()), float(col.max())) if len(col) else (-1.0, 1.0)
        median = float(np.median(col)) if len(col) else 0.0
        if kind == "binary":
            out[name] = LabelScale("binary", low=-1.0, high=1.0, median=median)
        else:
            std = float(col.std()) if len(col) > 1 else 1.0
            out[name] = LabelScale("continuous", mean=float(col.mean()), std=std if std > 1e-8 else 1.0,
                                   low=low, high=high, median=median)
    return out


def apply_scales(names: Sequence[str], values: np.ndarray, scales: Mapping[str, LabelScale]) -> np.ndarray:
    """Label rows in units -> the network's scale, column by column."""
    out = np.empty(values.shape, np.float32)
    for j, name in enumerate(names):
        scale = scales.get(name, IDENTITY)
        col = values[:, j]
        out[:, j] = to_binary(col) if scale.kind == "binary" else scale.to_network(col)
    return out


def scales_from_config(data: Mapping | None) -> dict[str, LabelScale]:
    return {name: LabelScale.from_dict(d) for name, d in (data or {}).items()}


def scales_for(names: Sequence[str], values: np.ndarray | None, *, builtin: bool,
               recorded: Mapping | None = None, kinds: Mapping[str, str] | None = None) -> dict[str, LabelScale]:
    """The scales a run trains with: the ones its config recorded (a resumed or loaded run), the identity for the
    built-in faces (drawn on the network's scale; their -1/+1 column is binary), else fitted on the rows."""
    if recorded:
        return scales_from_config(recorded)
    if values is None or not len(names):
        return {}
    if builtin and float(np.abs(values).max()) <= 1.0:
        return {n: LabelScale("binary") if detect_kind(values[:, j]) == "binary" else IDENTITY
                for j, n in enumerate(names)}
    return fit_scales(names, values, kinds=kinds)


def summarise_columns(names: Sequence[str], values: np.ndarray | None,
                      kinds: Mapping[str, str] | None = None) -> dict[str, dict]:
    """Per column, what ``dataset check`` and the Dataset pane show: the kind, % positive for binary columns,
    range, mean and a 10-bin histogram for continuous ones."""
    if values is None or not len(values):
        return {}
    overrides = {k.lower(): v for k, v in (kinds or {}).items()}
    out = {}
    for j, name in enumerate(names):
        col = np.asarray(values[:, j], np.float64)
        kind = overrides.get(name.lower()) or detect_kind(col)
        if kind == "binary":
            out[name] = {"kind": "binary", "positive": float((to_binary(col) > 0).mean())}
        else:
            counts, edges = np.histogram(col, bins=10)
            out[name] = {"kind": "continuous", "low": float(col.min()), "high": float(col.max()),
                         "mean": float(col.mean()), "histogram": counts.tolist(), "edges": edges.tolist()}
    return out


def describe(name: str, summary: Mapping) -> str:
    """One column in words: "Smiling 48.0%" or "Age 1-116 (mean 38.2)"."""
    if summary.get("kind") == "binary":
        return f"{name} {summary['positive']:.1%}"
    return f"{name} {summary['low']:g}-{summary['high']:g} (mean {summary['mean']:.3g})"
