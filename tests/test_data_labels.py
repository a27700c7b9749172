"""Label files from many hands: tolerant about layout, strict (with line numbers) about content."""
from __future__ import annotations

import numpy as np
import pytest

from faceforge.data.labels import match_labels, read_labels, resolve_attributes, select_attributes
from faceforge.data.sources import DatasetError, ImageRef

CELEBA = """3
Smiling Male Eyeglasses
000001.jpg  1 -1 -1
000002.jpg -1  1 -1
000003.jpg  1  1  1
"""


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def refs(*names):
    return [ImageRef(None, n, 100, root="/nowhere") for n in names]


def test_celeba_standard(tmp_path):
    t = read_labels(write(tmp_path, "list_attr_celeba.txt", CELEBA))
    assert t.names == ["Smiling", "Male", "Eyeglasses"]
    assert t.filenames == ["000001.jpg", "000002.jpg", "000003.jpg"]
    assert t.values.dtype == np.float32 and t.values.shape == (3, 3)
    np.testing.assert_array_equal(t.values[0], [1, -1, -1])
    assert t.notes == []


@pytest.mark.parametrize(
    "text",
    [
        CELEBA.split("\n", 1)[1],  # no count line
        CELEBA.replace("Smiling Male", "image_id Smiling Male"),  # extra leading header token
        CELEBA.replace(" ", "\t"),  # tabs
        CELEBA.replace("\n", "\r\n"),  # CRLF
        "\ufeff" + CELEBA,  # BOM
        CELEBA.replace("000002.jpg", "\n000002.jpg"),  # blank line
    ],
    ids=["no-count", "extra-header-token", "tabs", "crlf", "bom", "blank-line"],
)
def test_celeba_variants(tmp_path, text):
    t = read_labels(write(tmp_path, "attrs.txt", text))
    assert t.names == ["Smiling", "Male", "Eyeglasses"]
    assert len(t) == 3
    np.testing.assert_array_equal(t.values[2], [1, 1, 1])


def test_celeba_count_mismatch_is_a_note(tmp_path):
    t = read_labels(write(tmp_path, "attrs.txt", CELEBA.replace("3\n", "5\n", 1)))
    assert len(t) == 3 and "says 5 rows but has 3" in t.notes[0]


def test_celeba_wrong_column_count(tmp_path):
    bad = CELEBA.replace("000002.jpg -1  1 -1", "000002.jpg -1  1")
    with pytest.raises(DatasetError, match=r"line 4: expected 4 columns .* found 3"):
        read_labels(write(tmp_path, "attrs.txt", bad))


def test_celeba_non_numeric(tmp_path):
    bad = CELEBA.replace("000003.jpg  1  1  1", "000003.jpg  1  yes  1")
    with pytest.raises(DatasetError, match=r"line 5: value 'yes' for attribute 'Male' is not a number"):
        read_labels(write(tmp_path, "attrs.txt", bad))


def test_celeba_duplicate(tmp_path):
    bad = CELEBA.replace("000003.jpg", "000001.jpg")
    with pytest.raises(DatasetError, match=r"line 5: 000001.jpg is listed twice \(first on line 3\)"):
        read_labels(write(tmp_path, "attrs.txt", bad))


def test_empty_and_header_only(tmp_path):
    with pytest.raises(DatasetError, match="empty"):
        read_labels(write(tmp_path, "e.txt", "  \n\n"))
    with pytest.raises(DatasetError, match="no label rows"):
        read_labels(write(tmp_path, "h.txt", "Smiling Male\n"))
    with pytest.raises(DatasetError, match="does not exist"):
        read_labels(tmp_path / "missing.txt")


def test_header_missing(tmp_path):
    with pytest.raises(DatasetError, match="found numbers"):
        read_labels(write(tmp_path, "n.txt", "000001.jpg 1 -1 1\n000002.jpg 1 1 1\n"))


def test_csv_one_zero(tmp_path):
    t = read_labels(write(tmp_path, "l.csv", "filename,Smiling,Male\na.jpg,1,0\nb.jpg,0,1\n"))
    assert t.names == ["Smiling", "Male"]
    np.testing.assert_array_equal(t.values, [[1, -1], [-1, 1]])


