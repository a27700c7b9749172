"""Editing helpers over a :class:`~faceforge.editing.generator.LoadedGenerator`: interpolation strips and GIFs, the
axis-incremental figure, and exports that always carry a recipe (a photo's edits: photo_edits.py).

Every image here is a pure function of (z, y, truncation) and the checkpoint, so each export gets a
``NAME.recipe.json`` and ``faceforge generate --recipe NAME.recipe.json`` rebuilds the same pixels (a composite is
rebuilt as the grid of its cells with ``ncols`` columns, exactly how it was made here).
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from faceforge.recipes import Recipe, as_lists, recipe_path
from faceforge.editing.sheets import add_headings
from faceforge.imaging import make_grid, write_gif, write_mp4, write_png

Latent = tuple[torch.Tensor, "torch.Tensor | None"]


# ---------------------------------------------------------------------------------------------------- rendered
@dataclass
class Rendered:
    """Cells (N,H,W,3) uint8 made from z (N, z_dim) and y (N, A) or None, laid out ``ncols`` wide in ``image``."""

    images: np.ndarray
    z: torch.Tensor
    y: torch.Tensor | None
    ncols: int
    kind: str
    truncation: float = 1.0
    edits: dict[str, float] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)  # a heading per column, for a GUI or a labelled export
    rows: list[str] = field(default_factory=list)
    # a W model: the styles synthesis was given (N, num_ws, w_dim), and how they were made (faceforge.editing.wspace)
    ws: torch.Tensor | None = None
    truncation_layers: dict | None = None
    mix: dict | None = None
    directions: dict | None = None  # fitted directions that moved z or ws: files, keep, layers (recipes.py)

    @functools.cached_property
    def labelled_image(self) -> np.ndarray:
        """``image`` with the column headings on top, enlarged so small faces stay legible: for people (papers,
        slides); the recipe rebuilds the plain ``image``. Made once (the export worker's copy is the one shown)."""
        cell = self.images.shape[1]
        return add_headings(self.image, self.columns, cell=cell, scale=max(1, 128 // cell))

    @property
    def image(self) -> np.ndarray:
        return compose(self.images, self.ncols)

    def recipe(self, gen, *, run: str | Path | None = None, seed: int | None = None) -> Recipe:
        return Recipe(checkpoint=str(Path(gen.source).resolve()), run=str(Path(run).resolve()) if run else None,
                      seed=seed, n=len(self.images), z=as_lists(self.z), y=as_lists(self.y),
                      truncation=self.truncation, edits=dict(self.edits), ncols=self.ncols, kind=self.kind,
                      ws=as_lists(self.ws) if self.ws is not None else code_styles(gen, self.z, self.y,
                                                                                    self.truncation),
                      truncation_layers=self.truncation_layers, mix=self.mix, directions=self.directions)


def code_styles(gen, z, y, truncation: float = 1.0):
    """A photo's W+ code as the styles synthesis used (what ``generate --recipe`` rebuilds), else None."""
    from faceforge.editing.w_codes import is_code

    return as_lists(gen.styles(z, y, truncation=truncation)) if is_code(z) else None


def enlarge(image: np.ndarray, scale: int = 1) -> np.ndarray:
    """(H,W,3) enlarged a whole ``scale`` times, each pixel a square block (crisp, the same colours)."""
    scale = int(scale)
    if scale < 1:
        raise ValueError(f"scale must be 1 or more, not {scale}")
    return image if scale == 1 else np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def compose(images: np.ndarray, ncols: int | None) -> np.ndarray:
    """The exported picture for a set of cells: the cell itself for one, else the grid ``generate`` also makes."""
    return images[0] if len(images) == 1 else make_grid(images, ncols=ncols)


def regenerate(recipe: Recipe, gen=None, *, device: str = "cpu") -> np.ndarray:
    """The pixels a recipe describes (the same as ``faceforge generate --recipe``), enlarged as exported."""
    if gen is None:
        from faceforge.editing.generator import LoadedGenerator

        gen = LoadedGenerator.from_checkpoint(Path(recipe.checkpoint), device=device)
    if recipe.ws is not None:  # a W model: the styles as synthesis used them (truncation and mixing included)
        images = gen.synthesize(torch.tensor(recipe.ws, dtype=torch.float32))
    else:
        z = torch.tensor(recipe.z, dtype=torch.float32)
        y = torch.tensor(recipe.y, dtype=torch.float32) if recipe.y is not None else None
        images = gen.images(z, y, truncation=recipe.truncation)
    return enlarge(compose(images, recipe.ncols), recipe.scale)


def save_png(path: Path, image: np.ndarray, recipe: Recipe | None = None, *, scale: int = 1) -> Path:
    """Write a PNG atomically (enlarged ``scale`` times, crisp pixels), and its recipe beside it when given."""
    path = write_png(path, enlarge(image, scale))
    if recipe is not None:
        dataclasses.replace(recipe, scale=int(scale)).save(recipe_path(path))
    return path


def export(rendered: Rendered, path: Path, gen, *, run: str | Path | None = None, seed: int | None = None,
           scale: int = 1, labels: str | None = None) -> Path:
    """``rendered.image`` as PNG (``scale`` 1, 2 or 4 times its native size) plus its recipe."""
    recipe = dataclasses.replace(rendered.recipe(gen, run=run, seed=seed), labels=labels)
    return save_png(path, rendered.image, recipe, scale=scale)


# ------------------------------------------------------------------------------------------------ interpolation
def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor | Sequence[float]) -> torch.Tensor:
    """Spherical interpolation between latents z0, z1 (z_dim,) at each t (T,): (T, z_dim).

    Gaussian latents live near a sphere; a straight line between two passes through the low-norm middle, where
    faces look washed out, while the great circle keeps the norm (White, "Sampling generative networks", 2016).
    Endpoints are returned exactly; nearly parallel latents fall back to the straight line.
    """
    z0, z1 = z0.reshape(-1).double(), z1.reshape(-1).double()
    t = torch.as_tensor(t, dtype=torch.float64).reshape(-1, 1)
    cos = torch.dot(z0 / z0.norm().clamp_min(1e-12), z1 / z1.norm().clamp_min(1e-12)).clamp(-1, 1)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-4:
        out = (1 - t) * z0 + t * z1
    else:
        so = torch.sin(omega)
        out = torch.sin((1 - t) * omega) / so * z0 + torch.sin(t * omega) / so * z1
    out = out.float()
    out[t.reshape(-1) == 0] = z0.float()
    out[t.reshape(-1) == 1] = z1.float()
    return out


def lerp(y0: torch.Tensor | None, y1: torch.Tensor | None, t: torch.Tensor | Sequence[float]) -> torch.Tensor | None:
    """Linear interpolation of attribute vectors (they are coordinates, not directions)."""
    if y0 is None or y1 is None:
        return None
    y0, y1 = y0.reshape(-1).float(), y1.reshape(-1).float()
    t = torch.as_tensor(t, dtype=torch.float32).reshape(-1, 1)
    out = (1 - t) * y0 + t * y1
    out[t.reshape(-1) == 0] = y0
    out[t.reshape(-1) == 1] = y1
    return out


def interpolate(gen, start: Latent, end: Latent, steps: int = 8, *, truncation: float = 1.0) -> Rendered:
    """A strip of ``steps`` faces from ``start`` = (z0, y0) to ``end`` = (z1, y1): slerp in z, linear in y. The
    first and last cells are exactly the endpoints' images."""
    if steps < 2:
        raise ValueError("an interpolation needs at least 2 steps")
    (z0, y0), (z1, y1) = start, end
    t = torch.linspace(0.0, 1.0, steps)
    t[0], t[-1] = 0.0, 1.0
    from faceforge.editing.w_codes import is_code

    if is_code(z0) or is_code(z1):  # a photo's W+ code at either end: both as codes, a straight line in W+
        z = _code_line(gen, (z0, y0), (z1, y1), t, truncation)
        truncation = 1.0
    else:
        z = slerp(z0, z1, t)
    y = lerp(y0, y1, t)
    if gen.conditional and y is None:
        y = gen.make_y(steps)
    images = gen.images(z, y, truncation=truncation)
    return Rendered(images, z, y, ncols=steps, kind="interpolation", truncation=truncation,
                    columns=[f"{float(v):.2f}" for v in t])


def _code_line(gen, start: Latent, end: Latent, t: torch.Tensor, truncation: float) -> torch.Tensor:
    """Codes (T, num_ws, w_dim) on the straight line between two ends, a z end turned into a code first (its
    styles at ``truncation`` less the mean w of its y). W is not a Gaussian's sphere: the line is the path."""
    from faceforge.editing.w_codes import is_code, ws_to_code

    def as_code(z, y):
        if is_code(z):
            return z.reshape(1, gen.num_ws, -1).float()
        yy = None if y is None else y.reshape(1, -1)
        return ws_to_code(gen.G, gen.styles(z.reshape(1, -1), yy, truncation=truncation), yy)

    c0, c1 = as_code(*start), as_code(*end)
    tt = t.reshape(-1, 1, 1)
    out = (1 - tt) * c0 + tt * c1
    out[0], out[-1] = c0[0], c1[0]
    return out


def save_gif(frames: np.ndarray | Sequence[np.ndarray], path: Path, *, frame_ms: int = 80, boomerang: bool = True,
             scale: int = 1, recipe: Recipe | None = None) -> Path:
    """An animated GIF that loops forever. ``boomerang`` plays the frames forward then back (a smooth loop for an
    interpolation); ``scale`` enlarges small faces with nearest-neighbour (crisp pixels). The recipe, if given,
    goes beside it (it rebuilds the frames as a strip)."""
    path = write_gif(list(frames), path, frame_ms=frame_ms, boomerang=boomerang, scale=scale)
    if recipe is not None:  # a copy that also says how the frames play (the caller's recipe is left as it was)
        animation = {"frame_ms": int(frame_ms), "boomerang": bool(boomerang), "scale": int(scale)}
        dataclasses.replace(recipe, animation=animation).save(recipe_path(path))
    return path


def save_mp4(frames: np.ndarray | Sequence[np.ndarray], path: Path, *, fps: float = 12.5, boomerang: bool = True,
             scale: int = 1, recipe: Recipe | None = None) -> Path:
    """The same animation as :func:`save_gif` as an H.264 MP4 (``imaging.write_mp4``: frames enlarged to at least
    256 px), for players and slides that take no GIF; the recipe says how it plays."""
    path = write_mp4(list(frames), path, fps=fps, boomerang=boomerang, scale=scale)
    if recipe is not None:
        animation = {"fps": float(fps), "boomerang": bool(boomerang), "scale": int(scale)}
        dataclasses.replace(recipe, animation=animation).save(recipe_path(path))
    return path


# ------------------------------------------------------------------------------------------ interactive render
def _fold_bn(seq: torch.nn.Sequential) -> torch.nn.Sequential:
    """A copy of a Sequential with every (ConvTranspose2d|Conv2d, BatchNorm2d) pair in eval mode folded into one
    convolution with a bias: the same function (to float rounding), one pass over memory fewer per layer."""
    from torch import nn

    layers = list(seq)
    out: list[nn.Module] = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, (nn.ConvTranspose2d, nn.Conv2d)) and isinstance(nxt, nn.BatchNorm2d) \
                and nxt.track_running_stats and nxt.running_mean is not None and layer.groups == 1:
            scale = (nxt.weight if nxt.affine else torch.ones_like(nxt.running_var)) / torch.sqrt(nxt.running_var + nxt.eps)
            shift = (nxt.bias if nxt.affine else torch.zeros_like(nxt.running_mean)) - nxt.running_mean * scale
            fused = _copy_conv_with_bias(layer)
            with torch.no_grad():
                if isinstance(layer, nn.ConvTranspose2d):  # weight (in, out, kh, kw)
                    fused.weight.copy_(layer.weight * scale[None, :, None, None])
                else:  # weight (out, in, kh, kw)
                    fused.weight.copy_(layer.weight * scale[:, None, None, None])
                base = layer.bias if layer.bias is not None else torch.zeros_like(shift)
                fused.bias.copy_(base * scale + shift)
            out.append(fused)
            i += 2
            continue
        out.append(layer)
        i += 1
    return nn.Sequential(*out)


def _copy_conv_with_bias(layer):
    from torch import nn

    cls = type(layer)
    kwargs = dict(in_channels=layer.in_channels, out_channels=layer.out_channels, kernel_size=layer.kernel_size,
                  stride=layer.stride, padding=layer.padding, dilation=layer.dilation, groups=layer.groups, bias=True)
    if isinstance(layer, nn.ConvTranspose2d):
        kwargs["output_padding"] = layer.output_padding
    return cls(**kwargs).to(layer.weight.device, layer.weight.dtype)


class _MatmulDeconv(torch.nn.Module):
    """A ConvTranspose2d as one matrix product and a col2im (``F.fold``), with the weight laid out once for the
    product. On a CPU this is 2-4x faster than oneDNN's deconvolution where the image is small and the channels
    many (the first blocks of a DCGAN generator) and never slower elsewhere (bench/edit_latency.py)."""

    def __init__(self, layer: torch.nn.ConvTranspose2d):
        super().__init__()
        cin, cout = layer.in_channels, layer.out_channels
        kh, kw = layer.kernel_size
        self.cout, self.kernel, self.stride, self.padding = cout, (kh, kw), layer.stride, layer.padding
        w = layer.weight.detach().reshape(cin, cout * kh * kw).t().contiguous()  # (cout*kh*kw, cin)
        self.register_buffer("w", w)
        self.register_buffer("b", None if layer.bias is None else layer.bias.detach().clone().reshape(1, cout, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        n, cin, h, w = x.shape
        cols = torch.matmul(self.w, x.reshape(n, cin, h * w))  # (n, cout*kh*kw, h*w)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        out_size = ((h - 1) * sh - 2 * ph + kh, (w - 1) * sw - 2 * pw + kw)
        out = F.fold(cols, out_size, self.kernel, stride=self.stride, padding=self.padding)
        return out if self.b is None else out + self.b


def _matmul_deconvs(seq: torch.nn.Sequential) -> torch.nn.Sequential:
    from torch import nn

    layers = []
    for layer in seq:
        if isinstance(layer, nn.ConvTranspose2d) and layer.groups == 1 and layer.dilation == (1, 1) \
                and tuple(layer.output_padding) == (0, 0) and isinstance(layer.padding, tuple):
            layers.append(_MatmulDeconv(layer))
        else:
            layers.append(layer)
    return nn.Sequential(*layers)


class FastRenderer:
    """One face per call, as fast as the CPU allows, for sliders: ``renderer(z, y) -> (1,H,W,3) uint8``.

    A private copy of the generator with BatchNorm folded into the convolutions and each transposed convolution
    computed as a matrix product plus col2im (DCGAN generators; any other architecture is used as it is), run
    under ``torch.inference_mode``. ``threads`` (None = leave torch's setting)
    sets the intra-op threads only for the duration of a call. See bench/edit_latency.py for what each choice buys.
    The images equal ``LoadedGenerator.images`` up to float rounding (at most 1 level in a few pixels).
    """

    def __init__(self, G: torch.nn.Module, *, threads: int | None = None):
        import copy

        model = copy.deepcopy(G).eval().requires_grad_(False)
        self.device = next(iter(G.parameters())).device
        main = getattr(model, "main", None)
        if isinstance(main, torch.nn.Sequential):
            model.main = _matmul_deconvs(_fold_bn(main)).eval().requires_grad_(False)
        self.model = model
        self.threads = threads or torch.get_num_threads()
        self._set_threads = threads

    @classmethod
    def for_generator(cls, gen, **kwargs) -> "FastRenderer":
        return cls(gen.G, **kwargs)

    def __call__(self, z: torch.Tensor, y: torch.Tensor | None = None, *, truncation: float = 1.0) -> np.ndarray:
        from faceforge.imaging import to_uint8

        before = torch.get_num_threads()
        if self._set_threads and self._set_threads != before:
            torch.set_num_threads(self._set_threads)
        try:
            with torch.inference_mode():
                device = self.device
                if z.dim() == 3:  # a photo's W+ code (editing/w_codes.py)
                    from faceforge.editing.w_codes import code_to_ws

                    ws = code_to_ws(self.model, z.float(), y, truncation)
                    return to_uint8(self.model.synthesis(ws.to(device), noise="const"))
                out = self.model(z.to(device) * float(truncation), None if y is None else y.to(device))
                return to_uint8(out)
        finally:
            if self._set_threads and self._set_threads != before:
                torch.set_num_threads(before)


# --------------------------------------------------------------------------------------------- attribute edits
def set_attributes(gen, y: torch.Tensor | None, settings: dict[str, float] | None) -> torch.Tensor | None:
    """A copy of y (N, A) with the named attributes set (names as in ``gen.attributes``; see parse_settings)."""
    if not settings:
        return None if y is None else y.clone()
    n = 1 if y is None else y.reshape(-1, len(gen.attributes)).shape[0]
    return gen.make_y(n, settings, base=y.reshape(n, -1) if y is not None else None)


def axis_incremental(gen, *, n_faces: int = 6, seed: int = 0, attributes: Sequence[str] = (),
                     values: Sequence[float] | None = (-1.0, 0.0, 1.0), truncation: float = 1.0,
                     z: torch.Tensor | None = None, y: torch.Tensor | None = None) -> Rendered:
    """The "axis-incremental" figure of Gauthier's conditional face GAN report: random faces, then the same
    faces moved along one attribute, then along a second, everything else held fixed.

    One row per face (seeded z, neutral y unless given); the first column is the face as sampled, then one column
    per value of the first attribute, then one per value of the second. ``columns`` names each column. Values are
    in each attribute's units; ``values=None`` takes each attribute's own (:func:`default_values`).
    """
    if not gen.conditional:
        raise ValueError("the axis-incremental figure needs a conditional model (one with attributes)")
    from faceforge.editing.generator import parse_settings, seeded_z

    names = list(attributes) or list(gen.attributes[:2])
    if not 1 <= len(names) <= 2:
        raise ValueError("choose one or two attributes")
    resolved = [next(iter(parse_settings({a: 0.0}, gen.attributes))) for a in names]
    z = seeded_z(seed, n_faces, gen.z_dim) if z is None else z.reshape(-1, gen.z_dim).float()
    n = z.shape[0]
    base = gen.make_y(n) if y is None else y.reshape(n, -1).float()
    cols_z, cols_y, titles = [z], [base], ["sample"]
    for name in resolved:
        for v in (default_values(gen, name) if values is None else values):
            cols_z.append(z)
            cols_y.append(gen.make_y(n, {name: float(v)}, base=base))
            titles.append(f"{name}={float(v):g}" if gen.scale(name).in_units else f"{name}={float(v):+g}")
    ncols = len(cols_z)
    # row-major cells: face i, column j
    zz = torch.stack(cols_z, dim=1).reshape(n * ncols, -1)
    yy = torch.stack(cols_y, dim=1).reshape(n * ncols, -1)
    images = gen.images(zz, yy, truncation=truncation)
    return Rendered(images, zz, yy, ncols=ncols, kind="axis-incremental", truncation=truncation,
                    columns=titles, rows=[f"face {i}" for i in range(n)])


def default_values(gen, name: str) -> tuple[float, ...]:
    """An attribute's figure columns: -1, 0, +1 for a binary (or built-in) one, the data's low, mean and high in
    units for a continuous one (years, not -1 years)."""
    scale = gen.scale(name)
    if not scale.in_units:
        return (-1.0, 0.0, 1.0)
    return tuple(float(f"{v:.3g}") for v in (scale.low, scale.mean, scale.high))
