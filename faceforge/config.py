"""Versioned configuration dataclasses that round-trip to JSON.

A run's ``config.json`` is the single description of what a run is; everything that builds data, models or a
training loop takes one of these dataclasses, so the GUI, the CLI and a resumed run all agree on what was asked.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_VERSION = 1
#: where a conditional model's attributes enter (ModelConfig.conditioning; faceforge/models/conditioning.py)
CONDITIONINGS = ("input", "projection", "acgan", "cbn")
#: GAN objectives (faceforge/training/losses.py); which a model trains with is its registry capability
LOSS_KINDS = ("bce", "wgan-gp", "hinge", "rahinge")
#: MSG-GAN's up-sampling in G (ModelConfig.msg_upsample)
MSG_UPSAMPLES = ("nearest", "bilinear")
#: how ProGAN's D halves the resolution in each block (ModelConfig.d_downsample)
D_DOWNSAMPLES = ("stride", "pool")
BUILTIN_SOURCE = "builtin:faces"  # the procedural faces FaceForge renders itself (faceforge/data/synthetic.py)
# folder names that say nothing about the data: a run or cache is named after their parent instead
_GENERIC_FOLDERS = {"images", "image", "imgs", "img", "img_align_celeba", "img_celeba", "pictures", "photos", "data"}


class ConfigError(ValueError):
    """A configuration that cannot describe a valid run; the message says which field and why."""


def _from_dict(cls: type, data: dict[str, Any], stored: bool) -> Any:
    """Build dataclass ``cls`` from a plain dict, recursing into nested dataclasses and ignoring unknown keys.
    ``stored``: the dict is a run's own config (its config.json or a checkpoint's copy), so a field it lacks takes
    the value the class's ``ABSENT_MEANS`` names, what the run was trained with; otherwise (a config to start a new
    run from) a missing field takes its default, what new runs do."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if stored and f.name in getattr(cls, "ABSENT_MEANS", {}):
                kwargs[f.name] = cls.ABSENT_MEANS[f.name]
            continue
        value = data[f.name]
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            value = _from_dict(hint, value, stored)
        elif typing.get_origin(hint) is tuple or (
            typing.get_origin(hint) in (typing.Union, getattr(__import__("types"), "UnionType", None))
            and any(typing.get_origin(a) is tuple for a in typing.get_args(hint))
        ):
            value = tuple(value) if value is not None else None
        kwargs[f.name] = value
    return cls(**kwargs)


