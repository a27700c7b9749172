"""A trained generator loaded for sampling and editing, from a run folder or from a checkpoint file on its own.

Only G_ema is built (no discriminator, no optimiser) and it is always used in eval mode: sampling never moves
BatchNorm statistics. Everything takes explicit seeds so an image can be regenerated pixel for pixel.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from faceforge.checkpoints import CheckpointError, load_checkpoint
from faceforge.config import ConfigError, TrainConfig
from faceforge.data.label_scales import IDENTITY, LabelScale, scales_from_config
from faceforge.imaging import to_uint8
from faceforge.models import build_generator, capabilities
from faceforge.models.sampling import generate
from faceforge.models.styles import broadcast, mix_styles, parse_layers
from faceforge.runs import Run

Mix = tuple[torch.Tensor, str]  # (the second faces' z, the layers they give: "coarse" | "middle" | "fine" | "a-b")


def seeded_z(seed: int, n: int, z_dim: int) -> torch.Tensor:
    """The z for (seed, n): the same on every machine, independent of the device."""
    return torch.randn(n, z_dim, generator=torch.Generator().manual_seed(int(seed)))


LABEL_MODES = ("data", "mean")  # default faces: label rows drawn from the training data, or its mean label
LABEL_SEED_OFFSET = 7919  # the label rows for seed s are drawn with seed s + this (z uses s itself)


def parse_settings(settings: list[str] | dict[str, float] | None, attributes: list[str]) -> dict[str, float]:
    """``["Smiling=1", "Age=60"]`` -> {"Smiling": 1.0, "Age": 60.0}, names matched case-insensitively against the
    model's. Values stay in the column's own units (years for Age); :meth:`LoadedGenerator.make_y` converts."""
    if not settings:
        return {}
    items = settings.items() if isinstance(settings, dict) else (s.split("=", 1) if "=" in s else (s, None) for s in settings)
    lookup = {a.lower(): a for a in attributes}
    out: dict[str, float] = {}
    for name, value in items:
        key = lookup.get(str(name).strip().lower())
        if key is None:
            known = ", ".join(attributes) if attributes else "none (this model is not conditional)"
            raise ValueError(f"unknown attribute {name!r}; this model's attributes are: {known}")
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"attribute {name!r} needs a number, e.g. {name}=1 or {name}=-1") from None
    return out


@dataclass
class LoadedGenerator:
    G: torch.nn.Module
    config: TrainConfig
    attributes: list[str]
    step: int
    source: str  # the checkpoint file it came from
    attribute_means: torch.Tensor | None = None  # on the network's scale
    attribute_sample: torch.Tensor | None = None  # up to 1,024 training label rows, on the network's scale
    scales: dict[str, LabelScale] | None = None  # units <-> network per attribute (identity for older runs)

    def __post_init__(self) -> None:
        if self.w_space:  # photos' W+ codes need the mean w of their attributes (editing/w_codes.py)
            from faceforge.editing.w_codes import remember_z_dim

            remember_z_dim(self.G, self.z_dim)

    def scale(self, name: str) -> LabelScale:
        """How attribute ``name`` maps between the user's units and the network (identity when not recorded)."""
        return (self.scales or {}).get(name, IDENTITY)

    def to_network(self, name: str, value: float) -> float:
        return float(self.scale(name).to_network(value))

    def to_units(self, y: torch.Tensor | None) -> dict[str, float]:
        """One label row on the network's scale -> {attribute: value in its units}, for people."""
        if y is None:
            return {}
        row = y.reshape(-1).tolist()
        return {name: float(self.scale(name).to_units(v)) for name, v in zip(self.attributes, row)}

    @property
    def z_dim(self) -> int:
        return self.config.model.z_dim

    @property
    def resolution(self) -> int:
        return self.config.model.resolution

    @property
    def conditional(self) -> bool:
        return bool(self.attributes)

    @classmethod
    def from_checkpoint(cls, path: Path, *, device: str = "cpu") -> "LoadedGenerator":
        state = load_checkpoint(Path(path), map_location=device)
        try:
            config = TrainConfig.from_json(state["config"], stored=True)
            G = build_generator(config.model)
            G.load_state_dict(state["G_ema"])
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{Path(path).name} does not match its own config: {exc}") from None
        G.to(device).eval().requires_grad_(False)
        means, sample = state.get("attribute_means"), state.get("attribute_sample")
        attributes = list(state.get("attributes", []))
        recorded = scales_from_config(config.data.label_scales)
        return cls(G=G, config=config, attributes=attributes, step=int(state.get("step", 0)), source=str(path),
                   attribute_means=means.float().cpu() if means is not None and means.numel() else None,
                   attribute_sample=sample.float().cpu().reshape(-1, len(attributes))
                   if attributes and sample is not None and sample.numel() else None,
                   scales={name: recorded[name] for name in attributes if name in recorded})

    @classmethod
    def from_run(cls, run: Run | Path, *, device: str = "cpu") -> "LoadedGenerator":
        run = run if isinstance(run, Run) else Run(Path(run))
        ckpt = run.latest_checkpoint()
        if ckpt is None:
            raise CheckpointError(f"run {run.name} has no checkpoint yet; train it for a few hundred steps first")
        return cls.from_checkpoint(ckpt, device=device)

    @property
    def has_label_sample(self) -> bool:
        return self.attribute_sample is not None and len(self.attribute_sample) > 0

    def default_y(self, n: int, *, seed: int = 0, labels: str = "mean") -> torch.Tensor | None:
        """Default attributes for a conditional model, on the network's scale. ``labels="data"``: each face gets a
        row of the training labels the checkpoint kept (drawn with ``seed``), so a grid shows the data's own mix
        of attributes; ``"mean"`` (and checkpoints without a sample): the data's mean label for every face, so
        rare attributes such as eyeglasses stay off unless asked for."""
        if not self.conditional:
            return None
        if labels not in LABEL_MODES:
            raise ValueError(f"labels must be one of {', '.join(LABEL_MODES)}, not {labels!r}")
        if labels == "data" and self.has_label_sample:
            draw = torch.Generator().manual_seed(int(seed) + LABEL_SEED_OFFSET)
            return self.attribute_sample[torch.randint(0, len(self.attribute_sample), (n,), generator=draw)].clone()
        if self.attribute_means is not None and self.attribute_means.numel() == len(self.attributes):
            return self.attribute_means.reshape(1, -1).repeat(n, 1)
        return torch.zeros(n, len(self.attributes))

    def make_y(self, n: int, settings: dict[str, float] | None = None, base: torch.Tensor | None = None) -> torch.Tensor | None:
        """y (n, A) on the network's scale: ``base`` (default: the mean label) with ``settings`` - values in each
        column's units, e.g. {"Age": 60} meaning 60 years - converted and set for every row."""
        if not self.conditional:
            if settings:
                raise ValueError("this model is not conditional: it has no attributes to set")
            return None
        y = (base.clone() if base is not None else self.default_y(n)).reshape(n, -1)
        for name, value in (settings or {}).items():
            y[:, self.attributes.index(name)] = self.to_network(name, value)
        return y

    @property
    def w_space(self) -> bool:
        """The model has an intermediate latent W (registry capabilities): truncation lerps w towards w_avg and
        faces can mix styles per layer; otherwise truncation scales z and mixing is refused."""
        try:
            return capabilities(self.config.model.name).w_space
        except ConfigError:  # a model this installation does not have cannot have been built either
            return False

    @property
    def num_ws(self) -> int:
        return int(self.G.num_ws) if self.w_space else 0

    def layer_range(self, layers: str) -> tuple[int, int]:
        """A named range or "a-b" -> half-open style layers (the rule: :mod:`faceforge.models.styles`)."""
        self._need_w("mixing styles")
        return parse_layers(layers, self.num_ws)

    def _need_w(self, what: str) -> None:
        if not self.w_space:
            raise ValueError(f"{what} needs a model with a W space (a style-based generator); "
                             f"{self.config.model.name} maps z straight to pixels")

    def truncation_range(self, layers: str | None) -> tuple[int, int]:
        """The style layers truncation applies to: all of them for None or "all", else as :meth:`layer_range`."""
        self._need_w("truncation by layer")
        if layers is None or str(layers).strip().lower() == "all":
            return 0, self.num_ws
        return parse_layers(layers, self.num_ws)

    @torch.no_grad()
    def styles(self, z: torch.Tensor, y: torch.Tensor | None = None, *, truncation: float = 1.0,
               mix: Mix | None = None, truncation_layers: str | None = None) -> torch.Tensor:
        """The per-layer styles ws (N, num_ws, w_dim) as synthesis uses them: w = mapping(z, y) lerped towards
        w_avg by ``truncation`` at the layers ``truncation_layers`` names (all by default), then the layers ``mix``
        names taken from its z's (same y, same truncation; one z serves every face). What a recipe records, so it
        rebuilds the pixels without the mapping network."""
        self._need_w("styles")
        if z.dim() == 3:  # a photo's W+ code (editing/w_codes.py): its styles under y, no mapping of a z
            from faceforge.editing.w_codes import code_to_ws

            if mix is not None:
                raise ValueError("style mixing takes sampled faces (a z), not a photo's W+ code")
            return code_to_ws(self.G, z.float(), y, truncation).float().cpu()
        device = next(self.G.parameters()).device
        yy = y.to(device) if y is not None else None
        start, stop = self.truncation_range(truncation_layers)

        def ws_of(zz: torch.Tensor) -> torch.Tensor:
            w = self.G.mapping(zz.to(device), yy)
            ws = broadcast(w, self.num_ws)
            if truncation == 1.0 or start >= stop:
                return ws
            truncated = self.G.truncate(w, float(truncation))  # the model's own lerp towards w_avg
            return truncated if (start, stop) == (0, self.num_ws) else mix_styles(ws, truncated, (start, stop))

        ws = ws_of(z)
        if mix is not None:
            z2 = mix[0].reshape(-1, mix[0].shape[-1])
            ws = mix_styles(ws, ws_of(z2.expand(len(z), -1) if len(z2) == 1 else z2), self.layer_range(mix[1]))
        return ws.float().cpu()

    @torch.no_grad()
    def synthesize(self, ws: torch.Tensor, *, batch: int = 64) -> np.ndarray:
        """(N,H,W,3) uint8 from per-layer styles, eval mode and the model's constant noise: one ws, one image."""
        self._need_w("synthesis from styles")
        was_training = self.G.training
        self.G.eval()
        try:
            device = next(self.G.parameters()).device
            return np.concatenate([to_uint8(self.G.synthesis(ws[i : i + batch].to(device), noise="const"))
                                   for i in range(0, len(ws), batch)])
        finally:
            self.G.train(was_training)

    def images(self, z: torch.Tensor, y: torch.Tensor | None = None, *, truncation: float = 1.0,
               mix: Mix | None = None, truncation_layers: str | None = None) -> np.ndarray:
        """(N,H,W,3) uint8 from z (N, z_dim), or for a W model a photo's W+ code (N, num_ws, w_dim; see
        editing/w_codes.py). Truncation: lower = more typical faces, less variety. A W model lerps w towards w_avg
        (0 gives the average face for every z) and renders with constant noise; other models scale z towards 0.
        ``mix`` (W models only): the named layers take their styles from the second z's; ``truncation_layers``
        (W models only): the layers truncation applies to, "all" by default."""
        if self.w_space:
            return self.synthesize(self.styles(z, y, truncation=truncation, mix=mix,
                                               truncation_layers=truncation_layers))
        if z.dim() == 3:
            self._need_w("a W+ code")
        if mix is not None:
            self._need_w("style mixing")
        if truncation_layers not in (None, "all"):
            self._need_w("truncation by layer")
        return generate(self.G, z * float(truncation), y)

    def inputs(self, *, n: int, seed: int, settings: dict[str, float] | None = None,
               labels: str = "mean") -> tuple[torch.Tensor, torch.Tensor | None]:
        """z from the seed, y from ``default_y(labels=)`` with ``settings`` (in units) set."""
        z = seeded_z(seed, n, self.z_dim)
        return z, self.make_y(n, settings, base=self.default_y(n, seed=seed, labels=labels))

    def sample(self, *, n: int, seed: int, settings: dict[str, float] | None = None, truncation: float = 1.0,
               labels: str = "mean") -> tuple[np.ndarray, torch.Tensor, torch.Tensor | None]:
        """n faces for ``seed``: z from the seed, y from ``default_y(labels=)`` with ``settings`` (in units) set."""
        z, y = self.inputs(n=n, seed=seed, settings=settings, labels=labels)
        return self.images(z, y, truncation=truncation), z, y
