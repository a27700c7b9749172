"""Data faces (faceforge/chernoff): reading tables, the automatic mapping's order, and rendering with a planted
generator - equal rows give identical faces, a column moves only its own feature's score, the base face sits on
every mapped boundary, conditional attributes set y; the SVG and PDF keep the captions as text."""
import re
import zlib

import numpy as np
import pytest
import torch

from faceforge.chernoff import (ChernoffRecipe, FaceOptions, FacePainter, Feature, auto_mapping, build, export,
                                parse_mapping, perception_group, rank_columns, read_table, scale_values)
from faceforge.chernoff.features import accuracy_warning, ordered_features, run_features
from faceforge.data.label_scales import LabelScale
from faceforge.resources import EXAMPLE_TABLE, files

from chernoff_helpers import CHANNELS, TopLeftScorer, planted_directions, planted_generator, sliders_for
from toy_w_model import toy_w_registered


def table_from(tmp_path, name, text, **kw):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_table(path, **kw)


def test_a_tsv_with_missing_values_text_columns_and_a_guessed_label(tmp_path):
    t = table_from(tmp_path, "cars.tsv", "model\tmpg\tmaker\tcyl\tnotes\n"
                   "a4\t30\taudi\t4\tnice\nm3\tNA\tbmw\t6\t\nc1\t25\taudi\t\t?\n")
    assert t.label_column == "model" and t.labels == ["a4", "m3", "c1"]
    assert t.columns == ["mpg", "cyl"]  # maker and notes are text: ignored, with a note each
    assert any("'maker' ignored: not numeric" in n for n in t.notes)
    assert any("'notes' ignored" in n for n in t.notes)
    assert t.column("mpg")[1] == pytest.approx(27.5) and t.missing[1, 0] and not t.missing[0, 0]
    assert t.column("CYL")[2] == pytest.approx(5.0) and t.missing[2, 1]  # names match case-insensitively
    assert any("1 missing value(s) drawn as the column mean 27.5" in n for n in t.notes)
    assert "(missing: column mean)" in t.row_text(1)


def test_label_rules_unnamed_first_column_explicit_and_numbered(tmp_path):
    text = ',x,y\n"SMITH, J.",1,2\n"JONES, K.",3,4\n'
    t = table_from(tmp_path, "r.csv", text)
    assert t.label_column == "" and t.labels == ["SMITH, J.", "JONES, K."] and t.columns == ["x", "y"]
    t = table_from(tmp_path, "n.csv", "x;y\n1;2\n3;4\n")  # semicolons, no text column: rows numbered
    assert t.label_column is None and t.labels == ["row 1", "row 2"] and t.columns == ["x", "y"]
    t = table_from(tmp_path, "e.csv", "id,x,y\n7,1,2\n8,3,4\n", label="id")
    assert t.labels == ["7", "8"] and t.columns == ["x", "y"]
    with pytest.raises(ValueError, match="no column 'nope'"):
        table_from(tmp_path, "e.csv", "id,x\n1,2\n", label="nope")
    with pytest.raises(ValueError, match="no numeric column"):
        table_from(tmp_path, "t.csv", "a,b\nx,y\n")


def test_the_example_table_is_the_judges_ratings():
    t = read_table(files() / EXAMPLE_TABLE)
    assert len(t) == 43 and len(t.columns) == 12 and t.label_column == "JUDGE" and not t.notes
    assert t.labels[0] == "AARONSON,L.H." and t.column("RTEN")[0] == pytest.approx(7.8)
    assert t.order("RTEN", descending=True)[0] == int(np.argmax(t.column("RTEN")))