class JsonConfig:
    """Mixin: ``to_dict``/``from_dict``/``to_json``/``from_json`` for dataclass configs."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, stored: bool = False):
        return _from_dict(cls, data, stored)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_json(cls, text: str, *, stored: bool = False):
        return cls.from_dict(json.loads(text), stored=stored)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def is_builtin(source: str) -> bool:
    return source.startswith("builtin:")


def source_slug(source: str) -> str:
    """A short slug for run names and cache folders: the folder or zip name, or its parent's when the folder is
    just called "images" (CelebA's ``img_align_celeba``, Kaggle's ``images``)."""
    if is_builtin(source):
        return "builtin-faces"
    path = Path(os.path.abspath(os.path.expanduser(source)))
    name = path.stem if path.suffix.lower() == ".zip" else path.name
    if name.lower() in _GENERIC_FOLDERS and path.parent.name:
        name = path.parent.name
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40] or "dataset"


def source_label(source: str) -> str:
    """How a person reads a source: "Built-in faces", "celeba-10k/images" rather than a bare "images", a zip's
    name."""
    if is_builtin(source):
        return "Built-in faces"
    path = Path(source)
    if path.suffix.lower() == ".zip" or not path.parent.name:
        return path.name or source
    return f"{path.parent.name}/{path.name}"


@dataclass
class DataConfig(JsonConfig):
    """Where the images come from and how they are turned into training tensors.

    ``source`` is ``builtin:faces`` (the procedural faces), a folder (searched recursively) or a ``.zip``.
    ``labels`` is a CelebA ``list_attr_celeba.txt`` or a CSV (``filename,attr1,...``); for the built-in faces the
    renderer's own ground truth is used. ``attributes`` selects and orders the attributes the model is conditioned
    on (empty = none; ``["*"]`` = all available).
    """

    source: str = BUILTIN_SOURCE
    labels: str | None = None
    attributes: list[str] = field(default_factory=list)
    resolution: int = 32
    crop: tuple[int, int, int, int] | None = None  # (left, top, right, bottom) in source pixels, before resizing
    builtin_count: int = 10000  # how many procedural faces to render for builtin:faces
    builtin_seed: int = 0
    # per-column override of the binary/continuous rule (data/label_scales.py), e.g. {"Age": "continuous"}
    label_kinds: dict[str, str] = field(default_factory=dict)
    # written when a run starts: each attribute's kind and its map between the user's units and the network's
    # scale, so sliders, --set, recipes and encoders speak the column's own units (None = identity: older runs)
    label_scales: dict[str, dict] | None = None


@dataclass
class ModelConfig(JsonConfig):
    """Architecture; ``name`` picks the builder in :mod:`faceforge.models.registry`."""

    name: str = "cdcgan"  # a registry name: dcgan | cdcgan | msggan | progan | stylegan (faceforge/models/registry.py)
    resolution: int = 32
    z_dim: int = 100
    n_attributes: int = 0
    g_channels: int = 64  # width of the last generator block (the DCGAN example's ngf)
    d_channels: int = 64  # width of the first discriminator block (ndf)
    d_norm: str = "auto"  # auto | batch | layer | none  (auto: batch for bce/hinge, layer for wgan-gp)
    # where a conditional model's attributes enter (models/conditioning.py): input (beside z in G, as maps at D's
    # first layer; every run before this field) | projection (projection discriminator) | acgan (D predicts y) |
    # cbn (conditional BatchNorm in G, projection D). Ignored by unconditional models
    conditioning: str = "input"
    # minibatch standard deviation in D (progan, msggan, stylegan): samples per group; it must divide the batch
    # (and, for multi-process training, each process's share of it)
    mbstd_group: int = 4
    # MSG-GAN's combine of each scale's RGB image with D's features at that depth: "simple" (concatenate) or
    # "lincat" (a 1x1 convolution of the image, then concatenate), the paper's phi_simple and phi_lincat
    msg_combine: str = "simple"
    # MSG-GAN's 2x up-sampling in G: "nearest" (the paper's) or "bilinear" (runs stored before this field existed;
    # it made every 64 px face ring around one template: models/msggan.py)
    msg_upsample: str = "nearest"
    # progressive growing (progan): images for each resolution's fade-in and again for its stable stretch,
    # starting at 4x4 (ProGAN used 800,000; a CPU run needs far fewer). 3,200 reaches 64 px at 25,600 images: with
    # 6,400 a 64,000-image run spent 51,200 growing and scored worse (models/progan.py)
    phase_images: int = 3200
    # progan: at 16 px and below each step's batch is trained as updates of this many images (0: one update of the
    # whole batch, runs stored before this field). Same images, more updates: the early phases need updates, not
    # images, and cost little (models/progan.py updates_per_step)
    growth_batch: int = 16
    # ProGAN's D blocks: "stride" (a strided convolution reads every pixel of the block's input) or "pool" (average
    # pooling, then the convolution: D judged each resolution at half its size; runs stored before this field)
    d_downsample: str = "stride"
    # ProGAN: no resolution narrower than this share of g_channels / d_channels (0: none, runs stored before this
    # field, whose finest block had a quarter of the channels at 32 px: models/progan.py widths)
    progan_width_floor: float = 0.5
    # StyleGAN (models/stylegan.py): the intermediate latent's size, the mapping network's depth (2 is enough on a
    # CPU; the paper's 8 is an option) and the probability that a training batch mixes two w's styles
    w_dim: int = 256
    mapping_layers: int = 2
    style_mixing: float = 0.9
    # a conditional StyleGAN starts unconditional and fades its attributes in linearly between these two counts of
    # images seen (Shahbazi et al., "Collapse by Conditioning", ICLR 2023): conditioned from the first step it
    # collapsed to a few faces per label on CelebA (bench/results/model_quality_32px.md). Equal counts: no fade
    condition_fade: tuple[int, int] = (8000, 24000)
    # StyleGAN: per-pixel noise only in the layers at this resolution or below (0: every layer, the paper's, and
    # what runs stored before this field had). Noise in the finer layers left a speckle over every face; without it
    # the faces are smooth (models/stylegan.py says what it measured)
    noise_max_res: int = 16
    # conditional StyleGAN: the embedded y weighs as much as z in the mapping network's input (models/stylegan_layers
    # MappingNetwork); runs stored before this field had y weigh w_dim / z_dim times z
    y_like_z: bool = True

    # fields added after runs were stored, and what a run's stored config without them was trained with (read with
    # ``stored=True``; a config to start a new run from takes the defaults above)
    ABSENT_MEANS: typing.ClassVar[dict[str, Any]] = {"msg_upsample": "bilinear", "noise_max_res": 0,
                                                         "y_like_z": False, "d_downsample": "pool",
                                                         "progan_width_floor": 0.0, "growth_batch": 0}


@dataclass
class LossConfig(JsonConfig):
    kind: str = "bce"  # bce (non-saturating) | wgan-gp | hinge | rahinge (relativistic average hinge, MSG-GAN's)
    gp_weight: float = 10.0
    drift: float = 0.0  # ProGAN's drift term: + drift * E[D(x)^2] in D's loss keeps a WGAN critic near zero (0.001)
    # R1 on real images (StyleGAN 2), lazily every r1_every D steps; 0 = off, negative = -r1_gamma times StyleGAN 2's
    # heuristic 0.0002 * res^2 / batch
    r1_gamma: float = 0.0
    r1_every: int = 16
    # StyleGAN 2's path-length regulariser for models with W (training/path_length.py): its weight (the paper: 2;
    # 0 = off, the default on a CPU) and how many G steps apart it runs
    pl_weight: float = 0.0
    pl_every: int = 4
    n_critic: int = 1  # discriminator steps per generator step (5 is usual for wgan-gp)


@dataclass
class OptimConfig(JsonConfig):
    """Adam with the DCGAN defaults."""

    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    ema_beta: float = 0.999  # EMA of G's weights used for samples and editing


@dataclass
class PerfConfig(JsonConfig):
    """Speed switches. ``precision='auto'`` picks bf16 only where the CPU has native bf16 and a short measurement
    confirms it is faster; the choice actually used is written back into the run's config."""

    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    channels_last: bool | None = None  # None = decide with precision
    foreach_optim: bool = True
    threads: int = 0  # 0 = torch default
    # match the thread count to the cores other programs leave free, re-checked while training (cpu_share.py);
    # ``threads`` (or the default) is the ceiling
    adapt_threads: bool = True
    # layers computed as im2col + one GEMM instead of by oneDNN (models/gemm_conv.py). None = time both on each
    # layer when the run starts (CPU, fp32) and record the faster; a list (even empty) is used as given
    gemm_layers: list[str] | None = None
    # run G and D through torch.compile (mainly for CUDA; the first steps are slow while it compiles)
    compile: bool = False


