"""A table and a run -> the data-faces figure, and the recipe that builds the same figure again.

:class:`ChernoffRecipe` is everything the figure depends on besides the files themselves: the table (path and
SHA-256), the label column, the final column -> feature mapping (an automatic one is written out, so a rebuild does
not depend on the ranking), the sort, the base face and spread, the run and the checkpoint it used. ``NAME.png``
(or .svg/.pdf) gets ``NAME.recipe.json`` beside it, as every FaceForge export does.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from faceforge.chernoff.features import DEFAULT_LIMIT, Feature, auto_mapping, find_feature, parse_mapping, run_features
from faceforge.chernoff.figure import Cell, Figure, LegendEntry, layout, write_figure
from faceforge.chernoff.render import FaceOptions, FacePainter, scale_values
from faceforge.chernoff.table import DataTable, read_table
from faceforge.fileio import atomic_write_text, file_sha256
from faceforge.recipes import recipe_path
from faceforge.tasks import Cancelled, ProgressFn, StopFn

FORMAT = "faceforge-chernoff"
NO_FEATURES = ("{run} has neither conditional attributes nor fitted directions, so no column can move a face. Fit "
               "directions first (faceforge directions fit --run {path}; it needs the run's attribute classifier: "
               "faceforge classifier train --run {path}).")


class NoFeaturesError(ValueError):
    """The run offers nothing to map a column to (the GUI offers to fit directions)."""


@dataclass
class ChernoffRecipe:
    table: str
    run: str
    mapping: dict[str, str] = field(default_factory=dict)  # column -> feature key; empty: automatic
    auto: str | None = None  # "variance" | "corr:COL": fill the unmapped features by rank
    label: str | None = None
    sort: str | None = None
    descending: bool = False
    limit: int = DEFAULT_LIMIT
    options: FaceOptions = field(default_factory=FaceOptions)
    checkpoint: str = ""  # filled by build(): the checkpoint the faces came from
    table_sha256: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": 1, **asdict(self)}

    def save(self, path: Path) -> Path:
        atomic_write_text(Path(path), json.dumps(self.to_json(), indent=2))
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> "ChernoffRecipe":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{Path(path).name} is not a data-faces recipe")
        keep = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        keep["options"] = FaceOptions(**keep.get("options", {}))
        return cls(**keep)


@dataclass
class Built:
    """What the GUI needs besides the figure: faces in grid order, the rows they show, the mapping used."""

    figure: Figure
    table: DataTable
    order: list[int]
    faces: np.ndarray
    cells: list[Cell]
    legend: list[LegendEntry]
    mapping: dict[str, str]
    features: list[Feature]
    recipe: ChernoffRecipe
    notes: list[str]


def load_for_run(run_dir: Path, *, checkpoint: str | None = None, device: str = "cpu"):
    """(generator, features, sliders) for a run: its latest checkpoint (or ``checkpoint``, a recipe's, when that
    file still exists) and everything a column can drive."""
    from faceforge.directions.sampling import latent_space
    from faceforge.editing.generator import LoadedGenerator

    if checkpoint and Path(checkpoint).is_file():
        gen = LoadedGenerator.from_checkpoint(Path(checkpoint), device=device)
    else:
        gen = LoadedGenerator.from_run(Path(run_dir), device=device)
    space = latent_space(gen)
    features, sliders = run_features(gen.attributes, Path(run_dir), space=space, dim=gen.z_dim if space == "z" else -1)
    return gen, features, sliders


def require_features(features: list[Feature], run: str | Path) -> None:
    if not features:
        raise NoFeaturesError(NO_FEATURES.format(run=Path(run).name, path=run))


def build(recipe: ChernoffRecipe, *, table: DataTable | None = None, loaded=None, progress: ProgressFn | None = None,
          should_stop: StopFn | None = None) -> Built:
    """Read (or take) the table and the run, settle the mapping, render every row and the legend, lay out.

    Progress: ``{"kind": "chernoff", "done", "total"}`` per batch of faces. Raises :class:`NoFeaturesError` for a
    run with nothing to map to, :class:`Cancelled` when told to stop."""
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    table = table if table is not None else read_table(recipe.table, label=recipe.label)
    gen, features, sliders = loaded if loaded is not None else load_for_run(Path(recipe.run))
    run_name = Path(recipe.run).name
    require_features(features, recipe.run)
    mapping = parse_mapping([f"{c}={k}" for c, k in recipe.mapping.items()], table, features)
    if recipe.auto or not mapping:
        mapping = auto_mapping(table, features, recipe.auto or "variance", limit=recipe.limit, fixed=mapping)
    painter = FacePainter(gen, features, sliders, mapping, recipe.options)
    cols = [table.index(c) for c in mapping]
    order = table.order(recipe.sort, descending=recipe.descending)
    t = scale_values(table.values[:, cols]) if cols else np.zeros((len(table), 0))
    faces, batch = [], 32
    for start in range(0, len(order), batch):
        if stop():
            raise Cancelled(f"stopped after {start} of {len(order)} faces")
        rows = order[start:start + batch]
        faces.append(painter.render(t[rows], identities=list(rows)))
        emit({"kind": "chernoff", "done": start + len(rows), "total": len(order) + len(cols)})
    faces_arr = np.concatenate(faces)
    legend = []
    for j, column in enumerate(mapping):
        probe = np.zeros((3, len(cols)))
        probe[:, j] = (-1.0, 0.0, 1.0)
        raw = table.values[:, cols[j]]
        feature = find_feature(features, mapping[column])
        legend.append(LegendEntry(column=column, feature=feature.key, faces=painter.render(probe, [None] * 3),
                                  values=(float(raw.min()), float((raw.min() + raw.max()) / 2), float(raw.max())),
                                  warning=feature.warning))
        emit({"kind": "chernoff", "done": len(order) + j + 1, "total": len(order) + len(cols)})
    marked = table.missing[:, cols].any(axis=1) if cols else np.zeros(len(table), bool)
    cells = [Cell(face=faces_arr[k], caption=table.labels[i] + (" *" if marked[i] else ""),
                  tooltip=f"{table.labels[i]}: {table.row_text(i)}") for k, i in enumerate(order)]
    notes = list(table.notes)
    if marked.any():
        notes.append("* a mapped value was missing and is drawn as its column's mean")
    unmapped = [c for c in table.columns if c not in mapping]
    if unmapped:
        notes.append(f"not drawn: {', '.join(unmapped)}")
    base = "each row its own identity" if recipe.options.own_identity else f"base face {recipe.options.base}"
    moves = ([f"directions move ±{recipe.options.spread:g} spreads from each boundary"] if painter.dir_slots
             else []) + (["attributes span their range (-2..+2 when binary)"] if painter.attr_slots else [])
    notes.append(f"faces: {run_name}, step {gen.step}; {base}; each value scaled min-max over the rows shown: "
                 + ", ".join(moves)
                 + (f"; sorted by {recipe.sort}, {'largest' if recipe.descending else 'smallest'} first"
                    if recipe.sort else ""))
    title = f"Data faces: {Path(recipe.table).name}, {len(table)} rows"
    figure = layout(cells, legend, title=title, notes=notes)
    done = ChernoffRecipe(**{**asdict(recipe), "options": recipe.options, "mapping": dict(mapping), "auto": None,
                             "label": table.label_column, "checkpoint": gen.source})
    if Path(recipe.table).is_file():
        done.table_sha256 = file_sha256(Path(recipe.table))
    return Built(figure=figure, table=table, order=order, faces=faces_arr, cells=cells, legend=legend,
                 mapping=dict(mapping), features=features, recipe=done, notes=notes)


def export(built: Built, path: Path) -> tuple[Path, Path]:
    """The figure (by suffix: PNG, SVG, PDF) and its recipe beside it."""
    out = write_figure(built.figure, Path(path))
    return out, built.recipe.save(recipe_path(out))
