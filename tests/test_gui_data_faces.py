"""The Data faces tab, offscreen: it opens the example table on first use, draws it with a tiny run's planted
directions (captions, tooltips, a click shows the row, the legend with its warning), follows a manual mapping,
exports, and offers to fit directions for a run with none."""
import numpy as np
import pytest
import torch

pytest.importorskip("pytestqt")

from faceforge.directions.store import directions_dir  # noqa: E402
from faceforge.editing import LoadedGenerator  # noqa: E402

from chernoff_helpers import planted_directions  # noqa: E402


@pytest.fixture()
def toy_run(tmp_path):
    from helpers import random_dataset, tiny_config
    from toy_w_model import toy_w_registered

    from faceforge.training import start_run

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with toy_w_registered() as name:
        run_dir = tmp_path / "w-run"
        assert start_run(tiny_config(model=name, steps=2, attrs=()), run_dir=run_dir,
                         dataset=random_dataset(n=16, n_attr=0)).state == "finished"
        yield run_dir
    torch.set_num_threads(before)


@pytest.fixture()
def pane(qtbot):
    from faceforge.gui.chernoff import DataFacesPane

    p = DataFacesPane()
    qtbot.addWidget(p)
    p.resize(1280, 800)
    p.show()
    yield p
    p.shutdown()


def test_the_pane_draws_the_example_table_with_a_runs_directions(pane, toy_run, qtbot, tmp_path):
    from PySide6.QtCore import Qt

    assert pane.table is not None and len(pane.table) == 43  # the example, before any run is chosen
    assert "usjudgeratings.csv (43 rows" in pane.table_label.text()
    assert "Choose a run" in pane.hint.text() and pane.hint.isVisible()
    planted_directions(LoadedGenerator.from_run(toy_run), accuracy=0.6).save(directions_dir(toy_run), "planted")
    with qtbot.waitSignal(pane.rendered, timeout=60_000):
        pane.offer_run(toy_run)
    assert pane.grid.count() == 43 and pane.grid.item(0).text() == "AARONSON,L.H."
    assert "CONT 5.7; INTG 7.9" in pane.grid.item(0).toolTip()
    assert len(pane.mapping) == 3 and len(pane.legend.entries) == 3  # variance ranking, all three features
    assert all(e.warning == "low accuracy: val 0.60" for e in pane.legend.entries)
    rect = pane.grid.visualItemRect(pane.grid.item(1))
    qtbot.mouseClick(pane.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert "ALEXANDER,J.M." in pane.row_label.text() and "RTEN 8.7" in pane.row_label.text()
    first = pane.built.faces.copy()
    qtbot.wait(50)  # let the layouts settle before the screenshot
    pane.grab().save(str(tmp_path / "data-faces.png"))

    with qtbot.waitSignal(pane.rendered, timeout=60_000):  # a manual choice: RTEN draws red, sorted by RTEN
        pane.set_feature("RTEN", "red")
        pane.sort.setCurrentText("RTEN")
    assert pane.mode.currentText() == "Manual" and pane.mapping["RTEN"] == "red"
    ratings = pane.table.column("RTEN")
    assert pane.built.order == sorted(range(43), key=lambda i: ratings[i])
    assert pane.grid.item(0).data(Qt.ItemDataRole.UserRole) == int(np.argmin(ratings))
    assert not np.array_equal(first, pane.built.faces)

    with qtbot.waitSignal(pane.rendered, timeout=60_000):  # captions from another column
        pane._label_chosen(pane.label_combo.findData("CONT"))
    assert pane.table.label_column == "CONT" and "CONT" not in pane.table.columns
    assert pane.grid.item(0).text() == "5.7" and pane.label_combo.currentText() == "CONT"

    out = tmp_path / "judges.svg"
    with qtbot.waitSignal(pane.exported, timeout=30_000):
        pane.export_to(str(out))
    assert "<text" in out.read_text() and (tmp_path / "judges.recipe.json").is_file()


def test_a_run_with_nothing_to_draw_with_offers_to_fit_directions(pane, toy_run, qtbot):
    pane.runs_root_fn = lambda: toy_run.parent
    pane.refresh_runs()
    assert pane.run_combo.findData(str(toy_run)) >= 0 and pane.run is None  # listed, not chosen
    with qtbot.waitSignal(pane.runLoaded, timeout=60_000):
        pane.set_run(toy_run)
    assert "neither conditional attributes nor fitted directions" in pane.hint.text()
    assert pane.fit_button.isVisible() and pane.grid.count() == 0 and not pane.grid.isVisible()
    pane.fit_directions()  # the toy run has no attribute classifier: the message says how to train one
    assert "no attribute classifier" in pane.message.text()
