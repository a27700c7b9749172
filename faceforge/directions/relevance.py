"""Which style layers a direction acts through (models with W), automating the seed's manual pruning of styles.

Samples are pushed ``amount`` spreads along the direction one layer at a time and re-scored by the classifier; the
layers are ranked by how much that alone moves the attribute, and the smallest top-ranked set whose joint edit
gives ``target`` (80%) of the all-layer change is kept. An edit on those layers only changes the attribute about as
much and leaves the rest of the face (what the other layers draw) alone.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from faceforge.directions.apply import apply_step, edit_vector
from faceforge.directions.sampling import Scorer, fit_resolution, sample_latents
from faceforge.directions.store import DirectionSet
from faceforge.editing.generator import LoadedGenerator
from faceforge.models.styles import broadcast
from faceforge.tasks import Cancelled, Eta, ProgressFn, StopFn

RELEVANCE_SEED_OFFSET = 104729  # samples for relevance are not the ones the direction was fitted on


@dataclass
class LayerRelevance:
    gains: list[float]  # per style layer: mean change of the attribute's score with only that layer moved
    ranking: list[int]  # layers, most relevant first
    kept: list[int]  # the smallest top-ranked set reaching ``target`` of the all-layer change, sorted
    all_gain: float  # mean change with every layer moved
    kept_gain: float  # mean change with only the kept layers moved
    amount: float
    samples: int
    target: float

    def to_json(self) -> dict:
        return asdict(self)


def layer_relevance(gen: LoadedGenerator, scorer: Scorer, directions: DirectionSet, name: str, *,
                    samples: int = 128, seed: int = 0, amount: float = 2.0, target: float = 0.8, batch: int = 64,
                    progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> LayerRelevance:
    """Rank the style layers for direction ``name`` (see module doc). Progress: ``{"kind": "directions", "stage":
    "relevance", "done", "total", "eta_s"}`` per edit scored; raises :class:`Cancelled` on ``should_stop``."""
    if not gen.w_space or directions.space != "w":
        raise ValueError("layer relevance needs a model with W and directions fitted in w")
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    key = directions.lookup(name)
    if key is None or key not in scorer.names:
        raise ValueError(f"{name!r} must be both a fitted direction and a classifier attribute")
    column = scorer.names.index(key)
    w, _ = sample_latents(gen, n=samples, seed=seed + RELEVANCE_SEED_OFFSET)
    ws = broadcast(w, gen.num_ws)
    step = edit_vector(directions, {key: amount})
    num = gen.num_ws
    total = 2 * num + 2  # base, all layers, each layer, then up to num prefixes
    eta, t0, done = Eta(), time.perf_counter(), [0]
    eta.update(0, total, 0.0)

    def mean_score(styles: torch.Tensor) -> float:
        if stop():
            raise Cancelled("layer relevance stopped; nothing was saved")
        out = np.concatenate([scorer.score(fit_resolution(gen.synthesize(styles[i:i + batch]), scorer.resolution))
                              for i in range(0, len(styles), batch)])
        done[0] += 1
        emit({"kind": "directions", "stage": "relevance", "attribute": key, "done": done[0], "total": total,
              "eta_s": eta.update(done[0], total, time.perf_counter() - t0)})
        return float(out[:, column].mean())

    def moved(layers: list[int]) -> torch.Tensor:
        out = ws.clone()
        out[:, layers] = apply_step(ws[:, layers], step)
        return out

    base = mean_score(ws)
    all_gain = mean_score(moved(list(range(num)))) - base
    gains = [mean_score(moved([i])) - base for i in range(num)]
    sign = 1.0 if all_gain >= 0 else -1.0
    ranking = sorted(range(num), key=lambda i: -sign * gains[i])
    kept, kept_gain = list(range(num)), all_gain
    for k in range(1, num):
        gain = mean_score(moved(ranking[:k])) - base
        if sign * gain >= target * sign * all_gain:
            kept, kept_gain = sorted(ranking[:k]), gain
            break
    return LayerRelevance(gains=gains, ranking=ranking, kept=kept, all_gain=all_gain, kept_gain=kept_gain,
                          amount=amount, samples=samples, target=target)
