"""The Edit tab: faces from a run's latest checkpoint, one current face edited with attribute sliders, exports with
recipes, interpolation strips and GIFs, the axis-incremental figure, and real photos through the IcGAN encoders.

This container loads the run and holds what the parts share: the generator thread (``EditWorker``), a small task
pool for everything slower (exports, strips, figures, alignment, encoders, refinement; only the core runs there,
errors come back as readable text), and the Qt-free state the parts observe (:mod:`faceforge.editing.state`): the
current face, the photo being edited and the interpolation ends. Untouched attributes stay at the face's own
values (its label row for a sampled face, what E_y read for a photo).

The pane's model is its own: the run shown in the Train tab is only *offered* ("Use the run shown in Train"), and
switching while there is work (a photo, edits, interpolation ends) asks first; the photo is kept and encoded again
for the new model. "Follow training" redraws everything from each new checkpoint of the pane's run, keeping the
seed, the sliders and the photo. "Open recipe…" reopens a face exported here (:mod:`faceforge.editing.recipe_face`).

A model with a W space adds truncation towards the average face by layer range, style mixing from one second face
and interpolation in W (:mod:`faceforge.editing.wspace`; widgets in ``styles_box.py``), all off for other models.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QLabel, QMessageBox, QPushButton, QTabWidget,
                               QVBoxLayout, QWidget)

from faceforge.editing.state import FaceState, InterpolationEnds, PhotoEdit
from faceforge.gui.edit.components import ComponentsTab
from faceforge.gui.edit.controls import FaceControls
from faceforge.gui.edit.current import CurrentFacePanel
from faceforge.gui.edit.directions_box import DirectionsBox
from faceforge.gui.edit.figure import FigureTab
from faceforge.gui.edit.interpolation import InterpolationTab
from faceforge.gui.edit.photo import PhotoTab
from faceforge.gui.edit.shared import dropped_image
from faceforge.gui.edit.samples import SamplesTab
from faceforge.gui.edit.workers import EditWorker, end_styles
from faceforge.gui.errors import readable
from faceforge.gui.tasks import TaskRunner, TaskSlot

FOLLOW_MS = 2000  # how often "Follow training" looks for a newer checkpoint (a directory listing)


class EditPane(QWidget):
    modelLoaded = Signal(dict)
    rendered = Signal()  # the sample grid was redrawn
    faceRendered = Signal()  # the current face was redrawn
    exported = Signal(str)  # a file was written (its path)
    interpolationRendered = Signal()
    figureRendered = Signal()
    photoChanged = Signal(str)  # aligned | failed | encoded | no-encoders | refined | encoders-trained
    statusMessage = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.worker = EditWorker()
        self.worker.loaded.connect(self._on_loaded)
        self.worker.loadFailed.connect(self._on_failed)
        self.worker.renderFailed.connect(self._show_error)
        self.worker.start()
        self.runner = TaskRunner(max_threads=2, parent=self)
        self._end_slots = {which: TaskSlot(self.runner, self) for which in ("A", "B")}  # set_end's styles
        self.photo = PhotoEdit()
        self.face = FaceState(self.photo)
        self.ends = InterpolationEnds()
        self._run: Path | None = None
        self._loaded_run: Path | None = None
        self._offered: Path | None = None  # the run the Train tab shows, if it is not this pane's
        self._loading = False
        self._gen = None
        self.setAcceptDrops(True)
        paste = QShortcut(QKeySequence.StandardKey.Paste, self)  # text fields keep their own Ctrl+V
        paste.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        paste.activated.connect(lambda: self.photo_tab.paste_photo() if self._gen is not None else None)

        self.title = QLabel("No model")
        self.title.setStyleSheet("font-weight: 600; font-size: 12pt")
        self.info = QLabel("Select a run with a checkpoint in the Train tab, or train one first.")
        self.info.setWordWrap(True)
        self.use_shown_button = QPushButton("")
        self.use_shown_button.setToolTip("Edit with the run the Train tab shows (your photo is kept)")
        self.use_shown_button.clicked.connect(lambda: self.use_run(self._offered))
        self.use_shown_button.hide()
        self.open_button = QPushButton("Open run…")
        self.open_button.setToolTip("Choose the run folder this pane edits with")
        self.open_button.clicked.connect(self._open_clicked)
        self.recipe_button = QPushButton("Open recipe…")
        self.recipe_button.setToolTip("Reopen a face exported from this pane (NAME.recipe.json): its checkpoint, "
                                      "seed, truncation, style mix and attributes come back")
        self.recipe_button.clicked.connect(self._open_recipe_clicked)
        self._pending_recipe = None
        self.reload_button = QPushButton("Reload latest checkpoint")
        self.reload_button.clicked.connect(self.reload)
        self.follow = QCheckBox("Follow training")
        self.follow.setToolTip("Redraw the faces and the photo from each new checkpoint of this run, keeping the "
                               "seed, the sliders and the photo")
        self.follow.toggled.connect(self._follow_toggled)
        self._follow_timer = QTimer(self)
        self._follow_timer.setInterval(FOLLOW_MS)
        self._follow_timer.timeout.connect(self.check_for_checkpoint)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        for w in (self.use_shown_button, self.open_button, self.recipe_button, self.reload_button, self.follow):
            head.addWidget(w)

        self.samples = SamplesTab(self.face, self.worker)
        self.grid = self.samples.grid
        self.current = CurrentFacePanel(self.face, self.worker, self.runner)
        self.current.set_a_button.clicked.connect(lambda: self.set_end("A"))
        self.current.set_b_button.clicked.connect(lambda: self.set_end("B"))
        self.photo_tab = PhotoTab(self.photo, self.runner)
        self.photo_tab.export_edit_button.clicked.connect(self.current.export_clicked)
        self.interp_tab = InterpolationTab(self.ends, self.runner)
        self.figure_tab = FigureTab(self.face, self.runner)
        self.components_tab = ComponentsTab(self.face, self.runner)  # SeFa/GANSpace strips to name (issue #17)
        self.controls = FaceControls(self.face)
        self.seed, self.truncation = self.controls.seed, self.controls.truncation
        self.directions = DirectionsBox(self.face, self.runner)  # fitted directions as sliders (issue #17)
        self.directions.status.connect(self.statusMessage)
        self.modes = QTabWidget()
        for tab, name in ((self.samples, "Samples"), (self.photo_tab, "Photo"), (self.interp_tab, "Interpolation"),
                          (self.figure_tab, "Figure"), (self.components_tab, "Components")):
            self.modes.addTab(tab, name)
        for part in (self.current, self.photo_tab, self.interp_tab, self.figure_tab, self.components_tab):
            part.status.connect(self.statusMessage)
        self.components_tab.named.connect(lambda _path: self.directions.refresh())
        for part in (self.current, self.interp_tab, self.figure_tab):
            part.exported.connect(self.exported)
        self.samples.rendered.connect(self.rendered)
        self.current.faceRendered.connect(self._face_rendered)
        self.interp_tab.rendered.connect(self.interpolationRendered)
        self.figure_tab.rendered.connect(self.figureRendered)
        self.photo_tab.changed.connect(self.photoChanged)
        self.photo.observe(lambda change: self.modes.setCurrentWidget(self.photo_tab) if change == "imported" else None)

        body = QHBoxLayout()
        body.addWidget(self.modes, 4)
        body.addWidget(self.current, 3)
        right = QVBoxLayout()
        right.addWidget(self.controls, 3)
        right.addWidget(self.directions, 2)
        body.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.info)
        layout.addLayout(body, 1)
        self._set_enabled(False)

    # ---------------------------------------------------------------- the run
    def set_run(self, path: str | Path | None) -> None:
        """The run to edit with (the user chose it here); loaded when the tab is visible."""
        self._run = Path(path) if path else None
        self._show_offer()
        if self.isVisible() and self._run != self._loaded_run:
            self.reload()

    def offer_run(self, path: str | Path | None) -> None:
        """The run the Train tab now shows. It becomes this pane's run only while the pane has none; otherwise
        a button offers it, so browsing runs in the Train tab never replaces the model an edit uses."""
        self._offered = Path(path) if path else None
        if self._run is None and self._offered is not None:
            self.set_run(self._offered)
        self._show_offer()

    def _show_offer(self) -> None:
        offered = self._offered is not None and self._offered != self._run
        self.use_shown_button.setVisible(offered)
        if offered:
            same_name = self._run is not None and self._run.name == self._offered.name
            name = f"{self._offered.parent.name}/{self._offered.name}" if same_name else self._offered.name
            self.use_shown_button.setText(f"Use {name} (shown in Train)")

    def has_work(self) -> bool:
        """Something the user made here that a new model would change: a photo, moved attribute or direction
        sliders (a latent edit is set only while a direction is off zero), interpolation ends."""
        return self.photo.image is not None or bool(self.face.settings()) or self.face.latent_edit is not None \
            or bool(self.ends.get("A") or self.ends.get("B"))

    def use_run(self, path: str | Path | None) -> bool:
        """Switch this pane to ``path``, asking first when there is work in progress. True if it switched."""
        if path is None or Path(path) == self._run:
            return False
        if self.has_work() and not self.confirm_switch(Path(path)):
            return False
        self.set_run(path)
        return True

    def confirm_switch(self, path: Path) -> bool:
        keep = " The photo is kept and encoded again for the new model." if self.photo.image is not None else ""
        answer = QMessageBox.question(
            self, "Edit with another run?",
            f"Switch the Edit pane from {self._run.name if self._run else 'its run'} to {path.name}? Your slider "
            f"settings and interpolation ends belong to the current model and are dropped.{keep}")
        return answer == QMessageBox.StandardButton.Yes

    def _open_clicked(self) -> None:
        start = str((self._run.parent if self._run else Path.home()))
        folder = QFileDialog.getExistingDirectory(self, "Edit with the run in folder…", start)
        if folder:
            self.use_run(folder)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._run is not None and self._run != self._loaded_run:
            self.reload()
        else:
            self.check_for_checkpoint()

    def reload(self) -> None:
        """Load the run's latest checkpoint; for the run already loaded, as a newer checkpoint (state kept)."""
        if self._run is None:
            return
        same = self._run == self._loaded_run and self._gen is not None
        self._loaded_run = self._run
        self._loading = True
        self.title.setText(self._run.name)
        self.info.setText("Loading the generator…")
        if not same:
            self._set_enabled(False)
        self.worker.load(self._run, follow=same)

    # ---------------------------------------------------------------- following training
    def _follow_toggled(self, on: bool) -> None:
        if on:
            self._follow_timer.start()
            self.check_for_checkpoint()
        else:
            self._follow_timer.stop()

    def check_for_checkpoint(self) -> bool:
        """With "Follow training" on: load the run's newest checkpoint if it is not the one shown."""
        from faceforge.runs import Run

        if not self.follow.isChecked() or self._gen is None or self._loading or self._loaded_run is None \
                or not self.isVisible():  # no work for a tab nobody looks at; showing it catches up
            return False
        latest = Run(self._loaded_run).latest_checkpoint()
        if latest is None or Path(latest) == Path(self._gen.source):
            return False
        self._loading = True
        self.worker.load(self._loaded_run, checkpoint=latest, follow=True)
        return True

    def _on_loaded(self, info: dict) -> None:
        self._loading = False
        self._gen = info.pop("gen", None)
        follow = bool(info.get("follow"))
        if not follow:  # an end still being mapped belongs to the old model
            self._cancel_ends()
        self.title.setText(Path(info["run"]).name)
        self.info.setText(f"{info['model']} · {info['resolution']} px · checkpoint at step {info['step']:,}"
                          + (" · following training" if self.follow.isChecked() else ""))
        for part in (self.samples, self.current):
            part.set_generator(self._gen, self._loaded_run)
        self.controls.set_label_sample(bool(info.get("label_sample")))
        self.controls.styles.set_generator(self._gen)
        self.directions.set_generator(self._gen, self._loaded_run, follow=follow)
        # asks for the sample grid; a newer checkpoint of the same model keeps seed, sliders and current face
        self.face.set_model(info["attributes"], info.get("means"), info.get("scales"), keep=follow,
                            w_space=bool(info.get("w_space")), num_ws=int(info.get("num_ws") or 0))
        for part in (self.photo_tab, self.interp_tab, self.figure_tab, self.components_tab):  # photo encoded anew
            part.set_generator(self._gen, self._loaded_run, follow=follow)
        self._set_enabled(True)
        recipe, self._pending_recipe = self._pending_recipe, None
        if recipe is not None:
            self._restore(recipe)
        self.modelLoaded.emit(info)

    def _on_failed(self, message: str) -> None:
        self._loading = False
        if self._gen is not None and message.startswith("Could not follow"):
            self._show_error(message)  # the model in use stays
            return
        self._gen = None
        self._cancel_ends()
        for part in (self.samples, self.current, self.photo_tab, self.interp_tab, self.figure_tab,
                     self.components_tab):
            part.set_generator(None, None)
        self.controls.styles.set_generator(None)
        self.directions.set_generator(None, None)
        self.info.setText(message)
        self.current.clear()
        self.samples.clear()
        self._set_enabled(False)
        self.statusMessage.emit(message)

    def _show_error(self, message: str) -> None:
        self.info.setText(message)
        self.statusMessage.emit(message)

    def _set_enabled(self, on: bool) -> None:
        for part in (self.controls, self.current, self.photo_tab, self.interp_tab, self.figure_tab, self.directions,
                     self.components_tab):
            part.enable_actions(on)

    def _face_rendered(self) -> None:
        if self.face.showing_photo:
            self.photo_tab.show_edited(self.current.face_image)
        self.faceRendered.emit()

    # ---------------------------------------------------------------- what callers and tests use
    @property
    def images(self) -> np.ndarray | None:
        """The sample grid's faces, (N,H,W,3) uint8, once drawn."""
        return self.face.grid_images

    @property
    def face_image(self) -> np.ndarray | None:
        return self.current.face_image

    def settings(self) -> dict[str, float]:
        """Only the attributes the user moved; the rest stay at the face's own values."""
        return self.face.settings()

    def set_attribute(self, name: str, value: float) -> None:
        self.controls.set_attribute(name, value)

    def reset_attributes(self) -> None:
        self.face.reset_attributes()

    def select_face(self, index: int) -> None:
        """Make cell ``index`` of the sample grid the current face."""
        self.face.select(index)

    def current_latent(self):
        """(z, y, truncation) of the current face with the edits applied, or None."""
        return None if self._gen is None else self.face.latent(self._gen)

    def export_png(self, path: str | Path) -> None:
        self.current.export_png(path)

    def set_end(self, which: str) -> None:
        """Use the current face (with the edits) as end ``A`` or ``B``: without W the truncation folded into z;
        with W its own z and its styles as shown (truncated, mixed), which an interpolation in W blends. The
        styles are mapped on the task pool, one slot per end: A then B at once sets both, A twice keeps the last."""
        latent = self.current_latent()
        if latent is None:
            return
        z, y, trunc = latent
        y_end, image = None if y is None else y.reshape(-1), self.face_image
        edit = self.face.latent_edit  # the fitted directions' sliders: the end is the face as shown
        self.modes.setCurrentWidget(self.interp_tab)
        if z.dim() == 3:  # a photo's W+ code keeps its shape (w_codes.py)
            self.ends.set(which, edit(z) if edit is not None else z, y_end, image=image)
            return
        style = self.face.style()
        if style is not None and self._gen.w_space:
            self._end_slots[which].start(
                f"interpolation end {which}", end_styles, self._gen, z, y, style, edit,
                on_done=lambda ws: self.ends.set(which, z.reshape(-1), y_end, image=image, ws=ws, style=style),
                on_failed=lambda exc: self._show_error(f"Could not set end {which}: {readable(exc)}"))
            return
        self.ends.set(which, (edit(z) if edit is not None else z).reshape(-1) * float(trunc), y_end, image=image)

    def _cancel_ends(self) -> None:
        for slot in self._end_slots.values():
            slot.cancel()

    def _open_recipe_clicked(self) -> None:
        start = str(self._run or Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open a recipe", start, "Recipes (*.recipe.json);;JSON (*.json)")
        if path:
            self.open_recipe(path)

    def open_recipe(self, path: str | Path) -> bool:
        """Reopen an exported face: its checkpoint is loaded (this pane's model changes only if it differs, as
        Open run… does), then seed, truncation, mix and attributes are set and its cell becomes the current face
        (:mod:`faceforge.editing.recipe_face`). False with a message when the recipe cannot be opened here."""
        from faceforge.editing.recipe_face import restorable
        from faceforge.recipes import Recipe

        try:
            recipe = Recipe.load(Path(path))
        except ValueError as exc:
            self._show_error(str(exc))
            return False
        why = restorable(recipe)
        if why is None and not Path(recipe.checkpoint).exists():
            why = f"the recipe's checkpoint {recipe.checkpoint} no longer exists"
        if why is not None:
            self._show_error(f"Cannot open {Path(path).name}: {why}")
            return False
        checkpoint = Path(recipe.checkpoint).resolve()
        if self._gen is not None and Path(self._gen.source).resolve() == checkpoint:
            self._restore(recipe)
            return True
        run = Path(recipe.run) if recipe.run else checkpoint.parent.parent
        if self.has_work() and run != self._run and not self.confirm_switch(run):
            return False
        self._run = self._loaded_run = run
        self._show_offer()
        self._pending_recipe = recipe
        self._loading = True
        self.title.setText(run.name)
        self.info.setText("Loading the recipe's checkpoint…")
        self._set_enabled(False)
        self.worker.load(run, checkpoint=checkpoint)
        return True

    def _restore(self, recipe) -> None:
        """The recipe's settings back; its fitted-direction sliders too where its directions file is the run's
        (same SHA-256), else the status line says which were not restored and why."""
        from faceforge.editing.recipe_face import check_restore, restore_face

        try:
            check_restore(self.face, recipe)
        except ValueError as exc:
            self._show_error(str(exc))
            return
        problems = self.directions.restore_recipe(recipe)
        restore_face(self.face, recipe, latent_edit=self.face.latent_edit)
        self.modes.setCurrentWidget(self.samples)
        message = f"Opened the recipe of seed {recipe.seed}'s face"
        if problems:
            message += "; not restored, so the face is drawn without them: " + "; ".join(problems)
            self.directions.message.setText("Not restored from the recipe: " + "; ".join(problems))
        self.statusMessage.emit(message)

    def import_photo(self, path: str | Path) -> None:
        self.photo_tab.import_photo(path)

    # ---------------------------------------------------------------- drops and lifetime
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if dropped_image(event.mimeData()) is not None and self._gen is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        path = dropped_image(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.photo_tab.import_photo(path)

    def shutdown(self) -> None:
        self._follow_timer.stop()
        self.samples.shutdown()
        self.current.shutdown()
        self.photo_tab.shutdown()
        self.components_tab.shutdown()
        self.runner.shutdown()
        self.worker.shutdown()
