"""Faces for rows: one fixed identity moved by each mapped column's value, so only the data changes the face.

For each row: the base latent (the average face, or a seed's face; with ``own_identity`` the row's own seed) is
first moved onto every mapped direction's decision boundary (n.x + intercept = 0, the smallest move that puts it
on all of them at once), so "0" means "neither" for every feature; then each mapped column's value, scaled min-max
over the rows shown to t in [-1, +1], moves it t x d spreads along its direction (d = ``spread``, 2.5 by default:
far enough to read, near enough that faces stay faces). The directions are first orthogonalised against each
other (:func:`faceforge.directions.apply.edit_vector` with every other mapped direction kept, a QR projection), so
one column's value does not leak into another mapped feature. A conditional attribute is set in y instead: t
spans the attribute's slider range (-2..+2 for a binary one, the data's range in its units for a continuous one).

A z model moves z; a model with W (registry ``w_space``) moves w, given to every style layer. Rendering is in
eval mode with constant noise, so two rows with equal values give identical pixels.

The average face: for a model with W, the mean w over many z (under the row's y), which the synthesis network
draws as a face. For a z model the mean of the prior, z = 0, lies far inside the shell where every training z
lives (|z| is about sqrt(z_dim)), and a DCGAN draws a grey blur there; so its average face is the most typical of
64 seeded faces: the one whose image is nearest the mean of their images.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from faceforge.chernoff.features import Feature, find_feature
from faceforge.directions.apply import edit_vector
from faceforge.directions.store import DirectionSet
from faceforge.editing.generator import LoadedGenerator, seeded_z

DEFAULT_SPREAD = 2.5
AVERAGE_SAMPLES = 512  # z's averaged in W for the average face of a model with W
AVERAGE_SEED = 12345
TYPICAL_CANDIDATES = 64  # seeded faces a z model's average face is chosen from


@dataclass
class FaceOptions:
    """How rows become faces; all of it goes into the figure's recipe."""

    base: str = "average"  # "average" or "seed:N"
    spread: float = DEFAULT_SPREAD  # d: the largest value moves this many spreads past the boundary
    own_identity: bool = False  # each row its own face (seed identity_seed + its row number in the table)
    identity_seed: int = 0

    def base_seed(self) -> int | None:
        """None for the average face, else the seed of "seed:N"."""
        text = str(self.base).strip().lower()
        if text == "average":
            return None
        if text.startswith("seed:") and text[5:].strip().lstrip("-").isdigit():
            return int(text[5:])
        raise ValueError(f"the base face is 'average' or 'seed:N', not {self.base!r}")


def scale_values(values: np.ndarray) -> np.ndarray:
    """Each column min-max over the rows given, to [-1, +1]; a constant column is 0 (the boundary)."""
    v = np.asarray(values, np.float64)
    low, high = v.min(axis=0), v.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return np.where(high > low, 2.0 * (v - low) / span - 1.0, 0.0)