def test_csv_plus_minus_one_and_floats(tmp_path):
    t = read_labels(write(tmp_path, "l.csv", "file,Smiling,age\na.jpg,1,0.25\nb.jpg,-1,0.75\n"))
    np.testing.assert_array_equal(t.values[:, 0], [1, -1])
    np.testing.assert_allclose(t.values[:, 1], [0.25, 0.75])


def test_csv_semicolon_decimal_comma_and_quotes(tmp_path):
    text = 'filename;Smiling;score\n"my face.jpg";1;0,5\nb.jpg;0;1,25\n'
    t = read_labels(write(tmp_path, "l.csv", text))
    assert t.filenames == ["my face.jpg", "b.jpg"]
    np.testing.assert_allclose(t.values, [[1, 0.5], [-1, 1.25]])


def test_csv_tab_separated(tmp_path):
    t = read_labels(write(tmp_path, "l.csv", "filename\tSmiling\na.jpg\t1\nb.jpg\t0\n"))
    np.testing.assert_array_equal(t.values[:, 0], [1, -1])


def test_csv_errors_name_the_line(tmp_path):
    with pytest.raises(DatasetError, match=r"line 3: expected 3 columns"):
        read_labels(write(tmp_path, "a.csv", "filename,A,B\na.jpg,1,0\nb.jpg,1\n"))
    with pytest.raises(DatasetError, match=r"line 2: value 'x' for attribute 'B'"):
        read_labels(write(tmp_path, "b.csv", "filename,A,B\na.jpg,1,x\n"))
    with pytest.raises(DatasetError, match=r"line 3: a.jpg is listed twice"):
        read_labels(write(tmp_path, "c.csv", "filename,A\na.jpg,1\na.jpg,0\n"))
    with pytest.raises(DatasetError, match="needs a header row"):
        read_labels(write(tmp_path, "d.csv", "a.jpg,1,0\nb.jpg,0,1\n"))
    with pytest.raises(DatasetError, match="empty"):
        read_labels(write(tmp_path, "e.csv", ""))


def test_latin1_and_utf8_names(tmp_path):
    text = "filename,Lächeln\nzoë.jpg,1\nb.jpg,0\n"
    t = read_labels(write(tmp_path, "l.csv", text, encoding="latin-1"))
    assert t.names == ["Lächeln"] and t.filenames[0] == "zoë.jpg"
    t = read_labels(write(tmp_path, "u.csv", "\ufeff" + text))
    assert t.names == ["Lächeln"] and t.filenames[0] == "zoë.jpg"


def test_unknown_attribute_message():
    names = ["Smiling", "Male", "Eyeglasses", "Young"]
    with pytest.raises(DatasetError) as info:
        resolve_attributes(["Smilling"], names)
    msg = str(info.value)
    assert "'Smilling'" in msg and "did you mean 'Smiling'" in msg and "Available: Smiling, Male" in msg
    assert resolve_attributes(["male", "SMILING"], names) == ["Male", "Smiling"]
    assert resolve_attributes(["*"], names) == names
    assert resolve_attributes([], names) == []


def test_select_attributes_order(tmp_path):
    t = read_labels(write(tmp_path, "a.txt", CELEBA))
    names, values = select_attributes(t, ["eyeglasses", "smiling"])
    assert names == ["Eyeglasses", "Smiling"]
    np.testing.assert_array_equal(values[2], [1, 1])
    np.testing.assert_array_equal(values[1], [-1, -1])


def test_match_bare_names_against_subfolders(tmp_path):
    t = read_labels(write(tmp_path, "a.txt", CELEBA))
    idx, rows, report = match_labels(refs("images/000001.jpg", "images/000002.jpg", "images/000003.jpg"), t)
    np.testing.assert_array_equal(idx, [0, 1, 2])
    np.testing.assert_array_equal(rows, t.values)
    assert report.notes() == []


