"""Which facial features a run can draw a table's columns with, and which column gets which ("automatic").

A feature is either a conditional attribute of the model (a cdcgan run's Smiling: the row's value sets y) or a
fitted direction of the run (``RUN/directions/*.json``, read with :mod:`faceforge.directions.sliders` so the same
files and the same skipping rules apply as for the Edit pane's sliders).

The automatic mapping ranks the table's columns (by variance, or by |correlation| with a column the user names)
and gives the top-ranked column the feature a viewer reads best. The order is the perception literature's
(Chernoff 1973 and the studies that followed him; people read expression first): smile and expression first, then
the eyes and brows, then age, then pose, then everything else. A feature's group is found by its name, matched
case-insensitively against the fragments in :data:`PERCEPTION_GROUPS` (the first group with a match wins, so
``Mouth_Slightly_Open`` is expression and ``Arched_Eyebrows`` brows); within a group, and among the rest, the run's
own order is kept, attributes before directions. A concept offered twice (an attribute and a direction both called
Smiling) is used once, as the attribute.

The automatic mapping never picks a feature that changes who the person is rather than how they look at the moment
(sex, skin: names matching :data:`IDENTITY_FEATURES`, e.g. CelebA's ``Male`` and ``Pale_Skin``). A data face keeps
one identity so that only the data changes it; a column drawn as "more male" also reads as a statement about sex
(the judges with the lowest ratings drawn as women). Such a feature can still be mapped by hand.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceforge.chernoff.table import DataTable

PERCEPTION_GROUPS: tuple[tuple[str, str], ...] = (
    ("smile and expression", r"smil|mouth|laugh|express|happ|lip|teeth|grin|frown"),
    ("eyes and brows", r"eye|brow|glass|squint|lash"),
    ("age", r"\bage\b|age$|^age|young|old|gr[ae]y|wrinkl|bald"),
    ("pose", r"pose|yaw|pitch|tilt|turn|rotat|profile"),
)
IDENTITY_FEATURES = r"\b(fe)?male\b|\bgender\b|\bsex\b|\bskin\b|ethnic|\brace\b"
DEFAULT_LIMIT = 6  # more features than this on one face stop being readable
LOW_ACCURACY = 0.8  # a direction below this validation accuracy (or a classifier below it) gets a warning
AUTO_RANKINGS = ("variance", "corr:COLUMN")


@dataclass(frozen=True)
class Feature:
    """One thing a column can drive. ``key`` is what a mapping names (``--map col=KEY``): the attribute's or the
    direction's name, or ``dir:NAME`` for a direction that shares its name with an attribute."""

    key: str
    name: str
    kind: str  # "attribute" | "direction"
    about: str = ""  # "conditional attribute" / "fitted, val acc 0.91, classifier 0.89"
    warning: str = ""  # set when the direction (or its classifier) is not accurate enough to trust


def perception_group(name: str) -> int:
    """0 smile/expression, 1 eyes/brows, 2 age, 3 pose, 4 anything else (see the module docstring)."""
    text = re.sub(r"[_\-\s]+", " ", str(name)).lower()
    for i, (_, pattern) in enumerate(PERCEPTION_GROUPS):
        if re.search(pattern, text):
            return i
    return len(PERCEPTION_GROUPS)


def run_features(attributes: list[str], run_dir: Path | None, *, space: str, dim: int):
    """(features, sliders): the model's conditional attributes, then the run's fitted directions for ``space``.
    ``sliders`` is the :class:`~faceforge.directions.sliders.DirectionSliders` holding the direction sets."""
    from faceforge.directions.sliders import DirectionSliders

    out = [Feature(key=a, name=a, kind="attribute", about="conditional attribute") for a in attributes]
    sliders = DirectionSliders()
    sliders.load_run(run_dir, space=space, dim=dim)
    own = {a.lower() for a in attributes}
    for key in sliders.names:
        dirs, name = sliders.sets[key]
        out.append(Feature(key=("dir:" + key) if key.lower() in own else key, name=key, kind="direction",
                           about=sliders.label(key), warning=accuracy_warning(dirs.fits.get(name, {}))))
    return out, sliders


