"""The Data faces tab: a table's rows drawn as faces by a run's own generator (Chernoff faces, issue #18).

Open a CSV/TSV (the example table, R's USJudgeRatings, is open on first use so the pane is never empty), choose a
run, choose which column drives which feature (or "Automatic": by variance or by correlation with a column), and
the grid redraws: captions under the faces, raw values as tooltips, a click shows the row; the legend shows each
mapped column's min, middle and max face. Export writes PNG, SVG or PDF with a recipe beside it.

All the rules are the core's (:mod:`faceforge.chernoff`); this pane holds the choices. Loading a run, rendering
and exporting run on the pane's task pool (one of each at a time: a newer request cancels the older and its late
result is dropped). A run with neither conditional attributes nor fitted directions gets a message and a button
that fits directions (the Edit pane's ``fit_in_background``, with progress and Cancel).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QScrollArea, QSpinBox, QSplitter, QStackedWidget, QVBoxLayout, QWidget)

from faceforge.gui.chernoff.jobs import build_in_background, export_in_background, load_in_background
from faceforge.gui.chernoff.views import NOT_DRAWN, FaceGrid, LegendView, MappingTable
from faceforge.gui.errors import readable
from faceforge.gui.progress_panel import ProgressPanel
from faceforge.gui.tasks import TaskRunner, TaskSlot

AUTO_MODES = ("Automatic: by variance", "Automatic: by correlation with", "Manual")
RENDER_DELAY_MS = 150  # a burst of choices (typing a seed) draws once


class DataFacesPane(QWidget):
    statusMessage = Signal(str)
    runLoaded = Signal(str)
    rendered = Signal()
    exported = Signal(str)

    def __init__(self, *, runs_root_fn: Callable[[], Path] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = TaskRunner(max_threads=2, parent=self)
        self._load, self._render, self._fit, self._export = (TaskSlot(self.runner, self) for _ in range(4))
        self.runs_root_fn = runs_root_fn
        self.table = None
        self.table_path = ""
        self._table_text: str | None = None
        self.run: Path | None = None
        self.loaded = None  # (generator, features, sliders) of self.run
        self.mapping: dict[str, str] = {}
        self.built = None
        self._timer = QTimer(self, singleShot=True, interval=RENDER_DELAY_MS)
        self._timer.timeout.connect(self.render)
        self._build_ui()
        self.open_example()

    # ---------------------------------------------------------------- layout
    def _build_ui(self) -> None:
        self.table_label = QLabel()
        open_button = QPushButton("Open table…")
        open_button.setToolTip("A CSV or TSV file with a header line; one face per row")
        open_button.clicked.connect(self.browse_table)
        example_button = QPushButton("Example")
        example_button.setToolTip("R's USJudgeRatings: lawyers' ratings of 43 US judges on 12 scales (1977)")
        example_button.clicked.connect(self.open_example)
        self.label_combo = QComboBox()
        self.label_combo.setToolTip("The column that captions each face (guessed: an unnamed first column, else the "
                                    "first text column naming each row once)")
        self.label_combo.activated.connect(self._label_chosen)
        self.run_combo = QComboBox()
        self.run_combo.setMinimumContentsLength(24)
        self.run_combo.activated.connect(lambda i: self.set_run(self.run_combo.itemData(i)))
        run_button = QPushButton("Browse…")
        run_button.clicked.connect(self.browse_run)
        top = QHBoxLayout()
        for w in (QLabel("Table:"), self.table_label, open_button, example_button, QLabel("Labels:"),
                  self.label_combo):
            top.addWidget(w)
        top.addStretch(1)
        for w in (QLabel("Run:"), self.run_combo, run_button):
            top.addWidget(w)

        self.mode = QComboBox()
        self.mode.addItems(AUTO_MODES)
        self.mode.setToolTip("Automatic: rank the columns and give the top one the feature people read best "
                             "(smile, then eyes and brows, age, pose)")
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.target = QComboBox()
        self.target.setToolTip("The column the correlation is measured with")
        self.target.setEnabled(False)
        self.target.currentIndexChanged.connect(self._mode_changed)
        self.map_table = MappingTable()
        self.map_table.featureChosen.connect(self.set_feature)
        mapping_box = QGroupBox("Columns → features")
        ml = QVBoxLayout(mapping_box)
        row = QHBoxLayout()
        row.addWidget(self.mode, 1)
        row.addWidget(self.target, 1)
        ml.addLayout(row)
        ml.addWidget(self.map_table)

        self.base = QComboBox()
        self.base.addItems(["Average face", "Seed"])
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.own = QCheckBox("Each row its own identity")
        self.own.setToolTip("Every face a different person (seeded by its row number): for fun, harder to compare")
        self.sort = QComboBox()
        self.descending = QCheckBox("largest first")
        for w in (self.base, self.seed, self.sort):
            w.currentIndexChanged.connect(self.schedule_render) if isinstance(w, QComboBox) else \
                w.valueChanged.connect(self.schedule_render)
        for w in (self.own, self.descending):
            w.toggled.connect(self.schedule_render)
        faces_box = QGroupBox("Faces")
        fl = QFormLayout(faces_box)
        base_row = QHBoxLayout()
        base_row.addWidget(self.base)
        base_row.addWidget(self.seed)
        fl.addRow("Base face", base_row)
        fl.addRow("", self.own)
        sort_row = QHBoxLayout()
        sort_row.addWidget(self.sort, 1)
        sort_row.addWidget(self.descending)
        fl.addRow("Sort by", sort_row)

        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the grid with its legend as PNG, SVG or PDF (captions stay text in SVG "
                                      "and PDF), with a recipe that rebuilds it")
        self.export_button.clicked.connect(self.browse_export)
        self.export_button.setEnabled(False)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.fit_button = QPushButton("Fit directions…")
        self.fit_button.setToolTip("Sample faces, score them with the run's attribute classifier and fit one "
                                   "direction per attribute (faceforge directions fit)")
        self.fit_button.clicked.connect(self.fit_directions)
        self.fit_button.hide()
        self.progress = ProgressPanel()
        left = QWidget()
        left.setMinimumWidth(300)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        for w in (mapping_box, faces_box, self.export_button, self.message, self.progress):
            ll.addWidget(w)
        ll.setStretch(0, 1)

        self.grid = FaceGrid()
        self.grid.rowClicked.connect(self.show_row)
        self.row_label = QLabel("Click a face to see its row.")
        self.row_label.setWordWrap(True)
        self.row_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint = QLabel("")  # what stands where the faces will be: choose a run, loading, nothing to draw with
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        placeholder = QWidget()
        pl = QVBoxLayout(placeholder)
        pl.setContentsMargins(80, 0, 80, 0)  # a readable line length; no alignment flag: it would cut wrapped text
        pl.addStretch(1)
        pl.addWidget(self.hint)
        pl.addWidget(self.fit_button, 0, Qt.AlignmentFlag.AlignHCenter)
        pl.addStretch(2)
        self.pages = QStackedWidget()
        self.pages.addWidget(placeholder)
        self.pages.addWidget(self.grid)
        middle = QWidget()
        mid = QVBoxLayout(middle)
        mid.setContentsMargins(0, 0, 0, 0)
        mid.addWidget(self.pages, 1)
        mid.addWidget(self.row_label)

        self.legend = LegendView()
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: gray")
        legend_box = QWidget()
        lb = QVBoxLayout(legend_box)
        lb.addWidget(QLabel("<b>Legend</b>: min, middle, max"))
        lb.addWidget(self.legend)
        lb.addWidget(self.notes)
        lb.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(legend_box)
        scroll.setMinimumWidth(280)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        split = QSplitter()
        for w in (left, middle, scroll):
            split.addWidget(w)
        split.setStretchFactor(1, 1)
        split.setSizes([320, 700, 290])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    # ---------------------------------------------------------------- the table
    def open_example(self) -> None:
        from faceforge.resources import EXAMPLE_TABLE, example_table_text, files

        self.set_table(str(files() / EXAMPLE_TABLE), text=example_table_text())

    def browse_table(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a table", str(Path.home()),
                                              "Tables (*.csv *.tsv *.tab *.txt);;All files (*)")
        if path:
            self.set_table(path)

    def _label_chosen(self, index: int) -> None:
        self.set_table(self.table_path, text=self._table_text, label=self.label_combo.itemData(index) or "")

    def set_table(self, path: str, *, text: str | None = None, label: str | None = None) -> bool:
        """Open a table (``text``: its contents, for the packaged example); ``label``: the caption column, guessed
        when None."""
        from faceforge.chernoff.table import read_table

        try:
            table = read_table(Path(path), text=text, label=label or None)
        except (OSError, ValueError) as exc:
            self.message.setText(readable(exc))
            return False
        self.table, self.table_path, self.mapping, self._table_text = table, str(path), {}, text
        self.label_combo.clear()
        self.label_combo.addItem(f"{table.label_column or 'row numbers'} (guessed)" if not label else "guess", None)
        for name in table.header:
            if name:
                self.label_combo.addItem(name, name)
        if label:
            self.label_combo.setCurrentIndex(max(0, self.label_combo.findData(label)))
        self.table_label.setText(f"{Path(path).name} ({len(table)} rows, {len(table.columns)} numeric columns)")
        self.table_label.setToolTip("\n".join(table.notes) or str(path))
        for combo, first in ((self.sort, "file order"), (self.target, None)):
            combo.blockSignals(True)
            combo.clear()
            if first:
                combo.addItem(first, None)
            for c in table.columns:
                combo.addItem(c, c)
            combo.blockSignals(False)
        if self.mode.currentIndex() == 2:
            self.mode.setCurrentIndex(0)
        if self.run is None:
            self._show_hint(f"Choose a run (top right) and each of the {len(table)} rows of {Path(path).name} "
                            "becomes a face drawn by its generator, each mapped column moving one feature.")
        self._settle_mapping()
        return True

    def _show_hint(self, text: str, *, fit: bool = False) -> None:
        self.hint.setText(text)
        self.fit_button.setVisible(fit)
        self.pages.setCurrentIndex(0)

    # ---------------------------------------------------------------- the run
    def refresh_runs(self) -> None:
        from faceforge.runs import list_runs

        known = {self.run_combo.itemData(i) for i in range(self.run_combo.count())}
        root = self.runs_root_fn() if self.runs_root_fn else None
        for run in list_runs(root) if root is not None and root.is_dir() else []:
            if str(run.path) not in known:
                self.run_combo.addItem(run.name, str(run.path))

    def showEvent(self, event) -> None:  # noqa: N802 - the runs folder may have new runs since last shown
        self.refresh_runs()
        super().showEvent(event)

    def offer_run(self, path: str | Path | None) -> None:
        """A run shown elsewhere (the Train tab): listed, and used when this pane has none yet."""
        if not path:
            return
        self._add_run_item(str(path))
        if self.run is None:
            self.set_run(str(path))

    def _add_run_item(self, path: str) -> int:
        index = self.run_combo.findData(path)
        if index < 0:
            self.run_combo.addItem(Path(path).name, path)
            index = self.run_combo.count() - 1
        return index

    def browse_run(self) -> None:
        root = self.runs_root_fn() if self.runs_root_fn else Path.home()
        path = QFileDialog.getExistingDirectory(self, "Choose a run", str(root if root.exists() else Path.home()))
        if path:
            self.set_run(path)

    def set_run(self, path: str | Path | None) -> None:
        if not path:
            return
        self.run = Path(path)
        self.run_combo.setCurrentIndex(self._add_run_item(str(path)))
        self.loaded, self.built = None, None
        self.message.setText("")
        self._show_hint(f"Loading {self.run.name}…")
        self._load.start("load run for data faces", load_in_background, str(self.run), on_done=self._run_loaded,
                         on_failed=lambda e: self._show_hint(readable(e)))

    def _run_loaded(self, loaded) -> None:
        self.loaded = loaded
        features = loaded[1]
        self.mapping = {c: k for c, k in self.mapping.items() if any(f.key == k for f in features)}
        if not features:
            self._show_no_features()
        self._settle_mapping()
        self.runLoaded.emit(str(self.run))

    def _show_no_features(self) -> None:
        from faceforge.chernoff.make import NO_FEATURES

        self._show_hint(NO_FEATURES.format(run=self.run.name, path=self.run), fit=True)
        self.fit_button.setEnabled(not self._fit.busy)
        self.grid.clear()
        self.legend.show_legend([])
        self.export_button.setEnabled(False)

    def fit_directions(self) -> None:
        from faceforge.gui.edit.directions_box import NO_CLASSIFIER, fit_in_background
        from faceforge.models.classifier import WEIGHTS_NAME, classifier_dir

        if self.run is None:
            return
        if not (classifier_dir(self.run) / WEIGHTS_NAME).is_file():
            self.message.setText(NO_CLASSIFIER.format(run=self.run))
            return
        self.fit_button.setEnabled(False)
        run = self.run
        self._fit.start("fit directions for data faces", fit_in_background, str(run), 2000, with_state=True,
                        on_started=lambda task: self.progress.track(task, "Scoring faces"),
                        on_done=lambda _r: (self.progress.finish(), self.set_run(run)),
                        on_failed=lambda e: (self.progress.finish(), self.fit_button.setEnabled(True),
                                             self.message.setText(readable(e))),
                        on_cancelled=lambda: (self.progress.finish(), self.fit_button.setEnabled(True)))

    # ---------------------------------------------------------------- the mapping
    def features(self) -> list:
        return list(self.loaded[1]) if self.loaded is not None else []

    def _mode_changed(self) -> None:
        self.target.setEnabled(self.mode.currentIndex() == 1)
        self._settle_mapping()

    def auto_rule(self) -> str | None:
        index = self.mode.currentIndex()
        if index == 0:
            return "variance"
        if index == 1 and self.target.currentData():
            return f"corr:{self.target.currentData()}"
        return None

    def _settle_mapping(self) -> None:
        """Recompute an automatic mapping, then show the mapping rows and redraw."""
        from faceforge.chernoff.features import auto_mapping

        rule, feats = self.auto_rule(), self.features()
        if rule and feats and self.table is not None:
            self.mapping = auto_mapping(self.table, feats, rule)
        self._fill_map_table()
        self.schedule_render()

    def _fill_map_table(self) -> None:
        self.map_table.show_mapping(self.table.columns if self.table is not None else [], self.features(),
                                    self.mapping)

    def set_feature(self, column: str, key: str) -> None:
        """The user's own choice: the mapping becomes manual; a feature shows one column (its old one is freed)."""
        self.mapping = {c: k for c, k in self.mapping.items() if k != key and c != column}
        if key and key != NOT_DRAWN:
            self.mapping[column] = key
        self.mode.blockSignals(True)
        self.mode.setCurrentIndex(2)
        self.mode.blockSignals(False)
        self.target.setEnabled(False)
        self._fill_map_table()
        self.schedule_render()

    # ---------------------------------------------------------------- drawing
    def schedule_render(self, *_args) -> None:
        self.seed.setEnabled(self.base.currentIndex() == 1)
        self._timer.start()

    def recipe(self):
        from faceforge.chernoff import ChernoffRecipe, FaceOptions

        base = f"seed:{self.seed.value()}" if self.base.currentIndex() == 1 else "average"
        return ChernoffRecipe(table=self.table_path, run=str(self.run), mapping=dict(self.mapping),
                              label=self.table.label_column if self.table is not None else None,
                              sort=self.sort.currentData(), descending=self.descending.isChecked(),
                              options=FaceOptions(base=base, own_identity=self.own.isChecked()))

    def render(self) -> None:
        if self.table is None or self.loaded is None or not self.features():
            return
        if not self.mapping:
            self.message.setText("Choose a feature for at least one column, or an automatic mapping.")
            return
        self._render.start("draw data faces", build_in_background, self.recipe(), self.table, self.loaded,
                           with_state=True, on_started=lambda task: self.progress.track(task, "Drawing faces"),
                           on_done=self._rendered, on_failed=self._render_failed,
                           on_cancelled=self.progress.finish)

    def _rendered(self, built) -> None:
        self.progress.finish()
        self.built = built
        self.message.setText("")
        self.pages.setCurrentIndex(1)
        self.grid.show_faces(built.faces, [c.caption for c in built.cells], [c.tooltip for c in built.cells],
                             built.order)
        self.legend.show_legend(built.legend)
        self.notes.setText("\n".join(built.notes))
        self.export_button.setEnabled(True)
        self.statusMessage.emit(f"{len(built.order)} faces, {len(built.mapping)} mapped column{'s' * (len(built.mapping) != 1)}")
        self.rendered.emit()

    def _render_failed(self, exc: BaseException) -> None:
        self.progress.finish()
        self.message.setText(readable(exc))

    def show_row(self, row: int) -> None:
        if self.table is not None:
            self.row_label.setText(f"<b>{self.table.labels[row]}</b>: {self.table.row_text(row)}")

    # ---------------------------------------------------------------- export
    def browse_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the figure", str(Path.home() / "data-faces.pdf"),
                                              "PDF (*.pdf);;SVG (*.svg);;PNG (*.png)")
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        if self.built is None:
            return
        self._export.start("export data faces", export_in_background, self.built, str(path),
                           on_done=self._exported, on_failed=lambda e: self.message.setText(readable(e)))

    def _exported(self, paths: list[str]) -> None:
        self.statusMessage.emit(f"Wrote {paths[0]} and {Path(paths[1]).name}")
        self.exported.emit(paths[0])

    def shutdown(self) -> None:
        self._timer.stop()
        self.runner.shutdown()

