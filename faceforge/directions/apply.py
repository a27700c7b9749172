"""Moving latents along fitted directions: what ``faceforge generate --set dir:Smiling=1.5`` (and later the Edit
pane) does.

An amount is in units of the direction's spread (the standard deviation of n.x over the samples it was fitted on),
so +1 moves a face as far as a typical face differs from the average along it, on any model; -3..+3 covers the
data. A z model gets z + a * spread * n. A W model gets the same step added to the styles ``ws`` (N, num_ws, w_dim)
of every layer, or only of a layer range (coarse/middle/fine/"a-b"), which keeps the other layers' look.
``keep`` names directions to hold still: the edit is projected orthogonal to them first (conditional.py); its
spread stays the unprojected direction's, so an amount means the same step length with or without conditions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from faceforge.directions.conditional import project_out
from faceforge.directions.store import DirectionSet, directions_dir, list_directions, load_directions

PREFIX = "dir:"
ATTRIBUTE_PREFIX = "attr:"  # --set attr:NAME=V: the model's own attribute even where a direction has that name


def directions_for_run(run_dir: Path, name: str | None = None) -> DirectionSet | None:
    """The run's directions called ``name`` (a NAME in RUN/directions/ or a path), else its newest; None if it
    has none (an error when ``name`` was asked for and is missing)."""
    if name:
        path = Path(name)
        if not path.suffix and not path.exists():
            path = directions_dir(run_dir) / f"{name}.json"
        return load_directions(path)
    files = list_directions(run_dir)
    return load_directions(files[-1]) if files else None


def split_settings(settings: Sequence[str], attributes: Sequence[str], directions: DirectionSet | None, *,
                   prefer_directions: bool = False) -> tuple[list[str], dict[str, float]]:
    """``--set`` items -> (items for the model's conditional attributes, {direction name: amount}).

    ``dir:NAME=V`` always means the fitted direction and ``attr:NAME=V`` always the model's own attribute. A plain
    ``NAME=V`` means the conditional attribute when the model has one, else the fitted direction of that name when
    there is one; with ``prefer_directions`` (a photo's W+ code, see :func:`prefers_directions`) the fitted
    direction comes first and the attribute only when no direction has that name. Anything else is left for the
    attribute parser to refuse with its own message."""
    own = {a.lower() for a in attributes}
    plain: list[str] = []
    moves: dict[str, float] = {}
    for item in settings or []:
        name, sep, value = str(item).partition("=")
        if name.strip().lower().startswith(ATTRIBUTE_PREFIX):
            plain.append(name.strip()[len(ATTRIBUTE_PREFIX):] + sep + value)
            continue
        forced = name.strip().lower().startswith(PREFIX)
        key = name.strip()[len(PREFIX):] if forced else name.strip()
        found = directions.lookup(key) if directions is not None else None
        if not forced and key.lower() in own and not (prefer_directions and found is not None):
            plain.append(item)
            continue
        if found is None:
            if forced:
                have = ", ".join(directions.names) if directions is not None else \
                    "none (fit some with faceforge directions fit --run R)"
                raise ValueError(f"no fitted direction {key!r}; the run's directions are: {have}")
            plain.append(item)
            continue
        try:
            moves[found] = float(value) if sep else float("nan")
            if not np.isfinite(moves[found]):
                raise ValueError
        except ValueError:
            raise ValueError(f"direction {key!r} needs an amount in spreads, e.g. {PREFIX}{key}=1.5") from None
    return plain, moves


def prefers_directions(gen) -> bool:
    """Whether a photo's plain ``--set NAME=`` takes the fitted direction of that name over the conditional
    attribute: yes for a model with W, no otherwise.

    A photo of a W model is a W+ code (editing/w_codes.py) that no z maps to, so its conditional attribute can only
    move it by the shift of the *mean* w that the attribute causes, one vector for every face and every layer; that
    shift carries whatever else differs on average between the two label rows (bench/w_projection.py: Eyeglasses
    changed the other attributes by 0.38, more than itself). A fitted direction is the SVM normal that separates
    faces the classifier scores high from low, applied to the layers relevance kept, which is the better edit of an
    arbitrary point in W. A z model's photo has a real y that G reads at every layer, exactly as for a sampled face,
    so there the attribute stays the model's own control. ``attr:NAME=`` reaches the attribute in either case and
    ``dir:NAME=`` the direction."""
    return bool(gen.w_space)


def edit_vector(directions: DirectionSet, moves: dict[str, float], *, keep: Sequence[str] = ()) -> np.ndarray:
    """The step (D,) for {direction: amount in spreads}, each direction first made orthogonal to the ``keep`` ones
    (other than itself)."""
    kept = {directions.lookup(k) or k: directions.normal(k) for k in keep}
    step = np.zeros(directions.dim, np.float64)
    for name, amount in moves.items():
        conditions = [n for k, n in kept.items() if k != directions.lookup(name)]
        step += float(amount) * directions.spread(name) * project_out(directions.normal(name), conditions)
    return step.astype(np.float32)


def apply_step(latents: torch.Tensor, step: np.ndarray, *, layers: tuple[int, int] | None = None) -> torch.Tensor:
    """z (N, D) + step, or styles ws (N, num_ws, D) with step added to layers [a, b) (all when None)."""
    delta = torch.as_tensor(step, dtype=latents.dtype)
    if delta.shape[-1] != latents.shape[-1]:
        raise ValueError(f"the directions are {delta.shape[-1]}-dimensional but the latents {latents.shape[-1]}; "
                         "were they fitted for another model?")
    out = latents.clone()
    if latents.dim() == 2:
        if layers is not None:
            raise ValueError("a layer range needs per-layer styles (a model with W)")
        return out + delta
    start, stop = layers if layers is not None else (0, latents.shape[1])
    out[:, start:stop] += delta
    return out


def layers_for(directions: DirectionSet, name: str, spec: str, num_ws: int) -> list[int]:
    """The style layers an edit of ``name`` moves: "all", "relevant" (the set layer relevance kept for it) or a
    range as :func:`faceforge.models.styles.parse_layers` reads it (coarse, middle, fine, "a-b")."""
    from faceforge.models.styles import parse_layers

    spec = str(spec or "all").strip().lower()
    if spec == "all":
        return list(range(num_ws))
    if spec == "relevant":
        kept = (directions.fits[directions.lookup(name) or name].get("layers") or {}).get("kept")
        if kept is None:
            raise ValueError(f"direction {name!r} has no layer ranking yet: faceforge directions fit --relevance")
        return [int(i) for i in kept]
    start, stop = parse_layers(spec, num_ws)
    return list(range(start, stop))


def apply_edits(latents: torch.Tensor, directions: DirectionSet, moves: dict[str, float], *,
                keep: Sequence[str] = (), layers: str = "all") -> torch.Tensor:
    """z (N, D) moved by every edit at once, or styles ws (N, num_ws, D) with each edit added to its own layers
    (``layers``: see :func:`layers_for`; "relevant" gives each direction the layers its ranking kept)."""
    if latents.dim() == 2:
        if str(layers or "all").strip().lower() != "all":
            raise ValueError("a layer choice needs per-layer styles (a model with W)")
        return apply_step(latents, edit_vector(directions, moves, keep=keep))
    out = latents.clone()
    for name, amount in moves.items():
        rows = layers_for(directions, name, layers, latents.shape[1])
        out[:, rows] = apply_step(out[:, rows], edit_vector(directions, {name: amount}, keep=keep))
    return out


def directions_record(sets: Sequence[DirectionSet], *, keep: Sequence[str] = (), layers: str = "all") -> dict:
    """What a recipe keeps of a direction edit besides its amounts (``edits["dir:NAME"]``): the directions files
    (path and SHA-256 of each JSON, which names its array's hash) and the keep and layer choices, so a person can
    tell which fit moved the face; the pixels are rebuilt from the moved z or styles the recipe also keeps."""
    from faceforge.fileio import file_sha256

    files = []
    for dirs in sets:
        entry = {"path": dirs.path or dirs.name}
        if dirs.path and Path(dirs.path).is_file():
            entry["sha256"] = file_sha256(Path(dirs.path))
        if entry not in files:
            files.append(entry)
    return {"files": files, "keep": list(keep), "layers": str(layers or "all")}


@dataclass(frozen=True)
class DirectionEdit:
    """``--set dir:`` edits frozen into one callable on latents (z (N, D) or styles/W+ codes (N, num_ws, D)), with
    what a recipe records: ``record()`` the amounts as ``"dir:NAME"``, ``source()`` the file and choices.
    ``faceforge edit`` hands it to the photo edit (editing/photo_edits.py); the Edit pane's sliders freeze their own
    (sliders.py ``LatentEdit``), and generate applies :func:`apply_edits` itself."""

    directions: DirectionSet
    moves: dict[str, float]
    keep: tuple[str, ...] = ()
    layers: str = "all"

    def __call__(self, latents: torch.Tensor) -> torch.Tensor:
        """Moved latents (a new tensor); ``layers`` applies to per-layer latents only (z has none, as generate)."""
        layers = self.layers if latents.dim() == 3 else "all"
        return apply_edits(latents, self.directions, self.moves, keep=self.keep, layers=layers)

    def record(self) -> dict[str, float]:
        return {f"{PREFIX}{k}": float(v) for k, v in self.moves.items()}

    def source(self) -> dict:
        layers = self.layers if self.directions.space == "w" else "all"  # z has no layers (as __call__)
        return directions_record([self.directions], keep=self.keep, layers=layers)