def test_match_missing_and_extra_rows(tmp_path):
    t = read_labels(write(tmp_path, "a.txt", CELEBA))
    r = refs("000001.jpg", "000003.jpg", "000004.jpg", "extra/zz.png")
    idx, rows, report = match_labels(r, t)
    np.testing.assert_array_equal(idx, [0, 1])
    np.testing.assert_array_equal(rows, t.values[[0, 2]])
    notes = report.notes()
    assert notes[0].startswith("2 of 4 images have no label row") and "000004.jpg, extra/zz.png" in notes[0]
    assert notes[1].startswith("1 of 3 label rows have no image: 000002.jpg")


def test_match_long_lists_are_abbreviated(tmp_path):
    t = read_labels(write(tmp_path, "a.txt", CELEBA))
    r = refs("000001.jpg", *[f"x{i:03d}.jpg" for i in range(40)])
    note = match_labels(r, t)[2].notes()[0]
    assert note.startswith("40 of 41 images") and "(35 more)" in note


def test_match_case_and_extension_insensitive(tmp_path):
    t = read_labels(write(tmp_path, "l.csv", "filename,A\nIMG_1.JPG,1\nimg_2,0\n"))
    idx, rows, report = match_labels(refs("photos/img_1.jpg", "photos/img_2.png"), t)
    np.testing.assert_array_equal(idx, [0, 1])
    np.testing.assert_array_equal(rows[:, 0], [1, -1])


def test_match_nothing_names_both_sides(tmp_path):
    t = read_labels(write(tmp_path, "a.txt", CELEBA))
    with pytest.raises(DatasetError) as info:
        match_labels(refs("cat1.png", "cat2.png"), t)
    msg = str(info.value)
    assert "none of the 3 label rows" in msg and "000001.jpg" in msg and "cat1.png" in msg


def test_ambiguous_bare_names_are_not_guessed(tmp_path):
    t = read_labels(write(tmp_path, "l.csv", "filename,A\nface.jpg,1\n"))
    with pytest.raises(DatasetError):
        match_labels(refs("a/face.jpg", "b/face.jpg"), t)  # which one? better to say nothing matched


def test_large_celeba_file_is_fast(tmp_path):
    rng = np.random.default_rng(0)
    names = [f"A{i}" for i in range(40)]
    vals = rng.choice(["1", "-1"], size=(20000, 40))
    lines = ["20000", " ".join(names)] + [f"{i:06d}.jpg " + " ".join(v) for i, v in enumerate(vals)]
    import time

    path = write(tmp_path, "big.txt", "\n".join(lines) + "\n")
    start = time.perf_counter()
    t = read_labels(path)
    assert time.perf_counter() - start < 1.5
    assert t.values.shape == (20000, 40)
    np.testing.assert_array_equal(t.values[123], vals[123].astype(np.float32))


# ------------------------------------------------------------------------------------ binary and continuous columns
def _age_csv(tmp_path, n=40):
    rng = np.random.default_rng(0)
    ages = rng.integers(1, 117, n)
    lines = ["filename,Age,Male,Smiling"] + [f"img{i:03d}.png,{ages[i]},{i % 2},{1 if i % 3 else -1}" for i in range(n)]
    path = tmp_path / "labels.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, ages


def test_columns_are_binary_or_continuous_by_the_documented_rule(tmp_path):
    from faceforge.data.label_scales import detect_kind, fit_scales

    path, ages = _age_csv(tmp_path)
    table = read_labels(path)
    assert [detect_kind(table.values[:, j]) for j in range(3)] == ["continuous", "binary", "binary"]
    scales = fit_scales(table.names, table.values)
    age = scales["Age"]
    assert age.kind == "continuous" and age.in_units
    assert abs(age.mean - ages.mean()) < 1e-3 and (age.low, age.high) == (ages.min(), ages.max())
    assert not scales["Male"].in_units and scales["Male"].slider_range() == (-2.0, 2.0)
    assert age.slider_range() == (float(ages.min()), float(ages.max()))
    forced = fit_scales(table.names, table.values, kinds={"age": "binary", "SMILING": "continuous"})
    assert forced["Age"].kind == "binary" and forced["Smiling"].kind == "continuous"


