"""The main window's actions, menus, toolbar and recent-item menus: what the user can reach by mouse or shortcut.

Kept apart from :mod:`faceforge.gui.main_window` (which wires panes to the session) so each stays readable; the
actions are attributes of the window (``window.act_start`` ...) because the window enables and disables them.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QApplication, QStyle, QToolBar

from faceforge import paths
from faceforge.config import BUILTIN_SOURCE
from faceforge.gui.settings import COLOR_SCHEMES
from faceforge.runs import is_run_dir


def install(w) -> None:
    """Create the actions, the menu bar and the toolbar of main window ``w``."""
    build_actions(w)
    build_menus(w)
    build_toolbar(w)


def _open_folder(folder: Path) -> bool:
    """Show a folder in the system's file manager. Qt starts that program with this process's environment; in a
    bundle that holds the bundle's library path, which would make the file manager load our Qt, so the user's own
    path is put back while it starts (faceforge/frozen.py)."""
    from faceforge.frozen import clean_library_path

    with clean_library_path():
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def build_actions(w) -> None:
    style = w.style()

    def action(text, slot, shortcut=None, icon=None, tip=None, short=None) -> QAction:
        """``short`` is the toolbar's text beside the icon; the tooltip names the shortcut."""
        a = QAction(text, w)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            a.setIcon(style.standardIcon(icon))
        if short:
            a.setIconText(short)
        if tip:
            a.setStatusTip(tip)
            keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            a.setToolTip(f"{tip} ({keys})" if keys else tip)
        a.triggered.connect(slot)
        return a

    SP = QStyle.StandardPixmap
    w.act_open_folder = action("Open dataset &folder…", w.dataset_pane.browse_folder,
                                  QKeySequence.StandardKey.Open, SP.SP_DirOpenIcon,
                                  "Open a folder of face images as the dataset", "Open dataset")
    w.act_open_zip = action("Open dataset &zip…", w.dataset_pane.browse_zip, None, None,
                               "Open a zip of face images as the dataset")
    w.act_open_labels = action("Open &labels file…", w.dataset_pane.browse_labels)
    w.act_builtin = action("&Built-in faces", lambda: w.open_dataset(BUILTIN_SOURCE))
    w.act_open_run = action("Open &run…", w.browse_run, "Ctrl+Shift+O", SP.SP_FileDialogDetailedView,
                               "Open a run folder (e.g. one trained from the command line)", "Open run")
    w.act_new_run = action("&New run…", w.new_run, QKeySequence.StandardKey.New, SP.SP_FileIcon,
                              "Choose dataset, model and settings for a new run", "New run")
    w.act_start = action("&Start", lambda: w.start_training(), "F5", SP.SP_MediaPlay,
                            "Start a new run with the current settings", "Start")
    w.act_pause = action("&Pause", w.toggle_pause, "F6", SP.SP_MediaPause, "Pause or resume training", "Pause")
    w.act_stop = action("S&top", w.stop_training, "Shift+F5", SP.SP_MediaStop,
                           "Stop at the next step (the run stays resumable)", "Stop")
    w.act_resume = action("&Resume selected run", w._resume_selected, "Ctrl+R", SP.SP_BrowserReload,
                             "Continue the selected run where it stopped")
    w.act_classifier = action("Attribute &classifier…", w.open_classifier, None, None,
                              "Train FaceForge's attribute classifier on the shown run's labelled data and see its "
                              "held-out accuracy per attribute")
    w.act_export = action("&Export grid…", w.train_pane.ask_export_png, QKeySequence.StandardKey.Save,
                             SP.SP_DialogSaveButton, "Save the sample grid on screen as a PNG", "Export grid")
    w.act_export_gif = action("Export snapshots as &GIF…", w.train_pane.ask_export_gif,
                                 QKeySequence.StandardKey.SaveAs)
    w.act_quit = action("&Quit", w.close, QKeySequence.StandardKey.Quit)
    w.act_logs = action("Open &log folder", lambda: _open_folder(paths.log_dir()))
    w.act_about = action("&About FaceForge", w._about)
    w.act_tabs = []
    for i, name in enumerate(("&Dataset", "&Train", "&Edit")):
        w.act_tabs.append(action(name, lambda _=False, i=i: w.tabs.setCurrentIndex(i), f"Ctrl+{i + 1}"))
    from faceforge.gui.app import current_color_scheme

    w.color_scheme_group = QActionGroup(w)
    w.act_schemes = {}
    for scheme in COLOR_SCHEMES:
        a = action(f"&{scheme.title()}" if scheme != "system" else "&System (follow the desktop)",
                   lambda _=False, s=scheme: set_color_scheme(w, s))
        a.setCheckable(True)
        a.setChecked(scheme == current_color_scheme())
        w.color_scheme_group.addAction(a)
        w.act_schemes[scheme] = a