def test_automatic_mapping_gives_the_best_read_feature_to_the_top_ranked_column(tmp_path):
    assert [perception_group(n) for n in ("Smiling", "Mouth_Slightly_Open", "Arched_Eyebrows", "Eyeglasses",
                                          "Young", "Age", "yaw", "Male", "Heavy_Makeup")] == [0, 0, 1, 1, 2, 2, 3, 4, 4]
    feats = [Feature(n, n, "direction") for n in ("Male", "yaw", "Young", "Eyeglasses", "Smiling")]
    feats.append(Feature("dir:yaw", "yaw", "direction"))  # the same concept twice is used once
    feats.append(Feature("Pale_Skin", "Pale_Skin", "attribute"))
    feats.append(Feature("Bangs", "Bangs", "attribute"))
    # Male and Pale_Skin change who the person is: never picked automatically
    assert [f.key for f in ordered_features(feats)] == ["Smiling", "Eyeglasses", "Young", "yaw", "Bangs"]
    t = table_from(tmp_path, "v.csv", "k,low,high,mid,flat\na,1,0,5,3\nb,2,100,6,3\nc,3,50,8,3\n")
    assert [c for c, _ in rank_columns(t, "variance")] == ["high", "mid", "low"]  # constant "flat" left out
    by_corr = rank_columns(t, "corr:low")
    assert by_corr[0] == ("low", pytest.approx(1.0)) and by_corr[1][0] == "mid"
    assert auto_mapping(t, feats, "variance", limit=2) == {"high": "Smiling", "mid": "Eyeglasses"}
    fixed = parse_mapping(["MID=smiling"], t, feats)
    assert auto_mapping(t, feats, "variance", fixed=fixed, limit=3) == {"mid": "Smiling", "high": "Eyeglasses",
                                                                        "low": "Young"}
    with pytest.raises(ValueError, match="no feature 'beard'"):
        parse_mapping(["low=beard"], t, feats)
    with pytest.raises(ValueError, match="twice"):
        parse_mapping(["low=Smiling", "high=smiling"], t, feats)
    assert accuracy_warning({"val_accuracy": 0.6}) == "low accuracy: val 0.60"
    assert accuracy_warning({"val_accuracy": 0.95, "classifier_held_out": {"accuracy": 0.9}}) == ""


@pytest.fixture()
def planted():
    with toy_w_registered() as name:
        gen = planted_generator(name)
        dirs = planted_directions(gen)
        feats = [Feature(n, n, "direction") for n in CHANNELS]
        yield gen, dirs, feats


def test_equal_rows_draw_identical_faces_and_a_column_moves_only_its_own_feature(planted):
    gen, dirs, feats = planted
    painter = FacePainter(gen, feats, sliders_for(dirs), {"x": "red", "y": "green", "z": "blue"})
    values = np.array([[1, 5, 3], [1, 5, 3], [9, 5, 3], [5, 1, 9]], float)
    t = scale_values(values)
    faces = painter.render(t, identities=[0, 1, 2, 3])
    assert np.array_equal(faces[0], faces[1]) and not np.array_equal(faces[0], faces[2])
    scores = TopLeftScorer().score(faces)
    change = scores[2] - scores[0]  # only column x (red) differs between rows 0 and 2
    assert change[0] > 40, scores
    assert np.abs(change[1:]).max() <= 1, scores  # green and blue stay put (one uint8 level of rounding)
    # the middle of every column is the base face on all three boundaries: every channel mid-grey
    mid = TopLeftScorer().score(painter.render(np.zeros((1, 3)), identities=[None]))
    assert np.abs(mid - 127.5).max() <= 1, mid
    # each row its own identity: equal values, different faces (but each still on the same boundaries)
    own = FacePainter(gen, feats, sliders_for(dirs), {"x": "red", "y": "green", "z": "blue"},
                      FaceOptions(own_identity=True))
    faces = own.render(np.zeros((2, 3)), identities=[0, 1])
    assert not np.array_equal(faces[0], faces[1])
    assert np.abs(TopLeftScorer().score(faces) - 127.5).max() <= 1


def test_a_seed_base_is_one_face_for_every_row(planted):
    gen, dirs, feats = planted
    painter = FacePainter(gen, feats, sliders_for(dirs), {"x": "red"}, FaceOptions(base="seed:4"))
    a, b = painter.render(np.zeros((2, 1)), identities=[0, 7])
    assert np.array_equal(a, b)
    other = FacePainter(gen, feats, sliders_for(dirs), {"x": "red"}, FaceOptions(base="seed:5"))
    assert not np.array_equal(a, other.render(np.zeros((1, 1)), identities=[0])[0])
    with pytest.raises(ValueError, match="seed:N"):
        FaceOptions(base="mean").base_seed()


