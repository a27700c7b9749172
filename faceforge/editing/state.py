"""What the Edit studio is working on, without Qt: the current face, the photo being edited, the interpolation ends.

The GUI's widgets write to these objects and observe them (plain callbacks, called with the name of what
changed), so the rules -- which attributes count as edited, what becomes of a photo's encoding when the photo is
re-aligned or replaced, when an interpolation has both ends -- live here and are tested without a display. Values
are numbers, numpy images and torch latents; nothing here renders.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from faceforge.data.label_scales import IDENTITY, LabelScale
from faceforge.editing.wspace import ALL_LAYERS, MixSource, StyleChoice, check_layers

Observer = Callable[[str], None]
PHOTO_STATES = ("empty", "imported", "aligned", "encoded", "refined")
Z_TRUNCATION = (0.1, 1.5)  # a model without W scales z by this much at most (the slider's range)


class Observable:
    """Callbacks told the name of each change, in the order they subscribed."""

    def __init__(self) -> None:
        self._observers: list[Observer] = []

    def observe(self, callback: Observer) -> None:
        self._observers.append(callback)

    def notify(self, change: str) -> None:
        for callback in list(self._observers):
            callback(change)


class AttributeEdits:
    """The attribute values of one face. Every attribute has a value (the face's own until moved); only the moved
    ones are edits, so a render leaves the others at what the face already has (E_y's reading of a photo, say)."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        self.touched: set[str] = set()

    def place(self, values: dict[str, float]) -> None:
        """All values at once (the face's own): nothing counts as edited."""
        self.values = {name: float(v) for name, v in values.items()}
        self.touched.clear()

    def set(self, name: str, value: float) -> None:
        if name not in self.values:
            raise KeyError(f"no attribute {name!r}")
        self.values[name] = float(value)
        self.touched.add(name)

    def refresh(self, values: dict[str, float]) -> None:
        """The face's own values changed (another cell, a new grid): the untouched attributes follow them, the
        ones the user set keep the user's value."""
        for name, v in values.items():
            if name not in self.touched:
                self.values[name] = float(v)

    def settings(self) -> dict[str, float]:
        """Only the attributes the user moved."""
        return {name: v for name, v in self.values.items() if name in self.touched}

    def is_estimate(self, name: str) -> bool:
        """Still the face's own value (for a photo: E_y's guess), not one the user set."""
        return name not in self.touched


class PhotoEdit(Observable):
    """A real photo on its way to being edited: ``state`` goes imported -> aligned (the crop the model sees) ->
    encoded (z, y and their reconstruction) -> refined. A new image, or aligning again, drops what was derived
    from the old crop, edits included; refining keeps the edits (the sliders still mean the same thing).

    ``generator_step`` is the step of the generator the latent was made for. When the generator moves on (the
    Edit pane follows a training run) the latent stays and its reconstruction is redrawn by the new generator:
    ``stale`` says E_z/refinement fitted an older G, until the photo is refined or encoded again.

    Changes: ``imported``, ``cleared``, ``aligned``, ``encoded``, ``refined``, ``regenerated``."""

    def __init__(self) -> None:
        super().__init__()
        self.image: np.ndarray | None = None
        self.name = "the photo"
        self.state = "empty"
        self._drop_results()

    def _drop_results(self) -> None:
        self.aligned: np.ndarray | None = None
        self.z: Any = None
        self.y: Any = None
        self.reconstruction: np.ndarray | None = None
        self.generator_step: int | None = None
        self.stale = False
        self.reliability: dict = {}  # E_y's held-out score per attribute (empty: unknown)
        self.edits = AttributeEdits()

    @property
    def encoded(self) -> bool:
        return self.state in ("encoded", "refined")

    def set_image(self, image: np.ndarray, name: str = "the photo") -> None:
        self.image = np.asarray(image, np.uint8)
        self.name = name
        self._drop_results()
        self.state = "imported"
        self.notify("imported")

    def clear_results(self) -> None:
        """Back to the bare image (before aligning it again, or for a new model)."""
        self._drop_results()
        self.state = "imported" if self.image is not None else "empty"
        self.notify("cleared")

    def set_aligned(self, aligned: np.ndarray) -> None:
        if self.image is None:
            raise ValueError("there is no photo to align")
        self._drop_results()
        self.aligned = np.asarray(aligned, np.uint8)
        self.state = "aligned"
        self.notify("aligned")

    def set_encoded(self, z, y, reconstruction: np.ndarray, generator_step: int | None = None,
                    reliability: dict | None = None) -> None:
        if self.aligned is None:
            raise ValueError("only an aligned photo can be encoded")
        self.z, self.y, self.reconstruction = z, y, reconstruction
        self.reliability = dict(reliability or {})
        self.generator_step, self.stale = generator_step, False
        self.edits = AttributeEdits()
        self.state = "encoded"
        self.notify("encoded")

    def set_refined(self, z, y, reconstruction: np.ndarray, generator_step: int | None = None) -> None:
        if not self.encoded:
            raise ValueError("only an encoded photo can be refined")
        self.z, self.y, self.reconstruction = z, y, reconstruction
        self.generator_step, self.stale = generator_step, False
        self.state = "refined"
        self.notify("refined")

    def regenerate(self, reconstruction: np.ndarray, generator_step: int) -> None:
        """The same latent drawn by a newer generator: kept, with its edits, but stale until refined."""
        if not self.encoded:
            raise ValueError("only an encoded photo can be redrawn")
        self.reconstruction = reconstruction
        self.stale = generator_step != self.generator_step
        self.notify("regenerated")


class FaceState(Observable):
    """The current face: a cell of the sample grid (seed, index, that grid's z and y, truncation) or the encoded
    photo, and its attribute values. A photo becomes the current face when it is encoded and stops being it when
    its encoding goes (or another face is picked); a sampled face starts at its own label row (``labels="data"``:
    drawn from the training labels; ``"mean"``: the data's mean). Values are in each attribute's units (years
    for an age column); latents are on the network's scale.

    A model with a W space (``w_space``) also has a style choice for sampled faces (:mod:`faceforge.editing.wspace`):
    ``truncation`` is then psi towards w_avg (0..1) at ``truncation_layers``, and ``mix`` a second face whose styles
    the named layers take. Without W, truncation scales z (0.1..1.5) and there is no mixing.

    Changes: ``model`` (new attributes), ``refreshed`` (a newer checkpoint of the same model: nothing reset),
    ``seed``, ``truncation`` (psi or its layers), ``mix`` (source, layers or cleared), ``labels``, ``attribute`` (one
    moved), ``direction`` (the latent edit changed), ``reset`` (values put back), ``face`` (another face is current; the values are its own), ``grid`` (a new
    sample grid)."""

    def __init__(self, photo: PhotoEdit | None = None) -> None:
        super().__init__()
        self.photo = photo if photo is not None else PhotoEdit()
        self.photo.observe(self._photo_changed)
        self.attributes: list[str] = []
        self.neutral: dict[str, float] = {}
        self.seed = 0
        self.truncation = 1.0
        self.index = 0
        self.grid_images: np.ndarray | None = None
        self.grid_z: Any = None
        self.grid_y: Any = None  # (N, A) each cell's own label row, network scale (before any edit)
        self.labels = "data"
        self.scales: dict[str, LabelScale] = {}
        self.showing_photo = False
        self.sample_edits = AttributeEdits()
        self.w_space = False
        self.num_ws = 0
        self.truncation_layers = ALL_LAYERS
        self.mix: MixSource | None = None
        self.mix_layers = "coarse"  # the layers a style source gives (chosen before or after picking one)
        self.pending_z = None  # a recipe's z: the next grid makes its cell current (editing/recipe_face.py)
        self.latent_edit = None  # a frozen callable on z or ws with .record() (fitted directions), or None

    @property
    def edits(self) -> AttributeEdits:
        return self.photo.edits if self.showing_photo else self.sample_edits

    def settings(self) -> dict[str, float]:
        return self.edits.settings()

    def set_model(self, attributes: list[str], means: list[float] | None = None,
                  scales: dict[str, LabelScale] | None = None, *, keep: bool = False, w_space: bool = False,
                  num_ws: int = 0) -> None:
        """A loaded generator: its attributes, neutral at the data's means (given on the network's scale), and
        how each maps to units. ``keep`` (a newer checkpoint of the same model): seed, sliders, the current face
        and the photo stay, and only what the generator draws is to be redrawn (``refreshed``); otherwise the
        grid is to be drawn anew (``model``). ``w_space``/``num_ws``: the model's styles; another model drops the
        mix and the truncation layers (they name its layers), and psi stays within 0..1."""
        if not (keep and w_space == self.w_space and num_ws == self.num_ws):
            self.mix, self.truncation_layers, self.mix_layers = None, ALL_LAYERS, "coarse"
        self.w_space, self.num_ws = bool(w_space), int(num_ws) if w_space else 0
        if self.w_space:
            self.truncation = min(1.0, max(0.0, self.truncation))
        else:
            self.truncation = min(Z_TRUNCATION[1], max(Z_TRUNCATION[0], self.truncation))
        self.scales = dict(scales or {})
        self.neutral = {name: self.to_units(name, means[i]) if means and i < len(means) else 0.0
                        for i, name in enumerate(attributes)}
        if keep and list(attributes) == self.attributes:
            self.notify("refreshed")
            return
        self.attributes = list(attributes)
        self.index, self.grid_images, self.grid_z, self.grid_y, self.showing_photo = 0, None, None, None, False
        self.sample_edits.place(self.neutral)
        self.notify("model")

    def to_units(self, name: str, value: float) -> float:
        return float(self.scales.get(name, IDENTITY).to_units(value))

    def row_values(self, row) -> dict[str, float]:
        """A label row on the network's scale -> {attribute: value in units}."""
        return {name: self.to_units(name, v) for name, v in zip(self.attributes, np.asarray(row).reshape(-1))}

    def cell_values(self) -> dict[str, float]:
        """The current grid cell's own attributes in units (its label row, or the neutral values)."""
        if self.grid_y is None or not 0 <= self.index < len(self.grid_y):
            return dict(self.neutral)
        return self.row_values(self.grid_y[self.index])

    def set_labels(self, labels: str) -> None:
        """Default attributes of sampled faces: ``data`` (label rows by seed) or ``mean``."""
        if labels != self.labels:
            self.labels = labels
            self.notify("labels")

    def set_seed(self, seed: int) -> None:
        self.seed = int(seed)
        self.notify("seed")

    def set_truncation(self, truncation: float) -> None:
        self.truncation = float(truncation)
        self.notify("truncation")

    def set_truncation_layers(self, layers: str) -> None:
        """The layers psi applies to ("all", "coarse", "middle", "fine", "a-b"); ValueError for a range this
        model does not have (nothing changes)."""
        self._need_w("truncation by layer")
        self.truncation_layers = check_layers(layers, self.num_ws, allow_all=True)
        self.notify("truncation")

    def set_mix_source(self, z, seed: int, index: int = 0, image: np.ndarray | None = None) -> None:
        """The second face of style mixing (its z (1, z_dim)), keeping the layers chosen so far."""
        self._need_w("style mixing")
        if image is None and int(seed) == self.seed and self.grid_images is not None \
                and 0 <= int(index) < len(self.grid_images):
            image = self.grid_images[int(index)]  # a cell of the grid on screen: its picture
        self.mix = MixSource(z=z.reshape(1, -1).clone(), seed=int(seed), index=int(index), layers=self.mix_layers,
                             image=image)
        self.notify("mix")

    def use_current_as_mix_source(self) -> bool:
        """The current grid cell (unmixed) becomes the style source; False for a photo or before a grid."""
        if self.showing_photo or self.grid_z is None:
            return False
        image = None if self.grid_images is None else self.grid_images[self.index]
        self.set_mix_source(self.grid_z[self.index: self.index + 1], self.seed, self.index, image)
        return True

    def set_mix_layers(self, layers: str) -> None:
        """The layers the style source gives; ValueError for a range this model does not have."""
        self._need_w("style mixing")
        self.mix_layers = check_layers(layers, self.num_ws, allow_all=False)
        if self.mix is not None:
            self.mix = replace(self.mix, layers=self.mix_layers)
            self.notify("mix")

    def clear_mix(self) -> None:
        if self.mix is not None:
            self.mix = None
            self.notify("mix")

    def style(self) -> StyleChoice | None:
        """How a W model draws the current face: the photo as encoded (plain), a sampled face with psi, its layers
        and the mix; None for a model without W."""
        if not self.w_space:
            return None
        if self.showing_photo:
            return StyleChoice()
        return StyleChoice(psi=self.truncation, truncation_layers=self.truncation_layers, mix=self.mix)

    def _need_w(self, what: str) -> None:
        if not self.w_space:
            raise ValueError(f"{what} needs a model with a W space")

    def set_attribute(self, name: str, value: float) -> None:
        self.edits.set(name, value)
        self.notify("attribute")

    def set_latent_edit(self, edit) -> None:
        """An edit applied to every face's latents before drawing (z, or a W model's styles), e.g. the fitted
        directions' sliders (:mod:`faceforge.directions.sliders`); ``edit.record()`` goes into exports' recipes."""
        self.latent_edit = edit
        self.notify("direction")

    def reset_attributes(self) -> None:
        self.edits.place(self.photo_values() if self.showing_photo else self.cell_values())
        self.notify("reset")

    def photo_values(self) -> dict[str, float]:
        """What E_y read from the photo, per attribute in units (the neutral values when the model has none)."""
        if self.photo.y is None:
            return dict(self.neutral)
        return self.row_values(self.photo.y)

    def set_grid(self, images: np.ndarray, z, y=None) -> None:
        """A new sample grid: cells, their z and their own label rows (network scale, before edits)."""
        self.grid_images, self.grid_z, self.grid_y = images, z, y
        wanted = self.pending_z
        if wanted is not None and not self.showing_photo:  # a recipe's face: the cell whose z it is, once it comes
            rows = [i for i in range(len(images))  # close, not equal: a z recipe's moved z less its step
                    if np.asarray(z[i]).size == wanted.size
                    and np.allclose(np.asarray(z[i]).reshape(-1), wanted, rtol=0.0, atol=1e-5)]
            if rows:
                self.index, self.pending_z = rows[0], None
            else:
                wanted = None
        if not self.showing_photo:
            self.sample_edits.refresh(self.cell_values())
        self.notify("grid")
        if wanted is not None:
            self.notify("face")

    def select(self, index: int) -> bool:
        """Make cell ``index`` of the grid the current face (a photo being shown gives way); False if no such cell.
        The attributes the user set stay set; the others take the cell's own values."""
        if self.grid_images is None or not 0 <= index < len(self.grid_images):
            return False
        self.index, self.pending_z = index, None
        if self.showing_photo:
            self.showing_photo = False
            self.sample_edits.place(self.cell_values())
        else:
            self.sample_edits.refresh(self.cell_values())
        self.notify("face")
        return True

    def _photo_changed(self, change: str) -> None:
        if change == "encoded":
            self.showing_photo = True
            self.photo.edits.place(self.photo_values())
            self.notify("face")
        elif change in ("refined", "regenerated"):
            if self.showing_photo:
                self.notify("face")
        elif self.showing_photo:  # its encoding is gone: back to the sampled face
            self.showing_photo = False
            self.sample_edits.place(self.cell_values())
            self.notify("face")

    def latent(self, gen) -> tuple[Any, Any, float] | None:
        """(z (1, z_dim), y (1, A) or None, truncation) of the current face with the edits applied: the photo's own
        latent at truncation 1, or the grid cell's z at the chosen truncation; None before there is a face."""
        if self.showing_photo:
            z = self.photo.z if self.photo.z.dim() == 3 else self.photo.z.reshape(1, -1)  # a W+ code, or z
            base, truncation = self.photo.y, 1.0
        elif self.grid_z is None:
            return None
        else:
            z, truncation = self.grid_z[self.index: self.index + 1], self.truncation
            base = None if self.grid_y is None else self.grid_y[self.index: self.index + 1]
        y = gen.make_y(1, self.settings(), base=None if base is None else base.reshape(1, -1))
        return z, y, truncation


@dataclass(frozen=True)
class End:
    """One end of an interpolation: the latent and the picture of it. Without W the truncation is folded into z;
    with W, z is the face's own and ``ws`` its styles as shown (truncated and mixed by ``style``)."""

    z: Any
    y: Any
    image: np.ndarray | None = None
    ws: Any = None
    style: StyleChoice | None = None

    @property
    def latent(self) -> tuple[Any, Any]:
        return self.z, self.y


class InterpolationEnds(Observable):
    """Ends ``A`` and ``B`` of the interpolation. Changes: ``set``, ``swapped``, ``cleared``."""

    def __init__(self) -> None:
        super().__init__()
        self._ends: dict[str, End] = {}

    def set(self, which: str, z, y, image: np.ndarray | None = None, *, ws=None,
            style: StyleChoice | None = None) -> None:
        if which not in ("A", "B"):
            raise ValueError(f"an interpolation end is 'A' or 'B', not {which!r}")
        self._ends[which] = End(z, y, image, ws, style)
        self.notify("set")

    def get(self, which: str) -> End | None:
        return self._ends.get(which)

    @property
    def complete(self) -> bool:
        return "A" in self._ends and "B" in self._ends

    def swap(self) -> None:
        if not self._ends:
            return
        swapped = {"A": self._ends.get("B"), "B": self._ends.get("A")}
        self._ends = {which: end for which, end in swapped.items() if end is not None}
        self.notify("swapped")

    def clear(self) -> None:
        self._ends.clear()
        self.notify("cleared")