class FacePainter:
    """Renders rows for one generator and one mapping {column: feature key}; the columns' t values are given in
    mapping order, (rows, columns) in [-1, 1]."""

    def __init__(self, gen: LoadedGenerator, features: list[Feature], sliders, mapping: dict[str, str],
                 options: FaceOptions | None = None):
        self.gen, self.options = gen, options or FaceOptions()
        self.columns = list(mapping)
        self.features = [find_feature(features, mapping[c]) for c in self.columns]
        self.base_seed = self.options.base_seed()
        self.attr_slots = [(i, f.name) for i, f in enumerate(self.features) if f.kind == "attribute"]
        self.dir_slots = [i for i, f in enumerate(self.features) if f.kind == "direction"]
        self.directions = _merged(sliders, [self.features[i].name for i in self.dir_slots])
        names = self.directions.names if self.directions is not None else []
        # one unit step per mapped direction: spread x its normal made orthogonal to the other mapped directions
        self.steps = np.stack([edit_vector(self.directions, {n: 1.0}, keep=[m for m in names if m != n])
                               for n in names]) if names else np.zeros((0, 1), np.float32)
        self.normals = self.directions.normals.astype(np.float64) if names else None
        self.intercepts = np.array([float(self.directions.fits[n].get("intercept", 0.0)) for n in names])
        self._avg_cache: dict[bytes, torch.Tensor] = {}
        self._typical: torch.Tensor | None = None

    # ---------------------------------------------------------------- inputs
    def attribute_y(self, t: np.ndarray) -> torch.Tensor | None:
        """y (n, A) on the network's scale: the mean label, with every mapped attribute set from its t."""
        gen = self.gen
        n = len(t)
        if not gen.conditional:
            return None
        y = gen.default_y(n, labels="mean").clone()
        for slot, name in self.attr_slots:
            low, high = gen.scale(name).slider_range()
            units = low + (np.asarray(t[:, slot], np.float64) + 1.0) / 2.0 * (high - low)
            y[:, gen.attributes.index(name)] = torch.as_tensor(gen.scale(name).to_network(units), dtype=y.dtype)
        return y

    def base_z(self, identities: list[int | None]) -> torch.Tensor:
        """z (n, z_dim): the row's own seed, the chosen seed, or zeros (the prior's mean) for the average face."""
        rows = []
        for ident in identities:
            if ident is not None and self.options.own_identity:
                rows.append(seeded_z(self.options.identity_seed + int(ident), 1, self.gen.z_dim))
            elif self.base_seed is not None:
                rows.append(seeded_z(self.base_seed, 1, self.gen.z_dim))
            else:
                rows.append(self.typical_z() if not self.gen.w_space else torch.zeros(1, self.gen.z_dim))
        return torch.cat(rows)

    def typical_z(self) -> torch.Tensor:
        """A z model's average face (see the module docstring): of TYPICAL_CANDIDATES seeded z, under the mean
        label, the one whose face is nearest the mean face."""
        if self._typical is None:
            zs = seeded_z(AVERAGE_SEED, TYPICAL_CANDIDATES, self.gen.z_dim)
            faces = self.gen.images(zs, self.gen.default_y(TYPICAL_CANDIDATES, labels="mean")).astype(np.float32)
            distance = ((faces - faces.mean(axis=0)) ** 2).reshape(len(faces), -1).mean(axis=1)
            self._typical = zs[int(np.argmin(distance))].reshape(1, -1).clone()
        return self._typical

    @torch.no_grad()
    def base_latents(self, identities: list[int | None], y: torch.Tensor | None) -> torch.Tensor:
        """The latent each row starts from, in the space directions move: z, or w for a model with W (the average
        face there is the mean w over many z under the row's y)."""
        z = self.base_z(identities)
        if not self.gen.w_space:
            return z
        device = next(self.gen.G.parameters()).device
        out = []
        for i in range(len(z)):
            yi = y[i:i + 1].to(device) if y is not None else None
            use_avg = self.base_seed is None and not (identities[i] is not None and self.options.own_identity)
            out.append(self._average_w(yi) if use_avg else self.gen.G.mapping(z[i:i + 1].to(device), yi).float().cpu())
        return torch.cat(out)

    def _average_w(self, y: torch.Tensor | None) -> torch.Tensor:
        key = b"" if y is None else y.cpu().numpy().tobytes()
        if key not in self._avg_cache:
            device = next(self.gen.G.parameters()).device
            zs = seeded_z(AVERAGE_SEED, AVERAGE_SAMPLES, self.gen.z_dim).to(device)
            yy = y.expand(AVERAGE_SAMPLES, -1) if y is not None else None
            self._avg_cache[key] = self.gen.G.mapping(zs, yy).float().mean(0, keepdim=True).cpu()
        return self._avg_cache[key]

    # ---------------------------------------------------------------- moving and drawing
    def on_boundaries(self, x: np.ndarray) -> np.ndarray:
        """Each latent row moved the least distance that puts it on every mapped direction's boundary."""
        if self.normals is None:
            return x
        gap = x @ self.normals.T + self.intercepts  # (n, k) signed distances; we want 0
        delta, *_ = np.linalg.lstsq(self.normals, -gap.T, rcond=None)  # the minimum-norm move, (D, n)
        return x + delta.T

    def latents(self, t: np.ndarray, identities: list[int | None]) -> tuple[torch.Tensor, torch.Tensor | None]:
        t = np.asarray(t, np.float64).reshape(len(identities), len(self.columns))
        y = self.attribute_y(t)
        x = self.on_boundaries(self.base_latents(identities, y).double().numpy())
        if self.dir_slots:
            x = x + self.options.spread * t[:, self.dir_slots] @ self.steps.astype(np.float64)
        return torch.from_numpy(x).float(), y

    def render(self, t: np.ndarray, identities: list[int | None], *, batch: int = 64) -> np.ndarray:
        """uint8 (n, H, W, 3): row i drawn at t[i] (mapping order) with identity ``identities[i]`` (a table row
        number, used with ``own_identity``; None: the base face)."""
        x, y = self.latents(t, identities)
        if self.gen.w_space:
            from faceforge.models.styles import broadcast

            return self.gen.synthesize(broadcast(x, self.gen.num_ws), batch=batch)
        return self.gen.images(x, y)


def _merged(sliders, names: list[str]) -> DirectionSet | None:
    """The mapped directions (possibly from several files) as one set, in mapping order."""
    if not names:
        return None
    normals, fits, space = [], {}, "z"
    for key in names:
        dirs, name = sliders.sets[key]
        normals.append(dirs.normal(name))
        fits[key] = dict(dirs.fits[name])
        space = dirs.space
    return DirectionSet(space=space, names=list(names), normals=np.stack(normals), fits=fits)
