"""How the Edit studio draws a face of a model with a W space, without Qt: truncation towards w_avg over a layer
range, style mixing from one second face, and interpolation in W.

A W model (registry ``Capabilities.w_space``) draws a face from its per-layer styles ws (N, num_ws, w_dim). What
the studio adds on top of (z, y) is a :class:`StyleChoice`: psi (0 = the average face w_avg, 1 = the face's own w)
at the layers it names ("all", "coarse", "middle", "fine" or "a-b": :mod:`faceforge.models.styles`), and a
:class:`MixSource`, one second face (a grid cell or a seed's first face) whose styles the named layers take, for
every face alike. The grid, the current face, its exports and the interpolation ends all go through
:func:`styles_for`, so what the user sees, what a recipe records (``ws``) and what ``faceforge generate --recipe``
rebuilds are the same numbers.

Interpolating in W lerps the two ends' ws layer by layer (each end already truncated and mixed as it was shown),
so its first and last frames are exactly the two faces; z's slerp stays for models without W.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch is imported where it is used: the window imports the state before torch is loaded
    import torch

ALL_LAYERS = "all"
INTERPOLATION_SPACES = ("w", "z")  # "w": lerp the ends' styles; "z": slerp z (every model)


@dataclass(frozen=True)
class MixSource:
    """The second face of style mixing: its z (1, z_dim), where it came from (the seed of its grid and its cell),
    the layers it gives, and its picture for the controls."""

    z: Any
    seed: int
    index: int = 0
    layers: str = "coarse"
    image: Any = None

    def record(self, gen) -> dict[str, Any]:
        """What a recipe keeps: seed and cell (the z is ``seeded_z(seed, index + 1)[index]``), the layers as
        asked and as a half-open range, and the z itself."""
        import torch

        return {"seed": int(self.seed), "index": int(self.index), "layers": self.layers,
                "range": list(gen.layer_range(self.layers)),
                "z": torch.as_tensor(self.z, dtype=torch.float32).reshape(-1).tolist()}


@dataclass(frozen=True)
class StyleChoice:
    """psi towards w_avg at ``truncation_layers``, and the mix (None: no mixing)."""

    psi: float = 1.0
    truncation_layers: str = ALL_LAYERS
    mix: MixSource | None = None

    @property
    def plain(self) -> bool:
        return self.psi == 1.0 and self.mix is None

    def recipe_fields(self, gen) -> dict[str, Any]:
        """The recipe's ``truncation``, ``truncation_layers`` and ``mix`` for faces drawn with this choice."""
        start, stop = gen.truncation_range(self.truncation_layers)
        return {"truncation": float(self.psi),
                "truncation_layers": {"layers": self.truncation_layers, "range": [start, stop]},
                "mix": None if self.mix is None else self.mix.record(gen)}


def check_layers(text: str, num_ws: int, *, allow_all: bool) -> str:
    """A layer range as the user typed it, normalised ("Coarse " -> "coarse"); ValueError with the choices."""
    from faceforge.models.styles import parse_layers

    spec = str(text).strip().lower()
    if allow_all and spec == ALL_LAYERS:
        return spec
    parse_layers(spec, num_ws)
    return spec


def styles_for(gen, z: torch.Tensor, y: torch.Tensor | None, choice: StyleChoice) -> torch.Tensor:
    """ws (N, num_ws, w_dim) for the faces (z, y) drawn with ``choice``: what synthesis is given and recipes keep."""
    import torch

    mix = None if choice.mix is None else (torch.as_tensor(choice.mix.z).reshape(1, -1), choice.mix.layers)
    return gen.styles(z, y, truncation=float(choice.psi), mix=mix, truncation_layers=choice.truncation_layers)


def images_for(gen, z: torch.Tensor, y: torch.Tensor | None, choice: StyleChoice):
    """(N, H, W, 3) uint8: the faces as the grid and the current face show them."""
    return gen.synthesize(styles_for(gen, z, y, choice))


def render(gen, z: torch.Tensor, y: torch.Tensor | None, choice: StyleChoice, *, kind: str = "sample",
           edits: dict[str, float] | None = None, ncols: int = 1, edit=None):
    """The faces as a ``Rendered`` whose recipe keeps their ws, psi, its layers and the mix (an export's input);
    ``edit`` (a callable on ws, e.g. fitted directions' sliders) moves the styles first, so the recipe keeps them."""
    from faceforge.editing.edits import Rendered

    ws = styles_for(gen, z, y, choice)
    ws = edit(ws) if edit is not None else ws
    fields = choice.recipe_fields(gen)
    return Rendered(gen.synthesize(ws), z, y, ncols=ncols, kind=kind, truncation=fields["truncation"],
                    edits=dict(edits or {}), ws=ws, truncation_layers=fields["truncation_layers"], mix=fields["mix"])


def lerp_styles(ws0: torch.Tensor, ws1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Per-layer linear interpolation of two faces' styles (num_ws, w_dim) at each t (T,): (T, num_ws, w_dim),
    the endpoints exactly. W is roughly flat (the mapping network's output), so a straight line is its geodesic."""
    import torch

    ws0, ws1 = ws0.reshape(1, *ws0.shape[-2:]).float(), ws1.reshape(1, *ws1.shape[-2:]).float()
    t = torch.as_tensor(t, dtype=torch.float32).reshape(-1, 1, 1)
    out = ws0 + t * (ws1 - ws0)
    out[t.reshape(-1) == 0] = ws0[0]
    out[t.reshape(-1) == 1] = ws1[0]
    return out


def interpolate_w(gen, start, end, steps: int = 8):
    """A strip of ``steps`` faces between two ends (each with ``ws``, ``z``, ``y``) by lerping their styles;
    ``z`` and ``y`` of the frames are slerped / lerped for the record only (the recipe rebuilds from ``ws``)."""
    import torch

    from faceforge.editing.edits import Rendered, lerp, slerp

    if steps < 2:
        raise ValueError("an interpolation needs at least 2 steps")
    if start.ws is None or end.ws is None:
        raise ValueError("interpolating in W needs both ends drawn by a model with a W space")
    t = torch.linspace(0.0, 1.0, steps)
    t[0], t[-1] = 0.0, 1.0
    ws = lerp_styles(start.ws, end.ws, t)
    z = slerp(start.z, end.z, t)
    y = lerp(start.y, end.y, t)
    return Rendered(gen.synthesize(ws), z, y, ncols=steps, kind="interpolation-w", ws=ws,
                    columns=[f"{float(v):.2f}" for v in t])


def interpolate_z(gen, start, end, steps: int = 8):
    """For a W model: slerp z (and lerp y) between the ends, each frame drawn with end A's style choice (its psi,
    layers and mix), recording the frames' ws."""
    import torch

    from faceforge.editing.edits import Rendered, lerp, slerp

    if steps < 2:
        raise ValueError("an interpolation needs at least 2 steps")
    t = torch.linspace(0.0, 1.0, steps)
    t[0], t[-1] = 0.0, 1.0
    z = slerp(start.z, end.z, t)
    y = lerp(start.y, end.y, t)
    if gen.conditional and y is None:
        y = gen.make_y(steps)
    choice = start.style or StyleChoice()
    ws = styles_for(gen, z, y, choice)
    fields = choice.recipe_fields(gen)
    return Rendered(gen.synthesize(ws), z, y, ncols=steps, kind="interpolation", truncation=choice.psi, ws=ws,
                    truncation_layers=fields["truncation_layers"], mix=fields["mix"],
                    columns=[f"{float(v):.2f}" for v in t])