def test_conditional_attributes_drive_y_in_their_units():
    with toy_w_registered() as name:
        gen = planted_generator(name, n_attributes=2, attributes=["Smiling", "Age"])
        gen.scales = {"Age": LabelScale("continuous", mean=40.0, std=10.0, low=20.0, high=80.0)}
        feats, sliders = run_features(gen.attributes, None, space="w", dim=-1)
        assert [f.key for f in feats] == ["Smiling", "Age"] and all(f.kind == "attribute" for f in feats)
        painter = FacePainter(gen, feats, sliders, {"happy": "Smiling", "years": "Age"})
        y = painter.attribute_y(np.array([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]]))
        assert torch.allclose(y, torch.tensor([[-2.0, -2.0], [2.0, 4.0], [0.0, 1.0]]))  # Age 20, 80, 50 years
        faces = painter.render(np.array([[-1.0, 0.0], [1.0, 0.0]]), identities=[0, 1])
        assert not np.array_equal(faces[0], faces[1])


def test_a_run_with_nothing_to_map_is_a_clear_error(planted, tmp_path):
    from faceforge.chernoff import NoFeaturesError

    gen, _dirs, _feats = planted
    recipe = ChernoffRecipe(table=str(files() / EXAMPLE_TABLE), run=str(tmp_path / "some-run"))
    with pytest.raises(NoFeaturesError, match="neither conditional attributes nor fitted directions"):
        build(recipe, loaded=(gen, [], sliders_for(planted_directions(gen))))


def test_svg_and_pdf_keep_captions_and_values_as_text(planted, tmp_path):
    gen, dirs, feats = planted
    feats[1] = Feature("green", "green", "direction", warning="low accuracy: val 0.60")
    recipe = ChernoffRecipe(table=str(files() / EXAMPLE_TABLE), run=str(tmp_path / "toy-run"), auto="corr:RTEN",
                            limit=3)
    built = build(recipe, loaded=(gen, feats, sliders_for(dirs)))
    assert built.mapping["RTEN"] == "red" and len(built.mapping) == 3 and built.faces.shape == (43, 32, 32, 3)
    svg_path, recipe_path = export(built, tmp_path / "judges.svg")
    svg = svg_path.read_text(encoding="utf-8")
    texts = re.findall(r"<text [^>]*>([^<]*)</text>", svg)
    assert "AARONSON,L.H." in texts and "ZARRILLI,K.J." in texts and "RTEN -&gt; red" in texts
    assert "(!) low accuracy: val 0.60" in texts and any(t.startswith("max 9.2") for t in texts)
    assert svg.count("<image ") == 43 + 3 * 3 and "<title>AARONSON,L.H.: CONT 5.7;" in svg
    assert ChernoffRecipe.load(recipe_path).mapping == built.mapping

    pdf = export(built, tmp_path / "judges.pdf")[0].read_bytes()
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    xref = int(re.search(rb"startxref\n(\d+)", pdf).group(1))
    assert pdf[xref:xref + 4] == b"xref"
    count = int(re.search(rb"xref\n0 (\d+)", pdf).group(1))
    offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n", pdf)]
    assert len(offsets) == count - 1
    for number, offset in enumerate(offsets, start=1):  # every object where the table says
        assert pdf[offset:].startswith(f"{number} 0 obj".encode())
    streams = [zlib.decompress(m) for m in re.findall(rb"/FlateDecode >>\nstream\n(.*?)\nendstream", pdf, re.S)]
    content = next(s for s in streams if b" Tj " in s)
    assert b"(AARONSON,L.H.) Tj" in content and b"(RTEN -> red) Tj" in content
    assert b"(\\(!\\) low accuracy: val 0.60) Tj" in content
    assert content.count(b" Do ") == 43 + 9