def set_color_scheme(w, scheme: str) -> None:
    """View > Colour scheme: applied now and remembered."""
    from faceforge.gui.app import apply_color_scheme

    w.settings.set_color_scheme(scheme)
    w.act_schemes[scheme].setChecked(True)
    apply_color_scheme(QApplication.instance(), scheme)

def build_menus(w) -> None:
    bar = w.menuBar()
    m = bar.addMenu("&File")
    for a in (w.act_open_folder, w.act_open_zip, w.act_open_labels, w.act_builtin):
        m.addAction(a)
    w.recent_datasets_menu = m.addMenu("Recent &datasets")
    w.recent_datasets_menu.aboutToShow.connect(lambda: fill_recent_datasets(w))
    m.addSeparator()
    m.addAction(w.act_open_run)
    w.recent_runs_menu = m.addMenu("Recent r&uns")
    w.recent_runs_menu.aboutToShow.connect(lambda: fill_recent_runs(w))
    m.addSeparator()
    m.addAction(w.act_export)
    m.addAction(w.act_export_gif)
    m.addSeparator()
    m.addAction(w.act_quit)
    t = bar.addMenu("&Train")
    for a in (w.act_new_run, w.act_start, w.act_pause, w.act_stop, w.act_resume):
        t.addAction(a)
    t.addSeparator()
    t.addAction(w.act_classifier)
    v = bar.addMenu("&View")
    for a in w.act_tabs:
        v.addAction(a)
    v.addSeparator()
    schemes = v.addMenu("&Colour scheme")
    for a in w.act_schemes.values():
        schemes.addAction(a)
    h = bar.addMenu("&Help")
    h.addAction(w.act_logs)
    h.addAction(w.act_about)
    fill_recent_datasets(w)
    fill_recent_runs(w)

def build_toolbar(w) -> None:
    tb = QToolBar("Main")
    tb.setObjectName("main-toolbar")
    tb.setMovable(False)
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)  # words: several icons are folders
    for a in (w.act_open_folder, w.act_open_run, None, w.act_new_run, w.act_start, w.act_pause,
              w.act_stop, None, w.act_export):
        if a is None:
            tb.addSeparator()
        else:
            tb.addAction(a)
    w.addToolBar(tb)

def fill_recent_datasets(w) -> None:
    menu = w.recent_datasets_menu
    menu.clear()
    items = w.settings.recent_datasets
    for item in items:
        text = item["source"] + (f"  (+ {Path(item['labels']).name})" if item.get("labels") else "")
        a = menu.addAction(text)
        a.triggered.connect(lambda _=False, s=item["source"], lb=item.get("labels"): w.open_dataset(s, lb))
    menu.setEnabled(bool(items))

def fill_recent_runs(w) -> None:
    menu = w.recent_runs_menu
    menu.clear()
    items = [p for p in w.settings.recent_runs if is_run_dir(Path(p))]
    for p in items:
        a = menu.addAction(Path(p).name)
        a.setToolTip(p)
        a.triggered.connect(lambda _=False, p=p: w.open_run(p))
    menu.setEnabled(bool(items))
