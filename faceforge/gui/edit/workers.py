"""The Edit pane's generator thread, and the plain functions its background tasks run.

``EditWorker`` owns the loaded generator on one thread and serves two kinds of "latest wins" requests: the grid
of sample faces (the full generator) and the single current face while a slider is dragged (``FastRenderer``, one
intra-op thread). A face request always goes before a pending grid, and a newer request of a kind replaces the
pending one, so nothing stale is ever queued. Signals carry dicts, tensors and numpy arrays only; QImages are made
on the GUI thread. The task functions below run on the pane's ``TaskRunner`` pool and only call the core.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThread, Signal

from faceforge.gui.errors import log_exception, readable

log = logging.getLogger(__name__)


class EditWorker(QThread):
    loaded = Signal(object)  # dict: attributes, step, resolution, model, run, means, gen, checkpoint, follow
    loadFailed = Signal(str)
    rendered = Signal(int, object, object, object)  # request id, (N,H,W,3) uint8, z (N, z_dim), base y (N, A)
    faceRendered = Signal(int, object)  # request id, (H,W,3) uint8
    renderFailed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._cond = threading.Condition()
        self._load_path: Path | None = None
        self._load_checkpoint: Path | None = None  # a specific checkpoint (following training), else the latest
        self._load_follow = False
        self._grid: tuple[int, dict[str, Any]] | None = None
        self._face: tuple[int, dict[str, Any]] | None = None
        self._quit = False
        self._next_id = 0
        self.generator = None
        self.renderer = None

    # ---------------------------------------------------------------- any thread
    def load(self, run_dir: Path, *, checkpoint: Path | None = None, follow: bool = False) -> None:
        """Load the run's latest checkpoint (or ``checkpoint``); ``follow`` marks a newer checkpoint of the model
        already shown, which keeps the pane's state."""
        with self._cond:
            self._load_path = Path(run_dir)
            self._load_checkpoint, self._load_follow = checkpoint, follow
            self._grid = self._face = None
            self._cond.notify_all()

    def request(self, *, seed: int, n: int, settings: dict[str, float] | None = None,
                truncation: float = 1.0, labels: str = "mean", style=None, edit=None) -> int:
        """A grid; ``style`` (a W model's StyleChoice) draws it with psi, its layers and the mix; ``edit`` (a
        frozen callable, e.g. directions/sliders.py's LatentEdit) moves every face's z or styles."""
        with self._cond:
            self._next_id += 1
            self._grid = (self._next_id, {"seed": seed, "n": n, "settings": dict(settings or {}),
                                          "truncation": truncation, "labels": labels, "style": style,
                                          "edit": edit})
            self._cond.notify_all()
            return self._next_id

    def request_face(self, z, y, truncation: float = 1.0, style=None, edit=None) -> int:
        """The current face; ``style`` (a W model): drawn from its styles by the loaded generator, not the
        FastRenderer (which only knows G(z, y))."""
        with self._cond:
            self._next_id += 1
            self._face = (self._next_id, {"z": z, "y": y, "truncation": truncation, "style": style,
                                          "edit": edit})
            self._cond.notify_all()
            return self._next_id

    def shutdown(self, timeout_ms: int = 5000) -> None:
        with self._cond:
            self._quit = True
            self._cond.notify_all()
        self.wait(timeout_ms)

    # ---------------------------------------------------------------- worker thread
    def run(self) -> None:
        import torch

        torch.set_num_threads(1)  # interactive renders: one thread each, the GUI and training keep the others
        while True:
            with self._cond:
                while not self._quit and self._load_path is None and self._grid is None and self._face is None:
                    self._cond.wait()
                if self._quit:
                    return
                load_path, self._load_path = self._load_path, None
                load_args = {"checkpoint": self._load_checkpoint, "follow": self._load_follow}
                face = grid = None
                if load_path is None:
                    if self._face is not None:
                        face, self._face = self._face, None
                    else:
                        grid, self._grid = self._grid, None
            if load_path is not None:
                self._load(load_path, **load_args)
            elif face is not None:
                self._render_face(*face)
            elif grid is not None:
                self._render_grid(*grid)

    def _load(self, path: Path, *, checkpoint: Path | None = None, follow: bool = False) -> None:
        from faceforge.editing import LoadedGenerator
        from faceforge.editing.edits import FastRenderer

        try:
            gen = LoadedGenerator.from_checkpoint(checkpoint) if checkpoint else LoadedGenerator.from_run(path)
            renderer = FastRenderer(gen.G, threads=1)
        except Exception as exc:  # noqa: BLE001 - report, keep the thread alive
            log_exception(exc, f"loading generator from {path}")
            if not follow:  # a newer checkpoint that fails to load leaves the one in use working
                self.generator = self.renderer = None
            self.loadFailed.emit(("Could not follow to the newer checkpoint: " if follow else "") + readable(exc))
            return
        self.generator, self.renderer = gen, renderer
        self.loaded.emit({"attributes": list(gen.attributes), "step": gen.step, "resolution": gen.resolution,
                          "model": gen.config.model.name, "run": str(path), "gen": gen, "follow": follow,
                          "checkpoint": gen.source, "scales": dict(gen.scales or {}),
                          "label_sample": gen.has_label_sample, "w_space": gen.w_space, "num_ws": gen.num_ws,
                          "means": None if gen.attribute_means is None else gen.attribute_means.numpy().tolist()})

    def _render_grid(self, request_id: int, req: dict[str, Any]) -> None:
        gen = self.generator
        if gen is None:
            return
        try:
            from faceforge.editing import seeded_z

            base = gen.default_y(req["n"], seed=req["seed"], labels=req["labels"])
            z = seeded_z(req["seed"], req["n"], gen.z_dim)
            y = gen.make_y(req["n"], req["settings"], base=base)
            images = _draw(gen, z, y, req)
        except Exception as exc:  # noqa: BLE001
            log_exception(exc, "rendering samples")
            self.renderFailed.emit(readable(exc))
            return
        self.rendered.emit(request_id, images, z, base)

    def _render_face(self, request_id: int, req: dict[str, Any]) -> None:
        if self.renderer is None:
            return
        try:
            gen = self.generator
            if req.get("style") is not None and gen is not None and gen.w_space:
                image = _draw(gen, req["z"], req["y"], req)[0]
            else:
                z = req["edit"](req["z"]) if req.get("edit") is not None else req["z"]
                image = self.renderer(z, req["y"], truncation=req["truncation"])[0]
        except Exception as exc:  # noqa: BLE001
            log_exception(exc, "rendering the current face")
            self.renderFailed.emit(readable(exc))
            return
        self.faceRendered.emit(request_id, image)