@dataclass
class ScheduleConfig(JsonConfig):
    steps: int = 2000
    batch_size: int = 64
    log_every: int = 20  # stats.jsonl tick
    sample_every: int = 200  # fixed-noise grid snapshot
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    grid_size: int = 64  # number of faces in the fixed-noise grid (a square is nicest)
    metrics_every: int = 500  # quality score (SWD + diversity) every N steps; 0 = off
    metrics_samples: int = 1024


@dataclass
class TrainConfig(JsonConfig):
    """Everything a run needs; written to ``config.json`` and stored inside every checkpoint."""

    version: int = CONFIG_VERSION
    name: str = ""
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    perf: PerfConfig = field(default_factory=PerfConfig)

    def validate(self) -> "TrainConfig":
        if self.model.resolution not in (32, 64, 128):
            raise ConfigError(f"resolution must be 32, 64 or 128, not {self.model.resolution}")
        if self.data.resolution != self.model.resolution:
            raise ConfigError("data.resolution and model.resolution differ")
        if self.loss.kind not in LOSS_KINDS:
            raise ConfigError(f"loss must be one of {', '.join(LOSS_KINDS)}, not {self.loss.kind!r}")
        if self.loss.r1_every < 1 or self.loss.pl_every < 1:
            raise ConfigError("r1_every and pl_every must be at least 1")
        if self.loss.pl_weight < 0:
            raise ConfigError(f"pl_weight must be 0 (off) or more, not {self.loss.pl_weight}")
        if self.model.mbstd_group < 1:
            raise ConfigError("mbstd_group must be at least 1")
        if self.model.msg_combine not in ("simple", "lincat"):
            raise ConfigError(f"msg_combine must be simple or lincat, not {self.model.msg_combine!r}")
        if self.model.msg_upsample not in MSG_UPSAMPLES:
            raise ConfigError(f"msg_upsample must be {' or '.join(MSG_UPSAMPLES)}, not {self.model.msg_upsample!r}")
        if self.model.d_downsample not in D_DOWNSAMPLES:
            raise ConfigError(f"d_downsample must be {' or '.join(D_DOWNSAMPLES)}, not {self.model.d_downsample!r}")
        if not 0 <= self.model.progan_width_floor <= 8:
            raise ConfigError(f"progan_width_floor must be between 0 and 8, not {self.model.progan_width_floor}")
        if self.schedule.steps < 1 or self.schedule.batch_size < 1:
            raise ConfigError("steps and batch size must be positive")
        g, B = self.model.growth_batch, self.schedule.batch_size
        if g < 0 or (0 < g < B and B % g):
            raise ConfigError(f"growth_batch must be 0 (off) or divide the batch of {B}, not {g}")
        return self

    def save(self, path: Path) -> None:
        from faceforge.fileio import atomic_write_text

        atomic_write_text(Path(path), self.to_json())

    @classmethod
    def load(cls, path: Path, *, stored: bool) -> "TrainConfig":
        """``stored``: ``path`` is a run's config.json (see ``_from_dict``), not a config to start a new run from."""
        try:
            return cls.from_json(Path(path).read_text(encoding="utf-8"), stored=stored)
        except (OSError, json.JSONDecodeError, TypeError) as exc:
            raise ConfigError(f"cannot read run config {path}: {exc}") from exc