def accuracy_warning(fit: dict) -> str:
    """"low accuracy (val 0.64)" when the direction, or the classifier that judged it, is below LOW_ACCURACY."""
    if "val_accuracy" not in fit:
        return "unsupervised component: what it changes was never measured"
    val = float(fit["val_accuracy"])
    held = fit.get("classifier_held_out") or {}
    judge = held.get("accuracy", held.get("balanced_accuracy"))
    if val < LOW_ACCURACY:
        return f"low accuracy: val {val:.2f}"
    if judge is not None and float(judge) < LOW_ACCURACY:
        return f"classifier accuracy only {float(judge):.2f}"
    return ""


def find_feature(features: list[Feature], key: str) -> Feature:
    lookup = {f.key.lower(): f for f in features}
    found = lookup.get(str(key).strip().lower())
    if found is None:
        have = ", ".join(f.key for f in features) or "none (fit directions first: faceforge directions fit --run R)"
        raise ValueError(f"no feature {key!r} in this run; it has: {have}")
    return found


def changes_identity(name: str) -> bool:
    """True for a feature the automatic mapping leaves out (see the module docstring)."""
    return re.search(IDENTITY_FEATURES, re.sub(r"[_\-\s]+", " ", str(name)).lower()) is not None


def ordered_features(features: list[Feature]) -> list[Feature]:
    """Best read first (perception group, then the run's order), one feature per concept; features that change
    who the person is are left out."""
    seen: set[str] = set()
    unique = []
    for f in features:
        if f.name.lower() not in seen and not changes_identity(f.name):
            seen.add(f.name.lower())
            unique.append(f)
    return sorted(unique, key=lambda f: perception_group(f.name))  # stable: the run's order within a group


def rank_columns(table: DataTable, how: str) -> list[tuple[str, float]]:
    """[(column, score)] most important first: ``variance`` (the raw column's, for tables whose columns share a
    unit) or ``corr:COL`` (|Pearson r| with COL; COL itself ranks first with 1). Constant columns are left out."""
    how = str(how or "variance").strip()
    if how.lower() == "variance":
        scores = {c: float(np.var(table.column(c))) for c in table.columns}
    elif how.lower().startswith("corr:"):
        target = table.column(how[5:])
        scores = {c: _abs_corr(table.column(c), target) for c in table.columns}
    else:
        raise ValueError(f"automatic mapping is 'variance' or 'corr:COLUMN', not {how!r}")
    kept = [(c, s) for c, s in scores.items() if np.var(table.column(c)) > 0]
    return sorted(kept, key=lambda cs: -cs[1])


def _abs_corr(a: np.ndarray, b: np.ndarray) -> float:
    if np.std(a) == 0 or np.std(b) == 0:
        return 0.0
    return float(abs(np.corrcoef(a, b)[0, 1]))


def auto_mapping(table: DataTable, features: list[Feature], how: str, *, limit: int = DEFAULT_LIMIT,
                 fixed: dict[str, str] | None = None) -> dict[str, str]:
    """{column: feature key}: ``fixed`` (the user's own choices) kept, the remaining columns by rank given the
    remaining features best read first, at most ``limit`` mapped in all."""
    mapping = dict(fixed or {})
    used = {find_feature(features, k).name.lower() for k in mapping.values()}
    free = [f for f in ordered_features(features) if f.name.lower() not in used]
    for column, _score in rank_columns(table, how):
        if len(mapping) >= limit or not free:
            break
        if column not in mapping:
            mapping[column] = free.pop(0).key
    return mapping


def parse_mapping(items: list[str], table: DataTable, features: list[Feature]) -> dict[str, str]:
    """``["RTEN=Smiling", "CONT=dir:Young"]`` -> {column as the table spells it: feature key}; each feature once."""
    out: dict[str, str] = {}
    for item in items or []:
        column, sep, key = str(item).partition("=")
        if not sep:
            raise ValueError(f"a mapping is COLUMN=FEATURE, e.g. RTEN=Smiling, not {item!r}")
        col = table.columns[table.index(column)]
        feature = find_feature(features, key)
        if feature.key in out.values():
            raise ValueError(f"feature {feature.key!r} is mapped twice; each feature shows one column")
        out[col] = feature.key
    return out
