"""The Edit pane's direction sliders, without Qt: which of a run's fitted directions are moved and by how much,
which are kept still, and the frozen edit the renderer applies to a face's latents.

The widgets only write amounts and "keep" ticks here. :meth:`DirectionSliders.edit` turns them into a
:class:`LatentEdit`, an immutable snapshot (steps as arrays) that the generator thread can apply while the user
moves on: z models get z + step; W models get the step on each direction's relevant style layers when layer
relevance ranked them (unless ``layers`` is widened to "all"), else on all. A moved direction is first projected orthogonal to the kept ones
(:mod:`faceforge.directions.conditional` via :func:`~faceforge.directions.apply.edit_vector`); moving a kept
direction itself is allowed (it is not projected against itself).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceforge.directions.apply import PREFIX, directions_record, edit_vector
from faceforge.directions.store import DirectionSet, list_directions, load_directions

AMOUNT_RANGE = (-3.0, 3.0)  # in spreads: the same meaning for every model
METHODS = {"sefa": "SeFa", "ganspace": "GANSpace"}  # unsupervised methods as people write them
LAYER_MODES = ("relevant", "all")  # a W model's edit: each direction's ranked layers (when it has them), or all


@dataclass(frozen=True)
class LatentEdit:
    """Steps to add to latents: ``steps`` is ((layer rows or None for z / all layers, step (D,)), ...);
    ``amounts`` what a recipe's ``edits`` records ("dir:NAME": amount)."""

    steps: tuple[tuple[tuple[int, ...] | None, np.ndarray], ...]
    amounts: tuple[tuple[str, float], ...]
    sets: tuple[DirectionSet, ...] = ()  # the files the moved and kept directions come from (for the recipe)
    keep: tuple[str, ...] = ()

    def __call__(self, latents):
        """z (N, D) or styles ws (N, num_ws, D), moved (a new tensor)."""
        import torch

        out = latents.clone()
        for rows, step in self.steps:
            delta = torch.as_tensor(step, dtype=out.dtype)
            if out.dim() == 2:
                out = out + delta
            elif rows is None:
                out = out + delta
            else:
                out[:, list(rows)] += delta
        return out

    def record(self) -> dict[str, float]:
        return dict(self.amounts)

    def source(self) -> dict:
        """The recipe's ``directions``: files, kept directions, and "relevant" when a step used a layer ranking."""
        layers = "relevant" if any(rows is not None for rows, _ in self.steps) else "all"
        return directions_record(self.sets, keep=self.keep, layers=layers)


def direction_label(dirs: DirectionSet, name: str) -> str:
    """Where a slider came from, for people: "fitted, val acc 0.91, classifier 0.89" (or "SeFa component")."""
    fit = dirs.fits.get(name, {})
    source = fit.get("source")
    if isinstance(source, dict):  # a component a person named (directions/named.py)
        flip = " reversed" if float(source.get("sign", 1.0)) < 0 else ""
        return f"named, {METHODS.get(source.get('method'), 'unsupervised')} {source.get('component')}{flip}"
    if "val_accuracy" not in fit:
        return f"{METHODS.get(dirs.meta.get('method'), 'unsupervised')} component (no labels)"
    parts = [f"fitted, val acc {float(fit['val_accuracy']):.2f}"]
    held = fit.get("classifier_held_out") or {}
    score = held.get("accuracy", held.get("balanced_accuracy"))
    if score is None and held.get("corr") is not None:  # a continuous attribute: the correlation, said as such
        parts.append(f"classifier r {float(held['corr']):.2f}")
    else:
        parts.append(f"classifier {float(score):.2f}" if score is not None else "classifier not measured")
    return ", ".join(parts)


# unsupervised components are numbered, not named: a person looks at them as strips (the Components tab) and names
# the ones that mean something (directions/named.py); only those become sliders (and data-face features)
UNNAMED_COMPONENTS = ("sefa", "ganspace")