def test_continuous_columns_are_standardised_for_the_network_and_back_in_units(tmp_path):
    from faceforge.data.label_scales import apply_scales, fit_scales

    path, ages = _age_csv(tmp_path)
    table = read_labels(path)
    scales = fit_scales(table.names, table.values)
    net = apply_scales(table.names, table.values, scales)
    assert abs(net[:, 0].mean()) < 1e-5 and abs(net[:, 0].std() - 1) < 1e-4  # beside z ~ N(0, 1)
    assert set(np.unique(net[:, 1])) == {-1.0, 1.0}  # binary stays -1/+1
    assert np.allclose(scales["Age"].to_units(net[:, 0]), ages, atol=1e-3)
    assert abs(float(scales["Age"].to_network(60)) - (60 - ages.mean()) / ages.std()) < 1e-5


def test_scales_round_trip_through_the_run_config(tmp_path):
    from faceforge.config import TrainConfig
    from faceforge.data.label_scales import fit_scales, scales_for

    path, _ = _age_csv(tmp_path)
    table = read_labels(path)
    cfg = TrainConfig()
    cfg.data.label_scales = {k: v.to_dict() for k, v in fit_scales(table.names, table.values).items()}
    back = TrainConfig.from_json(cfg.to_json())
    again = scales_for(table.names, table.values * 0, builtin=False, recorded=back.data.label_scales)
    assert again == fit_scales(table.names, table.values)  # a resume uses the recorded map, not the new rows


def test_dataset_check_describes_a_continuous_column_by_range_not_percent_positive(tmp_path):
    from PIL import Image

    from faceforge.data import check_dataset

    path, ages = _age_csv(tmp_path, n=12)
    for i in range(12):
        Image.new("RGB", (40, 40), (i * 10, 50, 50)).save(tmp_path / f"img{i:03d}.png")
    report = check_dataset(str(tmp_path), str(path))
    assert report.columns["Age"]["kind"] == "continuous" and "Age" not in report.positive_rates
    text = report.summary()
    assert f"Age {ages.min()}-{ages.max()}" in text and "Male 50.0%" in text
    assert "Age 100" not in text


def test_a_datasets_label_file_is_found_where_people_put_it(tmp_path):
    from faceforge.data.labels import find_label_file

    celeba = tmp_path / "CelebA"
    images = celeba / "Img" / "img_align_celeba"
    images.mkdir(parents=True)
    assert find_label_file(images) is None
    (celeba / "Anno").mkdir()
    (celeba / "Anno" / "list_attr_celeba.txt").write_text("1\nSmiling\n000001.jpg 1\n")
    assert find_label_file(images) == celeba / "Anno" / "list_attr_celeba.txt"  # CelebA's own layout
    kaggle = tmp_path / "kaggle" / "img_align_celeba" / "img_align_celeba"
    kaggle.mkdir(parents=True)
    (tmp_path / "kaggle" / "list_attr_celeba.csv").write_text("image_id,Smiling\n000001.jpg,1\n")
    assert find_label_file(kaggle) == tmp_path / "kaggle" / "list_attr_celeba.csv"
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "labels.csv").write_text("filename,Age\na.png,30\n")
    assert find_label_file(mine) == mine / "labels.csv"
    (tmp_path / "faces.zip").write_bytes(b"")
    assert find_label_file(tmp_path / "faces.zip") is None
    (tmp_path / "labels.csv").write_text("filename,Age\na.png,30\n")
    assert find_label_file(tmp_path / "faces.zip") == tmp_path / "labels.csv"


@pytest.mark.parametrize("name,text", [
    ("README.txt", "Faces I took at the 2019 reunion.\nAsk Anna before you share them.\nThanks to all 40 of you!\n"),
    ("notes.csv", "what,when\nreunion photos,last summer\nholiday,in june\n"),
    ("photo.txt", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR binary junk \xff\xfe\n more junk here and there\n"),
])
def test_a_file_that_is_no_label_file_is_called_that_not_a_parser_error(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(DatasetError, match="is not a CelebA attribute file or a CSV of labels") as info:
        read_labels(path)
    assert "line" not in str(info.value).split("labels.")[0]  # no parser line number before the explanation


def test_a_label_file_with_one_bad_value_still_names_the_line(tmp_path):
    with pytest.raises(DatasetError, match=r"line 4: value 'yes'"):
        read_labels(write(tmp_path, "attrs.txt", CELEBA.replace("000002.jpg -1  1 -1", "000002.jpg -1  yes -1")))