def _draw(gen, z, y, req: dict[str, Any]):
    """Faces (N,H,W,3) for a request: a W model from its styles (psi, layers, mix), others G(z, y) with z scaled by
    the truncation; ``req["edit"]`` (if any) moves the styles, or z before the scaling."""
    edit = req.get("edit")
    if req.get("style") is not None and gen.w_space:
        from faceforge.editing.wspace import styles_for

        ws = styles_for(gen, z, y, req["style"])
        return gen.synthesize(edit(ws) if edit is not None else ws)
    return gen.images(edit(z) if edit is not None else z, y, truncation=req["truncation"])


# ------------------------------------------------------------------------------------------- task functions
def end_styles(gen, z, y, style, edit=None):
    """An interpolation end's styles (num_ws, w_dim): the face's z and y through the mapping, psi, its layers and
    the mix, moved by ``edit`` (the directions' sliders) as the face shown is (the pane's set_end, on the pool:
    never the generator on the GUI thread)."""
    from faceforge.editing.wspace import styles_for

    ws = styles_for(gen, z, y, style)
    return (edit(ws) if edit is not None else ws)[0]


def export_face(gen, z, y, truncation: float, settings: dict[str, float], path: Path, *, run=None, seed=None,
                kind: str = "edit", scale: int = 1, labels: str | None = None, sheet=None, style=None,
                edit=None) -> Path:
    """The current face through the full generator (what ``faceforge generate --recipe`` runs), plus its recipe,
    ``scale`` times its native size. ``style`` (a W model's StyleChoice): drawn from the styles it makes, which the
    recipe keeps with psi, its layers and the mix. ``sheet`` (photo edits: the aligned photo and its
    reconstruction) also writes NAME-sheet.png, original | reconstruction | edited with captions, for people."""
    from faceforge.editing.edits import Rendered, export
    from faceforge.editing.sheets import before_after_sheet, sheet_path

    edits = {**settings, **(edit.record() if edit is not None else {})}  # "dir:NAME": amount in spreads
    if style is not None and gen.w_space:
        from faceforge.editing.wspace import render

        rendered = render(gen, z, y, style, kind=kind, edits=edits, edit=edit)
    else:
        z = edit(z) if edit is not None else z  # the recipe keeps the moved z
        rendered = Rendered(gen.images(z, y, truncation=truncation), z, y, ncols=1, kind=kind,
                            truncation=truncation, edits=edits)
    if edit is not None and hasattr(edit, "source"):  # which directions files moved it (recipes.py)
        rendered.directions = edit.source()
    images = rendered.images
    path = export(rendered, Path(path), gen, run=run, seed=seed, scale=scale, labels=labels)
    if sheet is not None:
        from faceforge.imaging import write_png

        aligned, reconstruction = sheet
        write_png(sheet_path(path), before_after_sheet(aligned, reconstruction, images[0], scale=max(2, scale),
                                                       edits=edits))
    return path