class DirectionSliders:
    """A run's fitted directions (every ``directions/*.json``) as one list of sliders, keyed "FILE/NAME" when two
    files share a name; amounts in spreads, ``kept`` the directions held still. Directions for another latent
    space than the model's (a z file on a W model) are skipped."""

    def __init__(self) -> None:
        self.sets: dict[str, tuple[DirectionSet, str]] = {}  # key -> (its set, its name in the set)
        self.amounts: dict[str, float] = {}
        self.kept: set[str] = set()
        self.skipped: list[str] = []
        self.layers = "relevant"  # LAYER_MODES: the relevant layers of a direction with a ranking, or all layers

    def set_layers(self, mode: str) -> None:
        if mode not in LAYER_MODES:
            raise ValueError(f"layers must be one of {', '.join(LAYER_MODES)}, not {mode!r}")
        self.layers = mode

    def ranking(self, key: str) -> dict | None:
        """The layer relevance of direction ``key`` (gains, ranking, kept...; directions/relevance.py) or None."""
        dirs, name = self.sets[key]
        rel = dirs.fits[name].get("layers") if dirs.space == "w" else None
        return rel if isinstance(rel, dict) and rel.get("ranking") else None

    @property
    def ranked(self) -> list[str]:
        """The directions with a layer ranking, in slider order."""
        return [k for k in self.names if self.ranking(k) is not None]

    def load_run(self, run_dir: Path | None, *, space: str, dim: int) -> list[str]:
        """Read the run's directions for latents of ``space`` ("z"/"w") and ``dim`` (not checked when < 1: a W
        model's w size is the directions' own); amounts and keeps reset."""
        self.sets, self.amounts, self.kept, self.skipped = {}, {}, set(), []
        for path in list_directions(run_dir) if run_dir is not None else []:
            try:
                dirs = load_directions(path)
            except (OSError, ValueError) as exc:
                self.skipped.append(f"{path.name}: {exc}")
                continue
            if dirs.space != space or (dim > 0 and dirs.dim != dim):
                self.skipped.append(f"{path.name}: {dirs.space} space of {dirs.dim} dimensions, not this model's")
                continue
            if dirs.meta.get("method") in UNNAMED_COMPONENTS:
                self.skipped.append(f"{path.name}: unnamed {dirs.meta['method']} components (look at them in the "
                                    "Components tab; Name… makes one a slider)")
                continue
            for name in dirs.names:
                key = name if name not in self.sets else f"{dirs.name}/{name}"
                self.sets[key] = (dirs, name)
        return self.names

    @property
    def names(self) -> list[str]:
        return list(self.sets)

    def label(self, key: str) -> str:
        dirs, name = self.sets[key]
        return direction_label(dirs, name)

    def set_amount(self, key: str, amount: float) -> None:
        low, high = AMOUNT_RANGE
        self.amounts[key] = min(high, max(low, float(amount)))

    def set_kept(self, key: str, on: bool) -> None:
        (self.kept.add if on else self.kept.discard)(key)

    def reset(self) -> None:
        self.amounts.clear()

    def step(self, key: str) -> np.ndarray:
        """The step (D,) the slider ``key`` adds at its amount, projected orthogonal to the kept directions."""
        dirs, name = self.sets[key]
        keep = [self.sets[k][1] for k in self.kept if k != key and self.sets[k][0] is dirs]
        others = [self.sets[k][0].normal(self.sets[k][1]) for k in self.kept
                  if k != key and self.sets[k][0] is not dirs]
        amount = self.amounts.get(key, 0.0)
        if not others:
            return edit_vector(dirs, {name: amount}, keep=keep)
        from faceforge.directions.conditional import project_out

        conditions = [dirs.normal(k) for k in keep] + others
        return (amount * dirs.spread(name) * project_out(dirs.normal(name), conditions)).astype(np.float32)

    def edit(self) -> LatentEdit | None:
        """The frozen edit for the renderer, or None when no slider is off zero."""
        moved = [k for k in self.names if abs(self.amounts.get(k, 0.0)) > 1e-9]
        if not moved:
            return None
        steps = []
        for key in moved:
            rel = self.ranking(key) if self.layers == "relevant" else None
            kept_layers = rel.get("kept") if rel else None
            steps.append((tuple(int(i) for i in kept_layers) if kept_layers else None, self.step(key)))
        used = [self.sets[k][0] for k in [*moved, *sorted(self.kept)]]
        return LatentEdit(steps=tuple(steps), amounts=tuple((PREFIX + k, float(self.amounts[k])) for k in moved),
                          sets=tuple({id(d): d for d in used}.values()), keep=tuple(sorted(self.kept)))

    def restore(self, edits: dict[str, float] | None, record: dict | None) -> list[str]:
        """Put a recipe's direction edit back: its ``edits`` ("dir:KEY": amount) and ``directions`` record (files
        with their SHA-256, keep, layers). A direction comes back only from a file of this run with the same
        SHA-256 as the recipe's (the same fit, so the same step); amounts and keeps start from zero. Returns, for
        people, what could not be restored and why, one line per reason (an empty list: all of it)."""
        from faceforge.fileio import file_sha256

        self.amounts, self.kept = {}, set()
        record = record or {}
        moves = {k[len(PREFIX):]: float(v) for k, v in (edits or {}).items() if k.startswith(PREFIX)}
        wanted = {f.get("sha256") for f in record.get("files") or [] if f.get("sha256")}
        files = ", ".join(Path(str(f.get("path", "?"))).name for f in record.get("files") or []) or "none named"
        hashes: dict[str, str] = {}

        def same_file(dirs: DirectionSet) -> bool:
            if dirs.path not in hashes:
                try:
                    hashes[dirs.path] = file_sha256(Path(dirs.path))
                except OSError:
                    hashes[dirs.path] = ""
            return hashes[dirs.path] in wanted

        def find(key: str) -> tuple[str | None, str]:
            file, _, name = key.rpartition("/")
            named = [k for k, (dirs, n) in self.sets.items() if n == name and (not file or dirs.name == file)]
            if not named:
                return None, "this run has no direction of that name"
            if not wanted:
                return None, "the recipe does not record its directions file's SHA-256"
            found = [k for k in named if same_file(self.sets[k][0])]
            if not found:
                return None, f"its directions file {files} is not this run's (no file with its SHA-256)"
            return found[0], ""

        problems: dict[str, list[str]] = {}  # why -> what
        for key, amount in moves.items():
            slider, why = find(key)
            if slider is None:
                problems.setdefault(why, []).append(f"dir:{key} {amount:+.2f}")
            else:
                self.set_amount(slider, amount)
        for key in record.get("keep") or []:
            slider, why = find(str(key))
            if slider is None:
                problems.setdefault(why, []).append(f"keep {key}")
            else:
                self.set_kept(slider, True)
        layers = str(record.get("layers") or "all")  # no record (no direction edit): the layer choice stays
        if record and layers in LAYER_MODES:
            self.layers = layers
        elif record and moves:
            problems.setdefault(f"the sliders offer only {' or '.join(LAYER_MODES)}", []).append(f"layers {layers}")
        return [f"{', '.join(what)}: {why}" for why, what in problems.items()]