def render_interpolation(gen, a, b, steps: int, truncation: float, space: str = "z"):
    """``a``, ``b``: the ends (``state.End``). A W model: lerp the ends' styles (``space="w"``) or slerp z with end
    A's style choice; other models: slerp z, truncation folded into the ends."""
    from faceforge.editing.edits import interpolate

    if gen.w_space and a.ws is not None and b.ws is not None:
        from faceforge.editing.wspace import interpolate_w, interpolate_z

        return (interpolate_w if space == "w" else interpolate_z)(gen, a, b, steps)
    return interpolate(gen, a.latent, b.latent, steps, truncation=truncation)


def save_interpolation(gen, rendered, path: Path, *, run=None, scale: int = 1) -> Path:
    """GIF, MP4 (H.264) or PNG strip by the suffix, each with its recipe."""
    from faceforge.editing.edits import export, save_gif, save_mp4

    path = Path(path)
    if path.suffix.lower() == ".gif":
        return save_gif(rendered.images, path, scale=scale, recipe=rendered.recipe(gen, run=run))
    if path.suffix.lower() == ".mp4":
        return save_mp4(rendered.images, path, scale=scale, recipe=rendered.recipe(gen, run=run))
    return export(rendered, path, gen, run=run, scale=scale)


def render_axis_figure(gen, path: Path | None, *, n_faces: int, seed: int, attributes, values, truncation: float,
                       run=None, labels: str = "mean"):
    """The figure for the pane's seed; each face's other attributes as the grid's (``labels``); ``values`` None:
    each attribute's own (binary -1, 0, +1; continuous low, mean, high in units)."""
    from faceforge.editing.edits import axis_incremental, export, save_png

    y = gen.default_y(n_faces, seed=seed, labels=labels)
    rendered = axis_incremental(gen, n_faces=n_faces, seed=seed, attributes=attributes, values=values,
                                truncation=truncation, y=y)
    labelled = rendered.labelled_image  # made here, off the GUI thread, which shows it
    if path is not None:  # NAME.png (+ recipe) and NAME-labelled.png with the column headings, enlarged
        path = Path(path)
        export(rendered, path, gen, run=run, seed=seed, labels=labels if gen.conditional else None)
        save_png(path.with_name(path.stem + "-labelled.png"), labelled)
    return rendered


def align_photo(image, resolution: int, data, face: int | None = None):
    from faceforge.editing.align import align_face
    from faceforge.editing.templates import template_for_data

    return align_face(image, resolution=resolution, template=template_for_data(data), face=face)


def encode_photo(gen, run: Path, aligned) -> dict[str, Any]:
    """Encode with the run's encoders for this generator (a W+ encoder for a model with W). A run without encoders
    is the ordinary first visit, not an error: the result says ``missing`` (and nothing is logged)."""
    from faceforge.editing import photo_latents

    if not photo_latents.has_encoders(run):
        return {"missing": True}
    enc = photo_latents.load(run, gen=gen)
    z, y = photo_latents.encode(gen, enc, aligned)
    return {"z": z, "y": y, "reconstruction": gen.images(z, y)[0], "encoder_step": enc.generator_step,
            "reliability": dict(enc.reliability or {})}


def redraw_photo(gen, z, y) -> Any:
    """The photo's latent drawn by another generator (following training)."""
    return gen.images(z, y)[0]


def measure_encoder_step(gen, batch_size: int) -> float:
    from faceforge.editing import photo_latents
    from faceforge.gui.workers import lower_this_thread_priority

    lower_this_thread_priority()
    return photo_latents.measure_step_seconds(gen, batch_size=batch_size)


def train_run_encoders(run: Path, gen, steps: int, batch_size: int, *, state):
    from faceforge.editing import photo_latents
    from faceforge.gui.workers import lower_this_thread_priority

    lower_this_thread_priority()  # minutes of work on a pool thread: the window goes first (Linux)

    def progress(event: dict[str, Any]) -> None:
        if event.get("kind") == "stats":
            state.set_progress(int(event.get("step", 0)), steps)

    return photo_latents.train(run, steps=steps, batch_size=batch_size, gen=gen, progress=progress,
                               should_stop=state.should_stop)


def refine_photo(gen, aligned, z, y, steps: int, stop: threading.Event, *, state) -> dict[str, Any]:
    """Latent refinement (projection in W+ for a model with W); ``stop`` ends it early and keeps the best so far (a
    task cancel drops the result)."""
    from faceforge.editing.photo_latents import refine
    from faceforge.gui.workers import lower_this_thread_priority

    lower_this_thread_priority()  # the sliders stay smooth while it runs (Linux)

    def progress(event: dict[str, Any]) -> None:
        state.set_progress(int(event.get("step", 0)), int(event.get("total_steps", steps)))

    z, y = refine(gen, aligned, z, y, steps=steps, progress=progress,
                  should_stop=lambda: stop.is_set() or state.should_stop())
    return {"z": z, "y": y, "reconstruction": gen.images(z, y)[0], "generator_step": gen.step}
